"""hermetic vs SQLAlchemy vs the raw driver: one run, the same workloads, absolute times and ratios.

Run: ``.venv/bin/python bench/run.py [--quick] [--only NAME[,NAME]] [--pg-url URL]
[--stat median|best] [--profile]``

Workloads (``--only`` takes these names, and/or a backend name, ``sqlite`` or ``postgresql``):

``cycle``   pool checkout + checkin, ``c = engine.pool.connect(); c.close()`` (hermetic's holder
            tracking is always on), against SQLAlchemy's ``engine.pool`` and, on PostgreSQL,
            ``psycopg_pool.ConnectionPool`` ``getconn()/putconn()`` when that is installed; and
            the engine-level cycle ``with engine.connect(): pass``. Microseconds per cycle.
``select``  one-row ``text()`` selects on one open connection, by primary key from a 1,000-row
            table; the raw driver runs ``cur.execute(sql, params); cur.fetchone()`` on one
            cursor with the DB-API module's own ``paramstyle``. Microseconds per select.
``fetch``   ``.all()`` of a 100,000-row ``text()`` select vs ``cur.execute(); cur.fetchall()``;
            and ``conn.execute(select(table)).all()`` of a 100,000-row five-column table
            (id integer, name varchar(40), value float/double precision, qty bigint, note
            text with every fifth NULL: types whose values the drivers return as the Python
            values themselves, so raw and Core rows are equal; a datetime column would be
            parsed from text by the Core on SQLite, a conversion the raw driver skips).
            Milliseconds per fetch.
``core``    ``select(t).where(t.c.id == i)`` built and executed inside the loop (the
            compile-cache hit path), ``.fetchone()``, vs the raw one-row select.
``insert``  50,000-row executemany: ``conn.execute(insert(table), list_of_dicts)`` into an
            empty table of the five columns above vs ``cur.executemany(sql, list_of_tuples)``
            (the driver's own paramstyle); rolled back after each sample. Milliseconds.

Backends: a SQLite file (sqlite3) in a temporary directory, and PostgreSQL through psycopg 3
(``--pg-url``, default ``postgresql+psycopg://root@127.0.0.1:5432/test``; when the server is
unreachable a one-line note is printed and only SQLite runs).

Method: every variant runs one untimed warm-up sample, then ROUNDS timed samples (7, or 3 with
``--quick``); each round runs every variant of a workload back to back, in an order rotated
round by round, so that drift hits all of them alike. A sample is ``time.perf_counter()`` around
OPS operations; the figure reported is the MEDIAN sample divided by OPS (``--stat best``: the
fastest sample, steadier on a busy machine; the JSON holds both and every sample), and ratios
divide those figures. The garbage collector stays on, as in an application, and is run before
each sample. The "spread" column, (max - min) / median, flags a noisy row. ``--profile`` then
runs each hermetic variant under cProfile and lists the hottest functions of src/hermetic.

Results are printed as a table and written to bench/results/latest.json (gitignored).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime
import gc
import json
import os
import platform
import pstats
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hermetic
from hermetic import create_engine, text
from hermetic.engine.url import URL, make_url

try:
    import sqlalchemy
except ImportError:  # pragma: no cover - a dev dependency; the table shows "-" without it
    sqlalchemy = None  # type: ignore[assignment]

try:
    import psycopg
except ImportError:  # pragma: no cover
    psycopg = None  # type: ignore[assignment]

try:
    import psycopg_pool  # type: ignore[import-not-found, unused-ignore]
except ImportError:
    psycopg_pool = None  # type: ignore[assignment, unused-ignore]

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "latest.json"
DEFAULT_PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"

SMALL_TABLE, SMALL_ROWS = "bench_t", 1_000
BIG_TABLE, BIG_ROWS = "bench_big", 100_000
SELECT_ONE = f"SELECT id, name, value FROM {SMALL_TABLE} WHERE id = :id"
SELECT_ALL = f"SELECT id, name, value FROM {BIG_TABLE}"
# The Core fetch and insert workloads: five columns of types the drivers return as is.
WIDE_TABLE = "bench_wide"
WIDE_COLUMNS = ("id", "name", "value", "qty", "note")
WIDE_DDL = {
    "sqlite": "(id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, value REAL NOT NULL, "
    "qty BIGINT NOT NULL, note TEXT)",
    "postgresql": "(id integer PRIMARY KEY, name varchar(40) NOT NULL, value double precision "
    "NOT NULL, qty bigint NOT NULL, note text)",
}
SELECT_WIDE = f"SELECT {', '.join(WIDE_COLUMNS)} FROM {WIDE_TABLE}"
INSERT_ROWS = 50_000
# The same statements in the DB-API modules' declared paramstyles.
RAW_SELECT_ONE = {
    "qmark": f"SELECT id, name, value FROM {SMALL_TABLE} WHERE id = ?",
    "pyformat": f"SELECT id, name, value FROM {SMALL_TABLE} WHERE id = %(id)s",
}

WORKLOADS = ("cycle", "select", "fetch", "core", "insert")
BACKENDS = ("sqlite", "postgresql")
HERMETIC, SQLALCHEMY, RAW = "hermetic", "sqlalchemy", "raw"
STATS: dict[str, Callable[[list[float]], float]] = {"median": statistics.median, "best": min}


@dataclass(frozen=True)
class Mode:
    rounds: int
    cycle_ops: int
    select_ops: int


FULL = Mode(rounds=7, cycle_ops=20_000, select_ops=10_000)
QUICK = Mode(rounds=3, cycle_ops=2_000, select_ops=500)


@dataclass(frozen=True)
class Target:
    """Pass criteria for hermetic: an absolute ceiling and/or ratio ceilings."""

    max_us: float | None = None
    max_vs_raw: float | None = None
    max_vs_sa: float | None = None

    def describe(self) -> str:
        parts = []
        if self.max_us is not None:
            parts.append(f"<={self.max_us:g}us")
        if self.max_vs_raw is not None:
            parts.append(f"h/raw<={self.max_vs_raw:g}x")
        if self.max_vs_sa is not None:
            parts.append(f"h/SA<={self.max_vs_sa:g}x")
        return ", ".join(parts)


@dataclass
class Variant:
    label: str  # what exactly ran, for the JSON
    run: Callable[[], None]  # one sample: OPS operations
    after: Callable[[], None] | None = None  # untimed, after each sample (e.g. rollback)


@dataclass
class Case:
    workload: str  # one of WORKLOADS
    name: str  # the row's title
    backend: str
    unit: str  # "us" or "ms"
    ops: int  # operations per sample
    target: Target
    variants: dict[str, Variant] = field(default_factory=dict)
    note: str = ""


@dataclass
class Outcome:
    case: Case
    samples: dict[str, list[float]]  # seconds per sample
    stat: str  # a key of STATS
    profile: str = ""  # --profile's report

    def per_op(self, variant: str, stat: Callable[[list[float]], float]) -> float | None:
        s = self.samples.get(variant)
        if not s:
            return None
        scale = 1e6 if self.case.unit == "us" else 1e3
        return stat(s) / self.case.ops * scale

    def figure(self, variant: str) -> float | None:
        """The headline figure per op: the median sample (or the best, with --stat best)."""
        return self.per_op(variant, STATS[self.stat])

    def ratio(self, a: str, b: str) -> float | None:
        x, y = self.figure(a), self.figure(b)
        return None if x is None or y is None else x / y

    def spread(self) -> float | None:
        """The widest (max - min) / median over this row's variants: the run's noise."""
        widths = [(max(s) - min(s)) / statistics.median(s) for s in self.samples.values() if s]
        return max(widths) if widths else None

    def verdict(self) -> str:
        t = self.case.target
        h = self.figure(HERMETIC)
        if h is None:
            return "n/a"
        checks: list[bool] = []
        if t.max_us is not None:
            checks.append(h <= t.max_us)
        for limit, other in ((t.max_vs_raw, RAW), (t.max_vs_sa, SQLALCHEMY)):
            r = self.ratio(HERMETIC, other)
            if limit is not None and r is not None:
                checks.append(r <= limit)
        if not checks:
            return "n/a"
        return "ok" if all(checks) else "MISS"

    def as_json(self) -> dict[str, Any]:
        c = self.case
        return {
            "workload": c.workload,
            "name": c.name,
            "backend": c.backend,
            "unit": f"{c.unit} per op",
            "ops_per_sample": c.ops,
            "variants": {k: v.label for k, v in c.variants.items()},
            "samples_s": self.samples,
            "median": {k: self.per_op(k, statistics.median) for k in self.samples},
            "best": {k: self.per_op(k, min) for k in self.samples},
            "ratios_of": self.stat,
            "ratios": {
                "hermetic/raw": self.ratio(HERMETIC, RAW),
                "hermetic/sqlalchemy": self.ratio(HERMETIC, SQLALCHEMY),
                "sqlalchemy/raw": self.ratio(SQLALCHEMY, RAW),
            },
            "spread": self.spread(),
            "target": c.target.describe(),
            "verdict": self.verdict(),
            "note": c.note,
        }


# ------------------------------------------------------------------------------------------
# measuring


def measure(case: Case, rounds: int, stat: str) -> Outcome:
    names = list(case.variants)
    for v in case.variants.values():  # warm-up: connections, caches, prepared statements
        v.run()
        if v.after is not None:
            v.after()
    samples: dict[str, list[float]] = {n: [] for n in names}
    perf = time.perf_counter
    for r in range(rounds):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            v = case.variants[n]
            gc.collect()
            start = perf()
            v.run()
            samples[n].append(perf() - start)
            if v.after is not None:
                v.after()
    return Outcome(case, samples, stat)


def profile(case: Case, top: int) -> str:
    """Run the hermetic variant under cProfile; the hottest src/hermetic functions."""
    v = case.variants[HERMETIC]
    prof = cProfile.Profile()
    prof.enable()
    v.run()
    prof.disable()
    if v.after is not None:
        v.after()
    stats = pstats.Stats(prof)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())
    pkg = os.sep + "hermetic" + os.sep
    ours = [(key, entry) for key, entry in raw.items() if pkg in key[0]]
    own = sum(entry[2] for _, entry in ours)
    ours.sort(key=lambda item: item[1][2], reverse=True)
    lines = [
        f"-- {case.name} [{case.backend}], hermetic: {case.ops:,} ops, {total:.3f}s profiled, "
        f"{own / total:.0%} of it in src/hermetic functions' own time (tottime, which "
        "includes C work they drive without a call, such as iterating a cursor)",
        f"   {'tottime':>8} {'cumtime':>8} {'calls':>9}  function",
    ]
    for (filename, line, func), (_cc, calls, tt, ct, _callers) in ours[:top]:
        where = filename.split(pkg, 1)[1]
        lines.append(f"   {tt:8.3f} {ct:8.3f} {calls:9,}  {where}:{line} {func}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# backends


@dataclass
class Backend:
    name: str
    url: str  # for both create_engine()s
    raw_connect: Callable[[], Any]
    raw_paramstyle: str
    raw_label: str
    pg_kwargs: dict[str, Any] | None = None  # psycopg connect kwargs (PostgreSQL only)
    version: str = ""


def _rows(n: int) -> Iterator[tuple[int, str, float]]:
    return ((i, f"name {i}", i * 1.5) for i in range(1, n + 1))


def _wide_rows(n: int) -> list[tuple[int, str, float, int, str | None]]:
    return [
        (i, f"name {i}", i * 1.5, i * 1_000_003, None if i % 5 == 0 else f"note {i % 977}")
        for i in range(1, n + 1)
    ]


def _wide_table(mod: Any, name: str) -> Any:
    """The five-column table as a hermetic or SQLAlchemy ``Table``."""
    return mod.Table(
        name,
        mod.MetaData(),
        mod.Column("id", mod.Integer, primary_key=True, autoincrement=False),
        mod.Column("name", mod.String(40), nullable=False),
        mod.Column("value", mod.Float, nullable=False),
        mod.Column("qty", mod.BigInteger, nullable=False),
        mod.Column("note", mod.Text),
    )


def sqlite_backend(directory: str) -> Backend:
    path = os.path.join(directory, "bench.db")
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")  # this setup connection only
    with con:
        for table, n in ((SMALL_TABLE, SMALL_ROWS), (BIG_TABLE, BIG_ROWS)):
            con.execute(
                f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "value REAL NOT NULL)"
            )
            con.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", _rows(n))
        con.execute(f"CREATE TABLE {WIDE_TABLE} {WIDE_DDL['sqlite']}")
        con.executemany(f"INSERT INTO {WIDE_TABLE} VALUES (?, ?, ?, ?, ?)", _wide_rows(BIG_ROWS))
    con.close()
    return Backend(
        name="sqlite",
        url=f"sqlite:///{path}",
        raw_connect=lambda: sqlite3.connect(path),
        raw_paramstyle=sqlite3.paramstyle,
        raw_label="sqlite3",
        version=f"SQLite {sqlite3.sqlite_version}",
    )


def pg_backend(url: URL) -> Backend | str:
    """A prepared PostgreSQL backend, or the reason it is unavailable."""
    if psycopg is None:
        return "psycopg is not installed"
    kwargs: dict[str, Any] = url.translate_connect_args(username="user", database="dbname")
    for key, value in url.query.items():
        kwargs[key] = value if isinstance(value, str) else value[-1]
    try:
        con = psycopg.connect(connect_timeout=3, **kwargs)
    except psycopg.Error as e:
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"
    with con:
        for table, n in ((SMALL_TABLE, SMALL_ROWS), (BIG_TABLE, BIG_ROWS)):
            exists = con.execute("SELECT to_regclass(%s)", (table,)).fetchone()
            if exists is not None and exists[0] is not None:
                shape = con.execute(
                    f"SELECT count(*), max(id), max(length(name)), max(value) FROM {table}"
                ).fetchone()
                if shape == (n, n, len(f"name {n}"), n * 1.5):
                    continue
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(
                f"CREATE TABLE {table} (id integer PRIMARY KEY, name text NOT NULL, "
                "value double precision NOT NULL)"
            )
            with con.cursor().copy(f"COPY {table} (id, name, value) FROM STDIN") as copy:
                for row in _rows(n):
                    copy.write_row(row)
            con.execute(f"ANALYZE {table}")
        exists = con.execute("SELECT to_regclass(%s)", (WIDE_TABLE,)).fetchone()
        shape = None
        if exists is not None and exists[0] is not None:
            shape = con.execute(
                f"SELECT count(*), max(id), max(qty), count(note) FROM {WIDE_TABLE}"
            ).fetchone()
        last = _wide_rows(BIG_ROWS)
        if shape != (BIG_ROWS, BIG_ROWS, last[-1][3], sum(r[4] is not None for r in last)):
            con.execute(f"DROP TABLE IF EXISTS {WIDE_TABLE}")
            con.execute(f"CREATE TABLE {WIDE_TABLE} {WIDE_DDL['postgresql']}")
            columns = ", ".join(WIDE_COLUMNS)
            with con.cursor().copy(f"COPY {WIDE_TABLE} ({columns}) FROM STDIN") as copy:
                for row in last:
                    copy.write_row(row)
            con.execute(f"ANALYZE {WIDE_TABLE}")
        server = con.info.server_version
    return Backend(
        name="postgresql",
        url=url.render_as_string(hide_password=False),
        raw_connect=lambda: psycopg.connect(**kwargs),
        raw_paramstyle=psycopg.paramstyle,
        raw_label=f"psycopg {psycopg.__version__}",
        pg_kwargs=kwargs,
        version=f"PostgreSQL {server // 10000}.{server % 10000}",
    )


# ------------------------------------------------------------------------------------------
# workloads: each yields Cases whose variants hold open resources registered on `stack`


def _pool_cycle(pool: Any, ops: int) -> Callable[[], None]:
    def run() -> None:
        connect = pool.connect
        for _ in range(ops):
            c = connect()
            c.close()

    return run


def _engine_cycle(engine: Any, ops: int) -> Callable[[], None]:
    def run() -> None:
        connect = engine.connect
        for _ in range(ops):
            with connect():
                pass

    return run


def cycle_cases(
    b: Backend, engines: dict[str, Any], mode: Mode, stack: contextlib.ExitStack
) -> Iterator[Case]:
    ops = mode.cycle_ops
    pool_case = Case(
        "cycle",
        "pool checkout+checkin",
        b.name,
        "us",
        ops,
        Target(max_us=3.0, max_vs_sa=1.0),
    )
    for lib, engine in engines.items():
        pool_case.variants[lib] = Variant(
            f"{lib}: c = engine.pool.connect(); c.close()", _pool_cycle(engine.pool, ops)
        )
    if b.pg_kwargs is not None and psycopg_pool is not None:
        pp = psycopg_pool.ConnectionPool(kwargs=b.pg_kwargs, min_size=1, max_size=5, open=True)
        stack.callback(pp.close)
        pp.wait()

        def run_pp() -> None:
            getconn, putconn = pp.getconn, pp.putconn
            for _ in range(ops):
                putconn(getconn())

        pool_case.variants[RAW] = Variant(
            f"psycopg_pool {psycopg_pool.__version__}: putconn(getconn())", run_pp
        )
    elif b.pg_kwargs is not None:
        pool_case.note = "psycopg_pool not installed: no raw pool"
    else:
        pool_case.note = "no raw pool for sqlite3"
    yield pool_case

    engine_case = Case(
        "cycle",
        "engine connect+close",
        b.name,
        "us",
        ops,
        Target(max_vs_sa=1.0),
        note="with engine.connect(): pass",
    )
    for lib, engine in engines.items():
        engine_case.variants[lib] = Variant(
            f"{lib}: with engine.connect(): pass", _engine_cycle(engine, ops)
        )
    yield engine_case


def select_cases(
    b: Backend, engines: dict[str, Any], mode: Mode, stack: contextlib.ExitStack
) -> Iterator[Case]:
    ops = mode.select_ops
    ids = [i % SMALL_ROWS + 1 for i in range(ops)]
    params = [{"id": i} for i in ids]
    case = Case(
        "select",
        "one-row text() select",
        b.name,
        "us",
        ops,
        Target(max_vs_raw=1.5 if b.name == "postgresql" else 3.0),
        note="text() built inside the loop, as written by users",
    )
    for lib, engine in engines.items():
        conn = stack.enter_context(engine.connect())
        make_text = text if lib == HERMETIC else sqlalchemy.text

        def run(conn: Any = conn, make_text: Any = make_text) -> None:
            execute = conn.execute
            for p in params:
                row = execute(make_text(SELECT_ONE), p).fetchone()
            assert row is not None and row[0] == ids[-1]

        case.variants[lib] = Variant(
            f"{lib}: conn.execute(text(sql), {{'id': i}}).fetchone()", run, conn.rollback
        )

    raw = b.raw_connect()
    stack.callback(raw.close)
    cur = raw.cursor()
    sql = RAW_SELECT_ONE[b.raw_paramstyle]
    raw_params: list[Any] = [(i,) for i in ids] if b.raw_paramstyle == "qmark" else params

    def run_raw() -> None:
        execute, fetchone = cur.execute, cur.fetchone
        for p in raw_params:
            execute(sql, p)
            row = fetchone()
        assert row is not None and row[0] == ids[-1]

    case.variants[RAW] = Variant(
        f"{b.raw_label} ({b.raw_paramstyle}): cur.execute(sql, params); cur.fetchone()",
        run_raw,
        raw.rollback,
    )
    yield case


def fetch_cases(
    b: Backend, engines: dict[str, Any], mode: Mode, stack: contextlib.ExitStack
) -> Iterator[Case]:
    case = Case(
        "fetch", f"{BIG_ROWS // 1000}k-row text() .all()", b.name, "ms", 1, Target(max_vs_raw=1.2)
    )
    for lib, engine in engines.items():
        conn = stack.enter_context(engine.connect())
        stmt = (text if lib == HERMETIC else sqlalchemy.text)(SELECT_ALL)

        def run(conn: Any = conn, stmt: Any = stmt) -> None:
            rows = conn.execute(stmt).all()
            assert len(rows) == BIG_ROWS

        case.variants[lib] = Variant(f"{lib}: conn.execute(text(sql)).all()", run, conn.rollback)

    raw = b.raw_connect()
    stack.callback(raw.close)
    cur = raw.cursor()

    def run_raw() -> None:
        cur.execute(SELECT_ALL)
        rows = cur.fetchall()
        assert len(rows) == BIG_ROWS

    case.variants[RAW] = Variant(
        f"{b.raw_label}: cur.execute(sql); cur.fetchall()", run_raw, raw.rollback
    )
    yield case

    core = Case(
        "fetch",
        f"{BIG_ROWS // 1000}k-row select(t) .all()",
        b.name,
        "ms",
        1,
        Target(max_vs_raw=1.2),
        note=f"{len(WIDE_COLUMNS)} columns: integer, varchar(40), float, bigint, nullable text",
    )
    for lib, engine in engines.items():
        mod: Any = hermetic if lib == HERMETIC else sqlalchemy
        wide = _wide_table(mod, WIDE_TABLE)
        conn = stack.enter_context(engine.connect())
        select_wide = mod.select(wide)

        def run_core(conn: Any = conn, stmt: Any = select_wide) -> None:
            rows = conn.execute(stmt).all()
            assert len(rows) == BIG_ROWS

        core.variants[lib] = Variant(
            f"{lib}: conn.execute(select(table)).all()", run_core, conn.rollback
        )

    def run_raw_wide() -> None:
        cur.execute(SELECT_WIDE)
        rows = cur.fetchall()
        assert len(rows) == BIG_ROWS

    core.variants[RAW] = Variant(
        f"{b.raw_label}: cur.execute(sql); cur.fetchall()", run_raw_wide, raw.rollback
    )
    yield core


def core_cases(
    b: Backend, engines: dict[str, Any], mode: Mode, stack: contextlib.ExitStack
) -> Iterator[Case]:
    """The Core's cached-execute path: ``select(t).where(t.c.id == i)`` rebuilt each time,
    so every execution keys the statement and reuses the compiled form."""
    ops = mode.select_ops
    ids = [i % SMALL_ROWS + 1 for i in range(ops)]
    case = Case(
        "core",
        "select(t).where(id == i)",
        b.name,
        "us",
        ops,
        Target(max_vs_raw=1.5 if b.name == "postgresql" else 3.0),
        note="Core statement built inside the loop (the compile-cache hit path)",
    )
    for lib, engine in engines.items():
        mod: Any = hermetic if lib == HERMETIC else sqlalchemy
        t = mod.Table(
            SMALL_TABLE,
            mod.MetaData(),
            mod.Column("id", mod.Integer, primary_key=True),
            mod.Column("name", mod.String),
            mod.Column("value", mod.Float),
        )
        conn = stack.enter_context(engine.connect())

        def run(conn: Any = conn, t: Any = t, select: Any = mod.select) -> None:
            execute = conn.execute
            c_id = t.c.id
            for i in ids:
                row = execute(select(t).where(c_id == i)).fetchone()
            assert row is not None and row[0] == ids[-1]

        case.variants[lib] = Variant(f"{lib}: select(t).where(t.c.id == i)", run, conn.rollback)

    raw = b.raw_connect()
    stack.callback(raw.close)
    cur = raw.cursor()
    sql = RAW_SELECT_ONE[b.raw_paramstyle]
    raw_params: list[Any] = (
        [(i,) for i in ids] if b.raw_paramstyle == "qmark" else [{"id": i} for i in ids]
    )

    def run_raw() -> None:
        execute, fetchone = cur.execute, cur.fetchone
        for p in raw_params:
            execute(sql, p)
            row = fetchone()
        assert row is not None and row[0] == ids[-1]

    case.variants[RAW] = Variant(f"{b.raw_label}: cur.execute(sql, params)", run_raw, raw.rollback)
    yield case


def insert_cases(
    b: Backend, engines: dict[str, Any], mode: Mode, stack: contextlib.ExitStack
) -> Iterator[Case]:
    """50,000 rows inserted with executemany into a fresh table (a unique name: other
    processes may share the PostgreSQL database), rolled back after every sample."""
    table = f"bench_ins_{uuid.uuid4().hex[:8]}"
    raw = b.raw_connect()
    stack.callback(raw.close)
    raw.execute(f"CREATE TABLE {table} {WIDE_DDL[b.name]}")
    raw.commit()

    def drop() -> None:
        raw.rollback()
        raw.execute(f"DROP TABLE IF EXISTS {table}")
        raw.commit()

    stack.callback(drop)
    tuples = _wide_rows(INSERT_ROWS)
    dicts = [dict(zip(WIDE_COLUMNS, row, strict=True)) for row in tuples]
    case = Case(
        "insert",
        f"{INSERT_ROWS // 1000}k-row executemany insert",
        b.name,
        "ms",
        1,
        Target(max_vs_raw=1.2),
        note="conn.execute(insert(t), [dict, ...]) vs cur.executemany(sql, [tuple, ...])",
    )
    for lib, engine in engines.items():
        mod: Any = hermetic if lib == HERMETIC else sqlalchemy
        stmt = mod.insert(_wide_table(mod, table))
        conn = stack.enter_context(engine.connect())

        def run(conn: Any = conn, stmt: Any = stmt) -> None:
            result = conn.execute(stmt, dicts)
            assert result.rowcount in (INSERT_ROWS, -1)

        case.variants[lib] = Variant(f"{lib}: conn.execute(insert(t), dicts)", run, conn.rollback)

    mark = "?" if b.raw_paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table} ({', '.join(WIDE_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(WIDE_COLUMNS))})"
    )
    cur = raw.cursor()

    def run_raw() -> None:
        cur.executemany(sql, tuples)

    case.variants[RAW] = Variant(
        f"{b.raw_label}: cur.executemany(sql, tuples)", run_raw, raw.rollback
    )
    yield case


BUILDERS: dict[
    str, Callable[[Backend, dict[str, Any], Mode, contextlib.ExitStack], Iterator[Case]]
] = {
    "cycle": cycle_cases,
    "select": select_cases,
    "fetch": fetch_cases,
    "core": core_cases,
    "insert": insert_cases,
}


# ------------------------------------------------------------------------------------------
# reporting


def _fmt_time(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.2f} {'µs' if unit == 'us' else 'ms'}"


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def table(outcomes: list[Outcome]) -> str:
    header = (
        f"{'workload':<28} {'backend':<10} {'hermetic':>10} {'SQLAlchemy':>10} {'raw':>10}"
        f" {'h/raw':>6} {'h/SA':>6} {'SA/raw':>6} {'spread':>6}  {'target':<22} verdict"
    )
    lines = [header, "-" * len(header)]
    for o in outcomes:
        c = o.case
        lines.append(
            f"{c.name:<28} {c.backend:<10} {_fmt_time(o.figure(HERMETIC), c.unit):>10}"
            f" {_fmt_time(o.figure(SQLALCHEMY), c.unit):>10}"
            f" {_fmt_time(o.figure(RAW), c.unit):>10}"
            f" {_fmt_ratio(o.ratio(HERMETIC, RAW)):>6}"
            f" {_fmt_ratio(o.ratio(HERMETIC, SQLALCHEMY)):>6}"
            f" {_fmt_ratio(o.ratio(SQLALCHEMY, RAW)):>6}"
            f" {_fmt_pct(o.spread()):>6}"
            f"  {c.target.describe():<22} {o.verdict()}"
        )
    return "\n".join(lines)


def loop_ns() -> float:
    """Machine speed: ns per iteration of an empty ``for`` loop (best of 5), so absolute
    microseconds from different hosts can be compared (~10-20 ns on a current desktop)."""
    best = float("inf")
    n = 1_000_000
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            pass
        best = min(best, time.perf_counter() - start)
    return best / n * 1e9


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(HERE.parent), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


# ------------------------------------------------------------------------------------------
# main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="hermetic vs SQLAlchemy vs the raw driver (see the module docstring)."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer iterations (3 rounds, short loops): a CI smoke run",
    )
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
        default=os.environ.get("HERMETIC_BENCH_PG_URL", DEFAULT_PG_URL),
        help=f"PostgreSQL URL; the driver is psycopg (default {DEFAULT_PG_URL})",
    )
    parser.add_argument(
        "--stat",
        choices=sorted(STATS),
        default="median",
        help="the figure per variant: the median sample (default) or the best one",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, profile each hermetic variant with cProfile",
    )
    parser.add_argument("--top", type=int, default=12, help="functions per profile (default 12)")
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS,
        help=f"where to write the JSON (default {RESULTS.relative_to(HERE.parent)})",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for chunk in args.only for n in chunk.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS and n not in BACKENDS]
    if unknown:
        parser.error(f"unknown --only name(s) {unknown}; choose from {WORKLOADS + BACKENDS}")
    args.workloads = [w for w in WORKLOADS if w in names] or list(WORKLOADS)
    args.backends = [b for b in BACKENDS if b in names] or list(BACKENDS)
    return args


def finish(
    args: argparse.Namespace,
    argv: list[str] | None,
    outcomes: list[Any],
    started: float,
    *,
    method: str,
    libs: dict[str, str | None],
    backends: dict[str, str],
    results: list[dict[str, Any]],
    footer: list[str],
    speed: float | None = None,
    extra: dict[str, Any] | None = None,
) -> int:
    """What every bench script ends with: the cases' notes and ``footer`` lines, the
    profiles (``--profile``), and the JSON report at ``args.json``."""
    notes = dict.fromkeys(
        f"{o.case.name}: {o.case.note}" for o in outcomes if getattr(o.case, "note", None)
    )
    for line in [*notes, *footer]:
        print(f"  * {line}")
    elapsed = time.perf_counter() - started
    if getattr(args, "profile", False):
        print("\ncProfile, hermetic variants (tottime = own time; profiling inflates it):")
        for o in outcomes:
            print(o.profile)
    report: dict[str, Any] = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "argv": sys.argv[1:] if argv is None else argv,
        "mode": "quick" if getattr(args, "quick", False) else "full",
        "method": method,
        **(extra or {}),
        "elapsed_s": round(elapsed, 1),
        "git": {
            "commit": _git("rev-parse", "HEAD"),
            "src_dirty": bool(_git("status", "--porcelain", "--", "src")),
        },
        "versions": {
            "hermetic": hermetic.__version__,
            **libs,
            "python": platform.python_version(),
            **backends,
        },
        "platform": {
            "machine": platform.machine(),
            "system": platform.system(),
            "cpus": os.cpu_count(),
            **({"empty_loop_ns": round(speed, 2)} if speed is not None else {}),
        },
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{len(outcomes)} measurements in {elapsed:.1f}s; JSON: {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = QUICK if args.quick else FULL
    started = time.perf_counter()

    pg_url = make_url(args.pg_url)
    if pg_url.get_backend_name() != "postgresql":
        print(f"--pg-url must be a postgresql URL, got {args.pg_url!r}", file=sys.stderr)
        return 2
    pg_url = pg_url.set(drivername="postgresql+psycopg")

    print(
        f"hermetic {hermetic.__version__} | SQLAlchemy "
        f"{sqlalchemy.__version__ if sqlalchemy else '(not installed)'} | psycopg "
        f"{psycopg.__version__ if psycopg else '(not installed)'} | psycopg_pool "
        f"{psycopg_pool.__version__ if psycopg_pool else '(not installed)'} | "
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs"
    )
    speed = loop_ns()
    print(
        f"{'quick' if args.quick else 'full'} mode: {args.stat} of {mode.rounds} samples after 1 "
        f"warm-up, variants interleaved (rotated order), GC on (collected before each sample); "
        f"cycle {mode.cycle_ops:,} ops/sample, select/core {mode.select_ops:,}, fetch "
        f"{BIG_ROWS:,} rows, insert {INSERT_ROWS:,} rows; machine: empty for-loop "
        f"{speed:.1f} ns/iteration"
    )

    outcomes: list[Outcome] = []
    versions: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="hermetic-bench-") as tmp:
        backends: list[Backend] = []
        if "sqlite" in args.backends:
            backends.append(sqlite_backend(tmp))
        if "postgresql" in args.backends:
            pg = pg_backend(pg_url)
            if isinstance(pg, str):
                print(
                    f"note: PostgreSQL at {pg_url.render_as_string()} unreachable ({pg}); "
                    "running the SQLite parts only"
                )
            else:
                backends.append(pg)
        for b in backends:
            versions[b.name] = b.version
            with contextlib.ExitStack() as engines_stack:
                engines: dict[str, Any] = {HERMETIC: create_engine(b.url)}
                engines_stack.callback(engines[HERMETIC].dispose)
                if sqlalchemy is not None:
                    engines[SQLALCHEMY] = sqlalchemy.create_engine(b.url)
                    engines_stack.callback(engines[SQLALCHEMY].dispose)
                for workload in args.workloads:
                    with contextlib.ExitStack() as stack:
                        for case in BUILDERS[workload](b, engines, mode, stack):
                            outcome = measure(case, mode.rounds, args.stat)
                            outcomes.append(outcome)
                            if args.profile:
                                outcome.profile = profile(case, args.top)

    print()
    print(table(outcomes))
    return finish(
        args,
        argv,
        outcomes,
        started,
        method=f"{args.stat} of {mode.rounds} interleaved samples after 1 warm-up; GC on",
        libs={
            "sqlalchemy": sqlalchemy.__version__ if sqlalchemy else None,
            "psycopg": psycopg.__version__ if psycopg else None,
            "psycopg_pool": psycopg_pool.__version__ if psycopg_pool else None,
        },
        backends=versions,
        results=[o.as_json() for o in outcomes],
        footer=[
            f"times are the {args.stat} sample per op, and ratios divide them; spread = the "
            "widest (max - min) / median of the row's variants",
            f"raw = the DB-API driver ({', '.join(f'{k}: {v}' for k, v in versions.items())})",
        ],
        speed=speed,
    )


if __name__ == "__main__":
    sys.exit(main())
