"""Column types: exact round trips on real SQLite and PostgreSQL (psycopg, psycopg2).

Each case goes through both paths users take before the expression compiler exists:
``text("SELECT :v AS v").bindparams(bindparam("v", value, type_=T)).columns(v=T)`` and an
INSERT/SELECT on a temporary table created with raw DDL.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest

import hermetic as sa
from hermetic import bindparam, exc, text, types
from hermetic.dialects import postgresql as pg
from hermetic.dialects import sqlite as sqlite_dialect
from hermetic.dialects.postgresql.base import PGDialect
from hermetic.dialects.sqlite.base import SQLiteDialect
from hermetic.engine import Connection, Engine


class Color(enum.Enum):
    RED = 1
    GREEN = "g"
    BLUE = 3.5


class Shape(enum.Enum):
    CIRCLE = 1


HOSTILE = [
    "",
    "O'Reilly",
    'say "hi"',
    "back\\slash\\",
    "'; DROP TABLE users; --",
    "\\'; --",
    "100% :v %(v)s %s ? $1",
    "line\nbreak\ttab",
    "ünïcødé ☃ 日本語 😀",
]


class Case:
    def __init__(
        self,
        id: str,  # noqa: A002 - the pytest id
        type_: Any,
        values: list[Any],
        sqlite_ddl: str,
        pg_ddl: str,
        *,
        select_on_pg: bool = True,
        select_skip: str = "",
        expect: Any = None,
        exact_str: bool = False,
    ) -> None:
        self.id = id
        self.type_ = type_
        self.values = values
        self.ddl = {"sqlite": sqlite_ddl, "postgresql": pg_ddl}
        self.select_on_pg = select_on_pg
        self.select_skip = select_skip
        self.expect = expect or (lambda v: v)
        self.exact_str = exact_str


CASES = [
    Case("integer", sa.Integer(), [0, 1, -1, 2**31 - 1, -(2**31)], "INTEGER", "INTEGER"),
    Case("smallint", sa.SmallInteger(), [0, 32767, -32768], "SMALLINT", "SMALLINT"),
    Case("bigint", sa.BigInteger(), [2**63 - 1, -(2**63)], "BIGINT", "BIGINT"),
    Case("INTEGER", sa.INTEGER(), [7], "INTEGER", "INTEGER"),
    Case("boolean", sa.Boolean(), [True, False], "BOOLEAN", "BOOLEAN"),
    Case("string", sa.String(60), HOSTILE, "VARCHAR(60)", "VARCHAR(60)"),
    Case("VARCHAR", sa.VARCHAR(60), HOSTILE, "VARCHAR(60)", "VARCHAR(60)"),
    Case("text", sa.Text(), [*HOSTILE, "x" * 100_000], "TEXT", "TEXT"),
    Case("unicode", sa.Unicode(60), HOSTILE, "VARCHAR(60)", "VARCHAR(60)"),
    Case("unicode_text", sa.UnicodeText(), HOSTILE, "TEXT", "TEXT"),
    Case("float", sa.Float(), [0.0, 1.5, -2.25, 1e300, 5e-324], "FLOAT", "DOUBLE PRECISION"),
    Case("double", sa.Double(), [0.1, -1e-300], "DOUBLE", "DOUBLE PRECISION"),
    Case(
        "float_asdecimal",
        sa.Float(asdecimal=True),
        [1.5, -0.25],
        "FLOAT",
        "DOUBLE PRECISION",
        expect=lambda v: Decimal(str(v)),
    ),
    Case(
        "numeric",
        sa.Numeric(10, 2),
        [Decimal("1.10"), Decimal("0.00"), Decimal("-99999999.99"), Decimal("12345678.91")],
        "NUMERIC(10, 2)",
        "NUMERIC(10, 2)",
        exact_str=True,
    ),
    Case(
        "numeric_scale_0",
        sa.Numeric(12, 0),
        [Decimal("0"), Decimal("999999999999")],
        "NUMERIC(12, 0)",
        "NUMERIC(12, 0)",
        exact_str=True,
        # psycopg2 renders Decimal("0") as the literal 0: an integer without a column
        select_skip="psycopg2",
    ),
    Case(
        "numeric_as_float",
        sa.Numeric(10, 2, asdecimal=False),
        [1.5, -3.25],
        "NUMERIC(10, 2)",
        "NUMERIC(10, 2)",
    ),
    Case(
        "date",
        sa.Date(),
        [dt.date(2024, 2, 29), dt.date(1, 1, 1), dt.date(9999, 12, 31)],
        "DATE",
        "DATE",
    ),
    Case(
        "datetime",
        sa.DateTime(),
        [
            dt.datetime(2024, 1, 2, 3, 4, 5, 678901),
            dt.datetime(1970, 1, 1),
            dt.datetime(1, 1, 1),
            dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
        ],
        "DATETIME",
        "TIMESTAMP",
    ),
    Case(
        "time",
        sa.Time(),
        [dt.time(0, 0), dt.time(23, 59, 59, 999999), dt.time(12, 30, 0, 5)],
        "TIME",
        "TIME",
    ),
    Case(
        "interval",
        sa.Interval(),
        [
            dt.timedelta(0),
            dt.timedelta(days=3, seconds=5, microseconds=7),
            dt.timedelta(days=-1, seconds=1),
            dt.timedelta(days=10000, hours=23),
        ],
        "DATETIME",
        "INTERVAL",
    ),
    Case(
        "large_binary",
        sa.LargeBinary(),
        [b"", b"\x00\x01\xff", bytes(range(256)), b"'; --\\"],
        "BLOB",
        "BYTEA",
    ),
    Case(
        "uuid",
        sa.Uuid(),
        [uuid.UUID("12345678-1234-5678-1234-567812345678"), uuid.UUID(int=0), uuid.uuid4()],
        "CHAR(32)",
        "UUID",
    ),
    Case(
        "uuid_str",
        sa.Uuid(as_uuid=False),
        ["12345678-1234-5678-1234-567812345678", str(uuid.uuid4())],
        "CHAR(32)",
        "UUID",
    ),
    Case("enum_class", sa.Enum(Color), [Color.RED, Color.GREEN, Color.BLUE], "VARCHAR(5)", "TEXT"),
    Case("enum_strings", sa.Enum("a", "b", "it's"), ["a", "it's"], "VARCHAR(5)", "TEXT"),
    Case(
        "enum_values_callable",
        sa.Enum(Color, values_callable=lambda e: [str(m.value) for m in e]),
        [Color.RED, Color.BLUE],
        "VARCHAR(5)",
        "TEXT",
    ),
    Case(
        "json",
        sa.JSON(),
        [
            {"a": 1, "b": [1, 2.5, None, True], "c": {"d": "e"}},
            [1, "x"],
            "just a string",
            "1",
            1.5,
            True,
            {"hostile": "'\"\\;-- %s :v", "ü": "☃"},
        ],
        "JSON",
        "JSONB",
        select_on_pg=False,
    ),
    Case(
        "pickle",
        sa.PickleType(),
        [{"a": {1, 2}}, [1, (2, 3)], "s"],
        "BLOB",
        "BYTEA",
    ),
]


def _select(conn: Connection, type_: Any, value: Any) -> Any:
    stmt = text("SELECT :v AS v").bindparams(bindparam("v", value, type_=type_)).columns(v=type_)
    return conn.execute(stmt).scalar_one()


def _check(case: Case, got: Any, value: Any) -> None:
    expected = case.expect(value)
    assert got == expected
    assert type(got) is type(expected)
    if case.exact_str:
        assert str(got) == str(expected)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_select_roundtrip(engine: Engine, case: Case) -> None:
    if engine.dialect.name == "postgresql" and not case.select_on_pg:
        pytest.skip("a bare SELECT :v has no such type on PostgreSQL (see the table test)")
    if engine.dialect.driver == case.select_skip:
        pytest.skip(f"{case.select_skip} gives a bare SELECT :v another type")
    with engine.connect() as conn:
        for value in case.values:
            _check(case, _select(conn, case.type_, value), value)
        assert _select(conn, case.type_, None) is None or case.id == "json"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_table_roundtrip(engine: Engine, case: Case) -> None:
    t = case.type_
    ddl = case.ddl[engine.dialect.name]
    with engine.connect() as conn:
        conn.execute(text(f"CREATE TEMP TABLE rt (id INTEGER PRIMARY KEY, v {ddl})"))
        insert = text("INSERT INTO rt (id, v) VALUES (:id, :v)").bindparams(bindparam("v", type_=t))
        rows = [{"id": i, "v": v} for i, v in enumerate(case.values)]
        conn.execute(insert, rows)  # executemany
        conn.execute(insert, {"id": 999, "v": None})  # single
        got = conn.execute(text("SELECT id, v FROM rt ORDER BY id").columns(v=t)).all()
        for (i, value), row in zip(enumerate(case.values), got, strict=False):
            assert row.id == i
            _check(case, row.v, value)
        assert got[-1].id == 999 and got[-1].v is None
        conn.rollback()


# -- JSON -------------------------------------------------------------------------------


def _json_ddl(engine: Engine) -> str:
    return "JSONB" if engine.dialect.name == "postgresql" else "JSON"


@pytest.mark.parametrize("none_as_null", [False, True])
def test_json_none_as_null(engine: Engine, none_as_null: bool) -> None:
    t = sa.JSON(none_as_null=none_as_null)
    with engine.connect() as conn:
        conn.execute(text(f"CREATE TEMP TABLE j (id INTEGER, v {_json_ddl(engine)})"))
        insert = text("INSERT INTO j (id, v) VALUES (:id, :v)").bindparams(bindparam("v", type_=t))
        conn.execute(insert, {"id": 1, "v": None})
        conn.execute(insert, {"id": 2, "v": sa.JSON.NULL})
        rows = conn.execute(
            text("SELECT id, v, v IS NULL AS sqlnull FROM j ORDER BY id").columns(v=t)
        ).all()
        assert [r.v for r in rows] == [None, None]
        # None is SQL NULL only with none_as_null; JSON.NULL is always JSON 'null'
        assert [bool(r.sqlnull) for r in rows] == [none_as_null, False]
        conn.rollback()


def test_json_not_double_decoded_on_pg(engine: Engine) -> None:
    """A JSON string that itself looks like JSON comes back as that string."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL drivers decode json themselves")
    t = pg.JSONB()
    value = '{"not": "an object"}'
    with engine.connect() as conn:
        stmt = text("SELECT CAST(:v AS JSONB) AS v, CAST(:v AS JSON) AS w").bindparams(
            bindparam("v", value, type_=t)
        )
        row = conn.execute(stmt.columns(v=t, w=pg.JSON())).one()
        assert row.v == value and row.w == value


def test_json_serializer_on_dialect(engine: Engine) -> None:
    t = sa.JSON()
    with engine.connect() as conn:
        engine.dialect._json_serializer = lambda v: json.dumps(v, sort_keys=True)  # type: ignore[attr-defined]
        try:
            stmt = text("SELECT :v AS v").bindparams(bindparam("v", {"b": 1, "a": 2}, type_=t))
            assert conn.execute(stmt).scalar_one() == '{"a": 2, "b": 1}'
        finally:
            del engine.dialect._json_serializer  # type: ignore[attr-defined]


def test_json_with_variant(engine: Engine) -> None:
    t = sa.JSON().with_variant(pg.JSONB(), "postgresql")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE TEMP TABLE jv (v {_json_ddl(engine)})"))
        conn.execute(
            text("INSERT INTO jv (v) VALUES (:v)").bindparams(bindparam("v", type_=t)),
            {"v": {"k": [1, 2]}},
        )
        assert conn.execute(text("SELECT v FROM jv").columns(v=t)).scalar_one() == {"k": [1, 2]}
        conn.rollback()


# -- Enum -------------------------------------------------------------------------------


def test_enum_bad_value_is_statement_error(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(exc.StatementError) as info:
        _select(conn, sa.Enum(Color), Shape.CIRCLE)
    err = info.value
    assert isinstance(err.orig, LookupError)
    message = str(err)
    assert "Shape.CIRCLE" in message
    assert "'RED', 'GREEN', 'BLUE'" in message
    assert "SELECT" in message  # the statement is shown


def test_enum_validate_strings(engine: Engine) -> None:
    with engine.connect() as conn:
        # as in SQLAlchemy, a member's name is accepted, and unknown strings pass
        # unless validate_strings=True
        assert _select(conn, sa.Enum(Color), "GREEN") is Color.GREEN
        with pytest.raises(exc.StatementError) as info:
            _select(conn, sa.Enum("a", "b", validate_strings=True), "zzz")
        assert isinstance(info.value.orig, LookupError)
        assert "'zzz' is not among the defined enum values" in str(info.value)


def test_enum_unknown_stored_value(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(LookupError, match="'PURPLE'"):
        conn.execute(text("SELECT 'PURPLE' AS v").columns(v=sa.Enum(Color))).all()


def test_enum_attributes() -> None:
    e = sa.Enum(Color)
    assert e.enums == ["RED", "GREEN", "BLUE"]
    assert e.name == "color" and e.length == 5 and e.enum_class is Color
    assert e.python_type is Color
    s = sa.Enum("x", "yy", name="kind")
    assert s.enums == ["x", "yy"] and s.name == "kind" and s.length == 2
    assert s.python_type is str
    with pytest.raises(ValueError, match="length"):
        sa.Enum("abc", length=2)


def test_pg_native_enum(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL ENUM")
    t = pg.ENUM(Color, name="hermetic_color")
    assert t.create_type and t.native_enum
    with engine.connect() as conn:
        conn.execute(text("CREATE TYPE hermetic_color AS ENUM ('RED', 'GREEN', 'BLUE')"))
        conn.execute(text("CREATE TEMP TABLE e (v hermetic_color)"))
        insert = text("INSERT INTO e (v) VALUES (:v)").bindparams(bindparam("v", type_=t))
        conn.execute(insert, [{"v": Color.BLUE}, {"v": None}])
        got = conn.execute(text("SELECT v FROM e ORDER BY v").columns(v=t)).scalars().all()
        assert got == [Color.BLUE, None]
        conn.rollback()


# -- PostgreSQL types -------------------------------------------------------------------


def test_pg_types_roundtrip(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL types")
    aware = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    cols = {
        "i": ("INET", pg.INET(), ["192.168.0.1", "10.1.2.3/8", "::1", "2001:db8::7/64"]),
        "c": ("CIDR", pg.CIDR(), ["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"]),
        "b": ("BYTEA", pg.BYTEA(), [b"\x00", b"\\x00'", b""]),
        "iv": ("INTERVAL", pg.INTERVAL(), [dt.timedelta(days=-5, microseconds=1)] * 3),
        "ts": ("TIMESTAMPTZ", pg.TIMESTAMP(timezone=True), [aware] * 3),
        "d": ("DOUBLE PRECISION", pg.DOUBLE_PRECISION(), [1.25, -0.0, 1e-300]),
        "j": ("JSON", pg.JSON(), [{"a": None}, [], "x"]),
        "jb": ("JSONB", pg.JSONB(), [{"a": [1, {"b": "'"}]}, 0, None]),
        "u": ("UUID", pg.UUID(), [uuid.uuid4(), uuid.UUID(int=1), uuid.UUID(int=2)]),
    }
    with engine.connect() as conn:
        ddl = ", ".join(f"{name} {spec[0]}" for name, spec in cols.items())
        conn.execute(text(f"CREATE TEMP TABLE p (id INTEGER, {ddl})"))
        names = list(cols)
        insert = text(
            f"INSERT INTO p (id, {', '.join(names)}) VALUES (:id, "
            + ", ".join(f":{n}" for n in names)
            + ")"
        ).bindparams(*(bindparam(n, type_=cols[n][1]) for n in names))
        params = [{"id": i, **{n: cols[n][2][i] for n in names}} for i in range(3)]
        conn.execute(insert, params)
        sel = text(f"SELECT {', '.join(names)} FROM p ORDER BY id").columns(
            **{n: cols[n][1] for n in names}
        )
        rows = conn.execute(sel).all()
        for i, row in enumerate(rows):
            for n in names:
                expected = cols[n][2][i]
                got = getattr(row, n)
                assert got == expected, (n, got, expected)
                assert type(got) is type(expected), (n, got)
        assert rows[0].ts.utcoffset() == dt.timedelta(hours=5) or rows[0].ts == aware
        conn.rollback()


def test_datetime_timezone(engine: Engine) -> None:
    aware = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc)
    t = sa.DateTime(timezone=True)
    with engine.connect() as conn:
        got = _select(conn, t, aware)
        if engine.dialect.name == "postgresql":
            assert got == aware and got.tzinfo is not None
        else:  # SQLite keeps SQLAlchemy's string format, without the zone
            assert got == aware.replace(tzinfo=None)


def test_pg_array(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("ARRAY is PostgreSQL only")
    cols = {
        "ints": ("INTEGER[]", pg.ARRAY(sa.Integer), [[1, 2, 3], [], [None, -1]]),
        "strs": ("TEXT[]", pg.ARRAY(sa.String), [HOSTILE, ["a"], []]),
        "grid": (
            "INTEGER[][]",
            pg.ARRAY(sa.Integer, dimensions=2),
            [[[1, 2], [3, 4]], [[5]], []],
        ),
        "colors": (
            "TEXT[]",
            pg.ARRAY(sa.Enum(Color)),
            [[Color.RED, Color.BLUE], [Color.GREEN], []],
        ),
        "nums": (
            "NUMERIC(6, 2)[]",
            pg.ARRAY(sa.Numeric(6, 2)),
            [[Decimal("1.10"), Decimal("-2.00")], [], [None]],
        ),
        "days": (
            "DATE[]",
            sa.ARRAY(sa.Date),
            [[dt.date(2020, 1, 1)], [], [dt.date(1, 1, 1), None]],
        ),
    }
    with engine.connect() as conn:
        ddl = ", ".join(f"{name} {spec[0]}" for name, spec in cols.items())
        conn.execute(text(f"CREATE TEMP TABLE a (id INTEGER, {ddl})"))
        names = list(cols)
        insert = text(
            f"INSERT INTO a (id, {', '.join(names)}) VALUES (:id, "
            + ", ".join(f":{n}" for n in names)
            + ")"
        ).bindparams(*(bindparam(n, type_=cols[n][1]) for n in names))
        for i in range(3):
            conn.execute(insert, {"id": i, **{n: cols[n][2][i] for n in names}})
        conn.execute(insert, {"id": 3, **dict.fromkeys(names)})
        rows = conn.execute(
            text(f"SELECT {', '.join(names)} FROM a ORDER BY id").columns(
                **{n: cols[n][1] for n in names}
            )
        ).all()
        for i in range(3):
            for n in names:
                assert getattr(rows[i], n) == cols[n][2][i], n
        assert rows[0].colors[0] is Color.RED
        assert str(rows[0].nums[0]) == "1.10"
        assert all(getattr(rows[3], n) is None for n in names)
        tup = pg.ARRAY(sa.Integer, as_tuple=True)
        got = conn.execute(text("SELECT ints FROM a WHERE id = 0").columns(ints=tup)).scalar()
        assert got == (1, 2, 3)
        conn.rollback()


def test_array_rejected_without_native_support(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL has arrays")
    with engine.connect() as conn, pytest.raises(exc.CompileError, match="ARRAY"):
        _select(conn, sa.ARRAY(sa.Integer), [1])


def test_array_cannot_nest() -> None:
    with pytest.raises(exc.ArgumentError, match="dimensions"):
        sa.ARRAY(sa.ARRAY(sa.Integer))


# -- TypeDecorator ----------------------------------------------------------------------


class UTCDateTime(sa.TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, stored naive UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.replace(tzinfo=dt.timezone.utc)


class CSV(sa.TypeDecorator):
    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else ",".join(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.split(",")


class PerDialectJSON(sa.TypeDecorator):
    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> types.TypeEngine:
        return pg.JSONB() if dialect.name == "postgresql" else sa.JSON()


def test_type_decorator(engine: Engine) -> None:
    t = UTCDateTime()
    assert isinstance(t.impl, sa.DateTime) and t.python_type is dt.datetime
    assert t._type_affinity is sa.DateTime
    csv = CSV(40)
    assert csv.length == 40  # constructor arguments go to impl, attributes read through
    aware = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    with engine.connect() as conn:
        got = _select(conn, t, aware)
        assert got == aware and got.tzinfo is dt.timezone.utc
        assert _select(conn, t, None) is None
        assert _select(conn, csv, ["a", "b'", "c"]) == ["a", "b'", "c"]
        conn.execute(text(f"CREATE TEMP TABLE td (v {_json_ddl(engine)})"))
        pj = PerDialectJSON()
        conn.execute(
            text("INSERT INTO td (v) VALUES (:v)").bindparams(bindparam("v", type_=pj)),
            {"v": {"x": 1}},
        )
        assert conn.execute(text("SELECT v FROM td").columns(v=pj)).scalar_one() == {"x": 1}
        conn.rollback()


def test_type_decorator_requires_impl() -> None:
    class Broken(sa.TypeDecorator):
        cache_ok = True

    with pytest.raises(AssertionError, match="impl"):
        Broken()


# -- processors are chosen up front -----------------------------------------------------

SQLITE = SQLiteDialect("pysqlite", "named")
PSYCOPG = PGDialect("psycopg", "pyformat")
PSYCOPG2 = PGDialect("psycopg2", "pyformat")


@pytest.mark.parametrize(
    ("type_", "dialect", "bind", "result"),
    [
        (sa.Integer(), SQLITE, False, False),
        (sa.String(), PSYCOPG, False, False),
        (sa.DateTime(), PSYCOPG, False, False),
        (sa.DateTime(), SQLITE, True, True),
        (sa.Numeric(), PSYCOPG, False, False),
        (sa.Numeric(), SQLITE, True, True),
        (sa.Interval(), PSYCOPG2, False, False),
        (sa.Uuid(), PSYCOPG, False, False),
        (sa.Uuid(), PSYCOPG2, True, True),
        (sa.JSON(), PSYCOPG2, True, False),
        (sa.JSON(), SQLITE, True, True),
        (sa.LargeBinary(), PSYCOPG, False, False),
        (sa.LargeBinary(), PSYCOPG2, False, True),
        (pg.INET(), PSYCOPG2, False, False),
        (pg.INET(), PSYCOPG, False, True),
        (pg.ARRAY(sa.Integer), PSYCOPG, False, False),
    ],
)
def test_processors_decided_by_flags(type_: Any, dialect: Any, bind: bool, result: bool) -> None:
    assert (type_.bind_processor(dialect) is not None) is bind
    assert (type_.result_processor(dialect, None) is not None) is result


def test_sqlite_numeric_precision_documented() -> None:
    """SQLite stores Numeric as a float: the scale is restored, beyond 15 digits is not."""
    bind = sa.Numeric(10, 2).bind_processor(SQLITE)
    read = sa.Numeric(10, 2).result_processor(SQLITE, None)
    assert bind is not None and read is not None
    assert str(read(bind(Decimal("1.10")))) == "1.10"
    assert str(read("3.5")) == "3.50"  # a value stored as text reads back too
    assert read(None) is None


def test_boolean_strict() -> None:
    for dialect in (SQLITE, PSYCOPG):
        proc = sa.Boolean().bind_processor(dialect)
        assert proc is not None
        assert proc(1) in (True, 1) and proc(None) is None
        with pytest.raises(TypeError, match="Not a boolean value"):
            proc("no")


# -- names ------------------------------------------------------------------------------

GENERIC = [
    "ARRAY",
    "BIGINT",
    "BINARY",
    "BLOB",
    "BOOLEAN",
    "BigInteger",
    "Boolean",
    "CHAR",
    "CLOB",
    "DATE",
    "DATETIME",
    "DECIMAL",
    "DOUBLE",
    "DOUBLE_PRECISION",
    "Date",
    "DateTime",
    "Double",
    "Enum",
    "FLOAT",
    "Float",
    "INT",
    "INTEGER",
    "Integer",
    "Interval",
    "JSON",
    "LargeBinary",
    "NCHAR",
    "NUMERIC",
    "NVARCHAR",
    "Numeric",
    "PickleType",
    "REAL",
    "SMALLINT",
    "SmallInteger",
    "String",
    "TEXT",
    "TIME",
    "TIMESTAMP",
    "Text",
    "Time",
    "TypeDecorator",
    "UUID",
    "Unicode",
    "UnicodeText",
    "Uuid",
    "VARBINARY",
    "VARCHAR",
]


@pytest.mark.parametrize("name", GENERIC)
def test_exported(name: str) -> None:
    assert getattr(types, name) is getattr(sa, name)
    assert name in sa.__all__ and name in types.__all__
    assert getattr(types, name).__visit_name__


def test_dialect_exports() -> None:
    for name in pg.__all__:
        assert getattr(pg, name)
    for name in sqlite_dialect.__all__:
        assert getattr(sqlite_dialect, name)
    assert pg.JSONB.__visit_name__ == "JSONB" and issubclass(pg.JSONB, sa.JSON)
    assert pg.UUID is sa.UUID and pg.DOUBLE_PRECISION is sa.DOUBLE_PRECISION


def test_constructor_arguments_kept_for_ddl() -> None:
    assert sa.String(30, collation="C").length == 30
    assert sa.Numeric(10, 3).precision == 10 and sa.Numeric(10, 3).scale == 3
    assert sa.DateTime(timezone=True).timezone
    assert pg.TIMESTAMP(timezone=True, precision=3).precision == 3
    assert pg.INTERVAL(fields="DAY TO SECOND").fields == "DAY TO SECOND"
    assert pg.ARRAY(sa.Integer, dimensions=2).item_type.__visit_name__ == "integer"
    assert pg.ENUM("a", name="e").name == "e"
    assert repr(sa.String(50)) == "String(length=50)"
    assert repr(sa.Enum(Color)) == "Enum(Color)"


def test_type_for_literal_values() -> None:
    assert isinstance(bindparam("x", uuid.uuid4()).type, sa.Uuid)
    assert isinstance(bindparam("x", dt.timedelta(1)).type, sa.Interval)
    assert bindparam("x", Color.RED).type.enum_class is Color
