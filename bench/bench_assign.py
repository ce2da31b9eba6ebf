"""Auto-assign benchmark (scheduling.assignment.auto_assign, pure, no database).

    .venv/bin/python -m bench.bench_assign [--items 20000] [--clerks 200] [--seed 1] [--repeat 5]
                                           [--cpsat SECONDS] [--db URL [--as LOGIN]]

Generates a day: clerks with 6–7.5 h shifts (less a 30 min break), skills drawn like the demo
office (one to three payer kinds, some a language), items of the five kinds, owners spread
over the clerks (90 % of items have one), a few needing a skill nobody has. Scenarios: "fits"
(small efforts: the items need about 90 % of the capacity), "fits, skewed owners" (the same,
but a fifth of the clerks own over half the accounts: continuity against balance) and "short"
(the default efforts: about 290 %, so most items stay unassigned for want of time). Reports the best wall time
of ``--repeat`` runs, the load spread as a fraction of capacity, the largest distance of a
clerk's load from its ideal share (in minutes and in items' effort), the owner kept % and
how many items stayed unassigned and why. ``--cpsat S`` also solves three office-size days
(130 × 10, 600 × 12, 600 × 12 with skewed owners, default efforts) with a CP-SAT model started
from the greedy plan, for comparison (the product uses the greedy pass only).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable

from tabulate import tabulate

from scheduling.assignment import PlanClerk, PlanItem, PlanResult, Unplaced, auto_assign

EFFORT = {"bill": 15, "chase": 10, "verify": 8, "installment": 5, "dispute": 20}  # the defaults
# 20,000 items do not fit 200 clerks' days at the default efforts (about 280 % of capacity), so
# the "fits" scenario uses small efforts (about 85 %); "short" keeps the defaults.
FITS_EFFORT = {"bill": 4, "chase": 3, "verify": 3, "installment": 2, "dispute": 6}
PAYER_KINDS = ("insurer", "government", "employer", "other")
LANGS = ("es", "zh", "vi")


def make_day(
    n_items: int, n_clerks: int, seed: int, effort: dict[str, int], skew: bool = False
) -> tuple[list[PlanItem], list[PlanClerk]]:
    rng = random.Random(seed)
    clerks: list[PlanClerk] = []
    for cid in range(1, n_clerks + 1):
        kinds = set(rng.sample(PAYER_KINDS, rng.choice((1, 2, 2, 3))))
        if rng.random() < 0.35:
            kinds.add(f"lang:{rng.choice(LANGS)}")
        capacity = rng.choice((360, 420, 450, 450, 450)) - 30
        clerks.append(PlanClerk(id=cid, capacity=capacity, skills=frozenset(kinds)))
    items: list[PlanItem] = []
    for iid in range(1, n_items + 1):
        kind = rng.choice(tuple(effort))
        needs: set[str] = set()
        if kind in ("bill", "verify", "chase") and rng.random() < 0.8:
            needs.add(rng.choice(PAYER_KINDS))
        if rng.random() < 0.1:
            needs.add(f"lang:{rng.choice(LANGS)}")
        if rng.random() < 0.002:
            needs.add("lang:tl")  # nobody speaks it
        owner = rng.randint(1, n_clerks) if rng.random() < 0.9 else None
        if skew and owner is not None and rng.random() < 0.5:
            owner = rng.randint(1, max(1, n_clerks // 5))  # a fifth of the clerks own over half the accounts
        items.append(
            PlanItem(
                id=iid,
                effort=effort[kind],
                priority=rng.randint(20, 700),
                needs=frozenset(needs),
                owner_id=owner,
            )
        )
    return items, clerks


def spread(result: PlanResult, clerks: list[PlanClerk], items: list[PlanItem]) -> dict[str, float]:
    caps = {c.id: c.capacity for c in clerks}
    fracs = [result.load[c] / caps[c] for c in result.load]
    max_effort = max(it.effort for it in items)
    dev = max(abs(result.load[c] - result.ideal[c]) for c in result.load)
    dev_pct = max(
        abs(result.load[c] - result.ideal[c]) / result.ideal[c] for c in result.load if result.ideal[c]
    )
    return {
        "dev_pct": 100 * dev_pct,
        "min_frac": min(fracs),
        "max_frac": max(fracs),
        "dev_min": dev,
        "dev_items": dev / max_effort,
    }


def run(
    n_items: int, n_clerks: int, seed: int, effort: dict[str, int], repeat: int, skew: bool = False
) -> dict[str, object]:
    items, clerks = make_day(n_items, n_clerks, seed, effort, skew)
    best = float("inf")
    result: PlanResult | None = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = auto_assign(items, clerks)
        best = min(best, time.perf_counter() - t0)
    assert result is not None
    again = auto_assign(items, clerks)
    assert again == result, "not deterministic"
    s = spread(result, clerks, items)
    reasons = Counter(re.sub(r"\d+ min", "N min", u.reason) for u in result.unplaced)
    return {
        "items": len(items),
        "clerks": len(clerks),
        "demand % of capacity": round(100 * sum(i.effort for i in items) / sum(c.capacity for c in clerks)),
        "best s": round(best, 3),
        "load min–max %": f"{100 * s['min_frac']:.1f}–{100 * s['max_frac']:.1f}",
        "max |load − share| min": round(s["dev_min"], 1),
        "max |load − share| %": round(s["dev_pct"], 1),
        "owner kept %": round(result.owner_kept_pct, 1),
        "unassigned": len(result.unplaced),
        "why (top)": "; ".join(f"{n}× {r}" for r, n in reasons.most_common(2)),
    }


def cpsat(
    items: list[PlanItem], clerks: list[PlanClerk], greedy: PlanResult, time_limit: float
) -> tuple[PlanResult, float, str]:
    """The same day as a CP-SAT model, started from the greedy plan (hint): place as much
    priority as fits, then minimise the largest distance of a clerk's load from the greedy
    pass's fair share, then keep owners. Only for comparison; the product uses the greedy pass."""
    from ortools.sat.python import cp_model  # lazy: heavy, and only the benchmark needs it

    m = cp_model.CpModel()
    by_clerk: dict[int, list[tuple[PlanItem, cp_model.IntVar]]] = {c.id: [] for c in clerks}
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for it in items:
        pairs = [c for c in clerks if c.available and it.needs <= c.skills]
        for c in pairs:
            v = m.NewBoolVar(f"x{it.id}_{c.id}")
            x[it.id, c.id] = v
            by_clerk[c.id].append((it, v))
            m.AddHint(v, greedy.placement.get(it.id) == c.id)
        if pairs:
            m.AddAtMostOne(x[it.id, c.id] for c in pairs)
    worst = m.NewIntVar(0, max(c.capacity for c in clerks), "worst")
    for c in clerks:
        load = sum(it.effort * v for it, v in by_clerk[c.id])
        m.Add(load + c.used <= c.capacity)
        share = round(greedy.ideal.get(c.id, 0.0))
        m.Add(load + c.used - share <= worst)
        m.Add(share - load - c.used <= worst)
    index = {i.id: i for i in items}
    placed = sum(index[iid].priority * v for (iid, _), v in x.items())
    kept = sum(v for (iid, cid), v in x.items() if index[iid].owner_id == cid)
    m.Maximize(placed * 10_000 - worst * 100 + kept)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 1
    t0 = time.perf_counter()
    status = solver.Solve(m)
    took = time.perf_counter() - t0
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return greedy, took, solver.StatusName(status)
    placement = {iid: cid for (iid, cid), v in x.items() if solver.Value(v)}
    load = {
        c.id: c.used + sum(it.effort for it, v in by_clerk[c.id] if solver.Value(v))
        for c in clerks
        if c.available
    }
    eligible = [
        it
        for it in items
        if it.id in placement
        and any(c.id == it.owner_id and c.available and it.needs <= c.skills for c in clerks)
    ]
    result = PlanResult(
        placement=placement,
        unplaced=tuple(Unplaced(it.id, "") for it in items if it.id not in placement),
        load=load,
        ideal=greedy.ideal,
        owner_eligible=len(eligible),
        owner_kept=sum(placement[it.id] == it.owner_id for it in eligible),
        method="cp-sat",
    )
    return result, took, solver.StatusName(status)


def compare(n_items: int, n_clerks: int, seed: int, time_limit: float, skew: bool) -> dict[str, object]:
    items, clerks = make_day(n_items, n_clerks, seed, EFFORT, skew)
    t0 = time.perf_counter()
    greedy = auto_assign(items, clerks)
    g_time = time.perf_counter() - t0
    sat, s_time, status = cpsat(items, clerks, greedy, time_limit)
    row: dict[str, object] = {
        "day": f"{len(items)} items × {len(clerks)} clerks" + (", skewed owners" if skew else "")
    }
    for name, r, took in (("greedy", greedy, g_time), ("cp-sat", sat, s_time)):
        dev = max(abs(r.load[c] - r.ideal[c]) for c in r.load)
        row[f"{name} s"] = round(took, 3)
        row[f"{name} max dev min"] = round(dev, 1)
        row[f"{name} owner %"] = round(r.owner_kept_pct, 1)
        row[f"{name} unassigned"] = len(r.unplaced)
        row[f"{name} placed min"] = sum(it.effort for it in items if it.id in r.placement)
    row["cp-sat status"] = status
    return row


def _timed(fn: Callable[[], object], n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, max(times) * 1000


def db_figures(url: str, login: str, n: int) -> None:
    """The services on an existing database (e.g. the demo after ``assign generate``): what a
    screen pays per call, in milliseconds (median and worst of ``n``)."""
    from db.engine import Database
    from db.settings import office_timezone
    from db.timeutil import office_today
    from scheduling import work_items as wi
    from scheduling import work_plan as wp
    from tui.identity import identify

    db = Database(url)
    actor = db.read(lambda s: identify(s, login))
    day = db.read(lambda s: office_today(office_timezone(s)))
    first = db.read(lambda s: wi.list_items(actor, s, day, limit=50))
    calls: list[tuple[str, Callable[[], object]]] = [
        ("change_marker (the 1 s poll)", lambda: db.read(lambda s: wi.change_marker(actor, s, day))),
        ("list_items, first page of 50", lambda: db.read(lambda s: wi.list_items(actor, s, day, limit=50))),
        (
            "list_items, second page (by key)",
            lambda: db.read(lambda s: wi.list_items(actor, s, day, after=first.next_after, limit=50)),
        ),
        (
            "list_items, filter 'smi'",
            lambda: db.read(lambda s: wi.list_items(actor, s, day, filter_text="smi")),
        ),
        ("clerks_on_shift", lambda: db.read(lambda s: wp.clerks_on_shift(actor, s, day))),
        ("preview_auto_assign", lambda: db.read(lambda s: wp.preview_auto_assign(actor, s, day))),
    ]
    print(f"{url}: {first.total} items on {day}")
    rows = [(name, *(round(x, 1) for x in _timed(fn, n))) for name, fn in calls]
    print(tabulate(rows, headers=["call", "median ms", "worst ms"], tablefmt="github"))
    db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--clerks", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--cpsat",
        type=float,
        default=0.0,
        metavar="S",
        help="Also compare with CP-SAT (time limit S) at office size.",
    )
    ap.add_argument("--db", metavar="URL", help="Also time the services on this database (today's items).")
    ap.add_argument("--as", dest="login", default="mreyes", help="The supervisor to act as with --db.")
    args = ap.parse_args()
    rows = []
    for name, effort, skew in (
        ("fits", FITS_EFFORT, False),
        ("fits, skewed owners", FITS_EFFORT, True),
        ("short", EFFORT, False),
    ):
        rows.append({"scenario": name, **run(args.items, args.clerks, args.seed, effort, args.repeat, skew)})
    print(tabulate(rows, headers="keys", tablefmt="github"))
    if args.cpsat:
        cmp = [
            compare(n, c, args.seed, args.cpsat, skew)
            for n, c, skew in ((130, 10, False), (600, 12, False), (600, 12, True))
        ]
        print(tabulate(cmp, headers="keys", tablefmt="github"))
    if args.db:
        db_figures(args.db, args.login, 21)


if __name__ == "__main__":
    main()
