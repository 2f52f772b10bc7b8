"""``hermetic.pool``: connection pools with holder tracking, leak detection and stats."""

from hermetic.pool.base import (
    ConnectionPoolEntry,
    ConnectionRecord,
    Holder,
    Pool,
    PoolProxiedConnection,
    ResetState,
    _ConnectionFairy,
)
from hermetic.pool.impl import (
    AssertionPool,
    NullPool,
    QueuePool,
    SingletonThreadPool,
    StaticPool,
)
from hermetic.pool.policy import PoolStats

# The asyncio-adapted names SQLAlchemy users import; the asyncio issue gives them their
# own waiting strategy. Until then they are the thread-safe pools.
AsyncAdaptedQueuePool = QueuePool
FallbackAsyncAdaptedQueuePool = QueuePool

__all__ = [
    "AssertionPool",
    "AsyncAdaptedQueuePool",
    "ConnectionPoolEntry",
    "ConnectionRecord",
    "FallbackAsyncAdaptedQueuePool",
    "Holder",
    "NullPool",
    "Pool",
    "PoolProxiedConnection",
    "PoolStats",
    "QueuePool",
    "ResetState",
    "SingletonThreadPool",
    "StaticPool",
    "_ConnectionFairy",
]
