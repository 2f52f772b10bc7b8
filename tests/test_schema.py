"""Schema objects and DDL: MetaData / Table / Column / keys / constraints / indexes.

DDL snapshots per dialect, naming conventions and errors without a database, then
create_all / drop_all on real SQLite and PostgreSQL (both drivers): foreign-key order,
checkfirst idempotence, rows written with text() and read back through select(table).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from hermetic import event, exc, select, text
from hermetic.dialects.postgresql import types as pgt
from hermetic.dialects.postgresql.base import PGDialect
from hermetic.dialects.sqlite.base import SQLiteDialect
from hermetic.engine import Engine
from hermetic.schema import (
    CheckConstraint,
    Column,
    CreateIndex,
    CreateTable,
    DropIndex,
    DropTable,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
from hermetic.sql import sqltypes as st
from hermetic.sql.ddl import AddConstraint, CreateEnumType, DDLTypeCompiler, DropEnumType
from hermetic.sql.schema import NoReferencedColumnError, NoReferencedTableError

SQLITE = SQLiteDialect(driver="pysqlite", paramstyle="qmark")
PG = PGDialect(driver="psycopg", paramstyle="pyformat")


def ddl(element: Any, dialect: Any) -> str:
    return str(element.compile(dialect))


# -- types -------------------------------------------------------------------------------

TYPE_CASES = [
    (st.Integer(), "INTEGER", "INTEGER"),
    (st.BigInteger(), "BIGINT", "BIGINT"),
    (st.SmallInteger(), "SMALLINT", "SMALLINT"),
    (st.String(30), "VARCHAR(30)", "VARCHAR(30)"),
    (st.String(), "VARCHAR", "VARCHAR"),
    (st.Text(), "TEXT", "TEXT"),
    (st.Unicode(10), "VARCHAR(10)", "VARCHAR(10)"),
    (st.CHAR(3), "CHAR(3)", "CHAR(3)"),
    (st.Boolean(), "BOOLEAN", "BOOLEAN"),
    (st.Numeric(10, 2), "NUMERIC(10, 2)", "NUMERIC(10, 2)"),
    (st.Numeric(), "NUMERIC", "NUMERIC"),
    (st.Float(), "FLOAT", "FLOAT"),
    (st.Double(), "DOUBLE", "DOUBLE PRECISION"),
    (st.DOUBLE_PRECISION(), "DOUBLE PRECISION", "DOUBLE PRECISION"),
    (st.DateTime(), "DATETIME", "TIMESTAMP"),
    (st.DateTime(timezone=True), "DATETIME", "TIMESTAMP WITH TIME ZONE"),
    (st.TIMESTAMP(), "TIMESTAMP", "TIMESTAMP"),
    (st.Date(), "DATE", "DATE"),
    (st.Time(), "TIME", "TIME"),
    (st.LargeBinary(), "BLOB", "BYTEA"),
    (st.JSON(), "JSON", "JSON"),
    (pgt.JSONB(), "JSONB", "JSONB"),
    (st.Uuid(), "CHAR(32)", "UUID"),
    (st.Interval(), "DATETIME", "INTERVAL"),
    (st.Enum("red", "green", name="color"), "VARCHAR(5)", "color"),
    (st.Enum("a", "bb", native_enum=False), "VARCHAR(2)", "VARCHAR(2)"),
    (pgt.INET(), "INET", "INET"),
]


@pytest.mark.parametrize(("type_", "sqlite", "pg"), TYPE_CASES, ids=lambda v: repr(v))
def test_type_names_per_dialect(type_: Any, sqlite: str, pg: str) -> None:
    assert DDLTypeCompiler(SQLITE).process(type_) == sqlite
    assert DDLTypeCompiler(PG).process(type_) == pg


def test_array_is_postgresql_only() -> None:
    assert DDLTypeCompiler(PG).process(pgt.ARRAY(st.Integer)) == "INTEGER[]"
    assert DDLTypeCompiler(PG).process(pgt.ARRAY(st.String(5), dimensions=2)) == "VARCHAR(5)[][]"
    with pytest.raises(exc.CompileError, match="ARRAY"):
        DDLTypeCompiler(SQLITE).process(pgt.ARRAY(st.Integer))


# -- DDL snapshots -----------------------------------------------------------------------


def _schema() -> tuple[MetaData, Table, Table]:
    md = MetaData()
    users = Table(
        "users",
        md,
        Column("id", st.Integer, primary_key=True),
        Column("name", st.String(50), nullable=False, unique=True),
        Column("status", st.String(10), server_default="new"),
        Column("created", st.DateTime, server_default=text("CURRENT_TIMESTAMP")),
    )
    addresses = Table(
        "addresses",
        md,
        Column("id", st.Integer, primary_key=True),
        Column("user_id", st.Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        Column("email", st.String(100), index=True),
        CheckConstraint("length(email) > 3", name="email_len"),
    )
    return md, users, addresses


def test_create_table_sqlite() -> None:
    _md, users, addresses = _schema()
    assert ddl(CreateTable(users), SQLITE) == (
        "CREATE TABLE users (\n"
        "\tid INTEGER NOT NULL,\n"
        "\tname VARCHAR(50) NOT NULL,\n"
        "\tstatus VARCHAR(10) DEFAULT 'new',\n"
        "\tcreated DATETIME DEFAULT CURRENT_TIMESTAMP,\n"
        "\tPRIMARY KEY (id),\n"
        "\tUNIQUE (name)\n"
        ")"
    )
    assert ddl(CreateTable(addresses), SQLITE) == (
        "CREATE TABLE addresses (\n"
        "\tid INTEGER NOT NULL,\n"
        "\tuser_id INTEGER NOT NULL,\n"
        "\temail VARCHAR(100),\n"
        "\tPRIMARY KEY (id),\n"
        "\tFOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,\n"
        "\tCONSTRAINT email_len CHECK (length(email) > 3)\n"
        ")"
    )


def test_create_table_postgresql_serial() -> None:
    md = MetaData()
    t = Table(
        "t",
        md,
        Column("id", st.BigInteger, primary_key=True),
        Column("ref", st.Integer, ForeignKey("t.id", deferrable=True, initially="deferred")),
    )
    assert ddl(CreateTable(t), PG) == (
        "CREATE TABLE t (\n"
        "\tid BIGSERIAL NOT NULL,\n"
        "\tref INTEGER,\n"
        "\tPRIMARY KEY (id),\n"
        "\tFOREIGN KEY (ref) REFERENCES t (id) DEFERRABLE INITIALLY DEFERRED\n"
        ")"
    )
    # no SERIAL: composite key, autoincrement=False, non-integer
    t2 = Table(
        "t2",
        md,
        Column("a", st.Integer, primary_key=True),
        Column("b", st.Integer, primary_key=True),
    )
    t3 = Table("t3", md, Column("a", st.Integer, primary_key=True, autoincrement=False))
    assert "a INTEGER NOT NULL" in ddl(CreateTable(t2), PG)
    assert "PRIMARY KEY (a, b)" in ddl(CreateTable(t2), PG)
    assert "a INTEGER NOT NULL" in ddl(CreateTable(t3), PG)


def test_quoting_schema_and_reserved_names() -> None:
    md = MetaData()
    t = Table("order", md, Column("select", st.Integer), Column("Mixed", st.Text), schema="s")
    assert ddl(CreateTable(t), PG) == (
        'CREATE TABLE s."order" (\n\t"select" INTEGER,\n\t"Mixed" TEXT\n)'
    )
    assert ddl(DropTable(t, if_exists=True), PG) == 'DROP TABLE IF EXISTS s."order"'
    assert t.fullname == "s.order"


def test_server_default_literal_is_escaped() -> None:
    md = MetaData()
    t = Table("t", md, Column("x", st.String(20), server_default="it's 100%"))
    assert "DEFAULT 'it''s 100%'" in ddl(CreateTable(t), SQLITE)
    compiled = CreateTable(t)._compile_for(PG)
    assert "DEFAULT 'it''s 100%%'" in compiled.string


def test_indexes_unique_partial_using_and_expressions() -> None:
    md = MetaData()
    t = Table("t", md, Column("id", st.Integer, primary_key=True), Column("x", st.Integer))
    t2 = Table("t2", md, Column("name", st.String(10)), Column("tags", pgt.JSONB))
    partial = Index(
        "ix_partial",
        t.c.x,
        unique=True,
        postgresql_where=t.c.x > 5,
        sqlite_where=t.c.x > 5,
    )
    gin = Index("ix_tags", t2.c.tags, postgresql_using="gin")
    assert partial in t.indexes and gin in t2.indexes
    assert partial.dialect_options["postgresql"]["where"] is not None
    assert gin.kwargs == {"postgresql_using": "gin"}
    assert ddl(CreateIndex(partial), SQLITE) == (
        "CREATE UNIQUE INDEX ix_partial ON t (x) WHERE x > 5"
    )
    assert ddl(CreateIndex(partial), PG) == "CREATE UNIQUE INDEX ix_partial ON t (x) WHERE x > 5"
    assert ddl(CreateIndex(gin), PG) == "CREATE INDEX ix_tags ON t2 USING gin (tags)"
    assert ddl(CreateIndex(gin), SQLITE) == "CREATE INDEX ix_tags ON t2 (tags)"
    expr = Index("ix_lower", text("lower(name)"), _table=t2)
    assert ddl(CreateIndex(expr), PG) == "CREATE INDEX ix_lower ON t2 ((lower(name)))"
    assert ddl(DropIndex(partial), PG) == "DROP INDEX ix_partial"
    # index=True on a column: the default "ix" naming convention
    t3 = Table("t3", md, Column("email", st.String(10), index=True, unique=True))
    (ix,) = t3.indexes
    assert ddl(CreateIndex(ix), SQLITE) == "CREATE UNIQUE INDEX ix_t3_email ON t3 (email)"


def test_native_enum_type_ddl() -> None:
    color = pgt.ENUM("red", "it's", name="color")
    assert ddl(CreateEnumType(color), PG) == "CREATE TYPE color AS ENUM ('red', 'it''s')"
    assert ddl(DropEnumType(color), PG) == "DROP TYPE color"
    md = MetaData()
    t = Table("t", md, Column("c", st.Enum("a", "b", name="ab", create_constraint=True)))
    assert ddl(CreateTable(t), PG) == "CREATE TABLE t (\n\tc ab\n)"
    assert ddl(CreateTable(t), SQLITE) == (
        "CREATE TABLE t (\n\tc VARCHAR(1),\n\tCONSTRAINT ab CHECK (c IN ('a', 'b'))\n)"
    )


def test_ondelete_values_are_keywords_only() -> None:
    md = MetaData()
    Table("a", md, Column("id", st.Integer, primary_key=True))
    b = Table("b", md, Column("a_id", st.Integer, ForeignKey("a.id", ondelete="cascade; drop")))
    with pytest.raises(exc.CompileError, match="Unexpected SQL phrase"):
        ddl(CreateTable(b), PG)


# -- the Table / Column API ----------------------------------------------------------------


def test_table_api() -> None:
    md, users, addresses = _schema()
    assert md.tables == {"users": users, "addresses": addresses}
    assert list(users.c.keys()) == ["id", "name", "status", "created"]
    assert users.columns is users.c or list(users.columns) == list(users.c)
    assert users.c.id.table is users and users.c["name"].name == "name"
    assert list(users.primary_key.columns) == [users.c.id]
    assert isinstance(users.primary_key, PrimaryKeyConstraint)
    (fk,) = addresses.foreign_keys
    assert fk.column is users.c.id and fk.parent is addresses.c.user_id
    assert fk.target_fullname == "users.id" and fk.ondelete == "CASCADE"
    assert addresses.c.user_id.references(users.c.id)
    kinds = {type(c).__name__ for c in addresses.constraints}
    assert kinds == {"PrimaryKeyConstraint", "ForeignKeyConstraint", "CheckConstraint"}
    assert {i.name for i in addresses.indexes} == {"ix_addresses_email"}
    assert users.c.name.nullable is False and users.c.id.nullable is False
    assert users.c.status.server_default.arg == "new"


def test_column_key_and_composite_keys() -> None:
    md = MetaData()
    parent = Table(
        "parent",
        md,
        Column("a", st.Integer),
        Column("b", st.Integer),
        PrimaryKeyConstraint("a", "b", name="pk_parent"),
    )
    child = Table(
        "child",
        md,
        Column("x", st.Integer, key="xk"),
        Column("y", st.Integer),
        ForeignKeyConstraint(["xk", "y"], ["parent.a", "parent.b"], name="fk_child"),
        UniqueConstraint("xk", "y", name="uq_child"),
    )
    assert child.c.xk.name == "x"
    assert [c.name for c in parent.primary_key.columns] == ["a", "b"]
    assert parent.c.a.primary_key and parent.c.a.nullable is False
    assert ddl(CreateTable(child), SQLITE) == (
        "CREATE TABLE child (\n"
        "\tx INTEGER,\n"
        "\ty INTEGER,\n"
        "\tCONSTRAINT fk_child FOREIGN KEY (x, y) REFERENCES parent (a, b),\n"
        "\tCONSTRAINT uq_child UNIQUE (x, y)\n"
        ")"
    )
    assert "CONSTRAINT pk_parent PRIMARY KEY (a, b)" in ddl(CreateTable(parent), PG)


def test_select_and_cache_key_of_a_table() -> None:
    _md, users, _ = _schema()
    stmt = select(users).where(users.c.id == 5)
    assert str(stmt) == (
        "SELECT users.id, users.name, users.status, users.created FROM users WHERE users.id = :id_1"
    )
    assert stmt._cache_key == select(users).where(users.c.id == 6)._cache_key
    # the same name in another MetaData has the same structure
    _md2, users2, _ = _schema()
    assert select(users2).where(users2.c.id == 1)._cache_key == stmt._cache_key


def test_redeclaring_a_table() -> None:
    md = MetaData()
    t = Table("t", md, Column("a", st.Integer))
    with pytest.raises(exc.InvalidRequestError, match="extend_existing=True"):
        Table("t", md, Column("b", st.Integer))
    assert Table("t", md) is t
    t2 = Table("t", md, Column("b", st.Integer), extend_existing=True)
    assert t2 is t and list(t.c.keys()) == ["a", "b"]
    t3 = Table("t", md, Column("a", st.String(5)), extend_existing=True)
    assert t3 is t and isinstance(t.c.a.type, st.String)


def test_metadata_schema_default() -> None:
    md = MetaData(schema="s")
    t = Table("t", md, Column("id", st.Integer, primary_key=True))
    u = Table("u", md, Column("t_id", st.Integer, ForeignKey("t.id")))
    assert t.schema == "s" and "s.t" in md.tables
    assert next(iter(u.foreign_keys)).column is t.c.id
    assert "REFERENCES s.t (id)" in ddl(CreateTable(u), PG)


def test_missing_foreign_key_targets() -> None:
    md = MetaData()
    t = Table("t", md, Column("x", st.Integer, ForeignKey("nope.id")))
    fk = next(iter(t.foreign_keys))
    with pytest.raises(NoReferencedTableError, match="could not find table 'nope'"):
        _ = fk.column
    Table("other", md, Column("id", st.Integer))
    u = Table("u", md, Column("x", st.Integer, ForeignKey("other.missing")))
    with pytest.raises(NoReferencedColumnError, match="no column named 'missing'") as info:
        _ = next(iter(u.foreign_keys)).column
    assert isinstance(info.value, exc.InvalidRequestError)
    assert info.value.column_name == "missing"
    with pytest.raises(NoReferencedTableError):
        ddl(CreateTable(t), SQLITE)


def test_argument_errors() -> None:
    md = MetaData()
    with pytest.raises(exc.ArgumentError, match="no column 'zz'"):
        Table("t", md, Column("a", st.Integer), UniqueConstraint("zz"))
    with pytest.raises(exc.ArgumentError, match="MetaData"):
        Table("t", "not metadata")  # type: ignore[arg-type]
    with pytest.raises(exc.ArgumentError, match="counts must match"):
        ForeignKeyConstraint(["a"], ["x.a", "x.b"])
    with pytest.raises(TypeError, match="postgresql_where"):
        Index("i", "a", where="x")
    md2 = MetaData(naming_convention={})
    t = Table("t", md2, Column("a", st.Integer, index=True))
    with pytest.raises(exc.CompileError, match="have a name"):
        ddl(CreateIndex(next(iter(t.indexes))), SQLITE)


# -- naming conventions ----------------------------------------------------------------------

CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def test_naming_convention() -> None:
    md = MetaData(naming_convention=CONVENTION)
    Table("users", md, Column("id", st.Integer, primary_key=True))
    t = Table(
        "orders",
        md,
        Column("id", st.Integer, primary_key=True),
        Column("user_id", st.Integer, ForeignKey("users.id")),
        Column("a", st.Integer),
        Column("b", st.Integer, index=True),
        UniqueConstraint("a", "b"),
        CheckConstraint("a > 0", name="positive"),
        CheckConstraint("b > 0"),
    )
    names = {type(c).__name__ + ":" + str(c.name) for c in t.constraints}
    assert names == {
        "PrimaryKeyConstraint:pk_orders",
        "ForeignKeyConstraint:fk_orders_user_id_users",
        "UniqueConstraint:uq_orders_a_b",
        "CheckConstraint:ck_orders_positive",
        "CheckConstraint:None",
    }
    assert {i.name for i in t.indexes} == {"ix_orders_b"}
    sql = ddl(CreateTable(t), PG)
    assert "CONSTRAINT pk_orders PRIMARY KEY (id)" in sql
    assert "CONSTRAINT fk_orders_user_id_users FOREIGN KEY (user_id) REFERENCES users (id)" in sql
    assert "CONSTRAINT uq_orders_a_b UNIQUE (a, b)" in sql
    assert "CONSTRAINT ck_orders_positive CHECK (a > 0)" in sql
    assert "\tCHECK (b > 0)" in sql
    # an explicit name wins over a convention without %(constraint_name)s
    u = Table("u", md, Column("x", st.Integer), UniqueConstraint("x", name="mine"))
    assert {c.name for c in u.constraints if isinstance(c, UniqueConstraint)} == {"mine"}


def test_bad_naming_convention_token() -> None:
    md = MetaData(naming_convention={"uq": "uq_%(nonsense)s"})
    t = Table("t", md, Column("a", st.Integer, unique=True))
    with pytest.raises(exc.InvalidRequestError, match="nonsense"):
        ddl(CreateTable(t), SQLITE)


# -- ordering ----------------------------------------------------------------------------------


def test_sorted_tables_follow_foreign_keys_deterministically() -> None:
    md = MetaData()
    Table("c", md, Column("b_id", st.Integer, ForeignKey("b.id")), Column("id", st.Integer))
    Table("b", md, Column("id", st.Integer, primary_key=True), Column("a_id", ForeignKey("a.id")))
    Table("a", md, Column("id", st.Integer, primary_key=True))
    Table("z", md, Column("id", st.Integer))
    Table(
        "self", md, Column("id", st.Integer, primary_key=True), Column("p", ForeignKey("self.id"))
    )
    assert [t.name for t in md.sorted_tables] == ["a", "self", "z", "b", "c"]


def test_cycles_go_to_alter_table_on_postgresql() -> None:
    from hermetic.sql.ddl import sort_tables_and_constraints

    md = MetaData()
    a = Table(
        "a",
        md,
        Column("id", st.Integer, primary_key=True),
        Column("b_id", st.Integer, ForeignKey("b.id", name="fk_a_b")),
    )
    b = Table(
        "b",
        md,
        Column("id", st.Integer, primary_key=True),
        Column("a_id", st.Integer, ForeignKey("a.id", name="fk_b_a")),
    )
    c = Table("c", md, Column("a_id", st.Integer, ForeignKey("a.id")))
    ordered, after = sort_tables_and_constraints(md.tables.values())
    assert [t.name for t in ordered] == ["a", "b", "c"]
    assert sorted(str(con.name) for con in after) == ["fk_a_b", "fk_b_a"]
    fk = next(con for con in after if con.name == "fk_a_b")
    assert ddl(AddConstraint(fk), PG) == (
        "ALTER TABLE a ADD CONSTRAINT fk_a_b FOREIGN KEY (b_id) REFERENCES b (id)"
    )
    assert a in md.sorted_tables and b in md.sorted_tables and c is md.sorted_tables[-1]


# -- real databases ------------------------------------------------------------------------


@pytest.fixture
def names() -> Iterator[str]:
    yield "s" + uuid.uuid4().hex[:8]


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    return seen


def _shop(prefix: str) -> tuple[MetaData, Table, Table, Table]:
    md = MetaData()
    items = Table(
        f"{prefix}_items",
        md,
        Column("id", st.Integer, primary_key=True),
        Column("order_id", st.Integer, ForeignKey(f"{prefix}_orders.id", ondelete="CASCADE")),
        Column("sku", st.String(20), nullable=False, index=True),
        Column("qty", st.Integer, nullable=False, server_default=text("1")),
        CheckConstraint("qty > 0"),
    )
    orders = Table(
        f"{prefix}_orders",
        md,
        Column("id", st.Integer, primary_key=True),
        Column("customer_id", st.Integer, ForeignKey(f"{prefix}_customers.id")),
        Column("status", st.String(10), nullable=False, server_default="new"),
        Column("placed", st.Date),
    )
    customers = Table(
        f"{prefix}_customers",
        md,
        Column("id", st.Integer, primary_key=True),
        Column("name", st.String(50), nullable=False, unique=True),
    )
    return md, customers, orders, items


def test_create_all_drop_all_roundtrip(engine: Engine, names: str) -> None:
    md, customers, orders, items = _shop(names)
    assert md.sorted_tables == [customers, orders, items]
    seen = _statements(engine)
    md.create_all(engine)
    try:
        creates = [s for s in seen if s.startswith("CREATE")]
        assert [s.split(" (")[0] for s in creates] == [
            f"CREATE TABLE {names}_customers",
            f"CREATE TABLE {names}_orders",
            f"CREATE TABLE {names}_items",
            f"CREATE INDEX ix_{names}_items_sku ON {names}_items",
        ]
        seen.clear()
        md.create_all(engine)  # checkfirst: nothing to create
        assert not [s for s in seen if s.startswith("CREATE")]
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {names}_customers (name) VALUES (:n)"), {"n": "ann"})
            conn.execute(
                text(f"INSERT INTO {names}_orders (customer_id, placed) VALUES (:c, :p)"),
                {"c": 1, "p": dt.date(2024, 5, 1)},
            )
            conn.execute(
                text(f"INSERT INTO {names}_items (order_id, sku) VALUES (1, :sku)"), {"sku": "x-1"}
            )
        with engine.connect() as conn:
            assert conn.execute(select(customers)).all() == [(1, "ann")]
            row = conn.execute(select(orders).where(orders.c.id == 1)).one()
            assert tuple(row) == (1, 1, "new", dt.date(2024, 5, 1))
            assert row.status == "new" and row._mapping[orders.c.placed] == dt.date(2024, 5, 1)
            assert conn.execute(select(items.c.sku, items.c.qty)).all() == [("x-1", 1)]
        with pytest.raises(exc.IntegrityError), engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {names}_customers (name) VALUES ('ann')"))
        with pytest.raises(exc.IntegrityError), engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {names}_items (order_id, sku, qty) VALUES (1, 'y', 0)"))
    finally:
        seen.clear()
        md.drop_all(engine)
    drops = [s for s in seen if s.startswith("DROP")]
    assert drops == [
        f"DROP TABLE {names}_items",
        f"DROP TABLE {names}_orders",
        f"DROP TABLE {names}_customers",
    ]
    seen.clear()
    md.drop_all(engine)  # checkfirst: nothing left to drop
    assert not [s for s in seen if s.startswith("DROP")]


def test_create_all_on_a_connection_and_checkfirst_false(engine: Engine, names: str) -> None:
    md = MetaData()
    t = Table(names, md, Column("id", st.Integer, primary_key=True), Column("v", st.Text))
    with engine.connect() as conn:
        md.create_all(conn)
        conn.execute(text(f"INSERT INTO {names} (v) VALUES ('a'), ('b')"))
        conn.commit()
        assert conn.execute(select(t.c.v).order_by(t.c.id)).scalars().all() == ["a", "b"]
        with pytest.raises(exc.DatabaseError):
            md.create_all(conn, checkfirst=False)
        conn.rollback()
    t.drop(engine)
    with pytest.raises(exc.DatabaseError):
        t.drop(engine)
    t.drop(engine, checkfirst=True)


def test_types_and_enums_on_postgresql(pg_engine: Engine, names: str) -> None:
    md = MetaData()
    t = Table(
        names,
        md,
        Column("id", st.Integer, primary_key=True),
        Column("mood", st.Enum("happy", "sad", name=f"{names}_mood")),
        Column("tags", pgt.ARRAY(st.Text)),
        Column("doc", pgt.JSONB),
        Column("uid", st.Uuid),
        Column("span", st.Interval),
        Column("at", st.DateTime(timezone=True)),
        Column("raw", st.LargeBinary),
        Column("price", st.Numeric(10, 2)),
        Column("note", st.Text, comment="free text"),
        Index(f"ix_{names}_mood", "mood", postgresql_where=text("mood = 'happy'")),
    )
    seen = _statements(pg_engine)
    md.create_all(pg_engine)
    try:
        assert seen.count(f"CREATE TYPE {names}_mood AS ENUM ('happy', 'sad')") == 1
        assert any(s.startswith(f"COMMENT ON COLUMN {names}.note") for s in seen)
        u = uuid.uuid4()
        with pg_engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO {names} (mood, tags, doc, uid, span, raw, price) "
                    "VALUES ('sad', ARRAY['a'], '{\"k\": 1}', :u, interval '1 day', '\\x01', 1.5)"
                ),
                {"u": str(u)},
            )
            row = conn.execute(select(t)).one()
        assert row.mood == "sad" and row.tags == ["a"] and row.doc == {"k": 1}
        assert row.uid == u and row.span == dt.timedelta(days=1)
        seen.clear()
        md.create_all(pg_engine)
        assert not [s for s in seen if s.startswith("CREATE")]
    finally:
        seen.clear()
        md.drop_all(pg_engine)
    assert seen[-1] == f"DROP TYPE {names}_mood"
    with pg_engine.connect() as conn:
        sql = f"SELECT 1 FROM pg_type WHERE typname = '{names}_mood'"
        assert conn.exec_driver_sql(sql).first() is None


def test_fk_cycle_uses_alter_on_postgresql(pg_engine: Engine, names: str) -> None:
    md = MetaData(naming_convention=CONVENTION)
    Table(
        f"{names}_a",
        md,
        Column("id", st.Integer, primary_key=True),
        Column("b_id", st.Integer, ForeignKey(f"{names}_b.id")),
    )
    Table(
        f"{names}_b",
        md,
        Column("id", st.Integer, primary_key=True),
        Column("a_id", st.Integer, ForeignKey(f"{names}_a.id", use_alter=True)),
    )
    seen = _statements(pg_engine)
    md.create_all(pg_engine)
    try:
        alters = [s for s in seen if s.startswith("ALTER")]
        assert alters == [
            f"ALTER TABLE {names}_b ADD CONSTRAINT fk_{names}_b_a_id_{names}_a "
            f"FOREIGN KEY (a_id) REFERENCES {names}_a (id)"
        ]
    finally:
        seen.clear()
        md.drop_all(pg_engine)
    ddl_run = [s for s in seen if not s.startswith("SELECT")]
    assert ddl_run == [
        f"ALTER TABLE {names}_b DROP CONSTRAINT fk_{names}_b_a_id_{names}_a",
        f"DROP TABLE {names}_a",
        f"DROP TABLE {names}_b",
    ]


def test_fk_cycle_inline_on_sqlite(sqlite_url: str, names: str) -> None:
    from hermetic import create_engine

    md = MetaData()
    Table("a", md, Column("id", st.Integer, primary_key=True), Column("b_id", ForeignKey("b.id")))
    Table("b", md, Column("id", st.Integer, primary_key=True), Column("a_id", ForeignKey("a.id")))
    eng = create_engine(sqlite_url)
    seen = _statements(eng)
    md.create_all(eng)
    assert not [s for s in seen if s.startswith("ALTER")]
    assert sum("REFERENCES" in s for s in seen) == 2
    md.drop_all(eng)
    eng.dispose()
