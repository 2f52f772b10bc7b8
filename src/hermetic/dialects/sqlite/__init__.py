"""The SQLite dialect."""

from hermetic.dialects.sqlite.base import SQLiteDialect

dialect = SQLiteDialect

__all__ = ["SQLiteDialect", "dialect"]
