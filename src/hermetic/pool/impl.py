"""The pool classes: QueuePool, NullPool, StaticPool, SingletonThreadPool, AssertionPool.

Each one only decides where a checkout's record comes from (``_take``) and where a
returned record goes (``_put``); the bookkeeping lives in :mod:`hermetic.pool.base`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import CodeType
from typing import Any

from hermetic import exc
from hermetic.pool import policy
from hermetic.pool.base import (
    CLOSED,
    IDLE,
    OUT,
    ConnectionRecord,
    DBAPIConnection,
    Pool,
    PoolProxiedConnection,
    _ProxyRef,
)

_monotonic = time.monotonic
_get_ident = threading.get_ident


class _Waiter:
    """A blocked checkout. A returning thread claims a record for ``proxy`` and releases
    ``lock``; the waiter finds ``proxy._rec`` set when it wakes."""

    __slots__ = ("code", "depth", "line", "lock", "proxy")

    def __init__(
        self, proxy: PoolProxiedConnection, code: CodeType | None, line: int, depth: int
    ) -> None:
        self.proxy = proxy
        self.code = code
        self.line = line
        self.depth = depth
        self.lock = threading.Lock()
        self.lock.acquire()


class QueuePool(Pool):
    """A bounded pool: ``pool_size`` kept connections plus up to ``max_overflow`` extra
    ones opened under load and closed when returned; checkouts beyond that wait up to
    ``timeout`` seconds, first come first served, then raise :class:`exc.TimeoutError`
    listing who holds the connections."""

    def __init__(
        self,
        creator: Callable[..., DBAPIConnection],
        pool_size: int = 5,
        max_overflow: int = 10,
        timeout: float = 30.0,
        use_lifo: bool = False,
        **kw: Any,
    ) -> None:
        if pool_size < 0:
            raise exc.ArgumentError(f"pool_size must be 0 or more, got {pool_size}")
        super().__init__(creator, **kw)
        self._pool_size = pool_size
        self._max_overflow = max_overflow
        self._timeout = timeout
        self._use_lifo = use_lifo
        self._idle_cap = pool_size if pool_size else 1 << 62

    def size(self) -> int:
        return self._pool_size

    def timeout(self) -> float:
        return self._timeout

    def overflow(self) -> int:
        self._maintain()
        return len(self._records) - self._pool_size if self._pool_size else 0

    def _pending(self) -> int:
        return len(self._waiters)

    def _max_connections(self) -> int:
        return -1 if self._max_overflow < 0 else self._pool_size + self._max_overflow

    def recreate(self) -> QueuePool:
        return QueuePool(
            self._creator_arg,
            pool_size=self._pool_size,
            max_overflow=self._max_overflow,
            timeout=self._timeout,
            use_lifo=self._use_lifo,
            **self._common_kw(),
        )

    def _take(
        self, proxy: PoolProxiedConnection, code: CodeType | None, line: int, depth: int
    ) -> None:
        if self._reclaim:
            self._process_reclaims()
        lock = self._lock
        # `with`, not acquire() + try: an asynchronous exception delivered as
        # acquire() returns would otherwise leave the lock held for good.
        with lock:
            self._n_requests += 1
            idle = self._idle
            if idle and not self._waiters:
                # fast path, _claim() inlined (the slow paths call _claim)
                rec = idle.pop() if self._use_lifo else idle.popleft()
                rec.state = OUT
                rec.owner_ident = _get_ident()
                rec.checkout_time = _monotonic()
                rec.checkout_code = code
                rec.checkout_line = line
                ref = _ProxyRef(proxy, self._on_proxy_gone)
                ref.record = rec
                rec.proxy_ref = ref
                proxy._rec = rec
                if self._claim_extras_needed:
                    self._claim_extras(rec, depth)
                return
            if not self._waiters and policy.capacity_left(
                len(self._records), self._pool_size, self._max_overflow
            ):
                self._claim(self._new_record(), proxy, code, line, depth)
                return
            waiter = self._waiter_cls(proxy, code, line, depth + 1)
            self._waiters.append(waiter)
            self._n_waits += 1
        self._wait(waiter)

    def _wait(self, waiter: _Waiter) -> None:
        start = _monotonic()
        deadline = start + self._timeout
        swept = False
        try:
            while True:
                remaining = deadline - _monotonic()
                if self._block(waiter, policy.wait_slice(remaining)):
                    return  # handed a record
                if waiter.proxy._rec is not None:
                    return
                if self._reclaim:
                    self._process_reclaims()
                if _monotonic() < deadline:
                    continue
                if not swept and self._sweep():
                    swept = True
                    continue
                with self._lock:
                    if waiter.proxy._rec is not None:
                        return  # handed over at the last moment
                    self._waiters.remove(waiter)
                    self._n_timeouts += 1
                raise exc.TimeoutError(
                    f"QueuePool limit of size {self._pool_size} overflow "
                    f"{self._max_overflow} reached, connection timed out, timeout "
                    f"{self._timeout:g}\n{self._timeout_report()}",
                    code="3o7r",
                )
        except BaseException:
            # Interrupted (timeout, KeyboardInterrupt, gevent.Timeout ...): leave the
            # queue; a record handed over meanwhile stays claimed by the proxy and is
            # given back by the caller's abort path.
            with self._lock:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass
            raise
        finally:
            self._wait_time += _monotonic() - start

    _waiter_cls: type[_Waiter] = _Waiter

    def _block(self, waiter: _Waiter, seconds: float) -> bool:
        """Wait up to ``seconds`` to be handed a record (the only blocking step)."""
        return waiter.lock.acquire(timeout=seconds)

    def _put(self, rec: ConnectionRecord) -> bool:
        if self._waiters:
            w = self._waiters.popleft()
            self._claim(rec, w.proxy, w.code, w.line, w.depth)
            rec.state = OUT
            w.lock.release()
            return True
        if self._pool_size and len(self._idle) >= self._pool_size:
            return False  # an overflow connection: close it
        rec.state = IDLE
        self._idle.append(rec)
        return True

    def _slot_freed(self) -> None:
        while self._waiters and policy.capacity_left(
            len(self._records), self._pool_size, self._max_overflow
        ):
            if self._idle:
                rec = self._idle.pop() if self._use_lifo else self._idle.popleft()
            else:
                rec = self._new_record()
            w = self._waiters.popleft()
            self._claim(rec, w.proxy, w.code, w.line, w.depth)
            if rec.state == IDLE:
                rec.state = OUT
            w.lock.release()


class NullPool(Pool):
    """No pooling: every checkout opens a connection, every return closes it. Holders,
    events and stats work as in every pool."""

    def _take(
        self, proxy: PoolProxiedConnection, code: CodeType | None, line: int, depth: int
    ) -> None:
        if self._reclaim:
            self._process_reclaims()
        with self._lock:
            self._n_requests += 1
            self._claim(self._new_record(), proxy, code, line, depth)

    def _put(self, rec: ConnectionRecord) -> bool:
        return False

    def recreate(self) -> NullPool:
        return NullPool(self._creator_arg, **self._common_kw())


class StaticPool(Pool):
    """Exactly one connection, shared by every checkout (for in-memory SQLite shared
    between threads in tests). Checkouts do not exclude each other."""

    def __init__(self, creator: Callable[..., DBAPIConnection], **kw: Any) -> None:
        super().__init__(creator, **kw)
        self._shared: ConnectionRecord | None = None
        self._open_lock = threading.Lock()
        self._users = 0

    def _checkout(self, depth: int) -> PoolProxiedConnection:
        with self._open_lock:
            self._n_requests += 1
            rec = self._shared
            if rec is None or rec.dbapi_connection is None:
                rec = ConnectionRecord(self)
                self._open(rec)
                rec.state = OUT
                self._shared = rec
                with self._lock:
                    self._records.add(rec)
            self._users += 1
        proxy = PoolProxiedConnection(self)
        proxy._rec = rec
        proxy.dbapi_connection = rec.dbapi_connection
        for fn in self.dispatch.checkout:  # type: ignore[attr-defined]
            fn(rec.dbapi_connection, rec, proxy)
        return proxy

    def _return(self, proxy: PoolProxiedConnection) -> None:
        rec = proxy._rec
        if rec is None:
            return
        proxy._rec = None
        conn, proxy.dbapi_connection = proxy.dbapi_connection, None
        with self._open_lock:
            self._users -= 1
            self._n_returns += 1
        if conn is not None and rec.dbapi_connection is conn:
            self._reset(rec, conn)

    def _invalidate_record(
        self,
        rec: ConnectionRecord,
        e: BaseException | None,
        soft: bool = False,
        return_slot: bool = False,
    ) -> None:
        super()._invalidate_record(rec, e, soft=soft)
        if not soft:
            with self._lock:
                self._records.discard(rec)
            self._shared = None

    def checkedout(self) -> int:
        return self._users

    def checkedin(self) -> int:
        return 0 if self._shared is None else (1 if not self._users else 0)

    def _sweep(self) -> int:
        return 0  # the shared record is claimed by no proxy, by design

    def size(self) -> int:
        return 1

    def dispose(self) -> None:
        rec, self._shared = self._shared, None
        if rec is not None:
            with self._lock:
                self._records.discard(rec)
            self._close_connection(rec)

    def status(self) -> str:
        return "StaticPool"

    def recreate(self) -> StaticPool:
        return StaticPool(self._creator_arg, **self._common_kw())

    def _take(self, *a: Any) -> None:  # pragma: no cover - _checkout is overridden
        raise NotImplementedError

    def _put(self, rec: ConnectionRecord) -> bool:  # pragma: no cover
        return True


class SingletonThreadPool(Pool):
    """One connection per thread, reused by nested checkouts in that thread; at most
    ``pool_size`` are kept (for SQLite ``:memory:``, where each connection is its own
    database)."""

    def __init__(
        self, creator: Callable[..., DBAPIConnection], pool_size: int = 5, **kw: Any
    ) -> None:
        super().__init__(creator, **kw)
        self._pool_size = pool_size
        self._local = threading.local()
        self._all_conns: dict[int, ConnectionRecord] = {}

    def size(self) -> int:
        return self._pool_size

    def _checkout(self, depth: int) -> PoolProxiedConnection:
        proxy: PoolProxiedConnection | None = getattr(self._local, "proxy", None)
        if proxy is not None and proxy._rec is not None and proxy.dbapi_connection is not None:
            proxy._counter += 1
            self._n_requests += 1
            return proxy
        proxy = super()._checkout(depth + 1)
        self._local.proxy = proxy
        return proxy

    def _take(
        self, proxy: PoolProxiedConnection, code: CodeType | None, line: int, depth: int
    ) -> None:
        if self._reclaim:
            self._process_reclaims()
        ident = threading.get_ident()
        with self._lock:
            self._n_requests += 1
            rec = self._all_conns.get(ident)
            if rec is not None and rec.state == IDLE and rec.dbapi_connection is not None:
                self._idle.remove(rec)
                self._claim(rec, proxy, code, line, depth)
                rec.state = OUT
                return
            rec = self._new_record()
            self._all_conns[ident] = rec
            self._claim(rec, proxy, code, line, depth)
        self._trim()

    def _trim(self) -> None:
        extra: list[ConnectionRecord] = []
        with self._lock:
            alive = {t.ident for t in threading.enumerate()}
            for ident, rec in list(self._all_conns.items()):
                if rec.state == CLOSED:
                    del self._all_conns[ident]
                elif ident not in alive and rec.state == IDLE:
                    del self._all_conns[ident]
                    self._idle.remove(rec)
                    self._retire(rec)  # _discard closes its connection
                    extra.append(rec)
            idle = [r for r in self._idle]
            while len(self._all_conns) > self._pool_size and idle:
                rec = idle.pop(0)
                self._idle.remove(rec)
                self._retire(rec)
                for k, v in list(self._all_conns.items()):
                    if v is rec:
                        del self._all_conns[k]
                extra.append(rec)
        for rec in extra:
            self._discard(rec)

    def _put(self, rec: ConnectionRecord) -> bool:
        rec.state = IDLE
        self._idle.append(rec)
        return True

    def _return(self, proxy: PoolProxiedConnection) -> None:
        if getattr(self._local, "proxy", None) is proxy:
            self._local.proxy = None
        super()._return(proxy)

    def dispose(self) -> None:
        super().dispose()
        with self._lock:
            self._all_conns = {k: v for k, v in self._all_conns.items() if v.state != CLOSED}

    def status(self) -> str:
        return f"SingletonThreadPool id:{id(self)} size: {len(self._records)}"

    def recreate(self) -> SingletonThreadPool:
        return SingletonThreadPool(
            self._creator_arg, pool_size=self._pool_size, **self._common_kw()
        )


class AssertionPool(Pool):
    """At most one checkout at a time; a second one raises an AssertionError that shows
    where the first was taken (for tests that must use a single connection)."""

    def __init__(
        self, creator: Callable[..., DBAPIConnection], store_traceback: bool = True, **kw: Any
    ) -> None:
        kw.setdefault("pool_debug", store_traceback)
        super().__init__(creator, **kw)
        self._store_traceback = store_traceback

    def _take(
        self, proxy: PoolProxiedConnection, code: CodeType | None, line: int, depth: int
    ) -> None:
        with self._lock:
            self._n_requests += 1
            out = [r for r in self._records if r.state != IDLE]
            if out:
                first = out[0]
                where = "".join(first.checkout_stack or []) or first.site
                raise AssertionError(
                    f"connection is already checked out; AssertionPool allows one at a "
                    f"time. The first checkout was made at:\n{where}"
                )
            if self._idle:
                rec = self._idle.pop()
                self._claim(rec, proxy, code, line, depth)
                rec.state = OUT
            else:
                self._claim(self._new_record(), proxy, code, line, depth)

    def _put(self, rec: ConnectionRecord) -> bool:
        rec.state = IDLE
        self._idle.append(rec)
        return True

    def recreate(self) -> AssertionPool:
        return AssertionPool(
            self._creator_arg, store_traceback=self._store_traceback, **self._common_kw()
        )


__all__ = [
    "AssertionPool",
    "NullPool",
    "QueuePool",
    "SingletonThreadPool",
    "StaticPool",
    "OUT",
]
