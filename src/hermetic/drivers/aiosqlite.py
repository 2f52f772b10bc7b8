"""aiosqlite behind the driver port (``sqlite+aiosqlite://``).

aiosqlite runs a sqlite3 connection in a thread of its own and hands results back to the
event loop; the adapter gives the core the sqlite3 connection's synchronous face, each
call one ``await_only``. Transactions, isolation levels and savepoints behave exactly as
with the sqlite3 driver (the same code runs: :class:`PySQLiteDriver`).
"""

from __future__ import annotations

import sqlite3
import types
from typing import Any

from hermetic._concurrency import await_only
from hermetic.drivers._async_adapt import AdaptedConnection
from hermetic.drivers.pysqlite import PySQLiteDriver


class AsyncAdaptedSQLiteConnection(AdaptedConnection):
    """The sqlite3 connection API over an aiosqlite connection."""

    def terminate(self) -> None:
        """Stop without awaiting (a connection of a closed loop, or a cancelled
        close): the sqlite3 connection is closed from this thread."""
        conn = self._connection
        try:
            from aiosqlite import core

            sentinel = core._STOP_RUNNING_SENTINEL

            def close_and_stop() -> object:
                inner = conn._connection
                if inner is not None:
                    inner.close()
                    conn._connection = None
                return sentinel

            conn._running = False
            # no future: nothing is reported back to an event loop that may be closed
            conn._tx.put_nowait((None, close_and_stop))
        except Exception:
            try:
                conn.stop()
            except Exception:
                pass

    @property
    def in_transaction(self) -> bool:
        return bool(self._connection.in_transaction)

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level  # type: ignore[no-any-return]

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        # aiosqlite sets it on the sqlite3 connection in its thread
        inner = self._connection

        def set_level() -> None:
            inner._conn.isolation_level = value

        await_only(inner._execute(set_level))

    def create_function(self, *args: Any, **kw: Any) -> None:
        await_only(self._connection.create_function(*args, **kw))


def _dbapi_module() -> types.ModuleType:
    """sqlite3's exception classes and constants, with an async-adapted connect()."""
    module = types.ModuleType("hermetic_aiosqlite_dbapi")
    for name in dir(sqlite3):
        if name.endswith(("Error", "Warning")) or name in (
            "paramstyle",
            "sqlite_version",
            "sqlite_version_info",
            "Binary",
            "PARSE_DECLTYPES",
            "PARSE_COLNAMES",
        ):
            setattr(module, name, getattr(sqlite3, name))
    return module


class AioSQLiteDriver(PySQLiteDriver):
    name = "aiosqlite"
    module_name = "aiosqlite"
    extra = "aiosqlite"
    is_async = True

    def __init__(self, dbapi: types.ModuleType | None = None) -> None:
        self.aiosqlite = self.load()
        super().__init__(_dbapi_module())

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        cparams.pop("check_same_thread", None)
        pending = self.aiosqlite.connect(*cargs, **cparams)
        thread = getattr(pending, "_thread", None)
        if thread is not None:
            thread.daemon = True  # an unclosed connection must not keep the process alive
        conn = await_only(pending)
        return AsyncAdaptedSQLiteConnection(conn)

    def server_version_info(self, dbapi_conn: Any) -> tuple[int, ...]:
        return tuple(sqlite3.sqlite_version_info)
