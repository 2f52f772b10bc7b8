"""What the PostgreSQL drivers (psycopg 3, psycopg2) share: URL translation and the
messages by which a dead server connection is recognised."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from hermetic.drivers.base import (
    BindProblem,
    DBAPIConnection,
    DriverBase,
    kind_of,
    normalize_isolation_level,
)

if TYPE_CHECKING:
    from hermetic.engine.url import URL

PG_ISOLATION_LEVELS = frozenset(
    {"READ COMMITTED", "READ UNCOMMITTED", "REPEATABLE READ", "SERIALIZABLE", "AUTOCOMMIT"}
)

# Messages about bound values: the drivers' own (a type they cannot send) and the
# server's (a value it cannot read as the column's type). psycopg sends values apart from
# the SQL, and the server names the parameter in the error's context ("unnamed portal
# parameter $2"); psycopg2 writes them into the SQL, so only the value identifies it.
_CANNOT_ADAPT = re.compile(r"can(?:not|'t) adapt type '(?P<type>[\w.]+)'")
_INVALID_INPUT = re.compile(
    r'invalid input (?:syntax|value) for (?:type )?(?P<type>[\w ]+): "(?P<value>.*)"'
)
_TOO_LONG = re.compile(r"value too long for type character(?: varying)?\((?P<n>\d+)\)")
_OUT_OF_RANGE = re.compile(r"\b(?P<type>smallint|integer|bigint) out of range")
_PORTAL_PARAM = re.compile(r"parameter \$(?P<n>\d+)")
_INT_RANGES = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}


def _pg_bind_problem(e: BaseException) -> BindProblem | None:
    text = str(e)
    m = _CANNOT_ADAPT.search(text)
    if m is not None:
        return BindProblem(
            "the driver has no adapter for this Python type: convert the value first "
            "(json.dumps() or a JSON/JSONB column for a dict, str() for others), or give "
            "the column a type whose bind processor converts it",
            matches=kind_of(m.group("type")),
        )
    if "cannot contain NUL" in text:
        return BindProblem(
            "PostgreSQL text cannot hold NUL (\\x00) characters: strip them, or store "
            "the value as bytes (LargeBinary)",
            matches=lambda v: isinstance(v, str) and "\x00" in v,
        )
    context = getattr(getattr(e, "diag", None), "context", None) or ""
    p = _PORTAL_PARAM.search(context)
    position = int(p.group("n")) - 1 if p is not None else None
    m = _INVALID_INPUT.search(text)
    if m is not None:
        wanted, shown = m.group("type"), m.group("value")
        return BindProblem(
            f"PostgreSQL cannot read it as {wanted}: pass a value of the column's Python "
            "type (an int for an integer column ...), or cast it in SQL",
            position=position,
            matches=lambda v: v is not None and str(v) == shown,
        )
    m = _TOO_LONG.search(text)
    if m is not None:
        limit = int(m.group("n"))
        return BindProblem(
            f"the column holds at most {limit} characters: shorten the value or widen the column",
            position=position,
            matches=lambda v: isinstance(v, str) and len(v) > limit,
        )
    m = _OUT_OF_RANGE.search(text)
    if m is not None:
        kind = m.group("type")
        bound = _INT_RANGES[kind]
        return BindProblem(
            f"the value does not fit in a PostgreSQL {kind}: use a wider column type "
            "(BigInteger, Numeric) or a smaller value",
            position=position,
            matches=lambda v: isinstance(v, int) and not -bound <= v < bound,
        )
    return None


# SQLSTATEs of the admin-shutdown / crash family: the server ended the session.
DISCONNECT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "08000", "08003", "08006"})


class PGDriverBase(DriverBase):
    dialect_name = "postgresql"
    paramstyle = "pyformat"
    supports_server_side_cursors = True
    reuse_cursors = True
    isolation_levels: ClassVar[frozenset[str]] = PG_ISOLATION_LEVELS
    disconnect_messages: ClassVar[tuple[str, ...]] = (
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

    def bind_problem(self, e: BaseException) -> BindProblem | None:
        return _pg_bind_problem(e)

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
