"""asyncpg behind the driver port (``postgresql+asyncpg://``).

asyncpg is not a PEP 249 driver. The adapter gives the core a DBAPI face:

* transactions: asyncpg runs in autocommit unless told otherwise; the adapter sends
  ``BEGIN`` (with the isolation level) before the first statement of a transaction and
  ``COMMIT``/``ROLLBACK`` at its end, as a DBAPI connection does implicitly;
* statements are prepared (asyncpg caches them per connection); the placeholders are
  ``$1, $2`` (``numeric_dollar`` paramstyle), rows come back as tuples, the status line
  gives ``rowcount``;
* errors are mapped to PEP 249 classes by SQLSTATE class (23 integrity, 22 data, 42
  programming, 08/57 operational ...), keeping the asyncpg exception as ``__cause__``;
* json/jsonb are decoded to Python objects, as psycopg does.

Behind pgbouncer in transaction pooling mode, prepared statements break; turn asyncpg's
cache off: ``create_async_engine(url, connect_args={"statement_cache_size": 0})`` (or
``?prepared_statement_cache_size=0`` in the URL). The adapter then uses unnamed
statements only.
"""

from __future__ import annotations

import json
import types
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hermetic._concurrency import await_only, in_greenlet
from hermetic.drivers._async_adapt import AdaptedConnection, AdaptedCursor
from hermetic.drivers._pgcommon import PGDriverBase

if TYPE_CHECKING:
    from hermetic.engine.url import URL


class Error(Exception):
    sqlstate: str | None = None
    orig_asyncpg: BaseException | None = None


class Warning(Exception):  # noqa: A001 - PEP 249 name
    pass


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class InternalError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class DataError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


_BY_CLASS = {
    "23": IntegrityError,
    "22": DataError,
    "42": ProgrammingError,
    "08": OperationalError,
    "53": OperationalError,
    "57": OperationalError,
    "58": OperationalError,
    "40": OperationalError,
    "55": OperationalError,
    "0A": NotSupportedError,
    "XX": InternalError,
}


def _translate(e: BaseException) -> BaseException:
    """The PEP 249 error for an asyncpg exception."""
    sqlstate = getattr(e, "sqlstate", None)
    name = type(e).__name__
    cls: type[Error]
    if sqlstate:
        cls = _BY_CLASS.get(sqlstate[:2], DatabaseError)
    elif (
        "ConnectionDoesNotExist" in name
        or "ConnectionFailure" in name
        or isinstance(e, (OSError, ConnectionError))
    ):
        cls = OperationalError
    else:
        cls = InterfaceError
    err = cls(f"<class '{type(e).__module__}.{name}'>: {e}")
    err.sqlstate = sqlstate
    err.orig_asyncpg = e
    return err


def _rowcount(status: str | None) -> int:
    if not status:
        return -1
    parts = status.split()
    if (
        parts
        and parts[-1].isdigit()
        and parts[0] in ("INSERT", "UPDATE", "DELETE", "SELECT", "MERGE", "MOVE", "FETCH", "COPY")
    ):
        return int(parts[-1])
    return -1


class _Description(tuple):
    pass


class _Cursor(AdaptedCursor):
    async def _prepare_begin(self) -> Any:
        conn: AsyncAdaptedAsyncpgConnection = self._connection
        await conn._begin_if_needed()
        return conn._connection

    async def _run(self, sql: str, params: Any) -> tuple[Any, list[Any], int, Any]:
        args = tuple(params) if params else ()
        try:
            await self._prepare_begin()
            stmt = await self._connection._statement(sql)
            attrs = stmt.get_attributes()
            if attrs:
                records = await stmt.fetch(*args)
                description = tuple(
                    (a.name, a.type.oid, None, None, None, None, None) for a in attrs
                )
                rows = list(map(tuple, records))
                status = stmt.get_statusmsg()
                return description, rows, _rowcount(status) if status else len(rows), None
            await stmt.fetch(*args)
            return None, [], _rowcount(stmt.get_statusmsg()), None
        except Exception as e:
            self._connection._fail()
            raise _translate(e) from e

    async def _run_many(self, sql: str, seq: Sequence[Any]) -> tuple[Any, list[Any], int, Any]:
        try:
            await self._prepare_begin()
            stmt = await self._connection._statement(sql)
            total = 0
            for params in seq:
                await stmt.fetch(*(tuple(params) if params else ()))
                n = _rowcount(stmt.get_statusmsg())
                total += max(n, 0)
            return None, [], total, None
        except Exception as e:
            self._connection._fail()
            raise _translate(e) from e


class AsyncAdaptedAsyncpgConnection(AdaptedConnection):
    """A DBAPI-shaped connection over an asyncpg connection."""

    def __init__(self, driver_connection: Any, cache_size: int = 100) -> None:
        super().__init__(driver_connection)
        # prepared statements by SQL text, most recently used last (0: none kept, for
        # pgbouncer in transaction mode: every statement is then an unnamed one)
        self._stmts: OrderedDict[str, Any] = OrderedDict()
        self._cache_size = cache_size
        self._started = False
        self._failed = False
        self.autocommit = False
        self.isolation_level: str | None = None
        self.readonly = False
        self.deferrable = False

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    def execute(self, sql: str, params: Any = None) -> _Cursor:
        return self.cursor().execute(sql, params)

    async def _statement(self, sql: str) -> Any:
        stmts = self._stmts
        stmt = stmts.get(sql)
        if stmt is not None:
            stmts.move_to_end(sql)
            return stmt
        stmt = await self._connection.prepare(sql)
        if self._cache_size > 0:
            stmts[sql] = stmt
            if len(stmts) > self._cache_size:
                stmts.popitem(last=False)
        return stmt

    async def _begin_if_needed(self) -> None:
        if self.autocommit or self._started:
            return
        begin = "BEGIN"
        if self.isolation_level:
            begin += f" ISOLATION LEVEL {self.isolation_level}"
        await self._connection.execute(begin)
        self._started = True
        self._failed = False

    def _fail(self) -> None:
        self._failed = True
        # a statement prepared before a schema change fails once; prepare anew next time
        self._stmts.clear()

    @property
    def in_transaction(self) -> bool:
        return self._started

    def commit(self) -> None:
        if not self._started:
            return
        self._check_loop()
        try:
            await_only(self._connection.execute("COMMIT"))
        except Exception as e:
            raise _translate(e) from e
        finally:
            self._started = False

    def rollback(self) -> None:
        if not self._started:
            return
        self._check_loop()
        try:
            await_only(self._connection.execute("ROLLBACK"))
        except Exception as e:
            raise _translate(e) from e
        finally:
            self._started = False

    def close(self) -> None:
        if not in_greenlet() or not self._belongs_to_running_loop():
            self.terminate()
            return
        try:
            await_only(self._connection.close(timeout=5))
        except BaseException:
            self.terminate()
            raise

    def terminate(self) -> None:
        """Close at once, without awaiting (cancelled tasks, closed loops, GC)."""
        try:
            self._connection.terminate()
        except Exception:
            pass

    def ping(self) -> None:
        self._check_loop()
        try:
            await_only(self._connection.fetchval("SELECT 1"))
        except Exception as e:
            raise _translate(e) from e


def _dbapi_module() -> types.ModuleType:
    module = types.ModuleType("hermetic_asyncpg_dbapi")
    for cls in (
        Error,
        Warning,
        InterfaceError,
        DatabaseError,
        InternalError,
        OperationalError,
        ProgrammingError,
        IntegrityError,
        DataError,
        NotSupportedError,
    ):
        setattr(module, cls.__name__, cls)
    module.paramstyle = "numeric_dollar"  # type: ignore[attr-defined]
    return module


class AsyncpgDriver(PGDriverBase):
    name = "asyncpg"
    module_name = "asyncpg"
    extra = "asyncpg"
    paramstyle = "numeric_dollar"
    is_async = True
    disconnect_messages = (
        "connection is closed",
        "connection was closed",
        "connectiondoesnotexisterror",
        "cannot perform operation: another operation is in progress",
        "terminating connection",
    )

    def __init__(self, dbapi: types.ModuleType | None = None) -> None:
        self.asyncpg = self.load()
        super().__init__(_dbapi_module())

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        opts = url.translate_connect_args(username="user", database="database")
        query = dict(url.query)
        size = query.pop("prepared_statement_cache_size", None)
        if size is not None:
            n = int(size if not isinstance(size, tuple) else size[-1])
            opts["prepared_statement_cache_size"] = n
            if n == 0:
                opts["statement_cache_size"] = 0
        for key in ("command_timeout", "timeout"):
            if key in query:
                value = query.pop(key)
                opts[key] = float(value if not isinstance(value, tuple) else value[-1])
        if "ssl" in query:
            opts["ssl"] = query.pop("ssl")
        if "port" in opts:
            opts["port"] = int(opts["port"])
        return [], opts

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        cache_size = int(cparams.pop("prepared_statement_cache_size", 100))
        if cparams.get("statement_cache_size") == 0:
            cache_size = 0  # pgbouncer (transaction pooling): no named statements at all
        try:
            raw = await_only(self.asyncpg.connect(*cargs, **cparams))
        except Exception as e:
            raise _translate(e) from e
        conn = AsyncAdaptedAsyncpgConnection(raw, cache_size)
        for typename in ("json", "jsonb"):
            await_only(
                raw.set_type_codec(
                    typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
                )
            )
        return conn

    def is_disconnect(self, e: BaseException, dbapi_conn: Any) -> bool:
        if isinstance(e, OperationalError) and getattr(e, "sqlstate", None) in (
            None,
            "57P01",
            "57P02",
            "57P03",
        ):
            return True
        if isinstance(e, InterfaceError):
            text = str(e).lower()
            return any(m in text for m in self.disconnect_messages)
        return super().is_disconnect(e, dbapi_conn)

    def ping(self, dbapi_conn: Any) -> None:
        dbapi_conn.ping()

    def needs_reset(self, dbapi_conn: Any) -> bool:
        return bool(dbapi_conn._started)

    def close(self, dbapi_conn: Any) -> None:
        dbapi_conn.close()

    def set_isolation_level(self, dbapi_conn: Any, level: str) -> None:
        norm = self.check_level(level)
        if norm == "AUTOCOMMIT":
            dbapi_conn.autocommit = True
            dbapi_conn.isolation_level = None
            return
        dbapi_conn.autocommit = False
        dbapi_conn.isolation_level = norm

    def is_autocommit(self, dbapi_conn: Any) -> bool:
        return bool(dbapi_conn.autocommit)

    def get_isolation_level(self, dbapi_conn: Any) -> str:
        if dbapi_conn.isolation_level:
            return str(dbapi_conn.isolation_level)
        value = await_only(dbapi_conn._connection.fetchval("SHOW transaction_isolation"))
        return str(value).upper()

    def server_version_info(self, dbapi_conn: Any) -> tuple[int, ...]:
        v = dbapi_conn._connection.get_server_version()
        return (v.major, v.minor) if v.major >= 10 else (v.major, v.minor, v.micro)

    def server_side_cursor(self, dbapi_conn: Any) -> Any:
        return dbapi_conn.cursor()
