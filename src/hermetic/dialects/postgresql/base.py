"""PostgreSQL: flags."""

from __future__ import annotations

from typing import Any, ClassVar

from hermetic.dialects.base import Dialect

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
    "psycopg2": {
        # psycopg2 registers json/jsonb loaders by default, but not uuid (str both
        # ways unless extras.register_uuid() is called) and returns bytea as memoryview
        "driver_decodes_json": True,
        "driver_returns_memoryview": True,
    },
}


class PGDialect(Dialect):
    name = "postgresql"
    supports_server_side_cursors = True
    default_schema_name = "public"
    type_names: ClassVar[dict[str, str]] = {"LargeBinary": "BYTEA"}
    supports_native_enum = True
    supports_native_uuid = True
    supports_native_interval = True
    supports_native_array = True

    def __init__(self, driver: str, paramstyle: str, *args: Any, **kw: Any) -> None:
        super().__init__(driver, paramstyle, *args, **kw)
        for flag, value in _DRIVER_TRAITS.get(driver, {}).items():
            setattr(self, flag, value)

    def empty_set_expression(self, type_: Any) -> str:
        affinity = getattr(type_, "_type_affinity", None)
        name = _CAST_NAMES.get(getattr(affinity, "__name__", ""), "INTEGER")
        return f"SELECT CAST(NULL AS {name}) WHERE 1!=1"
