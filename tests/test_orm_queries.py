"""ORM queries on real SQLite and PostgreSQL: select(User), columns, several entities,
joins with an onclause, filter_by, aggregates, scalar_one, unique(), populate_existing,
yield_per, aliased(), and the legacy Query API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import pytest

from conftest import SQLLog
from hermetic import ForeignKey, String, desc, exc, func, select
from hermetic.engine import Engine
from hermetic.orm import DeclarativeBase, Mapped, Query, Session, aliased, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    age: Mapped[int] = mapped_column(default=30)
    boss_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str] = mapped_column(String(100))


@pytest.fixture
def db(orm_engine: Engine) -> Iterator[Engine]:
    Base.metadata.create_all(orm_engine)
    with Session(orm_engine) as s:
        s.add_all(
            [
                User(id=1, name="ann", age=20),
                User(id=2, name="bob", age=30, boss_id=1),
                User(id=3, name="cat", age=40, boss_id=1),
                Address(id=1, user_id=1, email="ann@a"),
                Address(id=2, user_id=1, email="ann@b"),
                Address(id=3, user_id=2, email="bob@a"),
            ]
        )
        s.commit()
    yield orm_engine


def test_select_entity(db: Engine) -> None:
    with Session(db) as s:
        users = s.execute(select(User).order_by(User.id)).scalars().all()
        assert [u.name for u in users] == ["ann", "bob", "cat"]
        assert all(isinstance(u, User) for u in users)
        rows = s.execute(select(User).where(User.id == 2)).all()
        assert len(rows) == 1 and rows[0][0] is users[1] and rows[0].User is users[1]


def test_select_columns(db: Engine) -> None:
    with Session(db) as s:
        rows = s.execute(select(User.id, User.name).where(User.age > 25).order_by(User.id)).all()
        assert [tuple(r) for r in rows] == [(2, "bob"), (3, "cat")]
        assert rows[0].name == "bob" and rows[0].id == 2
        assert s.execute(select(User.name).order_by(desc(User.name))).scalars().all() == [
            "cat",
            "bob",
            "ann",
        ]


def test_select_two_entities_with_join(db: Engine) -> None:
    with Session(db) as s:
        rows = s.execute(
            select(User, Address).join(Address, User.id == Address.user_id).order_by(Address.id)
        ).all()
        assert [(u.name, a.email) for u, a in rows] == [
            ("ann", "ann@a"),
            ("ann", "ann@b"),
            ("bob", "bob@a"),
        ]
        assert rows[0][0] is rows[1][0]  # one object per identity
        assert rows[0].Address.email == "ann@a"
        # join target inferred from the foreign key
        emails = s.scalars(select(Address.email).join(User).where(User.name == "bob")).all()
        assert emails == ["bob@a"]
        users = s.scalars(
            select(User).join(Address, Address.user_id == User.id).where(Address.email.like("%@b"))
        ).all()
        assert [u.name for u in users] == ["ann"]


def test_where_and_filter_by(db: Engine) -> None:
    with Session(db) as s:
        assert s.scalars(select(User).filter_by(name="cat")).one().id == 3
        assert s.scalars(select(User).filter_by(age=30, name="bob")).one().id == 2
        assert s.scalars(select(User.id).filter_by(name="cat")).all() == [3]
        got = s.scalars(select(User.name).where(User.name.in_(["ann", "cat"])).order_by(User.id))
        assert got.all() == ["ann", "cat"]
        assert s.scalars(select(User).where(User.boss_id.is_(None))).one().name == "ann"
        assert s.scalars(
            select(Address.email).join(User, User.id == Address.user_id).filter_by(name="bob")
        ).all() == ["bob@a"]


def test_aggregates(db: Engine) -> None:
    with Session(db) as s:
        assert s.scalar(select(func.count(User.id))) == 3
        assert s.scalar(select(func.max(User.age))) == 40
        assert s.scalar(select(func.sum(User.age))) == 90
        rows = s.execute(
            select(User.name, func.count(Address.id).label("n"))
            .join(Address, Address.user_id == User.id)
            .group_by(User.name)
            .having(func.count(Address.id) > 1)
        ).all()
        assert [(r.name, r.n) for r in rows] == [("ann", 2)]
        rows = s.execute(
            select(User.name, func.count(Address.id))
            .outerjoin(Address, Address.user_id == User.id)
            .group_by(User.id, User.name)
            .order_by(User.id)
        ).all()
        assert [tuple(r) for r in rows] == [("ann", 2), ("bob", 1), ("cat", 0)]


def test_scalar_one_and_friends(db: Engine) -> None:
    with Session(db) as s:
        assert s.execute(select(User).where(User.id == 1)).scalar_one().name == "ann"
        assert s.execute(select(User).where(User.id == 9)).scalar_one_or_none() is None
        with pytest.raises(exc.NoResultFound):
            s.execute(select(User).where(User.id == 9)).scalar_one()
        with pytest.raises(exc.MultipleResultsFound):
            s.execute(select(User)).scalar_one()
        with pytest.raises(exc.MultipleResultsFound):
            s.scalars(select(User)).one_or_none()
        assert s.scalars(select(User).order_by(User.id)).first().name == "ann"


def test_unique(db: Engine) -> None:
    with Session(db) as s:
        stmt = select(User).join(Address, Address.user_id == User.id).order_by(User.id)
        assert len(s.scalars(stmt).all()) == 3
        users = s.scalars(stmt).unique().all()
        assert [u.name for u in users] == ["ann", "bob"]
        rows = s.execute(stmt).unique().all()
        assert [r[0].name for r in rows] == ["ann", "bob"]


def test_populate_existing(db: Engine) -> None:
    with Session(db) as s:
        u = s.get(User, 1)
        u.__dict__["name"] = "stale"  # what an unnoticed change in the database looks like
        assert s.scalars(select(User).where(User.id == 1)).one().name == "stale"
        s.scalars(select(User).where(User.id == 1).execution_options(populate_existing=True)).one()
        assert u.name == "ann"
        u.__dict__["name"] = "stale again"
        s.execute(select(User), execution_options={"populate_existing": True}).all()
        assert u.name == "ann"
        u.__dict__["name"] = "and again"
        assert s.get(User, 1, populate_existing=True) is u and u.name == "ann"


def test_yield_per(db: Engine) -> None:
    with Session(db) as s:
        result = s.execute(select(User).order_by(User.id).execution_options(yield_per=2))
        parts = [[u.name for (u,) in part] for part in result.partitions()]
        assert parts == [["ann", "bob"], ["cat"]]
        names = [
            u.name for u in s.scalars(select(User).order_by(User.id).execution_options(yield_per=1))
        ]
        assert names == ["ann", "bob", "cat"]


def test_aliased_self_join(db: Engine) -> None:
    boss = aliased(User, name="boss")
    with Session(db) as s:
        rows = s.execute(
            select(User.name, boss.name).join(boss, User.boss_id == boss.id).order_by(User.id)
        ).all()
        assert [tuple(r) for r in rows] == [("bob", "ann"), ("cat", "ann")]
        pairs = s.execute(
            select(User, boss).join(boss, User.boss_id == boss.id).order_by(User.id)
        ).all()
        assert pairs[0][1] is s.get(User, 1)  # the aliased entity is the same object


def test_queries_see_identity_map_values(
    db: Engine,
) -> None:
    log = SQLLog(db)
    with Session(db) as s:
        u = s.get(User, 1)
        u.age = 99  # unflushed: autoflush makes queries see it
        assert s.scalar(select(User.age).where(User.id == 1)) == 99
        assert s.scalars(select(User).where(User.age == 99)).one() is u
    log.remove()


# --------------------------------------------------------------------------- legacy Query


def test_legacy_query_chain(db: Engine) -> None:
    with Session(db) as s:
        q = s.query(User)
        assert isinstance(q, Query)
        got = q.filter(User.age >= 30).filter_by(boss_id=1).order_by(User.id).all()
        assert [u.name for u in got] == ["bob", "cat"]
        assert [u.name for u in q.order_by(User.id).limit(2).offset(1).all()] == ["bob", "cat"]
        assert q.order_by(User.id).first().name == "ann"
        assert q.filter_by(name="cat").one().id == 3
        assert q.filter_by(name="zed").one_or_none() is None
        assert q.filter_by(name="zed").first() is None
        with pytest.raises(exc.NoResultFound):
            q.filter_by(name="zed").one()
        with pytest.raises(exc.MultipleResultsFound):
            q.one()
        assert q.count() == 3
        assert q.filter(User.age > 25).count() == 2
        assert q.get(2).name == "bob"
        assert q.get(99) is None
        assert [u.name for u in q.order_by(User.id)[1:3]] == ["bob", "cat"]
        assert q.order_by(User.id)[0].name == "ann"


def test_legacy_query_columns_and_join(db: Engine) -> None:
    with Session(db) as s:
        rows = (
            s.query(User.name, Address.email)
            .join(Address, Address.user_id == User.id)
            .order_by(Address.id)
            .all()
        )
        assert [tuple(r) for r in rows] == [("ann", "ann@a"), ("ann", "ann@b"), ("bob", "bob@a")]
        assert s.query(func.count(User.id)).scalar() == 3
        pairs = s.query(User, Address).filter(User.id == Address.user_id).order_by(Address.id).all()
        assert pairs[0][0] is pairs[1][0]


def test_legacy_query_update_delete(db: Engine) -> None:
    with Session(db) as s:
        bob = s.get(User, 2)
        n = s.query(User).filter(User.age >= 30).update({"age": 50})
        assert n == 2
        assert bob.age == 50  # synchronized
        n = s.query(Address).filter(Address.user_id == 2).delete()
        assert n == 1
        s.commit()
        assert s.query(Address).count() == 2
        assert sorted(a for (a,) in s.query(User.age).all()) == [20, 50, 50]
