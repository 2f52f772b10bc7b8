"""Micro-benchmark: 100,000-row fetchall from sqlite3, raw vs ``CursorResult.all()``.

Not a test. Run: ``.venv/bin/python bench/result_micro.py [--rows N] [--repeat N]``.
Timings interleave the variants and keep each one's best run, by wall clock and by this
thread's CPU time (the latter is not inflated while other processes hold the CPU); the
target is ``CursorResult.all()`` <= 1.2x raw.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from collections.abc import Callable

from hermetic.engine.result import CursorResult, ResultMetaData

QUERY = "SELECT id, name, qty, price, note FROM t"


def setup(rows: int) -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    con.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, qty INT, price REAL, note TEXT)"
    )
    con.executemany(
        "INSERT INTO t (name, qty, price, note) VALUES (?, ?, ?, ?)",
        [(f"name {i}", i, i * 1.5, None if i % 3 else "note") for i in range(rows)],
    )
    con.commit()
    return con


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    con = setup(args.rows)
    keys = ("id", "name", "qty", "price", "note")
    metadata = ResultMetaData(keys)  # the engine caches this per statement
    with_proc = ResultMetaData(keys, [None, str.upper, None, None, None])

    def raw() -> int:
        cur = con.cursor()
        cur.execute(QUERY)
        rows = cur.fetchall()
        cur.close()
        return len(rows)

    def hermetic_all() -> int:
        cur = con.cursor()
        cur.execute(QUERY)
        return len(CursorResult(cur, metadata).all())

    def hermetic_all_processor() -> int:
        cur = con.cursor()
        cur.execute(QUERY)
        return len(CursorResult(cur, with_proc).all())

    def hermetic_iter() -> int:
        cur = con.cursor()
        cur.execute(QUERY)
        return sum(1 for _ in CursorResult(cur, metadata))

    def hermetic_scalars() -> int:
        cur = con.cursor()
        cur.execute(QUERY)
        return len(CursorResult(cur, metadata).scalars().all())

    variants: dict[str, Callable[[], int]] = {
        "raw cursor.fetchall()": raw,
        "CursorResult.all()": hermetic_all,
        "CursorResult.all(), 1 processor": hermetic_all_processor,
        "iterate CursorResult": hermetic_iter,
        "CursorResult.scalars().all()": hermetic_scalars,
    }
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine("sqlite://", creator=lambda: con)
        sa_conn = engine.connect()

        def sqlalchemy_all() -> int:
            return len(sa_conn.exec_driver_sql(QUERY).all())

        variants[f"SQLAlchemy {sqlalchemy.__version__} .all()"] = sqlalchemy_all
    except ImportError:
        pass

    wall = dict.fromkeys(variants, float("inf"))
    cpu = dict.fromkeys(variants, float("inf"))
    for fn in variants.values():
        fn()  # warm up: row classes, caches
    for _ in range(args.repeat):
        for name, fn in variants.items():
            start, start_cpu = time.perf_counter(), time.thread_time()
            count = fn()
            cpu[name] = min(cpu[name], time.thread_time() - start_cpu)
            wall[name] = min(wall[name], time.perf_counter() - start)
            assert count == args.rows, (name, count)
    raw_wall, raw_cpu = wall["raw cursor.fetchall()"], cpu["raw cursor.fetchall()"]
    print(f"{args.rows:,} rows x 5 columns, best of {args.repeat}    wall            cpu")
    for name in variants:
        print(
            f"  {name:<36} {wall[name] * 1e3:7.1f} ms {wall[name] / raw_wall:5.2f}x"
            f"  {cpu[name] * 1e3:7.1f} ms {cpu[name] / raw_cpu:5.2f}x"
        )
    print(
        f"CursorResult.all() / raw fetchall: wall {wall['CursorResult.all()'] / raw_wall:.3f}, "
        f"cpu {cpu['CursorResult.all()'] / raw_cpu:.3f} (target <= 1.2)"
    )


if __name__ == "__main__":
    main()
