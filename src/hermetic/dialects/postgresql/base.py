"""PostgreSQL: flags."""

from __future__ import annotations

from typing import Any, ClassVar

from hermetic.dialects.base import Dialect, sql_string

# SQL type names for the typed empty set of an expanding IN (the column type comparison
# must match on PostgreSQL); the type compiler of the SQL layer supersedes this map.
_CAST_NAMES = {
    "Integer": "INTEGER",
    "SmallInteger": "SMALLINT",
    "BigInteger": "BIGINT",
    "String": "VARCHAR",
    "Float": "FLOAT",
    "Numeric": "NUMERIC",
    "Boolean": "BOOLEAN",
    "DateTime": "TIMESTAMP",
    "Date": "DATE",
    "Time": "TIME",
    "LargeBinary": "BYTEA",
}


# What each driver adapts by itself (see the driver_* flags of Dialect).
_DRIVER_TRAITS: dict[str, dict[str, bool]] = {
    "psycopg": {
        "driver_binds_uuid": True,
        "driver_returns_uuid": True,
        "driver_decodes_json": True,
        "driver_returns_ip_objects": True,
    },
    "psycopg_async": {
        "driver_binds_uuid": True,
        "driver_returns_uuid": True,
        "driver_decodes_json": True,
        "driver_returns_ip_objects": True,
    },
    # asyncpg: uuid.UUID (a subclass) both ways, json decoded by the codec the driver
    # adapter registers, inet/cidr as ipaddress objects
    "asyncpg": {
        "driver_binds_uuid": True,
        "driver_returns_uuid": True,
        "driver_decodes_json": True,
        "driver_returns_ip_objects": True,
    },
    "psycopg2": {
        # psycopg2 registers json/jsonb loaders by default, but not uuid (str both
        # ways unless extras.register_uuid() is called) and returns bytea as memoryview
        "driver_decodes_json": True,
        "driver_returns_memoryview": True,
    },
}


class PGDialect(Dialect):
    returning_preserves_order = True
    name = "postgresql"
    supports_server_side_cursors = True
    default_schema_name = "public"
    supports_ilike = True
    supports_distinct_on = True
    supports_fetch_first = True  # WITH TIES since PostgreSQL 13; no PERCENT
    supports_update_from = True
    supports_delete_using = True
    type_names: ClassVar[dict[str, str]] = {"LargeBinary": "BYTEA"}
    supports_native_enum = True
    supports_native_uuid = True
    supports_native_interval = True
    supports_native_array = True
    supports_comments = True
    # cursor.description type codes (OIDs, psycopg and psycopg2) of float4 and float8
    # columns, whose values the drivers return as Python floats
    float_type_codes: ClassVar[frozenset[int]] = frozenset({700, 701})
    # E'...' whatever standard_conforming_strings is set to; bytea in hex format
    literal_backslash_escapes = True
    binary_literal_template = "E'\\\\x{}'::BYTEA"
    # numeric literals are NUMERIC, which has no -0
    float_literal_specials: ClassVar[dict[str, str]] = {
        "inf": "'Infinity'",
        "-inf": "'-Infinity'",
        "nan": "'NaN'",
        "-0.0": "'-0'",
    }
    ddl_type_names: ClassVar[dict[str, str]] = {
        "large_binary": "BYTEA",
        "double": "DOUBLE_PRECISION",
        "DOUBLE": "DOUBLE_PRECISION",
        "datetime": "TIMESTAMP",
        "DATETIME": "TIMESTAMP",
        "time": "TIME",
    }
    ddl_serial_types: ClassVar[dict[str, str]] = {
        "integer": "SERIAL",
        "big_integer": "BIGSERIAL",
        "small_integer": "SMALLSERIAL",
    }

    def __init__(self, driver: str, paramstyle: str, *args: Any, **kw: Any) -> None:
        super().__init__(driver, paramstyle, *args, **kw)
        for flag, value in _DRIVER_TRAITS.get(driver, {}).items():
            setattr(self, flag, value)

    def has_table_sql(self, schema: str | None) -> str:
        where = "n.nspname = :schema" if schema is not None else "pg_table_is_visible(c.oid)"
        return (
            "SELECT c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relname = :name AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {where}"
        )

    def reflector(self) -> Any:
        """The catalog queries behind ``inspect(engine)`` (dialects/postgresql/reflection.py)."""
        from hermetic.dialects.postgresql.reflection import PGReflector

        return PGReflector(self)

    def has_type_sql(self, schema: str | None) -> str | None:
        where = "n.nspname = :schema" if schema is not None else "pg_type_is_visible(t.oid)"
        return (
            "SELECT t.typname FROM pg_catalog.pg_type t "
            "JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
            f"WHERE t.typname = :name AND {where}"
        )

    def empty_set_expression(self, type_: Any) -> str:
        types = type_ if isinstance(type_, tuple) else (type_,)
        casts = []
        for t in types:
            affinity = getattr(t, "_type_affinity", None)
            name = _CAST_NAMES.get(getattr(affinity, "__name__", ""), "INTEGER")
            casts.append(f"CAST(NULL AS {name})")
        return "SELECT " + ", ".join(casts) + " WHERE 1!=1"

    def json_getitem(self, path: tuple[str | int, ...], mode: str) -> tuple[str, str]:
        if len(path) == 1:
            step = path[0]
            key = str(step) if isinstance(step, int) else sql_string(step)
            op = "->" if mode == "json" else "->>"
            access = f" {op} {key}"
        else:
            items = ",".join('"' + str(p).replace('"', '\\"') + '"' for p in path)
            op = "#>" if mode == "json" else "#>>"
            access = f" {op} {sql_string('{' + items + '}')}"
        cast = _JSON_CASTS.get(mode)
        if cast is None:
            return "", access
        return "CAST(", f"{access} AS {cast})"


_JSON_CASTS = {"integer": "INTEGER", "float": "FLOAT", "boolean": "BOOLEAN"}
