"""sqlite3 (the standard library) behind the driver port.

Transactions follow the sqlite3 module's own ("legacy") control: a transaction opens
before the first INSERT/UPDATE/DELETE/REPLACE, so plain reads and PRAGMAs never take a
write lock. ``prepare_savepoint`` sends an explicit ``BEGIN`` first, so that releasing the
outermost SAVEPOINT does not commit (SQLite treats a SAVEPOINT outside a transaction as
``BEGIN``). ``check_same_thread`` is off: the pool, not the driver, guarantees that one
holder at a time uses a connection.
"""

from __future__ import annotations

import os
import re
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

from hermetic import exc
from hermetic.drivers.base import (
    BindProblem,
    DBAPIConnection,
    DriverBase,
    kind_of,
    normalize_isolation_level,
)

if TYPE_CHECKING:
    from hermetic.engine.url import URL

# Keyword arguments of sqlite3.connect() that may come in the URL's query string.
_CONNECT_KWARGS: dict[str, type] = {
    "timeout": float,
    "detect_types": int,
    "check_same_thread": bool,
    "cached_statements": int,
    "uri": bool,
}


# sqlite3's messages: "Error binding parameter 2: type 'dict' is not supported" (Python
# 3.11+, 1-based), "Error binding parameter 1 - probably unsupported type." (3.10,
# 0-based), "Error binding parameter :name - ..." (named parameters, 3.10).
_BIND_ERROR = re.compile(
    r"Error binding parameter (?::(?P<name>\w+)|(?P<pos>\d+))"
    r"(?:: type '(?P<type>[\w.]+)'| -)"
)
_SQLITE_TYPES = "int, float, str, bytes or None"


def _too_big_for_sqlite(v: Any) -> bool:
    return isinstance(v, int) and not -(2**63) <= v < 2**63


def _coerce(kind: type, value: str) -> Any:
    if kind is bool:
        return value.lower() in ("1", "true", "yes", "on")
    return kind(value)


class PySQLiteDriver(DriverBase):
    name = "pysqlite"
    dialect_name = "sqlite"
    module_name = "sqlite3"
    paramstyle = "qmark"
    disconnect_messages = ("cannot operate on a closed database",)
    isolation_levels: ClassVar[frozenset[str]] = frozenset(
        {"SERIALIZABLE", "READ UNCOMMITTED", "AUTOCOMMIT"}
    )

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        database = url.database or ":memory:"
        query = dict(url.query)
        opts: dict[str, Any] = {"check_same_thread": False}
        for key, kind in _CONNECT_KWARGS.items():
            if key in query:
                value = query.pop(key)
                if isinstance(value, tuple):
                    value = value[-1]
                opts[key] = _coerce(kind, value)
        if "isolation_level" in query:
            level = query.pop("isolation_level")
            opts["isolation_level"] = None if str(level).upper() == "AUTOCOMMIT" else level
        if opts.get("uri"):
            if query:
                from urllib.parse import urlencode

                database = f"{database}?{urlencode(query, doseq=True)}"
        else:
            if query:
                # SQLAlchemy warns and ignores them (a warning, not an error, so URLs
                # that work there keep working)
                warnings.warn(
                    f"Query string argument(s) {sorted(query)} are not accepted by the "
                    f"pysqlite driver and are being ignored; known ones are "
                    f"{sorted(_CONNECT_KWARGS)} and isolation_level. SQLite URI options "
                    "such as mode=ro need uri=true and a database starting with file:",
                    exc.HermeticWarning,
                    stacklevel=2,
                )
            if database != ":memory:" and not database.startswith("file:"):
                database = os.path.expanduser(database)
        return [database], opts

    @staticmethod
    def is_memory(url: URL) -> bool:
        db = url.database
        if not db or db == ":memory:":
            return True
        return db.startswith("file:") and "mode=memory" in db

    def needs_reset(self, dbapi_conn: DBAPIConnection) -> bool:
        return bool(dbapi_conn.in_transaction)

    def prepare_savepoint(self, dbapi_conn: DBAPIConnection) -> None:
        if not dbapi_conn.in_transaction and dbapi_conn.isolation_level is not None:
            dbapi_conn.execute("BEGIN")

    def set_isolation_level(self, dbapi_conn: DBAPIConnection, level: str) -> None:
        norm = normalize_isolation_level(level)
        if norm not in self.isolation_levels:
            raise exc.ArgumentError(
                f"Invalid isolation level {level!r} for SQLite; "
                f"choose one of {sorted(self.isolation_levels)}"
            )
        if norm == "AUTOCOMMIT":
            dbapi_conn.isolation_level = None
            return
        dbapi_conn.isolation_level = ""
        flag = 1 if norm == "READ UNCOMMITTED" else 0
        dbapi_conn.execute(f"PRAGMA read_uncommitted = {flag}")

    def is_autocommit(self, dbapi_conn: DBAPIConnection) -> bool:
        return dbapi_conn.isolation_level is None

    def get_isolation_level(self, dbapi_conn: DBAPIConnection) -> str:
        value = dbapi_conn.execute("PRAGMA read_uncommitted").fetchone()[0]
        return "READ UNCOMMITTED" if value else "SERIALIZABLE"

    def server_version_info(self, dbapi_conn: DBAPIConnection) -> tuple[int, ...]:
        return tuple(self.dbapi.sqlite_version_info)

    def bind_problem(self, e: BaseException) -> BindProblem | None:
        text = str(e)
        if isinstance(e, OverflowError) and "SQLite INTEGER" in text:
            return BindProblem(
                "SQLite integers are 64-bit; store larger numbers as text or with a Numeric column",
                matches=_too_big_for_sqlite,
            )
        m = _BIND_ERROR.search(text)
        if m is None:
            return None
        position = None
        if m.group("pos") is not None:
            # the newer message (with the type) counts from 1, the older from 0
            position = int(m.group("pos")) - (1 if m.group("type") else 0)
        type_name = m.group("type")
        return BindProblem(
            f"sqlite3 binds only {_SQLITE_TYPES}: convert the value first (json.dumps() "
            "for a dict or list, str() for others), or give the column a type whose bind "
            "processor converts it (JSON, PickleType, a TypeDecorator)",
            position=position,
            name=m.group("name"),
            matches=kind_of(type_name) if type_name else None,
        )
