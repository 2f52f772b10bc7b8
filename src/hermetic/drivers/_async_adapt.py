"""Helpers for async drivers: a PEP 249-shaped synchronous face over an async connection,
whose blocking calls are ``await_only`` (see :mod:`hermetic._concurrency`).

An adapted cursor runs the statement and reads its whole result in one await (the rows
then come from memory), so ``fetchone()`` never awaits; server-side streaming uses the
driver's own cursor where one exists.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Sequence
from typing import Any, TypeVar

from hermetic._concurrency import await_only, in_greenlet

_C = TypeVar("_C", bound="AdaptedCursor")


class AdaptedCursor:
    """A DBAPI cursor whose ``execute`` awaits the async driver through ``await_only``.
    ``_run`` / ``_run_many`` are coroutines returning ``(description, rows, rowcount,
    lastrowid)``; the defaults drive an async DBAPI-like cursor (aiosqlite, psycopg),
    drivers without one (asyncpg) override them."""

    arraysize = 1

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self.description: Sequence[Any] | None = None
        self.rowcount = -1
        self.lastrowid: Any = None
        self._rows: deque[Any] = deque()
        self.closed = False

    async def _driver_cursor(self) -> Any:
        cur = self._connection._connection.cursor()
        return await cur if inspect.isawaitable(cur) else cur

    async def _run(self, sql: str, params: Any) -> tuple[Any, list[Any], int, Any]:
        cur = await self._driver_cursor()
        try:
            await cur.execute(sql, () if params is None else params)
            description = cur.description
            rows = list(await cur.fetchall()) if description else []
            return description, rows, cur.rowcount, getattr(cur, "lastrowid", None)
        finally:
            await cur.close()

    async def _run_many(self, sql: str, seq: Sequence[Any]) -> tuple[Any, list[Any], int, Any]:
        cur = await self._driver_cursor()
        try:
            await cur.executemany(sql, seq)
            return None, [], cur.rowcount, getattr(cur, "lastrowid", None)
        finally:
            await cur.close()

    def execute(self: _C, sql: str, params: Any = None) -> _C:
        self._connection._check_loop()
        description, rows, rowcount, lastrowid = await_only(self._run(sql, params))
        self.description = description
        self._rows = deque(rows)
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        return self

    def executemany(self: _C, sql: str, seq: Sequence[Any]) -> _C:
        self._connection._check_loop()
        description, rows, rowcount, lastrowid = await_only(self._run_many(sql, list(seq)))
        self.description = description
        self._rows = deque(rows)
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        return self

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        n = self.arraysize if size is None else size
        rows = self._rows
        return [rows.popleft() for _ in range(min(n, len(rows)))]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Any:
        while self._rows:
            yield self._rows.popleft()

    def close(self) -> None:
        self._rows.clear()
        self.closed = True

    def setinputsizes(self, *args: Any) -> None:
        pass

    def setoutputsize(self, *args: Any) -> None:
        pass


class AdaptedConnection:
    """Base of adapted connections: remembers the event loop the connection belongs
    to, so that use from another loop gets a clear error (the pool replaces such
    connections before handing them out)."""

    def __init__(self, driver_connection: Any) -> None:
        self._connection = driver_connection
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    @property
    def driver_connection(self) -> Any:
        return self._connection

    # -- the DBAPI face, for drivers whose connection has async commit/rollback/close ---
    def cursor(self) -> AdaptedCursor:
        return AdaptedCursor(self)

    def execute(self, sql: str, params: Any = None) -> AdaptedCursor:
        return self.cursor().execute(sql, params)

    def commit(self) -> None:
        self._check_loop()
        await_only(self._connection.commit())

    def rollback(self) -> None:
        self._check_loop()
        await_only(self._connection.rollback())

    def close(self) -> None:
        """Close (awaited), or terminate without awaiting where nothing can await (no
        bridge, another event loop) and when the awaited close fails or is cancelled."""
        if not in_greenlet() or not self._belongs_to_running_loop():
            self.terminate()
            return
        try:
            await_only(self._connection.close())
        except BaseException:
            self.terminate()
            raise

    def terminate(self) -> None:
        raise NotImplementedError

    def _belongs_to_running_loop(self) -> bool:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return True
        return self._loop is None or self._loop is running

    def _check_loop(self) -> None:
        if not self._belongs_to_running_loop():
            from hermetic import exc

            raise exc.InvalidRequestError(
                "This connection was opened on another event loop (one that may be closed "
                "now): async connections belong to the loop that opened them. Create the "
                "engine inside the loop that uses it, or call `await engine.dispose()` "
                "before switching loops (pytest: give the engine fixture the same loop "
                "scope as the tests)"
            )
