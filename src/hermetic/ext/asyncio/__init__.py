"""``hermetic.ext.asyncio``: asyncio engines, connections and sessions over
asyncpg, psycopg and aiosqlite (SQLAlchemy 2.0's ``sqlalchemy.ext.asyncio`` API)."""

from __future__ import annotations

from hermetic.ext.asyncio.engine import (
    AsyncConnection,
    AsyncEngine,
    AsyncTransaction,
    async_engine_from_config,
    create_async_engine,
)
from hermetic.ext.asyncio.result import (
    AsyncMappingResult,
    AsyncResult,
    AsyncScalarResult,
    AsyncTupleResult,
)
from hermetic.ext.asyncio.session import (
    AsyncAttrs,
    AsyncSession,
    AsyncSessionTransaction,
    async_object_session,
    async_scoped_session,
    async_session,
    async_sessionmaker,
)

__all__ = [
    "AsyncAttrs",
    "AsyncConnection",
    "AsyncEngine",
    "AsyncMappingResult",
    "AsyncResult",
    "AsyncScalarResult",
    "AsyncSession",
    "AsyncSessionTransaction",
    "AsyncTransaction",
    "AsyncTupleResult",
    "async_engine_from_config",
    "async_object_session",
    "async_scoped_session",
    "async_session",
    "async_sessionmaker",
    "create_async_engine",
]
