"""Public expression constructors (``hermetic.sql.expression``)."""

from hermetic.sql.base import ClauseElement, Executable
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
    "ClauseElement",
    "ColumnClause",
    "Executable",
    "TextClause",
    "TextualSelect",
    "bindparam",
    "column",
    "text",
]
