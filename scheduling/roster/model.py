"""CP-SAT model of a roster problem (or of a part of it).

One builder serves four uses:

* the full model (every cell free);
* an LNS neighbourhood: most cells frozen to the current roster, a window of cells free;
* a one-clerk repair model (that clerk free, everybody else frozen);
* a one-clerk *explain* model, where every hard rule hangs on its own enforcement literal
  so CP-SAT can name the rules that cannot hold together.

Cells whose value is known (fixed cells, fixed days off, frozen cells, history) are Python
``bool`` constants, not variables, and are folded away while building. That keeps
neighbourhood models small and the full model lean at the largest sizes.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ortools.sat.python import cp_model, cp_model_helper
from ortools.util.python.sorted_interval_list import Domain

from scheduling.roster.problem import OFF, ClerkIndex, ProblemIndex, Rule

Lit = cp_model_helper.Literal | bool  # a variable, a negated variable, or a constant
RuleKey = tuple[Rule, int | tuple[int, int] | None]
"""(rule, detail): detail is a day index (fixed cells), a shift index (max shifts),
a (shift, shift) pair (forbidden sequences) or None (period-wide rules)."""


_BOOL = Domain(0, 1)


def _neg(lit: Lit) -> Lit:
    return (not lit) if isinstance(lit, bool) else ~lit


@dataclass
class RosterModel:
    model: cp_model.CpModel
    clerks: list[int]  # clerk indices that have variables
    x: dict[int, list[dict[int, Lit]]]  # clerk -> day -> {shift: literal}
    w: dict[int, list[Lit]]  # clerk -> day -> "works" literal
    ranges: dict[int, tuple[int, int]]  # clerk -> (first, last) free day
    assumptions: list[tuple[cp_model.IntVar, int, RuleKey]] = field(default_factory=list)
    n_vars: int = 0

    def rows(self, solver: cp_model.CpSolver, base: Sequence[Sequence[int]] | None) -> list[list[int]]:
        """Read the roster from a solved model; clerks not in the model are copied from ``base``."""
        sol = list(solver.response_proto.solution)

        def val(lit: Lit) -> bool:
            if isinstance(lit, bool):
                return lit
            if isinstance(lit, cp_model.IntVar):
                return bool(sol[lit.index])
            return not sol[lit.negated().index]

        rows: list[list[int]] = [list(r) for r in base] if base is not None else []
        for i in self.clerks:
            lo, hi = self.ranges[i] if base is not None else (0, len(self.x[i]) - 1)
            row = rows[i] if base is not None else [OFF] * len(self.x[i])
            for d in range(lo, hi + 1):
                row[d] = OFF
                for s, lit in self.x[i][d].items():
                    if val(lit):
                        row[d] = s
                        break
            if base is None:
                rows.append(row)
        return rows


class _Builder:
    def __init__(
        self,
        ix: ProblemIndex,
        rows: Sequence[Sequence[int]] | None,
        free: Mapping[int, tuple[int, int]] | None,
        explain: bool,
    ) -> None:
        self.ix = ix
        self.rows = rows
        self.free = free
        self.explain = explain
        self.m = cp_model.CpModel()
        self.proto = self.m.proto
        self.n_vars = 0
        self.assumptions: list[tuple[cp_model.IntVar, int, RuleKey]] = []
        self._rule_lit: dict[tuple[int, RuleKey], cp_model.IntVar] = {}
        self._cur_clerk = -1

    # -- variables --------------------------------------------------------------------------

    def new_bool(self) -> cp_model.IntVar:
        # Same as CpModel.new_bool_var minus the name: three times faster at 100k variables.
        self.n_vars += 1
        return cp_model.IntVar(self.proto).with_domain(_BOOL)

    def enforce(self, c: ClerkIndex, key: RuleKey) -> cp_model.IntVar | None:
        """The enforcement literal for (clerk, rule) in explain mode, else None."""
        if not self.explain:
            return None
        lit = self._rule_lit.get((c.i, key))
        if lit is None:
            lit = self.new_bool()
            self._rule_lit[(c.i, key)] = lit
            self.assumptions.append((lit, c.i, key))
        return lit

    def cell_domain(self, c: ClerkIndex, d: int) -> list[int]:
        """Allowed values of one free cell (shift indices and/or OFF)."""
        if self.explain:
            # Fixed cells are rules here (enforced by assumptions), not domain limits.
            return [*c.qualified, OFF]
        if d in c.fixed_cells:
            v = c.fixed_cells[d]
            ok = v == OFF or (v in c.qualified and d not in c.fixed_off)
            return [v] if ok else []
        if d in c.fixed_off:
            return [OFF]
        return [*c.qualified, OFF]

    # -- constraint helpers with constant folding -------------------------------------------

    def clause(self, lits: Sequence[Lit], e: cp_model.IntVar | None) -> None:
        vs = []
        for lit in lits:
            if lit is True:
                return
            if lit is not False:
                vs.append(lit)
        if not vs:
            # Always violated: with an enforcement literal the rule itself must be off.
            if e is None:
                self.m.add_bool_or([])
            else:
                self.m.add_bool_or([~e])
            return
        ct = self.m.add_bool_or(vs)
        if e is not None:
            ct.only_enforce_if(e)

    def at_most_one(self, lits: Sequence[Lit], e: cp_model.IntVar | None) -> None:
        vs = [lit for lit in lits if lit is not False]
        n_true = sum(1 for lit in vs if lit is True)
        vs = [lit for lit in vs if lit is not True]
        if n_true >= 2:
            self.clause([], e)
        elif n_true == 1:
            for lit in vs:
                self.clause([_neg(lit)], e)
        elif len(vs) >= 2:
            if e is None:
                self.m.add_at_most_one(vs)
            else:
                self.m.add(sum(vs) <= 1).only_enforce_if(e)

    def linear(
        self, terms: Sequence[tuple[int, Lit]], lo: int | None, hi: int | None, e: cp_model.IntVar | None
    ) -> None:
        """lo <= sum(coef * lit) <= hi, constants folded."""
        const = 0
        vs: list[Lit] = []
        cs: list[int] = []
        for coef, lit in terms:
            if lit is True:
                const += coef
            elif lit is not False:
                vs.append(lit)
                cs.append(coef)
        span_lo = const + sum(c for c in cs if c < 0)
        span_hi = const + sum(c for c in cs if c > 0)
        if (lo is None or span_lo >= lo) and (hi is None or span_hi <= hi):
            return  # always satisfied
        if (lo is not None and span_hi < lo) or (hi is not None and span_lo > hi):
            self.clause([], e)
            return
        expr = cp_model.LinearExpr.weighted_sum(vs, cs)
        if lo is not None and span_lo < lo:
            ct = self.m.add(expr >= lo - const)
            if e is not None:
                ct.only_enforce_if(e)
        if hi is not None and span_hi > hi:
            ct = self.m.add(expr <= hi - const)
            if e is not None:
                ct.only_enforce_if(e)

    # -- the model --------------------------------------------------------------------------

    def build(self) -> RosterModel:
        ix = self.ix
        D = ix.n_days
        if self.free is None:
            ranges = {c.i: (0, D - 1) for c in ix.clerks}
        else:
            ranges = dict(self.free)
        clerks = sorted(ranges)
        # Frozen cells share these read-only dicts: building stays cheap on 26-week rows.
        const_cells: list[dict[int, Lit]] = [{s: True} for s in range(ix.n_shifts)]
        empty: dict[int, Lit] = {}
        xs: dict[int, list[dict[int, Lit]]] = {}
        ws: dict[int, list[Lit]] = {}
        for i in clerks:
            c = ix.clerks[i]
            lo, hi = ranges[i]
            xrow: list[dict[int, Lit]] = [empty] * D
            wrow: list[Lit] = [False] * D
            if self.rows is not None:
                row = self.rows[i]
                for d in itertools.chain(range(lo), range(hi + 1, D)):
                    if row[d] != OFF:
                        xrow[d] = const_cells[row[d]]
                        wrow[d] = True
            for d in range(lo, hi + 1):
                dom = self.cell_domain(c, d)
                shifts = [s for s in dom if s != OFF]
                off_ok = OFF in dom
                if not dom:
                    self.clause([], None)  # fixed to something impossible; prechecks name it
                elif not shifts:
                    pass  # off
                elif len(shifts) == 1 and not off_ok:
                    xrow[d] = const_cells[shifts[0]]
                    wrow[d] = True
                elif len(shifts) == 1:
                    v = self.new_bool()
                    xrow[d] = {shifts[0]: v}
                    wrow[d] = v
                else:
                    vs = [self.new_bool() for _ in shifts]
                    xrow[d] = dict(zip(shifts, vs, strict=True))
                    if off_ok:
                        wv = self.new_bool()
                        self.m.add_exactly_one([*vs, ~wv])
                        wrow[d] = wv
                    else:
                        self.m.add_exactly_one(vs)
                        wrow[d] = True
            xs[i] = xrow
            ws[i] = wrow
            self.clerk_rules(c, xrow, wrow, lo, hi)
        return RosterModel(self.m, clerks, xs, ws, ranges, self.assumptions, self.n_vars)

    def clerk_rules(self, c: ClerkIndex, x: list[dict[int, Lit]], w: list[Lit], lo: int, hi: int) -> None:
        ix = self.ix
        r = c.rules
        D = ix.n_days
        minutes = ix.day_minutes

        if self.explain:
            for d, v in c.fixed_cells.items():
                e = self.enforce(c, (Rule.FIXED_ASSIGNMENT, d))
                self.clause([_neg(w[d])] if v == OFF else [x[d].get(v, False)], e)
            for d in c.fixed_off:
                self.clause([_neg(w[d])], self.enforce(c, (Rule.FIXED_DAY_OFF, d)))

        # Minutes and shifts per type: free days as literals, frozen days as one constant.
        frozen_minutes = 0
        frozen_counts = [0] * ix.n_shifts
        if self.rows is not None:
            row = self.rows[c.i]
            for d in itertools.chain(range(lo), range(hi + 1, D)):
                if row[d] != OFF:
                    frozen_minutes += minutes[d][row[d]]
                    frozen_counts[row[d]] += 1
        if r.min_minutes > 0 or r.max_minutes is not None:
            terms = [(minutes[d][s], lit) for d in range(lo, hi + 1) for s, lit in x[d].items()]
            terms.append((frozen_minutes, True))
            if r.min_minutes > 0:
                self.linear(terms, r.min_minutes, None, self.enforce(c, (Rule.MIN_MINUTES, None)))
            if r.max_minutes is not None:
                self.linear(terms, None, r.max_minutes, self.enforce(c, (Rule.MAX_MINUTES, None)))

        # Max shifts per type (0 = not qualified is already in the domains).
        for s, limit in enumerate(c.max_count):
            if limit:
                lits = [cell[s] for cell in x[lo : hi + 1] if s in cell]
                if len(lits) + frozen_counts[s] > limit:
                    self.linear(
                        [(1, lit) for lit in lits] + [(frozen_counts[s], True)],
                        None,
                        limit,
                        self.enforce(c, (Rule.MAX_SHIFTS, s)),
                    )

        # Sequences run over history + period: ext[h + d] is day d, ext[0..h) the history.
        h = len(c.history)
        ext: list[Lit] = [*(s != OFF for s in c.history), *w]
        # Only windows touching the free days can change; the frozen rest is already valid.
        span = max(r.max_consecutive_work or 0, r.min_consecutive_work, r.min_consecutive_off) + 1
        q_lo = max(lo - span, -h)
        q_hi = min(hi + 1, D - 1)  # a run starting right after the window depends on its last day

        neg_ext = [_neg(lit) for lit in ext]

        k = r.max_consecutive_work
        if k is not None and k < D + h:
            e = self.enforce(c, (Rule.MAX_CONSECUTIVE_WORK, None))
            for q in range(max(q_lo, -k, -h), min(hi, D - 1 - k) + 1):
                self.clause(neg_ext[h + q : h + q + k + 1], e)

        # Minimum run lengths: a run starting at q (day before it known, so q > -h) must
        # last m days, except where it reaches the period end. The trailing history run is
        # held only if its own start is known; earlier history runs are the past.
        trail = self._trailing_run_start(c.history)
        for kind_work, m, rule in (
            (True, r.min_consecutive_work, Rule.MIN_CONSECUTIVE_WORK),
            (False, r.min_consecutive_off, Rule.MIN_CONSECUTIVE_OFF),
        ):
            if m < 2:
                continue
            e = self.enforce(c, (rule, None))
            starts = list(range(max(q_lo, 0 if h else 1), q_hi + 1))  # never older history
            if trail is not None and trail > -h and (c.history[-1] != OFF) == kind_work:
                starts.insert(0, trail)
            same, other = (ext, neg_ext) if kind_work else (neg_ext, ext)
            for q in starts:
                # "q starts a run" is other[q-1] and same[q]; the clause says it then goes on.
                prev, not_cur = same[h + q - 1], other[h + q]
                for t in range(max(q + 1, 0), min(q + m, D)):
                    self.clause([prev, not_cur, same[h + t]], e)

        # Working weekends.
        if r.max_weekends is not None and r.max_weekends < len(ix.weekends):
            counted: list[Lit] = []
            for group in ix.weekends:
                lits = [w[d] for d in group if w[d] is not False]
                if any(lit is True for lit in lits):
                    counted.append(True)
                elif len(lits) == 1:
                    counted.append(lits[0])
                elif lits:
                    we = self.new_bool()
                    for lit in lits:
                        self.m.add_implication(lit, we)
                    counted.append(we)
            self.linear(
                [(1, lit) for lit in counted],
                None,
                r.max_weekends,
                self.enforce(c, (Rule.MAX_WEEKENDS, None)),
            )

        # Forbidden sequences, including last history day -> first period day.
        prev_cell: dict[int, Lit] = {c.history[-1]: True} if c.history and c.history[-1] != OFF else {}
        for d in range(max(lo, 0), min(hi + 1, D - 1) + 1):
            before = prev_cell if d == 0 else x[d - 1]
            for a, la in before.items():
                succ = [(b, x[d][b]) for b in c.forbidden_next[a] if b in x[d]]
                if not succ:
                    continue
                if self.explain:
                    for b, lb in succ:
                        self.clause([_neg(la), _neg(lb)], self.enforce(c, (Rule.FORBIDDEN_SEQUENCE, (a, b))))
                else:
                    # the successors are mutually exclusive already, so one at-most-one suffices
                    self.at_most_one([la, *(lb for _, lb in succ)], None)

    @staticmethod
    def _trailing_run_start(history: Sequence[int]) -> int | None:
        """Start of the last history run as a (negative) period day index, None without history."""
        if not history:
            return None
        kind = history[-1] != OFF
        q = len(history) - 1
        while q > 0 and (history[q - 1] != OFF) == kind:
            q -= 1
        return q - len(history)


def build_model(
    ix: ProblemIndex,
    *,
    rows: Sequence[Sequence[int]] | None = None,
    free: Mapping[int, tuple[int, int]] | None = None,
    explain: bool = False,
    objective: Literal["penalty", "distance", "none"] = "penalty",
    hint: bool = True,
) -> RosterModel:
    """Build a CP-SAT model.

    ``free`` maps clerk index -> (first, last) free day; those clerks' other days are frozen
    at ``rows``, and clerks not in ``free`` are left out (their ``rows`` still count toward
    coverage). ``free=None`` frees everything. ``rows`` doubles as the solution hint.
    ``objective="distance"`` minimises the number of cells changed from ``rows`` instead of
    the penalty: the quick way to make a nearly right row keep every hard rule.
    """
    if free is not None and rows is None:
        raise ValueError("a partial model needs rows for the frozen cells")
    b = _Builder(ix, rows, free, explain)
    rm = b.build()
    if objective == "penalty":
        _add_objective(b, rm)
    elif objective == "distance":
        assert rows is not None
        _add_distance(b, rm, rows)
    if hint and rows is not None:
        _add_hint(b, rm, rows)
    rm.n_vars = b.n_vars
    return rm


def _add_objective(b: _Builder, rm: RosterModel) -> None:
    """Minimise the full penalty (constants included, so the objective equals the penalty)."""
    ix = b.ix
    D, S = ix.n_days, ix.n_shifts
    const_count = [[0] * S for _ in range(D)]
    var_terms: list[list[list[Lit]]] = [[[] for _ in range(S)] for _ in range(D)]
    modelled = set(rm.clerks)
    offset = 0
    obj_vars: list[Lit] = []
    obj_coefs: list[int] = []

    def add_term(coef: int, lit: Lit) -> None:
        nonlocal offset
        if lit is True:
            offset += coef
        elif lit is not False:
            if not isinstance(lit, cp_model.IntVar):  # negated literal: coef*(1 - v)
                offset += coef
                coef, lit = -coef, lit.negated()
            obj_vars.append(lit)
            obj_coefs.append(coef)

    if b.rows is not None:
        for row in b.rows:
            for d, s in enumerate(row):
                if s != OFF:
                    const_count[d][s] += 1
    for c in ix.clerks:
        if c.i in modelled:
            lo, hi = rm.ranges[c.i]
            xrow, wrow = rm.x[c.i], rm.w[c.i]
            for d in range(lo, hi + 1):
                if b.rows is not None and b.rows[c.i][d] != OFF:
                    const_count[d][b.rows[c.i][d]] -= 1  # this cell is counted from the model
                for s, lit in xrow[d].items():
                    if lit is True:
                        const_count[d][s] += 1
                    elif lit is not False:
                        var_terms[d][s].append(lit)
            for d, want, on, weight in c.requests:
                lit = wrow[d] if want is None else xrow[d].get(want, False)
                if on:
                    add_term(weight, _neg(lit))
                else:
                    add_term(weight, lit)
        else:
            assert b.rows is not None
            row = b.rows[c.i]
            for d, want, on, weight in c.requests:
                got = row[d]
                works = got != OFF if want is None else got == want
                if works != on:
                    offset += weight

    m = b.m
    for d in range(D):
        for s in range(S):
            cov = ix.coverage[d][s]
            if cov is None:
                continue
            req, wu, wo = cov
            vs = var_terms[d][s]
            const = const_count[d][s]
            if not vs:
                offset += wu * max(0, req - const) + wo * max(0, const - req)
                continue
            need_u = wu > 0 and const < req
            need_o = wo > 0 and const + len(vs) > req
            total = sum(vs)
            if need_u and need_o:
                u = m.new_int_var(0, req - const, "")
                o = m.new_int_var(0, const + len(vs) - req, "")
                m.add(total + u - o == req - const)
            elif need_u:
                u = m.new_int_var(0, req - const, "")
                m.add(total + u >= req - const)
            elif need_o:
                o = m.new_int_var(0, const + len(vs) - req, "")
                m.add(total - o <= req - const)
            else:
                # under- or over-cover is impossible here, or free of charge
                offset += wu * max(0, req - const - len(vs)) + wo * max(0, const - req)
                continue
            if need_u:
                obj_vars.append(u)
                obj_coefs.append(wu)
            else:
                offset += wu * max(0, req - const - len(vs))
            if need_o:
                obj_vars.append(o)
                obj_coefs.append(wo)
            else:
                offset += wo * max(0, const - req)
    m.minimize(cp_model.LinearExpr.weighted_sum(obj_vars, obj_coefs) + offset)


def _add_distance(b: _Builder, rm: RosterModel, rows: Sequence[Sequence[int]]) -> None:
    changed: list[Lit] = []
    for i in rm.clerks:
        for d, cell in enumerate(rm.x[i]):
            s = rows[i][d]
            lit = _neg(rm.w[i][d]) if s == OFF else cell.get(s, False)
            changed.append(_neg(lit))
    vs = [lit for lit in changed if not isinstance(lit, bool)]
    b.m.minimize(sum(vs) + sum(1 for lit in changed if lit is True))


def _add_hint(b: _Builder, rm: RosterModel, rows: Sequence[Sequence[int]]) -> None:
    """CpModel.add_hint for every free cell variable, written to the proto in one go.

    Only the cell variables are hinted: CP-SAT completes the auxiliary ones itself.
    """
    idx: list[int] = []
    val: list[int] = []
    for i in rm.clerks:
        row = rows[i]
        lo, hi = rm.ranges[i]
        for d in range(lo, hi + 1):
            cell = rm.x[i][d]
            for s, lit in cell.items():
                if isinstance(lit, cp_model.IntVar):
                    idx.append(lit.index)
                    val.append(int(row[d] == s))
            wl = rm.w[i][d]
            if isinstance(wl, cp_model.IntVar) and len(cell) > 1:
                idx.append(wl.index)
                val.append(int(row[d] != OFF))
    hint = b.m.proto.solution_hint
    hint.vars.extend(idx)
    hint.values.extend(val)
