"""``hermetic.sql``: the SQL expression language (pure: no I/O)."""

from hermetic.sql.elements import (
    BindParameter,
    ColumnClause,
    TextClause,
    TextualSelect,
    bindparam,
    column,
    text,
)

__all__ = [
    "BindParameter",
    "ColumnClause",
    "TextClause",
    "TextualSelect",
    "bindparam",
    "column",
    "text",
]
