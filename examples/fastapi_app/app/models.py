"""User and Order."""

from __future__ import annotations

from decimal import Decimal

from app.database import Base
from hermetic import ForeignKey, Numeric, String
from hermetic.orm import Mapped, mapped_column, relationship


class User(Base):
    __tablename__ = "example_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    orders: Mapped[list[Order]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Order(Base):
    __tablename__ = "example_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("example_users.id", ondelete="CASCADE"))
    total: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    user: Mapped[User] = relationship(back_populates="orders")
