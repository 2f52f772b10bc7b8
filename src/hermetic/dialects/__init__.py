"""Database dialects (pure): flags, compiler hooks and type maps per database.

``DIALECTS`` maps a URL backend name to its dialect class location."""

from __future__ import annotations

DIALECTS: dict[str, tuple[str, str]] = {
    "sqlite": ("hermetic.dialects.sqlite.base", "SQLiteDialect"),
    "postgresql": ("hermetic.dialects.postgresql.base", "PGDialect"),
}
