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
    # INSERT/UPDATE/DELETE ... RETURNING, also on a multi-row INSERT (SQLite 3.35+).
    supports_returning: ClassVar[bool] = True
    supports_multirow_returning: ClassVar[bool] = True
    # RETURNING rows of a multi-row INSERT come back in VALUES order (PostgreSQL's
    # executor inserts and returns rows in input order; SQLite documents no order).
    returning_preserves_order: ClassVar[bool] = False
    # executemany() reports the total of rows matched by all its statements.
    supports_sane_multi_rowcount: ClassVar[bool] = True
    # The driver's cursor.lastrowid is the key of the row just inserted (SQLite's rowid);
    # elsewhere inserted keys come back with RETURNING.
    postfetch_lastrowid: ClassVar[bool] = False
    # Whether the driver hands back datetime/Decimal objects itself; when not, the
    # types' processors convert (SQLite stores them as text / floats).
    supports_native_datetime: ClassVar[bool] = True
    supports_native_decimal: ClassVar[bool] = True
    # SQLite cannot say OFFSET without LIMIT: it renders LIMIT -1 OFFSET n.
    offset_requires_limit: ClassVar[bool] = False
    # SELECT DISTINCT ON (...) exists (PostgreSQL).
    supports_distinct_on: ClassVar[bool] = False
    # SELECT ... FOR UPDATE / FOR SHARE exists (SQLite has no row locks).
    supports_for_update: ClassVar[bool] = True
    # FETCH FIRST n ROWS ONLY | WITH TIES (SQL:2008); without it fetch(n) renders
    # LIMIT n, and fetch() with with_ties/percent cannot be rendered.
    supports_fetch_first: ClassVar[bool] = False
    # FETCH FIRST n PERCENT ROWS.
    supports_fetch_percent: ClassVar[bool] = False
    # UPDATE t SET ... FROM other WHERE ... (an UPDATE whose criteria name other tables).
    supports_update_from: ClassVar[bool] = False
    # DELETE FROM t USING other WHERE ... (a DELETE whose criteria name other tables).
    supports_delete_using: ClassVar[bool] = False
    # RETURNING of UPDATE ... FROM may name the FROM tables' columns.
    returning_sees_update_from: ClassVar[bool] = True
    # A row-value IN list is written (a, b) IN (VALUES (1, 2), ...).
    tuple_in_values: ClassVar[bool] = False
    # a IS [NOT] DISTINCT FROM b exists (else IS NOT / IS, SQLite's null-safe forms).
    supports_is_distinct_from: ClassVar[bool] = True
    # x = ANY (...) / x > ALL (...) exist.
    supports_any_all: ClassVar[bool] = True
    # JOIN LATERAL (SELECT ...) exists.
    supports_lateral: ClassVar[bool] = True
    # integer / integer truncates: true division (Python's "/") casts the divisor with
    # numeric_division_template, and floor division ("//") of integers is a plain "/".
    div_is_floordiv: ClassVar[bool] = True
    numeric_division_template: ClassVar[str] = "CAST({} AS NUMERIC)"
    # ILIKE exists (PostgreSQL); elsewhere it renders lower(x) LIKE lower(y).
    supports_ilike: ClassVar[bool] = False
    # EXTRACT(field FROM x) exists; elsewhere ``extract_templates`` gives the SQL.
    supports_extract: ClassVar[bool] = True
    extract_templates: ClassVar[dict[str, str]] = {}
    # SQL type names that differ from the generic ones, for CAST and (later) DDL.
    type_names: ClassVar[dict[str, str]] = {}
    # Type capabilities read by sql/sqltypes.py when it picks processors (once per
    # statement). "native" means the database has the type and the driver adapts it.
    supports_native_enum: ClassVar[bool] = False
    supports_native_uuid: ClassVar[bool] = False
    supports_native_interval: ClassVar[bool] = False
    supports_native_array: ClassVar[bool] = False
    # What the driver hands back on its own (may differ between drivers of one
    # database; a dialect sets them per driver in __init__):
    driver_binds_uuid: bool = False  # uuid.UUID objects adapt as parameters
    driver_returns_uuid: bool = False  # uuid columns come back as uuid.UUID
    driver_decodes_json: bool = False  # json/jsonb columns come back parsed
    driver_returns_ip_objects: bool = False  # inet/cidr come back as ipaddress objects
    driver_returns_memoryview: bool = False  # binary columns come back as memoryview
    # Literal values written into SQL text (literal_binds, DDL); see sql/sqltypes.py.
    # A string holding a backslash is written E'...' with backslashes doubled.
    literal_backslash_escapes: ClassVar[bool] = False
    # bytes: the template takes the hex digits
    binary_literal_template: ClassVar[str] = "X'{}'"
    # SQL for the floats "inf", "-inf", "nan" (and "-0.0" when a plain -0.0 would lose
    # its sign), written inside CAST(... AS type); a missing entry: cannot be stored
    float_literal_specials: ClassVar[dict[str, str]] = {}
    default_schema_name: str | None = None
    # A statement whose leading keyword is here does not open a transaction on drivers
    # that begin transactions lazily (SQLite's PRAGMA, for instance).
    non_transactional_keywords: ClassVar[frozenset[str]] = frozenset()

    # DDL (sql/ddl.py). A type whose visit name is a key here renders as the type of the
    # visit name it maps to ("large_binary" -> "BYTEA").
    ddl_type_names: ClassVar[dict[str, str]] = {}
    # An autoincrementing integer primary key renders as this type (by the visit name of
    # the generic type: "integer", "big_integer", "small_integer"); empty: plain type.
    ddl_serial_types: ClassVar[dict[str, str]] = {}
    # ALTER TABLE ... ADD/DROP CONSTRAINT (foreign keys with use_alter, FK cycles).
    supports_alter: ClassVar[bool] = True
    # COMMENT ON TABLE / COLUMN.
    supports_comments: ClassVar[bool] = False

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
        self.positional = paramstyle in ("qmark", "format", "numeric", "numeric_dollar")
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
        valid SQL, and ``IN`` / ``NOT IN`` an empty set must be false / true. ``type_``
        is a tuple of types for a row-value IN (one column each)."""
        width = len(type_) if isinstance(type_, tuple) else 1
        return "SELECT " + ", ".join(["1"] * width) + " WHERE 1!=1"

    def has_table_sql(self, schema: str | None) -> str:
        """A query with ``:name`` (and ``:schema`` when given) that returns a row when the
        table exists."""
        if schema is None:
            return "SELECT table_name FROM information_schema.tables WHERE table_name = :name"
        return (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_name = :name AND table_schema = :schema"
        )

    def has_type_sql(self, schema: str | None) -> str | None:
        """Like :meth:`has_table_sql` for a named type (native enums), or None."""
        return None

    def json_getitem(self, path: tuple[str | int, ...], mode: str) -> tuple[str, str]:
        """SQL written before and after a JSON column to read the value at ``path`` as
        ``mode`` ("json", "string", "integer", "float", "boolean"); keys are escaped."""
        raise NotImplementedError(f"JSON paths are not supported on {self.name}")

    def default_pool_kind(self, url: URL) -> str:
        """Which pool SQLAlchemy 2.x picks for this URL: "queue", "singleton" or "null"."""
        return "queue"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}+{self.driver}>"


def sql_string(value: str) -> str:
    """A SQL string literal with quotes doubled."""
    return "'" + value.replace("'", "''") + "'"
