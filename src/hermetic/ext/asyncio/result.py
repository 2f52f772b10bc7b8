"""Async results (``AsyncResult``, ``AsyncScalarResult``, ``AsyncMappingResult``): the
synchronous result API with every fetch awaited through the greenlet bridge, for
``stream()``. ``execute()`` returns ordinary, already buffered results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from hermetic._concurrency import greenlet_spawn

_NO_ROW = object()


class _AsyncCommon:
    _real: Any

    async def close(self) -> None:
        await greenlet_spawn(self._real.close)

    @property
    def closed(self) -> bool:
        return bool(self._real.closed)

    def unique(self, strategy: Callable[[Any], Any] | None = None) -> Any:
        self._real = self._real.unique(strategy)
        return self

    def yield_per(self, num: int) -> Any:
        self._real = self._real.yield_per(num)
        return self

    async def partitions(self, size: int | None = None) -> AsyncIterator[list[Any]]:
        while True:
            part = await greenlet_spawn(self._real.fetchmany, size)
            if not part:
                return
            yield part

    async def fetchall(self) -> list[Any]:
        return list(await greenlet_spawn(self._real.fetchall))

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return list(await greenlet_spawn(self._real.fetchmany, size))

    async def all(self) -> list[Any]:
        return list(await greenlet_spawn(self._real.all))

    async def first(self) -> Any:
        return await greenlet_spawn(self._real.first)

    async def one(self) -> Any:
        return await greenlet_spawn(self._real.one)

    async def one_or_none(self) -> Any:
        return await greenlet_spawn(self._real.one_or_none)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        real = self._real
        while True:
            row = await greenlet_spawn(_next_or_marker, real)
            if row is _NO_ROW:
                return
            yield row

    async def __anext__(self) -> Any:
        row = await greenlet_spawn(_next_or_marker, self._real)
        if row is _NO_ROW:
            raise StopAsyncIteration()
        return row


def _next_or_marker(result: Any) -> Any:
    try:
        return next(result)
    except StopIteration:
        return _NO_ROW


class AsyncResult(_AsyncCommon):
    """``await conn.stream(stmt)``: rows fetched as they are awaited."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def keys(self) -> Any:
        return self._real.keys()

    async def fetchone(self) -> Any:
        return await greenlet_spawn(self._real.fetchone)

    async def scalar(self) -> Any:
        return await greenlet_spawn(self._real.scalar)

    async def scalar_one(self) -> Any:
        return await greenlet_spawn(self._real.scalar_one)

    async def scalar_one_or_none(self) -> Any:
        return await greenlet_spawn(self._real.scalar_one_or_none)

    def scalars(self, index: Any = 0) -> AsyncScalarResult:
        return AsyncScalarResult(self._real.scalars(index))

    def mappings(self) -> AsyncMappingResult:
        return AsyncMappingResult(self._real.mappings())

    def columns(self, *cols: Any) -> AsyncResult:
        self._real = self._real.columns(*cols)
        return self

    async def freeze(self) -> Any:
        return await greenlet_spawn(self._real.freeze)

    def t(self) -> AsyncResult:
        return self

    tuples = t


class AsyncScalarResult(_AsyncCommon):
    def __init__(self, real: Any) -> None:
        self._real = real


class AsyncMappingResult(_AsyncCommon):
    def __init__(self, real: Any) -> None:
        self._real = real

    def keys(self) -> Any:
        return self._real.keys()

    async def fetchone(self) -> Any:
        return await greenlet_spawn(self._real.fetchone)


class AsyncTupleResult(AsyncResult):
    pass
