"""The PostgreSQL dialect."""

from hermetic.dialects.postgresql.base import PGDialect

dialect = PGDialect

__all__ = ["PGDialect", "dialect"]
