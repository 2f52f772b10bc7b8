"""Stress: 50 threads on a small QueuePool, with asynchronous exceptions injected at random
moments (PyThreadState_SetAsyncExc), so they land mid-checkout, mid-use and mid-return.

Afterwards the pool's counters must be true (nothing checked out, the server sees exactly
the pool's idle connections), its capacity intact, every committed row present and no
rolled-back row visible (DESIGN.md §5).
"""

from __future__ import annotations

import ctypes
import gc
import logging
import random
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hermetic as sa
from conftest import PG_URL, pg_url, require_pg
from hermetic import create_engine, exc, text
from hermetic.engine import Engine

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def quiet_pool_log() -> Any:
    """The standard library's logging handlers take their locks with ``acquire()`` +
    ``try``, which an asynchronous exception can leave held for good; so the pool's
    messages (which these interrupts provoke) are not routed through them here."""
    logger = logging.getLogger("hermetic.pool")
    was = logger.disabled
    logger.disabled = True
    yield
    logger.disabled = was


N_THREADS = 50
DURATION = 3.0
POOL_SIZE = 5
MAX_OVERFLOW = 5
POOL_TIMEOUT = 0.2


class Interrupt(BaseException):
    """Injected into worker threads, like a KeyboardInterrupt or a gevent Timeout."""


class Deliberate(Exception):
    """Raised by a worker in the middle of a transaction."""


def wait_until(pred: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def inject(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    assert thread.ident is not None
    n = ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type)
    )
    assert n == 1, n


class Stress:
    """Workers, the interrupter, and what they did."""

    def __init__(self, eng: Engine, table: str, seed: int) -> None:
        self.eng = eng
        self.table = table
        self.seed = seed
        self.lock = threading.Lock()  # guards the bookkeeping below
        self.committed: set[int] = set()
        self.rolled_back: set[int] = set()
        self.errors: Counter[str] = Counter()
        self.unexpected: list[BaseException] = []
        self.actions: Counter[str] = Counter()
        self.injected = [0] * N_THREADS
        self.acked = [0] * N_THREADS
        self.done = [False] * N_THREADS
        self.end = 0.0

    # ------------------------------------------------------------------ one worker
    def action(self, rng: random.Random, ids: Any) -> None:
        eng, table = self.eng, self.table
        r = rng.random()
        if r < 0.35:
            self.actions["commit"] += 1
            i = next(ids)
            with eng.begin() as c:
                c.execute(text(f"INSERT INTO {table} (id, v) VALUES (:i, 'c')"), {"i": i})
            with self.lock:
                self.committed.add(i)
        elif r < 0.50:
            self.actions["raise"] += 1
            i = next(ids)
            with self.lock:
                self.rolled_back.add(i)
            try:
                with eng.begin() as c:
                    c.execute(text(f"INSERT INTO {table} (id, v) VALUES (:i, 'r')"), {"i": i})
                    time.sleep(rng.random() * 0.01)
                    raise Deliberate()
            except Deliberate:
                pass
        elif r < 0.60:
            self.actions["rollback"] += 1
            i = next(ids)
            with self.lock:
                self.rolled_back.add(i)
            with eng.connect() as c:
                c.execute(text(f"INSERT INTO {table} (id, v) VALUES (:i, 'rb')"), {"i": i})
                c.rollback()
                assert c.execute(text("SELECT 1")).scalar() == 1
        elif r < 0.70:
            self.actions["abandon"] += 1  # closed with its transaction open
            i = next(ids)
            with self.lock:
                self.rolled_back.add(i)
            c = eng.connect()
            try:
                c.execute(text(f"INSERT INTO {table} (id, v) VALUES (:i, 'a')"), {"i": i})
            finally:
                c.close()
        elif r < 0.80:
            self.actions["raw"] += 1
            raw = eng.raw_connection()
            try:
                cur = raw.cursor()
                cur.execute("SELECT 1")
                assert cur.fetchone()[0] == 1
                cur.close()
            finally:
                raw.close()
        else:
            self.actions["hold"] += 1  # keeps the pool exhausted: others wait and time out
            with eng.connect() as c:
                c.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                time.sleep(0.05 + rng.random() * 0.25)

    def work(self, idx: int) -> None:
        rng = random.Random(self.seed * 1000 + idx)
        ids = iter(range(idx * 1_000_000, (idx + 1) * 1_000_000))
        while True:
            try:
                if time.monotonic() >= self.end:
                    with self.lock:
                        self.done[idx] = True
                    return
                self.action(rng, ids)
            except Interrupt:
                self.acked[idx] += 1
                self.errors["Interrupt"] += 1
            except exc.TimeoutError:
                self.errors["TimeoutError"] += 1
            except exc.OperationalError as e:
                if "database is locked" not in str(e):
                    with self.lock:
                        self.unexpected.append(e)
                self.errors["locked"] += 1
            except Exception as e:  # anything else is a bug
                with self.lock:
                    self.unexpected.append(e)

    def guarded(self, idx: int, layers: int) -> None:
        """``work`` inside layers of Interrupt handlers: an interrupt that lands between
        two tries (outside any ``try`` of ``work``) is caught by the next layer out."""
        while True:
            try:
                if layers:
                    self.guarded(idx, layers - 1)
                else:
                    self.work(idx)
                return
            except Interrupt:
                self.acked[idx] += 1
                self.errors["Interrupt (between tries)"] += 1

    # ------------------------------------------------------------------ the interrupter
    def interrupter(self, threads: list[threading.Thread]) -> None:
        rng = random.Random(self.seed)
        stop = self.end - 0.3
        while time.monotonic() < stop:
            time.sleep(rng.random() * 0.012)
            idx = rng.randrange(N_THREADS)
            with self.lock:
                # one pending interrupt per thread at a time; none once it finished
                if self.done[idx] or self.injected[idx] != self.acked[idx]:
                    continue
                self.injected[idx] += 1
                inject(threads[idx], Interrupt)

    def run(self) -> None:
        self.end = time.monotonic() + DURATION
        threads = [
            threading.Thread(target=self.guarded, args=(i, 3), name=f"stress-{i}", daemon=True)
            for i in range(N_THREADS)
        ]
        for t in threads:
            t.start()
        chaos = threading.Thread(target=self.interrupter, args=(threads,), daemon=True)
        chaos.start()
        chaos.join(DURATION + 5)
        deadline = time.monotonic() + DURATION + 20
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in threads if t.is_alive()]
        assert not alive, (
            f"workers stuck: {alive}; pool: {self.eng.pool.status()}; "
            f"holders: {self.eng.pool.holders()}"
        )


def dispose(eng: Engine) -> None:
    """Dispose unless a failed test left the pool's lock held (that would hang)."""
    lock = eng.pool._lock
    if lock.acquire(timeout=2):
        lock.release()
        eng.dispose()


def check_pool(stress: Stress, eng: Engine, leaks: list[warnings.WarningMessage]) -> None:
    pool = eng.pool
    assert not stress.unexpected, stress.unexpected[:5]
    assert sum(stress.injected) > 50, stress.injected  # the chaos really happened
    assert sum(stress.acked) == sum(stress.injected)
    # The pool was really exhausted: checkouts had to wait (timing decides whether any
    # of those waits also ran out, so timeouts are not required).
    assert pool.stats().waits > 0 or stress.errors["TimeoutError"] > 0, stress.errors
    assert len(stress.committed) > 20, stress.actions
    gc.collect()
    assert pool.checkedout() == 0, pool.holders()
    assert pool.holders() == []
    stats = pool.stats()
    assert stats.size == pool.checkedin() <= POOL_SIZE
    assert stats.pending_requests == 0
    # Any leak warning is a reclaim (a Connection dropped between checkout and `with`).
    # (A warning can be lost when an interrupt lands in the thread emitting it, so this
    # is not an equality.)
    dropped = [str(w.message) for w in leaks if issubclass(w.category, exc.ConnectionLeakWarning)]
    assert len(dropped) <= stats.reclaimed, dropped
    assert all("test_pool_stress.py" in m for m in dropped)


def check_capacity(eng: Engine) -> None:
    """Exactly pool_size + max_overflow checkouts are possible, the next one times out."""
    conns = [eng.connect() for _ in range(POOL_SIZE + MAX_OVERFLOW)]
    try:
        for c in conns:
            assert c.execute(text("SELECT 1")).scalar() == 1
        assert eng.pool.checkedout() == POOL_SIZE + MAX_OVERFLOW
        with pytest.raises(exc.TimeoutError):
            eng.connect()
    finally:
        for c in conns:
            c.close()
    assert eng.pool.checkedout() == 0


def check_rows(stress: Stress, eng: Engine, table: str) -> None:
    with eng.connect() as c:
        present = set(c.execute(text(f"SELECT id FROM {table}")).scalars())
    assert stress.committed <= present, sorted(stress.committed - present)[:10]
    assert not (stress.rolled_back & present), sorted(stress.rolled_back & present)[:10]
    # No lock or transaction was left behind: a write goes through at once.
    with eng.begin() as c:
        c.execute(text(f"INSERT INTO {table} (id, v) VALUES (-1, 'final')"))


def run_stress(eng: Engine, table: str) -> Stress:
    with eng.begin() as c:
        c.execute(text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)"))
    stress = Stress(eng, table, seed=random.randrange(1 << 30))
    with warnings.catch_warnings(record=True) as leaks:
        warnings.simplefilter("always")
        stress.run()
        check_pool(stress, eng, leaks)
    return stress


def test_stress_sqlite_file(tmp_path: Path) -> None:
    eng = create_engine(
        f"sqlite:///{tmp_path / 'stress.db'}",
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT,
    )
    try:
        stress = run_stress(eng, "stress")
        check_capacity(eng)
        check_rows(stress, eng, "stress")
        assert eng.pool.checkedout() == 0
    finally:
        dispose(eng)


def pg_admin() -> Any:
    import psycopg

    u = sa.make_url(PG_URL)
    return psycopg.connect(
        host=u.host, port=u.port or 5432, user=u.username, dbname=u.database, autocommit=True
    )


def _server_connections(tag: str) -> int:
    with pg_admin() as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (tag,)
        ).fetchone()
        assert row is not None
        return int(row[0])


@pytest.mark.postgresql
@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_stress_postgresql(driver: str) -> None:
    require_pg()
    tag = f"hermetic-stress-{uuid.uuid4().hex[:12]}"
    table = f"stress_{uuid.uuid4().hex[:12]}"
    eng = create_engine(
        pg_url(driver),
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT,
        connect_args={"application_name": tag},
    )
    try:
        stress = run_stress(eng, table)
        idle = eng.pool.checkedin()
        # Exactly the pool's idle connections are open on the server (closed sockets of
        # invalidated connections may take the server a moment to notice).
        assert wait_until(lambda: _server_connections(tag) == idle), (
            _server_connections(tag),
            idle,
        )
        check_capacity(eng)
        check_rows(stress, eng, table)
        assert wait_until(lambda: _server_connections(tag) == eng.pool.checkedin())
    finally:
        with pg_admin() as admin:  # not through the pool: it may be what failed
            admin.execute(f"DROP TABLE IF EXISTS {table}")
        dispose(eng)
    assert wait_until(lambda: _server_connections(tag) == 0)


def _hammer(eng: Engine, seconds: float, n_threads: int) -> tuple[int, int, list[BaseException]]:
    """Threads checking out and returning as fast as they can while interrupts rain on
    them, so that most interrupts land inside pool code. Returns (injected, rounds,
    unexpected errors)."""
    end = time.monotonic() + seconds
    lock = threading.Lock()
    injected = [0] * n_threads
    acked = [0] * n_threads
    done = [False] * n_threads
    rounds = [0] * n_threads
    unexpected: list[BaseException] = []

    def work(idx: int) -> None:
        while True:
            try:
                if time.monotonic() >= end:
                    with lock:
                        done[idx] = True
                    return
                if rounds[idx] % 2:
                    raw = eng.raw_connection()
                    try:
                        raw.cursor().close()
                    finally:
                        raw.close()
                else:
                    with eng.connect() as c:
                        c.execute(text("SELECT 1"))
                rounds[idx] += 1
            except Interrupt:
                acked[idx] += 1
            except exc.TimeoutError:
                pass
            except Exception as e:
                with lock:
                    unexpected.append(e)

    def guarded(idx: int, layers: int) -> None:
        while True:
            try:
                if layers:
                    guarded(idx, layers - 1)
                else:
                    work(idx)
                return
            except Interrupt:
                acked[idx] += 1

    threads = [
        threading.Thread(target=guarded, args=(i, 3), name=f"hammer-{i}", daemon=True)
        for i in range(n_threads)
    ]
    for t in threads:
        t.start()
    rng = random.Random()
    while time.monotonic() < end - 0.2:
        time.sleep(rng.random() * 0.001)
        idx = rng.randrange(n_threads)
        with lock:
            if done[idx] or injected[idx] != acked[idx]:
                continue
            injected[idx] += 1
            inject(threads[idx], Interrupt)
    deadline = time.monotonic() + seconds + 10
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [t for t in threads if t.is_alive()]
    if stuck:
        import sys
        import traceback

        frames = sys._current_frames()
        dumps = "\n".join(
            f"--- {t.name}\n" + "".join(traceback.format_stack(frames[t.ident]))
            for t in stuck
            if t.ident in frames
        )
        pytest.fail(
            f"workers stuck: {[t.name for t in stuck]}; pool lock held: "
            f"{eng.pool._lock.locked()}; records: {len(eng.pool._records)}, idle: "
            f"{len(eng.pool._idle)}\n{dumps}"
        )
    return sum(injected), sum(rounds), unexpected


@pytest.mark.parametrize("pool_debug", [False, True], ids=["plain", "pool_debug"])
def test_interrupts_inside_pool_code(tmp_path: Path, pool_debug: bool) -> None:
    """Interrupts landing inside pool code must strand neither its lock nor a slot:
    checkout/return in a tight loop, so that most of them land in pool code. With
    pool_debug the pool lock is held longer (the stack is formatted under it), so
    interrupts often arrive just as a thread acquires it."""
    eng = create_engine(
        f"sqlite:///{tmp_path / 'hammer.db'}",
        pool_size=2 if not pool_debug else 6,
        max_overflow=1,
        pool_timeout=0.5,
        pool_debug=pool_debug,
    )
    try:
        with warnings.catch_warnings(record=True) as leaks:
            warnings.simplefilter("always")
            injected, rounds, unexpected = _hammer(eng, 2.5, 8 if pool_debug else 4)
            gc.collect()
            assert eng.pool.checkedout() == 0, eng.pool.holders()
        assert not unexpected, unexpected[:5]
        assert injected > 20, injected  # the chaos really happened (count depends on speed)
        assert rounds > 100, rounds
        dropped = [w for w in leaks if issubclass(w.category, exc.ConnectionLeakWarning)]
        assert len(dropped) <= eng.pool.stats().reclaimed  # see check_pool
        conns = [eng.connect() for _ in range(eng.pool.stats().max)]
        with pytest.raises(exc.TimeoutError):
            eng.connect()
        for c in conns:
            c.close()
        assert eng.pool.checkedout() == 0
    finally:
        dispose(eng)
