"""Relationship loading: hermetic vs SQLAlchemy vs peewee vs the raw driver, one run, ratios.

Run: ``.venv/bin/python bench/relationships.py [--quick] [--only sqlite|postgresql]
[--parents N] [--children N] [--pg-url URL] [--stat median|best] [--profile] [--no-gc]``

The workload: 1,000 parents with 10 children each (``--parents`` / ``--children``); one
sample loads every parent in a fresh Session, then reads ``child.value`` of every child of
every parent (their sum is checked). The model, the same in each ORM (and as DDL)::

    parent  id integer primary key, name varchar(40) not null
    child   id integer primary key, parent_id integer not null references parent (indexed),
            name varchar(40) not null, value integer not null

with ``Parent.children`` (one-to-many) and ``Child.parent`` (many-to-one) on each other's
``back_populates`` (peewee: ``ForeignKeyField(Parent, backref="children")``). Children
are inserted interleaved (child i belongs to parent i mod N), as rows written over time.

Variants (one Case per backend, all interleaved in the same rounds):

``raw``                   the hand-written two queries: ``SELECT id, name FROM parent``, then
                          ``SELECT ... FROM child WHERE parent_id IN (?, ?, ...)`` (one marker
                          per parent), rows grouped by parent_id into a dict of lists.
``raw_n1``                the hand-written N+1: the parents, then one
                          ``SELECT ... WHERE parent_id = ?`` per parent.
``hermetic_selectin``     ``session.scalars(select(Parent).options(selectinload(
                          Parent.children))).all()`` in ``Session(engine)`` (the default
                          N+1 detection on).
``hermetic_joined``       ``... .options(joinedload(Parent.children))).unique().all()``.
``hermetic_peers``        the N+1 code unchanged (``select(Parent)``, then ``p.children``) in
                          ``Session(engine, fetch_peers=True)``: the first lazy load loads
                          the children of every parent of the result in one ``SELECT ... IN``.
``hermetic_lazy``         the N+1 code in ``Session(engine, n_plus_one="off")`` (so the
                          N+1 warning costs nothing): one SELECT per parent.
``sqlalchemy_selectin``   / ``sqlalchemy_joined`` / ``sqlalchemy_lazy``: the same three in
                          SQLAlchemy 2 (its selectinload sends the keys in batches of 500).
``peewee_prefetch``       ``prefetch(Parent.select(), Child.select())`` (children by a
                          subquery ``WHERE parent_id IN (SELECT id FROM parent)``).
``peewee_lazy``           ``for p in Parent.select(): for c in p.children: ...`` (the backref
                          is a query, run once per parent).

Ratios: ``x raw`` divides by the two-query raw variant, ``x raw N+1`` by the raw N+1.
Targets (from the issue): selectin and joined at most 2.5x raw; the peer-loading mode, on
N+1 code, within 3x of the hand-written selectin query (raw).

Backends: a SQLite file (sqlite3) in a temporary directory, and PostgreSQL through psycopg
3 (``--pg-url``, default ``postgresql+psycopg://root@127.0.0.1:5432/test``); tables get
unique names (other processes share the database) and are dropped at the end.

Method: bench/run.py's (one warm-up, then rotated interleaved rounds, the median sample,
ratios within one run; GC on and collected before each sample; ``--no-gc`` keeps the
collector off during samples, to see its share). Results are printed as a table and
written to bench/results/relationships-latest.json.
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hermetic
import hermetic.orm
import run  # bench/run.py: the measuring, profiling and formatting helpers
from hermetic.engine.url import URL, make_url
from run import HERMETIC, RAW, STATS, Backend, Case, Outcome, Target, Variant, measure

try:
    import sqlalchemy
    import sqlalchemy.orm
except ImportError:  # pragma: no cover - a dev dependency; the table shows "-" without it
    sqlalchemy = None  # type: ignore[assignment]

try:
    import peewee
except ImportError:  # pragma: no cover
    peewee = None  # type: ignore[assignment]

try:
    import psycopg
except ImportError:  # pragma: no cover
    psycopg = None  # type: ignore[assignment]

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "relationships-latest.json"
BACKENDS = ("sqlite", "postgresql")
RAW_N1 = "raw_n1"
DDL = {
    "sqlite": (
        "(id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)",
        "(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES {parent} (id), "
        "name VARCHAR(40) NOT NULL, value INTEGER NOT NULL)",
    ),
    "postgresql": (
        "(id integer PRIMARY KEY, name varchar(40) NOT NULL)",
        "(id integer PRIMARY KEY, parent_id integer NOT NULL REFERENCES {parent} (id), "
        "name varchar(40) NOT NULL, value integer NOT NULL)",
    ),
}

# variant key -> (row title, the raw variant it is compared with, target vs that raw)
VARIANTS: dict[str, tuple[str, str, float | None]] = {
    RAW: ("raw: 2 queries (IN)", RAW, None),
    RAW_N1: ("raw: N+1 queries", RAW_N1, None),
    "hermetic_selectin": ("hermetic selectinload", RAW, 2.5),
    "hermetic_joined": ("hermetic joinedload", RAW, 2.5),
    "hermetic_peers": ("hermetic fetch_peers (N+1 code)", RAW, 3.0),
    "hermetic_lazy": ("hermetic lazy (N+1)", RAW_N1, None),
    "sqlalchemy_selectin": ("SQLAlchemy selectinload", RAW, None),
    "sqlalchemy_joined": ("SQLAlchemy joinedload", RAW, None),
    "sqlalchemy_lazy": ("SQLAlchemy lazy (N+1)", RAW_N1, None),
    "peewee_prefetch": ("peewee prefetch", RAW, None),
    "peewee_lazy": ("peewee lazy (N+1)", RAW_N1, None),
}


@dataclass(frozen=True)
class Shape:
    parents: int
    children: int  # per parent

    @property
    def total(self) -> int:
        return self.parents * self.children

    def child_rows(self) -> list[tuple[int, int, str, int]]:
        """(id, parent_id, name, value): child i belongs to parent i mod N (interleaved)."""
        return [
            (i, (i - 1) % self.parents + 1, f"child {i}", i % 97) for i in range(1, self.total + 1)
        ]

    def checksum(self) -> int:
        return sum(i % 97 for i in range(1, self.total + 1))


# ------------------------------------------------------------------------------------------
# models: one pair per ORM


def hermetic_models(parent_table: str, child_table: str) -> tuple[Any, Any]:
    from hermetic.orm import DeclarativeBase, mapped_column, relationship

    class Base(DeclarativeBase):
        pass

    class Parent(Base):  # no annotations: the two libraries' Mapped would clash here
        __tablename__ = parent_table
        id = mapped_column(hermetic.Integer, primary_key=True)
        name = mapped_column(hermetic.String(40), nullable=False)
        children = relationship("Child", back_populates="parent")

    class Child(Base):
        __tablename__ = child_table
        id = mapped_column(hermetic.Integer, primary_key=True)
        parent_id = mapped_column(
            hermetic.Integer, hermetic.ForeignKey(f"{parent_table}.id"), nullable=False
        )
        name = mapped_column(hermetic.String(40), nullable=False)
        value = mapped_column(hermetic.Integer, nullable=False)
        parent = relationship("Parent", back_populates="children")

    return Parent, Child


def sqlalchemy_models(parent_table: str, child_table: str) -> tuple[Any, Any]:
    from sqlalchemy.orm import DeclarativeBase, mapped_column, relationship

    class Base(DeclarativeBase):
        pass

    class Parent(Base):  # no annotations: the two libraries' Mapped would clash here
        __tablename__ = parent_table
        id = mapped_column(sqlalchemy.Integer, primary_key=True)
        name = mapped_column(sqlalchemy.String(40), nullable=False)
        children = relationship("Child", back_populates="parent")

    class Child(Base):
        __tablename__ = child_table
        id = mapped_column(sqlalchemy.Integer, primary_key=True)
        parent_id = mapped_column(
            sqlalchemy.Integer, sqlalchemy.ForeignKey(f"{parent_table}.id"), nullable=False
        )
        name = mapped_column(sqlalchemy.String(40), nullable=False)
        value = mapped_column(sqlalchemy.Integer, nullable=False)
        parent = relationship("Parent", back_populates="children")

    return Parent, Child


def peewee_models(parent_table: str, child_table: str, db: Any) -> tuple[Any, Any]:
    class Parent(peewee.Model):
        id = peewee.AutoField()
        name = peewee.CharField(max_length=40)

        class Meta:
            database = db
            table_name = parent_table

    class Child(peewee.Model):
        id = peewee.AutoField()
        parent = peewee.ForeignKeyField(Parent, backref="children", column_name="parent_id")
        name = peewee.CharField(max_length=40)
        value = peewee.IntegerField()

        class Meta:
            database = db
            table_name = child_table

    return Parent, Child


# ------------------------------------------------------------------------------------------
# backends


@dataclass
class Setup:
    backend: Backend
    parent_table: str
    child_table: str
    engines: dict[str, Any]  # hermetic / sqlalchemy -> engine, peewee -> Database


def _tables() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return f"rel_parent_{suffix}", f"rel_child_{suffix}"


def _create(con: Any, dialect: str, parent: str, child: str) -> None:
    parent_ddl, child_ddl = DDL[dialect]
    con.execute(f"CREATE TABLE {parent} {parent_ddl}")
    con.execute(f"CREATE TABLE {child} {child_ddl.format(parent=parent)}")
    con.execute(f"CREATE INDEX ix_{child}_parent_id ON {child} (parent_id)")


def sqlite_setup(directory: str, shape: Shape, stack: contextlib.ExitStack) -> Setup:
    path = os.path.join(directory, "relationships.db")
    parent, child = _tables()
    con = sqlite3.connect(path)
    with con:
        _create(con, "sqlite", parent, child)
        con.executemany(
            f"INSERT INTO {parent} VALUES (?, ?)",
            ((i, f"parent {i}") for i in range(1, shape.parents + 1)),
        )
        con.executemany(f"INSERT INTO {child} VALUES (?, ?, ?, ?)", shape.child_rows())
    con.execute("ANALYZE")
    con.close()
    b = Backend(
        name="sqlite",
        url=f"sqlite:///{path}",
        raw_connect=lambda: sqlite3.connect(path),
        raw_paramstyle=sqlite3.paramstyle,
        raw_label="sqlite3",
        version=f"SQLite {sqlite3.sqlite_version}",
    )
    db = peewee.SqliteDatabase(path) if peewee is not None else None
    return _setup(b, parent, child, db, stack)


def pg_setup(url: URL, shape: Shape, stack: contextlib.ExitStack) -> Setup | str:
    """A prepared PostgreSQL setup, or the reason it is unavailable."""
    if psycopg is None:
        return "psycopg is not installed"
    kwargs: dict[str, Any] = url.translate_connect_args(username="user", database="dbname")
    for key, value in url.query.items():
        kwargs[key] = value if isinstance(value, str) else value[-1]
    try:
        con = psycopg.connect(connect_timeout=3, **kwargs)
    except psycopg.Error as e:
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"
    parent, child = _tables()

    def drop() -> None:
        with psycopg.connect(**kwargs) as c:
            c.execute(f"DROP TABLE IF EXISTS {child}, {parent}")

    stack.callback(drop)  # runs after the engines are disposed (registered first)
    with con:
        _create(con, "postgresql", parent, child)
        with con.cursor().copy(f"COPY {parent} (id, name) FROM STDIN") as copy:
            for i in range(1, shape.parents + 1):
                copy.write_row((i, f"parent {i}"))
        with con.cursor().copy(f"COPY {child} (id, parent_id, name, value) FROM STDIN") as copy:
            for row in shape.child_rows():
                copy.write_row(row)
        con.execute(f"ANALYZE {parent}")
        con.execute(f"ANALYZE {child}")
        server = con.info.server_version
    con.close()
    b = Backend(
        name="postgresql",
        url=url.render_as_string(hide_password=False),
        raw_connect=lambda: psycopg.connect(**kwargs),
        raw_paramstyle=psycopg.paramstyle,
        raw_label=f"psycopg {psycopg.__version__}",
        pg_kwargs=kwargs,
        version=f"PostgreSQL {server // 10000}.{server % 10000}",
    )
    db = None
    if peewee is not None:
        db = peewee.PostgresqlDatabase(
            kwargs.get("dbname"),
            user=kwargs.get("user"),
            password=kwargs.get("password"),
            host=kwargs.get("host"),
            port=kwargs.get("port"),
            prefer_psycopg3=True,
        )
    return _setup(b, parent, child, db, stack)


def _setup(b: Backend, parent: str, child: str, db: Any, stack: contextlib.ExitStack) -> Setup:
    engines: dict[str, Any] = {HERMETIC: hermetic.create_engine(b.url)}
    stack.callback(engines[HERMETIC].dispose)
    if sqlalchemy is not None:
        engines["sqlalchemy"] = sqlalchemy.create_engine(b.url)
        stack.callback(engines["sqlalchemy"].dispose)
    if db is not None:
        engines["peewee"] = db
        stack.callback(db.close)
    return Setup(b, parent, child, engines)


# ------------------------------------------------------------------------------------------
# the variants


def _touch(parents: Any) -> int:
    """Read every child's ``value`` of every parent (the N+1 code when lazy)."""
    total = 0
    for p in parents:
        for c in p.children:
            total += c.value
    return total


def _orm_variants(s: Setup, lib: str, expect: int) -> dict[str, Variant]:
    """The selectin / joined / lazy (and for hermetic, fetch_peers) variants of one ORM."""
    mod: Any = hermetic if lib == HERMETIC else sqlalchemy
    orm: Any = hermetic.orm if lib == HERMETIC else sqlalchemy.orm
    models = hermetic_models if lib == HERMETIC else sqlalchemy_models
    parent, _child = models(s.parent_table, s.child_table)
    engine, session_cls, select = s.engines[lib], orm.Session, mod.select
    by_selectin = select(parent).options(orm.selectinload(parent.children))
    by_join = select(parent).options(orm.joinedload(parent.children))
    plain = select(parent)

    def run_selectin() -> None:
        with session_cls(engine) as session:
            parents = session.scalars(by_selectin).all()
            assert _touch(parents) == expect

    def run_joined() -> None:
        with session_cls(engine) as session:
            parents = session.scalars(by_join).unique().all()
            assert _touch(parents) == expect

    lazy_kw: dict[str, Any] = {"n_plus_one": "off"} if lib == HERMETIC else {}

    def run_lazy() -> None:
        with session_cls(engine, **lazy_kw) as session:
            parents = session.scalars(plain).all()
            assert _touch(parents) == expect

    out = {
        f"{lib}_selectin": Variant(
            f"{lib}: session.scalars(select(Parent).options(selectinload(Parent.children)))"
            ".all(); every child.value read",
            run_selectin,
        ),
        f"{lib}_joined": Variant(
            f"{lib}: session.scalars(select(Parent).options(joinedload(Parent.children)))"
            ".unique().all(); every child.value read",
            run_joined,
        ),
        f"{lib}_lazy": Variant(
            f"{lib}: Session(engine{', n_plus_one=off' if lazy_kw else ''}); "
            "session.scalars(select(Parent)).all(); p.children lazy-loaded per parent",
            run_lazy,
        ),
    }
    if lib == HERMETIC:

        def run_peers() -> None:
            with session_cls(engine, fetch_peers=True) as session:
                parents = session.scalars(plain).all()
                assert _touch(parents) == expect

        out[f"{lib}_peers"] = Variant(
            "hermetic: Session(engine, fetch_peers=True); session.scalars(select(Parent))"
            ".all(); p.children (the first access loads every parent's children)",
            run_peers,
        )
    return out


def _peewee_variants(s: Setup, expect: int) -> dict[str, Variant]:
    db = s.engines["peewee"]
    parent, child = peewee_models(s.parent_table, s.child_table, db)

    def run_prefetch() -> None:
        parents = peewee.prefetch(parent.select(), child.select())
        assert _touch(parents) == expect

    def run_lazy() -> None:
        assert _touch(parent.select()) == expect

    return {
        "peewee_prefetch": Variant(
            "peewee: prefetch(Parent.select(), Child.select()); every child.value read",
            run_prefetch,
        ),
        "peewee_lazy": Variant(
            "peewee: for p in Parent.select(): for c in p.children (a query per parent)",
            run_lazy,
        ),
    }


def _raw_variants(s: Setup, expect: int, stack: contextlib.ExitStack) -> dict[str, Variant]:
    b = s.backend
    raw = b.raw_connect()
    stack.callback(raw.close)
    cur = raw.cursor()
    mark = "?" if b.raw_paramstyle == "qmark" else "%s"
    parents_sql = f"SELECT id, name FROM {s.parent_table}"
    children_sql = f"SELECT id, parent_id, name, value FROM {s.child_table} WHERE parent_id "

    def run_two() -> None:
        cur.execute(parents_sql)
        parents = cur.fetchall()
        ids = [p[0] for p in parents]
        cur.execute(f"{children_sql}IN ({', '.join([mark] * len(ids))})", ids)
        by_parent: dict[int, list[Any]] = {}
        for row in cur.fetchall():
            found = by_parent.get(row[1])
            if found is None:
                by_parent[row[1]] = [row]
            else:
                found.append(row)
        total = 0
        for p in parents:
            for c in by_parent.get(p[0], ()):
                total += c[3]
        assert total == expect

    one_sql = f"{children_sql}= {mark}"

    def run_n1() -> None:
        execute, fetchall = cur.execute, cur.fetchall
        execute(parents_sql)
        total = 0
        for p in fetchall():
            execute(one_sql, (p[0],))
            for c in fetchall():
                total += c[3]
        assert total == expect

    return {
        RAW: Variant(
            f"{b.raw_label}: parents, then children WHERE parent_id IN (one marker per "
            "parent), grouped in a dict",
            run_two,
            raw.rollback,
        ),
        RAW_N1: Variant(
            f"{b.raw_label}: parents, then one SELECT ... WHERE parent_id = {mark} per parent",
            run_n1,
            raw.rollback,
        ),
    }


def build_case(s: Setup, shape: Shape, stack: contextlib.ExitStack) -> Case:
    expect = shape.checksum()
    variants: dict[str, Variant] = {}
    variants.update(_raw_variants(s, expect, stack))
    variants.update(_orm_variants(s, HERMETIC, expect))
    if "sqlalchemy" in s.engines:
        variants.update(_orm_variants(s, "sqlalchemy", expect))
    if "peewee" in s.engines:
        variants.update(_peewee_variants(s, expect))
    order = [k for k in VARIANTS if k in variants]
    return Case(
        "relationships",
        f"{shape.parents:,} parents x {shape.children} children",
        s.backend.name,
        "ms",
        1,
        Target(),
        {k: variants[k] for k in order},
        note="a fresh Session per sample; every child's value read",
    )


# ------------------------------------------------------------------------------------------
# reporting


def _verdict(o: Outcome, key: str) -> tuple[str, str]:
    _title, base, limit = VARIANTS[key]
    if limit is None:
        return "", ""
    r = o.ratio(key, base)
    if r is None:
        return f"<={limit:g}x raw", "n/a"
    return f"<={limit:g}x raw", "ok" if r <= limit else "MISS"


def table(o: Outcome) -> str:
    fmt_t, fmt_r, fmt_p = run._fmt_time, run._fmt_ratio, run._fmt_pct
    c = o.case
    header = (
        f"{'variant':<34} {'time':>10} {'x raw':>7} {'x raw N+1':>9} {'spread':>6}"
        f"  {'target':<10} verdict"
    )
    lines = [f"[{c.backend}] {c.name}", header, "-" * len(header)]
    for key in c.variants:
        s = o.samples.get(key)
        spread = (max(s) - min(s)) / statistics.median(s) if s else None
        target, verdict = _verdict(o, key)
        lines.append(
            f"{VARIANTS[key][0]:<34} {fmt_t(o.figure(key), c.unit):>10}"
            f" {fmt_r(o.ratio(key, RAW)):>7} {fmt_r(o.ratio(key, RAW_N1)):>9}"
            f" {fmt_p(spread):>6}  {target:<10} {verdict}"
        )
    return "\n".join(lines)


def _json(o: Outcome) -> dict[str, Any]:
    out = o.as_json()
    out["ratios"] = {
        key: {"x_raw": o.ratio(key, RAW), "x_raw_n1": o.ratio(key, RAW_N1)}
        for key in o.case.variants
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


def _profile(case: Case, top: int) -> str:
    """run.profile() of each hermetic variant (it profiles the variant keyed ``hermetic``)."""
    reports = []
    for key, v in case.variants.items():
        if key.startswith(HERMETIC):
            one = Case(
                case.workload,
                f"{case.name}: {key}",
                case.backend,
                case.unit,
                case.ops,
                case.target,
                {HERMETIC: v},
            )
            reports.append(run.profile(one, top))
    return "\n".join(reports)


# ------------------------------------------------------------------------------------------
# main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Relationship loading: hermetic vs SQLAlchemy vs peewee vs the raw driver "
        "(see the module docstring)."
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="BACKEND",
        help="sqlite and/or postgresql (comma-separated or repeated)",
    )
    parser.add_argument("--parents", type=int, default=1_000, help="parents (default 1,000)")
    parser.add_argument("--children", type=int, default=10, help="children per parent (10)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("HERMETIC_BENCH_PG_URL", run.DEFAULT_PG_URL),
        help=f"PostgreSQL URL; the driver is psycopg (default {run.DEFAULT_PG_URL})",
    )
    parser.add_argument("--stat", choices=sorted(STATS), default="median")
    parser.add_argument(
        "--profile", action="store_true", help="afterwards, profile each hermetic variant"
    )
    parser.add_argument("--top", type=int, default=15, help="functions per profile (default 15)")
    parser.add_argument(
        "--no-gc", action="store_true", help="garbage collector off during the samples"
    )
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
    shape = Shape(args.parents, args.children)
    started = time.perf_counter()
    pg_url = make_url(args.pg_url)
    if pg_url.get_backend_name() != "postgresql":
        print(f"--pg-url must be a postgresql URL, got {args.pg_url!r}", file=sys.stderr)
        return 2
    pg_url = pg_url.set(drivername="postgresql+psycopg")
    print(
        f"hermetic {hermetic.__version__} | SQLAlchemy "
        f"{sqlalchemy.__version__ if sqlalchemy else '(not installed)'} | peewee "
        f"{getattr(peewee, '__version__', '?') if peewee else '(not installed)'} | psycopg "
        f"{psycopg.__version__ if psycopg else '(not installed)'} | "
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs"
    )
    speed = run.loop_ns()
    print(
        f"{shape.parents:,} parents x {shape.children} children; {args.stat} of {rounds} samples "
        f"after 1 warm-up, variants interleaved (rotated order), GC "
        f"{'OFF during samples' if args.no_gc else 'on (collected before each sample)'}; "
        f"machine: empty for-loop {speed:.1f} ns/iteration"
    )
    outcomes: list[Outcome] = []
    versions: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="hermetic-rel-bench-") as tmp:
        for backend in args.backends:
            with contextlib.ExitStack() as stack:
                if backend == "sqlite":
                    setup: Setup | str = sqlite_setup(tmp, shape, stack)
                else:
                    setup = pg_setup(pg_url, shape, stack)
                if isinstance(setup, str):
                    print(f"note: PostgreSQL at {pg_url.render_as_string()} unreachable ({setup})")
                    continue
                versions[backend] = setup.backend.version
                case = build_case(setup, shape, stack)
                if args.no_gc:
                    gc.disable()
                try:
                    outcome = measure(case, rounds, args.stat)
                finally:
                    gc.enable()
                outcomes.append(outcome)
                if args.profile:
                    outcome.profile = _profile(case, args.top)
    for o in outcomes:
        print()
        print(table(o))
    return run.finish(
        args,
        argv,
        outcomes,
        started,
        method=f"{args.stat} of {rounds} interleaved samples after 1 warm-up; GC "
        f"{'off' if args.no_gc else 'on'}",
        libs={
            "sqlalchemy": sqlalchemy.__version__ if sqlalchemy else None,
            "peewee": getattr(peewee, "__version__", "?") if peewee else None,
            "psycopg": psycopg.__version__ if psycopg else None,
        },
        backends=versions,
        results=[_json(o) for o in outcomes],
        footer=[
            f"times are the {args.stat} sample; x raw divides by the hand-written two queries, "
            "x raw N+1 by the hand-written N+1; spread = (max - min) / median of the variant",
            f"raw = the DB-API driver ({', '.join(f'{k}: {v}' for k, v in versions.items())})",
        ],
        speed=speed,
        extra={"shape": {"parents": shape.parents, "children_per_parent": shape.children}},
    )


if __name__ == "__main__":
    sys.exit(main())
