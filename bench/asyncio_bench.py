"""asyncio: hermetic's AsyncSession / AsyncEngine vs SQLAlchemy's vs the raw async driver.

Run: ``.venv/bin/python bench/asyncio_bench.py [--quick] [--only NAME[,NAME]] [--pg-url URL]
[--stat median|best] [--profile] [--no-gc]``

Workloads (``--only`` takes these names, and/or a backend, ``sqlite`` or ``postgresql``):

``load``   100,000 rows loaded as objects through an AsyncSession, a new session each
           sample: ``async with AsyncSession(engine) as s: (await s.scalars(select(User)))
           .all()`` (SQLAlchemy 2's ``sqlalchemy.ext.asyncio``: the same) vs the raw async
           driver, ``await conn.fetch(sql)`` (asyncpg: Records) or ``async with
           conn.execute(sql) as cur: await cur.fetchall()`` (aiosqlite: tuples). Two rows
           for context: hermetic Core on the async engine (``(await conn.execute(
           select(table))).all()``, rows not objects) and hermetic's synchronous Session
           on the synchronous driver (psycopg / sqlite3), both divided by the same raw.
           Milliseconds per load.
``cycle``  the engine-level checkout cycle, ``async with engine.connect(): pass``, on
           hermetic's async engine, on hermetic's synchronous engine (``with
           engine.connect(): pass`` over psycopg / sqlite3) and on SQLAlchemy's async
           engine. Microseconds per cycle; ratios divide by hermetic's synchronous cycle.

The model is bench/orm.py's ``User`` (id, name varchar(50), email varchar(100), score
integer: values every driver returns as the Python values themselves).

Targets (from the issue): the async load at most 2x the raw driver on both backends, and
the async pool's checkout cycle at most 2x the synchronous one's.

peewee has no asyncio API (peewee-async is a separate project): it is not measured here.

Backends: PostgreSQL through asyncpg (``postgresql+asyncpg://``; the synchronous rows use
psycopg 3) at ``--pg-url`` (default ``postgresql+psycopg://root@127.0.0.1:5432/test``, the
driver part is replaced), and a SQLite file through aiosqlite (``sqlite+aiosqlite://``;
synchronous rows: sqlite3) in a temporary directory. Tables get unique names (other
processes share the database) and are dropped at the end. No uvloop: the default loop.

Method: bench/run.py's (one warm-up, then rotated interleaved rounds, the median sample,
ratios within one run; GC on and collected before each sample; ``--no-gc`` keeps the
collector off during samples). A sample of an async variant is one
``loop.run_until_complete()`` of a coroutine doing the operations (one event loop per
backend, on which every async connection was opened). Results are printed as a table and
written to bench/results/asyncio-latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hermetic
import hermetic.orm
import run  # bench/run.py: the measuring, profiling and formatting helpers
from hermetic.engine.url import URL, make_url
from hermetic.ext.asyncio import AsyncSession, create_async_engine
from orm import COLUMNS, DDL, _row, hermetic_model, sqlalchemy_model  # bench/orm.py's model
from run import HERMETIC, RAW, SQLALCHEMY, STATS, Case, Outcome, Target, Variant, measure

try:
    import sqlalchemy
    import sqlalchemy.ext.asyncio
    import sqlalchemy.orm
except ImportError:  # pragma: no cover - a dev dependency; the table shows "-" without it
    sqlalchemy = None  # type: ignore[assignment]

try:
    import asyncpg  # type: ignore[import-untyped, unused-ignore]
except ImportError:  # pragma: no cover
    asyncpg = None

try:
    import aiosqlite
except ImportError:  # pragma: no cover
    aiosqlite = None  # type: ignore[assignment]

try:
    import psycopg
except ImportError:  # pragma: no cover
    psycopg = None  # type: ignore[assignment]

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "asyncio-latest.json"
WORKLOADS = ("load", "cycle")
BACKENDS = ("sqlite", "postgresql")
H_CORE, H_SYNC = "hermetic_core", "hermetic_sync"

# workload -> variant key -> (row title, the variant it is divided by, target vs that one)
SPECS: dict[str, dict[str, tuple[str, str, float | None]]] = {
    "load": {
        RAW: ("raw async driver", RAW, None),
        HERMETIC: ("hermetic AsyncSession", RAW, 2.0),
        SQLALCHEMY: ("SQLAlchemy AsyncSession", RAW, None),
        H_CORE: ("(hermetic async Core, rows)", RAW, None),
        H_SYNC: ("(hermetic sync Session)", RAW, None),
    },
    "cycle": {
        H_SYNC: ("hermetic sync engine", H_SYNC, None),
        HERMETIC: ("hermetic async engine", H_SYNC, 2.0),
        SQLALCHEMY: ("SQLAlchemy async engine", H_SYNC, None),
    },
}


@dataclass(frozen=True)
class Mode:
    rounds: int
    load_rows: int
    cycle_ops: int


FULL = Mode(rounds=7, load_rows=100_000, cycle_ops=10_000)
QUICK = Mode(rounds=3, load_rows=100_000, cycle_ops=1_000)


# ------------------------------------------------------------------------------------------
# backends


@dataclass
class Setup:
    """One backend's loop, engines, models and raw connection for this run."""

    name: str
    version: str
    loop: asyncio.AbstractEventLoop
    table: str
    async_url: str
    sync_url: str
    raw_label: str
    raw_connect: Callable[[], Any]  # an awaitable of the raw async connection
    raw_fetch: Callable[[Any, str], Coroutine[Any, Any, Any]]


async def _aiosqlite_fetch(conn: Any, sql: str) -> Any:
    async with conn.execute(sql) as cur:
        return await cur.fetchall()


async def _asyncpg_fetch(conn: Any, sql: str) -> Any:
    return await conn.fetch(sql)


def sqlite_setup(directory: str, mode: Mode, loop: asyncio.AbstractEventLoop) -> Setup | str:
    if aiosqlite is None:
        return "aiosqlite is not installed"
    path = os.path.join(directory, "asyncio.db")
    table = f"aio_users_{uuid.uuid4().hex[:8]}"
    con = sqlite3.connect(path)
    with con:
        con.execute(f"CREATE TABLE {table} {DDL['sqlite']}")
        con.executemany(
            f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
            ((i, *_row(i)) for i in range(1, mode.load_rows + 1)),
        )
    con.close()
    return Setup(
        name="sqlite",
        version=f"SQLite {sqlite3.sqlite_version}",
        loop=loop,
        table=table,
        async_url=f"sqlite+aiosqlite:///{path}",
        sync_url=f"sqlite:///{path}",
        raw_label=f"aiosqlite {aiosqlite.__version__}",
        raw_connect=lambda: aiosqlite.connect(path),
        raw_fetch=_aiosqlite_fetch,
    )


def pg_setup(
    url: URL, mode: Mode, loop: asyncio.AbstractEventLoop, stack: contextlib.ExitStack
) -> Setup | str:
    """A prepared PostgreSQL setup, or the reason it is unavailable."""
    if asyncpg is None:
        return "asyncpg is not installed"
    if psycopg is None:
        return "psycopg is not installed (it creates the table)"
    kwargs: dict[str, Any] = url.translate_connect_args(username="user", database="dbname")
    try:
        con = psycopg.connect(connect_timeout=3, **kwargs)
    except psycopg.Error as e:
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"
    table = f"aio_users_{uuid.uuid4().hex[:8]}"

    def drop() -> None:
        with psycopg.connect(**kwargs) as c:
            c.execute(f"DROP TABLE IF EXISTS {table}")

    stack.callback(drop)  # runs after the engines are disposed (registered first)
    with con:
        con.execute(f"CREATE TABLE {table} {DDL['postgresql']}")
        with con.cursor().copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for i in range(1, mode.load_rows + 1):
                copy.write_row((i, *_row(i)))
        con.execute(f"ANALYZE {table}")
        server = con.info.server_version
    con.close()
    apg = url.translate_connect_args(username="user", database="database")
    return Setup(
        name="postgresql",
        version=f"PostgreSQL {server // 10000}.{server % 10000}",
        loop=loop,
        table=table,
        async_url=url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False),
        sync_url=url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
        raw_label=f"asyncpg {asyncpg.__version__}",
        raw_connect=lambda: asyncpg.connect(**apg),
        raw_fetch=_asyncpg_fetch,
    )


@dataclass
class Engines:
    h_async: Any
    h_sync: Any
    sa_async: Any  # None without SQLAlchemy
    raw: Any  # the raw async driver connection


def open_engines(s: Setup, stack: contextlib.ExitStack) -> Engines:
    run_ = s.loop.run_until_complete
    h_async = create_async_engine(s.async_url)
    stack.callback(lambda: run_(h_async.dispose()))
    h_sync = hermetic.create_engine(s.sync_url)
    stack.callback(h_sync.dispose)
    sa_async = None
    if sqlalchemy is not None:
        sa_async = sqlalchemy.ext.asyncio.create_async_engine(s.async_url)
        stack.callback(lambda: run_(sa_async.dispose()))
    raw = run_(s.raw_connect())
    stack.callback(lambda: run_(raw.close()))
    return Engines(h_async, h_sync, sa_async, raw)


def _sample(loop: asyncio.AbstractEventLoop, fn: Callable[[], Coroutine[Any, Any, None]]) -> Any:
    """A variant's sample: one run_until_complete of ``fn()``."""

    def sample() -> None:
        loop.run_until_complete(fn())

    return sample


# ------------------------------------------------------------------------------------------
# workloads


def load_cases(s: Setup, e: Engines, mode: Mode, stack: contextlib.ExitStack) -> Iterator[Case]:
    n = mode.load_rows
    case = Case(
        "load",
        f"load {n // 1000}k rows as objects",
        s.name,
        "ms",
        1,
        Target(max_vs_raw=2.0),
        note="a new session per sample; raw: the async driver's own fetch (no objects)",
    )
    sql = f"SELECT {', '.join(COLUMNS)} FROM {s.table}"

    async def raw_load() -> None:
        rows = await s.raw_fetch(e.raw, sql)
        assert len(rows) == n

    h_user = hermetic_model(s.table)
    h_select = hermetic.select(h_user)

    async def h_load() -> None:
        async with AsyncSession(e.h_async) as session:
            objs = (await session.scalars(h_select)).all()
        assert len(objs) == n and objs[-1].name

    h_table_select = hermetic.select(h_user.__table__)
    h_conn = s.loop.run_until_complete(e.h_async.connect().start())
    stack.callback(lambda: s.loop.run_until_complete(h_conn.close()))

    async def h_core() -> None:
        rows = (await h_conn.execute(h_table_select)).all()
        await h_conn.rollback()
        assert len(rows) == n

    def h_sync() -> None:
        with hermetic.orm.Session(e.h_sync) as session:
            objs = session.scalars(h_select).all()
        assert len(objs) == n and objs[-1].name

    case.variants[RAW] = Variant(f"{s.raw_label}: {_raw_call(s)}", _sample(s.loop, raw_load))
    case.variants[HERMETIC] = Variant(
        "hermetic: async with AsyncSession(engine) as s: (await s.scalars(select(User))).all()",
        _sample(s.loop, h_load),
    )
    if e.sa_async is not None:
        sa_user = sqlalchemy_model(s.table)
        sa_select = sqlalchemy.select(sa_user)

        async def sa_load() -> None:
            async with sqlalchemy.ext.asyncio.AsyncSession(e.sa_async) as session:
                objs = (await session.scalars(sa_select)).all()
            assert len(objs) == n and objs[-1].name

        case.variants[SQLALCHEMY] = Variant(
            "sqlalchemy: async with AsyncSession(engine) as s: "
            "(await s.scalars(select(User))).all()",
            _sample(s.loop, sa_load),
        )
    case.variants[H_CORE] = Variant(
        "hermetic: (await conn.execute(select(table))).all() on one AsyncConnection",
        _sample(s.loop, h_core),
    )
    case.variants[H_SYNC] = Variant(
        f"hermetic: with Session(sync engine, {s.sync_url.split(':', 1)[0]}) as s: "
        "s.scalars(select(User)).all()",
        h_sync,
    )
    yield case


def _raw_call(s: Setup) -> str:
    if s.name == "postgresql":
        return "await conn.fetch(sql)"
    return "async with conn.execute(sql) as cur: await cur.fetchall()"


def cycle_cases(s: Setup, e: Engines, mode: Mode, stack: contextlib.ExitStack) -> Iterator[Case]:
    ops = mode.cycle_ops
    case = Case(
        "cycle",
        "engine connect+close",
        s.name,
        "us",
        ops,
        Target(),
        note="async with engine.connect(): pass (sync engine: with engine.connect(): pass)",
    )

    def async_cycle(engine: Any) -> Callable[[], Coroutine[Any, Any, None]]:
        async def cycle() -> None:
            connect = engine.connect
            for _ in range(ops):
                async with connect():
                    pass

        return cycle

    def sync_cycle() -> None:
        connect = e.h_sync.connect
        for _ in range(ops):
            with connect():
                pass

    case.variants[H_SYNC] = Variant(
        f"hermetic: with engine.connect(): pass ({s.sync_url.split(':', 1)[0]})", sync_cycle
    )
    case.variants[HERMETIC] = Variant(
        f"hermetic: async with engine.connect(): pass ({s.async_url.split(':', 1)[0]})",
        _sample(s.loop, async_cycle(e.h_async)),
    )
    if e.sa_async is not None:
        case.variants[SQLALCHEMY] = Variant(
            f"sqlalchemy: async with engine.connect(): pass ({s.async_url.split(':', 1)[0]})",
            _sample(s.loop, async_cycle(e.sa_async)),
        )
    yield case


BUILDERS: dict[str, Callable[[Setup, Engines, Mode, contextlib.ExitStack], Iterator[Case]]] = {
    "load": load_cases,
    "cycle": cycle_cases,
}


# ------------------------------------------------------------------------------------------
# reporting


def _verdict(o: Outcome, key: str) -> tuple[str, str]:
    spec = SPECS[o.case.workload]
    _title, base, limit = spec[key]
    if limit is None:
        return "", ""
    what = "raw" if base == RAW else "sync"
    r = o.ratio(key, base)
    if r is None:
        return f"<={limit:g}x {what}", "n/a"
    return f"<={limit:g}x {what}", "ok" if r <= limit else "MISS"


def table(outcomes: list[Outcome]) -> str:
    fmt_t, fmt_r, fmt_p = run._fmt_time, run._fmt_ratio, run._fmt_pct
    header = (
        f"{'workload':<26} {'backend':<10} {'variant':<30} {'time':>10} {'ratio':>7}"
        f" {'of':<14} {'spread':>6}  {'target':<11} verdict"
    )
    lines = [header, "-" * len(header)]
    for o in outcomes:
        c = o.case
        spec = SPECS[c.workload]
        for key in c.variants:
            title, base, _limit = spec[key]
            s = o.samples.get(key)
            spread = (max(s) - min(s)) / statistics.median(s) if s else None
            target, verdict = _verdict(o, key)
            lines.append(
                f"{c.name:<26} {c.backend:<10} {title:<30} {fmt_t(o.figure(key), c.unit):>10}"
                f" {fmt_r(o.ratio(key, base)):>7} {spec[base][0]:<14.14} {fmt_p(spread):>6}"
                f"  {target:<11} {verdict}"
            )
        lines.append("")
    return "\n".join(lines).rstrip()


def _json(o: Outcome) -> dict[str, Any]:
    out = o.as_json()
    spec = SPECS[o.case.workload]
    out["ratios"] = {
        key: {"of": spec[key][1], "ratio": o.ratio(key, spec[key][1])} for key in o.case.variants
    }
    out["verdicts"] = {
        key: {"target": t, "verdict": v}
        for key in o.case.variants
        for t, v in [_verdict(o, key)]
        if t
    }
    out.pop("target", None)
    out.pop("verdict", None)
    return out


# ------------------------------------------------------------------------------------------
# main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="asyncio: hermetic vs SQLAlchemy vs the raw async driver "
        "(see the module docstring)."
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds, shorter cycle loops")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only these workloads ({', '.join(WORKLOADS)}) and/or "
        f"backends ({', '.join(BACKENDS)}); comma-separated or repeated",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("HERMETIC_BENCH_PG_URL", run.DEFAULT_PG_URL),
        help="PostgreSQL URL; the async driver is asyncpg, the sync one psycopg "
        f"(default {run.DEFAULT_PG_URL})",
    )
    parser.add_argument("--stat", choices=sorted(STATS), default="median")
    parser.add_argument(
        "--profile", action="store_true", help="afterwards, profile the hermetic async variants"
    )
    parser.add_argument("--top", type=int, default=15, help="functions per profile (default 15)")
    parser.add_argument(
        "--no-gc", action="store_true", help="garbage collector off during the samples"
    )
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    names = [n.strip() for chunk in args.only for n in chunk.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS and n not in BACKENDS]
    if unknown:
        parser.error(f"unknown --only name(s) {unknown}; choose from {WORKLOADS + BACKENDS}")
    args.workloads = [w for w in WORKLOADS if w in names] or list(WORKLOADS)
    args.backends = [b for b in BACKENDS if b in names] or list(BACKENDS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = QUICK if args.quick else FULL
    started = time.perf_counter()
    pg_url = make_url(args.pg_url)
    if pg_url.get_backend_name() != "postgresql":
        print(f"--pg-url must be a postgresql URL, got {args.pg_url!r}", file=sys.stderr)
        return 2
    print(
        f"hermetic {hermetic.__version__} | SQLAlchemy "
        f"{sqlalchemy.__version__ if sqlalchemy else '(not installed)'} | asyncpg "
        f"{asyncpg.__version__ if asyncpg else '(not installed)'} | aiosqlite "
        f"{aiosqlite.__version__ if aiosqlite else '(not installed)'} | "
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs"
    )
    speed = run.loop_ns()
    print(
        f"{'quick' if args.quick else 'full'} mode: {args.stat} of {mode.rounds} samples after 1 "
        f"warm-up, variants interleaved (rotated order), GC "
        f"{'OFF during samples' if args.no_gc else 'on (collected before each sample)'}; "
        f"load {mode.load_rows:,} rows, cycle {mode.cycle_ops:,} ops/sample; machine: empty "
        f"for-loop {speed:.1f} ns/iteration"
    )
    print("peewee: no asyncio API (peewee-async is a separate project), not measured")
    outcomes: list[Outcome] = []
    versions: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="hermetic-asyncio-bench-") as tmp:
        for backend in args.backends:
            loop = asyncio.new_event_loop()
            try:
                with contextlib.ExitStack() as setup_stack:
                    if backend == "sqlite":
                        setup = sqlite_setup(tmp, mode, loop)
                    else:
                        setup = pg_setup(pg_url, mode, loop, setup_stack)
                    if isinstance(setup, str):
                        print(f"note: {backend} skipped ({setup})")
                        continue
                    versions[backend] = setup.version
                    engines = open_engines(setup, setup_stack)
                    for workload in args.workloads:
                        with contextlib.ExitStack() as stack:
                            for case in BUILDERS[workload](setup, engines, mode, stack):
                                if args.no_gc:
                                    gc.disable()
                                try:
                                    outcome = measure(case, mode.rounds, args.stat)
                                finally:
                                    gc.enable()
                                outcomes.append(outcome)
                                if args.profile:
                                    outcome.profile = run.profile(case, args.top)
            finally:
                loop.close()
    print()
    print(table(outcomes))
    return run.finish(
        args,
        argv,
        outcomes,
        started,
        method=f"{args.stat} of {mode.rounds} interleaved samples after 1 warm-up; GC "
        f"{'off' if args.no_gc else 'on'}",
        libs={
            "sqlalchemy": sqlalchemy.__version__ if sqlalchemy else None,
            "asyncpg": asyncpg.__version__ if asyncpg else None,
            "aiosqlite": aiosqlite.__version__ if aiosqlite else None,
        },
        backends=versions,
        results=[_json(o) for o in outcomes],
        footer=[
            f"times are the {args.stat} sample per op; ratio = time / the 'of' row's time; "
            "spread = (max - min) / median of the variant",
            f"backends: {', '.join(f'{k}: {v}' for k, v in versions.items())}",
        ],
        speed=speed,
    )


if __name__ == "__main__":
    sys.exit(main())
