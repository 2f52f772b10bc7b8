"""PostgreSQL ``insert()`` with ``ON CONFLICT`` (``on_conflict_do_nothing()``,
``on_conflict_do_update()``, ``excluded``). Pure: builds and renders, no I/O."""

from __future__ import annotations

from typing import Any

from hermetic.sql.dml import OnConflictCompiler, OnConflictInsert, dml_for


class PGInsertCompiler(OnConflictCompiler):
    """PostgreSQL's rendering of ON CONFLICT (``ON CONSTRAINT name`` included)."""


class Insert(OnConflictInsert):
    """``INSERT ... ON CONFLICT ...`` for PostgreSQL."""

    _compiler_cls = PGInsertCompiler


def insert(table: Any) -> Insert:
    """A PostgreSQL ``INSERT`` with the ON CONFLICT methods."""
    return dml_for(Insert, table)


__all__ = ["Insert", "PGInsertCompiler", "insert"]
