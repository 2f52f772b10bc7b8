"""psycopg 3 behind the driver port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hermetic.drivers._pgcommon import PGDriverBase
from hermetic.drivers.base import DBAPIConnection, DBAPICursor

_TUPLES_OK = 2  # psycopg.pq.ExecStatus.TUPLES_OK


class PsycopgDriver(PGDriverBase):
    name = "psycopg"
    module_name = "psycopg"
    extra = "postgresql"

    def connect(self, *cargs: Any, **cparams: Any) -> DBAPIConnection:
        return self.dbapi.connect(*cargs, **cparams)

    def needs_reset(self, dbapi_conn: DBAPIConnection) -> bool:
        # pq.TransactionStatus.IDLE == 0; anything else (in a transaction, in error,
        # unknown because the connection broke) needs a rollback or a replacement.
        return bool(dbapi_conn.pgconn.transaction_status)

    def ping(self, dbapi_conn: DBAPIConnection) -> None:
        # An empty query is the cheapest round trip; run it outside a transaction so
        # the ping itself never leaves one open.
        if dbapi_conn.autocommit or dbapi_conn.pgconn.transaction_status:
            dbapi_conn.execute("")
            return
        dbapi_conn.autocommit = True
        try:
            dbapi_conn.execute("")
        finally:
            dbapi_conn.autocommit = False

    def set_isolation_level(self, dbapi_conn: DBAPIConnection, level: str) -> None:
        norm = self.check_level(level)
        if norm == "AUTOCOMMIT":
            dbapi_conn.autocommit = True
            dbapi_conn.isolation_level = None  # the server default, as SQLAlchemy does
            return
        dbapi_conn.autocommit = False
        dbapi_conn.isolation_level = self.dbapi.IsolationLevel[norm.replace(" ", "_")]

    def is_autocommit(self, dbapi_conn: DBAPIConnection) -> bool:
        return bool(dbapi_conn.autocommit)

    def get_isolation_level(self, dbapi_conn: DBAPIConnection) -> str:
        if dbapi_conn.isolation_level is not None:
            return str(dbapi_conn.isolation_level.name).replace("_", " ")
        idle = not dbapi_conn.pgconn.transaction_status
        value = dbapi_conn.execute("SHOW transaction_isolation").fetchone()[0]
        if idle:
            dbapi_conn.rollback()
        return str(value).upper()

    def result_keys(self, cursor: DBAPICursor) -> tuple[str, ...] | None:
        # psycopg builds Column objects (with type lookups) for cursor.description; the
        # names alone come straight from the libpq result, about 9x cheaper.
        res = cursor.pgresult
        if res is None or res.status != _TUPLES_OK:
            return super().result_keys(cursor)
        fname = res.fname
        try:
            return tuple([fname(i).decode() for i in range(res.nfields)])
        except UnicodeDecodeError:  # a non-UTF-8 client encoding
            return super().result_keys(cursor)

    # psycopg's row factories: the C loader calls the row maker on each decoded row.
    builds_rows = True
    # A new cursor costs ~10 us (its adapters, and their caches, are per cursor); the
    # whole result is in client memory, so decoding a small one at once costs less.
    prefetch_rows = 16

    def fetchall_rows(self, cursor: DBAPICursor, make_row: Callable[[Any], Any]) -> list[Any]:
        factory = cursor.row_factory
        cursor.row_factory = lambda _cursor: make_row
        try:
            rows: list[Any] = cursor.fetchall()
        finally:
            cursor.row_factory = factory  # the cursor may be reused
        return rows

    def result_width(self, cursor: DBAPICursor) -> int | None:
        res = cursor.pgresult
        if res is None or res.status != _TUPLES_OK:
            return super().result_width(cursor)
        return int(res.nfields)

    def result_types(self, cursor: DBAPICursor) -> tuple[Any, ...] | None:
        res = cursor.pgresult
        if res is None or res.status != _TUPLES_OK:
            return super().result_types(cursor)
        ftype = res.ftype
        return tuple([ftype(i) for i in range(res.nfields)])

    def server_side_cursor(self, dbapi_conn: DBAPIConnection) -> DBAPICursor:
        return dbapi_conn.cursor(name=self.next_cursor_name())

    def server_version_info(self, dbapi_conn: DBAPIConnection) -> tuple[int, ...]:
        v = int(dbapi_conn.info.server_version)
        return (v // 10000, v % 10000) if v >= 100000 else (v // 10000, v // 100 % 100, v % 100)
