"""Memory per session: PSS of N concurrent idle clerk sessions, against N bare Textual apps.

Starts N clerk sessions (my day, in tmux panes of their own server), waits until every one
shows its figures and then ``--settle`` seconds more, and reads each process's
/proc/PID/smaps_rollup (PSS: private pages plus each shared page divided by the number of
processes sharing it, so N sessions of one program share the interpreter and libraries).
Then the same for N bare Textual apps. What dominates: the mappings of one session with
the largest PSS (shared libraries, heap) and, in a separate headless run of the same screen,
the Python allocations by top-level package (tracemalloc) and the modules loaded.

    python -m bench.bench_memory [--sessions 10] [--db URL] [--no-warm]

Server mode (issue 13): N logins handed to one warm server (`clerkdesk server warm`), each a
fork of it sharing its imported code copy-on-write. Each such login is two processes: the
forked session and the small `serve` client that sshd started (it holds the terminal and
waits); both are counted, and the warm server's own PSS is shown beside them.

Linux only (/proc). Without --db a demo office is built once in a scratch folder.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.tmuxrun import (
    ROOT,
    Case,
    Pane,
    bench_env,
    cases,
    close_server,
    demo_database,
    scratch_home,
    start_server,
)
from bench.warmrun import WarmProcess, fakehome_argv, server_home

MIB = 1024 * 1024


def rollup(pid: int) -> dict[str, int]:
    """smaps_rollup fields in bytes."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key] = int(parts[0]) * 1024
    return out


def top_mappings(pid: int, n: int = 8) -> list[tuple[str, int]]:
    """PSS by mapped file (or [heap] / anonymous) of one process, largest first."""
    pss: dict[str, int] = defaultdict(int)
    name = "?"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and re.fullmatch(r"[0-9a-f]+-[0-9a-f]+", head[0]):
            path = head[5] if len(head) > 5 else "[anonymous]"
            name = Path(path).name if path.startswith("/") else path
        elif line.startswith("Pss:"):
            pss[name] += int(head[1]) * 1024
    return sorted(pss.items(), key=lambda kv: -kv[1])[:n]


def sessions(
    case: Case, n: int, env: dict[str, str], settle: float
) -> tuple[list[dict[str, int]], list[tuple[str, int]]]:
    panes = [Pane(case.argv, env) for _ in range(n)]
    try:
        for p in panes:
            p.wait_for(case.ready, timeout=120)
        time.sleep(settle)  # idle: start-up garbage collected, timers quiet
        pids = [p.pid for p in panes]
        rolls = [rollup(pid) for pid in pids]
        maps = top_mappings(pids[0])
    finally:
        for p in panes:
            p.close()
    return rolls, maps


def warm_sessions(
    home: Path, db_url: str, clerk: str, n: int, env: dict[str, str], settle: float, ready: str
) -> tuple[list[dict[str, int]], list[dict[str, int]], dict[str, int]]:
    """(sessions' rollups, clients' rollups, the server's rollup) for ``n`` warm logins."""
    warm_home = home / "mem-warm"
    keys = server_home(warm_home, Path(db_url.removeprefix("sqlite:///")), [clerk])
    warm = WarmProcess(warm_home, env)
    panes: list[Pane] = []
    try:
        argv = tuple(fakehome_argv(warm_home, "serve", "--key", keys[clerk]))
        panes = [Pane(argv, env) for _ in range(n)]
        for p in panes:
            p.wait_for(ready, timeout=120)
        time.sleep(settle)
        kids = warm.children()
        assert len(kids) == n, f"{len(kids)} sessions forked for {n} logins"
        return [rollup(k) for k in kids], [rollup(p.pid) for p in panes], rollup(warm.pid)
    finally:
        for p in panes:
            p.close()
        warm.stop()


# The headless run: my day for a clerk, with tracemalloc on from the first import.
EXPLAIN = r"""
import os, sys, tracemalloc, asyncio
tracemalloc.start(1)
from tui.cli import Ctx
from tui.app import ClerkDeskApp
from tui.config import Config
c = Ctx(sys.argv[1], sys.argv[2])
db = c.database()
app = ClerkDeskApp(db, c.actor(db, allow_root=False), config=Config())

async def go():
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        return tracemalloc.take_snapshot()

snap = asyncio.run(go())
by_pkg = {}
for st in snap.statistics("filename"):
    f = st.traceback[0].filename
    if "site-packages/" in f:
        pkg = f.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    elif f.startswith(sys.argv[3]):
        pkg = "clerkdesk:" + f[len(sys.argv[3]):].lstrip("/").split("/")[0]
    elif f.startswith("<"):
        pkg = f
    else:
        pkg = "stdlib"
    by_pkg[pkg] = by_pkg.get(pkg, 0) + st.size
mods = {}
pyc = {}
for name, mod in list(sys.modules.items()):
    top = name.split(".")[0]
    mods[top] = mods.get(top, 0) + 1
    cached = getattr(mod, "__cached__", None)
    try:
        pyc[top] = pyc.get(top, 0) + os.path.getsize(cached)
    except (TypeError, OSError):
        pass
total = sum(by_pkg.values())
print(f"traced {total / 1048576:.1f} MiB of Python allocations, {len(sys.modules)} modules loaded")
print("compiled code loaded, by top-level package (.pyc bytes; code objects are about")
print("that size again in memory, which tracemalloc files under <frozen importlib>):")
for top, size in sorted(pyc.items(), key=lambda kv: -kv[1])[:12]:
    print(f"  {top:<28} {size / 1048576:6.1f} MiB  ({mods[top]} modules)")
print("Python allocations by the file that made them (tracemalloc):")
for pkg, size in sorted(by_pkg.items(), key=lambda kv: -kv[1])[:10]:
    print(f"  {pkg:<40} {size / 1048576:6.1f} MiB")
heavy = [m for m in ("ortools", "pandas", "numpy", "fpdf", "fontTools", "alembic") if m in sys.modules]
print("heavy packages loaded:", ", ".join(heavy) or "none")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="a demo database URL (default: build one)")
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--clerk", default="jchen")
    ap.add_argument("--settle", type=float, default=3.0, help="idle seconds before reading memory")
    ap.add_argument("--home", help="scratch folder for config, data and the demo database")
    ap.add_argument("--no-warm", action="store_true", help="leave out the warm-server sessions")
    args = ap.parse_args()
    home = scratch_home(args.home)
    env = bench_env(home)
    url = demo_database(args.db, home)
    all_cases = cases(url, "mreyes", args.clerk)
    results = {}
    start_server(env)
    try:
        for key in ("myday", "bare"):
            results[key] = sessions(all_cases[key], args.sessions, env, args.settle)
        warm = None
        if not args.no_warm:
            warm = warm_sessions(
                home, url, args.clerk, args.sessions, env, args.settle, all_cases["myday"].ready
            )
    finally:
        close_server()
    print(f"{args.sessions} concurrent idle sessions each, 1-min load average {os.getloadavg()[0]:.1f}")
    print(
        f"{'case':<22} {'PSS MiB':>8} {'RSS':>6} {'private':>8} {'PSS anon':>9} {'PSS file':>9} {'total PSS':>10}"
    )
    for key, (rolls, _) in results.items():

        def med(field: str, rolls: list[dict[str, int]] = rolls) -> float:
            return statistics.median(r.get(field, 0) for r in rolls) / MIB

        total = sum(r["Pss"] for r in rolls) / MIB
        private = statistics.median(r["Private_Clean"] + r["Private_Dirty"] for r in rolls) / MIB
        print(
            f"{all_cases[key].name:<22} {med('Pss'):>8.1f} {med('Rss'):>6.1f} {private:>8.1f}"
            f" {med('Pss_Anon'):>9.1f} {med('Pss_File'):>9.1f} {total:>10.0f}"
        )
    if warm is not None:
        kids, clients, server = warm
        per = [k["Pss"] + c["Pss"] for k, c in zip(kids, clients, strict=True)]
        rows = [("warm: forked session", kids), ("warm: its serve client", clients)]
        for name, rolls in rows:
            total = sum(r["Pss"] for r in rolls) / MIB
            private = statistics.median(r["Private_Clean"] + r["Private_Dirty"] for r in rolls) / MIB
            print(
                f"{name:<22} {statistics.median(r['Pss'] for r in rolls) / MIB:>8.1f}"
                f" {statistics.median(r['Rss'] for r in rolls) / MIB:>6.1f} {private:>8.1f}"
                f" {statistics.median(r.get('Pss_Anon', 0) for r in rolls) / MIB:>9.1f}"
                f" {statistics.median(r.get('Pss_File', 0) for r in rolls) / MIB:>9.1f} {total:>10.0f}"
            )
        print(
            f"{'warm: the server':<22} {server['Pss'] / MIB:>8.1f} {server['Rss'] / MIB:>6.1f}"
            f" {(server['Private_Clean'] + server['Private_Dirty']) / MIB:>8.1f}"
        )
        print(
            f"warm, per login (session + client, median): {statistics.median(per) / MIB:.1f} MiB PSS; "
            f"all {len(per)} logins with the server: {(sum(per) + server['Pss']) / MIB:.0f} MiB"
        )
    print("\nlargest mappings of one clerk session (PSS MiB):")
    for name, size in results["myday"][1]:
        print(f"  {name:<40} {size / MIB:6.1f}")
    print("\nheadless my day for the same clerk:")
    out = subprocess.run(
        [sys.executable, "-c", EXPLAIN, url, args.clerk, str(ROOT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    print(out.stdout + out.stderr)


if __name__ == "__main__":
    main()
