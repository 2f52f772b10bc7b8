"""text() on real databases: ``:name`` binds, escapes, PostgreSQL casts, literal colons and
percent signs, bindparams(), columns() typing, executemany, and the errors for a missing
value or an un-text()-ed string.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator

import pytest

from conftest import pg_url, require_pg
from hermetic import DateTime, Integer, String, bindparam, column, create_engine, exc, text
from hermetic.engine import Engine


@pytest.fixture
def table(engine: Engine) -> Iterator[str]:
    """A unique table (id INTEGER PRIMARY KEY, name VARCHAR(50), at TIMESTAMP)."""
    name = f"t_text_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(
            text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, name VARCHAR(50), at TIMESTAMP)")
        )
    yield name
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


# --------------------------------------------------------------------------- binds


def test_named_binds(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO {table} (id, name) VALUES (:id, :name)"), {"id": 1, "name": "ada"}
        )
        row = conn.execute(
            text(f"SELECT id, name FROM {table} WHERE name = :name AND id >= :low"),
            {"name": "ada", "low": 0},
        ).one()
        assert tuple(row) == (1, "ada")


def test_repeated_bind_name(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} (id, name) VALUES (:x, :n)"), {"x": 7, "n": "a"})
        row = conn.execute(
            text(f"SELECT id, name FROM {table} WHERE id = :x OR id = :x + 0 OR name = :n"),
            {"x": 7, "n": "zzz"},
        ).one()
        assert row.id == 7
        a, b = conn.execute(
            text("SELECT CAST(:x AS INTEGER) AS a, CAST(:x AS INTEGER) * 2 AS b"), {"x": 21}
        ).one()
        assert (a, b) == (21, 42)


def test_values_are_bound_not_interpolated(engine: Engine, table: str) -> None:
    evil = "x'); DROP TABLE " + table + "; --"
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} (id, name) VALUES (1, :n)"), {"n": evil})
        assert conn.execute(text(f"SELECT name FROM {table}")).scalar_one() == evil
        assert (
            conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE name = :n"), {"n": "' OR '1'='1"}
            ).scalar()
            == 0
        )
        conn.execute(text(f"INSERT INTO {table} (id, name) VALUES (2, :n)"), {"n": None})
        assert conn.execute(text(f"SELECT name FROM {table} WHERE id = 2")).scalar() is None
        conn.execute(text(f"INSERT INTO {table} (id, name) VALUES (3, :n)"), {"n": "żółw ☃"})
        assert conn.execute(text(f"SELECT name FROM {table} WHERE id = 3")).scalar() == "żółw ☃"


def test_backslash_colon_is_a_literal_colon(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text(r"SELECT 'a\:b' AS v")).scalar() == "a:b"
        assert conn.execute(text(r"SELECT '\:x' AS v, :y AS w"), {"y": "y"}).one() == (":x", "y")


def test_time_literal_untouched(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT '10:30' AS t")).scalar() == "10:30"
        assert conn.execute(text("SELECT '10:30:59' AS t, :p AS p"), {"p": 1}).one() == (
            "10:30:59",
            1,
        )


def test_percent_signs(engine: Engine, table: str) -> None:
    """A literal % needs no escaping in text(), with or without parameters (psycopg's
    pyformat doubles it internally)."""
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} (id, name) VALUES (1, 'abc'), (2, 'xbc')"))
        assert conn.execute(text(f"SELECT id FROM {table} WHERE name LIKE 'a%'")).scalar_one() == 1
        assert (
            conn.execute(
                text(f"SELECT id FROM {table} WHERE name LIKE 'x%' AND id = :id"), {"id": 2}
            ).scalar_one()
            == 2
        )
        assert conn.execute(text("SELECT 5 % 2 AS m")).scalar() == 1
        assert conn.execute(text("SELECT 7 % :d AS m"), {"d": 4}).scalar() == 3
        assert conn.execute(text("SELECT '100%' AS s")).scalar() == "100%"
        assert conn.execute(text("SELECT '%s' AS s, '%(x)s' AS t")).one() == ("%s", "%(x)s")
        # parameters that the statement does not use do not change that
        assert conn.execute(text("SELECT 5 % 2 AS m"), {"unused": 1}).scalar() == 1


def test_pg_double_colon_cast() -> None:
    """``:x::int`` binds x and keeps the cast (hermetic parses it; SQLAlchemy needs the
    portable escaped form ``:x\\:\\:int``, tested below)."""
    require_pg()
    for driver in ("psycopg", "psycopg2"):
        eng = create_engine(pg_url(driver))
        with eng.connect() as conn:
            assert conn.execute(text("SELECT :x::int AS v"), {"x": "42"}).scalar() == 42
            assert conn.execute(text("SELECT :x::text AS v"), {"x": 5}).scalar() == "5"
            row = conn.execute(
                text("SELECT :a::int + :b::int AS s, 'x'::text AS t"), {"a": "1", "b": "2"}
            ).one()
            assert tuple(row) == (3, "x")
        eng.dispose()


def test_pg_escaped_double_colon_cast() -> None:
    require_pg()
    for driver in ("psycopg", "psycopg2"):
        eng = create_engine(pg_url(driver))
        with eng.connect() as conn:
            stmt = text(r"SELECT :x\:\:int AS v, '1'\:\:int AS w")
            assert tuple(conn.execute(stmt, {"x": "8"}).one()) == (8, 1)
        eng.dispose()


def test_pg_native_cast_without_binds(pg_engine: Engine) -> None:
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT '7'::int AS v")).scalar() == 7
        assert conn.execute(text("SELECT now()::date = current_date AS v")).scalar() is True


def test_same_text_on_two_backends(sqlite_url: str) -> None:
    """A text() object compiles once per dialect/paramstyle (named vs pyformat)."""
    require_pg()
    stmt = text("SELECT :a AS a, '50%' AS pct, :b AS b")
    lite = create_engine(sqlite_url)
    pg = create_engine(pg_url())
    try:
        for eng in (lite, pg, lite, pg):
            with eng.connect() as conn:
                assert tuple(conn.execute(stmt, {"a": 1, "b": "two"}).one()) == (1, "50%", "two")
    finally:
        lite.dispose()
        pg.dispose()


# --------------------------------------------------------------------------- bindparams


def test_bindparams_values(engine: Engine) -> None:
    base = text("SELECT :x AS x, :y AS y")
    bound = base.bindparams(x=5, y="five")
    assert bound is not base
    with engine.connect() as conn:
        assert tuple(conn.execute(bound).one()) == (5, "five")
        # parameters given at execution override the bound values
        assert tuple(conn.execute(bound, {"x": 6}).one()) == (6, "five")
        # the original still needs its values
        with pytest.raises(exc.StatementError):
            conn.execute(base)


def test_bindparams_partial_then_execute(engine: Engine) -> None:
    stmt = text("SELECT :x AS x, :y AS y").bindparams(x=1)
    with engine.connect() as conn:
        assert tuple(conn.execute(stmt, {"y": 2}).one()) == (1, 2)
        with pytest.raises(exc.StatementError, match="'y'"):
            conn.execute(stmt)


def test_bindparams_unknown_name(engine: Engine) -> None:
    with pytest.raises(exc.ArgumentError, match="nope"):
        text("SELECT :x").bindparams(nope=1)
    with pytest.raises(exc.ArgumentError, match="nope"):
        text("SELECT :x").bindparams(bindparam("nope", 1))


def test_bindparams_typed_datetime(engine: Engine, table: str) -> None:
    when = dt.datetime(2024, 1, 2, 3, 4, 5)
    insert = text(f"INSERT INTO {table} (id, at) VALUES (:id, :at)").bindparams(
        bindparam("at", type_=DateTime)
    )
    select = (
        text(f"SELECT id, at FROM {table} WHERE at = :at ORDER BY id")
        .bindparams(bindparam("at", type_=DateTime))
        .columns(id=Integer, at=DateTime)
    )
    with engine.begin() as conn:
        conn.execute(insert, {"id": 1, "at": when})
        conn.execute(insert, {"id": 2, "at": when.replace(microsecond=250)})
        rows = conn.execute(select, {"at": when}).all()
        assert [tuple(r) for r in rows] == [(1, when)]
        assert isinstance(rows[0].at, dt.datetime)
        assert conn.execute(select, {"at": when.replace(microsecond=250)}).one().id == 2


def test_sqlite_datetime_storage_format_matches_sqlalchemy(tmp_path: object) -> None:
    """SQLite stores DateTime as text in SQLAlchemy's format (microseconds always), so
    databases written by either library compare equal."""
    path = f"{tmp_path}/dt.db"
    eng = create_engine(f"sqlite:///{path}")
    try:
        with eng.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER, at TIMESTAMP)"))
            stmt = text("INSERT INTO t VALUES (:id, :at)").bindparams(
                bindparam("at", type_=DateTime)
            )
            conn.execute(stmt, {"id": 1, "at": dt.datetime(2024, 1, 2, 3, 4, 5)})
            conn.execute(stmt, {"id": 2, "at": dt.datetime(2024, 1, 2, 3, 4, 5, 7)})
            conn.execute(stmt, {"id": 3, "at": dt.date(2024, 1, 2)})
    finally:
        eng.dispose()
    raw = sqlite3.connect(path)
    try:
        stored = raw.execute("SELECT at FROM t ORDER BY id").fetchall()
    finally:
        raw.close()
    assert stored == [
        ("2024-01-02 03:04:05.000000",),
        ("2024-01-02 03:04:05.000007",),
        ("2024-01-02 00:00:00.000000",),
    ]


def test_bindparam_with_value_and_type(engine: Engine) -> None:
    stmt = text("SELECT :n AS n, :s AS s").bindparams(
        bindparam("n", 3, type_=Integer), bindparam("s", "abc", type_=String)
    )
    with engine.connect() as conn:
        assert tuple(conn.execute(stmt).one()) == (3, "abc")


# --------------------------------------------------------------------------- columns()


def test_columns_convert_sqlite_strings(sqlite_url: str) -> None:
    eng = create_engine(sqlite_url)
    try:
        with eng.connect() as conn:
            raw = conn.execute(text("SELECT 1 AS a, '2024-01-02 03:04:05' AS d")).one()
            assert raw.d == "2024-01-02 03:04:05"  # untyped: the driver's string
            stmt = text("SELECT 1 AS a, '2024-01-02 03:04:05' AS d").columns(a=Integer, d=DateTime)
            row = conn.execute(stmt).one()
            assert row.a == 1
            assert row.d == dt.datetime(2024, 1, 2, 3, 4, 5)
            stmt2 = text("SELECT '2024-01-02 03:04:05.000123' AS d, NULL AS e").columns(
                column("d", DateTime), column("e", DateTime)
            )
            assert tuple(conn.execute(stmt2).one()) == (
                dt.datetime(2024, 1, 2, 3, 4, 5, 123),
                None,
            )
            assert list(conn.execute(stmt).keys()) == ["a", "d"]
    finally:
        eng.dispose()


def test_columns_on_every_backend(engine: Engine, table: str) -> None:
    when = dt.datetime(2023, 12, 31, 23, 59, 58)
    with engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO {table} (id, name, at) VALUES (:id, :name, :at)").bindparams(
                bindparam("at", type_=DateTime)
            ),
            {"id": 1, "name": "n", "at": when},
        )
        stmt = text(f"SELECT id, name, at FROM {table}").columns(
            id=Integer, name=String, at=DateTime
        )
        row = conn.execute(stmt).one()
        assert row._mapping == {"id": 1, "name": "n", "at": when}
        assert conn.execute(stmt).scalars("at").one() == when


def test_columns_then_bindparams(engine: Engine) -> None:
    stmt = text("SELECT :x AS x").columns(x=Integer).bindparams(x=9)
    with engine.connect() as conn:
        assert conn.execute(stmt).scalar_one() == 9


# --------------------------------------------------------------------------- executemany


def test_list_of_dicts_is_executemany(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        result = conn.execute(
            text(f"INSERT INTO {table} (id, name) VALUES (:id, :name)"),
            [{"id": i, "name": f"n{i}"} for i in range(1, 6)],
        )
        assert result.rowcount == 5
        assert not result.returns_rows
        result = conn.execute(
            text(f"UPDATE {table} SET name = :name WHERE id = :id"),
            [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}, {"id": 99, "name": "none"}],
        )
        assert result.rowcount == 2
        names = conn.execute(text(f"SELECT name FROM {table} ORDER BY id")).scalars().all()
        assert names == ["one", "two", "n3", "n4", "n5"]


def test_single_element_list_and_empty_dict(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        result = conn.execute(
            text(f"INSERT INTO {table} (id, name) VALUES (:id, :name)"), [{"id": 1, "name": "x"}]
        )
        assert result.rowcount == 1
        assert conn.execute(text(f"SELECT count(*) FROM {table}"), {}).scalar() == 1


def test_executemany_missing_value_in_later_set(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        with pytest.raises(exc.StatementError, match="'name'") as info:
            conn.execute(
                text(f"INSERT INTO {table} (id, name) VALUES (:id, :name)"),
                [{"id": 1, "name": "a"}, {"id": 2}],
            )
        assert isinstance(info.value.orig, exc.InvalidRequestError)
        conn.rollback()
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0


# --------------------------------------------------------------------------- errors


def test_missing_value_raises_statement_error(engine: Engine) -> None:
    with engine.connect() as conn:
        with pytest.raises(exc.StatementError) as info:
            conn.execute(text("SELECT :x AS x, :y AS y"), {"y": 1})
        err = info.value
        assert not isinstance(err, exc.DBAPIError)
        assert isinstance(err.orig, exc.InvalidRequestError)
        assert "A value is required for bind parameter 'x'" in str(err)
        assert err.statement is not None and "AS x" in err.statement
        assert "[SQL:" in str(err)
        # nothing was sent: the connection is fine
        assert conn.execute(text("SELECT :x AS x"), {"x": 2}).scalar() == 2
    with engine.connect() as conn, pytest.raises(exc.StatementError, match="'x'"):
        conn.execute(text("SELECT :x AS x"))


def test_plain_string_is_not_executable(engine: Engine) -> None:
    with engine.connect() as conn:
        with pytest.raises(exc.ObjectNotExecutableError) as info:
            conn.execute("SELECT 1")  # type: ignore[arg-type]
        assert isinstance(info.value, exc.ArgumentError)
        assert "SELECT 1" in str(info.value)
        assert not conn.in_transaction()
        with pytest.raises(exc.ArgumentError):
            conn.execute(42)  # type: ignore[arg-type]
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_text_str_and_execution_options(engine: Engine) -> None:
    stmt = text("SELECT :x AS x")
    assert str(stmt) == "SELECT :x AS x"
    opts = stmt.execution_options(custom="yes")
    assert opts is not stmt
    assert opts.get_execution_options()["custom"] == "yes"
    assert "custom" not in stmt.get_execution_options()
    with engine.connect() as conn:
        assert conn.execute(opts, {"x": 1}).scalar() == 1


@pytest.mark.parametrize("values", [[], [1], [1, 3], (2, 3, 4)])
def test_expanding_in(engine: Engine, values: list[int]) -> None:
    stmt = text(
        "SELECT n FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) AS t "
        "WHERE n IN :ids AND n > :floor ORDER BY n"
    ).bindparams(bindparam("ids", expanding=True))
    not_in = text(
        "SELECT n FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) AS t "
        "WHERE n NOT IN :ids ORDER BY n"
    ).bindparams(bindparam("ids", expanding=True))
    with engine.connect() as conn:
        got = conn.execute(stmt, {"ids": values, "floor": 0}).scalars().all()
        assert got == [n for n in (1, 2, 3) if n in values]
        rest = conn.execute(not_in, {"ids": values}).scalars().all()
        assert rest == [n for n in (1, 2, 3) if n not in values]


def test_expanding_needs_a_list(engine: Engine) -> None:
    stmt = text("SELECT 1 WHERE 1 IN :ids").bindparams(bindparam("ids", expanding=True))
    with engine.connect() as conn:
        with pytest.raises(exc.ArgumentError, match=r"expanding.*list or tuple"):
            conn.execute(stmt, {"ids": "abc"})
        with pytest.raises(exc.ArgumentError, match="executemany"):
            conn.execute(stmt, [{"ids": [1]}, {"ids": [2]}])
