"""Engine, Connection and Transaction (SQLAlchemy 2.0 style).

* ``Engine`` owns a pool, a dialect and a driver adapter; ``connect()`` checks a
  connection out at once, ``begin()`` is ``connect()`` + a transaction committed on
  success and rolled back on error.
* ``Connection`` autobegins: the first ``execute()`` opens a transaction, which lasts until
  ``commit()`` / ``rollback()``; ``begin_nested()`` is a SAVEPOINT. Closing with a
  transaction open rolls it back, and the pool slot is freed even when that rollback
  fails.
* Any driver error is wrapped (``exc.DBAPIError.instance``); a disconnect invalidates the
  connection (``connection_invalidated=True``) and the transaction must be rolled back
  before the Connection reconnects. Any ``BaseException`` that is not an ``Exception``
  (KeyboardInterrupt, a gevent ``Timeout``, task cancellation) during a driver call
  invalidates the connection: it may be mid-command, and is never reused.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic._util.collections import immutabledict
from hermetic._util.echo import echo_log
from hermetic._util.lru import LRUCache
from hermetic.engine.events import ENGINE_EVENTS, ExceptionContext, ExecutionContext
from hermetic.engine.result import CursorResult, ResultMetaData
from hermetic.event.base import Dispatch
from hermetic.pool.base import POOL_EVENTS, Pool, PoolProxiedConnection
from hermetic.sql.base import Executable
from hermetic.sql.compiler import BindValueError, Compiled, _shown, compile_textual

if TYPE_CHECKING:
    from hermetic.dialects.base import Dialect
    from hermetic.drivers.base import Driver
    from hermetic.engine.url import URL

log = logging.getLogger("hermetic.engine.Engine")
_INFO = logging.INFO
_DEBUG = logging.DEBUG
_PERCENT = frozenset({"pyformat", "format"})
# The executables whose execution is _execute_clauseelement itself.
_PLAIN_EXECUTE = Executable._execute_on_connection


def _is_many(params: Any) -> bool:
    return isinstance(params, (list, tuple)) and len(params) > 1


class _hybridmethod:
    """A method that receives the class when called on the class, the instance otherwise."""

    def __init__(self, func: Any) -> None:
        self.func = func

    def __get__(self, obj: Any, cls: Any) -> Any:
        target = obj if obj is not None else cls
        return lambda *a, **kw: self.func(target, *a, **kw)


def _engine_dispatch(target: Any, identifier: str) -> Dispatch:
    if identifier in ENGINE_EVENTS.events:
        d: Dispatch = target.dispatch if not isinstance(target, type) else Engine._class_dispatch
        return d
    if identifier in POOL_EVENTS.events:
        if isinstance(target, type):
            return Pool._event_dispatch_cls()
        return target.pool.dispatch  # type: ignore[no-any-return]
    raise exc.InvalidRequestError(
        f"Unknown engine event {identifier!r}. Engine events: "
        f"{', '.join(sorted(ENGINE_EVENTS.events))}; pool events: "
        f"{', '.join(sorted(POOL_EVENTS.events))}"
    )


class Engine:
    """A source of connections to one database: a pool, a dialect and a driver."""

    _class_dispatch = Dispatch(ENGINE_EVENTS)
    _event_dispatch = _hybridmethod(_engine_dispatch)

    def __init__(
        self,
        pool: Pool,
        dialect: Dialect,
        url: URL,
        driver: Driver,
        *,
        logging_name: str | None = None,
        echo: bool | str | None = None,
        hide_parameters: bool = False,
        execution_options: Mapping[str, Any] | None = None,
        query_cache_size: int = 500,
    ) -> None:
        self.pool = pool
        self.dialect = dialect
        self.url = url
        self._driver = driver
        self.logging_name = logging_name
        self.echo = echo
        self.hide_parameters = hide_parameters
        self._execution_options: immutabledict[str, Any] = immutabledict(execution_options or {})
        self.dispatch = Dispatch(ENGINE_EVENTS, parent=type(self)._class_dispatch)
        self._compiled_cache: LRUCache[Any, Compiled] = LRUCache(query_cache_size)

    # -- introspection ----------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.dialect.name

    @property
    def driver(self) -> str:
        return self.dialect.driver

    @property
    def engine(self) -> Engine:
        return self

    def __repr__(self) -> str:
        return f"Engine({self.url!r})"

    def _hermetic_inspector(self) -> Any:  # inspect(engine)
        from hermetic.engine.reflection import Inspector

        return Inspector(self)

    def get_execution_options(self) -> immutabledict[str, Any]:
        return self._execution_options

    def execution_options(self, **opt: Any) -> Engine:
        """A copy of this engine sharing its pool, with extra execution options."""
        new = OptionEngine.__new__(OptionEngine)
        new.__dict__ = self.__dict__.copy()
        new._execution_options = self._execution_options.union(opt)
        new.dispatch = Dispatch(ENGINE_EVENTS, parent=self.dispatch)
        for fn in self.dispatch.set_engine_execution_options:  # type: ignore[attr-defined]
            fn(new, opt)
        return new

    # -- connections ------------------------------------------------------------------
    def connect(self) -> Connection:
        """Check out a connection (returned to the pool by ``close()`` / ``with``)."""
        return Connection(self, _depth=2)

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """``with engine.begin() as conn:`` commits on success, rolls back on error."""
        with Connection(self, _depth=2) as conn, conn.begin():
            yield conn

    def raw_connection(self) -> PoolProxiedConnection:
        """A pooled DBAPI connection (``close()`` returns it to the pool)."""
        return self._checkout(2)

    def _checkout(self, depth: int) -> PoolProxiedConnection:
        """Check out from the pool, wrapping driver errors (a refused connection becomes
        ``OperationalError`` with the driver's message). ``depth`` counts frames from
        here to the caller whose line is recorded as the checkout site."""
        try:
            return self.pool._checkout(depth + 1)
        except Exception as e:
            driver = self._driver
            if isinstance(e, exc.HermeticError) or not driver.is_error(e):
                raise
            raise exc.DBAPIError.instance(
                None,
                None,
                e,
                dbapi_base_err=getattr(driver.dbapi, "Error", None),
                hide_parameters=self.hide_parameters,
                connection_invalidated=driver.is_disconnect(e, None),
            ) from e

    def dispose(self, close: bool = True) -> None:
        """Replace the pool with a fresh one; ``close=True`` closes the idle connections
        of the old pool now (checked-out ones close when returned)."""
        if close:
            self.pool.dispose()
        self.pool = self.pool.recreate()
        for fn in self.dispatch.engine_disposed:  # type: ignore[attr-defined]
            fn(self)

    # -- logging ----------------------------------------------------------------------
    def _log_info(self) -> bool:
        return bool(self.echo) or log.isEnabledFor(_INFO)

    def _log(self, level: int, msg: str, *args: Any) -> None:
        echo_log(log, self.echo, level, msg, args)


class OptionEngine(Engine):
    """An Engine sharing another's pool with different execution options."""


class Connection:
    """One checked-out database connection with 2.0-style transactions."""

    def __init__(self, engine: Engine, _depth: int = 1) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self._driver = engine._driver
        self._transaction: RootTransaction | None = None
        self._nested: NestedTransaction | None = None
        self._closed = False
        self._invalid_reason: BaseException | None = None
        self._execution_options = engine._execution_options
        self._isolation_changed = False
        self._savepoint_seq = 0
        self._spare_cursor: Any = None
        self._proxy: PoolProxiedConnection | None = engine._checkout(_depth + 1)
        self._dbapi: Any = self._proxy.dbapi_connection
        try:
            level = self._execution_options.get("isolation_level")
            if level is not None:
                self._set_isolation(level)
            if engine.dispatch.engine_connect:  # type: ignore[attr-defined]
                for fn in engine.dispatch.engine_connect:  # type: ignore[attr-defined]
                    fn(self)
        except BaseException:
            self.close()
            raise

    # -- state ------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def invalidated(self) -> bool:
        return self._invalid_reason is not None

    @property
    def connection(self) -> PoolProxiedConnection:
        """The pooled DBAPI connection (reconnecting if this one was invalidated)."""
        return self._proxy_or_reconnect()

    @property
    def driver_connection(self) -> Any:
        return self.connection.dbapi_connection

    @property
    def info(self) -> dict[Any, Any]:
        rec = self.connection._rec
        return rec.info if rec is not None else self.connection.info

    @property
    def default_isolation_level(self) -> str | None:
        return self.dialect.default_isolation_level

    def get_isolation_level(self) -> str:
        return self._driver.get_isolation_level(self.connection.dbapi_connection)

    def _hermetic_inspector(self) -> Any:  # inspect(connection)
        from hermetic.engine.reflection import Inspector

        return Inspector(self)

    def get_execution_options(self) -> immutabledict[str, Any]:
        return self._execution_options

    def execution_options(self, **opt: Any) -> Connection:
        """Set options on this connection (in place, as in SQLAlchemy 2.0) and return it.
        ``isolation_level`` applies at once and is undone when the connection closes."""
        self._execution_options = immutabledict(self._execution_options).union(opt)
        if "isolation_level" in opt:
            if self.in_transaction():
                raise exc.InvalidRequestError(
                    "Cannot change isolation_level while a transaction is in progress; "
                    "call commit() or rollback() first, or set it right after connect()"
                )
            self._set_isolation(opt["isolation_level"])
        for fn in self.engine.dispatch.set_connection_execution_options:  # type: ignore[attr-defined]
            fn(self, opt)
        return self

    def _set_isolation(self, level: str) -> None:
        self._driver.set_isolation_level(self._proxy_or_reconnect().dbapi_connection, level)
        self._isolation_changed = True

    def _proxy_or_reconnect(self) -> PoolProxiedConnection:
        if self._proxy is not None:
            return self._proxy
        if self._closed:
            raise exc.ResourceClosedError(
                "This Connection is closed; open a new one with engine.connect()"
            )
        if self._transaction is not None:
            raise exc.PendingRollbackError(
                "This connection was invalidated "
                f"({self._invalid_reason!r}) inside a transaction; call rollback() "
                "before using it again (it then reconnects)",
                code="8s2b",
            )
        self._proxy = self.engine._checkout(2)
        self._dbapi = self._proxy.dbapi_connection
        self._invalid_reason = None
        level = self._execution_options.get("isolation_level")
        if level is not None:
            self._set_isolation(level)
        return self._proxy

    # -- transactions -------------------------------------------------------------------
    def begin(self) -> RootTransaction:
        if self._transaction is not None:
            raise exc.InvalidRequestError(
                "This connection has already begun a transaction (explicitly or by "
                "autobegin on the first execute()); call commit() or rollback() before "
                "begin(), or use begin_nested() for a SAVEPOINT"
            )
        return self._autobegin()

    def _autobegin(self) -> RootTransaction:
        if self._closed:
            raise exc.ResourceClosedError(
                "This Connection is closed; open a new one with engine.connect()"
            )
        self._transaction = t = RootTransaction(self)
        if self.engine._log_info():
            self.engine._log(_INFO, "BEGIN (implicit)")
        if self.engine.dispatch.begin:  # type: ignore[attr-defined]
            for fn in self.engine.dispatch.begin:  # type: ignore[attr-defined]
                fn(self)
        return t

    def begin_nested(self) -> NestedTransaction:
        """A SAVEPOINT inside the current transaction (autobegun if none)."""
        if self._transaction is None:
            self._autobegin()
        self._savepoint_seq += 1
        name = f"sa_savepoint_{self._savepoint_seq}"
        self._driver.prepare_savepoint(self._proxy_or_reconnect().dbapi_connection)
        self._exec_internal(f"SAVEPOINT {name}")
        for fn in self.engine.dispatch.savepoint:  # type: ignore[attr-defined]
            fn(self, name)
        self._nested = NestedTransaction(self, name, self._nested)
        return self._nested

    def in_transaction(self) -> bool:
        return self._transaction is not None and self._transaction.is_active

    def in_nested_transaction(self) -> bool:
        return self._nested is not None and self._nested.is_active

    def get_transaction(self) -> RootTransaction | None:
        return self._transaction

    def get_nested_transaction(self) -> NestedTransaction | None:
        return self._nested

    def commit(self) -> None:
        """Commit the transaction in progress (autobegun or begun); no-op if none."""
        if self._transaction is not None:
            self._transaction.commit()

    def rollback(self) -> None:
        """Roll back the transaction in progress; no-op if none."""
        if self._transaction is not None:
            self._transaction.rollback()

    def _do_commit(self) -> None:
        for fn in self.engine.dispatch.commit:  # type: ignore[attr-defined]
            fn(self)
        if self._proxy is None:
            raise exc.PendingRollbackError(
                f"Cannot commit: the connection was invalidated ({self._invalid_reason!r}); "
                "call rollback()",
                code="8s2b",
            )
        if self.engine._log_info():
            self.engine._log(_INFO, "COMMIT")
        try:
            self._driver.commit(self._dbapi)
        except BaseException as e:
            self._handle_error(e, None, None, None, None)

    def _do_rollback(self) -> None:
        for fn in self.engine.dispatch.rollback:  # type: ignore[attr-defined]
            fn(self)
        if self._proxy is None:
            return  # invalidated: the server already discarded the transaction
        if self.engine._log_info():
            self.engine._log(_INFO, "ROLLBACK")
        try:
            self._driver.rollback(self._dbapi)
        except BaseException as e:
            self._handle_error(e, None, None, None, None)

    def _end_root(self) -> None:
        self._transaction = None
        n = self._nested
        while n is not None:
            n.is_active = False
            n = n._previous
        self._nested = None

    # -- closing ------------------------------------------------------------------------
    def close(self) -> None:
        """Roll back what is open and return the connection to the pool. The pool slot is
        freed even if the rollback raises."""
        if self._closed:
            return
        try:
            t = self._transaction
            if t is not None and t.is_active:
                t.close()
        finally:
            self._closed = True
            self._transaction = None
            self._nested = None
            proxy, self._proxy = self._proxy, None
            self._dbapi = None
            self._spare_cursor = None
            if proxy is not None:
                try:
                    if self._isolation_changed:
                        self._restore_isolation(proxy)
                finally:
                    proxy.close()

    def _restore_isolation(self, proxy: PoolProxiedConnection) -> None:
        # The pool-wide level (create_engine's isolation_level, else the server's), never
        # an option engine's: the pool is shared with the parent engine and
        # raw_connection(); Connection() re-applies execution options on checkout.
        default = self.dialect.isolation_level or self.dialect.default_isolation_level
        if default is None:
            return
        try:
            self._driver.set_isolation_level(proxy.dbapi_connection, default)
        except Exception as e:
            proxy.invalidate(e)

    def invalidate(self, exception: BaseException | None = None) -> None:
        """Close the DBAPI connection for good; the Connection reconnects on next use
        (after rollback() when a transaction was in progress)."""
        if self._closed:
            raise exc.ResourceClosedError("This Connection is closed")
        self._invalidate(exception or exc.InvalidRequestError("invalidated by the user"))

    def _invalidate(self, e: BaseException) -> None:
        proxy, self._proxy = self._proxy, None
        self._dbapi = None
        self._spare_cursor = None
        self._invalid_reason = e
        if self._transaction is not None:
            self._transaction.is_valid = False
        if proxy is not None:
            proxy.invalidate(e)

    def detach(self) -> None:
        self.connection.detach()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, type_: Any, value: Any, tb: Any) -> None:
        self.close()

    # -- execution ----------------------------------------------------------------------
    def execute(
        self,
        statement: Any,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult:
        """Run a statement (``text()``, ``select()`` ...) with parameters: a dict, or a list
        of dicts to run it once per dict (executemany)."""
        if getattr(type(statement), "_execute_on_connection", None) is _PLAIN_EXECUTE:
            # (select(), text() ...: one call fewer)
            return self._execute_clauseelement(statement, parameters, execution_options)
        try:
            meth = statement._execute_on_connection
        except AttributeError:
            raise exc.ObjectNotExecutableError(statement) from None
        return meth(self, parameters, execution_options)  # type: ignore[no-any-return]

    def scalar(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self.execute(statement, parameters, **kw).scalar()

    def scalars(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self.execute(statement, parameters, **kw).scalars()

    def _compile(self, elem: Any) -> tuple[Compiled, list[Any] | None]:
        """The Compiled for ``elem`` and, when it was compiled for another statement of
        the same structure, ``elem``'s own bound parameters (their values replace the
        compiled statement's). Two levels: the statement object's cache (a statement
        reused in a loop; per dialect object, as engines with different dialects may share
        a paramstyle), then the engine's LRU by structural key (built again)."""
        dialect = self.dialect
        cache: dict[Any, tuple[Compiled, list[Any] | None]] | None = elem.__dict__.get(
            "_compiled_cache"
        )
        if cache is not None:
            hit = cache.get(dialect)
            if hit is not None:
                return hit
        binds: list[Any] | None = None
        if elem._is_textual:
            structural = elem._cache_key
        else:
            structural, binds = elem._key_and_binds()
        if structural is not None:
            # (the engine's cache serves its one dialect: the structure is the key)
            engine_cache = self.engine._compiled_cache
            compiled = engine_cache.get(structural)
            if compiled is None:
                compiled = self._compile_new(elem)
                engine_cache[structural] = compiled
        else:
            compiled = self._compile_new(elem)
        entry = (compiled, binds if compiled.statement is not elem else None)
        if cache is None:
            elem.__dict__["_compiled_cache"] = {dialect: entry}
        else:
            cache[dialect] = entry
        return entry

    def _compile_new(self, elem: Any) -> Compiled:
        if elem._is_textual:
            return compile_textual(elem, self.dialect)
        compiled: Compiled = elem._compile_for(self.dialect)
        return compiled

    def _execute_clauseelement(
        self, elem: Any, params: Any, execution_options: Mapping[str, Any] | None
    ) -> CursorResult:
        compiled, own_binds = self._compile(elem)
        opts: Mapping[str, Any] = self._execution_options
        if execution_options or getattr(elem, "_execution_options", None):
            opts = self._merge_options(elem, execution_options)
        d = self.engine.dispatch
        events = bool(d.before_execute or d.after_execute)  # type: ignore[attr-defined]
        # (a dict is the common case: skip the Mapping ABC's instance check for it)
        single = params is None or params.__class__ is dict or isinstance(params, Mapping)
        if own_binds is not None and not compiled.bind_slots:
            own_binds = None  # nothing of the statement's own to supply
        if own_binds is not None and (
            events or compiled.expanding or (not single and _is_many(params))
        ):
            # the statement's own values as parameters, for listeners and the general paths
            values = {name: own_binds[i].effective_value for name, i in compiled.bind_slots}
            if params is None or isinstance(params, Mapping):
                params = {**values, **(params or {})}
            elif isinstance(params, (list, tuple)):
                params = [{**values, **p} for p in params]
            own_binds = None
        if d.before_execute:  # type: ignore[attr-defined]
            for fn in d.before_execute:  # type: ignore[attr-defined]
                ret = fn(
                    self,
                    elem,
                    params if isinstance(params, list) else [],
                    params if isinstance(params, Mapping) else {},
                    opts,
                )
                if fn.retval and ret is not None:
                    elem, mp, p = ret
                    params = mp or p
            single = params is None or isinstance(params, Mapping)
        statement = compiled.string
        many = False
        try:
            if single:
                if compiled.expanding:
                    statement, driver_params = compiled.process(params)
                else:
                    driver_params = compiled.execution_params(own_binds, params)
            elif isinstance(params, (list, tuple)):
                if len(params) <= 1:
                    one = params[0] if params else None
                    if compiled.expanding:
                        statement, driver_params = compiled.process(one)
                    else:
                        driver_params = compiled.execution_params(own_binds, one)
                elif compiled.expanding:
                    raise exc.ArgumentError(
                        "An expanding bind parameter (IN :name with a list) cannot be used "
                        "with a list of parameter sets (executemany); execute once per set"
                    )
                else:
                    many = True
                    driver_params = compiled.many_params(params)
            else:
                raise exc.ArgumentError(
                    f"execute() parameters must be a dict or a list of dicts, got "
                    f"{type(params).__name__}; for a single row pass {{'name': value}}"
                )
        except exc.ArgumentError:
            raise  # the call itself is malformed: no statement to blame
        except Exception as e:
            raise self._statement_error(e, compiled, params) from e
        result = self._execute_context(statement, driver_params, many, compiled, opts)
        if d.after_execute:  # type: ignore[attr-defined]
            for fn in d.after_execute:  # type: ignore[attr-defined]
                fn(
                    self,
                    elem,
                    params if isinstance(params, list) else [],
                    params if isinstance(params, Mapping) else {},
                    opts,
                    result,
                )
        return result

    def _statement_error(self, e: Exception, compiled: Compiled, params: Any) -> exc.StatementError:
        """A missing value, or a value a type's bind processor cannot take: name the
        statement and the parameters with the original error."""
        if isinstance(e, BindValueError):
            err = exc.StatementError(
                f"({type(e.orig).__module__}.{type(e.orig).__name__}) {e.orig}",
                compiled.string,
                params,
                e.orig,
                hide_parameters=self.engine.hide_parameters,
                code="stmt",
                ismulti=e.index is not None,
            )
            err.add_detail(e.describe(self.engine.hide_parameters))
            return err
        missing = isinstance(e, exc.InvalidRequestError)
        return exc.StatementError(
            f"({type(e).__module__}.{type(e).__name__}) {e.args[0] if missing and e.args else e}",
            compiled.string,
            params,
            e,
            hide_parameters=self.engine.hide_parameters,
            code="cd3x" if missing else "stmt",
        )

    def exec_driver_sql(
        self,
        statement: str,
        parameters: Any = None,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult:
        """Run a SQL string as the driver takes it (its own paramstyle, no ``:name``
        conversion); a list of parameter sets runs executemany."""
        opts = self._merge_options(None, execution_options)
        many = (
            isinstance(parameters, list)
            and bool(parameters)
            and isinstance(parameters[0], (Mapping, tuple, list))
        )
        if parameters is None:
            parameters = ()
        return self._execute_context(statement, parameters, many, None, opts)

    def _merge_options(
        self, elem: Any, execution_options: Mapping[str, Any] | None
    ) -> Mapping[str, Any]:
        opts = self._execution_options
        elem_opts = getattr(elem, "_execution_options", None) if elem is not None else None
        if elem_opts or execution_options:
            merged = dict(opts)
            if elem_opts:
                merged.update(elem_opts)
            if execution_options:
                merged.update(execution_options)
            return merged
        return opts

    def _exec_internal(self, sql: str) -> None:
        """Transaction-control SQL (SAVEPOINT ...): logged, events skipped."""
        dbapi = self._proxy_or_reconnect().dbapi_connection
        if self.engine._log_info():
            self.engine._log(_INFO, sql)
        cursor: Any = None
        try:
            cursor = dbapi.cursor()
            cursor.execute(sql)
            cursor.close()
        except BaseException as e:
            self._handle_error(e, sql, None, cursor, None)

    def _execute_context(
        self,
        statement: str,
        parameters: Any,
        many: bool,
        compiled: Compiled | None,
        opts: Mapping[str, Any],
    ) -> CursorResult:
        """Run the statement on a cursor and wrap it in a CursorResult. The usual case (no
        execution options, cursor events or logging) takes the short path below; the
        rest is :meth:`_execute_context_full`."""
        dbapi = self._dbapi
        transaction = self._transaction
        if dbapi is None or (transaction is not None and not transaction.is_valid):
            return self._execute_context_full(statement, parameters, many, compiled, opts)
        if transaction is None:
            self._autobegin()
        engine = self.engine
        dispatch = engine.dispatch
        if (
            opts
            or engine.echo
            or dispatch.before_cursor_execute  # type: ignore[attr-defined]
            or dispatch.after_cursor_execute  # type: ignore[attr-defined]
            or log.isEnabledFor(_INFO)
        ):
            return self._execute_context_full(statement, parameters, many, compiled, opts)
        driver = self._driver
        cursor = self._spare_cursor
        try:
            if cursor is None:
                cursor = dbapi.cursor()
            else:
                self._spare_cursor = None
            if many:
                cursor.executemany(statement, parameters)
            elif parameters or (compiled is not None and self.dialect.paramstyle in _PERCENT):
                cursor.execute(statement, parameters)
            else:
                cursor.execute(statement)
            width = driver.result_width(cursor)
            if width is None:
                return CursorResult(
                    cursor,
                    None,
                    rowcount=cursor.rowcount,
                    lastrowid=getattr(cursor, "lastrowid", None),
                    release_cursor=self._release_cursor,
                )
            cached = compiled._meta_cache if compiled is not None else None
            if (
                cached is not None
                and compiled is not None
                and compiled.result_objects is not None
                and width == len(cached[0])
                and compiled.result_columns is not None
                and width == len(compiled.result_columns)
            ):
                # A Core statement selects the columns it names: the driver reports
                # the names the SQL gives them, which the cached metadata has.
                meta = cached[1]
            else:
                keys = driver.result_keys(cursor) or ()
                if cached is not None and cached[0] == keys:
                    meta = cached[1]
                else:
                    meta = self._result_metadata(compiled, keys, cursor)
        except BaseException as e:
            self._handle_error(e, statement, parameters, cursor, None, many, compiled)
        result = CursorResult._of_rows(cursor, meta, cursor.rowcount, self._release_cursor)
        if driver.builds_rows:
            result._fetch_rows = driver.fetchall_rows
        if 0 <= result.rowcount <= driver.prefetch_rows:
            # a small client-side result: read it now and keep the cursor for the next
            # execute (CursorResult._prefetch, inlined: the cursor is this connection's)
            result._buffer = deque(cursor.fetchall())
            result.cursor = None
            result._release_cursor = None
            if driver.reuse_cursors and self._spare_cursor is None:
                self._spare_cursor = cursor
            else:
                cursor.close()
        return result

    def _execute_context_full(
        self,
        statement: str,
        parameters: Any,
        many: bool,
        compiled: Compiled | None,
        opts: Mapping[str, Any],
    ) -> CursorResult:
        dbapi = self._dbapi
        if dbapi is None:
            dbapi = self._proxy_or_reconnect().dbapi_connection
        if self._transaction is None:
            self._autobegin()
        elif not self._transaction.is_valid:
            self._proxy_or_reconnect()
        engine = self.engine
        dispatch = engine.dispatch
        has_events = bool(
            dispatch.before_cursor_execute or dispatch.after_cursor_execute  # type: ignore[attr-defined]
        )
        # (INFO is enabled whenever DEBUG is: one check covers both on the usual path)
        logging_on = bool(engine.echo) or log.isEnabledFor(_INFO)
        driver = self._driver
        stream = bool(
            opts
            and (opts.get("stream_results") or opts.get("yield_per"))
            and driver.supports_server_side_cursors
        )
        cursor: Any = None
        context = None
        try:
            if stream:
                cursor = driver.server_side_cursor(dbapi)
            else:
                cursor = self._spare_cursor
                if cursor is None:
                    cursor = dbapi.cursor()
                else:
                    self._spare_cursor = None
            if has_events:
                context = ExecutionContext(
                    self, cursor, statement, parameters, many, compiled, opts
                )
                for fn in dispatch.before_cursor_execute:  # type: ignore[attr-defined]
                    ret = fn(self, cursor, statement, parameters, context, many)
                    if fn.retval and ret is not None:
                        statement, parameters = ret
            if logging_on:
                self._log_statement(statement, parameters, many)
            if many:
                cursor.executemany(statement, parameters)
            elif parameters or (compiled is not None and self.dialect.paramstyle in _PERCENT):
                # A compiled statement doubles "%" for these paramstyles; the driver
                # undoes that only when given parameters (even empty ones).
                cursor.execute(statement, parameters)
            else:
                cursor.execute(statement)
            if has_events:
                for fn in dispatch.after_cursor_execute:  # type: ignore[attr-defined]
                    fn(self, cursor, statement, parameters, context, many)
            keys = driver.result_keys(cursor)
            prefetched = None
            if keys is None and stream:
                # Some server-side cursors (psycopg2's named ones) describe their rows
                # only after the first fetch.
                prefetched = cursor.fetchmany(int(opts.get("yield_per") or 100))
                keys = driver.result_keys(cursor)
            if keys is None:
                return CursorResult(
                    cursor,
                    None,
                    rowcount=cursor.rowcount,
                    lastrowid=getattr(cursor, "lastrowid", None),  # psycopg 3 has none
                    release_cursor=None if stream else self._release_cursor,
                )
            cached = compiled._meta_cache if compiled is not None else None
            if cached is not None and cached[0] == keys:
                meta = cached[1]
            else:
                meta = self._result_metadata(compiled, keys, cursor)
        except BaseException as e:
            self._handle_error(e, statement, parameters, cursor, context, many, compiled)
        if logging_on and (
            engine.echo == "debug" or (not engine.echo and log.isEnabledFor(_DEBUG))
        ):
            # rows are logged at DEBUG: echo="debug", or the logger set to DEBUG
            rows = cursor.fetchall()
            for row in rows:
                engine._log(_DEBUG, "Row %r", row)
            return CursorResult(cursor, meta, rowcount=cursor.rowcount, buffer=rows)
        if stream:
            result: CursorResult = CursorResult(
                cursor, meta, rowcount=cursor.rowcount, buffer=prefetched
            )
        else:
            result = CursorResult(
                cursor, meta, rowcount=cursor.rowcount, release_cursor=self._release_cursor
            )
            if driver.builds_rows:
                result._fetch_rows = driver.fetchall_rows
            if 0 <= result.rowcount <= driver.prefetch_rows:
                result._prefetch(cursor.fetchall())
        if stream or (opts and opts.get("yield_per")):
            n = opts.get("yield_per") or opts.get("max_row_buffer")
            if n:
                result.yield_per(int(n))
        return result

    def _release_cursor(self, cursor: Any) -> None:
        """A result is done with its cursor: keep it for the next execute (creating a
        psycopg cursor costs more than a small query's Python overhead) or close it."""
        if (
            self._spare_cursor is None
            and self._driver.reuse_cursors
            and self._dbapi is not None
            and getattr(cursor, "connection", None) is self._dbapi
        ):
            self._spare_cursor = cursor
        else:
            cursor.close()

    def _result_metadata(
        self, compiled: Compiled | None, keys: tuple[str, ...], cursor: Any = None
    ) -> ResultMetaData:
        """Rows' metadata, chosen once per compiled statement: each column's result
        processor, given the driver's type code for it (so that a type whose values
        the driver already returns as they should be needs none)."""
        if compiled is None:
            return ResultMetaData.for_keys(keys)
        cached = compiled._meta_cache
        if cached is not None and cached[0] == keys:
            return cached[1]  # type: ignore[no-any-return]
        columns = compiled.result_columns
        codes: Sequence[Any] = ()
        if columns and cursor is not None:
            codes = self._driver.result_types(cursor) or ()
        if len(codes) != len(keys):
            codes = (None,) * len(keys)
        dialect = self.dialect
        if columns and len(columns) == len(keys) and compiled.result_objects:
            # A Core select: types and key objects by position (names may repeat).
            procs = [
                t.result_processor(dialect, code)
                for (_k, t), code in zip(columns, codes, strict=True)
            ]
            meta = ResultMetaData(
                keys, procs if any(procs) else None, extra_keys=compiled.result_objects
            )
        elif columns:
            types = dict(columns)
            procs = [
                (types[k].result_processor(dialect, code) if k in types else None)
                for k, code in zip(keys, codes, strict=True)
            ]
            meta = ResultMetaData(keys, procs if any(procs) else None)
        else:
            meta = ResultMetaData.for_keys(keys)
        compiled._meta_cache = (keys, meta)
        return meta

    def _log_statement(self, statement: str, parameters: Any, many: bool) -> None:
        engine = self.engine
        engine._log(_INFO, "%s", statement)
        if engine.hide_parameters:
            engine._log(_INFO, "[SQL parameters hidden due to hide_parameters=True]")
        elif many:
            engine._log(_INFO, "[executemany] %s", exc._render_params(parameters))
        else:
            engine._log(
                _INFO, "[parameters] %s", exc._render_params(parameters or (), ismulti=False)
            )

    def _bind_detail(
        self, e: BaseException, compiled: Compiled | None, parameters: Any, many: bool
    ) -> str | None:
        """When the driver or the database rejected a bound value: which parameter (and
        parameter set), its value (unless parameters are hidden) and type, and the fix."""
        try:
            problem = self._driver.bind_problem(e)
        except Exception:
            return None
        if problem is None:
            return None
        sets = parameters if many and isinstance(parameters, (list, tuple)) else [parameters]
        fallback = None
        for index, params in enumerate(sets):
            names, values = _driver_order(params, compiled)
            if problem.name is not None:
                candidates = [names.index(problem.name)] if problem.name in names else []
            elif problem.position is not None:
                candidates = [problem.position] if problem.position < len(values) else []
            else:
                candidates = list(range(len(values)))
            if fallback is None and len(candidates) == 1 and problem.matches is None:
                fallback = (candidates[0], names, values, index)
            hits = [
                i
                for i in candidates
                if problem.matches is not None and _matching(problem.matches, values[i])
            ]
            if hits:
                return self._describe_bind(
                    hits[0], names, values, index if many else None, problem.hint
                )
        if fallback is not None:
            i, names, values, index = fallback
            if len(sets) > 1:  # the position alone does not tell which set
                return f"[bind parameter {names[i]!r} was rejected: {problem.hint}]"
            return self._describe_bind(i, names, values, index if many else None, problem.hint)
        return f"[a bound value was rejected: {problem.hint}]"

    def _describe_bind(
        self, i: int, names: list[str], values: list[Any], index: int | None, hint: str
    ) -> str:
        value = values[i]
        shown = "" if self.engine.hide_parameters else f" = {_shown(value)}"
        where = f" in parameter set {index}" if index is not None else ""
        return (
            f"[bind parameter {names[i]!r}{shown} ({type(value).__qualname__}){where} was "
            f"rejected: {hint}]"
        )

    def _handle_error(
        self,
        e: BaseException,
        statement: str | None,
        parameters: Any,
        cursor: Any,
        context: ExecutionContext | None,
        many: bool = False,
        compiled: Compiled | None = None,
    ) -> Any:
        """Wrap and raise ``e``; invalidate the connection when it cannot be trusted."""
        if cursor is not None:
            try:
                cursor.close()
            except Exception:
                pass
        if not isinstance(e, Exception):
            # Interrupted mid-call: the connection may be mid-command. Never reuse it.
            if self._proxy is not None:
                self._invalidate(e)
            raise e
        if isinstance(e, exc.HermeticError):
            raise e
        driver = self._driver
        dbapi = self._dbapi
        is_disconnect = driver.is_error(e) and driver.is_disconnect(e, dbapi)
        wrapped = exc.DBAPIError.instance(
            statement,
            parameters,
            e,
            dbapi_base_err=getattr(driver.dbapi, "Error", None),
            hide_parameters=self.engine.hide_parameters,
            connection_invalidated=is_disconnect,
            ismulti=many,
        )
        if isinstance(wrapped, exc.StatementError) and not is_disconnect:
            detail = self._bind_detail(e, compiled, parameters, many)
            if detail is not None:
                wrapped.add_detail(detail)
        dispatch = self.engine.dispatch
        if dispatch.handle_error:  # type: ignore[attr-defined]
            ctx = ExceptionContext(
                self,
                e,
                wrapped if isinstance(wrapped, exc.HermeticError) else None,
                cursor,
                statement,
                parameters,
                context,
                is_disconnect,
            )
            for fn in dispatch.handle_error:  # type: ignore[attr-defined]
                replacement = fn(ctx)
                if replacement is not None:
                    wrapped = replacement
            if ctx.is_disconnect != is_disconnect:
                is_disconnect = ctx.is_disconnect
                if isinstance(wrapped, exc.StatementError):
                    wrapped.connection_invalidated = is_disconnect
        if is_disconnect:
            if isinstance(wrapped, exc.StatementError):
                wrapped.add_detail(
                    "The connection was lost and has been invalidated; the pool opens a new "
                    "one on next use. Roll back (or close) this Connection/Session first."
                )
            self._invalidate(e)
        raise wrapped from e


def _driver_order(params: Any, compiled: Compiled | None) -> tuple[list[str], list[Any]]:
    """The names and values of one parameter set, in the order the driver numbers the
    statement's parameters (positions for a sequence; for a mapping, each distinct name
    in order of first appearance in the SQL, as psycopg numbers them)."""
    if isinstance(params, Mapping):
        if compiled is not None:
            names = list(dict.fromkeys(compiled.positiontup))
            if all(n in params for n in names):
                return names, [params[n] for n in names]
        return [str(k) for k in params], list(params.values())
    if isinstance(params, (list, tuple)):
        values = list(params)
        if compiled is not None and len(compiled.positiontup) == len(values):
            return list(compiled.positiontup), values
        return [f"#{i + 1}" for i in range(len(values))], values
    return [], []


def _matching(test: Any, value: Any) -> bool:
    try:
        return bool(test(value))
    except Exception:
        return False


class Transaction:
    """A transaction on a Connection; a context manager that commits on success."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.is_active = True
        self.is_valid = True

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if self.is_active:
            self.rollback()

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, type_: Any, value: Any, tb: Any) -> None:
        if not self.is_active:
            return
        if type_ is None:
            self.commit()
        else:
            self.rollback()


class RootTransaction(Transaction):
    def commit(self) -> None:
        if not self.is_active:
            raise exc.InvalidRequestError(
                "This transaction is inactive (already committed or rolled back)"
            )
        if not self.is_valid:
            raise exc.PendingRollbackError(
                "Cannot commit: the connection was invalidated during this transaction; "
                "call rollback()",
                code="8s2b",
            )
        conn = self.connection
        try:
            conn._do_commit()
        finally:
            self.is_active = False
            conn._end_root()

    def rollback(self) -> None:
        if not self.is_active:
            return
        conn = self.connection
        try:
            conn._do_rollback()
        finally:
            self.is_active = False
            conn._end_root()


class NestedTransaction(Transaction):
    """A SAVEPOINT; commit releases it, rollback rolls back to it and keeps the outer
    transaction."""

    def __init__(
        self, connection: Connection, name: str, previous: NestedTransaction | None
    ) -> None:
        super().__init__(connection)
        self.name = name
        self._previous = previous

    def _pop(self) -> None:
        self.is_active = False
        self.connection._nested = self._previous

    def commit(self) -> None:
        if not self.is_active:
            raise exc.InvalidRequestError("This nested transaction is inactive")
        try:
            self.connection._exec_internal(f"RELEASE SAVEPOINT {self.name}")
            for fn in self.connection.engine.dispatch.release_savepoint:  # type: ignore[attr-defined]
                fn(self.connection, self.name, None)
        finally:
            self._pop()

    def rollback(self) -> None:
        if not self.is_active:
            return
        try:
            if self.connection._proxy is not None:
                self.connection._exec_internal(f"ROLLBACK TO SAVEPOINT {self.name}")
            for fn in self.connection.engine.dispatch.rollback_savepoint:  # type: ignore[attr-defined]
                fn(self.connection, self.name, None)
        finally:
            self._pop()
