"""hermetic: SQLAlchemy 2.0's API on a faster core, with a sealed, self-explaining pool.

``import hermetic as sa`` gives the names SQLAlchemy users import from ``sqlalchemy``.
"""

from __future__ import annotations

from hermetic import event, exc, pool, types
from hermetic.engine import (
    URL,
    Connection,
    CursorResult,
    Engine,
    Result,
    Row,
    RowMapping,
    create_engine,
    engine_from_config,
    make_url,
)
from hermetic.sql.elements import bindparam, column, text
from hermetic.types import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    Unicode,
    UnicodeText,
)

__version__ = "0.1.0"

__all__ = [
    "URL",
    "BigInteger",
    "Boolean",
    "Connection",
    "CursorResult",
    "Date",
    "DateTime",
    "Double",
    "Engine",
    "Float",
    "Integer",
    "LargeBinary",
    "Numeric",
    "Result",
    "Row",
    "RowMapping",
    "SmallInteger",
    "String",
    "Text",
    "Time",
    "Unicode",
    "UnicodeText",
    "bindparam",
    "column",
    "create_engine",
    "engine_from_config",
    "event",
    "exc",
    "make_url",
    "pool",
    "text",
    "types",
]
