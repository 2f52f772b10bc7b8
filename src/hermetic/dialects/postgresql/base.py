"""PostgreSQL: flags."""

from __future__ import annotations

from typing import Any

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


class PGDialect(Dialect):
    name = "postgresql"
    supports_server_side_cursors = True
    default_schema_name = "public"

    def empty_set_expression(self, type_: Any) -> str:
        affinity = getattr(type_, "_type_affinity", None)
        name = _CAST_NAMES.get(getattr(affinity, "__name__", ""), "INTEGER")
        return f"SELECT CAST(NULL AS {name}) WHERE 1!=1"
