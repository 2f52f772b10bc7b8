"""asyncio: AsyncEngine / AsyncConnection / AsyncSession on aiosqlite, asyncpg and psycopg's
async connection, against real databases. Each test runs its own event loop with
``asyncio.run`` (no plugin needed), which also exercises engines across loops."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import pg_url, require_pg

from hermetic import ForeignKey, String, exc, func, select, text
from hermetic.ext.asyncio import (
    AsyncAttrs,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from hermetic.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload

ASYNC_BACKENDS = ["sqlite+aiosqlite", "postgresql+asyncpg", "postgresql+psycopg"]


@pytest.fixture(params=ASYNC_BACKENDS)
def async_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
        return
    require_pg()
    yield pg_url(request.param.split("+")[1])


def _models() -> tuple[Any, Any, Any]:
    suffix = uuid.uuid4().hex[:8]

    class Base(AsyncAttrs, DeclarativeBase):
        pass

    class User(Base):
        __tablename__ = f"au_{suffix}"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(50))
        orders: Mapped[list[Order]] = relationship(back_populates="user")

    class Order(Base):
        __tablename__ = f"ao_{suffix}"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey(f"au_{suffix}.id"))
        total: Mapped[int] = mapped_column(default=0)
        user: Mapped[User] = relationship(back_populates="orders")

    return Base, User, Order


def test_engine_connection_basics(async_url: str) -> None:
    async def main() -> None:
        engine = create_async_engine(async_url)
        try:
            async with engine.connect() as conn:
                assert (await conn.execute(text("SELECT 1"))).scalar() == 1
                assert await conn.scalar(select(func.abs(-3))) == 3
                streamed = await conn.stream(text("SELECT 1 AS a UNION ALL SELECT 2"))
                assert [r.a async for r in streamed] == [1, 2]
            conn = await engine.connect()
            assert engine.pool.checkedout() == 1
            await conn.close()
            assert engine.pool.checkedout() == 0
        finally:
            await engine.dispose()

    asyncio.run(main())


def test_run_sync_create_all_and_session_crud(async_url: str) -> None:
    Base, User, Order = _models()

    async def main() -> None:
        engine = create_async_engine(async_url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            Session = async_sessionmaker(engine, expire_on_commit=False)
            async with Session() as s:
                s.add_all(
                    [User(name="ann", orders=[Order(total=3), Order(total=4)]), User(name="bob")]
                )
                await s.commit()
            async with Session() as s:
                users = (
                    await s.scalars(
                        select(User).options(selectinload(User.orders)).order_by(User.id)
                    )
                ).all()
                assert [(u.name, sorted(o.total for o in u.orders)) for u in users] == [
                    ("ann", [3, 4]),
                    ("bob", []),
                ]
                bob = await s.get(User, users[1].id)
                assert bob is users[1]
                await s.delete(bob)
                await s.commit()
            async with Session.begin() as s:
                s.add(User(name="cy"))
            async with Session() as s:
                names = (await s.scalars(select(User.name).order_by(User.name))).all()
                assert names == ["ann", "cy"]
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
            assert engine.pool.checkedout() == 0
        finally:
            await engine.dispose()

    asyncio.run(main())


def test_lazy_load_from_async_code_names_the_attribute(async_url: str) -> None:
    Base, User, Order = _models()

    async def main() -> None:
        engine = create_async_engine(async_url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            async with AsyncSession(engine) as s:
                s.add(User(name="ann", orders=[Order(total=1)]))
                await s.commit()
                user = (await s.scalars(select(User))).one()
                with pytest.raises(exc.MissingGreenlet) as info:
                    _ = user.orders
                message = str(info.value)
                assert "User.orders" in message and "selectinload" in message
                assert "awaitable_attrs" in message
                orders = await user.awaitable_attrs.orders
                assert [o.total for o in orders] == [1]
                # expired on commit: reading an attribute needs I/O too
                await s.commit()
                with pytest.raises(exc.MissingGreenlet, match=r"User\.name"):
                    _ = user.name
                assert await user.awaitable_attrs.name == "ann"
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
        finally:
            await engine.dispose()

    asyncio.run(main())


def test_engine_used_from_a_second_event_loop(async_url: str) -> None:
    engine = create_async_engine(async_url, pool_size=2)

    async def use() -> int:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT 41 + 1"))).scalar())

    try:
        assert asyncio.run(use()) == 42
        # the pooled connection belongs to the first (now closed) loop: replaced
        assert asyncio.run(use()) == 42
        assert engine.pool.checkedout() == 0
    finally:
        asyncio.run(engine.dispose())


def test_pool_timeout_names_holders_by_task(async_url: str) -> None:
    if async_url.startswith("sqlite"):
        pytest.skip("the aiosqlite file pool: covered on PostgreSQL")

    async def main() -> None:
        engine = create_async_engine(async_url, pool_size=1, max_overflow=0, pool_timeout=0.3)
        try:
            holder = await engine.connect()
            await holder.execute(text("SELECT 1"))
            with pytest.raises(exc.TimeoutError) as info:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            assert "QueuePool limit of size 1 overflow 0 reached" in str(info.value)
            assert "asyncio task" in str(info.value)
            await holder.close()
            assert engine.pool.checkedout() == 0
        finally:
            await engine.dispose()

    asyncio.run(main())


def test_cancellation_never_strands_a_connection(async_url: str) -> None:
    """Many tasks on a small pool, a third cancelled or timed out at random points:
    afterwards no connection is checked out and exactly the committed rows exist."""
    Base, User, _Order = _models()
    n_tasks = 1000

    app = f"hermetic_chaos_{uuid.uuid4().hex[:8]}"
    connect_args: dict[str, Any] = {}
    if "asyncpg" in async_url:
        connect_args = {"server_settings": {"application_name": app}}
    elif "psycopg" in async_url:
        connect_args = {"application_name": app}

    async def main() -> None:
        engine = create_async_engine(
            async_url, pool_size=5, max_overflow=5, pool_timeout=30, connect_args=connect_args
        )
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            Session = async_sessionmaker(engine, expire_on_commit=False)
            committed: set[str] = set()  # commit() returned
            attempted: set[str] = set()  # commit() was called (it may have happened)
            rng = random.Random(1234)

            async def work(i: int) -> None:
                name = f"u{i}"
                async with Session() as s:
                    s.add(User(name=name))
                    await s.flush()
                    await s.execute(select(User).where(User.name == name))
                    attempted.add(name)
                    await s.commit()
                    committed.add(name)

            async def run(i: int) -> None:
                fate = rng.random()
                if fate < 0.17:
                    try:  # times out at a random point, or finishes first
                        async with asyncio.timeout(rng.random() * 0.01):
                            await work(i)
                    except TimeoutError:
                        pass
                    return
                task = asyncio.ensure_future(work(i))
                if fate < 0.34:
                    await asyncio.sleep(rng.random() * 0.01)
                    task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

            await asyncio.gather(*(run(i) for i in range(n_tasks)))
            assert engine.pool.checkedout() == 0, engine.pool.holders()
            async with Session() as s:
                names = set((await s.scalars(select(User.name))).all())
            # every committed row is there; no row of a task cancelled before its
            # COMMIT is (one cancelled *during* COMMIT may have committed or not)
            assert committed <= names
            assert names - committed <= attempted - committed
            assert len(committed) > n_tasks // 3  # the run did real work
            if connect_args:  # the server sees exactly the pool's idle connections
                async with engine.connect() as conn:
                    n = await conn.scalar(
                        text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :a"),
                        {"a": app},
                    )
                    assert n == engine.pool.checkedin() + 1
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
            assert engine.pool.checkedout() == 0
        finally:
            await engine.dispose()

    asyncio.run(main())


def test_asyncpg_without_prepared_statement_cache() -> None:
    """The pgbouncer (transaction pooling) setting: no named prepared statements."""
    require_pg()

    async def main() -> None:
        url = pg_url("asyncpg")
        engine = create_async_engine(url, connect_args={"statement_cache_size": 0})
        try:
            async with engine.connect() as conn:
                for i in range(3):
                    assert (await conn.execute(text("SELECT :x + 1"), {"x": i})).scalar() == i + 1
                raw = (await conn.get_raw_connection()).dbapi_connection
                assert raw._cache_size == 0 and not raw._stmts
                named = await conn.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
                assert named == 0
        finally:
            await engine.dispose()
        engine = create_async_engine(url + "?prepared_statement_cache_size=0")
        try:
            async with engine.connect() as conn:
                assert (await conn.execute(text("SELECT 5"))).scalar() == 5
                named = await conn.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
                assert named == 0
        finally:
            await engine.dispose()

    asyncio.run(main())


def test_connection_dropped_by_a_task_is_reclaimed(async_url: str) -> None:
    import gc

    async def main() -> None:
        engine = create_async_engine(async_url, pool_size=2, max_overflow=0)
        try:

            async def leak() -> None:
                conn = await engine.connect()
                await conn.execute(text("SELECT 1"))
                # the task ends without closing conn

            with pytest.warns(exc.ConnectionLeakWarning, match="test_asyncio.py"):
                await asyncio.ensure_future(leak())
                gc.collect()
                async with engine.connect() as conn:  # the next checkout processes it
                    assert (await conn.execute(text("SELECT 2"))).scalar() == 2
            assert engine.pool.checkedout() == 0
        finally:
            await engine.dispose()

    asyncio.run(main())
