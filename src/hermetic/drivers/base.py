"""The driver port: the only place hermetic touches a PEP 249 module.

A :class:`Driver` adapts one DBAPI module (sqlite3, psycopg, psycopg2 ...) to the few
operations the pool and the engine need: connect, ping, detect a disconnect, reset,
isolation levels, savepoint preparation and server-side cursors. Everything above this
layer speaks to a driver through these methods and never imports a DBAPI module itself.

Drivers load their DBAPI module lazily (``load()``), so ``import hermetic`` never imports
psycopg; a missing module raises :class:`hermetic.exc.NoSuchModuleError` naming the extra
to install.
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from hermetic import exc

if TYPE_CHECKING:
    from hermetic.engine.url import URL

DBAPIConnection = Any
DBAPICursor = Any
_first = operator.itemgetter(0)


@dataclass(frozen=True)
class BindProblem:
    """What a driver error says about the bound value it could not take, for the engine
    to name the parameter: its position (0-based, in the order the driver numbers the
    statement's distinct parameters) or name when the message gives one, and/or a test
    that picks the offending value out of the parameters; ``hint`` says why and what
    to do."""

    hint: str
    position: int | None = None
    name: str | None = None
    matches: Callable[[Any], bool] | None = None


def kind_of(type_name: str) -> Callable[[Any], bool]:
    """A test for values whose type is named ``type_name`` (as drivers quote it)."""
    short = type_name.rsplit(".", 1)[-1]
    return lambda v: type(v).__name__ == short


class Driver(Protocol):
    """What the pool and the engine require of a driver adapter."""

    name: str
    dialect_name: str
    paramstyle: str
    dbapi: ModuleType
    supports_server_side_cursors: bool
    reuse_cursors: bool

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]: ...
    def connect(self, *cargs: Any, **cparams: Any) -> DBAPIConnection: ...
    def on_connect(self, dbapi_conn: DBAPIConnection) -> None: ...
    def is_disconnect(self, e: BaseException, dbapi_conn: DBAPIConnection | None) -> bool: ...
    def ping(self, dbapi_conn: DBAPIConnection) -> None: ...
    def needs_reset(self, dbapi_conn: DBAPIConnection) -> bool: ...
    def rollback(self, dbapi_conn: DBAPIConnection) -> None: ...
    def commit(self, dbapi_conn: DBAPIConnection) -> None: ...
    def close(self, dbapi_conn: DBAPIConnection) -> None: ...
    def prepare_savepoint(self, dbapi_conn: DBAPIConnection) -> None: ...
    def set_isolation_level(self, dbapi_conn: DBAPIConnection, level: str) -> None: ...
    def get_isolation_level(self, dbapi_conn: DBAPIConnection) -> str: ...
    def is_autocommit(self, dbapi_conn: DBAPIConnection) -> bool: ...
    def server_side_cursor(self, dbapi_conn: DBAPIConnection) -> DBAPICursor: ...
    def server_version_info(self, dbapi_conn: DBAPIConnection) -> tuple[int, ...]: ...
    def result_keys(self, cursor: DBAPICursor) -> tuple[str, ...] | None: ...
    def result_width(self, cursor: DBAPICursor) -> int | None: ...
    def result_types(self, cursor: DBAPICursor) -> tuple[Any, ...] | None: ...
    def is_error(self, e: BaseException) -> bool: ...
    def bind_problem(self, e: BaseException) -> BindProblem | None: ...
    def fetchall_rows(self, cursor: DBAPICursor, make_row: Callable[[Any], Any]) -> list[Any]: ...

    builds_rows: bool
    prefetch_rows: int


class DriverBase:
    """Defaults that hold for any PEP 249 driver; subclasses override what differs."""

    name: ClassVar[str] = ""
    dialect_name: ClassVar[str] = ""
    module_name: ClassVar[str] = ""
    extra: ClassVar[str] = ""  # the pip extra that installs the module
    paramstyle: str = "qmark"
    supports_server_side_cursors: ClassVar[bool] = False
    # Whether a cursor whose result was consumed or closed can run the next statement.
    # True only where cursors hold no server-side state (psycopg's client-side cursors);
    # a sqlite3 cursor keeps its statement, and with it a read lock, until closed.
    reuse_cursors: ClassVar[bool] = False
    # Whether fetchall_rows() has the driver build the rows as it decodes them.
    builds_rows: ClassVar[bool] = False
    # Results of at most this many rows are read at once and their cursor reused at
    # once (for client-side cursors that cost more to make than a few rows to decode).
    prefetch_rows: ClassVar[int] = 0
    # Substrings of error messages that mean "this connection is dead".
    disconnect_messages: ClassVar[tuple[str, ...]] = ()

    dbapi: ModuleType

    def __init__(self, dbapi: ModuleType | None = None) -> None:
        self.dbapi = dbapi if dbapi is not None else self.load()
        self._error_base: type[BaseException] = getattr(self.dbapi, "Error", Exception)

    @classmethod
    def load(cls) -> ModuleType:
        try:
            return importlib.import_module(cls.module_name)
        except ImportError as err:
            hint = (
                f"pip install 'hermetic[{cls.extra}]'"
                if cls.extra
                else f"pip install {cls.module_name}"
            )
            raise exc.NoSuchModuleError(
                f"The {cls.dialect_name}+{cls.name} driver needs the Python module "
                f"{cls.module_name!r}, which is not installed ({err}). Install it with: {hint}"
            ) from err

    # -- connecting ------------------------------------------------------------------
    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        opts = url.translate_connect_args()
        opts.update(url.query)
        return [], opts

    def connect(self, *cargs: Any, **cparams: Any) -> DBAPIConnection:
        return self.dbapi.connect(*cargs, **cparams)

    def on_connect(self, dbapi_conn: DBAPIConnection) -> None:
        """Per-connection setup run once, before any user event."""

    # -- health ----------------------------------------------------------------------
    def is_error(self, e: BaseException) -> bool:
        return isinstance(e, self._error_base)

    def bind_problem(self, e: BaseException) -> BindProblem | None:
        """What ``e`` (raised by an execute) says about a bound value the driver or the
        database could not take; None when it is not about a value."""
        return None

    def is_disconnect(self, e: BaseException, dbapi_conn: DBAPIConnection | None) -> bool:
        if not isinstance(e, self._error_base):
            return False
        text = str(e).lower()
        return any(m in text for m in self.disconnect_messages)

    def ping(self, dbapi_conn: DBAPIConnection) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute("SELECT 1")
            cur.fetchall()
        finally:
            cur.close()

    # -- transactions ------------------------------------------------------------------
    def needs_reset(self, dbapi_conn: DBAPIConnection) -> bool:
        """True when a rollback is needed to give the connection back clean."""
        return True

    def rollback(self, dbapi_conn: DBAPIConnection) -> None:
        dbapi_conn.rollback()

    def commit(self, dbapi_conn: DBAPIConnection) -> None:
        dbapi_conn.commit()

    def close(self, dbapi_conn: DBAPIConnection) -> None:
        dbapi_conn.close()

    def prepare_savepoint(self, dbapi_conn: DBAPIConnection) -> None:
        """Make sure a real transaction is open before SAVEPOINT is sent."""

    # -- isolation ---------------------------------------------------------------------
    def set_isolation_level(self, dbapi_conn: DBAPIConnection, level: str) -> None:
        raise exc.ArgumentError(f"The {self.name} driver cannot set isolation levels")

    def get_isolation_level(self, dbapi_conn: DBAPIConnection) -> str:
        """The actual isolation level (as SQLAlchemy's: never ``AUTOCOMMIT``, which is a
        driver setting on top of the level; see :meth:`is_autocommit`)."""
        raise exc.ArgumentError(f"The {self.name} driver cannot report isolation levels")

    def is_autocommit(self, dbapi_conn: DBAPIConnection) -> bool:
        """Whether the driver is in autocommit mode."""
        return False

    # -- cursors -----------------------------------------------------------------------
    def server_side_cursor(self, dbapi_conn: DBAPIConnection) -> DBAPICursor:
        return dbapi_conn.cursor()

    def server_version_info(self, dbapi_conn: DBAPIConnection) -> tuple[int, ...]:
        return ()

    def result_keys(self, cursor: DBAPICursor) -> tuple[str, ...] | None:
        """The column names of the last execution's rows; None when it returned none."""
        description = cursor.description
        if description is None:
            return None
        return tuple(map(_first, description))

    def result_width(self, cursor: DBAPICursor) -> int | None:
        """The number of columns of the last execution's rows; None when it returned
        none (cheaper than their names, for a statement whose names are known)."""
        description = cursor.description
        return None if description is None else len(description)

    def result_types(self, cursor: DBAPICursor) -> tuple[Any, ...] | None:
        """The type codes (``cursor.description``'s second field) of the last
        execution's columns, which types' result processors may consult; None when it
        returned no rows."""
        description = cursor.description
        if description is None:
            return None
        return tuple([d[1] for d in description])

    def fetchall_rows(self, cursor: DBAPICursor, make_row: Callable[[Any], Any]) -> list[Any]:
        """The cursor's remaining rows, each made by ``make_row`` from the driver's row.
        Drivers with ``builds_rows`` pass ``make_row`` to the driver, which calls it on
        each row as it decodes it: no list of tuples to build and walk again."""
        return [make_row(raw) for raw in cursor.fetchall()]


class GenericDriver(DriverBase):
    """Plain PEP 249 operations for a pool built from a bare ``creator`` callable (no
    known driver): rollback on return, ``SELECT 1`` pings, no disconnect detection."""

    name = "dbapi"

    def __init__(self) -> None:  # no module to load: the creator brings connections
        self._error_base = Exception


def normalize_isolation_level(level: str) -> str:
    """``"read committed"`` / ``"READ_COMMITTED"`` -> ``"READ COMMITTED"``."""
    return level.replace("_", " ").upper().strip()
