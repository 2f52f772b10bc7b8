"""Engine, session factory, declarative base and the four lifecycle hooks."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

from app.settings import Settings, settings
from hermetic import text
from hermetic.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from hermetic.orm import DeclarativeBase
from hermetic.pool import NullPool

log = logging.getLogger(__name__)


def build_engine(s: Settings) -> Any:
    kwargs: dict[str, Any] = {"echo": s.database_echo}
    if s.environment == "test":
        kwargs.update(poolclass=NullPool, echo=False)  # each checkout opens, each return closes
    else:
        kwargs.update(
            pool_size=s.database_pool_size,
            max_overflow=s.database_max_overflow,
            pool_recycle=3600,
            pool_pre_ping=True,
        )
    return create_async_engine(s.database_url, **kwargs)


engine = build_engine(settings)
AsyncSessionLocal = async_sessionmaker(
    engine, class_=AsyncSession, expire_on_commit=False, autoflush=False
)


class Base(DeclarativeBase):
    pass


async def get_db() -> AsyncGenerator[AsyncSession, None]:
    """The FastAPI dependency: commit after the handler, roll back if it raised."""
    async with AsyncSessionLocal() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise


async def init_db() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def close_db() -> None:
    await engine.dispose()


async def check_db_connection() -> bool:
    """True when the database answers; False (logged) otherwise. Never raises."""
    try:
        async with AsyncSessionLocal() as session:
            await session.execute(text("SELECT 1"))
        return True
    except Exception:
        log.exception("database health check failed")
        return False
