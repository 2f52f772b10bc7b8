"""Reflection: ``inspect(engine)``, ``Table(..., autoload_with=)``, ``MetaData.reflect()``.

On real SQLite files and real PostgreSQL (each test in its own schema ``r_<uuid>``,
dropped afterwards, since other processes share the database): a schema with every
construct the Inspector reports is created by raw DDL, reflected and checked field by
field; then the reflected MetaData is created in an empty database with ``create_all``
and the copy is reflected and compared with the original, field by field. The SQLite
DDL parser and the type-name maps are also tested on their own, without a database.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import PG_URL, SQLLog, pg_url, require_pg
from hermetic import (
    MetaData,
    Table,
    create_engine,
    exc,
    insert,
    inspect,
    make_url,
    select,
    text,
)
from hermetic.dialects.postgresql import types as pgt
from hermetic.dialects.postgresql.reflection import resolve_type as pg_type
from hermetic.dialects.sqlite.reflection import (
    parse_create_index,
    parse_create_table,
    tokenize,
)
from hermetic.dialects.sqlite.reflection import resolve_type as sqlite_type
from hermetic.engine import Engine
from hermetic.engine.reflection import Inspector, ObjectKind, ObjectScope
from hermetic.schema import Column
from hermetic.sql import sqltypes as st
from hermetic.sql.elements import TextClause

# -- helpers -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Reflected structures with types and text() made comparable."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, st.TypeEngine):
        extra = f" schema={value.schema!r}" if isinstance(value, st.Enum) else ""
        return repr(value) + extra
    if isinstance(value, TextClause):
        return f"text({value.text})"
    return value


def snapshot(insp: Inspector, schema: str | None = None) -> dict[str, Any]:
    """Everything the Inspector says about a schema's tables and views."""
    out: dict[str, Any] = {"views": insp.get_view_names(schema)}
    for name in insp.get_table_names(schema) + insp.get_view_names(schema):
        out[name] = _plain(
            {
                "columns": insp.get_columns(name, schema),
                "pk": insp.get_pk_constraint(name, schema),
                "fks": insp.get_foreign_keys(name, schema),
                "indexes": insp.get_indexes(name, schema),
                "unique": insp.get_unique_constraints(name, schema),
                "check": insp.get_check_constraints(name, schema),
                "comment": insp.get_table_comment(name, schema),
                "options": insp.get_table_options(name, schema),
            }
        )
    return out


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items}


# -- SQLite --------------------------------------------------------------------------------

SQLITE_DDL = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    name NVARCHAR(100) COLLATE NOCASE,
    region TEXT,
    code INTEGER,
    CONSTRAINT uq_region_code UNIQUE (region, code)
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER NOT NULL,
    region TEXT,
    code INTEGER,
    parent_id INTEGER REFERENCES orders ON DELETE SET NULL,
    amount DECIMAL(10, 2) NOT NULL,
    status VARCHAR(20) DEFAULT 'pending',
    note TEXT, -- a comment, with (parentheses) and, commas
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT
        "fk customer"
        FOREIGN KEY (customer_id) REFERENCES customers (id)
        ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (region, code) REFERENCES customers (region, code) ON UPDATE CASCADE,
    CONSTRAINT [ck amount] CHECK (amount >= 0 AND status NOT IN ('a,b', 'c)')),
    /* an unnamed check */ CHECK (length(status) < 21)
);
CREATE INDEX ix_orders_active ON orders (customer_id, created_at)
    WHERE status IN ('pending', 'processing');
CREATE UNIQUE INDEX ix_orders_note ON orders (lower(note), id DESC);
CREATE TABLE kv (k TEXT NOT NULL, v BLOB NOT NULL, PRIMARY KEY (k, v)) WITHOUT ROWID;
CREATE TABLE odd (
    a "UNSIGNED BIG INT", b CHARACTER(20), c VARYING CHARACTER(255), d DOUBLE PRECISION,
    e NATIVE CHARACTER(70), f INT2, g INT8, h BOOLEAN, i REAL, j FLOAT, k NUMERIC, l MEDIUMINT,
    m CLOB, n DATE, o BIGINT, p TIMESTAMP, q JSON, r DOUBLE, s VARCHAR, t NUMERIC(5),
    u INT, v TIME, w STRANGE_TEXTUAL(12), x FLOATING, y SOMETHING
);
CREATE TABLE untyped (a, b PRIMARY KEY);
CREATE VIEW v_orders AS SELECT id, amount FROM orders;
"""
TABLES = ["customers", "kv", "odd", "orders", "untyped"]

ODD_TYPES = {
    "a": "BIGINT()",
    "b": "CHAR(length=20)",
    "c": "VARCHAR(length=255)",
    "d": "DOUBLE_PRECISION()",
    "e": "NCHAR(length=70)",
    "f": "SMALLINT()",
    "g": "BIGINT()",
    "h": "BOOLEAN()",
    "i": "REAL()",
    "j": "FLOAT()",
    "k": "NUMERIC()",
    "l": "INTEGER()",
    "m": "CLOB()",
    "n": "DATE()",
    "o": "BIGINT()",
    "p": "TIMESTAMP()",
    "q": "JSON()",
    "r": "DOUBLE()",
    "s": "VARCHAR()",
    "t": "NUMERIC(precision=5)",
    "u": "INTEGER()",
    "v": "TIME()",
    "w": "TEXT(length=12)",  # SQLite's affinity rules: CHAR/CLOB/TEXT -> text
    "x": "REAL()",  # FLOA -> real
    "y": "NUMERIC()",  # anything else -> numeric
}


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as con:
        con.executescript(SQLITE_DDL)
    con.close()
    engine = create_engine(f"sqlite:///{path}")
    yield engine
    assert engine.pool.checkedout() == 0, engine.pool.holders()
    engine.dispose()


def test_sqlite_names(sqlite_db: Engine) -> None:
    insp = inspect(sqlite_db)
    assert isinstance(insp, Inspector)
    assert insp.get_table_names() == TABLES
    assert insp.get_view_names() == ["v_orders"]
    assert insp.get_schema_names() == ["main"]
    assert insp.default_schema_name == "main"
    assert insp.get_sequence_names() == []
    assert insp.has_table("orders") and insp.has_table("v_orders")
    assert not insp.has_table("nope")
    assert insp.get_view_definition("v_orders").startswith("CREATE VIEW v_orders")
    assert inspect(insp) is insp


def test_sqlite_columns(sqlite_db: Engine) -> None:
    insp = inspect(sqlite_db)
    cols = by_name(insp.get_columns("orders"))
    assert list(cols) == [
        "id",
        "customer_id",
        "region",
        "code",
        "parent_id",
        "amount",
        "status",
        "note",
        "created_at",
    ]
    assert isinstance(cols["id"]["type"], st.INTEGER)
    assert cols["id"]["autoincrement"] is True  # INTEGER PRIMARY KEY: the rowid
    assert cols["customer_id"]["autoincrement"] is False
    assert cols["customer_id"]["nullable"] is False
    amount = cols["amount"]["type"]
    assert isinstance(amount, st.DECIMAL) and (amount.precision, amount.scale) == (10, 2)
    status = cols["status"]["type"]
    assert isinstance(status, st.VARCHAR) and status.length == 20
    assert cols["status"]["default"] == "'pending'"
    assert cols["status"]["nullable"] is True
    assert cols["created_at"]["default"] == "CURRENT_TIMESTAMP"
    assert isinstance(cols["created_at"]["type"], st.DATETIME)
    assert all(c["comment"] is None for c in cols.values())

    name = by_name(insp.get_columns("customers"))["name"]["type"]
    assert isinstance(name, st.NVARCHAR) and (name.length, name.collation) == (100, "NOCASE")
    odd = {c["name"]: repr(c["type"]) for c in insp.get_columns("odd")}
    assert odd == ODD_TYPES
    kv = by_name(insp.get_columns("kv"))
    assert kv["k"]["autoincrement"] is False  # no rowid in a WITHOUT ROWID table
    untyped = by_name(insp.get_columns("untyped"))
    assert isinstance(untyped["a"]["type"], st.NullType)
    assert untyped["b"]["autoincrement"] is False  # only INTEGER PRIMARY KEY is the rowid


def test_sqlite_keys_and_constraints(sqlite_db: Engine) -> None:
    insp = inspect(sqlite_db)
    assert insp.get_pk_constraint("orders") == {"constrained_columns": ["id"], "name": None}
    assert insp.get_pk_constraint("kv")["constrained_columns"] == ["k", "v"]
    assert insp.get_pk_constraint("odd")["constrained_columns"] == []

    fks = insp.get_foreign_keys("orders")
    assert fks == [
        {
            "name": None,
            "constrained_columns": ["parent_id"],
            "referred_schema": None,
            "referred_table": "orders",
            "referred_columns": ["id"],  # REFERENCES orders: its primary key
            "options": {"ondelete": "SET NULL"},
        },
        {
            "name": "fk customer",  # CONSTRAINT and its name on other lines
            "constrained_columns": ["customer_id"],
            "referred_schema": None,
            "referred_table": "customers",
            "referred_columns": ["id"],
            "options": {"ondelete": "CASCADE", "deferrable": True, "initially": "DEFERRED"},
        },
        {
            "name": None,
            "constrained_columns": ["region", "code"],
            "referred_schema": None,
            "referred_table": "customers",
            "referred_columns": ["region", "code"],
            "options": {"onupdate": "CASCADE"},
        },
    ]
    assert insp.get_check_constraints("orders") == [
        {"name": "ck amount", "sqltext": "amount >= 0 AND status NOT IN ('a,b', 'c)')"},
        {"name": None, "sqltext": "length(status) < 21"},
    ]
    assert insp.get_unique_constraints("customers") == [
        {"name": None, "column_names": ["email"]},
        {"name": "uq_region_code", "column_names": ["region", "code"]},
    ]
    assert insp.get_table_options("kv") == {"sqlite_with_rowid": False}
    assert insp.get_table_options("orders") == {}
    assert insp.get_table_comment("orders") == {"text": None}


def test_sqlite_indexes(sqlite_db: Engine) -> None:
    insp = inspect(sqlite_db)
    active, note = insp.get_indexes("orders")
    assert active["name"] == "ix_orders_active"
    assert active["column_names"] == ["customer_id", "created_at"]
    assert active["unique"] is False
    where = active["dialect_options"]["sqlite_where"]
    assert " ".join(str(where).split()) == "status IN ('pending', 'processing')"
    assert note == {
        "name": "ix_orders_note",
        "column_names": [None, "id"],
        "expressions": ["lower(note)", "id"],
        "unique": True,
        "column_sorting": {"id": ("desc",)},
    }
    assert insp.has_index("orders", "ix_orders_note")
    assert insp.get_indexes("customers") == []  # the UNIQUE constraints' own indexes


def test_sqlite_multi_and_sorted(sqlite_db: Engine) -> None:
    insp = inspect(sqlite_db)
    multi = insp.get_multi_foreign_keys()
    assert list(multi) == [(None, name) for name in TABLES]
    assert multi[(None, "orders")] == insp.get_foreign_keys("orders")
    cols = insp.get_multi_columns(filter_names=["kv"])
    assert list(cols) == [(None, "kv")]
    views = insp.get_multi_columns(kind=ObjectKind.VIEW)
    assert list(views) == [(None, "v_orders")]
    assert insp.get_multi_pk_constraint(filter_names=["nope"]) == {}
    assert list(insp.get_multi_indexes(scope=ObjectScope.TEMPORARY)) == []
    assert insp.get_sorted_table_and_fkc_names() == [
        ("customers", []),
        ("kv", []),
        ("odd", []),
        ("untyped", []),
        ("orders", [("orders", None), ("orders", "fk customer")]),
        (None, []),
    ]


def test_sqlite_missing_table(sqlite_db: Engine) -> None:
    insp = inspect(sqlite_db)
    for method in (insp.get_columns, insp.get_indexes, insp.get_foreign_keys):
        with pytest.raises(exc.NoSuchTableError) as info:
            method("nope")
        assert str(info.value) == "nope"
    metadata = MetaData()
    with pytest.raises(exc.NoSuchTableError):
        Table("nope", metadata, autoload_with=sqlite_db)
    assert "nope" not in metadata.tables


def test_sqlite_inspector_caches_until_cleared(sqlite_db: Engine) -> None:
    insp = inspect(sqlite_db)
    log = SQLLog(sqlite_db)
    insp.get_columns("orders")
    insp.get_columns("orders")
    assert insp.get_table_names() == insp.get_table_names()
    first = log.count()
    assert first > 0
    with sqlite_db.begin() as conn:
        conn.execute(text("CREATE TABLE later (x INTEGER)"))
    log.clear()
    assert "later" not in insp.get_table_names()  # cached
    assert log.count() == 0
    insp.clear_cache()
    assert "later" in insp.get_table_names()
    log.remove()


def test_sqlite_inspect_connection(sqlite_db: Engine) -> None:
    with sqlite_db.connect() as conn:
        conn.execute(text("CREATE TABLE pending_t (x VARCHAR(3) PRIMARY KEY)"))
        insp = inspect(conn)
        assert insp.bind is conn
        assert "pending_t" in insp.get_table_names()
        t = Table("pending_t", MetaData(), autoload_with=conn)
        assert [c.name for c in t.columns] == ["x"]
        conn.rollback()


def test_sqlite_reflect_metadata(sqlite_db: Engine) -> None:
    metadata = MetaData()
    metadata.reflect(sqlite_db)
    assert sorted(metadata.tables) == TABLES
    orders = metadata.tables["orders"]
    customers = metadata.tables["customers"]
    assert [c.name for c in orders.primary_key.columns] == ["id"]
    fkcs = sorted(orders.foreign_key_constraints, key=lambda c: c.name or "")
    assert [c.name for c in fkcs] == [None, None, "fk customer"]
    named = fkcs[2]
    assert named.referred_table is customers
    assert (named.deferrable, named.initially, named.ondelete) == (True, "DEFERRED", "CASCADE")
    assert orders.c.parent_id.references(orders.c.id)
    assert {ix.name for ix in orders.indexes} == {"ix_orders_active", "ix_orders_note"}
    assert metadata.tables["kv"].dialect_options["sqlite"]["with_rowid"] is False

    with_views = MetaData()
    with_views.reflect(sqlite_db, views=True, only=["v_orders", "kv"])
    assert sorted(with_views.tables) == ["kv", "v_orders"]
    assert [c.name for c in with_views.tables["v_orders"].columns] == ["id", "amount"]

    picked = MetaData()
    picked.reflect(sqlite_db, only=lambda name, md: name.startswith("o"), resolve_fks=False)
    assert sorted(picked.tables) == ["odd", "orders"]

    with pytest.raises(exc.InvalidRequestError, match=r"not available .*\(nope\)"):
        MetaData().reflect(sqlite_db, only=["orders", "nope"])


def test_sqlite_reflected_table_is_usable(sqlite_db: Engine) -> None:
    metadata = MetaData()
    customers = Table("customers", metadata, autoload_with=sqlite_db)
    orders = metadata.tables.get("orders") or Table("orders", metadata, autoload_with=sqlite_db)
    with sqlite_db.begin() as conn:
        conn.execute(insert(customers).values(id=1, email="a@x", region="eu", code=1))
        conn.execute(insert(orders).values(customer_id=1, amount=9.5, region="eu", code=1))
        row = conn.execute(select(orders.c.id, orders.c.status, orders.c.amount)).one()
    assert row.id == 1 and row.status == "pending"
    assert str(row.amount) == "9.50"


def test_sqlite_autoload_options(sqlite_db: Engine) -> None:
    metadata = MetaData()
    orders = Table(
        "orders",
        metadata,
        Column("note", st.Unicode(50)),  # replaces the reflected column
        Column("extra", st.Integer),  # not in the database: added
        autoload_with=sqlite_db,
    )
    assert [c.name for c in orders.columns][-2:] == ["created_at", "extra"]
    assert isinstance(orders.c.note.type, st.Unicode) and orders.c.note.type.length == 50
    assert "customers" in metadata.tables  # its foreign keys' targets come along
    assert Table("orders", metadata, autoload_with=sqlite_db) is orders

    narrow = Table("orders", MetaData(), autoload_with=sqlite_db, include_columns=["id", "note"])
    assert [c.name for c in narrow.columns] == ["id", "note"]
    assert not narrow.foreign_keys and narrow.indexes == set()

    alone = MetaData()
    Table("orders", alone, autoload_with=sqlite_db, resolve_fks=False)
    assert list(alone.tables) == ["orders"]


def test_sqlite_extend_existing(sqlite_db: Engine) -> None:
    metadata = MetaData()
    kv = Table("kv", metadata, Column("k", st.String(9), primary_key=True))
    # autoload_replace=False keeps the columns already declared, adds the others
    Table("kv", metadata, autoload_with=sqlite_db, extend_existing=True, autoload_replace=False)
    assert [c.name for c in kv.columns] == ["k", "v"]
    assert isinstance(kv.c.k.type, st.String) and kv.c.k.type.length == 9
    assert isinstance(kv.c.v.type, st.BLOB)
    with sqlite_db.begin() as conn:
        conn.execute(text("ALTER TABLE odd ADD COLUMN z TEXT"))
    odd = Table("odd", metadata, autoload_with=sqlite_db)
    assert odd.c.z.name == "z"
    metadata.reflect(sqlite_db, only=["odd"])  # already there: left alone
    assert Table("odd", metadata, autoload_with=sqlite_db, extend_existing=True) is odd


def test_sqlite_missing_referred_table(tmp_path: Path) -> None:
    path = tmp_path / "fk.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES gone (id))")
    con.close()
    engine = create_engine(f"sqlite:///{path}")
    metadata = MetaData()
    with pytest.raises(exc.NoSuchTableError, match=r"^gone: no such table.*'child'.*resolve_fks"):
        metadata.reflect(engine)
    assert "child" not in metadata.tables
    metadata.reflect(engine, resolve_fks=False)
    (fk,) = metadata.tables["child"].foreign_keys
    assert fk.target_fullname == "gone.id"
    engine.dispose()


def test_sqlite_round_trip(sqlite_db: Engine, tmp_path: Path) -> None:
    """Reflect, create_all into an empty database, reflect the copy: the same."""
    metadata = MetaData()
    # an untyped column has no DDL of its own (as in SQLAlchemy): leave that table out
    metadata.reflect(sqlite_db, only=lambda name, _: name != "untyped")
    copy = create_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    metadata.create_all(copy)
    original, copied = snapshot(inspect(sqlite_db)), snapshot(inspect(copy))
    for name in ("v_orders", "views", "untyped"):  # views are not tables
        original.pop(name)
    copied.pop("views")
    assert copied == original
    # and what create_all wrote still says what the seed DDL said
    with sqlite3.connect(tmp_path / "copy.db") as con:
        kv_sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'kv'").fetchone()[0]
    con.close()
    assert kv_sql.endswith("WITHOUT ROWID")
    copy.dispose()


# -- the SQLite DDL parser, no database ------------------------------------------------------


def test_tokenize_skips_comments_and_keeps_quoting() -> None:
    toks = tokenize('a /* x, y */ "b ""c""" -- z\n [d e] `f` \'g\'\'h\' 1.5e3')
    assert [t.name for t in toks] == ["a", 'b "c"', "d e", "f", "g'h", "1.5e3"]


def test_parse_create_table() -> None:
    info = parse_create_table(
        """CREATE TEMP TABLE IF NOT EXISTS "t" (
            "a b" INTEGER CONSTRAINT pk_t PRIMARY KEY DESC ON CONFLICT ABORT AUTOINCREMENT,
            c TEXT CONSTRAINT
                uq_c UNIQUE COLLATE nocase DEFAULT (lower('X,)')) CHECK (c <> ''),
            d INT GENERATED ALWAYS AS (length(c)) STORED,
            e REFERENCES other MATCH FULL NOT DEFERRABLE,
            CONSTRAINT fk_two FOREIGN KEY (c, d) REFERENCES "other" ("x", y)
                ON DELETE SET DEFAULT ON UPDATE NO ACTION DEFERRABLE INITIALLY IMMEDIATE,
            UNIQUE (d COLLATE binary, e)
        ) STRICT, WITHOUT ROWID;"""
    )
    assert info.pk_name == "pk_t"
    assert info.columns["a b"].autoincrement
    assert info.columns["c"].collation == "nocase"
    assert info.columns["d"].generated == ("length(c)", True)
    assert info.unique == [("uq_c", ["c"]), (None, ["d", "e"])]
    assert info.check == [(None, "c <> ''")]
    e, two = info.foreign_keys
    assert (e.name, e.columns, e.referred_table, e.referred_columns) == (None, ["e"], "other", [])
    assert (e.match, e.deferrable) == ("FULL", False)
    assert (two.name, two.columns, two.referred_columns) == ("fk_two", ["c", "d"], ["x", "y"])
    assert (two.ondelete, two.onupdate) == ("SET DEFAULT", "NO ACTION")
    assert (two.deferrable, two.initially) == (True, "IMMEDIATE")
    assert info.without_rowid and info.strict

    assert parse_create_table("CREATE TABLE t AS SELECT 1 AS x").columns == {}


def test_parse_create_index() -> None:
    ix = parse_create_index(
        "CREATE UNIQUE INDEX IF NOT EXISTS s.ix ON t ((a + b) DESC, lower(c) COLLATE nocase, "
        "d ASC)\n WHERE (d > 0) AND c <> 'x;y' ;"
    )
    assert ix.expressions == ["a + b", "lower(c)", "d"]
    assert ix.where == "(d > 0) AND c <> 'x;y'"
    assert parse_create_index("CREATE INDEX ix ON t (a)").where is None


def test_ddl_for_reflected_constructs() -> None:
    """What create_all needs to recreate reflected tables: sorted and expression index
    elements, INCLUDE, a WHERE given as a string, WITHOUT ROWID, and no DEFAULT beside a
    SERIAL (the reflected default names the old table's sequence)."""
    from hermetic import Integer, String
    from hermetic.dialects.postgresql.base import PGDialect
    from hermetic.dialects.sqlite.base import SQLiteDialect
    from hermetic.schema import CreateIndex, CreateTable, DefaultClause, Index
    from hermetic.sql.elements import literal_column

    pg = PGDialect(driver="psycopg", paramstyle="pyformat")
    lite = SQLiteDialect(driver="pysqlite", paramstyle="qmark")
    seq = DefaultClause(text("nextval('t_id_seq'::regclass)"))
    t = Table(
        "t",
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True, server_default=seq),
        Column("a", String(5)),
        sqlite_with_rowid=False,
    )
    ix = Index(
        "ix",
        t.c.a.desc().nulls_last(),
        literal_column("lower(a)").desc(),
        text("upper(a)"),
        postgresql_where="a > 0",
        postgresql_include=["id"],
    )
    assert str(CreateIndex(ix).compile(pg)) == (
        "CREATE INDEX ix ON t (a DESC NULLS LAST, (lower(a)) DESC, (upper(a))) "
        "INCLUDE (id) WHERE a > 0"
    )
    assert str(CreateTable(t).compile(pg)).splitlines()[1].strip() == "id SERIAL NOT NULL,"
    lite_sql = str(CreateTable(t).compile(lite))
    assert lite_sql.endswith(") WITHOUT ROWID")
    assert "DEFAULT nextval" in lite_sql  # not a SERIAL there: the default stays


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("INTEGER", "INTEGER()"),
        ("decimal(10,2)", "DECIMAL(precision=10, scale=2)"),
        ("varchar ( 30 )", "VARCHAR(length=30)"),
        ("VARYING   CHARACTER(9)", "VARCHAR(length=9)"),
        ("INT GENERATED ALWAYS", "INTEGER()"),
        ("", "NullType()"),
        ("BLOBBY", "BLOB()"),
        ("DOUBLE PRECISION", "DOUBLE_PRECISION()"),
        ("FLOAT(53)", "FLOAT(precision=53)"),
    ],
)
def test_sqlite_type_names(declared: str, expected: str) -> None:
    assert repr(sqlite_type(declared)) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("integer", "INTEGER()"),
        ("character varying(20)", "VARCHAR(length=20)"),
        ("character(3)", "CHAR(length=3)"),
        ("numeric(10,2)", "NUMERIC(precision=10, scale=2)"),
        ("timestamp(3) with time zone", "TIMESTAMP(timezone=True, precision=3)"),
        ("timestamp without time zone", "TIMESTAMP()"),
        ("time with time zone", "TIME(timezone=True)"),
        ("interval day to second(2)", "INTERVAL(precision=2, fields='DAY TO SECOND')"),
        ("double precision", "DOUBLE_PRECISION(precision=53)"),
        ("text[]", "ARRAY(TEXT())"),
        ("bit varying(8)", "BIT(length=8, varying=True)"),
        ("jsonb", "JSONB(astext_type=Text())"),
    ],
)
def test_pg_type_names(spec: str, expected: str) -> None:
    assert repr(pg_type(spec, "c")) == expected


def test_pg_unknown_type_warns() -> None:
    with pytest.warns(exc.SAWarning, match="'point' of column 'c'"):
        assert isinstance(pg_type("point", "c"), st.NullType)


# -- PostgreSQL ------------------------------------------------------------------------------

PG_DDL = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE SEQUENCE counter_seq;
CREATE TABLE customers (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    name TEXT,
    region TEXT,
    code INTEGER,
    m mood DEFAULT 'ok',
    moods mood[],
    CONSTRAINT uq_region_code UNIQUE (region, code)
);
COMMENT ON TABLE customers IS 'people who buy';
COMMENT ON COLUMN customers.email IS 'login';
CREATE TABLE orders (
    id BIGSERIAL PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    region TEXT,
    code INTEGER,
    parent_id BIGINT REFERENCES orders (id) ON DELETE SET NULL,
    amount NUMERIC(10, 2) NOT NULL,
    status VARCHAR(20) DEFAULT 'pending',
    note TEXT,
    tags TEXT[],
    data JSONB,
    qty posint,
    ratio DOUBLE PRECISION,
    r REAL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
    t3 TIMESTAMP(3),
    tm TIME,
    iv INTERVAL,
    u UUID,
    b BYTEA,
    flag BOOLEAN,
    c CHAR(3),
    ip INET,
    n NUMERIC,
    CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (region, code) REFERENCES customers (region, code) ON UPDATE SET NULL,
    CONSTRAINT ck_amount CHECK (amount >= 0)
);
CREATE INDEX ix_orders_active ON orders (customer_id, created_at)
    WHERE code > 0 AND note IS NOT NULL;
CREATE UNIQUE INDEX ix_orders_note ON orders (lower(note), id DESC);
CREATE INDEX ix_orders_tags ON orders USING gin (tags);
CREATE INDEX ix_orders_cover ON orders (customer_id) INCLUDE (amount);
CREATE TABLE kv (k TEXT, v BYTEA, PRIMARY KEY (k, v));
CREATE VIEW v_orders AS SELECT id, amount FROM orders;
CREATE MATERIALIZED VIEW mv_orders AS SELECT id FROM orders;
"""


@pytest.fixture
def pg_schema() -> Iterator[tuple[Engine, str, dict[str, Any]]]:
    """An engine whose search_path is a fresh schema holding PG_DDL, the schema's name,
    and psycopg connect kwargs (to make more schemas); all dropped afterwards."""
    require_pg()
    u = make_url(PG_URL)
    admin: dict[str, Any] = dict(
        host=u.host, port=u.port or 5432, user=u.username, dbname=u.database, password=u.password
    )
    schema = f"r_{uuid.uuid4().hex}"
    with psycopg.connect(**admin, autocommit=True, options=f"-csearch_path={schema}") as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
        c.execute(PG_DDL)
    engine = create_engine(pg_url(), connect_args={"options": f"-csearch_path={schema}"})
    created: list[str] = [schema]
    admin["_created"] = created
    try:
        yield engine, schema, admin
        assert engine.pool.checkedout() == 0, engine.pool.holders()
    finally:
        engine.dispose()
        admin.pop("_created")
        with psycopg.connect(**admin, autocommit=True) as c:
            for s in created:
                c.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')


def _new_schema(admin: dict[str, Any]) -> str:
    schema = f"r_{uuid.uuid4().hex}"
    admin["_created"].append(schema)
    kw = {k: v for k, v in admin.items() if not k.startswith("_")}
    with psycopg.connect(**kw, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def test_pg_names(pg_schema: tuple[Engine, str, dict[str, Any]]) -> None:
    engine, schema, _ = pg_schema
    insp = inspect(engine)
    assert insp.default_schema_name == schema
    assert insp.get_table_names() == ["customers", "kv", "orders"]
    assert insp.get_table_names(schema=schema) == ["customers", "kv", "orders"]
    assert insp.get_view_names() == ["v_orders"]
    assert insp.get_materialized_view_names() == ["mv_orders"]
    assert insp.get_sequence_names() == ["counter_seq", "customers_id_seq", "orders_id_seq"]
    assert schema in insp.get_schema_names()
    assert insp.has_table("orders") and insp.has_table("mv_orders", schema=schema)
    assert not insp.has_table("orders", schema="public_nope")
    assert insp.has_sequence("counter_seq") and insp.has_schema(schema)
    assert "FROM orders" in insp.get_view_definition("v_orders")


def test_pg_columns(pg_schema: tuple[Engine, str, dict[str, Any]]) -> None:
    engine, schema, _ = pg_schema
    insp = inspect(engine)
    cols = by_name(insp.get_columns("orders"))
    types = {name: repr(c["type"]) for name, c in cols.items()}
    assert types == {
        "id": "BIGINT()",
        "customer_id": "INTEGER()",
        "region": "TEXT()",
        "code": "INTEGER()",
        "parent_id": "BIGINT()",
        "amount": "NUMERIC(precision=10, scale=2)",
        "status": "VARCHAR(length=20)",
        "note": "TEXT()",
        "tags": "ARRAY(TEXT())",
        "data": "JSONB(astext_type=Text())",
        "qty": "INTEGER()",  # the domain's base type
        "ratio": "DOUBLE_PRECISION(precision=53)",
        "r": "REAL()",
        "created_at": "TIMESTAMP(timezone=True)",
        "t3": "TIMESTAMP(precision=3)",
        "tm": "TIME()",
        "iv": "INTERVAL()",
        "u": "UUID()",
        "b": "BYTEA()",
        "flag": "BOOLEAN()",
        "c": "CHAR(length=3)",
        "ip": "INET()",
        "n": "NUMERIC()",
    }
    assert cols["id"]["autoincrement"] is True
    assert cols["id"]["default"] == "nextval('orders_id_seq'::regclass)"
    assert cols["id"]["nullable"] is False
    assert cols["parent_id"]["autoincrement"] is False
    assert cols["status"]["default"] == "'pending'::character varying"
    assert cols["created_at"]["default"] == "now()"
    assert cols["amount"]["nullable"] is False and cols["note"]["nullable"] is True

    customers = by_name(insp.get_columns("customers"))
    assert customers["email"]["comment"] == "login"
    m = customers["m"]["type"]
    assert isinstance(m, pgt.ENUM)
    assert (m.name, m.enums, m.schema) == ("mood", ["sad", "ok", "happy"], None)
    moods = customers["moods"]["type"]
    assert isinstance(moods, st.ARRAY) and isinstance(moods.item_type, pgt.ENUM)
    # named with a schema that is not on the search path, the enum keeps its schema
    m2 = by_name(inspect(create_engine(pg_url())).get_columns("customers", schema=schema))["m"]
    assert m2["type"].schema == schema
    assert insp.get_table_comment("customers") == {"text": "people who buy"}
    assert insp.get_table_comment("orders") == {"text": None}

    view = by_name(insp.get_columns("v_orders"))
    assert repr(view["amount"]["type"]) == "NUMERIC(precision=10, scale=2)"


def test_pg_identity_and_generated(pg_schema: tuple[Engine, str, dict[str, Any]]) -> None:
    engine, _, _ = pg_schema
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE gen (id INTEGER GENERATED ALWAYS AS IDENTITY (START WITH 5), "
                "a INTEGER, twice INTEGER GENERATED ALWAYS AS (a * 2) STORED)"
            )
        )
    cols = by_name(inspect(engine).get_columns("gen"))
    assert cols["id"]["autoincrement"] is True and cols["id"]["default"] is None
    identity = cols["id"]["identity"]
    assert (identity["always"], identity["start"], identity["increment"]) == (True, 5, 1)
    assert cols["twice"]["computed"] == {"sqltext": "(a * 2)", "persisted": True}
    assert cols["twice"]["default"] is None


def test_pg_keys_constraints_indexes(pg_schema: tuple[Engine, str, dict[str, Any]]) -> None:
    engine, schema, _ = pg_schema
    insp = inspect(engine)
    pk = insp.get_pk_constraint("orders")
    assert (pk["name"], pk["constrained_columns"]) == ("orders_pkey", ["id"])
    assert insp.get_pk_constraint("kv")["constrained_columns"] == ["k", "v"]
    fks = by_name(insp.get_foreign_keys("orders"))
    assert fks["fk_customer"] == {
        "name": "fk_customer",
        "constrained_columns": ["customer_id"],
        "referred_schema": None,
        "referred_table": "customers",
        "referred_columns": ["id"],
        "options": {"ondelete": "CASCADE", "deferrable": True, "initially": "DEFERRED"},
        "comment": None,
    }
    assert fks["orders_region_code_fkey"]["options"] == {"onupdate": "SET NULL"}
    assert fks["orders_parent_id_fkey"]["referred_table"] == "orders"
    # with the schema named, the referred schema is named too
    named = by_name(insp.get_foreign_keys("orders", schema=schema))
    assert named["fk_customer"]["referred_schema"] == schema

    uniques = by_name(insp.get_unique_constraints("customers"))
    assert uniques["customers_email_key"]["column_names"] == ["email"]
    assert uniques["uq_region_code"]["column_names"] == ["region", "code"]
    assert insp.get_check_constraints("orders") == [
        {"name": "ck_amount", "sqltext": "amount >= 0::numeric", "comment": None}
    ]

    ixs = by_name(insp.get_indexes("orders"))
    assert sorted(ixs) == [
        "ix_orders_active",
        "ix_orders_cover",
        "ix_orders_note",
        "ix_orders_tags",
    ]
    active = ixs["ix_orders_active"]
    assert active["column_names"] == ["customer_id", "created_at"]
    assert active["dialect_options"]["postgresql_where"] == "((code > 0) AND (note IS NOT NULL))"
    note = ixs["ix_orders_note"]
    assert note["unique"] is True
    assert note["column_names"] == [None, "id"]
    assert note["expressions"] == ["lower(note)", "id"]
    assert note["column_sorting"] == {"id": ("desc",)}
    assert ixs["ix_orders_tags"]["dialect_options"]["postgresql_using"] == "gin"
    cover = ixs["ix_orders_cover"]
    assert cover["column_names"] == ["customer_id"]
    assert cover["dialect_options"]["postgresql_include"] == ["amount"]
    cust_ix = by_name(insp.get_indexes("customers"))
    assert cust_ix["uq_region_code"]["duplicates_constraint"] == "uq_region_code"


def test_pg_batched_reflection(pg_schema: tuple[Engine, str, dict[str, Any]]) -> None:
    """A whole schema in a handful of queries, however many tables it has."""
    engine, _, _ = pg_schema
    with engine.begin() as conn:
        for k in range(20):
            conn.execute(
                text(f"CREATE TABLE many_{k} (id INTEGER PRIMARY KEY, o INTEGER REFERENCES orders)")
            )
    log = SQLLog(engine)
    metadata = MetaData()
    metadata.reflect(engine)
    assert len(metadata.tables) == 23
    assert log.count() <= 6, log.statements
    log.remove()


def test_pg_reflect_with_schema_and_across_schemas(
    pg_schema: tuple[Engine, str, dict[str, Any]],
) -> None:
    engine, schema, admin = pg_schema
    other = _new_schema(admin)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE TABLE "{other}".parent (id INTEGER PRIMARY KEY)'))
        conn.execute(
            text(
                f"CREATE TABLE child (id INTEGER PRIMARY KEY, "
                f'p INTEGER REFERENCES "{other}".parent)'
            )
        )
    plain = create_engine(pg_url())  # search_path without either schema
    try:
        metadata = MetaData()
        child = Table("child", metadata, schema=schema, autoload_with=plain)
        assert set(metadata.tables) == {f"{other}.parent", f"{schema}.child"}
        (fk,) = child.foreign_keys
        assert fk.column.table is metadata.tables[f"{other}.parent"]

        md = MetaData(schema=schema)
        md.reflect(plain, only=["orders"])
        assert set(md.tables) == {f"{schema}.customers", f"{schema}.orders"}
        orders = md.tables[f"{schema}.orders"]
        fkc = next(c for c in orders.foreign_key_constraints if c.name == "fk_customer")
        assert fkc.referred_table is md.tables[f"{schema}.customers"]
        with plain.connect() as conn:
            assert conn.execute(select(orders.c.id)).all() == []
    finally:
        plain.dispose()


def test_pg_run_sync_shape_reflection_on_connection(
    pg_schema: tuple[Engine, str, dict[str, Any]],
) -> None:
    """What ``await conn.run_sync(lambda c: Table(..., autoload_with=c))`` runs: reflection
    on a sync Connection, inside its transaction."""
    engine, _, _ = pg_schema
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE uncommitted (x INTEGER)"))
        users = Table("uncommitted", MetaData(), autoload_with=conn)
        assert [c.name for c in users.columns] == ["x"]
        conn.rollback()
    assert not inspect(engine).has_table("uncommitted")


def test_pg_round_trip(pg_schema: tuple[Engine, str, dict[str, Any]]) -> None:
    """Reflect a schema, create_all into an empty one, reflect the copy: the same."""
    engine, _, admin = pg_schema
    metadata = MetaData()
    metadata.reflect(engine)
    target = _new_schema(admin)
    copy = create_engine(pg_url(), connect_args={"options": f"-csearch_path={target}"})
    try:
        metadata.create_all(copy)
        original, copied = snapshot(inspect(engine)), snapshot(inspect(copy))
        for snap in (original, copied):
            snap.pop("views")
            snap.pop("v_orders", None)
        assert copied == original
        with copy.begin() as conn:  # the serial keys and defaults work in the copy
            conn.execute(text("INSERT INTO customers (email) VALUES ('a@x')"))
            cid = conn.execute(text("SELECT id FROM customers")).scalar_one()
            conn.execute(
                text("INSERT INTO orders (customer_id, amount) VALUES (:c, 1)"), {"c": cid}
            )
            row = conn.execute(text("SELECT status, m FROM orders, customers")).one()
        assert tuple(row) == ("pending", "ok")
    finally:
        copy.dispose()


def test_pg_reflected_table_is_usable(pg_schema: tuple[Engine, str, dict[str, Any]]) -> None:
    engine, _, _ = pg_schema
    metadata = MetaData()
    orders = Table("orders", metadata, autoload_with=engine)
    customers = metadata.tables["customers"]
    with engine.begin() as conn:
        cid = conn.execute(
            insert(customers).values(email="b@x").returning(customers.c.id)
        ).scalar_one()
        conn.execute(insert(orders).values(customer_id=cid, amount=2, tags=["a", "b"]))
        row = conn.execute(select(orders.c.status, orders.c.tags, orders.c.created_at)).one()
    assert row.status == "pending" and row.tags == ["a", "b"]
    assert row.created_at is not None


# -- through an async connection: conn.run_sync(...) ------------------------------------------


def _async_snapshot(url: str, **engine_kw: Any) -> tuple[dict[str, Any], list[str]]:
    """The snapshot and MetaData.reflect() table names, read with ``await
    conn.run_sync(...)`` on an async engine."""
    import asyncio

    from hermetic.ext.asyncio import create_async_engine

    async def go() -> tuple[dict[str, Any], list[str]]:
        engine = create_async_engine(url, **engine_kw)
        try:
            async with engine.connect() as conn:
                snap = await conn.run_sync(lambda sync_conn: snapshot(inspect(sync_conn)))
                metadata = MetaData()
                await conn.run_sync(metadata.reflect)
                return snap, sorted(metadata.tables)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_sqlite_reflection_through_run_sync(sqlite_db: Engine) -> None:
    pytest.importorskip("aiosqlite")
    url = str(sqlite_db.url).replace("sqlite://", "sqlite+aiosqlite://", 1)
    snap, tables = _async_snapshot(url)
    assert snap == snapshot(inspect(sqlite_db))
    assert tables == TABLES


@pytest.mark.parametrize("driver", ["asyncpg", "psycopg"])
def test_pg_reflection_through_run_sync(
    pg_schema: tuple[Engine, str, dict[str, Any]], driver: str
) -> None:
    if driver == "asyncpg":
        pytest.importorskip("asyncpg")
    engine, schema, _ = pg_schema
    url = pg_url(driver)
    if driver == "asyncpg":
        kw: dict[str, Any] = {"connect_args": {"server_settings": {"search_path": schema}}}
    else:
        kw = {"connect_args": {"options": f"-csearch_path={schema}"}}
    snap, tables = _async_snapshot(url, **kw)
    assert snap == snapshot(inspect(engine))
    assert tables == ["customers", "kv", "orders"]
