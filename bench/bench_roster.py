"""Roster engine benchmark.

    python -m bench.bench_roster [--time-limit S] [--sizes 12x2w 20x4w ...]

Each size runs in its own process so the peak resident memory is that size's alone. Per size
it reports: the full CP-SAT model's build time and Python-side peak allocation (tracemalloc;
CP-SAT's C++ model lives outside it, which is why the process peak RSS is reported too, once
after the solve and once after also building the full model, which LNS never does), the
solve (status, penalty, lower bound, time to the first valid roster, total time) and how long
the evaluator takes on the result (what a schedule screen pays per cell edit).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

from tabulate import tabulate

from scheduling.roster import Evaluator, evaluate, solve
from scheduling.roster.generate import COVER, SIZES, generate_size
from scheduling.roster.model import build_model
from scheduling.roster.problem import ProblemIndex


def run_one(size: str, time_limit: float, workers: int, seed: int) -> dict[str, object]:
    problem = generate_size(size, seed=seed)
    started = time.perf_counter()
    cpu_started = time.process_time()
    sol = solve(problem, time_limit=time_limit, workers=workers, seed=seed)
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    rss_solve = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times = []
    if sol.assignment is not None:  # a solve cut short before any roster is reported, not hidden
        check = evaluate(problem, sol.assignment)
        assert not check.violations, check.violations[:3]
        assert check.penalty == sol.penalty
        ev = Evaluator(problem)
        for _ in range(20):
            t = time.perf_counter()
            ev.evaluate(sol.assignment)
            times.append(time.perf_counter() - t)

    # The full model, built on its own (LNS never builds it, but this is the upper bound):
    # once timed, once under tracemalloc (which slows allocation too much to time it).
    t = time.perf_counter()
    t_cpu = time.process_time()
    rm = build_model(ProblemIndex(problem))
    build = time.perf_counter() - t
    build_cpu = time.process_time() - t_cpu
    n_vars = rm.n_vars
    del rm
    tracemalloc.start()
    build_model(ProblemIndex(problem))
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_clerks, n_days, n_shifts = SIZES[size]
    return {
        "size": f"{n_clerks} x {n_days // 7}w x {n_shifts}"
        + (f", cover {COVER[size]:g}" if size in COVER else ""),
        "vars": n_vars,
        "build_s": build,
        "build_cpu_s": build_cpu,
        "py_peak_mb": py_peak / 2**20,
        "rss_mb": rss_solve,
        "rss_build_mb": rss_build,
        "method": sol.method,
        "status": sol.status.value,
        "stop": sol.stop_reason.value,
        "repaired": int(sol.stats.get("clerks_repaired", 0)),
        "start_penalty": int(sol.stats["start_penalty"]) if "start_penalty" in sol.stats else None,
        "penalty": sol.penalty,
        "bound": sol.lower_bound,
        "first_s": sol.first_solution_time,
        "first_cpu_s": sol.stats.get("start_cpu"),
        "total_s": total,
        "cpu_s": cpu,
        "eval_ms": statistics.median(times) * 1000 if times else None,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=30.0, help="seconds per size (default 30)")
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--one", help=argparse.SUPPRESS)  # child process: run one size, print JSON
    args = ap.parse_args(argv)

    if args.one:
        print(json.dumps(run_one(args.one, args.time_limit, args.workers, args.seed)))
        return

    load_before = os.getloadavg()[0]
    rows = []
    for size in args.sizes:
        cmd = [
            sys.executable,
            "-m",
            "bench.bench_roster",
            "--one",
            size,
            "--time-limit",
            str(args.time_limit),
            "--workers",
            str(args.workers),
            "--seed",
            str(args.seed),
        ]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append(
            [
                r["size"],
                r["vars"],
                f"{r['build_s']:.2f} ({r['build_cpu_s']:.2f})",
                f"{r['py_peak_mb']:.0f}",
                f"{r['rss_mb']:.0f} / {r['rss_build_mb']:.0f}",
                r["method"],
                f"{r['status']} ({r['stop']})",
                r["repaired"],
                "-" if r["start_penalty"] is None else r["start_penalty"],
                "-" if r["penalty"] is None else r["penalty"],
                "-" if r["bound"] is None else r["bound"],
                "-" if r["first_s"] is None else f"{r['first_s']:.2f} ({r['first_cpu_s']:.2f})",
                f"{r['total_s']:.1f} ({r['cpu_s']:.1f})",
                "-" if r["eval_ms"] is None else f"{r['eval_ms']:.1f}",
            ]
        )
        print(f"done {size}", file=sys.stderr, flush=True)
    headers = [
        "size (clerks x weeks x shift types)",
        "model vars",
        "build s (CPU)",
        "build MB (py)",
        "peak RSS MB (solve / +full model)",
        "method",
        "status (stop reason)",
        "clerks repaired",
        "start penalty",
        "penalty",
        "lower bound",
        "first roster s (CPU)",
        "total s (CPU)",
        "evaluate ms",
    ]
    print(
        f"time limit {args.time_limit:g} s per size, {args.workers} workers, seed {args.seed}, "
        f"{os.cpu_count()} CPUs, 1-min load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after (CPU seconds in brackets show the share the run got)"
    )
    print(tabulate(rows, headers=headers, tablefmt="github"))


if __name__ == "__main__":
    main()
