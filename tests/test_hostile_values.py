"""Hostile values: every one must come back unchanged, bound and as a rendered literal.

Three parts:

1. Literal rendering per type and dialect (generic ``str()``, SQLite, PostgreSQL):
   table-driven snapshots, the errors for values without a literal form, and the
   compiler details that literals touch (``%``, unary minus, empty IN, ESCAPE, DDL).
2. Round trips on real SQLite and PostgreSQL (psycopg and psycopg2): each value is
   inserted (a) with bound parameters and (b) as ``literal_binds`` SQL run through
   ``conn.exec_driver_sql`` with no parameters (so no placeholder syntax, ``%`` or ``?``
   or ``:name``, is interpreted), read back through the type, found again by
   ``WHERE v = value`` in both forms, and selected bare (``SELECT <literal>``).
3. Rendering executed: the SQL a user prints is SQL the database runs.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import uuid
from decimal import Decimal
from typing import Any

import pytest

import hermetic as sa
from hermetic import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    column,
    exc,
    insert,
    literal,
    literal_column,
    select,
    table,
)
from hermetic.dialects import postgresql as pg
from hermetic.dialects.postgresql.base import PGDialect
from hermetic.dialects.sqlite.base import SQLiteDialect
from hermetic.engine import Connection, Engine
from hermetic.sql.ddl import CreateTable

SQLITE = SQLiteDialect("pysqlite", "qmark")
PG = PGDialect("psycopg", "pyformat")
PG2 = PGDialect("psycopg2", "pyformat")


def lit(value: Any, type_: Any = None, dialect: Any = None) -> str:
    """The SQL text of one literal value."""
    sql = str(
        select(literal(value, type_)).compile(
            dialect=dialect, compile_kwargs={"literal_binds": True}
        )
    )
    assert sql.startswith("SELECT ") and sql.endswith(" AS anon_1"), sql
    return sql[len("SELECT ") : -len(" AS anon_1")]


class Color(enum.Enum):
    RED = 1
    GREEN = 2


class Upper(sa.TypeDecorator):
    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.upper()


TZ = dt.timezone(dt.timedelta(hours=5, minutes=30))

# (id, value, type, generic, sqlite, postgresql); an expected exception class instead of
# a string means the value has no literal form there
SAME = object()
LITERALS: list[tuple[str, Any, Any, Any, Any, Any]] = [
    ("str", "it's", String(), "'it''s'", SAME, SAME),
    ("str-backslash", "a\\'b", String(), "'a\\''b'", SAME, "E'a\\\\''b'"),
    ("str-percent", "100% %(x)s :x ?", String(), "'100% %(x)s :x ?'", SAME, SAME),
    ("str-none", None, String(), "NULL", SAME, SAME),
    ("text-unicode", "😀 e\u0301 שלום", sa.Text(), "'😀 e\u0301 שלום'", SAME, SAME),
    ("int", 42, Integer(), "42", SAME, SAME),
    ("int-negative", -7, Integer(), "-7", SAME, SAME),
    ("bigint", 2**63 - 1, sa.BigInteger(), str(2**63 - 1), SAME, SAME),
    ("int-enum", Color.GREEN.value, sa.SmallInteger(), "2", SAME, SAME),
    ("bool-true", True, sa.Boolean(), "true", "1", "true"),
    ("bool-false", False, sa.Boolean(), "false", "0", "false"),
    ("float", 0.1, sa.Float(), "0.1", SAME, SAME),
    ("float-exponent", 1e16, sa.Double(), "1e+16", SAME, SAME),
    ("float-tiny", 5e-324, sa.Double(), "5e-324", SAME, SAME),
    (
        "float-inf",
        math.inf,
        sa.Float(),
        "CAST('Infinity' AS DOUBLE PRECISION)",
        "CAST(9e999 AS DOUBLE PRECISION)",
        "CAST('Infinity' AS DOUBLE PRECISION)",
    ),
    (
        "float-neg-inf",
        -math.inf,
        sa.Float(),
        "CAST('-Infinity' AS DOUBLE PRECISION)",
        "CAST(-9e999 AS DOUBLE PRECISION)",
        "CAST('-Infinity' AS DOUBLE PRECISION)",
    ),
    (
        "float-nan",
        math.nan,
        sa.Float(),
        "CAST('NaN' AS DOUBLE PRECISION)",
        exc.CompileError,
        "CAST('NaN' AS DOUBLE PRECISION)",
    ),
    ("float-neg-zero", -0.0, sa.Float(), "-0.0", "-0.0", "CAST('-0' AS DOUBLE PRECISION)"),
    ("numeric", Decimal("1.10"), sa.Numeric(10, 2), "1.10", SAME, SAME),
    ("numeric-exponent", Decimal("1E+3"), sa.Numeric(), "1000", SAME, SAME),
    ("numeric-small", Decimal("-1E-7"), sa.Numeric(), "-0.0000001", SAME, SAME),
    (
        "numeric-nan",
        Decimal("NaN"),
        sa.Numeric(),
        "CAST('NaN' AS NUMERIC)",
        exc.CompileError,
        "CAST('NaN' AS NUMERIC)",
    ),
    (
        "numeric-inf",
        Decimal("-Infinity"),
        sa.Numeric(),
        "CAST('-Infinity' AS NUMERIC)",
        "CAST(-9e999 AS NUMERIC)",
        "CAST('-Infinity' AS NUMERIC)",
    ),
    ("date", dt.date(2024, 1, 2), sa.Date(), "DATE '2024-01-02'", "'2024-01-02'", SAME),
    (
        "datetime",
        dt.datetime(2024, 1, 2, 3, 4, 5, 6),
        sa.DateTime(),
        "TIMESTAMP '2024-01-02 03:04:05.000006'",
        "'2024-01-02 03:04:05.000006'",
        "TIMESTAMP '2024-01-02 03:04:05.000006'",
    ),
    (
        "datetime-whole-second",
        dt.datetime(2024, 1, 2, 3, 4, 5),
        sa.DateTime(),
        "TIMESTAMP '2024-01-02 03:04:05'",
        "'2024-01-02 03:04:05.000000'",
        "TIMESTAMP '2024-01-02 03:04:05'",
    ),
    (
        "datetime-aware",
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=TZ),
        sa.DateTime(timezone=True),
        "TIMESTAMP WITH TIME ZONE '2024-01-02 03:04:05+05:30'",
        "'2024-01-02 03:04:05.000000'",
        "TIMESTAMP WITH TIME ZONE '2024-01-02 03:04:05+05:30'",
    ),
    (
        "datetime-given-date",
        dt.date(2024, 1, 2),
        sa.DateTime(),
        "TIMESTAMP '2024-01-02'",
        "'2024-01-02 00:00:00.000000'",
        "TIMESTAMP '2024-01-02'",
    ),
    ("time", dt.time(1, 2, 3), sa.Time(), "TIME '01:02:03'", "'01:02:03.000000'", SAME),
    (
        "time-aware",
        dt.time(1, 2, 3, 4, tzinfo=TZ),
        sa.Time(timezone=True),
        "TIME WITH TIME ZONE '01:02:03.000004+05:30'",
        "'01:02:03.000004'",
        "TIME WITH TIME ZONE '01:02:03.000004+05:30'",
    ),
    (
        "interval",
        dt.timedelta(days=1, seconds=2, microseconds=3),
        sa.Interval(),
        "INTERVAL '1 days 2.000003 seconds'",
        "'1970-01-02 00:00:02.000003'",
        "INTERVAL '1 days 2.000003 seconds'",
    ),
    (
        "interval-negative",
        dt.timedelta(microseconds=-1),
        sa.Interval(),
        "INTERVAL '-1 days 86399.999999 seconds'",
        "'1969-12-31 23:59:59.999999'",
        "INTERVAL '-1 days 86399.999999 seconds'",
    ),
    ("interval-zero", dt.timedelta(0), sa.Interval(), "INTERVAL '0 seconds'", None, SAME),
    (
        "interval-not-native",
        dt.timedelta(days=2),
        sa.Interval(native=False),
        "TIMESTAMP '1970-01-03 00:00:00'",
        "'1970-01-03 00:00:00.000000'",
        "TIMESTAMP '1970-01-03 00:00:00'",
    ),
    ("bytes", b"\x00'\xff", sa.LargeBinary(), "X'0027ff'", SAME, "E'\\\\x0027ff'::BYTEA"),
    ("bytes-empty", b"", sa.LargeBinary(), "X''", SAME, "E'\\\\x'::BYTEA"),
    ("bytearray", bytearray(b"ab"), sa.LargeBinary(), "X'6162'", SAME, "E'\\\\x6162'::BYTEA"),
    (
        "uuid",
        uuid.UUID(int=1),
        sa.Uuid(),
        "UUID '00000000-0000-0000-0000-000000000001'",
        "'00000000000000000000000000000001'",
        "UUID '00000000-0000-0000-0000-000000000001'",
    ),
    (
        "uuid-as-string",
        "12345678-1234-5678-1234-567812345678",
        sa.Uuid(as_uuid=False),
        "UUID '12345678-1234-5678-1234-567812345678'",
        "'12345678123456781234567812345678'",
        "UUID '12345678-1234-5678-1234-567812345678'",
    ),
    (
        "uuid-not-native",
        uuid.UUID(int=2),
        sa.Uuid(native_uuid=False),
        "'00000000000000000000000000000002'",
        SAME,
        SAME,
    ),
    ("json", {"k'": 'say "hi" \\'}, sa.JSON(), '\'{"k\'\'": "say \\"hi\\" \\\\"}\'', SAME, None),
    ("json-none", None, sa.JSON(), "'null'", SAME, SAME),
    ("json-none-as-null", None, sa.JSON(none_as_null=True), "NULL", SAME, SAME),
    ("json-list", [1, "%s"], pg.JSONB(), "'[1, \"%s\"]'", SAME, SAME),
    ("enum", "b'", sa.Enum("a", "b'", name="e"), "'b'''", SAME, SAME),
    ("enum-class", Color.RED, sa.Enum(Color), "'RED'", SAME, SAME),
    (
        "array",
        [1, None, -3],
        pg.ARRAY(Integer),
        "ARRAY[1, NULL, -3]::INTEGER[]",
        exc.CompileError,
        "ARRAY[1, NULL, -3]::INTEGER[]",
    ),
    ("array-empty", [], pg.ARRAY(Integer), "ARRAY[]::INTEGER[]", exc.CompileError, SAME),
    (
        "array-strings",
        ["it's", "a\\b", None],
        pg.ARRAY(String(5)),
        "ARRAY['it''s', 'a\\b', NULL]::VARCHAR(5)[]",
        exc.CompileError,
        "ARRAY['it''s', E'a\\\\b', NULL]::VARCHAR(5)[]",
    ),
    (
        "array-2d",
        [[1, 2], [3, 4]],
        pg.ARRAY(Integer, dimensions=2),
        "ARRAY[ARRAY[1, 2], ARRAY[3, 4]]::INTEGER[]",
        exc.CompileError,
        SAME,
    ),
    (
        "array-of-json-1d",
        [[1, 2]],
        pg.ARRAY(sa.JSON, dimensions=1),
        "ARRAY['[1, 2]']::JSON[]",
        exc.CompileError,
        SAME,
    ),
    ("decorator", "it's", Upper(), "'IT''S'", SAME, SAME),
    ("variant", True, sa.Boolean().with_variant(Integer(), "sqlite"), "true", "1", "true"),
    # a value the declared type does not take is rendered by its own type, as the
    # driver would bind it (the compared value's type is the column's, unconverted)
    ("int-column-float", 2.5, Integer(), "2.5", SAME, SAME),
    (
        "string-column-date",
        dt.date(2024, 1, 2),
        String(),
        "DATE '2024-01-02'",
        "'2024-01-02'",
        SAME,
    ),
    ("no-type", "x", None, "'x'", SAME, SAME),
]


def _dialect_cases() -> list[Any]:
    cases = []
    for id_, value, type_, generic, sqlite, postgresql in LITERALS:
        for name, dialect, expected in (
            ("generic", None, generic),
            ("sqlite", SQLITE, sqlite),
            ("postgresql", PG, postgresql),
        ):
            if expected is SAME:
                expected = generic
            if expected is None:
                continue
            cases.append(pytest.param(value, type_, dialect, expected, id=f"{id_}-{name}"))
    return cases


@pytest.mark.parametrize(("value", "type_", "dialect", "expected"), _dialect_cases())
def test_literal_rendering(value: Any, type_: Any, dialect: Any, expected: Any) -> None:
    if isinstance(expected, type):
        with pytest.raises(expected):
            lit(value, type_, dialect)
    else:
        assert lit(value, type_, dialect) == expected


def test_psycopg2_renders_as_psycopg() -> None:
    for _, value, type_, *_ in LITERALS:
        try:
            expected = lit(value, type_, PG)
        except exc.CompileError:
            continue
        assert lit(value, type_, PG2) == expected


# -- values without a literal form ----------------------------------------------------


@pytest.mark.parametrize("dialect", [None, SQLITE, PG], ids=["generic", "sqlite", "pg"])
def test_unrenderable_value_names_type_and_fix(dialect: Any) -> None:
    class Opaque:
        pass

    with pytest.raises(exc.CompileError) as info:
        lit(Opaque(), None, dialect)
    message = str(info.value)
    assert "Opaque" in message
    assert "Bind the value instead" in message and "literal_binds" in message
    with pytest.raises(exc.CompileError, match="dict"):
        lit({"a": 1}, None, dialect)  # a dict is JSON only when typed so


def test_errors_say_why() -> None:
    with pytest.raises(exc.CompileError, match=r"NUL \(\\x00\)"):
        lit("a\x00b", String(), PG)
    with pytest.raises(exc.CompileError, match=r"float value nan.*sqlite has no such value"):
        lit(math.nan, sa.Float(), SQLITE)
    with pytest.raises(exc.CompileError, match="Not a boolean value: 'yes'"):
        lit("yes", sa.Boolean(), PG)
    with pytest.raises(exc.CompileError, match="'c' is not among the defined enum values"):
        lit("c", sa.Enum("a", "b", validate_strings=True), SQLITE)
    with pytest.raises(exc.CompileError, match="does not serialize to JSON"):
        lit({1, 2}, sa.JSON(), SQLITE)
    with pytest.raises(exc.CompileError, match="ARRAY is not supported by the sqlite"):
        lit([1], pg.ARRAY(Integer), SQLITE)


# -- the compiler around literals -----------------------------------------------------

t = table("t", column("x", Integer), column("s", String))


def render(stmt: Any, dialect: Any = None) -> str:
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def test_generic_str() -> None:
    assert str(select(literal("it's"))) == "SELECT :param_1 AS anon_1"
    assert render(select(literal("it's"))) == "SELECT 'it''s' AS anon_1"
    assert render(select(t.c.x).where(t.c.s == "';--")) == ("SELECT t.x FROM t WHERE t.s = ''';--'")


def test_percent_kept_when_nothing_is_bound() -> None:
    """A literal_binds rendering with no placeholder left is final SQL: printed or run
    without parameters, its "%" must stay single (the engine's own compiled statements
    still double it for the pyformat drivers, which undo that given parameters)."""
    stmt = select(t.c.x).where(t.c.s.like("100%"), t.c.s != "%(x)s")
    assert render(stmt, PG) == ("SELECT t.x FROM t WHERE t.s LIKE '100%' AND t.s != '%(x)s'")
    assert str(stmt.compile(dialect=PG)) == (
        "SELECT t.x FROM t WHERE t.s LIKE %(s_1)s AND t.s != %(s_2)s"
    )
    assert str(select(literal_column("'5%'")).compile(dialect=PG)) == "SELECT '5%%'"
    # a required parameter left as a placeholder: still for the driver, still doubled
    pending = select(literal_column("'5%'")).where(t.c.x == bindparam("later"))
    assert render(pending, PG) == "SELECT '5%%' FROM t WHERE t.x = %(later)s"


def test_unary_minus_never_opens_a_comment() -> None:
    assert render(select(-literal(-5))) == "SELECT -(-5) AS anon_1"
    assert render(select(-literal(5))) == "SELECT -5 AS anon_1"
    assert str(select(-(-t.c.x))) == "SELECT -(-t.x) AS anon_1 FROM t"  # noqa: B002
    assert render(select(-literal_column("-1"))) == "SELECT -(-1) AS anon_1"
    assert render(select(t.c.x - -3)) == "SELECT t.x - -3 AS anon_1 FROM t"
    assert str(select(-t.c.x)) == "SELECT -t.x AS anon_1 FROM t"


@pytest.mark.parametrize(
    ("dialect", "empty"),
    [
        (None, "(SELECT 1 WHERE 1!=1)"),
        (SQLITE, "(SELECT 1 FROM (SELECT 1) WHERE 1!=1)"),
        (PG, "(SELECT CAST(NULL AS INTEGER) WHERE 1!=1)"),
    ],
    ids=["generic", "sqlite", "pg"],
)
def test_empty_in_is_an_empty_set(dialect: Any, empty: str) -> None:
    """``x NOT IN (NULL)`` would be NULL, never true: an empty list renders the
    dialect's empty set, as the bound form does."""
    assert render(select(t.c.x).where(t.c.x.not_in([])), dialect) == (
        f"SELECT t.x FROM t WHERE t.x NOT IN {empty}"
    )
    assert render(select(t.c.x).where(t.c.x.in_([1, None])), dialect) == (
        "SELECT t.x FROM t WHERE t.x IN (1, NULL)"
    )


def test_in_list_holding_expressions() -> None:
    stmt = select(t.c.x).where(t.c.x.in_([1, literal(None, Integer), t.c.x + 1]))
    assert str(stmt) == "SELECT t.x FROM t WHERE t.x IN (:x_1, :param_1, t.x + :x_2)"
    assert render(select(t.c.x).where(~t.c.x.in_([2, literal(3)]))) == (
        "SELECT t.x FROM t WHERE t.x NOT IN (2, 3)"
    )


def test_escape_character_is_a_literal_too() -> None:
    stmt = select(t.c.x).where(t.c.s.like("a\\%", escape="\\"))
    assert render(stmt, SQLITE) == "SELECT t.x FROM t WHERE t.s LIKE 'a\\%' ESCAPE '\\'"
    assert render(stmt, PG) == "SELECT t.x FROM t WHERE t.s LIKE E'a\\\\%' ESCAPE E'\\\\'"
    contains = select(t.c.x).where(t.c.s.contains("it's 50%", autoescape=True))
    assert (
        str(contains.compile(dialect=PG)) == "SELECT t.x FROM t WHERE t.s LIKE %(s_1)s ESCAPE '/'"
    )
    assert render(contains, PG) == "SELECT t.x FROM t WHERE t.s LIKE '%it''s 50/%%' ESCAPE '/'"


def test_ddl_defaults_use_the_same_literals() -> None:
    md = MetaData()
    tbl = Table(
        "d",
        md,
        Column("s", String(30), server_default="it's C:\\dir 100%"),
        Column("n", Integer, sa.CheckConstraint(literal_column("n") > -1)),
    )
    assert "DEFAULT 'it''s C:\\dir 100%'" in str(CreateTable(tbl).compile(dialect=SQLITE))
    pg_ddl = CreateTable(tbl)._compile_for(PG).string
    assert "DEFAULT E'it''s C:\\\\dir 100%%'" in pg_ddl  # the engine passes parameters


# -- round trips on the databases -----------------------------------------------------

LONG = ("'\\\"%_:x ;--\n😀\u202e" * 10_000)[:100_000]
STRINGS = [
    "",
    "'",
    "''",
    "it's",
    'say "hi"',
    "';--",
    "'); DROP TABLE x; --",
    "\\",
    "back\\slash\\",
    "\\'",
    "\\'; DROP TABLE x; --",
    "'\\'",
    "E'\\x41'",
    "100%",
    "%%",
    "%s",
    "%(x)s",
    ":name",
    ":1",
    "?",
    "$1",
    "_",
    "a_b%c",
    "line\nbreak\r\ttab",
    "😀🎉",
    "עברית \u202eRTL override",
    "e\u0301 combining",
    "\u200bzero\u200dwidth",
    "日本語",
]
ALL_ENGINES = ("sqlite", "postgresql")


class Case:
    def __init__(
        self,
        id: str,  # noqa: A002 - the pytest id
        make_type: Any,
        values: list[Any],
        *,
        on: tuple[str, ...] = ALL_ENGINES,
        comparable: tuple[str, ...] = ("bound", "literal"),
        bare_select: tuple[str, ...] = ALL_ENGINES,
    ) -> None:
        self.id = id
        self.make_type = make_type
        self.values = values
        self.on = on
        self.comparable = comparable
        self.bare_select = bare_select


def _enum_type() -> Any:
    return sa.Enum(
        "plain", "it's", "100%", "back\\slash", ":name", "😀", name=f"hv_{uuid.uuid4().hex[:10]}"
    )


CASES = [
    Case("string", String, STRINGS),
    Case("text-100k", sa.Text, [LONG]),
    Case(
        "bytes",
        sa.LargeBinary,
        [b"", b"\x00", bytes(range(256)), b"'; DROP TABLE x; --", b"\\x00\\", b"%s%(x)s"],
    ),
    Case("date", sa.Date, [dt.date(1, 1, 1), dt.date(2024, 2, 29), dt.date(9999, 12, 31)]),
    Case(
        "datetime",
        sa.DateTime,
        [
            dt.datetime(2024, 1, 2, 3, 4, 5, 6),
            dt.datetime(1, 1, 1),
            dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
        ],
    ),
    Case(
        "datetime-tz",
        lambda: sa.DateTime(timezone=True),
        [
            dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=TZ),
            dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc),
            dt.datetime(1999, 12, 31, 23, 0, tzinfo=dt.timezone(-dt.timedelta(hours=11))),
        ],
        on=("postgresql",),  # SQLite stores no zone
    ),
    Case("time", sa.Time, [dt.time(0, 0), dt.time(23, 59, 59, 999999), dt.time(12, 30, 0, 1)]),
    Case(
        "interval",
        sa.Interval,
        [
            dt.timedelta(0),
            dt.timedelta(days=-1, microseconds=1),
            dt.timedelta(microseconds=-1),
            dt.timedelta(days=10000, seconds=3, microseconds=5),
        ],
    ),
    Case(
        "numeric",
        lambda: sa.Numeric(30, 10),
        [
            Decimal("0"),
            Decimal("-1.5"),
            Decimal("12345.6789012345"),
            Decimal("0.0000000001"),
            Decimal("-99999.9999999999"),
        ],
    ),
    Case(
        "float",
        sa.Double,
        [
            0.1,
            -2.5,
            1 / 3,
            1e300,
            5e-324,
            2.2250738585072014e-308,
            1.7976931348623157e308,
            math.inf,
            -math.inf,
        ],
    ),
    Case("float-nan", sa.Double, [math.nan], on=("postgresql",)),  # SQLite stores NULL
    Case("boolean", sa.Boolean, [True, False]),
    Case("integer", Integer, [0, -1, 2**31 - 1, -(2**31)]),
    Case("bigint", sa.BigInteger, [2**63 - 1, -(2**63)]),
    Case(
        "uuid",
        sa.Uuid,
        [
            uuid.UUID(int=0),
            uuid.UUID(int=2**128 - 1),
            uuid.UUID("12345678-1234-5678-1234-5678123456ab"),
        ],
    ),
    Case(
        "uuid-as-string",
        lambda: sa.Uuid(as_uuid=False),
        ["12345678-1234-5678-1234-5678123456ab"],
    ),
    Case(
        "json",
        sa.JSON,
        [
            {"a": 'it\'s "q" \\ %(x)s :name ? $1', "k'ey": [1, 2.5, None, True, "😀"]},
            [],
            "'; DROP TABLE x; --",
            0,
            None,
        ],
        comparable=(),  # PostgreSQL's json has no equality
        bare_select=("sqlite",),  # a bare SELECT '...' is text on PostgreSQL (as bound)
    ),
    Case("enum", _enum_type, ["plain", "it's", "100%", "back\\slash", ":name", "😀"]),
    Case(
        "pickle",
        sa.PickleType,
        [{"a": {1, 2}}, "it's"],
        comparable=(),
    ),
    # Arrays are compared in the rendered form only: a bound list has the driver's
    # element type (psycopg: smallint[] / text[]) and PostgreSQL has no
    # integer[] = smallint[]; the literal is cast to the column's array type.
    Case(
        "array-int",
        lambda: pg.ARRAY(Integer),
        [[], [1, None, -3], [2**31 - 1]],
        on=("postgresql",),
        comparable=("literal",),
    ),
    Case(
        "array-str",
        lambda: pg.ARRAY(String),
        [["it's", "\\", "%(x)s", "", None, "😀"], []],
        on=("postgresql",),
        comparable=("literal",),
    ),
    Case(
        "array-2d",
        lambda: pg.ARRAY(Integer, dimensions=2),
        [[[1, 2], [3, None]]],
        on=("postgresql",),
        comparable=("literal",),
    ),
]


def _same(got: Any, expected: Any) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(got, float) and math.isnan(got)
    return bool(got == expected)


def _literal_sql(stmt: Any, conn: Connection) -> str:
    return str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_round_trip_bound_and_literal(engine: Engine, case: Case) -> None:
    if engine.dialect.name not in case.on:
        pytest.skip(f"{case.id} is {', '.join(case.on)} only")
    type_ = case.make_type()
    md = MetaData()
    tbl = Table(
        f"hv_{uuid.uuid4().hex[:12]}",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("v", type_),
    )
    md.create_all(engine)
    try:
        with engine.begin() as conn:
            for i, value in enumerate(case.values):
                conn.execute(insert(tbl).values(id=2 * i, v=value))
                conn.exec_driver_sql(_literal_sql(insert(tbl).values(id=2 * i + 1, v=value), conn))
        with engine.connect() as conn:
            stored = dict(conn.execute(select(tbl.c.id, tbl.c.v)).all())
            assert len(stored) == 2 * len(case.values)  # nothing dropped, nothing extra
            for i, value in enumerate(case.values):
                assert _same(stored[2 * i], value), ("bound", value, stored[2 * i])
                assert _same(stored[2 * i + 1], value), ("literal", value, stored[2 * i + 1])
            if case.comparable:
                for value in case.values:
                    if value is None:
                        continue
                    expected = {
                        k
                        for j, other in enumerate(case.values)
                        if _same(other, value)
                        for k in (2 * j, 2 * j + 1)
                    }
                    where = select(tbl.c.id).where(tbl.c.v == value)
                    if "bound" in case.comparable:
                        assert set(conn.execute(where).scalars()) == expected, value
                    if "literal" in case.comparable:
                        found = conn.exec_driver_sql(_literal_sql(where, conn)).scalars()
                        assert set(found) == expected, (value, _literal_sql(where, conn))
            if engine.dialect.name in case.bare_select:
                proc = type_.result_processor(engine.dialect, None)
                for value in case.values:
                    if value is None:
                        continue
                    sql = _literal_sql(select(literal(value, type_)), conn)
                    raw = conn.exec_driver_sql(sql).scalar()
                    got = proc(raw) if proc is not None else raw
                    assert _same(got, value), (sql[:200], got)
    finally:
        md.drop_all(engine)


def test_rendered_negation_and_escape_run(engine: Engine) -> None:
    """The rendered SQL for the compiler's own literal spots runs and means what the
    bound form means."""
    md = MetaData()
    tbl = Table(f"hv_{uuid.uuid4().hex[:12]}", md, Column("x", Integer), Column("s", String(20)))
    md.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(tbl),
                [{"x": 5, "s": "a\\%b"}, {"x": -5, "s": "a\\xb"}, {"x": None, "s": None}],
            )
        with engine.connect() as conn:
            stmts = [
                select(tbl.c.x).where(-(-tbl.c.x) == -literal(-5)),  # noqa: B002
                select(tbl.c.x).where(tbl.c.s.like("a\\\\\\%b", escape="\\")),
                select(tbl.c.x).where(tbl.c.s.contains("\\%", autoescape=True)),
                select(tbl.c.x).where(tbl.c.x.not_in([])),
                select(tbl.c.x).where(tbl.c.x.not_in([1, None])),
            ]
            for stmt in stmts:
                bound = sorted(conn.execute(stmt).scalars(), key=repr)
                inline = sorted(conn.exec_driver_sql(_literal_sql(stmt, conn)).scalars(), key=repr)
                assert bound == inline, _literal_sql(stmt, conn)
            assert conn.execute(stmts[0]).scalars().all() == [5]
            assert conn.execute(stmts[1]).scalars().all() == [5]
            assert conn.execute(stmts[2]).scalars().all() == [5]
            assert sorted(conn.execute(stmts[3]).scalars(), key=repr) == [-5, 5, None]
            assert conn.execute(stmts[4]).scalars().all() == []
            assert conn.execute(select(-literal(-5))).scalar() == 5
            assert conn.exec_driver_sql(_literal_sql(select(-literal(-5)), conn)).scalar() == 5
    finally:
        md.drop_all(engine)


def test_ddl_default_with_hostile_text(engine: Engine) -> None:
    value = "it's C:\\dir 100% :x ?"
    md = MetaData()
    tbl = Table(
        f"hv_{uuid.uuid4().hex[:12]}",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("s", String(40), server_default=value),
    )
    md.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(tbl).values(id=1))
            assert conn.execute(select(tbl.c.s)).scalar() == value
    finally:
        md.drop_all(engine)
