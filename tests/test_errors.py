"""Wrapped driver errors on real databases: the PEP 249 category picks the class, and every
error carries ``.orig``, ``.statement`` and ``.params`` and a message naming them (with
huge parameter lists truncated). The pool's bookkeeping is unchanged by any of them.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import pg_url, require_pg
from hermetic import create_engine, exc, make_url, text
from hermetic.engine import Engine
from hermetic.pool import NullPool


@pytest.fixture
def table(engine: Engine) -> Iterator[str]:
    """A unique table (id INTEGER PRIMARY KEY, v VARCHAR(50)), dropped afterwards."""
    name = f"t_err_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v VARCHAR(50))"))
        conn.execute(text(f"INSERT INTO {name} (id, v) VALUES (1, 'one')"))
    yield name
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _counts(engine: Engine) -> tuple[int, int, int, int]:
    pool = engine.pool
    return pool.size(), pool.checkedin(), pool.checkedout(), pool.overflow()


def _driver_module(engine: Engine) -> str:
    return {"pysqlite": "sqlite3"}.get(engine.driver, engine.driver)


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


# --------------------------------------------------------------------------- hierarchy


def test_hierarchy() -> None:
    assert exc.SQLAlchemyError is exc.HermeticError
    assert issubclass(exc.DBAPIError, exc.StatementError)
    assert issubclass(exc.StatementError, exc.SQLAlchemyError)
    for name in (
        "IntegrityError",
        "DataError",
        "OperationalError",
        "ProgrammingError",
        "InternalError",
        "NotSupportedError",
    ):
        cls = getattr(exc, name)
        assert issubclass(cls, exc.DatabaseError)
        assert issubclass(cls, exc.DBAPIError)
    assert issubclass(exc.InterfaceError, exc.DBAPIError)
    assert not issubclass(exc.InterfaceError, exc.DatabaseError)
    assert issubclass(exc.ObjectNotExecutableError, exc.ArgumentError)
    assert issubclass(exc.PendingRollbackError, exc.InvalidRequestError)


# --------------------------------------------------------------------------- IntegrityError


def test_integrity_error_duplicate_pk(engine: Engine, table: str) -> None:
    with engine.connect() as warm:
        warm.execute(text("SELECT 1"))
    before = _counts(engine)
    stmt = text(f"INSERT INTO {table} (id, v) VALUES (:id, :v)")
    with engine.connect() as conn:
        with pytest.raises(exc.IntegrityError) as info:
            conn.execute(stmt, {"id": 1, "v": "dup"})
        err = info.value
        conn.rollback()
        # the connection stays usable
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
    assert _counts(engine) == before
    assert err.orig is not None
    assert type(err.orig).__module__.split(".")[0] == _driver_module(engine)
    assert type(err.orig).__name__ in ("IntegrityError", "UniqueViolation")
    assert err.__cause__ is err.orig
    assert err.statement is not None and err.statement.startswith(f"INSERT INTO {table}")
    assert err.params in ({"id": 1, "v": "dup"}, (1, "dup"))
    assert not err.connection_invalidated
    message = str(err)
    assert message.startswith(f"({type(err.orig).__module__}.{type(err.orig).__name__})")
    assert f"[SQL: INSERT INTO {table} (id, v) VALUES" in message
    assert "[parameters: " in message and "'dup'" in message


def test_integrity_error_in_engine_begin_rolls_back(engine: Engine, table: str) -> None:
    before = _counts(engine)
    with pytest.raises(exc.IntegrityError), engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} (id, v) VALUES (2, 'two')"))
        conn.execute(text(f"INSERT INTO {table} (id, v) VALUES (2, 'again')"))
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
    after = _counts(engine)
    assert after[2] == before[2] == 0


def test_not_null_violation(engine: Engine) -> None:
    name = f"t_err_nn_{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {name} (id INTEGER NOT NULL)"))
        with engine.connect() as conn, pytest.raises(exc.IntegrityError) as info:
            conn.execute(text(f"INSERT INTO {name} (id) VALUES (:id)"), {"id": None})
        assert "null" in str(info.value.orig).lower()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))


def test_pg_failed_transaction_needs_rollback(pg_engine: Engine) -> None:
    with pg_engine.connect() as conn:
        with pytest.raises(exc.ProgrammingError):
            conn.execute(text("SELECT * FROM no_such_table_hermetic_err"))
        # PostgreSQL aborted the transaction: further statements fail until rollback
        with pytest.raises(exc.InternalError) as info:
            conn.execute(text("SELECT 1"))
        assert type(info.value.orig).__name__ == "InFailedSqlTransaction"
        conn.rollback()
        assert conn.execute(text("SELECT 1")).scalar() == 1


# --------------------------------------------------------------------------- bad SQL


def test_syntax_error(engine: Engine) -> None:
    # PEP 249 category as each driver reports it: sqlite3 uses OperationalError for
    # syntax errors and missing tables; psycopg/psycopg2 use ProgrammingError.
    expected = exc.OperationalError if _is_sqlite(engine) else exc.ProgrammingError
    before = _counts(engine)
    with engine.connect() as conn:
        with pytest.raises(expected) as info:
            conn.execute(text("SELEC 1 FROM nowhere WHERE x = :x"), {"x": 5})
        err = info.value
        assert isinstance(err, exc.DatabaseError)
        assert err.statement is not None and "SELEC 1 FROM nowhere" in err.statement
        assert err.params in ({"x": 5}, (5,))
        assert "syntax error" in str(err.orig).lower()
        assert "[SQL: SELEC 1 FROM nowhere" in str(err)
        assert "[parameters: " in str(err)
    assert _counts(engine)[1:3] == (max(before[1], 1), 0)


def test_missing_table(engine: Engine) -> None:
    expected = exc.OperationalError if _is_sqlite(engine) else exc.ProgrammingError
    with engine.connect() as conn:
        with pytest.raises(expected) as info:
            conn.execute(text("SELECT * FROM no_such_table_hermetic_err"))
        assert "no_such_table_hermetic_err" in str(info.value.orig)
        assert info.value.statement == "SELECT * FROM no_such_table_hermetic_err"
        assert "[SQL: SELECT * FROM no_such_table_hermetic_err]" in str(info.value)
        assert "[parameters:" not in str(info.value)
        conn.rollback()
    assert engine.pool.checkedout() == 0
    assert engine.pool.checkedin() == 1


def test_errors_from_exec_driver_sql(engine: Engine, table: str) -> None:
    insert = f"INSERT INTO {table} (id, v) VALUES ({'?' if _is_sqlite(engine) else '%s'}, 'x')"
    with engine.connect() as conn:
        with pytest.raises(exc.IntegrityError) as info:
            conn.exec_driver_sql(insert, (1,))
        assert info.value.statement == insert
        assert info.value.params == (1,)


# --------------------------------------------------------------------------- DataError


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_pg_data_error(driver: str) -> None:
    require_pg()
    eng = create_engine(pg_url(driver))
    try:
        with eng.connect() as conn:
            with pytest.raises(exc.DataError) as info:
                conn.execute(text("SELECT CAST(:v AS INTEGER)"), {"v": "not a number"})
            err = info.value
            assert type(err.orig).__name__ == "InvalidTextRepresentation"
            assert type(err.orig).__module__.startswith(driver)
            assert err.params == {"v": "not a number"}
            assert "invalid input syntax for type integer" in str(err)
            assert "[parameters: {'v': 'not a number'}]" in str(err)
            conn.rollback()
            with pytest.raises(exc.DataError, match="out of range"):
                conn.execute(text("SELECT 2147483647::int + 1"))
        assert eng.pool.checkedout() == 0
        assert eng.pool.checkedin() == 1
    finally:
        eng.dispose()


# --------------------------------------------------------------------------- OperationalError


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_refused_connection(driver: str) -> None:
    require_pg()  # the driver modules must be importable; the server itself is not used
    url = make_url(pg_url(driver)).set(host="127.0.0.1", port=1)
    eng = create_engine(url, connect_args={"connect_timeout": 3})
    for _ in range(2):  # a failed connect leaves the pool as it was
        with pytest.raises(exc.OperationalError) as info:
            eng.connect()
        err = info.value
        assert type(err.orig).__module__.startswith(driver)
        assert type(err.orig).__name__ == "OperationalError"
        assert err.statement is None
        assert "refused" in str(err).lower()
        assert "[SQL:" not in str(err)
        assert eng.pool.checkedout() == 0
        assert eng.pool.checkedin() == 0
    # raw_connection() (whether or not it wraps the driver's error) leaves no checkout
    with pytest.raises((exc.OperationalError, type(err.orig))):
        eng.raw_connection()
    assert eng.pool.checkedout() == 0
    eng.dispose()


def test_sqlite_cannot_open(tmp_path: Path) -> None:
    eng = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}")
    with pytest.raises(exc.OperationalError) as info:
        eng.connect()
    assert isinstance(info.value.orig, sqlite3.OperationalError)
    assert "unable to open database file" in str(info.value)
    assert eng.pool.checkedout() == 0
    eng.dispose()


# --------------------------------------------------------------------------- messages


def test_huge_executemany_parameters_are_truncated(engine: Engine, table: str) -> None:
    params = [{"id": i, "v": f"value-{i}"} for i in range(2, 1002)] + [{"id": 1, "v": "dup"}]
    before = _counts(engine)
    with engine.connect() as conn:
        with pytest.raises(exc.IntegrityError) as info:
            conn.execute(text(f"INSERT INTO {table} (id, v) VALUES (:id, :v)"), params)
        conn.rollback()
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
    err = info.value
    assert len(err.params) == len(params)  # the attribute keeps all of them
    message = str(err)
    assert len(message) < 3000
    assert "value-500" not in message  # the middle is elided
    assert "value-2" in message
    assert f"[SQL: INSERT INTO {table}" in message
    after = _counts(engine)
    assert after[2] == 0 and after[1] == max(before[1], 1)


def test_huge_single_parameter_is_truncated(engine: Engine, table: str) -> None:
    big = "x" * 100_000
    with engine.connect() as conn:
        with pytest.raises(exc.DBAPIError) as info:
            conn.execute(text("SELECT * FROM no_such_table_hermetic_err WHERE v = :v"), {"v": big})
        conn.rollback()
    assert info.value.params == {"v": big} or info.value.params == (big,)
    assert len(str(info.value)) < 5000


def test_hide_parameters(backend_url: str) -> None:
    eng = create_engine(backend_url, hide_parameters=True)
    try:
        with eng.connect() as conn, pytest.raises(exc.DBAPIError) as info:
            conn.execute(
                text("SELECT * FROM no_such_table_hermetic_err WHERE v = :v"), {"v": "s3cr3t-value"}
            )
        message = str(info.value)
        assert "s3cr3t-value" not in message
        assert "[SQL parameters hidden due to hide_parameters=True]" in message
        assert "no_such_table_hermetic_err" in message
    finally:
        eng.dispose()


def test_statement_error_is_not_dbapi_error_and_leaves_pool_alone(
    engine: Engine, table: str
) -> None:
    with engine.connect() as warm:
        warm.execute(text("SELECT 1"))
    before = _counts(engine)
    with engine.connect() as conn:
        with pytest.raises(exc.StatementError) as info:
            conn.execute(text(f"SELECT * FROM {table} WHERE id = :id"))
        assert not isinstance(info.value, exc.DBAPIError)
        assert isinstance(info.value.orig, exc.InvalidRequestError)
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert _counts(engine) == before


def test_many_errors_leave_pool_consistent(engine: Engine, table: str) -> None:
    with engine.connect() as warm:
        warm.execute(text("SELECT 1"))
    before = _counts(engine)
    for i in range(20):
        with engine.connect() as conn, pytest.raises(exc.DBAPIError):
            if i % 2:
                conn.execute(text(f"INSERT INTO {table} (id, v) VALUES (1, 'x')"))
            else:
                conn.execute(text("SELECT * FROM no_such_table_hermetic_err"))
        assert _counts(engine) == before
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1


# --------------------------------------------------------------------------- disconnects


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_pg_server_side_disconnect(driver: str) -> None:
    require_pg()
    eng = create_engine(pg_url(driver))
    killer = create_engine(pg_url(driver), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with eng.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            conn.commit()
            with killer.connect() as k:
                k.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            with pytest.raises(exc.DBAPIError) as info:
                conn.execute(text("SELECT 1"))
            err = info.value
            assert isinstance(err, (exc.OperationalError, exc.InterfaceError))
            assert err.connection_invalidated
            assert conn.invalidated
            assert err.statement == "SELECT 1"
            # the failed statement's transaction must be rolled back before reconnecting
            with pytest.raises(exc.PendingRollbackError):
                conn.execute(text("SELECT 1"))
            conn.rollback()
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
            assert not conn.invalidated
        assert eng.pool.checkedout() == 0
        assert eng.pool.checkedin() == 1
        with eng.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        eng.dispose()
        killer.dispose()


def test_pg_error_at_commit(pg_engine: Engine) -> None:
    suffix = uuid.uuid4().hex[:12]
    parent, child = f"t_err_p_{suffix}", f"t_err_c_{suffix}"
    with pg_engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {parent} (id INTEGER PRIMARY KEY)"))
        conn.execute(
            text(
                f"CREATE TABLE {child} (id INTEGER, pid INTEGER REFERENCES {parent} (id) "
                "DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    try:
        before = _counts(pg_engine)
        # the deferred foreign key is checked at COMMIT, which engine.begin() runs on exit
        with pytest.raises(exc.IntegrityError) as info, pg_engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {child} VALUES (1, 99)"))
        assert type(info.value.orig).__name__ == "ForeignKeyViolation"
        assert conn.closed
        assert _counts(pg_engine) == before
        with pg_engine.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {child}")).scalar() == 0
    finally:
        with pg_engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {child}, {parent}"))
