"""How long a supervisor's change takes to reach a clerk's open work list (the goal: within 2 s).

Runs the real app headless as the clerk with "my work list" open (its default poll interval,
``MyListScreen.POLL_SECONDS``), then, from another thread as a supervisor would, moves one of
the clerk's open items to another clerk and back, ``--rounds`` times. Each figure is the time
from the service's commit to the clerk's screen showing the change (the item gone, the item
back). Also the cost of one ``change_marker`` read, the only query the poll makes while
nothing changes.

    python -m bench.bench_live_list --db sqlite:///…/demo.db [--rounds 10]

Needs a demo database (``clerkdesk demo --no-open``, any backend); it generates, plans and
publishes today's items there if that has not happened yet. ``CLERKDESK_NOW`` defaults to
06:50 office time today, so every demo clerk is on shift and available.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from typing import Any

from tabulate import tabulate


async def _wait(pred: Any, timeout: float = 10.0) -> float:
    start = time.perf_counter()
    while not pred():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the clerk's screen did not show the change")
        await asyncio.sleep(0.005)
    return time.perf_counter()


async def run(url: str, rounds: int, sup_login: str, clerk_login: str) -> None:
    from db.engine import Database
    from db.settings import office_timezone
    from db.timeutil import office_today
    from scheduling import work_items, work_plan
    from scheduling.staff import resolve_actor
    from screens.clerk.my_list import MyListScreen
    from tui.app import ClerkDeskApp
    from tui.config import Config

    db = Database(url)
    sup = db.read(lambda s: resolve_actor(s, sup_login))
    clerk = db.read(lambda s: resolve_actor(s, clerk_login))
    tz = db.read(office_timezone)
    day = office_today(tz)

    def prepare(s: Any) -> None:
        st = work_items.day_status(sup, s, day)
        if not st.generated:
            work_items.generate_items(sup, s, day)
            st = work_items.day_status(sup, s, day)
        if st.unassigned == st.total:
            work_plan.apply_plan(sup, s, work_plan.preview_auto_assign(sup, s, day))
        work_plan.publish_day(sup, s, day)

    db.write(prepare)
    clerks = db.read(lambda s: work_plan.clerks_on_shift(sup, s, day))
    mine = db.read(lambda s: work_items.my_day(clerk, s, day))
    item = next(r for r in mine.items if not r.finished)
    other = next(
        c for c in clerks if c.available and c.user_id != clerk.user_id and set(item.needs) <= set(c.skills)
    )

    marker_ms = []
    for _ in range(200):
        t = time.perf_counter()
        db.read(lambda s: work_items.change_marker(clerk, s, day))
        marker_ms.append((time.perf_counter() - t) * 1000)

    app = ClerkDeskApp(db, clerk, config=Config(keymap={}))
    away: list[float] = []
    back: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = MyListScreen(day)
        app.push_screen(screen)
        await _wait(lambda: screen.data is not None)

        def ids() -> set[int]:
            return {r.id for r in screen.data.items} if screen.data is not None else set()

        def move(to: int) -> float:
            def go(s: Any) -> None:
                row = work_items.get_item(sup, s, item.id)
                work_plan.assign_items(sup, s, day, [(row.id, row.version)], to)

            db.write(go)
            return time.perf_counter()  # the commit has happened

        rng = random.Random(1)
        for _ in range(rounds):
            # A random pause first, so the change lands at any point of the poll's cycle (right
            # after a detection it would always land just after a poll: the worst case).
            await asyncio.sleep(rng.uniform(0, MyListScreen.POLL_SECONDS))
            t0 = await asyncio.to_thread(move, other.user_id)
            away.append(await _wait(lambda: item.id not in ids()) - t0)
            await asyncio.sleep(rng.uniform(0, MyListScreen.POLL_SECONDS))
            t0 = await asyncio.to_thread(move, clerk.user_id)
            back.append(await _wait(lambda: item.id in ids()) - t0)
    db.dispose()

    def row(name: str, xs: list[float], unit: float = 1.0) -> list[str]:
        return [name, f"{statistics.median(xs) * unit:.3f}", f"{max(xs) * unit:.3f}", str(len(xs))]

    print(
        f"backend: {db.engine.dialect.name}; poll every {MyListScreen.POLL_SECONDS} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        tabulate(
            [
                row("item moved away: commit → gone from the clerk's screen (s)", away),
                row("item moved back: commit → on the clerk's screen (s)", back),
                row("one change_marker read (ms)", marker_ms),
            ],
            headers=["what", "median", "worst", "runs"],
            tablefmt="github",
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="a demo database URL")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--supervisor", default="mreyes")
    ap.add_argument("--clerk", default="jchen")
    args = ap.parse_args()
    if "CLERKDESK_NOW" not in os.environ:
        import pendulum

        from db.engine import Database
        from db.settings import office_timezone

        db = Database(args.db)
        tz = db.read(office_timezone)
        db.dispose()
        morning = pendulum.now(tz).replace(hour=6, minute=50, second=0, microsecond=0)
        os.environ["CLERKDESK_NOW"] = morning.in_timezone("UTC").isoformat()
    asyncio.run(run(args.db, args.rounds, args.supervisor, args.clerk))


if __name__ == "__main__":
    main()
