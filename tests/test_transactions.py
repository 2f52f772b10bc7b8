"""Connections and transactions, SQLAlchemy 2.0 style, on every backend: connect()/begin()
context managers, autobegin, commit/rollback, explicit begin(), SAVEPOINTs, isolation
levels (and their reset on return to the pool), invalidate(), exec_driver_sql() and the
rollback of a transaction left open at close().
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import pg_url, require_pg
from hermetic import create_engine, exc, text
from hermetic.engine import Connection, Engine, NestedTransaction, RootTransaction


@pytest.fixture
def table(engine: Engine) -> Iterator[str]:
    """A unique table (id INTEGER PRIMARY KEY, v VARCHAR(50)), dropped afterwards."""
    name = f"t_tx_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v VARCHAR(50))"))
    yield name
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _ids(engine: Engine, table: str) -> list[int]:
    """The ids in ``table`` as a fresh connection sees them (committed data only)."""
    with engine.connect() as conn:
        return list(conn.execute(text(f"SELECT id FROM {table} ORDER BY id")).scalars())


def _insert(conn: Connection, table: str, *ids: int) -> None:
    for i in ids:
        conn.execute(text(f"INSERT INTO {table} (id, v) VALUES (:id, :v)"), {"id": i, "v": f"v{i}"})


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


# --------------------------------------------------------------------------- connect / begin


def test_connect_context_manager(engine: Engine) -> None:
    with engine.connect() as conn:
        assert not conn.closed
        assert engine.pool.checkedout() == 1
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert conn.closed
    assert engine.pool.checkedout() == 0
    with pytest.raises(exc.ResourceClosedError):
        conn.execute(text("SELECT 1"))


def test_close_is_idempotent(engine: Engine) -> None:
    conn = engine.connect()
    conn.close()
    conn.close()
    assert conn.closed
    assert engine.pool.checkedout() == 0


def test_begin_commits_on_success(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        assert conn.in_transaction()
        _insert(conn, table, 1, 2)
    assert conn.closed
    assert _ids(engine, table) == [1, 2]


def test_begin_rolls_back_on_exception(engine: Engine, table: str) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), engine.begin() as conn:
        _insert(conn, table, 1)
        raise Boom()
    assert conn.closed
    assert _ids(engine, table) == []
    assert engine.pool.checkedout() == 0


def test_begin_rolls_back_on_database_error(engine: Engine, table: str) -> None:
    with pytest.raises(exc.IntegrityError), engine.begin() as conn:
        _insert(conn, table, 1)
        _insert(conn, table, 1)
    assert _ids(engine, table) == []


# --------------------------------------------------------------------------- autobegin


def test_autobegin_and_commit(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        assert not conn.in_transaction()
        assert conn.get_transaction() is None
        _insert(conn, table, 1)
        assert conn.in_transaction()
        trans = conn.get_transaction()
        assert isinstance(trans, RootTransaction)
        assert trans.is_active
        assert _ids(engine, table) == []  # not committed yet
        conn.commit()
        assert not conn.in_transaction()
        assert not trans.is_active
        assert _ids(engine, table) == [1]
        # the next statement autobegins a new transaction
        _insert(conn, table, 2)
        assert conn.in_transaction()
        assert conn.get_transaction() is not trans
        conn.commit()
    assert _ids(engine, table) == [1, 2]


def test_autobegin_on_select(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        assert conn.in_transaction()
        conn.rollback()
        assert not conn.in_transaction()


def test_rollback_discards(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        _insert(conn, table, 1)
        conn.rollback()
        assert not conn.in_transaction()
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
        conn.rollback()
    assert _ids(engine, table) == []


def test_commit_and_rollback_without_transaction_are_noops(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.commit()
        conn.rollback()
        assert not conn.in_transaction()


def test_close_with_open_transaction_rolls_back(engine: Engine, table: str) -> None:
    conn = engine.connect()
    _insert(conn, table, 1)
    with engine.connect() as other:
        assert other.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    conn.close()
    assert conn.closed
    assert _ids(engine, table) == []
    assert engine.pool.checkedout() == 0


def test_connection_context_exit_rolls_back_uncommitted(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        _insert(conn, table, 1)
    assert _ids(engine, table) == []


# --------------------------------------------------------------------------- explicit begin


def test_explicit_begin_context_manager(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        with conn.begin() as trans:
            assert trans is conn.get_transaction()
            _insert(conn, table, 1)
        assert not trans.is_active
        assert not conn.in_transaction()
        assert _ids(engine, table) == [1]
        with pytest.raises(ZeroDivisionError), conn.begin():
            _insert(conn, table, 2)
            1 / 0  # noqa: B018
        assert not conn.in_transaction()
    assert _ids(engine, table) == [1]


def test_explicit_begin_commit_and_rollback_methods(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        trans = conn.begin()
        _insert(conn, table, 1)
        trans.commit()
        assert not trans.is_active
        with pytest.raises(exc.InvalidRequestError):
            trans.commit()
        trans = conn.begin()
        _insert(conn, table, 2)
        trans.rollback()
        trans.rollback()  # a second rollback is a no-op
    assert _ids(engine, table) == [1]


def test_begin_when_already_begun_raises(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.begin()
        with pytest.raises(exc.InvalidRequestError, match="already"):
            conn.begin()
        conn.rollback()
        conn.execute(text("SELECT 1"))  # autobegin
        with pytest.raises(exc.InvalidRequestError, match="already"):
            conn.begin()
        conn.commit()
        conn.begin().rollback()


def test_engine_begin_inner_begin_raises(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(exc.InvalidRequestError):
        conn.begin()


# --------------------------------------------------------------------------- SAVEPOINT


def test_nested_rollback_keeps_outer_work(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        _insert(conn, table, 1)
        nested = conn.begin_nested()
        assert isinstance(nested, NestedTransaction)
        assert conn.in_nested_transaction()
        assert conn.get_nested_transaction() is nested
        _insert(conn, table, 2)
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 2
        nested.rollback()
        assert not nested.is_active
        assert not conn.in_nested_transaction()
        assert conn.in_transaction()
        assert list(conn.execute(text(f"SELECT id FROM {table}")).scalars()) == [1]
        conn.commit()
    assert _ids(engine, table) == [1]


def test_nested_release_commits_into_outer(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        _insert(conn, table, 1)
        nested = conn.begin_nested()
        _insert(conn, table, 2)
        nested.commit()  # RELEASE SAVEPOINT
        assert conn.in_transaction()
        assert _ids(engine, table) == []  # still only in the outer transaction
        conn.commit()
    assert _ids(engine, table) == [1, 2]


def test_nested_release_then_outer_rollback_discards_all(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        _insert(conn, table, 1)
        with conn.begin_nested():
            _insert(conn, table, 2)
        conn.rollback()
    assert _ids(engine, table) == []


def test_nested_context_manager(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        _insert(conn, table, 1)
        with conn.begin_nested():
            _insert(conn, table, 2)
        with pytest.raises(exc.IntegrityError), conn.begin_nested():
            _insert(conn, table, 3)
            _insert(conn, table, 1)  # duplicate key: only this savepoint is lost
        # the outer transaction is usable after ROLLBACK TO SAVEPOINT (also on PostgreSQL)
        _insert(conn, table, 4)
    assert _ids(engine, table) == [1, 2, 4]


def test_nested_savepoints_stack(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        sp1 = conn.begin_nested()
        _insert(conn, table, 1)
        sp2 = conn.begin_nested()
        _insert(conn, table, 2)
        assert conn.get_nested_transaction() is sp2
        sp2.rollback()
        assert conn.get_nested_transaction() is sp1
        _insert(conn, table, 3)
        sp1.commit()
        assert conn.get_nested_transaction() is None
    assert _ids(engine, table) == [1, 3]


def test_begin_nested_autobegins(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        nested = conn.begin_nested()
        assert conn.in_transaction()
        _insert(conn, table, 1)
        nested.commit()
        # releasing the only savepoint does not commit the outer transaction (SQLAlchemy
        # on pysqlite needs its documented BEGIN workaround for this; hermetic's driver
        # sends BEGIN before the first SAVEPOINT itself)
        assert conn.in_transaction()
        assert _ids(engine, table) == []
        conn.commit()
    assert _ids(engine, table) == [1]


def test_outer_commit_deactivates_savepoints(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        nested = conn.begin_nested()
        _insert(conn, table, 1)
        conn.commit()
        assert not nested.is_active
        assert not conn.in_nested_transaction()
    assert _ids(engine, table) == [1]


# --------------------------------------------------------------------------- isolation levels


def test_autocommit_visible_without_commit(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        assert conn.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
        _insert(conn, table, 1)
        # another connection sees the row although nothing was committed
        with engine.connect() as other:
            assert other.execute(text(f"SELECT id FROM {table}")).scalars().all() == [1]
        conn.rollback()  # nothing to roll back: the row stays
        _insert(conn, table, 2)
    assert _ids(engine, table) == [1, 2]


def test_autocommit_returns_self_and_resets_on_return(engine: Engine, table: str) -> None:
    small = create_engine(engine.url, pool_size=1, max_overflow=0)
    try:
        with small.connect() as conn:
            assert conn.execution_options(isolation_level="AUTOCOMMIT") is conn
            first = conn.connection.dbapi_connection
            level = conn.get_isolation_level()
            # SQLAlchemy: AUTOCOMMIT is not an isolation level; the actual level is reported
            assert level == conn.default_isolation_level
        with small.connect() as conn:
            assert conn.connection.dbapi_connection is first
            assert "isolation_level" not in conn.get_execution_options()
            _insert(conn, table, 1)
            # transactional again: another connection does not see the row yet
            assert _ids(engine, table) == []
        assert _ids(engine, table) == []
    finally:
        small.dispose()


@pytest.mark.parametrize("level", ["SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED"])
def test_isolation_level_per_connection(engine: Engine, level: str) -> None:
    if _is_sqlite(engine) and level != "SERIALIZABLE":
        pytest.skip(f"SQLite has no {level} (only SERIALIZABLE, READ UNCOMMITTED)")
    with engine.connect() as conn:
        conn.execution_options(isolation_level=level)
        assert conn.get_isolation_level() == level
        conn.execute(text("SELECT 1"))
        assert conn.get_isolation_level() == level
        if not _is_sqlite(engine):
            shown = conn.execute(text("SHOW transaction_isolation")).scalar()
            assert shown.upper() == level


def test_isolation_level_is_restored_on_return(engine: Engine) -> None:
    default = "SERIALIZABLE" if _is_sqlite(engine) else "READ COMMITTED"
    changed = "READ UNCOMMITTED" if _is_sqlite(engine) else "SERIALIZABLE"
    small = create_engine(engine.url, pool_size=1, max_overflow=0)
    try:
        with small.connect() as conn:
            assert conn.default_isolation_level == default
            assert conn.get_isolation_level() == default
            first = conn.connection.dbapi_connection
            conn.execution_options(isolation_level=changed)
            assert conn.get_isolation_level() == changed
        with small.connect() as conn:
            assert conn.connection.dbapi_connection is first  # same pooled connection
            assert conn.get_isolation_level() == default
        raw = small.raw_connection()
        try:
            assert raw.dbapi_connection is first
        finally:
            raw.close()
    finally:
        small.dispose()


def test_isolation_level_change_inside_transaction_raises(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        with pytest.raises(exc.InvalidRequestError):
            conn.execution_options(isolation_level="SERIALIZABLE")
        conn.rollback()


def test_repeatable_read_snapshot() -> None:
    require_pg()
    eng = create_engine(pg_url())
    name = f"t_tx_rr_{uuid.uuid4().hex[:12]}"
    try:
        with eng.begin() as conn:
            conn.execute(text(f"CREATE TABLE {name} (id INTEGER)"))
        with eng.connect() as reader:
            reader.execution_options(isolation_level="REPEATABLE READ")
            assert reader.execute(text(f"SELECT count(*) FROM {name}")).scalar() == 0
            with eng.begin() as writer:
                writer.execute(text(f"INSERT INTO {name} VALUES (1)"))
            # same snapshot for the whole transaction
            assert reader.execute(text(f"SELECT count(*) FROM {name}")).scalar() == 0
            reader.commit()
            assert reader.execute(text(f"SELECT count(*) FROM {name}")).scalar() == 1
    finally:
        with eng.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
        eng.dispose()


# --------------------------------------------------------------------------- invalidate


def test_invalidate_then_reconnect(engine: Engine) -> None:
    with engine.connect() as conn:
        first = conn.connection.dbapi_connection
        if not _is_sqlite(engine):
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            conn.rollback()
        conn.invalidate()
        assert conn.invalidated
        assert not conn.closed
        assert engine.pool.checkedout() == 0  # the dead connection's slot is free
        # next use reconnects with a new DBAPI connection
        assert conn.execute(text("SELECT 1")).scalar() == 1
        assert not conn.invalidated
        assert engine.pool.checkedout() == 1
        assert conn.connection.dbapi_connection is not first
        if not _is_sqlite(engine):
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    assert engine.pool.checkedout() == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 2")).scalar() == 2


def test_invalidate_inside_transaction_needs_rollback(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        _insert(conn, table, 1)
        conn.invalidate()
        assert conn.invalidated
        with pytest.raises(exc.PendingRollbackError):
            conn.execute(text("SELECT 1"))
        conn.rollback()
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert _ids(engine, table) == []


def test_invalidate_closed_connection_raises(engine: Engine) -> None:
    conn = engine.connect()
    conn.close()
    with pytest.raises(exc.ResourceClosedError):
        conn.invalidate()


# --------------------------------------------------------------------------- exec_driver_sql


def test_exec_driver_sql_paramstyles(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        if _is_sqlite(engine):
            positional = f"INSERT INTO {table} (id, v) VALUES (?, ?)"
            named = f"INSERT INTO {table} (id, v) VALUES (:id, :v)"
            select = f"SELECT v FROM {table} WHERE id = ?"
        else:
            positional = f"INSERT INTO {table} (id, v) VALUES (%s, %s)"
            named = f"INSERT INTO {table} (id, v) VALUES (%(id)s, %(v)s)"
            select = f"SELECT v FROM {table} WHERE id = %s"
        conn.exec_driver_sql(positional, (1, "one"))
        conn.exec_driver_sql(named, {"id": 2, "v": "two"})
        result = conn.exec_driver_sql(positional, [(3, "three"), (4, "four")])
        assert result.rowcount == 2
        conn.exec_driver_sql(named, [{"id": 5, "v": "five"}, {"id": 6, "v": "six"}])
        assert conn.in_transaction()
        assert conn.exec_driver_sql(select, (2,)).scalar_one() == "two"
        rows = conn.exec_driver_sql(f"SELECT id, v FROM {table} ORDER BY id").all()
        assert [tuple(r) for r in rows] == [
            (1, "one"),
            (2, "two"),
            (3, "three"),
            (4, "four"),
            (5, "five"),
            (6, "six"),
        ]
        assert rows[0].v == "one"
        conn.commit()
    assert _ids(engine, table) == [1, 2, 3, 4, 5, 6]


def test_exec_driver_sql_no_colon_conversion(engine: Engine) -> None:
    with engine.connect() as conn:
        # ':x' inside a string literal is left alone: no text() parsing happens
        assert conn.exec_driver_sql("SELECT ':x'").scalar() == ":x"


def test_exec_driver_sql_error_is_wrapped(engine: Engine) -> None:
    with engine.connect() as conn:
        with pytest.raises(exc.DBAPIError) as info:
            conn.exec_driver_sql("SELECT * FROM no_such_table_hermetic_tx")
        assert info.value.statement == "SELECT * FROM no_such_table_hermetic_tx"
        conn.rollback()


# --------------------------------------------------------------------------- misc


def test_scalar_and_scalars_shortcuts(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        _insert(conn, table, 1, 2, 3)
        assert conn.scalar(text(f"SELECT max(id) FROM {table}")) == 3
        assert conn.scalars(text(f"SELECT id FROM {table} ORDER BY id")).all() == [1, 2, 3]
        assert conn.scalar(text(f"SELECT v FROM {table} WHERE id = :id"), {"id": 2}) == "v2"


def test_connection_info_persists_with_pooled_connection(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.info["marker"] = 1
    with engine.connect() as conn:
        assert conn.info.get("marker") == 1


def test_pool_counts_during_nested_work(engine: Engine, table: str) -> None:
    conns: list[Any] = []
    with engine.connect() as a, engine.connect() as b:
        conns.extend([a, b])
        assert engine.pool.checkedout() == 2
        _insert(a, table, 1)
        a.commit()
        assert b.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
    assert all(c.closed for c in conns)
    assert engine.pool.checkedout() == 0
