"""Reflection: hermetic vs SQLAlchemy, ``MetaData().reflect(engine)`` of a 200-table schema.

Run: ``.venv/bin/python bench/reflect.py [--quick] [--only sqlite|postgresql] [--tables N]
[--pg-url URL] [--stat median|best] [--profile]``

The schema, created by raw DDL through the DB-API driver (the same on both databases):
N tables (200 by default), each with an integer primary key, eight more columns (varchar
with a length, numeric with precision and scale, text with a default, boolean, a
timestamp, a float, a nullable integer and a foreign key to an earlier table), a named
foreign key (ON DELETE CASCADE; every fourth DEFERRABLE INITIALLY DEFERRED), a named
unique constraint, a named check constraint, an index and a partial index.

One sample is ``metadata = MetaData(); metadata.reflect(engine[, schema=...])`` on an
engine whose pool is warm, in the same process for both libraries: everything each
library does to read the catalog and build the Table objects. ``tables`` in the output is
checked equal for both (names, column names, foreign keys and indexes per table).

Backends: a SQLite file (sqlite3) in a temporary directory, and PostgreSQL through
psycopg 3 in a schema of its own (``r_bench_<uuid>``, dropped at the end: other processes
share the database). Method: bench/run.py's (one warm-up, then rotated interleaved rounds,
the median sample, ratios within one run, GC collected before each sample). Results are
printed as a table and written to bench/results/reflect-latest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hermetic
import run  # bench/run.py: the measuring, profiling and formatting helpers
from hermetic.engine.url import make_url
from run import HERMETIC, SQLALCHEMY, STATS, Case, Outcome, Target, Variant

try:
    import sqlalchemy
except ImportError:  # pragma: no cover - a dev dependency; the table shows "-" without it
    sqlalchemy = None  # type: ignore[assignment]

try:
    import psycopg
except ImportError:  # pragma: no cover
    psycopg = None  # type: ignore[assignment]

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "reflect-latest.json"
BACKENDS = ("sqlite", "postgresql")
TARGET = Target(max_vs_sa=0.5)


def schema_ddl(n: int, dialect: str) -> list[str]:
    """CREATE statements for the n-table schema."""
    ts = "DATETIME" if dialect == "sqlite" else "TIMESTAMP"
    dbl = "REAL" if dialect == "sqlite" else "DOUBLE PRECISION"
    out: list[str] = []
    for k in range(n):
        ref = f"t{k - 1:03d}" if k else f"t{k:03d}"
        deferred = " DEFERRABLE INITIALLY DEFERRED" if k % 4 == 0 else ""
        out.append(
            f"CREATE TABLE t{k:03d} (\n"
            "  id INTEGER PRIMARY KEY,\n"
            "  name VARCHAR(80) NOT NULL,\n"
            "  price NUMERIC(10, 2) NOT NULL,\n"
            "  status TEXT DEFAULT 'new',\n"
            "  active BOOLEAN,\n"
            f"  created_at {ts},\n"
            f"  score {dbl},\n"
            "  qty INTEGER,\n"
            "  parent_id INTEGER,\n"
            f"  CONSTRAINT fk_t{k:03d}_parent FOREIGN KEY (parent_id) REFERENCES {ref} (id)"
            f" ON DELETE CASCADE{deferred},\n"
            f"  CONSTRAINT uq_t{k:03d}_name UNIQUE (name, qty),\n"
            f"  CONSTRAINT ck_t{k:03d}_price CHECK (price >= 0)\n"
            ")"
        )
        out.append(f"CREATE INDEX ix_t{k:03d}_created ON t{k:03d} (created_at)")
        out.append(
            f"CREATE INDEX ix_t{k:03d}_open ON t{k:03d} (parent_id, qty) WHERE status <> 'done'"
        )
    return out


def summary(metadata: Any) -> dict[str, Any]:
    """What both libraries' reflected MetaData must agree on."""
    out: dict[str, Any] = {}
    for key, t in metadata.tables.items():
        out[key.rsplit(".", 1)[-1]] = (
            [c.name for c in t.columns],
            sorted(
                (fk.parent.name, fk.target_fullname.rsplit(".", 2)[-2]) for fk in t.foreign_keys
            ),
            sorted(ix.name for ix in t.indexes),
        )
    return out


def _reflect(mod: Any, engine: Any, schema: str | None) -> Callable[[], None]:
    def sample() -> None:
        metadata = mod.MetaData()
        metadata.reflect(engine, schema=schema)

    return sample


@contextlib.contextmanager
def sqlite_schema(n: int) -> Iterator[tuple[str, str | None, str]]:
    with tempfile.TemporaryDirectory(prefix="hermetic-bench-reflect-") as tmp:
        path = os.path.join(tmp, "reflect.db")
        con = sqlite3.connect(path)
        with con:
            for sql in schema_ddl(n, "sqlite"):
                con.execute(sql)
        con.close()
        yield f"sqlite:///{path}", None, f"SQLite {sqlite3.sqlite_version}"


@contextlib.contextmanager
def pg_schema(url: str, n: int) -> Iterator[tuple[str, str | None, str]]:
    if psycopg is None:
        raise RuntimeError("psycopg is not installed")
    u = make_url(url)
    kwargs: dict[str, Any] = u.translate_connect_args(username="user", database="dbname")
    schema = f"r_bench_{uuid.uuid4().hex[:12]}"
    con = psycopg.connect(connect_timeout=3, autocommit=True, **kwargs)
    try:
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(f"SET search_path = {schema}")
        with con.transaction():
            for sql in schema_ddl(n, "postgresql"):
                con.execute(sql)
        con.execute(f"ANALYZE {schema}.t000")
        server = con.info.server_version
        yield (
            u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
            schema,
            f"PostgreSQL {server // 10000}.{server % 10000}",
        )
    finally:
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Reflection: hermetic vs SQLAlchemy.")
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="BACKEND",
        help="sqlite and/or postgresql (comma-separated or repeated)",
    )
    parser.add_argument("--tables", type=int, default=200, help="tables in the schema")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("HERMETIC_BENCH_PG_URL", run.DEFAULT_PG_URL),
        help=f"PostgreSQL URL; the driver is psycopg (default {run.DEFAULT_PG_URL})",
    )
    parser.add_argument("--stat", choices=sorted(STATS), default="median")
    parser.add_argument("--profile", action="store_true", help="cProfile the hermetic variant")
    parser.add_argument("--top", type=int, default=15, help="functions per profile")
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    names = [n.strip() for chunk in args.only for n in chunk.split(",") if n.strip()]
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        parser.error(f"unknown --only name(s) {unknown}; choose from {BACKENDS}")
    args.backends = [b for b in BACKENDS if b in names] or list(BACKENDS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rounds = 3 if args.quick else 7
    started = time.perf_counter()
    print(
        f"hermetic {hermetic.__version__} | SQLAlchemy "
        f"{sqlalchemy.__version__ if sqlalchemy else '(not installed)'} | Python "
        f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print(
        f"MetaData().reflect() of a {args.tables}-table schema; {args.stat} of {rounds} "
        "samples after 1 warm-up, variants interleaved, GC collected before each sample"
    )
    outcomes: list[Outcome] = []
    versions: dict[str, str] = {}
    for backend in args.backends:
        if backend == "sqlite":
            source = sqlite_schema(args.tables)
        else:
            source = pg_schema(args.pg_url, args.tables)
        try:
            with contextlib.ExitStack() as stack:
                url, schema, version = stack.enter_context(source)
                versions[backend] = version
                engines = {HERMETIC: hermetic.create_engine(url)}
                stack.callback(engines[HERMETIC].dispose)
                if sqlalchemy is not None:
                    engines[SQLALCHEMY] = sqlalchemy.create_engine(url)
                    stack.callback(engines[SQLALCHEMY].dispose)
                mods = {HERMETIC: hermetic, SQLALCHEMY: sqlalchemy}
                reflected = {}
                for name, engine in engines.items():
                    md = mods[name].MetaData()
                    md.reflect(engine, schema=schema)
                    reflected[name] = summary(md)
                assert len(reflected[HERMETIC]) == args.tables, len(reflected[HERMETIC])
                if SQLALCHEMY in reflected:
                    assert reflected[HERMETIC] == reflected[SQLALCHEMY], "the libraries disagree"
                case = Case(
                    workload="reflect",
                    name=f"reflect {args.tables} tables",
                    backend=backend,
                    unit="ms",
                    ops=1,
                    target=TARGET,
                    variants={
                        name: Variant(
                            f"{mods[name].__name__}: MetaData().reflect(engine, schema={schema!r})",
                            _reflect(mods[name], engine, schema),
                        )
                        for name, engine in engines.items()
                    },
                    note="each sample builds every Table (columns, keys, indexes, constraints)",
                )
                outcome = run.measure(case, rounds, args.stat)
                if args.profile:
                    outcome.profile = run.profile(case, args.top)
                outcomes.append(outcome)
        except Exception as e:
            if backend != "postgresql" or "connect" not in type(e).__name__.lower() + str(e):
                raise
            print(f"note: PostgreSQL unreachable ({str(e).strip().splitlines()[0]}); skipped")

    print()
    print(run.table(outcomes))
    return run.finish(
        args,
        argv,
        outcomes,
        started,
        method=f"{args.stat} of {rounds} interleaved samples after 1 warm-up; GC on",
        libs={"sqlalchemy": sqlalchemy.__version__ if sqlalchemy else None},
        backends=versions,
        results=[o.as_json() for o in outcomes],
        footer=[
            f"{args.stat} sample per op; ratios divide them; spread = (max - min) / median",
            f"backends: {', '.join(f'{k}: {v}' for k, v in versions.items())}",
        ],
        extra={"tables": args.tables},
    )


if __name__ == "__main__":
    sys.exit(main())
