"""A value the driver, the database or a type's bind processor cannot take: the error names
the bind parameter, shows the value (truncated) and its Python type, says what to do, and
keeps ``.orig``, ``.statement`` and ``.params``. Values are always bound, never written
into the SQL. Real SQLite and PostgreSQL (psycopg and psycopg2).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from hermetic import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    create_engine,
    exc,
    insert,
    select,
    text,
)
from hermetic.drivers._pgcommon import PGDriverBase
from hermetic.drivers.pysqlite import PySQLiteDriver
from hermetic.engine import Engine


class Shout(TypeDecorator):
    """A string type whose bind processor fails on anything but str."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.upper()


@pytest.fixture
def table(engine: Engine) -> Iterator[Table]:
    """A unique table: id INTEGER PRIMARY KEY, name VARCHAR(5), loud (Shout)."""
    t = Table(
        f"t_bind_{uuid.uuid4().hex[:12]}",
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("name", String(5)),
        Column("loud", Shout(40)),
    )
    t.create(engine)
    yield t
    t.drop(engine)


def _is_pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _fails(engine: Engine, stmt: Any, params: Any) -> exc.StatementError:
    with engine.connect() as conn, pytest.raises(exc.StatementError) as info:
        conn.execute(stmt, params)
    return info.value


def _detail(err: exc.StatementError) -> str:
    lines = [line for line in str(err).splitlines() if line.startswith("[bind parameter")]
    assert len(lines) == 1, str(err)
    return lines[0]


def test_unadaptable_type_names_the_parameter(engine: Engine, table: Table) -> None:
    err = _fails(engine, insert(table), {"id": 1, "name": {"x": 1}})
    assert isinstance(err, exc.ProgrammingError)
    detail = _detail(err)
    assert "bind parameter 'name' = {'x': 1} (dict)" in detail
    assert "json.dumps()" in detail  # the fix
    assert err.orig is not None and "dict" in str(err.orig)
    assert err.statement is not None and err.statement.startswith("INSERT INTO")
    assert "{'x': 1}" in repr(err.params)


def test_object_for_an_integer_column(engine: Engine, table: Table) -> None:
    err = _fails(engine, insert(table), {"id": object(), "name": "a"})
    assert "bind parameter 'id' = <object object at" in _detail(err)
    assert "(object)" in _detail(err)


def test_executemany_names_the_parameter_set(engine: Engine, table: Table) -> None:
    rows = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": {"x": 3}}]
    err = _fails(engine, insert(table), rows)
    assert "bind parameter 'name' = {'x': 3} (dict) in parameter set 2" in _detail(err)
    assert err.ismulti


def test_text_statement(engine: Engine, table: Table) -> None:
    err = _fails(engine, text(f"SELECT * FROM {table.name} WHERE id = :ident"), {"ident": {1}})
    assert "bind parameter 'ident' = {1} (set)" in _detail(err)


def test_processor_error_names_parameter_value_and_type(engine: Engine, table: Table) -> None:
    err = _fails(engine, insert(table), {"id": 1, "loud": 42})
    assert type(err) is exc.StatementError  # raised before the driver was called
    assert isinstance(err.orig, AttributeError)
    detail = _detail(err)
    assert "bind parameter 'loud' = 42 (int)" in detail
    assert "Shout(" in detail and "pass str values" in detail
    assert err.statement is not None and "INSERT INTO" in err.statement
    assert err.params == {"id": 1, "loud": 42}


def test_processor_error_in_executemany(engine: Engine, table: Table) -> None:
    err = _fails(engine, insert(table), [{"id": 1, "loud": "a"}, {"id": 2, "loud": 7}])
    assert "bind parameter 'loud' = 7 (int) in parameter set 1" in _detail(err)


def test_long_values_are_truncated(engine: Engine, table: Table) -> None:
    value = {"k": "x" * 500}
    err = _fails(engine, insert(table), {"id": 1, "name": value})
    detail = _detail(err)
    assert "..." in detail and "x" * 200 not in detail
    assert len(detail) < 600


def test_hidden_parameters_stay_hidden(engine: Engine, table: Table) -> None:
    hidden = create_engine(engine.url, hide_parameters=True)
    try:
        for params in ({"id": 1, "name": {"secret": 1}}, {"id": 1, "loud": 12345}):
            err = _fails(hidden, insert(table), params)
            detail = _detail(err)
            assert "secret" not in str(err) and "12345" not in str(err)
            assert "(dict)" in detail or "(int)" in detail
    finally:
        hidden.dispose()


def test_value_is_bound_not_written_into_sql(engine: Engine, table: Table) -> None:
    hostile = "x'); DROP TABLE t; --"
    with engine.connect() as conn:
        conn.execute(insert(table), {"id": 1, "loud": hostile})
        stmt = select(table.c.loud).where(table.c.loud == hostile.upper())
        assert conn.execute(stmt).scalar() == hostile.upper()
    err = _fails(engine, select(table).where(table.c.id == {"x": hostile}), None)
    assert hostile not in (err.statement or "")


def test_integer_too_big(engine: Engine, table: Table) -> None:
    big = 2**70 if not _is_pg(engine) else 2**40  # PG integer is 32-bit
    err = _fails(engine, insert(table), {"id": big, "name": "a"})
    detail = _detail(err)
    assert f"bind parameter 'id' = {big} (int)" in detail
    assert ("64-bit" in detail) if not _is_pg(engine) else ("PostgreSQL integer" in detail)


def test_pg_invalid_input_names_the_parameter(engine: Engine, table: Table) -> None:
    if not _is_pg(engine):
        pytest.skip("SQLite stores any value in any column")
    err = _fails(engine, select(table).where(table.c.id == "abc"), None)
    assert isinstance(err, exc.DataError)
    detail = _detail(err)
    assert "bind parameter 'id_1' = 'abc' (str)" in detail
    assert "integer" in detail


def test_pg_value_too_long(engine: Engine, table: Table) -> None:
    if not _is_pg(engine):
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    err = _fails(engine, insert(table), {"id": 1, "name": "far too long"})
    assert isinstance(err, exc.DataError)
    assert "bind parameter 'name' = 'far too long' (str)" in _detail(err)
    assert "at most 5 characters" in _detail(err)


def test_pg_invalid_input_in_executemany(engine: Engine, table: Table) -> None:
    if not _is_pg(engine):
        pytest.skip("SQLite stores any value in any column")
    err = _fails(
        engine, text(f"INSERT INTO {table.name} (id) VALUES (:id)"), [{"id": 1}, {"id": "x"}]
    )
    assert "bind parameter 'id' = 'x' (str) in parameter set 1" in _detail(err)


# -- the drivers' messages, as each Python / driver version words them ---------------------


@pytest.mark.parametrize(
    ("message", "position", "name", "type_name"),
    [
        ("Error binding parameter 2: type 'dict' is not supported", 1, None, "dict"),
        ("Error binding parameter 1 - probably unsupported type.", 1, None, None),
        ("Error binding parameter :name - probably unsupported type.", None, "name", None),
    ],
)
def test_sqlite_messages(
    message: str, position: int | None, name: str | None, type_name: str | None
) -> None:
    problem = PySQLiteDriver(sqlite3).bind_problem(sqlite3.ProgrammingError(message))
    assert problem is not None
    assert (problem.position, problem.name) == (position, name)
    if type_name is None:
        assert problem.matches is None
    else:
        assert problem.matches is not None and problem.matches({}) and not problem.matches("")


def test_unrelated_errors_have_no_bind_problem() -> None:
    assert PySQLiteDriver(sqlite3).bind_problem(sqlite3.OperationalError("no such table")) is None
    assert PGDriverBase.bind_problem(PGDriverBase.__new__(PGDriverBase), ValueError("x")) is None


def test_pg_messages() -> None:
    driver = PGDriverBase.__new__(PGDriverBase)
    problem = driver.bind_problem(Exception("can't adapt type 'dict'"))
    assert problem is not None and problem.matches is not None and problem.matches({})
    problem = driver.bind_problem(Exception('invalid input syntax for type integer: "zz"'))
    assert problem is not None and problem.matches is not None
    assert problem.matches("zz") and not problem.matches("z")
    problem = driver.bind_problem(Exception("smallint out of range"))
    assert problem is not None and problem.matches is not None
    assert problem.matches(40_000) and not problem.matches(4)


def test_missing_value_in_executemany_names_the_set(engine: Engine, table: Table) -> None:
    err = _fails(engine, insert(table), [{"id": 1, "name": "a"}, {"id": 2}])
    assert isinstance(err.orig, exc.InvalidRequestError)
    assert "bind parameter 'name' in parameter set 1;" in str(err)
    assert err.code == "cd3x"
