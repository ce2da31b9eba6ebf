"""What one keystroke costs in a form field (issue 12: 10,000 typed characters froze the app).

Runs the real app headless, opens a form and presses ``--keys`` letters into one of its text
fields, posted as one burst as the terminal driver posts them; reports the total and the time
per key (run it with two ``--keys`` counts: a cost that grows with the text shows as a time per
key that grows too). The CPU seconds are the process's own, for a machine shared with others.
``--profile`` prints the top of a cProfile of the typing.

    python -m bench.bench_typing --db sqlite:///…/demo.db [--keys 2000] [--form client|shift-type]

Needs a demo database (``clerkdesk demo --no-open``); it saves nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from typing import Any

from tabulate import tabulate
from textual import events


async def run(url: str, keys: int, form: str, profile: bool) -> None:
    from db.engine import Database
    from scheduling.staff import resolve_actor
    from tui.app import ClerkDeskApp
    from tui.config import Config

    db = Database(url)
    login = "jchen" if form == "client" else db.read(lambda s: _supervisor_login(s))
    actor = db.read(lambda s: resolve_actor(s, login))
    app = ClerkDeskApp(db, actor, config=Config(keymap={}))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if form == "client":
            from screens.clerk.client_form import ClientForm

            app.push_screen(ClientForm(None))
            field = "#input-last_name"
        else:
            from screens.supervisor.schedule_setup import ShiftTypeForm

            app.push_screen(ShiftTypeForm(None))
            field = "#input-name"
        await pilot.pause()
        await app.workers.wait_for_complete()
        box: Any = app.screen.query_one(field)
        box.focus()
        await pilot.pause()
        # The keys arrive as a burst, as a terminal delivers a fast typist or a paste typed
        # out: posted to the app like the driver does, not one Pilot press (and idle wait) each.
        prof = cProfile.Profile() if profile else None
        if prof:
            prof.enable()
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(keys):
            char = "abcdefghij"[i % 10]
            app.post_message(events.Key(char, char))
        # Done when every key has been handled: none held back (tui.keyqueue hands fast keys
        # on one at a time) and the app's queue drained (a field at its max_length takes no
        # more characters, so its length is no measure).
        await pilot.pause()
        while app.keys_waiting():
            await asyncio.sleep(0.001)
        await pilot.pause()
        total, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        if prof:
            prof.disable()
        typed = len(box.value)
    print(
        tabulate(
            [
                [
                    form,
                    keys,
                    typed,
                    f"{total:.2f}",
                    f"{total / keys * 1000:.2f}",
                    f"{cpu:.2f}",
                    f"{cpu / keys * 1000:.2f}",
                ]
            ],
            headers=["form", "keys", "chars in field", "total s", "ms/key", "CPU s", "CPU ms/key"],
        )
    )
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)


def _supervisor_login(s: Any) -> str:
    import sqlalchemy as sa

    from db.models import Role, User

    return str(s.scalars(sa.select(User.login).where(User.role == Role.SUPERVISOR).limit(1)).one())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True)
    p.add_argument("--keys", type=int, default=2000)
    p.add_argument("--form", choices=["client", "shift-type"], default="client")
    p.add_argument("--profile", action="store_true")
    a = p.parse_args()
    asyncio.run(run(a.db, a.keys, a.form, a.profile))


if __name__ == "__main__":
    main()
