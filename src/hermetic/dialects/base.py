"""The pure part of a database dialect: capability flags and the few decisions that depend
on the database rather than on the driver. No I/O happens here; drivers (``drivers/``)
do the talking, and the engine composes one of each.

Dialects are declarative: a subclass sets flags and overrides a handful of methods. Code
outside ``dialects/`` asks a dialect (``dialect.supports_x``), never ``dialect.name == ...``.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from hermetic.engine.url import URL


class Dialect:
    """Flags and policies of one database; one instance per engine."""

    name: ClassVar[str] = "default"
    supports_savepoints: ClassVar[bool] = True
    supports_server_side_cursors: ClassVar[bool] = False
    supports_statement_cache: ClassVar[bool] = True
    supports_native_boolean: ClassVar[bool] = True
    supports_multivalues_insert: ClassVar[bool] = True
    # Whether the driver hands back datetime/Decimal objects itself; when not, the
    # types' processors convert (SQLite stores them as text / floats).
    supports_native_datetime: ClassVar[bool] = True
    supports_native_decimal: ClassVar[bool] = True
    default_schema_name: str | None = None
    # A statement whose leading keyword is here does not open a transaction on drivers
    # that begin transactions lazily (SQLite's PRAGMA, for instance).
    non_transactional_keywords: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        driver: str,
        paramstyle: str,
        dbapi: ModuleType | None = None,
        isolation_level: str | None = None,
        **kw: Any,
    ) -> None:
        self.driver = driver
        self.paramstyle = paramstyle
        self.positional = paramstyle in ("qmark", "format", "numeric")
        self.dbapi = dbapi
        self.isolation_level = isolation_level
        self.default_isolation_level: str | None = None
        self.server_version_info: tuple[int, ...] | None = None
        self._kw = kw

    @property
    def loaded_dbapi(self) -> ModuleType | None:
        return self.dbapi

    def empty_set_expression(self, type_: Any) -> str:
        """A subquery with no rows, for ``IN :ids`` given an empty list: ``x IN ()`` is not
        valid SQL, and ``IN`` / ``NOT IN`` an empty set must be false / true."""
        return "SELECT 1 WHERE 1!=1"

    def default_pool_kind(self, url: URL) -> str:
        """Which pool SQLAlchemy 2.x picks for this URL: "queue", "singleton" or "null"."""
        return "queue"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}+{self.driver}>"
