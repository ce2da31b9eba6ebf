"""Fast constructive roster used as the CP-SAT hint and as the first LNS solution.

Day by day it fills the coverage still missing, forcing the run-length rules as it goes and
looking a few days ahead before it starts or ends a run. It is a heuristic: rows it gets
wrong are repaired per clerk by a small CP-SAT model in :mod:`scheduling.roster.solver`.
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


def greedy_rows(ix: ProblemIndex) -> list[list[int]]:
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
    return rows
