"""psycopg 3's asyncio connection behind the driver port (``postgresql+psycopg://`` with
``create_async_engine``). psycopg's own exceptions are PEP 249, so only the connection
and cursor calls are adapted."""

from __future__ import annotations

from typing import Any

from hermetic._concurrency import await_only
from hermetic.drivers._async_adapt import AdaptedConnection
from hermetic.drivers.base import DriverBase
from hermetic.drivers.psycopg import PsycopgDriver

_TUPLES_OK = 2


class AsyncAdaptedPsycopgConnection(AdaptedConnection):
    def terminate(self) -> None:
        try:
            self._connection.pgconn.finish()
        except Exception:
            pass

    @property
    def pgconn(self) -> Any:
        return self._connection.pgconn

    @property
    def info(self) -> Any:
        return self._connection.info

    @property
    def closed(self) -> bool:
        return bool(self._connection.closed)

    @property
    def autocommit(self) -> bool:
        return bool(self._connection.autocommit)

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        await_only(self._connection.set_autocommit(value))

    @property
    def isolation_level(self) -> Any:
        return self._connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        await_only(self._connection.set_isolation_level(value))


class PsycopgAsyncDriver(PsycopgDriver):
    """The psycopg driver's behaviour (isolation, ping, reset) over the async connection;
    rows come from the adapted cursor, not psycopg's row factories."""

    name = "psycopg_async"
    is_async = True
    reuse_cursors = False
    builds_rows = False
    prefetch_rows = 0
    result_keys = DriverBase.result_keys
    result_types = DriverBase.result_types
    result_width = DriverBase.result_width

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        raw = await_only(self.dbapi.AsyncConnection.connect(*cargs, **cparams))
        return AsyncAdaptedPsycopgConnection(raw)

    def close(self, dbapi_conn: Any) -> None:
        dbapi_conn.close()

    def server_side_cursor(self, dbapi_conn: Any) -> Any:
        return dbapi_conn.cursor()
