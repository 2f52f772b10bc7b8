"""Engines, connections, results and database URLs (``hermetic.engine``)."""

from hermetic.engine.base import (
    Connection,
    Engine,
    NestedTransaction,
    OptionEngine,
    RootTransaction,
    Transaction,
)
from hermetic.engine.create import create_engine, engine_from_config
from hermetic.engine.reflection import Inspector, ObjectKind, ObjectScope
from hermetic.engine.result import (
    ChunkedIteratorResult,
    CursorResult,
    FrozenResult,
    IteratorResult,
    MappingResult,
    Result,
    ResultMetaData,
    ScalarResult,
)
from hermetic.engine.row import Row, RowMapping
from hermetic.engine.url import URL, make_url

__all__ = [
    "URL",
    "ChunkedIteratorResult",
    "Connection",
    "CursorResult",
    "Engine",
    "FrozenResult",
    "Inspector",
    "IteratorResult",
    "MappingResult",
    "NestedTransaction",
    "ObjectKind",
    "ObjectScope",
    "OptionEngine",
    "Result",
    "ResultMetaData",
    "Row",
    "RowMapping",
    "RootTransaction",
    "ScalarResult",
    "Transaction",
    "create_engine",
    "engine_from_config",
    "make_url",
]
