"""PostgreSQL: flags."""

from __future__ import annotations

from hermetic.dialects.base import Dialect


class PGDialect(Dialect):
    name = "postgresql"
    supports_server_side_cursors = True
    default_schema_name = "public"
