"""What the PostgreSQL drivers (psycopg 3, psycopg2) share: URL translation and the
messages by which a dead server connection is recognised."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from hermetic.drivers.base import DBAPIConnection, DriverBase, normalize_isolation_level

if TYPE_CHECKING:
    from hermetic.engine.url import URL

PG_ISOLATION_LEVELS = frozenset(
    {"READ COMMITTED", "READ UNCOMMITTED", "REPEATABLE READ", "SERIALIZABLE", "AUTOCOMMIT"}
)

# SQLSTATEs of the admin-shutdown / crash family: the server ended the session.
DISCONNECT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "08000", "08003", "08006"})


class PGDriverBase(DriverBase):
    dialect_name = "postgresql"
    paramstyle = "pyformat"
    supports_server_side_cursors = True
    reuse_cursors = True
    isolation_levels: ClassVar[frozenset[str]] = PG_ISOLATION_LEVELS
    disconnect_messages = (
        "server closed the connection unexpectedly",
        "terminating connection",
        "connection is closed",
        "connection already closed",
        "the connection is lost",
        "could not receive data from server",
        "could not send data to server",
        "ssl syscall error",
        "consuming input failed",
        "connection has been closed",
        "cursor already closed",
        "lost synchronization with server",
        "no connection to the server",
        "connection not open",
        "bad connection",
    )
    _cursor_seq = 0

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        opts = url.translate_connect_args(username="user", database="dbname")
        for key, value in url.query.items():
            opts[key] = value[-1] if isinstance(value, tuple) else value
        return [], opts

    def is_disconnect(self, e: BaseException, dbapi_conn: DBAPIConnection | None) -> bool:
        if not self.is_error(e):
            return False
        if getattr(e, "sqlstate", None) in DISCONNECT_SQLSTATES:
            return True
        if getattr(e, "pgcode", None) in DISCONNECT_SQLSTATES:
            return True
        if dbapi_conn is not None and getattr(dbapi_conn, "closed", False):
            return True
        return super().is_disconnect(e, dbapi_conn)

    def check_level(self, level: str) -> str:
        from hermetic import exc

        norm = normalize_isolation_level(level)
        if norm not in self.isolation_levels:
            raise exc.ArgumentError(
                f"Invalid isolation level {level!r} for PostgreSQL; "
                f"choose one of {sorted(self.isolation_levels)}"
            )
        return norm

    def next_cursor_name(self) -> str:
        PGDriverBase._cursor_seq += 1
        return f"hermetic_c{PGDriverBase._cursor_seq}"
