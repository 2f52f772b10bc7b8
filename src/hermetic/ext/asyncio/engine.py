"""``create_async_engine``, ``AsyncEngine``, ``AsyncConnection``, ``AsyncTransaction``.

An AsyncEngine wraps an ordinary Engine built on an async driver; every operation runs
the synchronous implementation through ``greenlet_spawn`` (DESIGN.md §4). Releasing a
connection is shielded from cancellation: a task cancelled while closing still gives
its connection back (or the pool invalidates it); the CancelledError then propagates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Mapping
from typing import Any, TypeVar

from hermetic import exc
from hermetic._concurrency import greenlet_spawn
from hermetic._concurrency import shielded_spawn as _shielded
from hermetic.engine.base import Connection, Engine
from hermetic.engine.create import create_engine
from hermetic.ext.asyncio.result import AsyncResult, AsyncScalarResult

_T = TypeVar("_T")


def create_async_engine(url: Any, **kw: Any) -> AsyncEngine:
    """An AsyncEngine for ``postgresql+asyncpg://``, ``postgresql+psycopg://`` or
    ``sqlite+aiosqlite://`` (same options as ``create_engine``)."""
    if kw.get("server_side_cursors"):
        raise exc.ArgumentError(
            "server_side_cursors is not supported with async engines; use "
            "conn.stream() for streamed results"
        )
    sync_engine = create_engine(url, _is_async=True, **kw)
    return AsyncEngine(sync_engine)


def async_engine_from_config(
    configuration: dict[str, Any], prefix: str = "sqlalchemy.", **kwargs: Any
) -> AsyncEngine:
    opts = {k[len(prefix) :]: v for k, v in configuration.items() if k.startswith(prefix)}
    url = opts.pop("url")
    opts.update(kwargs)
    return create_async_engine(url, **opts)


class AsyncEngine:
    """The asyncio face of an :class:`~hermetic.engine.Engine`."""

    def __init__(self, sync_engine: Engine) -> None:
        if not getattr(sync_engine._driver, "is_async", False):
            raise exc.ArgumentError(
                "AsyncEngine needs an engine with an async driver; create it with "
                "create_async_engine() (postgresql+asyncpg://, postgresql+psycopg://, "
                "sqlite+aiosqlite://)"
            )
        self.sync_engine = sync_engine

    # -- attributes ------------------------------------------------------------------
    @property
    def pool(self) -> Any:
        return self.sync_engine.pool

    @property
    def url(self) -> Any:
        return self.sync_engine.url

    @property
    def dialect(self) -> Any:
        return self.sync_engine.dialect

    @property
    def name(self) -> str:
        return self.sync_engine.name

    @property
    def driver(self) -> str:
        return self.sync_engine.driver

    @property
    def echo(self) -> Any:
        return self.sync_engine.echo

    @echo.setter
    def echo(self, value: Any) -> None:
        self.sync_engine.echo = value

    def __repr__(self) -> str:
        return f"AsyncEngine({self.sync_engine.url!r})"

    def execution_options(self, **opt: Any) -> AsyncEngine:
        return AsyncEngine(self.sync_engine.execution_options(**opt))

    def get_execution_options(self) -> Any:
        return self.sync_engine.get_execution_options()

    def clear_compiled_cache(self) -> None:
        self.sync_engine._compiled_cache.clear()

    def _event_dispatch(self, identifier: str) -> Any:
        return self.sync_engine._event_dispatch(identifier)

    def _hermetic_inspector(self) -> Any:
        raise exc.NoInspectionAvailable(
            "Inspection on an AsyncEngine is not available directly; use "
            "`await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names())`"
        )

    # -- connections --------------------------------------------------------------------
    def connect(self) -> AsyncConnection:
        """``async with engine.connect() as conn:`` (or ``conn = await engine.connect()``)."""
        return AsyncConnection(self)

    def begin(self) -> _BeginContext:
        """``async with engine.begin() as conn:``: commit at the end, roll back on error."""
        return _BeginContext(self)

    async def raw_connection(self) -> Any:
        return await greenlet_spawn(self.sync_engine.raw_connection)

    async def dispose(self, close: bool = True) -> None:
        """Close the pool's connections (awaiting each close)."""
        await greenlet_spawn(self.sync_engine.dispose, close)


class _BeginContext:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.conn: AsyncConnection | None = None

    async def __aenter__(self) -> AsyncConnection:
        self.conn = await self.engine.connect().start()
        try:
            await self.conn.begin()
        except BaseException:
            await self.conn.close()
            raise
        return self.conn

    async def __aexit__(self, type_: Any, value: Any, tb: Any) -> None:
        conn = self.conn
        assert conn is not None
        try:
            if type_ is None:
                await conn.commit()
            else:
                await _shielded(
                    conn.sync_connection.rollback
                ) if conn.sync_connection is not None else None
        finally:
            await conn.close()


class AsyncTransaction:
    """``async with conn.begin():`` / ``conn.begin_nested()``."""

    def __init__(self, conn: AsyncConnection, nested: bool = False) -> None:
        self.connection = conn
        self.nested = nested
        self.sync_transaction: Any = None

    async def start(self) -> AsyncTransaction:
        sync = self.connection._sync()
        self.sync_transaction = await greenlet_spawn(
            sync.begin_nested if self.nested else sync.begin
        )
        return self

    def __await__(self) -> Generator[Any, None, AsyncTransaction]:
        return self.start().__await__()

    @property
    def is_active(self) -> bool:
        return self.sync_transaction is not None and bool(self.sync_transaction.is_active)

    async def commit(self) -> None:
        await greenlet_spawn(self.sync_transaction.commit)

    async def rollback(self) -> None:
        await _shielded(self.sync_transaction.rollback)

    async def close(self) -> None:
        await _shielded(self.sync_transaction.close)

    async def __aenter__(self) -> AsyncTransaction:
        if self.sync_transaction is None:
            await self.start()
        return self

    async def __aexit__(self, type_: Any, value: Any, tb: Any) -> None:
        if type_ is None and self.sync_transaction.is_active:
            try:
                await self.commit()
            except BaseException:
                await self.rollback()
                raise
        elif self.sync_transaction.is_active:
            await self.rollback()


class AsyncConnection:
    """The asyncio face of a :class:`~hermetic.engine.Connection`."""

    def __init__(self, engine: AsyncEngine, sync_connection: Connection | None = None) -> None:
        self.engine = engine
        self.sync_engine = engine.sync_engine
        self.sync_connection: Connection | None = sync_connection

    async def start(self) -> AsyncConnection:
        if self.sync_connection is not None:
            raise exc.InvalidRequestError("This AsyncConnection is already started")
        self.sync_connection = await greenlet_spawn(self.sync_engine.connect)
        return self

    def __await__(self) -> Generator[Any, None, AsyncConnection]:
        return self.start().__await__()

    async def __aenter__(self) -> AsyncConnection:
        if self.sync_connection is None:
            await self.start()
        return self

    async def __aexit__(self, type_: Any, value: Any, tb: Any) -> None:
        await self.close()

    def _sync(self) -> Connection:
        conn = self.sync_connection
        if conn is None:
            raise exc.ResourceClosedError(
                "This AsyncConnection is not started; use `async with engine.connect() as "
                "conn:` or `conn = await engine.connect()`"
            )
        return conn

    # -- attributes ------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self.sync_connection is None or self.sync_connection.closed

    @property
    def invalidated(self) -> bool:
        return self.sync_connection is not None and self.sync_connection.invalidated

    @property
    def dialect(self) -> Any:
        return self.sync_engine.dialect

    @property
    def info(self) -> dict[Any, Any]:
        return self._sync().info

    @property
    def default_isolation_level(self) -> Any:
        return self._sync().default_isolation_level

    def in_transaction(self) -> bool:
        return self.sync_connection is not None and self.sync_connection.in_transaction()

    def in_nested_transaction(self) -> bool:
        return self.sync_connection is not None and self.sync_connection.in_nested_transaction()

    def get_transaction(self) -> Any:
        return self._sync().get_transaction()

    def get_nested_transaction(self) -> Any:
        return self._sync().get_nested_transaction()

    async def get_isolation_level(self) -> str:
        return await greenlet_spawn(self._sync().get_isolation_level)

    async def execution_options(self, **opt: Any) -> AsyncConnection:
        await greenlet_spawn(self._sync().execution_options, **opt)
        return self

    def get_execution_options(self) -> Any:
        return self._sync().get_execution_options()

    async def get_raw_connection(self) -> Any:
        return self._sync().connection

    @property
    def connection(self) -> Any:
        raise exc.InvalidRequestError(
            "AsyncConnection.connection is not available; use `await conn.get_raw_connection()`"
        )

    # -- transactions -------------------------------------------------------------------
    def begin(self) -> AsyncTransaction:
        return AsyncTransaction(self)

    def begin_nested(self) -> AsyncTransaction:
        return AsyncTransaction(self, nested=True)

    async def commit(self) -> None:
        await greenlet_spawn(self._sync().commit)

    async def rollback(self) -> None:
        await _shielded(self._sync().rollback)

    async def close(self) -> None:
        """Roll back, give the connection back to the pool; shielded from cancellation."""
        conn = self.sync_connection
        if conn is None:
            return
        await _shielded(conn.close)

    async def invalidate(self, exception: BaseException | None = None) -> None:
        await greenlet_spawn(self._sync().invalidate, exception)

    # -- statements ----------------------------------------------------------------------
    async def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run a statement; the result is buffered (use ``stream()`` to fetch lazily)."""
        return await greenlet_spawn(
            _execute_buffered, self._sync(), statement, parameters, execution_options
        )

    async def exec_driver_sql(
        self, statement: str, parameters: Any = None, execution_options: Any = None
    ) -> Any:
        return await greenlet_spawn(
            self._sync().exec_driver_sql, statement, parameters, execution_options
        )

    async def scalar(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> Any:
        result = await self.execute(statement, parameters, execution_options=execution_options)
        return result.scalar()

    async def scalars(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> Any:
        result = await self.execute(statement, parameters, execution_options=execution_options)
        return result.scalars()

    async def stream(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> AsyncResult:
        opts = dict(execution_options or {})
        opts.setdefault("stream_results", True)
        result = await greenlet_spawn(
            self._sync().execute, statement, parameters, execution_options=opts
        )
        return AsyncResult(result)

    async def stream_scalars(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> AsyncScalarResult:
        result = await self.stream(statement, parameters, execution_options=execution_options)
        return result.scalars()

    async def run_sync(self, fn: Callable[..., _T], *args: Any, **kw: Any) -> _T:
        """Run ``fn(sync_connection, *args)`` (e.g. ``metadata.create_all``) with I/O
        awaited for it."""
        return await greenlet_spawn(fn, self._sync(), *args, **kw)

    def _event_dispatch(self, identifier: str) -> Any:
        return self.sync_engine._event_dispatch(identifier)


def _execute_buffered(conn: Connection, statement: Any, parameters: Any, options: Any) -> Any:
    result = conn.execute(statement, parameters, execution_options=options)
    prebuffer = getattr(result, "_prebuffer", None)
    if prebuffer is not None:
        prebuffer()
    return result


async def _iterate(result: Any) -> AsyncIterator[Any]:
    async for row in AsyncResult(result):
        yield row
