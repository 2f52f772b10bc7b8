"""psycopg2 behind the driver port."""

from __future__ import annotations

from typing import Any

from hermetic.drivers._pgcommon import PGDriverBase
from hermetic.drivers.base import DBAPIConnection, DBAPICursor


class Psycopg2Driver(PGDriverBase):
    name = "psycopg2"
    module_name = "psycopg2"
    extra = "psycopg2"

    def connect(self, *cargs: Any, **cparams: Any) -> DBAPIConnection:
        return self.dbapi.connect(*cargs, **cparams)

    def needs_reset(self, dbapi_conn: DBAPIConnection) -> bool:
        # TRANSACTION_STATUS_IDLE == 0
        return bool(dbapi_conn.closed or dbapi_conn.get_transaction_status())

    def ping(self, dbapi_conn: DBAPIConnection) -> None:
        was_auto = dbapi_conn.autocommit
        idle = not dbapi_conn.get_transaction_status()
        if idle and not was_auto:
            dbapi_conn.autocommit = True
        try:
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SELECT 1")
            finally:
                cur.close()
        finally:
            if idle and not was_auto:
                dbapi_conn.autocommit = False

    def set_isolation_level(self, dbapi_conn: DBAPIConnection, level: str) -> None:
        norm = self.check_level(level)
        if norm == "AUTOCOMMIT":
            dbapi_conn.autocommit = True
            return
        dbapi_conn.autocommit = False
        dbapi_conn.set_session(isolation_level=norm)

    def is_autocommit(self, dbapi_conn: DBAPIConnection) -> bool:
        return bool(dbapi_conn.autocommit)

    def get_isolation_level(self, dbapi_conn: DBAPIConnection) -> str:
        idle = not dbapi_conn.get_transaction_status()
        cur = dbapi_conn.cursor()
        try:
            cur.execute("SHOW transaction_isolation")
            value = cur.fetchone()[0]
        finally:
            cur.close()
        if idle:
            dbapi_conn.rollback()
        return str(value).upper()

    def server_side_cursor(self, dbapi_conn: DBAPIConnection) -> DBAPICursor:
        return dbapi_conn.cursor(name=self.next_cursor_name())

    def server_version_info(self, dbapi_conn: DBAPIConnection) -> tuple[int, ...]:
        v = int(dbapi_conn.server_version)
        return (v // 10000, v % 10000) if v >= 100000 else (v // 10000, v // 100 % 100, v % 100)
