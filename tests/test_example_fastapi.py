"""The example service (examples/fastapi_app) through httpx against PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import pg_url, require_pg

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fastapi_app"


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The example app, importable as ``app`` (its tables are example_users /
    example_orders, used by this test only; dropped before and after)."""
    require_pg()
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    monkeypatch.setenv("DATABASE_URL", pg_url("asyncpg"))
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.syspath_prepend(str(EXAMPLE))
    _forget_app()
    main = importlib.import_module("app.main")
    database = importlib.import_module("app.database")

    async def drop() -> None:
        engine = database.build_engine(database.settings)
        async with engine.begin() as conn:
            await conn.run_sync(database.Base.metadata.drop_all)
        await engine.dispose()

    asyncio.run(drop())
    try:
        yield main, database
    finally:
        asyncio.run(drop())
        _forget_app()


def _forget_app() -> None:
    for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        del sys.modules[name]


def test_example_service(example: Any) -> None:
    import httpx

    main, database = example

    async def scenario() -> None:
        async with main.lifespan(main.app):
            transport = httpx.ASGITransport(app=main.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                r = await client.get("/health")
                assert r.status_code == 200 and r.json() == {"database": "ok"}
                r = await client.post("/users", params={"email": "a@x.org", "name": "Ann"})
                assert r.status_code == 201, r.text
                uid = r.json()["id"]
                r = await client.post("/users", params={"email": "a@x.org", "name": "Dup"})
                assert r.status_code == 409
                for total in ("10.50", "2.25"):
                    r = await client.post(f"/users/{uid}/orders", params={"total": total})
                    assert r.status_code == 201, r.text
                r = await client.post(f"/users/{uid}/orders", params={"total": "-1"})
                assert r.status_code == 422  # flushed, then rolled back by get_db
                r = await client.get(f"/users/{uid}")
                assert r.status_code == 200
                assert sorted(o["total"] for o in r.json()["orders"]) == ["10.50", "2.25"]
                assert (await client.get("/users/999999")).status_code == 404
                r = await client.get("/stats")
                assert r.json() == {"Ann": {"orders": 2, "total": "12.75"}}
            # NullPool in the test environment: nothing stays open
            assert database.engine.pool.checkedout() == 0
        # a dead database: /health answers 503 and the probe does not raise
        bad = database.build_engine(
            type(database.settings)(
                database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", environment="test"
            )
        )
        database.AsyncSessionLocal.configure(bind=bad)
        assert await database.check_db_connection() is False
        await bad.dispose()

    asyncio.run(scenario())
