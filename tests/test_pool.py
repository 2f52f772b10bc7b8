"""The sealed pool (DESIGN.md §5) through create_engine, on a SQLite file and PostgreSQL.

Real databases only: connections really die (pg_terminate_backend, a DBAPI connection
closed behind the pool's back), really leak (dropped references) and really wait.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import hermetic as sa
from conftest import PG_URL, pg_url, require_pg
from hermetic import create_engine, event, exc, text
from hermetic.engine import Engine
from hermetic.pool import (
    AssertionPool,
    NullPool,
    Pool,
    QueuePool,
    SingletonThreadPool,
    StaticPool,
)

# --------------------------------------------------------------------------- helpers


def _here() -> int:
    """The caller's current line: ``conn, line = engine.connect(), _here()``."""
    return sys._getframe(1).f_lineno


def site_of(line: int) -> str:
    """How a checkout site at ``line`` of this file appears in pool messages."""
    return f'{__file__}", line {line}'


def wait_until(pred: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def leak_warnings(records: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in records if issubclass(w.category, exc.ConnectionLeakWarning)]


def counters(pool: Pool) -> dict[str, Any]:
    """The pool's state and counters, minus the summed durations."""
    s = pool.stats()
    d = dict(s.__dict__)
    for k in ("wait_time", "use_time", "pool_name"):
        d.pop(k)
    return d


def pg_admin() -> Any:
    import psycopg

    u = sa.make_url(PG_URL)
    return psycopg.connect(
        host=u.host, port=u.port or 5432, user=u.username, dbname=u.database, autocommit=True
    )


def pg_terminate(pid: int) -> None:
    """Kill a backend from a separate plain psycopg connection; wait until it is gone."""
    with pg_admin() as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)

        def gone() -> bool:
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            return row is not None and row[0] == 0

        assert wait_until(gone), f"backend {pid} still alive"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file or PostgreSQL (psycopg 3)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pool.db'}"
    require_pg()
    return pg_url("psycopg")


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    """Engines made by a test, disposed afterwards (their pools must be empty)."""
    made: list[Engine] = []
    yield made
    for eng in made:
        eng.dispose()


@pytest.fixture
def make_engine(engines: list[Engine]) -> Callable[..., Engine]:
    def make(u: str, **kw: Any) -> Engine:
        eng = create_engine(u, **kw)
        engines.append(eng)
        return eng

    return make


@pytest.fixture
def table(url: str) -> Iterator[str]:
    """A fresh table ``(id integer primary key, v text)`` on the backend of ``url``."""
    name = f"pool_t_{uuid.uuid4().hex[:10]}"
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v TEXT)"))
    yield name
    with eng.begin() as c:
        c.execute(text(f"DROP TABLE IF EXISTS {name}"))
    eng.dispose()


def count_rows(eng: Engine, name: str) -> int:
    with eng.connect() as c:
        n: int = c.execute(text(f"SELECT count(*) FROM {name}")).scalar()
        return n


# --------------------------------------------------------------------------- 1. QueuePool


def test_queuepool_limit_timeout_and_report(url: str, make_engine: Callable[..., Engine]) -> None:
    eng = make_engine(url, pool_size=5, max_overflow=10, pool_timeout=0.3)
    pool = eng.pool
    assert isinstance(pool, QueuePool)
    assert pool.size() == 5
    assert pool.timeout() == 0.3

    # The oldest holder is another thread, so the report must name it.
    holder_line: list[int] = []
    taken = threading.Event()
    release = threading.Event()

    def hold() -> None:
        conn, line = eng.connect(), _here()
        holder_line.append(line)
        taken.set()
        release.wait(10)
        conn.close()

    t = threading.Thread(target=hold, name="pool-holder-thread")
    t.start()
    try:
        assert taken.wait(5)
        conns = []
        for _ in range(14):
            conns.append(eng.connect())
            conns[-1].execute(text("SELECT 1"))
        assert pool.checkedout() == 15
        assert pool.overflow() == 10
        assert pool.checkedin() == 0
        assert pool.status() == (
            "Pool size: 5  Connections in pool: 0 Current Overflow: 10 "
            "Current Checked out connections: 15"
        )

        start = time.monotonic()
        with pytest.raises(exc.TimeoutError) as ei:
            eng.connect()
        assert time.monotonic() - start >= 0.3
        msg = str(ei.value)
        assert msg.startswith(
            "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 0.3"
        ), msg
        assert "thread 'pool-holder-thread' has held it for" in msg
        assert site_of(holder_line[0]) in msg
        assert "in hold" in msg
        assert "15 checked out, 0 idle" in msg
        assert pool.checkedout() == 15  # the failed request took nothing
        assert pool.stats().timeouts == 1
        for c in conns:
            c.close()
    finally:
        release.set()
        t.join(10)
    assert pool.checkedout() == 0
    assert pool.checkedin() == 5
    assert pool.overflow() == 0
    assert pool.status() == (
        "Pool size: 5  Connections in pool: 5 Current Overflow: 0 "
        "Current Checked out connections: 0"
    )


def test_queuepool_timeout_report_lists_main_thread_holders(
    url: str, make_engine: Callable[..., Engine]
) -> None:
    eng = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.3)
    conn, line = eng.connect(), _here()
    time.sleep(0.05)
    with pytest.raises(exc.TimeoutError) as ei:
        eng.connect()
    msg = str(ei.value)
    assert msg.startswith(
        "QueuePool limit of size 1 overflow 0 reached, connection timed out, timeout 0.3"
    )
    holder = f"thread {threading.current_thread().name!r} has held it for "
    assert holder in msg
    held = float(msg.split(holder)[1].split("s,")[0])
    assert held >= 0.3
    name = sys._getframe().f_code.co_name
    assert f'checked out at File "{__file__}", line {line}, in {name}' in msg
    conn.close()
    assert eng.pool.checkedout() == 0
    assert eng.pool.checkedin() == 1


def test_blocked_checkout_is_served_when_a_connection_returns(
    url: str, make_engine: Callable[..., Engine]
) -> None:
    eng = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=20)
    first = eng.connect()
    first_dbapi = first.connection.dbapi_connection
    got: list[Any] = []

    def waiter() -> None:
        with eng.connect() as c:
            got.append((c.execute(text("SELECT 1")).scalar(), c.connection.dbapi_connection))

    t = threading.Thread(target=waiter)
    t.start()
    assert wait_until(lambda: eng.pool.stats().pending_requests == 1)
    assert eng.pool.stats().waits == 1
    first.close()
    t.join(20)
    assert not t.is_alive()
    assert got == [(1, first_dbapi)]  # the returned connection was handed to the waiter
    stats = eng.pool.stats()
    assert stats.timeouts == 0
    assert stats.pending_requests == 0
    assert stats.connections_opened == 1
    assert eng.pool.checkedout() == 0


def test_holders_point_at_the_checkout_lines(url: str, make_engine: Callable[..., Engine]) -> None:
    eng = make_engine(url)
    me = f"thread {threading.current_thread().name!r}"
    assert eng.pool.holders() == []

    c1, line1 = eng.connect(), _here()
    time.sleep(0.01)
    raw, line2 = eng.raw_connection(), _here()
    time.sleep(0.01)
    with eng.begin() as c3:
        line3 = _here() - 1
        holders = eng.pool.holders()
        assert holders[2].connection_id == id(c3.connection.dbapi_connection)
    assert [h.owner for h in holders] == [me, me, me]
    assert [h.owner_ident for h in holders] == [threading.get_ident()] * 3
    name = sys._getframe().f_code.co_name
    assert holders[0].site == f'File "{__file__}", line {line1}, in {name}'
    assert holders[1].site == f'File "{__file__}", line {line2}, in {name}'
    assert holders[2].site == f'File "{__file__}", line {line3}, in {name}'
    # oldest first
    assert holders[0].held_for >= holders[1].held_for >= holders[2].held_for >= 0
    assert holders[0].connection_id == id(c1.connection.dbapi_connection)
    assert holders[1].connection_id == id(raw.dbapi_connection)
    assert holders[0].stack is None  # pool_debug is off
    assert "has held it for" in holders[0].describe()

    # A holder in another thread is named after that thread.
    done = threading.Event()
    ready = threading.Event()
    lines: list[int] = []

    def other() -> None:
        with eng.connect():
            lines.append(_here() - 1)
            ready.set()
            done.wait(10)

    t = threading.Thread(target=other, name="holder-elsewhere")
    t.start()
    assert ready.wait(5)
    hs = eng.pool.holders()
    assert [h.owner for h in hs] == [me, me, "thread 'holder-elsewhere'"]
    assert hs[2].site == f'File "{__file__}", line {lines[0]}, in other'
    done.set()
    t.join(10)

    c1.close()
    raw.close()
    assert eng.pool.holders() == []
    assert eng.pool.checkedout() == 0


# --------------------------------------------------------------------------- 2. pool classes


def test_default_pool_per_url(tmp_path: Path) -> None:
    for u in ("sqlite://", "sqlite:///:memory:", "sqlite:///file:mem1?mode=memory&uri=true"):
        assert type(create_engine(u).pool) is SingletonThreadPool, u
    file_pool = create_engine(f"sqlite:///{tmp_path / 'f.db'}").pool
    assert type(file_pool) is QueuePool
    assert (file_pool.size(), file_pool.timeout(), file_pool.stats().max) == (5, 30.0, 15)
    for driver in ("psycopg", "psycopg2"):
        pg = create_engine(f"postgresql+{driver}://root@127.0.0.1:5432/test").pool
        assert type(pg) is QueuePool
        assert pg.size() == 5
        assert pg.timeout() == 30.0
        assert pg.stats().max == 15  # 5 + max_overflow 10
        assert pg.checkedout() == 0  # creating an engine connects nowhere
    assert type(create_engine("postgresql://root@127.0.0.1:5432/test").pool) is QueuePool


def test_nullpool_opens_and_closes_per_checkout(
    url: str, make_engine: Callable[..., Engine]
) -> None:
    eng = make_engine(url, poolclass=NullPool)
    assert isinstance(eng.pool, NullPool)
    opened: list[Any] = []
    closed: list[Any] = []
    event.listen(eng, "connect", lambda dbapi, rec: opened.append(dbapi))
    event.listen(eng, "close", lambda dbapi, rec: closed.append(dbapi))
    with eng.connect() as c1, eng.connect() as c2:
        assert c1.connection.dbapi_connection is not c2.connection.dbapi_connection
        assert eng.pool.checkedout() == 2
        hs = eng.pool.holders()
        assert len(hs) == 2
        assert __file__ in hs[0].site
    with eng.connect() as c3:
        c3.execute(text("SELECT 1"))
    assert len(opened) == 3
    assert sorted(map(id, closed)) == sorted(map(id, opened))
    assert eng.pool.checkedout() == 0
    assert eng.pool.checkedin() == 0
    s = eng.pool.stats()
    assert (s.connections_opened, s.connections_closed, s.requests) == (3, 3, 3)
    with pytest.raises(exc.ArgumentError, match="pool_size"):
        create_engine(url, poolclass=NullPool, pool_size=3)


def test_staticpool_shares_one_connection_between_threads(
    make_engine: Callable[..., Engine],
) -> None:
    eng = make_engine("sqlite://", poolclass=StaticPool)
    assert isinstance(eng.pool, StaticPool)
    with eng.begin() as c:
        c.execute(text("CREATE TABLE t (x INTEGER)"))
        c.execute(text("INSERT INTO t VALUES (1)"))
        main_dbapi = c.connection.dbapi_connection
    seen: list[Any] = []

    def other() -> None:
        with eng.connect() as c2:
            seen.append(c2.execute(text("SELECT x FROM t")).scalar())
            seen.append(c2.connection.dbapi_connection)

    t = threading.Thread(target=other)
    t.start()
    t.join(10)
    assert seen == [1, main_dbapi]
    with eng.connect() as a, eng.connect() as b:
        assert a.connection.dbapi_connection is b.connection.dbapi_connection
        assert eng.pool.checkedout() == 2
    assert eng.pool.checkedout() == 0
    assert eng.pool.stats().connections_opened == 1


def test_singletonthreadpool_one_database_per_thread(
    make_engine: Callable[..., Engine],
) -> None:
    eng = make_engine("sqlite://")
    assert isinstance(eng.pool, SingletonThreadPool)
    with eng.begin() as c:
        c.execute(text("CREATE TABLE t (x INTEGER)"))
        c.execute(text("INSERT INTO t VALUES (1)"))

    # Nested checkouts in one thread share the connection (and so the database).
    outer = eng.connect()
    inner = eng.connect()
    assert outer.connection.dbapi_connection is inner.connection.dbapi_connection
    assert inner.execute(text("SELECT x FROM t")).scalar() == 1
    inner.close()
    assert outer.execute(text("SELECT count(*) FROM t")).scalar() == 1  # still usable
    outer.close()
    assert eng.pool.checkedout() == 0

    errors: list[BaseException] = []
    other_dbapi: list[Any] = []

    def other() -> None:
        with eng.connect() as c2:
            other_dbapi.append(c2.connection.dbapi_connection)
            try:
                c2.execute(text("SELECT x FROM t"))
            except exc.OperationalError as e:
                errors.append(e)
            c2.execute(text("CREATE TABLE t (x INTEGER)"))  # its own empty database
            assert c2.execute(text("SELECT count(*) FROM t")).scalar() == 0

    t = threading.Thread(target=other)
    t.start()
    t.join(10)
    assert len(errors) == 1
    assert "no such table" in str(errors[0])
    with eng.connect() as c:
        assert c.connection.dbapi_connection is not other_dbapi[0]
        assert c.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_assertionpool_names_the_first_checkout(
    url: str, make_engine: Callable[..., Engine]
) -> None:
    eng = make_engine(url, poolclass=AssertionPool)
    assert isinstance(eng.pool, AssertionPool)
    first, line = eng.connect(), _here()
    with pytest.raises(AssertionError) as ei:
        eng.connect()
    assert "already checked out" in str(ei.value)
    assert site_of(line) in str(ei.value)
    assert eng.pool.checkedout() == 1
    first.close()
    with eng.connect() as again:
        assert again.execute(text("SELECT 1")).scalar() == 1
    assert eng.pool.checkedout() == 0


def test_dispose_and_recreate(url: str, make_engine: Callable[..., Engine]) -> None:
    eng = make_engine(url, pool_size=3, max_overflow=2, pool_timeout=7)
    pool = eng.pool
    assert isinstance(pool, QueuePool)
    checkouts: list[Any] = []
    closed: list[Any] = []
    event.listen(pool, "checkout", lambda dbapi, rec, proxy: checkouts.append(dbapi))
    event.listen(pool, "close", lambda dbapi, rec: closed.append(dbapi))

    a = eng.connect()
    b = eng.connect()
    b_dbapi = b.connection.dbapi_connection
    b.close()
    assert pool.checkedin() == 1
    pool.dispose()
    assert pool.checkedin() == 0
    assert closed == [b_dbapi]
    assert pool.checkedout() == 1
    a_dbapi = a.connection.dbapi_connection
    a.close()  # checked out during dispose: closed when it comes back
    assert closed == [b_dbapi, a_dbapi]
    assert pool.checkedout() == 0
    assert pool.checkedin() == 0

    new = pool.recreate()
    assert type(new) is QueuePool
    assert new is not pool
    assert (new.size(), new.timeout(), new.stats().max) == (3, 7, 5)
    n = len(checkouts)
    c = new.connect()
    assert len(checkouts) == n + 1  # instance listeners carried over
    assert new.checkedout() == 1
    c.close()
    assert new.checkedin() == 1
    new.dispose()
    assert new.checkedin() == 0


def test_engine_dispose_replaces_the_pool(url: str, make_engine: Callable[..., Engine]) -> None:
    eng = make_engine(url, pool_size=2)
    old = eng.pool
    closed: list[Any] = []
    event.listen(old, "close", lambda dbapi, rec: closed.append(dbapi))
    held = eng.connect()
    held_dbapi = held.connection.dbapi_connection
    with eng.connect() as c:
        idle_dbapi = c.connection.dbapi_connection
    eng.dispose()
    assert eng.pool is not old
    assert type(eng.pool) is QueuePool
    assert eng.pool.size() == 2
    assert closed == [idle_dbapi]
    with eng.connect() as c:
        assert c.execute(text("SELECT 1")).scalar() == 1
        assert c.connection.dbapi_connection not in (held_dbapi, idle_dbapi)
    assert eng.pool.checkedin() == 1
    held.close()  # goes back to the old pool, which closes it
    assert closed == [idle_dbapi, held_dbapi]
    assert old.checkedout() == 0
    assert old.checkedin() == 0
    assert eng.pool.checkedin() == 1


# --------------------------------------------------------------------------- 3. pool behaviours


def test_pre_ping_replaces_a_connection_closed_behind_the_pool(
    sqlite_url: str, make_engine: Callable[..., Engine]
) -> None:
    eng = make_engine(sqlite_url, pool_pre_ping=True, pool_size=1)
    opened: list[Any] = []
    event.listen(eng, "connect", lambda dbapi, rec: opened.append(dbapi))
    with eng.connect() as c:
        first = c.connection.dbapi_connection
    with eng.connect() as c:  # healthy: pre-ping keeps it
        assert c.connection.dbapi_connection is first
    first.close()  # dies while idle in the pool
    with eng.connect() as c:
        assert c.execute(text("SELECT 1")).scalar() == 1
        assert c.connection.dbapi_connection is not first
    assert len(opened) == 2
    s = eng.pool.stats()
    assert s.connections_lost == 1
    assert eng.pool.checkedout() == 0
    assert eng.pool.checkedin() == 1


def test_recycle_replaces_old_connections(url: str, make_engine: Callable[..., Engine]) -> None:
    eng = make_engine(url, pool_recycle=0.1, pool_size=1)
    opened: list[Any] = []
    closed: list[Any] = []
    event.listen(eng, "connect", lambda dbapi, rec: opened.append(dbapi))
    event.listen(eng, "close", lambda dbapi, rec: closed.append(dbapi))
    raw = eng.raw_connection()
    first = raw.dbapi_connection
    raw.close()
    time.sleep(0.15)
    raw = eng.raw_connection()
    second = raw.dbapi_connection
    raw.close()
    assert second is not first
    assert opened == [first, second]
    assert closed == [first]
    with eng.connect() as c:
        assert c.execute(text("SELECT 1")).scalar() == 1
    assert eng.pool.checkedout() == 0

    keep = make_engine(url, pool_recycle=3600, pool_size=1)
    raw = keep.raw_connection()
    first = raw.dbapi_connection
    raw.close()
    raw = keep.raw_connection()
    assert raw.dbapi_connection is first
    raw.close()


def test_reset_on_return_rolls_back(
    url: str, table: str, make_engine: Callable[..., Engine]
) -> None:
    eng = make_engine(url, pool_size=1, max_overflow=0)
    resets: list[Any] = []
    dirty_at_checkin: list[bool] = []
    event.listen(eng, "reset", lambda dbapi, rec, state: resets.append(state))
    event.listen(
        eng, "checkin", lambda dbapi, rec: dirty_at_checkin.append(eng._driver.needs_reset(dbapi))
    )
    c = eng.connect()
    c.execute(text(f"INSERT INTO {table} (id, v) VALUES (1, 'uncommitted')"))
    assert c.in_transaction()
    c.close()
    assert len(resets) == 1
    assert dirty_at_checkin == [False]  # checkin listeners see the rolled-back connection
    assert count_rows(eng, table) == 0

    # A raw DBAPI connection returned mid-transaction is rolled back too.
    raw = eng.raw_connection()
    cur = raw.cursor()
    cur.execute(f"INSERT INTO {table} (id, v) VALUES (2, 'raw')")
    cur.close()
    raw.close()
    assert count_rows(eng, table) == 0
    raw = eng.raw_connection()
    assert not eng._driver.needs_reset(raw.dbapi_connection)  # came back clean
    raw.close()

    # pool_reset_on_return="commit" commits instead.
    committing = make_engine(url, pool_reset_on_return="commit")
    raw = committing.raw_connection()
    cur = raw.cursor()
    cur.execute(f"INSERT INTO {table} (id, v) VALUES (3, 'committed on return')")
    cur.close()
    raw.close()
    assert count_rows(eng, table) == 1
    assert committing.pool.checkedout() == 0


@pytest.mark.parametrize("lifo", [True, False], ids=["lifo", "fifo"])
def test_lifo_and_fifo(url: str, lifo: bool, make_engine: Callable[..., Engine]) -> None:
    eng = make_engine(url, pool_size=3, max_overflow=0, pool_use_lifo=lifo)
    raws = [eng.raw_connection() for _ in range(3)]
    dbapis = [r.dbapi_connection for r in raws]
    for r in raws:
        r.close()
    assert eng.pool.checkedin() == 3
    r = eng.raw_connection()
    assert r.dbapi_connection is (dbapis[-1] if lifo else dbapis[0])
    r.close()
    order = []
    for _ in range(3):
        r = eng.raw_connection()
        order.append(r.dbapi_connection)
        r.close()
    if lifo:
        assert order == [dbapis[-1]] * 3  # the most recently returned, every time
    else:
        assert order == [dbapis[1], dbapis[2], dbapis[0]]  # round robin


# --------------------------------------------------------------------------- 4. dead backends


def _backend_pid(eng: Engine) -> int:
    with eng.connect() as c:
        pid: int = c.execute(text("SELECT pg_backend_pid()")).scalar()
        return pid


@pytest.mark.postgresql
@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_pg_backend_killed_with_pre_ping(driver: str, make_engine: Callable[..., Engine]) -> None:
    require_pg()
    eng = make_engine(pg_url(driver), pool_pre_ping=True, pool_size=2)
    pid = _backend_pid(eng)
    assert eng.pool.checkedin() == 1
    pg_terminate(pid)
    with eng.connect() as c:
        assert c.execute(text("SELECT 41 + 1")).scalar() == 42
        assert c.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    assert eng.pool.checkedout() == 0
    assert eng.pool.checkedin() == 1
    s = eng.pool.stats()
    assert s.connections_lost == 1
    assert s.connections_opened == 2


@pytest.mark.postgresql
@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_pg_backend_killed_without_pre_ping(
    driver: str, make_engine: Callable[..., Engine]
) -> None:
    require_pg()
    eng = make_engine(pg_url(driver), pool_size=2)
    invalidated: list[BaseException | None] = []
    event.listen(eng, "invalidate", lambda dbapi, rec, e: invalidated.append(e))
    pid = _backend_pid(eng)
    pg_terminate(pid)
    c = eng.connect()
    with pytest.raises(exc.OperationalError) as ei:
        c.execute(text("SELECT 1"))
    assert ei.value.connection_invalidated is True
    assert c.invalidated
    assert len(invalidated) == 1
    assert eng.pool.checkedout() == 0  # the dead connection's slot is already free
    assert eng.pool.checkedin() == 0
    with pytest.raises(exc.PendingRollbackError):
        c.execute(text("SELECT 1"))
    c.rollback()
    assert c.execute(text("SELECT pg_backend_pid()")).scalar() != pid  # reconnected
    c.close()
    with eng.connect() as c2:
        assert c2.execute(text("SELECT 1")).scalar() == 1
    assert eng.pool.checkedout() == 0
    assert eng.pool.checkedin() == 1
    assert eng.pool.stats().connections_opened == 2


# --------------------------------------------------------------------------- 5. events


def test_pool_events_via_engine(url: str, make_engine: Callable[..., Engine]) -> None:
    eng = make_engine(url, pool_size=1, max_overflow=1)
    seen: list[tuple[str, Any]] = []

    @event.listens_for(eng, "connect")
    def on_connect(dbapi: Any, rec: Any) -> None:
        seen.append(("connect", dbapi))

    @event.listens_for(eng, "first_connect")
    def on_first(dbapi: Any, rec: Any) -> None:
        seen.append(("first_connect", dbapi))

    @event.listens_for(eng, "checkout")
    def on_checkout(dbapi: Any, rec: Any, proxy: Any) -> None:
        assert proxy.dbapi_connection is dbapi
        assert rec.dbapi_connection is dbapi
        seen.append(("checkout", dbapi))

    @event.listens_for(eng, "checkin")
    def on_checkin(dbapi: Any, rec: Any) -> None:
        seen.append(("checkin", dbapi))

    @event.listens_for(eng, "reset")
    def on_reset(dbapi: Any, rec: Any, state: Any) -> None:
        seen.append(("reset", dbapi))

    @event.listens_for(eng, "invalidate")
    def on_invalidate(dbapi: Any, rec: Any, e: BaseException | None) -> None:
        seen.append(("invalidate", e))

    @event.listens_for(eng, "close")
    def on_close(dbapi: Any, rec: Any) -> None:
        seen.append(("close", dbapi))

    c1 = eng.connect()
    d1 = c1.connection.dbapi_connection
    c2 = eng.connect()  # overflow
    d2 = c2.connection.dbapi_connection
    assert seen == [
        ("first_connect", d1), ("connect", d1), ("checkout", d1),
        ("connect", d2), ("checkout", d2),
    ]  # fmt: skip
    seen.clear()
    c2.close()  # kept (the pool has room)
    c1.close()  # overflow: closed
    # as in SQLAlchemy: reset (then the rollback), then checkin
    assert seen == [("reset", d2), ("checkin", d2), ("reset", d1), ("checkin", d1), ("close", d1)]
    seen.clear()

    c3 = eng.connect()
    assert c3.connection.dbapi_connection is d2
    reason = RuntimeError("invalidated on purpose")
    c3.invalidate(reason)
    # an invalidated connection is checked in without its DBAPI connection
    assert seen == [("checkout", d2), ("invalidate", reason), ("close", d2), ("checkin", None)]
    assert eng.pool.checkedout() == 0
    seen.clear()
    c3.close()
    with eng.connect():
        pass
    names = [n for n, _ in seen]
    assert names == ["connect", "checkout", "reset", "checkin"]  # no second first_connect
    assert event.contains(eng, "checkout", on_checkout)
    event.remove(eng, "checkout", on_checkout)
    assert not event.contains(eng, "checkout", on_checkout)


def test_pool_events_on_pool_instance_and_class(
    url: str, make_engine: Callable[..., Engine]
) -> None:
    before = make_engine(url)  # exists before the class-level listener
    on_instance: list[Any] = []
    on_queuepool: list[Any] = []
    on_pool: list[Any] = []
    event.listen(before.pool, "checkout", lambda d, r, p: on_instance.append(d))

    def qp(dbapi: Any, rec: Any, proxy: Any) -> None:
        on_queuepool.append(dbapi)

    def any_pool(dbapi: Any, rec: Any) -> None:
        on_pool.append(dbapi)

    event.listen(QueuePool, "checkout", qp)
    event.listen(Pool, "connect", any_pool)
    try:
        after = make_engine(url)
        null = make_engine(url, poolclass=NullPool)
        with before.connect():
            pass
        with after.connect():
            pass
        with null.connect():
            pass
        assert len(on_instance) == 1
        assert len(on_queuepool) == 2  # both QueuePools, not the NullPool
        assert len(on_pool) == 3  # every pool class
    finally:
        event.remove(QueuePool, "checkout", qp)
        event.remove(Pool, "connect", any_pool)
    with after.connect():
        pass
    assert len(on_queuepool) == 2
    with pytest.raises(exc.InvalidRequestError, match="Unknown pool event"):
        event.listen(QueuePool, "no_such_event", qp)


def test_sqlite_foreign_keys_recipe(sqlite_url: str, make_engine: Callable[..., Engine]) -> None:
    ddl = [
        "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))",
    ]
    plain = make_engine(sqlite_url)
    with plain.begin() as c:
        for stmt in ddl:
            c.execute(text(stmt))
        c.execute(text("INSERT INTO child VALUES (1, 99)"))  # FKs are off by default
    plain.dispose()

    eng = make_engine(sqlite_url)

    @event.listens_for(eng, "connect")
    def set_sqlite_pragma(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    with eng.connect() as c:
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(exc.IntegrityError, match="FOREIGN KEY"), eng.begin() as c:
        c.execute(text("INSERT INTO child VALUES (2, 100)"))
    with eng.begin() as c:
        c.execute(text("INSERT INTO parent VALUES (100)"))
        c.execute(text("INSERT INTO child VALUES (2, 100)"))
    assert eng.pool.checkedout() == 0


def test_connect_listener_that_raises_frees_the_slot(
    url: str, make_engine: Callable[..., Engine]
) -> None:
    eng = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    created: list[Any] = []

    class Boom(Exception):
        pass

    def boom(dbapi: Any, rec: Any) -> None:
        created.append(dbapi)
        raise Boom("connect listener failed")

    event.listen(eng, "connect", boom)
    for attempt in (1, 2):
        with pytest.raises(Boom):
            eng.connect()
        assert eng.pool.checkedout() == 0
        s = eng.pool.stats()
        assert s.connections_opened == attempt
        assert s.connections_closed == attempt
        assert s.size == 0
    for dbapi in created:  # really closed
        with pytest.raises(Exception, match=r"(?i)closed"):
            dbapi.cursor().execute("SELECT 1")
    event.remove(eng, "connect", boom)
    with eng.connect() as c:  # the only slot is free
        assert c.execute(text("SELECT 1")).scalar() == 1
    assert eng.pool.checkedout() == 0


def test_engine_connect_listener_that_raises_frees_the_slot(
    url: str, make_engine: Callable[..., Engine]
) -> None:
    eng = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.5)

    def boom(conn: Any) -> None:
        raise KeyError("engine_connect failed")

    event.listen(eng, "engine_connect", boom)
    with pytest.raises(KeyError):
        eng.connect()
    assert eng.pool.checkedout() == 0
    event.remove(eng, "engine_connect", boom)
    with eng.connect() as c:
        assert c.execute(text("SELECT 1")).scalar() == 1


# --------------------------------------------------------------------------- 6. leak threshold


def test_leak_threshold_warns_and_logs(
    url: str, make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    eng = make_engine(url, pool_leak_threshold=0.2)
    caplog.set_level(logging.WARNING, logger="hermetic.pool")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        conn, line = eng.connect(), _here()
        conn.execute(text("SELECT 1"))
        assert wait_until(lambda: bool(leak_warnings(w)), timeout=2.5)
        time.sleep(0.3)  # one warning per checkout, not one per watchdog round
        msgs = leak_warnings(w)
        assert len(msgs) == 1
        assert "pool_leak_threshold=0.2s" in msgs[0]
        assert site_of(line) in msgs[0]
        assert f"thread {threading.current_thread().name!r}" in msgs[0]
        records = [r for r in caplog.records if r.name == "hermetic.pool"]
        assert any(site_of(line) in r.getMessage() for r in records)
        assert all(r.levelno == logging.WARNING for r in records)
        conn.close()
    came_back = [r.getMessage() for r in caplog.records if "came back" in r.getMessage()]
    assert len(came_back) == 1
    assert site_of(line) in came_back[0]
    assert eng.pool.stats().leaks_suspected == 1
    assert eng.pool.checkedout() == 0

    # A short checkout is not reported.
    caplog.clear()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        time.sleep(0.3)
        assert leak_warnings(w) == []
    assert not any("came back" in r.getMessage() for r in caplog.records)


def test_pool_debug_records_the_checkout_stack(
    url: str, make_engine: Callable[..., Engine]
) -> None:
    eng = make_engine(url, pool_debug=True)
    conn, line = eng.connect(), _here()
    (h,) = eng.pool.holders()
    assert isinstance(h.stack, list)
    assert all(isinstance(s, str) for s in h.stack)
    assert site_of(line) in h.stack[-1]
    assert "hermetic" not in h.stack[-1]
    conn.close()
    assert eng.pool.holders() == []


def test_leak_warning_with_pool_debug_includes_the_stack(
    sqlite_url: str, make_engine: Callable[..., Engine]
) -> None:
    eng = make_engine(sqlite_url, pool_leak_threshold=0.1, pool_debug=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        conn, line = eng.connect(), _here()
        assert wait_until(lambda: bool(leak_warnings(w)), timeout=2.5)
        conn.close()
    (msg,) = leak_warnings(w)
    assert "Checkout stack:" in msg
    assert msg.count(site_of(line)) == 2  # the site and the last frame of the stack


# --------------------------------------------------------------------------- 7. reclaim


def test_dropped_connection_is_reclaimed(
    url: str, table: str, make_engine: Callable[..., Engine]
) -> None:
    eng = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=5)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        c, line = eng.connect(), _here()
        c.execute(text(f"INSERT INTO {table} (id, v) VALUES (1, 'dropped')"))  # write lock
        del c
        gc.collect()
        assert eng.pool.checkedout() == 0
    msgs = leak_warnings(w)
    assert len(msgs) == 1, msgs
    assert "dropped without being returned" in msgs[0]
    assert site_of(line) in msgs[0]
    s = eng.pool.stats()
    assert s.reclaimed == 1
    assert s.connections_lost == 1
    assert s.connections_closed == 1  # closed, not reused: it may have been mid-transaction
    assert eng.pool.checkedin() == 0
    # The abandoned transaction is gone and its lock released; the slot works.
    with eng.begin() as c2:
        c2.execute(text(f"INSERT INTO {table} (id, v) VALUES (2, 'next')"))
    assert count_rows(eng, table) == 1


def test_dropped_raw_connection_is_reclaimed(url: str, make_engine: Callable[..., Engine]) -> None:
    eng = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=5)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        raw, line = eng.raw_connection(), _here()
        raw.cursor().close()
        del raw
        gc.collect()
        assert eng.pool.checkedout() == 0
    msgs = leak_warnings(w)
    assert len(msgs) == 1
    assert site_of(line) in msgs[0]
    assert eng.pool.stats().reclaimed == 1
    with eng.connect() as c:
        assert c.execute(text("SELECT 1")).scalar() == 1


def test_waiter_gets_a_dropped_connection(url: str, make_engine: Callable[..., Engine]) -> None:
    eng = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=10)
    got: list[int] = []
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        dropped, line = eng.connect(), _here()

        def waiter() -> None:
            with eng.connect() as c:
                got.append(c.execute(text("SELECT 7")).scalar())

        t = threading.Thread(target=waiter)
        t.start()
        assert wait_until(lambda: eng.pool.stats().pending_requests == 1)
        del dropped
        gc.collect()
        t.join(10)
    assert got == [7]
    assert eng.pool.stats().reclaimed == 1
    assert eng.pool.stats().timeouts == 0
    assert any(site_of(line) in m for m in leak_warnings(w))
    assert eng.pool.checkedout() == 0


# --------------------------------------------------------------------------- 8. stats


def test_stats_in_a_scripted_scenario(url: str, make_engine: Callable[..., Engine]) -> None:
    eng = make_engine(url, pool_size=1, max_overflow=1, pool_timeout=0.5)
    pool = eng.pool
    s = pool.stats()
    assert (s.requests, s.size, s.max, s.idle_max) == (0, 0, 2, 1)

    c1 = eng.connect()
    c2 = eng.connect()  # overflow
    s = pool.stats()
    assert (s.requests, s.waits, s.connections_opened, s.size, s.used, s.idle) == (
        2, 0, 2, 2, 2, 0,
    )  # fmt: skip

    with pytest.raises(exc.TimeoutError):
        eng.connect()
    s = pool.stats()
    assert (s.requests, s.waits, s.timeouts) == (3, 1, 1)
    assert s.wait_time >= 0.5

    served: list[int] = []

    def waiter() -> None:
        with eng.connect() as c:
            served.append(c.execute(text("SELECT 1")).scalar())

    t = threading.Thread(target=waiter)
    t.start()
    assert wait_until(lambda: pool.stats().pending_requests == 1)
    c2.close()
    t.join(10)
    assert served == [1]
    s = pool.stats()
    assert (s.requests, s.waits, s.timeouts, s.returns) == (4, 2, 1, 2)
    assert (s.size, s.idle, s.used) == (2, 1, 1)

    c1.close()  # the pool already keeps one: this one is closed
    s = pool.stats()
    assert (s.returns, s.connections_closed, s.size, s.idle) == (3, 1, 1, 1)

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        dropped = eng.connect()
        del dropped
        gc.collect()
        s = pool.stats()
    assert len(leak_warnings(w)) == 1
    assert (s.requests, s.reclaimed, s.connections_lost, s.connections_closed) == (5, 1, 1, 2)
    assert s.size == 0

    raw = eng.raw_connection()
    raw.dbapi_connection.close()  # broken behind the pool's back
    raw.close()
    s = pool.stats()
    assert (s.requests, s.returns_bad, s.connections_lost, s.connections_closed) == (6, 1, 2, 3)
    assert (s.size, s.used, s.idle) == (0, 0, 0)
    assert s.connections_opened == 3
    assert s.connections_errors == 0
    assert s.use_time > 0
    assert s.leaks_suspected == 0
    assert pool.checkedout() == 0

    otel = s.as_otel()
    assert set(otel) == {
        "db.client.connection.count{state=idle}",
        "db.client.connection.count{state=used}",
        "db.client.connection.idle.max",
        "db.client.connection.max",
        "db.client.connection.pending_requests",
        "db.client.connection.timeouts",
        "db.client.connection.wait_time.sum",
        "db.client.connection.use_time.sum",
        "db.client.connection.create.count",
    }
    assert otel["db.client.connection.max"] == 2
    assert otel["db.client.connection.idle.max"] == 1
    assert otel["db.client.connection.timeouts"] == 1
    assert otel["db.client.connection.create.count"] == 3
    assert otel["db.client.connection.wait_time.sum"] == s.wait_time


# --------------------------------------------------------------------------- 9. bad input


@pytest.mark.parametrize(
    "bad_url",
    ["not a url", "", "://nohost", "sqlite", "postgresql://root@h:notaport/db"],
)
def test_malformed_urls(bad_url: str) -> None:
    with pytest.raises(exc.ArgumentError, match="Could not parse"):
        create_engine(bad_url)


def test_unknown_dialect_and_driver() -> None:
    with pytest.raises(exc.NoSuchModuleError) as ei:
        create_engine("nosuchdb://u@h/db")
    assert "postgresql" in str(ei.value)
    assert "sqlite" in str(ei.value)
    with pytest.raises(exc.NoSuchModuleError) as ei:
        create_engine("postgresql+nosuchdriver://u@h/db")
    assert "nosuchdriver" in str(ei.value)
    assert "psycopg, psycopg2" in str(ei.value)
    with pytest.raises(exc.NoSuchModuleError, match="pysqlite"):
        create_engine("sqlite+nosuchdriver:///x.db")
    assert issubclass(exc.NoSuchModuleError, exc.ArgumentError)


def test_bad_input_leaves_the_pool_unchanged(url: str, make_engine: Callable[..., Engine]) -> None:
    eng = make_engine(url, pool_size=2, max_overflow=0)
    with eng.connect() as c:
        c.execute(text("SELECT 1"))
    before = counters(eng.pool)

    for kw in ({"pool_sizee": 3}, {"no_such_option": True}):
        with pytest.raises(exc.ArgumentError) as ei:
            create_engine(url, **kw)
        assert isinstance(ei.value, TypeError)
        assert next(iter(kw)) in str(ei.value)
    with pytest.raises(TypeError):
        create_engine(url, poolclass=StaticPool, max_overflow=3)
    assert counters(eng.pool) == before

    def requests_and_returns(n: int) -> dict[str, Any]:
        d = dict(before)
        d["requests"] += n
        d["returns"] += n
        return d

    # A missing bind parameter: the statement is refused before it reaches the driver.
    with eng.connect() as c:
        with pytest.raises(exc.StatementError, match="x") as se:
            c.execute(text("SELECT :x"))
        assert not isinstance(se.value, exc.DBAPIError)
        assert not c.invalidated
        assert c.execute(text("SELECT :x"), {"x": 5}).scalar() == 5
    assert counters(eng.pool) == requests_and_returns(1)

    # SQL errors: the connection survives and goes back to the pool.
    pg = url.startswith("postgresql")
    with eng.connect() as c:
        with pytest.raises(exc.ProgrammingError if pg else exc.OperationalError) as de:
            c.execute(text("SELECT * FROM no_such_table_at_all"))
        assert de.value.connection_invalidated is False
        c.rollback()
        with pytest.raises(exc.ProgrammingError if pg else exc.OperationalError):
            c.execute(text("SELEKT 1"))
        c.rollback()
        if pg:
            with pytest.raises(exc.DataError):
                c.execute(text("SELECT 1/0"))
            c.rollback()
        assert c.execute(text("SELECT 2")).scalar() == 2
    after = counters(eng.pool)
    assert after == requests_and_returns(2)
    assert eng.pool.checkedout() == 0


def test_refused_connection_leaves_nothing_checked_out() -> None:
    eng = create_engine("postgresql://root@127.0.0.1:1/test", pool_size=1, max_overflow=0)
    for attempt in (1, 2, 3):
        with pytest.raises(exc.OperationalError) as ei:
            if attempt == 3:
                eng.raw_connection()
            else:
                eng.connect()
        assert "127.0.0.1" in str(ei.value) or "refused" in str(ei.value).lower()
        assert eng.pool.checkedout() == 0
        s = eng.pool.stats()
        assert (s.size, s.requests, s.connections_errors, s.connections_opened) == (
            0, attempt, attempt, 0,
        )  # fmt: skip
    assert eng.pool.holders() == []
    eng.dispose()
