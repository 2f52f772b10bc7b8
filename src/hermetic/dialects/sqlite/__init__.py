"""The SQLite dialect and the type names it exports (the generic ones: SQLite stores
dates, decimals and JSON through the generic types' processors)."""

from hermetic.dialects.sqlite.base import SQLiteDialect
from hermetic.dialects.sqlite.dml import Insert, insert
from hermetic.sql.sqltypes import (
    BLOB,
    BOOLEAN,
    CHAR,
    DATE,
    DATETIME,
    DECIMAL,
    FLOAT,
    INTEGER,
    JSON,
    NUMERIC,
    REAL,
    SMALLINT,
    TEXT,
    TIME,
    TIMESTAMP,
    VARCHAR,
)

dialect = SQLiteDialect

__all__ = [
    "BLOB",
    "BOOLEAN",
    "CHAR",
    "DATE",
    "DATETIME",
    "DECIMAL",
    "FLOAT",
    "INTEGER",
    "JSON",
    "NUMERIC",
    "REAL",
    "SMALLINT",
    "TEXT",
    "TIME",
    "TIMESTAMP",
    "VARCHAR",
    "SQLiteDialect",
    "dialect",
    "Insert",
    "insert",
]
