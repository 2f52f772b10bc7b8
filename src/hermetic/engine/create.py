"""``create_engine()``: URL -> dialect + driver + pool -> Engine.

The default pool follows SQLAlchemy 2.x: SQLite in memory gets a SingletonThreadPool (each
thread its own database), a SQLite file and PostgreSQL get a QueuePool(5, 10, 30 s). An
unknown dialect or driver, or a driver module that is not installed, raises an error
naming the fix.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any

from hermetic import exc
from hermetic.dialects import DIALECTS
from hermetic.drivers import (
    ASYNC_DRIVERS,
    DEFAULT_ASYNC_DRIVERS,
    DEFAULT_DRIVERS,
    DIALECT_ALIASES,
    DRIVERS,
)
from hermetic.engine.base import Engine
from hermetic.engine.url import URL, make_url
from hermetic.pool import NullPool, Pool, QueuePool, SingletonThreadPool, StaticPool


class InvalidArgumentsError(exc.ArgumentError, TypeError):
    """create_engine() got keyword arguments that do not apply (a TypeError too, as in
    SQLAlchemy)."""


_POOL_ARGS = {
    "pool_size": "pool_size",
    "max_overflow": "max_overflow",
    "pool_timeout": "timeout",
    "pool_use_lifo": "use_lifo",
}
_COMMON_POOL_ARGS = {
    "pool_recycle": "recycle",
    "pool_pre_ping": "pre_ping",
    "pool_reset_on_return": "reset_on_return",
    "echo_pool": "echo",
    "pool_logging_name": "logging_name",
    "pool_debug": "pool_debug",
    "pool_leak_threshold": "leak_threshold",
}
# Accepted for compatibility; they tune parts of SQLAlchemy we do differently.
_IGNORED = {
    "future",
    "insertmanyvalues_page_size",
    "use_insertmanyvalues",
    "label_length",
    "max_identifier_length",
    "enable_from_linting",
    "paramstyle",
    "plugins",
    "_initialize",
    "implicit_returning",
    "json_serializer",
    "json_deserializer",
    "supports_native_boolean",
    "convert_unicode",
    "encoding",
    "strategy",
    "case_sensitive",
    "empty_in_strategy",
    "pool_size_overflow",
}


def _import(location: tuple[str, str]) -> Any:
    module, name = location
    return getattr(importlib.import_module(module), name)


def resolve(url: URL, is_async: bool = False) -> tuple[type[Any], Any]:
    """The dialect class and a driver adapter instance for ``url`` (an async driver
    for ``create_async_engine``)."""
    backend = url.get_backend_name()
    backend = DIALECT_ALIASES.get(backend, backend)
    if backend not in DIALECTS:
        raise exc.NoSuchModuleError(
            f"Can't load plugin: hermetic.dialects:{url.drivername}. Unknown database "
            f"{backend!r} in URL {url!r}; hermetic supports: "
            f"{', '.join(sorted(DIALECTS))} (e.g. postgresql+psycopg://user@host/db)"
        )
    dialect_cls = _import(DIALECTS[backend])
    explicit = url.get_driver_name()
    if is_async:
        return dialect_cls, _resolve_async(backend, explicit, url)
    if explicit:
        if (backend, explicit) not in DRIVERS:
            known = sorted(d for b, d in DRIVERS if b == backend)
            raise exc.NoSuchModuleError(
                f"Can't load plugin: hermetic.dialects:{url.drivername}. Unknown driver "
                f"{explicit!r} for {backend}; available drivers: {', '.join(known)}"
            )
        driver_cls = _import(DRIVERS[(backend, explicit)])
        return dialect_cls, driver_cls()
    first_error: exc.NoSuchModuleError | None = None
    for name in DEFAULT_DRIVERS[backend]:
        driver_cls = _import(DRIVERS[(backend, name)])
        try:
            return dialect_cls, driver_cls()
        except exc.NoSuchModuleError as e:
            first_error = first_error or e
    assert first_error is not None
    raise first_error


def _resolve_async(backend: str, explicit: str | None, url: URL) -> Any:
    if explicit:
        if (backend, explicit) not in ASYNC_DRIVERS:
            known = sorted(d for b, d in ASYNC_DRIVERS if b == backend)
            raise exc.InvalidRequestError(
                f"The asyncio extension requires an async driver to be used; "
                f"{url.drivername!r} is not one. Use one of: "
                f"{', '.join(f'{backend}+{d}' for d in known)}"
            )
        return _import(ASYNC_DRIVERS[(backend, explicit)])()
    first_error: exc.NoSuchModuleError | None = None
    for name in DEFAULT_ASYNC_DRIVERS.get(backend, ()):
        try:
            return _import(ASYNC_DRIVERS[(backend, name)])()
        except exc.NoSuchModuleError as e:
            first_error = first_error or e
    if first_error is not None:
        raise first_error
    raise exc.InvalidRequestError(f"No async driver is available for {backend}")


def _add_stdout_handler(logger: logging.Logger) -> None:
    if not any(getattr(h, "_hermetic_echo", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler._hermetic_echo = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def create_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an Engine for ``url`` (see SQLAlchemy's ``create_engine`` for the options).

    hermetic adds ``pool_debug=True`` (record the full stack of every checkout) and
    ``pool_leak_threshold=SECONDS`` (warn about connections held longer).
    """
    if kwargs.get("future", True) is False:
        raise exc.ArgumentError(
            "future=False is not supported: hermetic implements the SQLAlchemy 2.0 API only"
        )
    u = make_url(url)
    kw = dict(kwargs)
    is_async = bool(kw.pop("_is_async", False))
    dialect_cls, driver = resolve(u, is_async)
    connect_args: dict[str, Any] = dict(kw.pop("connect_args", None) or {})
    creator: Callable[..., Any] | None = kw.pop("creator", None)
    pool: Pool | None = kw.pop("pool", None)
    poolclass: type[Pool] | None = kw.pop("poolclass", None)
    echo = kw.pop("echo", False)
    hide_parameters = bool(kw.pop("hide_parameters", False))
    logging_name = kw.pop("logging_name", None)
    isolation_level = kw.pop("isolation_level", None)
    execution_options = kw.pop("execution_options", None) or {}
    module = kw.pop("module", None)
    query_cache_size = int(kw.pop("query_cache_size", 500))
    if module is not None:
        driver = type(driver)(module)

    pool_kw: dict[str, Any] = {}
    specific: dict[str, Any] = {}
    for arg, name in _COMMON_POOL_ARGS.items():
        if arg in kw:
            pool_kw[name] = kw.pop(arg)
    for arg, name in _POOL_ARGS.items():
        if arg in kw:
            specific[name] = kw.pop(arg)
    for arg in list(kw):
        if arg in _IGNORED:
            kw.pop(arg)
    if kw:
        raise InvalidArgumentsError(
            f"Invalid argument(s) {', '.join(map(repr, sorted(kw)))} sent to create_engine() "
            f"for {dialect_cls.__name__}+{driver.name}. Check the spelling; connection "
            "parameters for the driver go in connect_args={...} or in the URL's query string"
        )

    dialect = dialect_cls(
        driver=driver.name,
        paramstyle=driver.paramstyle,
        dbapi=driver.dbapi,
        isolation_level=isolation_level,
    )

    cargs, cparams = driver.create_connect_args(u)
    cparams.update(connect_args)

    def connect() -> Any:
        return driver.connect(*cargs, **cparams)

    state = {"first": True}

    def on_connect(dbapi_conn: Any, record: Any) -> None:
        if state["first"]:
            dialect.server_version_info = driver.server_version_info(dbapi_conn)
            try:
                dialect.default_isolation_level = driver.get_isolation_level(dbapi_conn)
            except exc.ArgumentError:
                dialect.default_isolation_level = None
            if dialect.isolation_level is None and driver.is_autocommit(dbapi_conn):
                # the driver's connect arguments chose autocommit: that is the level
                # connections go back to after a per-connection change
                dialect.isolation_level = "AUTOCOMMIT"
            state["first"] = False
        driver.on_connect(dbapi_conn)
        if isolation_level is not None:
            driver.set_isolation_level(dbapi_conn, isolation_level)

    if echo:
        _add_stdout_handler(logging.getLogger("hermetic.engine"))
    if pool_kw.get("echo"):
        _add_stdout_handler(logging.getLogger("hermetic.pool"))

    if pool is None:
        if poolclass is None:
            kind = dialect.default_pool_kind(u)
            poolclass = {"queue": QueuePool, "singleton": SingletonThreadPool, "null": NullPool}[
                kind
            ]
        if is_async:
            poolclass = _async_poolclass(poolclass)
        if specific and poolclass in (NullPool, StaticPool):
            raise InvalidArgumentsError(
                f"Invalid argument(s) {', '.join(map(repr, sorted(specific)))} sent to "
                f"create_engine() with poolclass={poolclass.__name__}, which does not take "
                "them (pool_size/max_overflow/pool_timeout apply to QueuePool)"
            )
        if poolclass is SingletonThreadPool:
            specific = {k: v for k, v in specific.items() if k == "pool_size"}
        user_creator = creator
        raw_creator: Callable[..., Any] = connect
        if user_creator is not None:

            def raw_creator(rec: Any = None) -> Any:
                return user_creator()

        try:
            pool = poolclass(
                raw_creator, driver=driver, on_connect=on_connect, **pool_kw, **specific
            )
        except TypeError as e:
            raise InvalidArgumentsError(
                f"Invalid pool argument(s) for {poolclass.__name__}: {e}"
            ) from e
    elif pool_kw or specific:
        raise InvalidArgumentsError(
            "Pool arguments were given together with pool=<Pool instance>; configure the "
            "pool instance instead"
        )
    return Engine(
        pool,
        dialect,
        u,
        driver,
        logging_name=logging_name,
        echo=echo,
        hide_parameters=hide_parameters,
        execution_options=execution_options,
        query_cache_size=query_cache_size,
    )


def _async_poolclass(poolclass: type[Pool]) -> type[Pool]:
    """The pool an async engine uses for ``poolclass``."""
    from hermetic.pool.asyncio import AsyncAdaptedQueuePool

    if poolclass is SingletonThreadPool:
        return StaticPool  # an in-memory SQLite database shared by the loop's tasks
    if poolclass is QueuePool:
        return AsyncAdaptedQueuePool
    if getattr(poolclass, "_is_asyncio", False) or poolclass in (NullPool, StaticPool):
        return poolclass
    raise exc.ArgumentError(
        f"Pool class {poolclass.__name__} cannot be used with an asyncio engine; use "
        "AsyncAdaptedQueuePool (the default), NullPool or StaticPool"
    )


def engine_from_config(
    configuration: dict[str, Any], prefix: str = "sqlalchemy.", **kwargs: Any
) -> Engine:
    """``create_engine`` from a flat dict of ``prefix``-ed string options."""
    opts = {k[len(prefix) :]: v for k, v in configuration.items() if k.startswith(prefix)}
    url = opts.pop("url")
    for key, value in list(opts.items()):
        if isinstance(value, str):
            low = value.lower()
            if low in ("true", "false"):
                opts[key] = low == "true"
            elif value.lstrip("-").isdigit():
                opts[key] = int(value)
    opts.update(kwargs)
    return create_engine(url, **opts)
