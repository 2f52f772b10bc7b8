"""Routes: users and their orders, /health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import JSONResponse

from app.database import check_db_connection, close_db, get_db, init_db
from app.models import Order, User
from hermetic import exc, func, select
from hermetic.ext.asyncio import AsyncSession
from hermetic.orm import selectinload


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await init_db()
    yield
    await close_db()


app = FastAPI(lifespan=lifespan)


def _user(u: User) -> dict[str, Any]:
    return {"id": u.id, "email": u.email, "name": u.name}


@app.get("/health")
async def health() -> JSONResponse:
    ok = await check_db_connection()
    return JSONResponse({"database": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)


@app.post("/users", status_code=201)
async def create_user(email: str, name: str, db: AsyncSession = Depends(get_db)) -> dict[str, Any]:
    user = User(email=email, name=name)
    db.add(user)
    try:
        await db.flush()
    except exc.IntegrityError:
        raise HTTPException(status_code=409, detail=f"{email} is already registered") from None
    return _user(user)


@app.get("/users/{user_id}")
async def get_user(user_id: int, db: AsyncSession = Depends(get_db)) -> dict[str, Any]:
    stmt = select(User).where(User.id == user_id).options(selectinload(User.orders))
    user = (await db.scalars(stmt)).one_or_none()
    if user is None:
        raise HTTPException(status_code=404, detail="no such user")
    return {**_user(user), "orders": [{"id": o.id, "total": str(o.total)} for o in user.orders]}


@app.post("/users/{user_id}/orders", status_code=201)
async def add_order(
    user_id: int, total: Decimal, db: AsyncSession = Depends(get_db)
) -> dict[str, Any]:
    user = await db.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="no such user")
    order = Order(user_id=user.id, total=total)
    db.add(order)
    await db.flush()
    if total < 0:
        raise HTTPException(status_code=422, detail="a total cannot be negative")  # rolled back
    return {"id": order.id, "total": str(order.total)}


@app.get("/stats")
async def stats(db: AsyncSession = Depends(get_db)) -> dict[str, Any]:
    rows = await db.execute(
        select(User.name, func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
        .outerjoin(Order, Order.user_id == User.id)
        .group_by(User.name)
        .order_by(User.name)
    )
    return {name: {"orders": n, "total": str(total)} for name, n, total in rows}
