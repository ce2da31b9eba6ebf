"""What live rights cost: the per-write re-read of the actor (``db.live_rights.check_actor``).

    python -m bench.bench_live_rights --db sqlite:////path/to/demo.db --login jchen [--n 5000]

Prints microseconds per call for ``SELECT 1`` (the floor of any statement) and ``check_actor``,
both in one open read transaction, so only the statement itself is measured.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import sqlalchemy as sa

from db.engine import Database
from db.live_rights import check_actor
from scheduling.staff import resolve_actor


def per_call_us(fn: Callable[[], object], n: int) -> float:
    for _ in range(min(100, n)):
        fn()
    rounds = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n // 5):
            fn()
        rounds.append((time.perf_counter() - t) / (n // 5) * 1e6)
    return statistics.median(rounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--login", required=True)
    ap.add_argument("--n", type=int, default=5000)
    args = ap.parse_args()
    db = Database(args.db)
    actor = db.read(lambda s: resolve_actor(s, args.login))
    with db.read_session() as s:
        floor = per_call_us(lambda: s.execute(sa.text("SELECT 1")).one(), args.n)
        check = per_call_us(lambda: check_actor(s, actor), args.n)
    print(f"SELECT 1:    {floor:7.1f} us")
    print(f"check_actor: {check:7.1f} us")
    db.dispose()


if __name__ == "__main__":
    main()
