"""create_engine() and the Engine: URL forms, pool and logging arguments, isolation levels,
execution options, creator=/connect_args, introspection, raw_connection() and dispose().

Real databases only: SQLite files and memory, PostgreSQL through psycopg and psycopg2.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hermetic
from conftest import pg_url, require_pg
from hermetic import create_engine, exc, make_url, text
from hermetic.engine import Engine
from hermetic.pool import NullPool, QueuePool, SingletonThreadPool, StaticPool


def _name(prefix: str = "t_eng") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def table(engine: Engine) -> Iterator[str]:
    """A unique table (id INTEGER PRIMARY KEY, v VARCHAR(50)), dropped afterwards."""
    name = _name()
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v VARCHAR(50))"))
    yield name
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _backend_pids(engine: Engine, app: str) -> list[int]:
    """Server sessions of this test (by application_name), seen from a fresh connection."""
    probe = create_engine(pg_url(), poolclass=NullPool)
    try:
        with probe.connect() as conn:
            return list(
                conn.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE application_name = :app"),
                    {"app": app},
                ).scalars()
            )
    finally:
        probe.dispose()


def _dbapi_autocommit(conn: Any) -> bool:
    """Whether the DBAPI connection under a Connection is in autocommit mode."""
    dbapi = conn.connection.dbapi_connection
    if isinstance(dbapi, sqlite3.Connection):
        return dbapi.isolation_level is None
    return bool(dbapi.autocommit)


# --------------------------------------------------------------------------- URL forms


def test_sqlite_file_url_persists_across_engines(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'file.db'}"
    eng = create_engine(url)
    assert isinstance(eng.pool, QueuePool)
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'one')"))
    eng.dispose()
    assert (tmp_path / "file.db").exists()

    other = create_engine(url)
    with other.connect() as conn:
        assert conn.execute(text("SELECT v FROM t WHERE id = 1")).scalar_one() == "one"
    assert other.pool.checkedout() == 0
    other.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_sqlite_memory_urls(url: str) -> None:
    eng = create_engine(url)
    assert eng.url.database in (None, ":memory:")
    # SQLAlchemy 2.x: a memory database gets a SingletonThreadPool, so one thread keeps
    # seeing the same database across connections.
    assert isinstance(eng.pool, SingletonThreadPool)
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1), (2)"))
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2
    eng.dispose()


def test_sqlite_uri_read_only(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        raw.execute("INSERT INTO t VALUES (1, 'x')")
    raw.close()

    eng = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with eng.connect() as conn:
        assert conn.execute(text("SELECT v FROM t")).scalar_one() == "x"
    with eng.connect() as conn:
        with pytest.raises(exc.OperationalError) as info:
            conn.execute(text("INSERT INTO t (id, v) VALUES (2, 'y')"))
        assert isinstance(info.value.orig, sqlite3.OperationalError)
        assert "readonly" in str(info.value.orig)
        assert "INSERT INTO t" in str(info.value)
    assert eng.pool.checkedout() == 0
    eng.dispose()
    # nothing was written
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM t").fetchone() == (1,)
    raw.close()


def test_sqlite_uri_option_without_uri_flag_warns_and_is_ignored(tmp_path: Path) -> None:
    # SQLAlchemy: "Query string argument(s) 'mode' are not accepted by the pysqlite driver
    # and are being ignored" (a warning), so the database is opened read-write.
    with pytest.warns(exc.SAWarning, match="mode"):
        eng = create_engine(f"sqlite:///{tmp_path / 'x.db'}?mode=ro")
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
    eng.dispose()


@pytest.mark.parametrize(
    ("drivername", "expected_driver"),
    [
        ("postgresql", "psycopg"),
        ("postgresql+psycopg", "psycopg"),
        ("postgresql+psycopg2", "psycopg2"),
    ],
)
def test_postgresql_urls(drivername: str, expected_driver: str) -> None:
    require_pg()
    url = make_url(pg_url()).set(drivername=drivername)
    eng = create_engine(url)
    assert eng.dialect.name == "postgresql"
    assert eng.name == "postgresql"
    assert eng.dialect.driver == expected_driver
    assert eng.driver == expected_driver
    assert isinstance(eng.pool, QueuePool)
    with eng.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert "PostgreSQL" in conn.execute(text("SELECT version()")).scalar_one()
        module = type(conn.connection.dbapi_connection).__module__
        assert module.split(".")[0] == expected_driver
    assert eng.dialect.server_version_info is not None
    assert eng.dialect.server_version_info[0] >= 9
    eng.dispose()


def test_unknown_dialect_and_driver() -> None:
    with pytest.raises(exc.NoSuchModuleError, match="nosuchdb"):
        create_engine("nosuchdb://localhost/x")
    with pytest.raises(exc.NoSuchModuleError, match="nosuchdriver"):
        create_engine("postgresql+nosuchdriver://localhost/x")
    assert issubclass(exc.NoSuchModuleError, exc.ArgumentError)


def test_invalid_keyword_argument_is_a_type_error(sqlite_url: str) -> None:
    with pytest.raises(TypeError, match="bogus_option"):
        create_engine(sqlite_url, bogus_option=1)


# --------------------------------------------------------------------------- arguments


def test_echo_flags_are_kept(backend_url: str) -> None:
    eng = create_engine(backend_url, echo=True, echo_pool=False)
    assert eng.echo is True
    eng.dispose()
    eng = create_engine(backend_url)
    assert not eng.echo
    eng.dispose()


def test_pool_arguments_reach_the_pool(backend_url: str) -> None:
    eng = create_engine(
        backend_url,
        pool_size=2,
        max_overflow=1,
        pool_timeout=0.2,
        pool_recycle=3600,
        pool_pre_ping=True,
    )
    pool = eng.pool
    assert isinstance(pool, QueuePool)
    assert pool.size() == 2
    assert pool.timeout() == 0.2
    conns = [eng.connect() for _ in range(3)]  # 2 + 1 overflow
    try:
        assert pool.checkedout() == 3
        assert pool.overflow() == 1
        with pytest.raises(exc.TimeoutError, match="limit of size 2 overflow 1"):
            eng.connect()
    finally:
        for c in conns:
            c.close()
    assert pool.checkedout() == 0
    assert pool.checkedin() == 2  # the overflow connection is discarded
    with eng.connect() as conn:  # pre-ping on a pooled connection works
        assert conn.execute(text("SELECT 1")).scalar() == 1
    eng.dispose()


def test_default_queue_pool_matches_sqlalchemy(backend_url: str) -> None:
    eng = create_engine(backend_url)
    assert isinstance(eng.pool, QueuePool)
    assert eng.pool.size() == 5
    assert eng.pool.timeout() == 30
    eng.dispose()


@pytest.mark.parametrize("poolclass", [NullPool, StaticPool])
def test_poolclass(backend_url: str, poolclass: type) -> None:
    eng = create_engine(backend_url, poolclass=poolclass)
    assert isinstance(eng.pool, poolclass)
    with eng.connect() as conn:
        assert conn.execute(text("SELECT 2")).scalar() == 2
    eng.dispose()


def test_queue_pool_args_rejected_for_nullpool(sqlite_url: str) -> None:
    with pytest.raises(TypeError):
        create_engine(sqlite_url, poolclass=NullPool, pool_size=3)


def test_isolation_level_engine_wide(backend_url: str) -> None:
    level = "READ UNCOMMITTED" if backend_url.startswith("sqlite") else "REPEATABLE READ"
    eng = create_engine(backend_url, isolation_level=level)
    with eng.connect() as conn:
        assert conn.get_isolation_level() == level
        conn.execute(text("SELECT 1"))
        assert conn.get_isolation_level() == level
    with eng.connect() as conn:
        assert conn.get_isolation_level() == level
    eng.dispose()


def test_isolation_level_autocommit_engine_wide(backend_url: str) -> None:
    eng = create_engine(backend_url, isolation_level="AUTOCOMMIT")
    name = _name()
    try:
        with eng.connect() as conn:
            # SQLAlchemy: get_isolation_level() reports the actual level, never AUTOCOMMIT
            assert conn.get_isolation_level() == conn.default_isolation_level
            assert conn.get_isolation_level() in ("SERIALIZABLE", "READ COMMITTED")
            assert _dbapi_autocommit(conn)
            conn.execute(text(f"CREATE TABLE {name} (id INTEGER)"))
            conn.execute(text(f"INSERT INTO {name} VALUES (1)"))
            # no commit: AUTOCOMMIT made it durable; closing rolls back nothing
        with eng.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() == 1
    finally:
        with eng.connect() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
        eng.dispose()


def test_invalid_isolation_level(backend_url: str) -> None:
    eng = create_engine(backend_url, isolation_level="NOT A LEVEL")
    with pytest.raises(exc.ArgumentError, match="NOT A LEVEL"):
        eng.connect().close()
    assert eng.pool.checkedout() == 0
    eng.dispose()


def test_execution_options_engine_wide(backend_url: str) -> None:
    eng = create_engine(
        backend_url, execution_options={"isolation_level": "SERIALIZABLE", "custom": 1}
    )
    assert eng.get_execution_options()["custom"] == 1
    with eng.connect() as conn:
        assert conn.get_isolation_level() == "SERIALIZABLE"
        assert conn.get_execution_options()["custom"] == 1
    eng.dispose()


def test_engine_execution_options_copy_shares_pool(backend_url: str) -> None:
    eng = create_engine(backend_url)
    auto = eng.execution_options(isolation_level="AUTOCOMMIT")
    assert auto is not eng
    assert auto.pool is eng.pool
    assert auto.url == eng.url
    assert "isolation_level" not in eng.get_execution_options()
    assert auto.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
    with auto.connect() as conn:
        assert conn.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
        assert _dbapi_autocommit(conn)
        first = conn.connection.dbapi_connection
    with eng.connect() as conn:
        # the shared pooled connection got its level back
        assert conn.connection.dbapi_connection is first
        assert not _dbapi_autocommit(conn)
        assert "isolation_level" not in conn.get_execution_options()
    assert eng.pool.checkedout() == 0
    eng.dispose()


def test_creator_is_used(backend_url: str, tmp_path: Path) -> None:
    calls: list[int] = []
    if backend_url.startswith("sqlite"):
        path = tmp_path / "creator.db"

        def creator() -> Any:
            calls.append(1)
            return sqlite3.connect(path, check_same_thread=False)

        # the URL's database is ignored in favour of creator's connection
        url = "sqlite:///" + str(tmp_path / "ignored.db")
    else:
        u = make_url(backend_url)
        module = __import__(u.get_driver_name() or "psycopg")

        def creator() -> Any:
            calls.append(1)
            return module.connect(
                host=u.host,
                port=u.port or 5432,
                user=u.username,
                dbname=u.database,
                application_name="hermetic_creator",
            )

        url = backend_url
    eng = create_engine(url, creator=creator)
    with eng.connect() as conn:
        assert conn.execute(text("SELECT 7")).scalar() == 7
        if not backend_url.startswith("sqlite"):
            assert conn.execute(text("SHOW application_name")).scalar() == "hermetic_creator"
    with eng.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert calls == [1]  # one connection, pooled and reused
    eng.dispose()
    if backend_url.startswith("sqlite"):
        assert (tmp_path / "creator.db").exists()
        assert not (tmp_path / "ignored.db").exists()


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_connect_args_application_name(driver: str) -> None:
    require_pg()
    app = _name("hermetic_app")
    eng = create_engine(pg_url(driver), connect_args={"application_name": app})
    with eng.connect() as conn:
        assert conn.execute(text("SHOW application_name")).scalar() == app
    eng.dispose()


def test_url_query_reaches_driver() -> None:
    require_pg()
    app = _name("hermetic_q")
    eng = create_engine(make_url(pg_url()).update_query_dict({"application_name": app}))
    with eng.connect() as conn:
        assert conn.execute(text("SHOW application_name")).scalar() == app
    eng.dispose()


def test_future_flag(sqlite_url: str) -> None:
    eng = create_engine(sqlite_url, future=True)
    with eng.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    eng.dispose()
    with pytest.raises(exc.ArgumentError):
        create_engine(sqlite_url, future=False)


# --------------------------------------------------------------------------- introspection


def test_url_password_is_masked() -> None:
    eng = create_engine("postgresql+psycopg://scott:s3cr3t@db.example.com:5433/app")
    assert eng.url.password == "s3cr3t"
    assert eng.url.username == "scott"
    assert eng.url.host == "db.example.com"
    assert eng.url.port == 5433
    assert eng.url.database == "app"
    assert "s3cr3t" not in str(eng.url)
    assert "s3cr3t" not in repr(eng.url)
    assert "s3cr3t" not in repr(eng)
    assert str(eng.url) == "postgresql+psycopg://scott:***@db.example.com:5433/app"
    assert repr(eng) == "Engine(postgresql+psycopg://scott:***@db.example.com:5433/app)"
    assert "s3cr3t" in eng.url.render_as_string(hide_password=False)
    eng.dispose()


def test_engine_introspection(engine: Engine, backend_url: str) -> None:
    u = make_url(backend_url)
    assert engine.url == u
    assert engine.dialect.name == u.get_backend_name()
    assert engine.name == engine.dialect.name
    expected_driver = u.get_driver_name() or "pysqlite"
    assert engine.dialect.driver == expected_driver
    assert engine.driver == expected_driver
    assert engine.engine is engine
    assert isinstance(engine.pool, hermetic.pool.Pool)
    with engine.connect() as conn:
        assert conn.engine is engine
        assert conn.dialect is engine.dialect
    assert engine.dialect.default_isolation_level in ("SERIALIZABLE", "READ COMMITTED")


def test_raw_connection(engine: Engine) -> None:
    raw = engine.raw_connection()
    assert engine.pool.checkedout() == 1
    try:
        cur = raw.cursor()
        cur.execute("SELECT 41 + 1")
        assert cur.fetchone()[0] == 42
        cur.close()
        assert raw.dbapi_connection is not None
        raw.rollback()
    finally:
        raw.close()
    assert engine.pool.checkedout() == 0
    assert engine.pool.checkedin() == 1
    # the same DBAPI connection is handed out again
    raw2 = engine.raw_connection()
    try:
        assert raw2.dbapi_connection is not None
    finally:
        raw2.close()
    assert engine.pool.checkedout() == 0


def test_raw_connection_context_manager(engine: Engine) -> None:
    with engine.raw_connection() as raw:
        cur = raw.cursor()
        cur.execute("SELECT 1")
        assert cur.fetchall() == [(1,)]
        cur.close()
        assert engine.pool.checkedout() == 1
    assert engine.pool.checkedout() == 0


def test_dispose_replaces_pool(engine: Engine) -> None:
    with engine.connect() as conn:
        first = conn.connection.dbapi_connection
    old_pool = engine.pool
    assert old_pool.checkedin() == 1
    engine.dispose()
    assert engine.pool is not old_pool
    assert type(engine.pool) is type(old_pool)
    assert engine.pool.size() == old_pool.size()
    assert engine.pool.checkedin() == 0
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection is not first
        assert conn.execute(text("SELECT 3")).scalar() == 3


def test_dispose_closes_server_sessions() -> None:
    require_pg()
    app = _name("hermetic_dispose")
    eng = create_engine(pg_url(), connect_args={"application_name": app})
    conns = [eng.connect() for _ in range(3)]
    pids = {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in conns}
    for c in conns:
        c.close()
    assert set(_backend_pids(eng, app)) == pids
    eng.dispose()
    assert _backend_pids(eng, app) == []
    # still usable afterwards, with a new session
    with eng.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() not in pids
    eng.dispose()


def test_dispose_close_false_keeps_checked_out_connection(engine: Engine) -> None:
    conn = engine.connect()
    try:
        engine.dispose(close=False)
        assert conn.execute(text("SELECT 5")).scalar() == 5
    finally:
        conn.close()
    assert engine.pool.checkedout() == 0


def test_engine_connection_used_by_table(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} (id, v) VALUES (1, 'a')"))
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT v FROM {table}")).scalar_one() == "a"
