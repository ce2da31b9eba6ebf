"""Start-up time: the real app against a bare Textual app, side by side, in tmux.

Each run starts every case in a fresh tmux pane (120x40 by default, its own tmux server) and
times from the spawn until the finished first screen is visible: for the bare app its 50 rows,
for the supervisor dashboard its summary line and on-shift rows, for the clerk's my day its
figures (all of which arrive from the database by worker). It also reports the CPU time the
process had used when its screen was complete (/proc/PID/stat), which a loaded machine
distorts far less than the wall clock. The cases alternate (the order
rotates every run) so load on the machine hits them alike; one warm-up round is not counted.

    python -m bench.bench_startup [--runs 10] [--db URL] [--no-warm]

Without --db a demo office is built once in a scratch folder (about 15 s).

Server mode (issue 13) adds three cases, each `clerkdesk serve --key ID` as an SSH login runs
it (through bench.fakehome, which points the account's home at a scratch server home): the
clerk's my day "serve, cold" without a warm server and "serve, warm" handed to a
`clerkdesk server warm` started once beforehand, and the supervisor's dashboard warm. For the
warm cases the CPU column adds the forked session's CPU to the client's (the session is the
server's child, not the client's).
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from bench.tmuxrun import (
    Case,
    Pane,
    bench_env,
    cases,
    close_server,
    demo_database,
    scratch_home,
    start_server,
)
from bench.warmrun import WarmProcess, cpu_seconds, fakehome_argv, server_home


def serve_cases(
    home: Path, db_url: str, supervisor: str, clerk: str, env: dict[str, str]
) -> tuple[dict[str, Case], WarmProcess]:
    """The two server-mode cases and the running warm server (stop it afterwards)."""
    db_file = Path(db_url.removeprefix("sqlite:///"))
    cold_home, warm_home = home / "serve-cold", home / "serve-warm"
    keys = server_home(cold_home, db_file, [clerk, supervisor])
    server_home(warm_home, db_file, [clerk, supervisor])
    ready = cases(db_url, supervisor, clerk)
    warm = WarmProcess(warm_home, env)

    def serve(h: Path, login: str) -> tuple[str, ...]:
        return tuple(fakehome_argv(h, "serve", "--key", keys[login]))

    return {
        "serve-cold": Case("my day: serve, cold", serve(cold_home, clerk), ready["myday"].ready),
        "serve-warm": Case("my day: serve, warm", serve(warm_home, clerk), ready["myday"].ready),
        "serve-warm-sup": Case(
            "dashboard: serve, warm", serve(warm_home, supervisor), ready["dashboard"].ready
        ),
    }, warm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="a demo database URL (default: build one)")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--supervisor", default="mreyes")
    ap.add_argument("--clerk", default="jchen")
    ap.add_argument("--size", default="120x40", help="terminal COLSxROWS")
    ap.add_argument("--home", help="scratch folder for config, data and the demo database")
    ap.add_argument("--no-warm", action="store_true", help="leave out the server-mode cases")
    args = ap.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    home = scratch_home(args.home)
    env = bench_env(home)
    url = demo_database(args.db, home)
    all_cases = cases(url, args.supervisor, args.clerk)
    warm: WarmProcess | None = None
    if not args.no_warm:
        extra, warm = serve_cases(home, url, args.supervisor, args.clerk, env)
        all_cases.update(extra)
    names = list(all_cases)
    times: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    start_server(env)
    try:
        for run in range(args.runs + 1):
            order = names[run % len(names) :] + names[: run % len(names)]
            for n in order:
                case = all_cases[n]
                pane = Pane(case.argv, env, (cols, rows))
                try:
                    t = pane.wait_for(case.ready)
                    c = pane.cpu_seconds()
                    if n.startswith("serve-warm") and warm is not None:
                        c += sum(cpu_seconds(pid) for pid in warm.children())
                finally:
                    pane.close()
                if run > 0:  # run 0 warms the tmux server and the file cache
                    times[n].append(t * 1000)
                    cpu[n].append(c * 1000)
    finally:
        close_server()
        if warm is not None:
            warm.stop()
    load = os.getloadavg()[0]
    bare = statistics.median(times["bare"])
    bare_cpu = statistics.median(cpu["bare"])
    print(
        f"{args.runs} alternating runs, {cols}x{rows}, 1-min load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'case':<22} {'median ms':>10} {'min':>7} {'max':>7} {'ratio':>7}  {'pairwise':<12}"
        f" {'CPU ms':>7} {'CPU ratio':>9}"
    )
    for n in names:
        ts = times[n]
        med = statistics.median(ts)
        pair = [t / b for t, b in zip(ts, times["bare"], strict=True)]
        med_cpu = statistics.median(cpu[n])
        print(
            f"{all_cases[n].name:<22} {med:>10.0f} {min(ts):>7.0f} {max(ts):>7.0f} {med / bare:>6.2f}x"
            f"  {min(pair):.2f}-{max(pair):.2f}x  {med_cpu:>7.0f} {med_cpu / bare_cpu:>8.2f}x"
        )


if __name__ == "__main__":
    main()
