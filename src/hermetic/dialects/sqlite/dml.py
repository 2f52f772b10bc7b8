"""SQLite ``insert()`` with ``ON CONFLICT`` (the upsert clause of SQLite 3.24+):
``on_conflict_do_nothing()``, ``on_conflict_do_update()`` and ``excluded``. Pure: builds
and renders, no I/O."""

from __future__ import annotations

from typing import Any

from hermetic import exc
from hermetic.sql.compiler import _State
from hermetic.sql.dml import OnConflictClause, OnConflictCompiler, OnConflictInsert, dml_for


class SQLiteInsertCompiler(OnConflictCompiler):
    """SQLite names no constraints in ON CONFLICT: only index columns."""

    def _conflict_target(self, clause: OnConflictClause, state: _State) -> None:
        if clause.constraint is not None:
            raise exc.CompileError("SQLite's ON CONFLICT takes index_elements=, not constraint=")
        super()._conflict_target(clause, state)


class Insert(OnConflictInsert):
    """``INSERT ... ON CONFLICT ...`` for SQLite."""

    _compiler_cls = SQLiteInsertCompiler

    def on_conflict_do_nothing(  # type: ignore[override]
        self, index_elements: Any = None, index_where: Any = None
    ) -> Insert:
        result: Insert = super().on_conflict_do_nothing(None, index_elements, index_where)
        return result

    def on_conflict_do_update(  # type: ignore[override]
        self,
        index_elements: Any = None,
        index_where: Any = None,
        set_: Any = None,
        where: Any = None,
    ) -> Insert:
        result: Insert = super().on_conflict_do_update(
            None, index_elements, index_where, set_, where
        )
        return result


def insert(table: Any) -> Insert:
    """A SQLite ``INSERT`` with the ON CONFLICT methods."""
    return dml_for(Insert, table)


__all__ = ["Insert", "SQLiteInsertCompiler", "insert"]
