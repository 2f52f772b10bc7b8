"""Queries through relationships on real SQLite and PostgreSQL: join / outerjoin along a
relationship (chained, to an aliased() target, with of_type()), any() / has() (also
many-to-many and self-referential), comparisons with an object (== / != / None),
contains(), with_parent(), and the statements they take.
"""

from __future__ import annotations

import pytest

from conftest import SQLLog
from hermetic import exc, func, select
from hermetic.engine import Engine
from hermetic.orm import Session, aliased, with_parent
from orm_rel_models import (
    Company,
    Employee,
    Item,
    Manager,
    Node,
    Order,
    Profile,
    User,
    db,
    log,
    rel_engine,
    seed_shop,
)

__all__ = ["db", "log", "rel_engine"]  # fixtures


@pytest.fixture
def shop(db: Engine) -> Engine:
    seed_shop(db)
    return db


def _names(s: Session, stmt: object) -> list[str]:
    return sorted(s.scalars(stmt).all())  # type: ignore[arg-type]


def _user(s: Session, name: str) -> User:
    return s.scalars(select(User).where(User.name == name)).one()


# ---------------------------------------- join / outerjoin


def test_join_along_relationship(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User.name).join(User.orders).where(Order.status == "open").distinct()
        assert _names(s, stmt) == ["u1", "u2"]
        assert log.count() == 1
        assert "JOIN rel_orders ON rel_users.id = rel_orders.user_id" in log.statements[0]


def test_join_chain_through_many_to_many(shop: Engine) -> None:
    with Session(shop) as s:
        stmt = (
            select(User.name).join(User.orders).join(Order.items).where(Item.name == "i2")
        ).distinct()
        assert _names(s, stmt) == ["u1"]
        stmt = select(Item.name).join(Item.orders).join(Order.user).where(User.name == "u2")
        assert _names(s, stmt) == ["i3"]


def test_join_target_with_relationship_onclause(shop: Engine) -> None:
    with Session(shop) as s:
        stmt = select(Order.description).join(User, Order.user).where(User.name == "u1")
        assert _names(s, stmt) == ["o1", "o2"]


def test_outerjoin_keeps_parents_without_children(shop: Engine) -> None:
    with Session(shop) as s:
        stmt = (
            select(User.name, func.count(Order.id))
            .outerjoin(User.orders)
            .group_by(User.name)
            .order_by(User.name)
        )
        assert s.execute(stmt).all() == [("u1", 2), ("u2", 1), ("u3", 0)]


def test_join_returns_entities(shop: Engine) -> None:
    with Session(shop) as s:
        rows = s.execute(select(User, Order).join(User.orders).order_by(Order.description)).all()
        assert [(u.name, o.description) for u, o in rows] == [
            ("u1", "o1"),
            ("u1", "o2"),
            ("u2", "o3"),
        ]
        assert rows[0][0] is rows[1][0]  # one object per row identity


def test_aliased_joins_to_the_same_table(shop: Engine) -> None:
    with Session(shop) as s:
        open_o, closed_o = aliased(Order), aliased(Order)
        stmt = (
            select(User.name)
            .join(User.orders.of_type(open_o))
            .join(User.orders.of_type(closed_o))
            .where(open_o.status == "open", closed_o.status == "closed")
        )
        assert _names(s, stmt) == ["u1"]


def test_aliased_self_referential_join(db: Engine) -> None:
    with Session(db) as s:
        s.add(Node(name="root", children=[Node(name="a", children=[Node(name="a1")])]))
        s.commit()
        parent = aliased(Node)
        grandparent = aliased(Node)
        stmt = (
            select(Node.name)
            .join(Node.parent.of_type(parent))
            .join(parent.parent.of_type(grandparent))
            .where(grandparent.name == "root")
        )
        assert _names(s, stmt) == ["a1"]
        stmt = select(Node.name).join(Node.children.of_type(parent)).where(parent.name == "a")
        assert _names(s, stmt) == ["root"]


def test_of_type_subclass(db: Engine) -> None:
    with Session(db) as s:
        s.add_all(
            [
                Company(name="big", employees=[Manager(name="m", budget=10)]),
                Company(name="small", employees=[Employee(name="e"), Manager(name="n", budget=1)]),
            ]
        )
        s.commit()
        stmt = (
            select(Company.name).join(Company.employees.of_type(Manager)).where(Manager.budget > 5)
        )
        assert _names(s, stmt) == ["big"]
        stmt = select(Company.name).where(
            Company.employees.of_type(Manager).any(Manager.budget > 5)
        )
        assert _names(s, stmt) == ["big"]


# ---------------------------------------- any / has


def test_any_on_one_to_many(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        assert _names(s, select(User.name).where(User.orders.any(Order.status == "closed"))) == [
            "u1"
        ]
        assert _names(s, select(User.name).where(User.orders.any())) == ["u1", "u2"]
        assert _names(s, select(User.name).where(~User.orders.any())) == ["u3"]
        assert _names(s, select(User.name).where(User.orders.any(description="o3"))) == ["u2"]
        assert all("EXISTS" in st for st in log.statements)


def test_has_on_many_to_one(shop: Engine) -> None:
    with Session(shop) as s:
        stmt = select(Order.description).where(Order.user.has(User.name == "u1"))
        assert _names(s, stmt) == ["o1", "o2"]
        stmt = select(Order.description).where(Order.user.has(name="u2"))
        assert _names(s, stmt) == ["o3"]


def test_any_on_many_to_many(shop: Engine) -> None:
    with Session(shop) as s:
        stmt = select(Order.description).where(Order.items.any(Item.name == "i2"))
        assert _names(s, stmt) == ["o1", "o2"]
        stmt = select(Item.name).where(Item.orders.any(Order.status == "closed"))
        assert _names(s, stmt) == ["i2"]


def test_any_has_self_referential(db: Engine) -> None:
    with Session(db) as s:
        s.add(Node(name="root", children=[Node(name="a", children=[Node(name="a1")])]))
        s.commit()
        stmt = select(Node.name).where(Node.children.any(Node.name == "a1"))
        assert _names(s, stmt) == ["a"]
        stmt = select(Node.name).where(Node.parent.has(Node.name == "root"))
        assert _names(s, stmt) == ["a"]
        stmt = select(Node.name).where(~Node.children.any())
        assert _names(s, stmt) == ["a1"]


def test_nested_any_has(shop: Engine) -> None:
    with Session(shop) as s:
        stmt = select(User.name).where(User.orders.any(Order.items.any(Item.name == "i3")))
        assert _names(s, stmt) == ["u2"]
        stmt = select(Item.name).where(Item.orders.any(Order.user.has(User.name == "u1")))
        assert _names(s, stmt) == ["i1", "i2"]


# ---------------------------------------- comparisons


def test_many_to_one_compared_to_object(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        u1 = _user(s, "u1")
        log.clear()
        assert _names(s, select(Order.description).where(Order.user == u1)) == ["o1", "o2"]
        assert "JOIN" not in log.statements[0] and "EXISTS" not in log.statements[0]
        assert _names(s, select(Order.description).where(Order.user != u1)) == ["o3"]


def test_many_to_one_compared_to_none(shop: Engine) -> None:
    with Session(shop) as s:
        s.add(Order(description="orphan"))
        s.commit()
        assert _names(s, select(Order.description).where(Order.user == None)) == [  # noqa: E711
            "orphan"
        ]
        assert len(s.scalars(select(Order).where(Order.user != None)).all()) == 3  # noqa: E711


def test_one_to_one_compared_to_none(shop: Engine) -> None:
    with Session(shop) as s:
        assert _names(s, select(User.name).where(User.profile == None)) == [  # noqa: E711
            "u2",
            "u3",
        ]
        assert _names(s, select(User.name).where(User.profile != None)) == ["u1"]  # noqa: E711
        assert _names(s, select(User.name).where(User.profile.has(Profile.nickname == "one"))) == [
            "u1"
        ]


def test_contains(shop: Engine) -> None:
    with Session(shop) as s:
        o3 = s.scalars(select(Order).where(Order.description == "o3")).one()
        assert _names(s, select(User.name).where(User.orders.contains(o3))) == ["u2"]
        i2 = s.scalars(select(Item).where(Item.name == "i2")).one()
        assert _names(s, select(Order.description).where(Order.items.contains(i2))) == [
            "o1",
            "o2",
        ]


def test_collection_compared_to_object_teaches(shop: Engine) -> None:
    with Session(shop) as s:
        o3 = s.scalars(select(Order).where(Order.description == "o3")).one()
        with pytest.raises(exc.InvalidRequestError, match="contains"):
            User.orders == o3  # noqa: B015


# ---------------------------------------- with_parent


def test_with_parent_one_to_many(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        u1 = _user(s, "u1")
        log.clear()
        stmt = select(Order.description).where(with_parent(u1, User.orders))
        assert _names(s, stmt) == ["o1", "o2"]
        assert log.count() == 1 and "rel_users" not in log.statements[0]


def test_with_parent_many_to_one_and_many_to_many(shop: Engine) -> None:
    with Session(shop) as s:
        o3 = s.scalars(select(Order).where(Order.description == "o3")).one()
        assert _names(s, select(User.name).where(with_parent(o3, Order.user))) == ["u2"]
        o1 = s.scalars(select(Order).where(Order.description == "o1")).one()
        assert _names(s, select(Item.name).where(with_parent(o1, Order.items))) == ["i1", "i2"]


def test_with_parent_aliased_target(shop: Engine) -> None:
    with Session(shop) as s:
        u1 = _user(s, "u1")
        o = aliased(Order)
        stmt = select(o.description).where(with_parent(u1, User.orders, from_entity=o))
        assert _names(s, stmt) == ["o1", "o2"]
