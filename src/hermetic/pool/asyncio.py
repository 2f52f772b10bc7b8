"""The pool under asyncio: the same sealed pool (records, holders, reclaim, stats,
events), with the one blocking step — waiting for a connection — awaited on the event
loop instead of blocking the thread, and holders named by asyncio task.

Connections belong to the event loop that opened them. A pooled connection whose loop
is not the running one (pytest's function-scoped loops) is discarded at checkout and a
new one opened, so a second loop gets working connections instead of "Event loop is
closed".
"""

from __future__ import annotations

import asyncio
from types import CodeType
from typing import Any

from hermetic._concurrency import await_only
from hermetic.pool.base import ConnectionRecord, PoolProxiedConnection
from hermetic.pool.impl import QueuePool, _Waiter


def _task_name() -> str | None:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return None
    if task is None:
        return None
    return f"asyncio task {task.get_name()!r}"


class _EventLock:
    """What a releasing task calls ``release()`` on: wakes the waiting task."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def release(self) -> None:
        self.event.set()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self.event.is_set()


class _AsyncWaiter(_Waiter):
    __slots__ = ("task",)

    def __init__(
        self, proxy: PoolProxiedConnection, code: CodeType | None, line: int, depth: int
    ) -> None:
        self.proxy = proxy
        self.code = code
        self.line = line
        self.depth = depth
        self.lock = _EventLock()  # type: ignore[assignment]
        self.task = _task_name()


class AsyncAdaptedQueuePool(QueuePool):
    """QueuePool for async drivers (the default of ``create_async_engine``)."""

    _waiter_cls = _AsyncWaiter
    _is_asyncio = True

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._claim_extras_needed = True  # holders are named by task
        self._async_bridge = True  # checkout sites are found in the awaiting coroutine
        self._health_checks = True  # connections of another event loop are replaced

    def _invalidate_older(self, opened_before: float) -> None:
        super()._invalidate_older(opened_before)
        self._health_checks = True

    def _check_health(self, rec: ConnectionRecord) -> None:
        conn = rec.dbapi_connection
        belongs = getattr(conn, "_belongs_to_running_loop", None)
        if belongs is not None and not belongs():
            # opened on another (maybe closed) event loop: unusable here
            self._close_connection(rec)
            self._open(rec)
            return
        super()._check_health(rec)

    def _block(self, waiter: _Waiter, seconds: float) -> bool:
        lock: Any = waiter.lock
        if lock.event.is_set():
            return True
        try:
            await_only(asyncio.wait_for(lock.event.wait(), timeout=max(seconds, 0.0)))
        except asyncio.TimeoutError:
            return waiter.proxy._rec is not None
        rec = waiter.proxy._rec
        if rec is not None and isinstance(waiter, _AsyncWaiter):
            rec.owner_task = waiter.task
        return True

    def _claim_extras(self, rec: ConnectionRecord, depth: int) -> None:
        rec.owner_task = _task_name()
        super()._claim_extras(rec, depth)

    def recreate(self) -> AsyncAdaptedQueuePool:
        return AsyncAdaptedQueuePool(
            self._creator_arg,
            pool_size=self._pool_size,
            max_overflow=self._max_overflow,
            timeout=self._timeout,
            use_lifo=self._use_lifo,
            **self._common_kw(),
        )
