"""Fast constructive roster used as the CP-SAT hint and as the first LNS solution.

Day by day it fills the coverage still missing, forcing the run-length rules as it goes and
looking a few days ahead before it starts or ends a run. A second pass (:func:`top_up`) then
gives clerks still below their minimum minutes extra shifts on the days coverage wants most,
wherever no hard rule breaks: when the office asks for less cover than its staff's minimum
hours, the first pass leaves nearly every clerk short, and each short row would otherwise need
its own CP-SAT repair. It is a heuristic: rows it gets wrong are repaired per clerk by a small
CP-SAT model in :mod:`scheduling.roster.solver`.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduling.roster.problem import OFF, ClerkIndex, ProblemIndex


@dataclass
class _State:
    works: bool  # kind of the current run
    run: int  # its length so far
    held: bool  # whether the current run must reach its minimum length
    minutes: int
    counts: list[int]
    weekends: set[int]
    last: int  # yesterday's shift or OFF


def _initial_state(ix: ProblemIndex, c: ClerkIndex) -> _State:
    hist = c.history
    if not hist:
        return _State(False, 0, False, 0, [0] * ix.n_shifts, set(), OFF)
    kind = hist[-1] != OFF
    run = 1
    while run < len(hist) and (hist[-run - 1] != OFF) == kind:
        run += 1
    return _State(kind, run, run < len(hist), 0, [0] * ix.n_shifts, set(), hist[-1])


def greedy_rows(ix: ProblemIndex, *, fill: bool = True) -> list[list[int]]:
    """The constructive roster; ``fill=False`` leaves out the :func:`top_up` pass."""
    D = ix.n_days
    clerks = ix.clerks
    weekend_of = {d: k for k, g in enumerate(ix.weekends) for d in g}
    states = [_initial_state(ix, c) for c in clerks]
    rows = [[OFF] * D for _ in clerks]
    req_on: list[dict[int, int]] = [{} for _ in clerks]  # day -> wanted shift (-2 = any)
    req_off: list[dict[int, int]] = [{} for _ in clerks]
    for c in clerks:
        for d, s, on, _w in c.requests:
            (req_on if on else req_off)[c.i][d] = -2 if s is None else s
    # Typical shift length per clerk, for pacing the minimum minutes.
    typical = [max((ix.minutes[s] for s in c.qualified), default=0) for c in clerks]
    available_after = [[0] * (D + 1) for _ in clerks]  # days not fixed off from d to the end
    for c in clerks:
        acc = 0
        for d in range(D - 1, -1, -1):
            if d not in c.fixed_off and c.fixed_cells.get(d, 0) != OFF:
                acc += 1
            available_after[c.i][d] = acc

    def can_take(c: ClerkIndex, st: _State, d: int, s: int) -> bool:
        limit = c.max_count[s]
        if limit is not None and st.counts[s] >= limit:
            return False
        if st.last != OFF and s in c.forbidden_next[st.last]:
            return False
        r = c.rules
        if r.max_minutes is not None and st.minutes + ix.day_minutes[d][s] > r.max_minutes:
            return False
        wk = weekend_of.get(d)
        return not (
            wk is not None
            and r.max_weekends is not None
            and wk not in st.weekends
            and len(st.weekends) >= r.max_weekends
        )

    def can_start_work(c: ClerkIndex, st: _State, d: int) -> bool:
        """A new work run from d can last its minimum: no fixed day off, no weekend too many."""
        m = c.rules.min_consecutive_work
        k = c.rules.max_consecutive_work
        if k is not None and k < min(m, D - d):
            return False
        new_weekends = set()
        for t in range(d, min(d + m, D)):
            if t in c.fixed_off or c.fixed_cells.get(t, 0) == OFF:
                return False
            if t in weekend_of:
                new_weekends.add(weekend_of[t])
        limit = c.rules.max_weekends
        return limit is None or len(st.weekends | new_weekends) <= limit

    def can_start_off(c: ClerkIndex, d: int) -> bool:
        m = c.rules.min_consecutive_off
        return all(c.fixed_cells.get(t, OFF) == OFF for t in range(d, min(d + m, D)))

    def pick(i: int, d: int, need: list[int]) -> int | None:
        """The shift clerk i should take on day d, or None if no shift is allowed."""
        c = clerks[i]
        st = states[i]
        best, best_key = None, None
        want = req_on[i].get(d)
        avoid = req_off[i].get(d)
        for s in c.qualified:
            if not can_take(c, st, d, s):
                continue
            key = (need[s] > 0, want == s, avoid != s, need[s], s == st.last)
            if best_key is None or key > best_key:
                best, best_key = s, key
        return best

    def urgency(i: int, d: int) -> float:
        """Share of the remaining capacity the clerk still needs for the minimum minutes."""
        cap = available_after[i][d] * typical[i]
        left = clerks[i].rules.min_minutes - states[i].minutes
        return left / cap if cap else 0.0

    for d in range(D):
        need = [0] * ix.n_shifts
        for s, cov in enumerate(ix.coverage[d]):
            if cov is not None:
                need[s] = cov[0]
        forced: list[tuple[int, int | None]] = []  # (clerk, fixed shift or None = any shift)
        free: list[int] = []
        for c in clerks:
            st = states[c.i]
            r = c.rules
            if d in c.fixed_cells:
                v = c.fixed_cells[d]
                if v == OFF:
                    rows[c.i][d] = OFF
                else:
                    forced.append((c.i, v))
                continue
            if d in c.fixed_off:
                continue
            if st.works:
                if r.max_consecutive_work is not None and st.run >= r.max_consecutive_work:
                    continue
                if st.held and st.run < r.min_consecutive_work:
                    forced.append((c.i, None))
                    continue
            elif st.held and st.run < r.min_consecutive_off:
                continue
            free.append(c.i)

        for i, pinned in forced:
            chosen = pinned if pinned is not None else pick(i, d, need)
            if chosen is None:
                continue  # nothing fits; left off and repaired later
            rows[i][d] = chosen
            need[chosen] -= 1

        for i in sorted(free, key=lambda i: (-urgency(i, d), i)):
            c = clerks[i]
            st = states[i]
            starting = not st.works
            if starting and not can_start_work(c, st, d):
                continue
            s = pick(i, d, need)
            if s is None:
                continue
            behind = urgency(i, d) > 0.6
            wanted = req_on[i].get(d) in (-2, s)
            if need[s] <= 0 and not behind and not wanted:
                continue
            if req_off[i].get(d) in (-2, s) and not behind and need[s] <= 0:
                continue
            rows[i][d] = s
            need[s] -= 1
        # Clerks in a work run who were not picked must be able to stop today; else keep them.
        for i in free:
            c = clerks[i]
            st = states[i]
            if rows[i][d] == OFF and st.works and not can_start_off(c, d):
                s = pick(i, d, need)
                if s is not None:
                    rows[i][d] = s
                    need[s] -= 1

        for c in clerks:
            st = states[c.i]
            s = rows[c.i][d]
            works = s != OFF
            if works == st.works and (st.run or d):
                st.run += 1
            else:
                # a run starting at day 0 without history has an unknown start
                st.held = bool(d) or bool(c.history)
                st.works = works
                st.run = 1
            if works:
                st.minutes += ix.day_minutes[d][s]
                st.counts[s] += 1
                wk = weekend_of.get(d)
                if wk is not None:
                    st.weekends.add(wk)
            st.last = s
    if fill:
        top_up(ix, rows)
    return rows


def top_up(ix: ProblemIndex, rows: list[list[int]]) -> int:
    """Add shifts to the rows of clerks below ``min_minutes``, in place; returns how many.

    A block of one or more off days becomes worked only if every hard rule of that clerk still
    holds around it (runs, days off, weekends, sequences and rest, counts, maximum minutes,
    fixed cells); the checks are conservative, so a block the rules might allow can be passed
    over, never the other way round. Days are tried in order of the coverage still missing.
    """
    D = ix.n_days
    weekend_of = {d: k for k, g in enumerate(ix.weekends) for d in g}
    count = [[0] * ix.n_shifts for _ in range(D)]
    for row in rows:
        for d, s in enumerate(row):
            if s != OFF:
                count[d][s] += 1
    added = 0
    short: list[tuple[int, ClerkIndex]] = []
    for c in ix.clerks:
        got = sum(ix.day_minutes[d][s] for d, s in enumerate(rows[c.i]) if s != OFF)
        if got < c.rules.min_minutes:
            short.append((got - c.rules.min_minutes, c))
    for _, c in sorted(short, key=lambda t: (t[0], t[1].i)):
        added += _top_up_clerk(ix, c, rows[c.i], count, weekend_of)
    return added


def _top_up_clerk(
    ix: ProblemIndex, c: ClerkIndex, row: list[int], count: list[list[int]], weekend_of: dict[int, int]
) -> int:
    D = ix.n_days
    r = c.rules
    h = len(c.history)
    minutes = sum(ix.day_minutes[d][s] for d, s in enumerate(row) if s != OFF)
    counts = [0] * ix.n_shifts
    weekends: set[int] = set()
    for d, s in enumerate(row):
        if s != OFF:
            counts[s] += 1
            if d in weekend_of:
                weekends.add(weekend_of[d])
    req_on: dict[int, int] = {}
    req_off: dict[int, int] = {}
    for day, want, on, _w in c.requests:
        (req_on if on else req_off)[day] = -2 if want is None else want

    def gain(d: int, s: int) -> tuple[int, int, int, int]:
        """How much the office wants clerk c on shift s on day d (bigger is better)."""
        cov = ix.coverage[d][s]
        if cov is None:
            return (0, 0, 0, 0)
        req, wu, wo = cov
        missing = req - count[d][s]
        wish = (1 if req_on.get(d) in (-2, s) else 0) - (1 if req_off.get(d) in (-2, s) else 0)
        return (1 if missing > 0 else 0, wish, wu if missing > 0 else -wo, missing)

    def free_day(d: int) -> bool:
        return row[d] == OFF and d not in c.fixed_off and d not in c.fixed_cells

    def worked(q: int) -> bool:
        """Day q of history + period (q < 0: history)."""
        if q < 0:
            return c.history[h + q] != OFF
        return row[q] != OFF

    def block(lo: int, hi: int) -> list[int] | None:
        """Shifts for days lo..hi (all free) that keep every hard rule, or None."""
        if not all(free_day(d) for d in range(lo, hi + 1)):
            return None
        # The work run the block joins or starts (history counts for the maximum).
        left = 0
        while lo - left - 1 >= -h and worked(lo - left - 1):
            left += 1
        right = 0
        while hi + right + 1 < D and worked(hi + right + 1):
            right += 1
        run = left + (hi - lo + 1) + right
        if r.max_consecutive_work is not None and run > r.max_consecutive_work:
            return None
        if hi + right < D - 1 and run < r.min_consecutive_work:
            return None  # held to the minimum unless it reaches the period end
        # The day-off runs on either side get shorter; each must still reach its minimum.
        if left == 0:
            off = 0
            while lo - off - 1 >= -h and not worked(lo - off - 1):
                off += 1
            if 0 < off < r.min_consecutive_off and lo - off - 1 >= -h:
                return None  # (a run from the very first history day has no known start)
        if right == 0 and hi < D - 1:
            off = 0
            while hi + off + 1 < D and not worked(hi + off + 1):
                off += 1
            if off < r.min_consecutive_off and hi + off < D - 1:
                return None
        if r.max_weekends is not None:
            new = {weekend_of[d] for d in range(lo, hi + 1) if d in weekend_of} - weekends
            if len(weekends) + len(new) > r.max_weekends:
                return None
        if lo > 0:
            prev = row[lo - 1]
        else:
            prev = c.history[-1] if c.history else OFF
        chosen: list[int] = []
        extra = 0
        used = [0] * ix.n_shifts
        for d in range(lo, hi + 1):
            best, best_key = None, None
            for s in c.qualified:
                if prev != OFF and s in c.forbidden_next[prev]:
                    continue
                limit = c.max_count[s]
                if limit is not None and counts[s] + used[s] >= limit:
                    continue
                m = ix.day_minutes[d][s]
                if r.max_minutes is not None and minutes + extra + m > r.max_minutes:
                    continue
                if d == hi and hi + 1 < D and row[hi + 1] != OFF and row[hi + 1] in c.forbidden_next[s]:
                    continue
                key = (*gain(d, s), m)
                if best_key is None or key > best_key:
                    best, best_key = s, key
            if best is None:
                return None
            chosen.append(best)
            used[best] += 1
            extra += ix.day_minutes[d][best]
            prev = best
        return chosen

    added = 0
    # A block as long as the minimum work run starts a new run; one as long as a day-off run
    # fills it (joining the work runs on both sides) where shortening it would break its minimum.
    longest = max(r.min_consecutive_work, r.min_consecutive_off, 1)
    for _ in range(2):  # a block passed over can fit once its neighbours work
        order = sorted(
            (d for d in range(D) if free_day(d)),
            key=lambda d: max((gain(d, s) for s in c.qualified), default=(0, 0, 0, 0)),
            reverse=True,
        )
        for d in order:
            if minutes >= r.min_minutes:
                return added
            if not free_day(d):
                continue
            for length in range(1, longest + 1):
                got = None
                for lo in range(d, d - length, -1):
                    hi = lo + length - 1
                    if lo < 0 or hi >= D:
                        continue
                    shifts = block(lo, hi)
                    if shifts is not None:
                        got = (lo, shifts)
                        break
                if got is None:
                    continue
                lo, shifts = got
                for k, s in enumerate(shifts):
                    dd = lo + k
                    row[dd] = s
                    count[dd][s] += 1
                    counts[s] += 1
                    minutes += ix.day_minutes[dd][s]
                    if dd in weekend_of:
                        weekends.add(weekend_of[dd])
                    added += 1
                break
    return added
