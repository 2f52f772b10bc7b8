"""``AsyncSession``, ``async_sessionmaker``, ``async_scoped_session`` and ``AsyncAttrs``.

An AsyncSession owns an ordinary :class:`~hermetic.orm.Session` (``sync_session``) and
runs its operations through the greenlet bridge. Results of ``execute()`` are built
completely inside the bridge (objects, eager loads), so reading them afterwards never
needs I/O; lazy loads and expired attributes touched later from async code raise
MissingGreenlet naming the attribute and the fixes.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, TypeVar

from hermetic import exc
from hermetic._concurrency import greenlet_spawn
from hermetic._concurrency import shielded_spawn as _shielded
from hermetic.ext.asyncio.engine import AsyncConnection, AsyncEngine
from hermetic.ext.asyncio.result import AsyncResult, AsyncScalarResult
from hermetic.orm.session import Session, sessionmaker

_T = TypeVar("_T")


def _sync_bind(bind: Any) -> Any:
    if isinstance(bind, AsyncEngine):
        return bind.sync_engine
    if isinstance(bind, AsyncConnection):
        return bind._sync()
    return bind


class AsyncSessionTransaction:
    def __init__(self, session: AsyncSession, nested: bool = False) -> None:
        self.session = session
        self.nested = nested
        self.sync_transaction: Any = None

    async def start(self) -> AsyncSessionTransaction:
        sync = self.session.sync_session
        self.sync_transaction = await greenlet_spawn(
            sync.begin_nested if self.nested else sync.begin
        )
        return self

    def __await__(self) -> Any:
        return self.start().__await__()

    @property
    def is_active(self) -> bool:
        return self.sync_transaction is not None and self.sync_transaction.is_active

    async def commit(self) -> None:
        await greenlet_spawn(self.sync_transaction.commit)

    async def rollback(self) -> None:
        await _shielded(self.sync_transaction.rollback)

    async def __aenter__(self) -> AsyncSessionTransaction:
        if self.sync_transaction is None:
            await self.start()
        return self

    async def __aexit__(self, type_: Any, value: Any, tb: Any) -> None:
        await greenlet_spawn(self.sync_transaction.__exit__, type_, value, tb)


class AsyncSession:
    """The asyncio face of :class:`~hermetic.orm.Session`."""

    sync_session_class: type[Session] = Session

    def __init__(
        self,
        bind: Any = None,
        *,
        binds: Mapping[Any, Any] | None = None,
        sync_session_class: type[Session] | None = None,
        **kw: Any,
    ) -> None:
        if sync_session_class is not None:
            self.sync_session_class = sync_session_class
        self.bind = bind
        sync_binds = {k: _sync_bind(v) for k, v in (binds or {}).items()} if binds else None
        self.sync_session = self.sync_session_class(bind=_sync_bind(bind), binds=sync_binds, **kw)
        self.sync_session._async_facade = self  # type: ignore[attr-defined]

    # -- context managers ------------------------------------------------------------
    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, type_: Any, value: Any, tb: Any) -> None:
        await self.close()

    def begin(self) -> AsyncSessionTransaction:
        return AsyncSessionTransaction(self)

    def begin_nested(self) -> AsyncSessionTransaction:
        return AsyncSessionTransaction(self, nested=True)

    # -- queries ---------------------------------------------------------------------
    async def execute(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: Any = None,
        bind_arguments: Any = None,
        **kw: Any,
    ) -> Any:
        return await greenlet_spawn(
            _execute_buffered,
            self.sync_session,
            statement,
            params,
            execution_options,
            bind_arguments,
        )

    async def scalars(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        result = await self.execute(statement, params, **kw)
        return result.scalars()

    async def scalar(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        result = await self.execute(statement, params, **kw)
        return result.scalar()

    async def stream(
        self, statement: Any, params: Any = None, *, execution_options: Any = None, **kw: Any
    ) -> AsyncResult:
        opts = dict(execution_options or {})
        opts.setdefault("stream_results", True)
        result = await greenlet_spawn(
            self.sync_session.execute, statement, params, execution_options=opts
        )
        return AsyncResult(result)

    async def stream_scalars(
        self, statement: Any, params: Any = None, **kw: Any
    ) -> AsyncScalarResult:
        result = await self.stream(statement, params, **kw)
        return result.scalars()

    # -- unit of work ----------------------------------------------------------------------
    async def rollback(self) -> None:
        await _shielded(self.sync_session.rollback)

    async def close(self) -> None:
        """Give the connection back and detach objects; shielded from cancellation."""
        await _shielded(self.sync_session.close)

    async def reset(self) -> None:
        await self.close()

    async def invalidate(self) -> None:
        await _shielded(self.sync_session.invalidate)

    async def merge(self, instance: Any, *, load: bool = True, options: Any = None) -> Any:
        return await greenlet_spawn(self.sync_session.merge, instance, load=load, options=options)

    async def run_sync(self, fn: Callable[..., _T], *args: Any, **kw: Any) -> _T:
        """Run ``fn(sync_session, *args)`` with its I/O awaited (lazy loads work inside)."""
        return await greenlet_spawn(fn, self.sync_session, *args, **kw)

    async def connection(
        self, bind_arguments: Any = None, execution_options: Any = None, **kw: Any
    ) -> AsyncConnection:
        sync_conn = await greenlet_spawn(
            self.sync_session.connection, bind_arguments, execution_options
        )
        engine = self.bind if isinstance(self.bind, AsyncEngine) else AsyncEngine(sync_conn.engine)
        return AsyncConnection(engine, sync_conn)

    def get_bind(self, mapper: Any = None, **kw: Any) -> Any:
        return self.sync_session.get_bind(mapper, **kw)

    # -- state --------------------------------------------------------------------------
    def __contains__(self, instance: object) -> bool:
        return instance in self.sync_session

    def __iter__(self) -> Any:
        return iter(self.sync_session)

    @property
    def autoflush(self) -> bool:
        return self.sync_session.autoflush

    @autoflush.setter
    def autoflush(self, value: bool) -> None:
        self.sync_session.autoflush = value

    @classmethod
    async def close_all(cls) -> None:
        from hermetic.orm.session import close_all_sessions

        await greenlet_spawn(close_all_sessions)

    # --- generated by tools/gen_async_proxies.py: begin (do not edit) ---
    # fmt: off
    def add(self, instance: Any, _warn: bool = True) -> None:
        self.sync_session.add(instance)

    def add_all(self, instances: Iterable[Any]) -> None:
        self.sync_session.add_all(instances)

    def expunge(self, instance: Any) -> None:
        self.sync_session.expunge(instance)

    def expunge_all(self) -> None:
        self.sync_session.expunge_all()

    def expire(self, instance: Any, attribute_names: Any = None) -> None:
        self.sync_session.expire(instance, attribute_names)

    def expire_all(self) -> None:
        self.sync_session.expire_all()

    def is_modified(self, instance: Any, include_collections: bool = True) -> bool:
        return self.sync_session.is_modified(instance, include_collections)

    def in_transaction(self) -> bool:
        return self.sync_session.in_transaction()

    def in_nested_transaction(self) -> bool:
        return self.sync_session.in_nested_transaction()

    def get_transaction(self) -> Any:
        return self.sync_session.get_transaction()

    def get_nested_transaction(self) -> Any:
        return self.sync_session.get_nested_transaction()

    async def flush(self, objects: Any = None) -> None:
        await greenlet_spawn(self.sync_session.flush, objects)

    async def commit(self) -> None:
        await greenlet_spawn(self.sync_session.commit)

    async def refresh(
        self,
        instance: Any,
        attribute_names: Any = None,
        with_for_update: Any = None,
    ) -> None:
        await greenlet_spawn(self.sync_session.refresh, instance, attribute_names, with_for_update)

    async def delete(self, instance: Any) -> None:
        await greenlet_spawn(self.sync_session.delete, instance)

    async def get(self, entity: Any, ident: Any, **kw: Any) -> Any:
        return await greenlet_spawn(self.sync_session.get, entity, ident, **kw)

    async def get_one(self, entity: Any, ident: Any, **kw: Any) -> Any:
        return await greenlet_spawn(self.sync_session.get_one, entity, ident, **kw)

    @property
    def new(self) -> Any:
        return self.sync_session.new

    @property
    def dirty(self) -> Any:
        return self.sync_session.dirty

    @property
    def deleted(self) -> Any:
        return self.sync_session.deleted

    @property
    def identity_map(self) -> Any:
        return self.sync_session.identity_map

    @property
    def info(self) -> Any:
        return self.sync_session.info

    @property
    def is_active(self) -> Any:
        return self.sync_session.is_active

    @property
    def no_autoflush(self) -> Any:
        return self.sync_session.no_autoflush
    # fmt: on
    # --- generated by tools/gen_async_proxies.py: end ---

    def _event_dispatch(self, identifier: str) -> Any:
        return self.sync_session._event_dispatch(identifier)


def _execute_buffered(
    session: Session, statement: Any, params: Any, options: Any, bind_arguments: Any
) -> Any:
    result = session.execute(
        statement, params, execution_options=options, bind_arguments=bind_arguments
    )
    prebuffer = getattr(result, "_prebuffer", None)
    if prebuffer is None:
        return result
    if getattr(result, "_direct", None) is None or not gc.isenabled():
        prebuffer()
        return result
    # One entity and nothing to post-load: the objects are built from rows already in
    # memory (async cursors fetch at execute), with no await. As the synchronous
    # scalars().all() does (orm/loading.py), pause the collector for the build: the
    # objects form no cycles, and with it on, building many sets off full collections
    # over the growing heap again and again (100k objects: 3.5x slower).
    gc.disable()
    try:
        prebuffer()
    finally:
        gc.enable()
    return result


class async_sessionmaker(sessionmaker):
    """A factory of AsyncSessions: ``SessionLocal = async_sessionmaker(engine,
    expire_on_commit=False)``; ``async with SessionLocal() as session:`` and
    ``async with SessionLocal.begin() as session:``. Session events listened for on the
    maker reach the sessions it makes (their ``sync_session``)."""

    def __init__(
        self, bind: Any = None, *, class_: type[AsyncSession] = AsyncSession, **kw: Any
    ) -> None:
        kw.setdefault("sync_session_class", type("Session", (Session,), {}))
        super().__init__(bind, class_=class_, **kw)

    def _event_dispatch(self, identifier: str) -> Any:
        return self.kw["sync_session_class"]._event_dispatch(identifier)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:  # type: ignore[override]
        async with self() as session, session.begin():
            yield session


class async_scoped_session:
    """One AsyncSession per scope (``scopefunc``, e.g. ``asyncio.current_task``)."""

    def __init__(self, session_factory: async_sessionmaker, scopefunc: Callable[[], Any]) -> None:
        self.session_factory = session_factory
        self.scopefunc = scopefunc
        self.registry: dict[Any, AsyncSession] = {}

    def __call__(self, **kw: Any) -> AsyncSession:
        key = self.scopefunc()
        session = self.registry.get(key)
        if session is None:
            session = self.registry[key] = self.session_factory(**kw)
        elif kw:
            raise exc.InvalidRequestError(
                "Scoped session is already present; no new arguments may be specified"
            )
        return session

    async def remove(self) -> None:
        key = self.scopefunc()
        session = self.registry.pop(key, None)
        if session is not None:
            await session.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self(), name)


class _AwaitableAttrs:
    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __getattr__(self, name: str) -> Any:
        return greenlet_spawn(getattr, self._obj, name)


class AsyncAttrs:
    """Mixin: ``await obj.awaitable_attrs.orders`` loads a lazy attribute from async code."""

    @property
    def awaitable_attrs(self) -> _AwaitableAttrs:
        return _AwaitableAttrs(self)


def async_object_session(instance: Any) -> AsyncSession | None:
    from hermetic.orm.session import object_session

    session = object_session(instance)
    return getattr(session, "_async_facade", None) if session is not None else None


def async_session(session: Session) -> AsyncSession | None:
    return getattr(session, "_async_facade", None)
