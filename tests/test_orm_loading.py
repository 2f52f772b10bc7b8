"""Loader strategies on real SQLite and PostgreSQL, with the exact number of statements
each emits (captured with ``before_cursor_execute``): lazy ("select"), selectinload,
joinedload (outer and inner, collections needing unique()), subqueryload, lazyload,
raiseload (and sql_only), noload, lazy= chosen per relationship, defer / undefer /
load_only, contains_eager, chained paths, Load, wildcards, with_loader_criteria, eager
loading of a joined-inheritance target, and the errors that name the fix.
"""

from __future__ import annotations

import pytest

from conftest import SQLLog
from hermetic import exc, select
from hermetic.engine import Engine
from hermetic.orm import (
    Load,
    Session,
    aliased,
    contains_eager,
    defaultload,
    defer,
    joinedload,
    lazyload,
    load_only,
    noload,
    raiseload,
    selectinload,
    subqueryload,
    undefer,
    with_loader_criteria,
)
from orm_rel_models import (
    Author,
    Book,
    Company,
    Employee,
    Item,
    Manager,
    Node,
    Order,
    Review,
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


def _orders_by_user(users: list[User]) -> dict[str, list[str]]:
    return {u.name: [o.description for o in u.orders] for u in users}


EXPECTED = {"u1": ["o1", "o2"], "u2": ["o3"], "u3": []}


# ---------------------------------------- lazy="select"


def test_lazy_select_loads_per_parent(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        users = s.scalars(select(User).order_by(User.id)).all()
        assert log.count() == 1
        assert _orders_by_user(list(users)) == EXPECTED
        assert log.count() == 1 + 3  # one SELECT per user
        assert _orders_by_user(list(users)) == EXPECTED
        assert log.count() == 4  # loaded once


def test_lazy_many_to_one_identity_map_then_sql(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        orders = s.scalars(select(Order).order_by(Order.id)).all()
        assert [o.user.name for o in orders] == ["u1", "u1", "u2"]
        assert log.count() == 1 + 2  # u1 once: the second order finds it in the identity map


# ---------------------------------------- selectin


def test_selectinload_collection(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        users = s.scalars(select(User).options(selectinload(User.orders)).order_by(User.id)).all()
        assert log.count() == 2
        assert " IN " in log.statements[1]
        assert _orders_by_user(list(users)) == EXPECTED
        assert log.count() == 2


def test_selectinload_many_to_one(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        orders = s.scalars(select(Order).options(selectinload(Order.user)).order_by(Order.id))
        assert [o.user.name for o in orders] == ["u1", "u1", "u2"]
        assert log.count() == 2


def test_selectinload_many_to_many(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        orders = s.scalars(select(Order).options(selectinload(Order.items)).order_by(Order.id))
        assert [[i.name for i in o.items] for o in orders] == [["i1", "i2"], ["i2"], ["i3"]]
        assert log.count() == 2


def test_selectinload_chained(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(selectinload(User.orders).selectinload(Order.items))
        users = s.scalars(stmt.order_by(User.id)).all()
        assert log.count() == 3
        assert [[i.name for i in o.items] for o in users[0].orders] == [["i1", "i2"], ["i2"]]
        assert log.count() == 3


def test_selectinload_then_joinedload(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(selectinload(User.orders).joinedload(Order.items))
        users = s.scalars(stmt.order_by(User.id)).all()
        assert log.count() == 2
        assert "JOIN" in log.statements[1]
        assert [[i.name for i in o.items] for o in users[0].orders] == [["i1", "i2"], ["i2"]]
        assert log.count() == 2


def test_selectinload_self_referential_three_levels(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        s.add(Node(name="r", children=[Node(name="a", children=[Node(name="a1")]), Node(name="b")]))
        s.commit()
    log.clear()
    with Session(db) as s:
        stmt = (
            select(Node)
            .where(Node.parent_id.is_(None))
            .options(selectinload(Node.children).selectinload(Node.children))
        )
        root = s.scalars(stmt).one()
        assert log.count() == 3
        assert [[g.name for g in c.children] for c in root.children] == [["a1"], []]
        assert log.count() == 3


# ---------------------------------------- joined


def test_joinedload_many_to_one_outer_and_inner(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        orders = s.scalars(select(Order).options(joinedload(Order.user)).order_by(Order.id))
        assert [o.user.name for o in orders] == ["u1", "u1", "u2"]
        assert log.count() == 1
        assert "LEFT OUTER JOIN" in log.statements[0]
    log.clear()
    with Session(shop) as s:
        stmt = select(Order).options(joinedload(Order.user, innerjoin=True)).order_by(Order.id)
        assert [o.user.name for o in s.scalars(stmt)] == ["u1", "u1", "u2"]
        assert log.count() == 1
        assert " JOIN " in log.statements[0] and "OUTER" not in log.statements[0]


def test_joinedload_collection_requires_unique(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        with pytest.raises(exc.InvalidRequestError) as info:
            s.scalars(select(User).options(joinedload(User.orders))).all()
        assert str(info.value).startswith(
            "The unique() method must be invoked on this Result, as it contains results "
            "that include joined eager loads against collections"
        )
        with pytest.raises(exc.InvalidRequestError, match="unique"):
            s.execute(select(User).options(joinedload(User.orders))).all()
    log.clear()
    with Session(shop) as s:
        stmt = select(User).options(joinedload(User.orders)).order_by(User.id)
        users = s.scalars(stmt).unique().all()
        assert log.count() == 1
        assert _orders_by_user(list(users)) == EXPECTED
        assert log.count() == 1
        rows = s.execute(stmt).unique().all()
        assert [r[0].name for r in rows] == ["u1", "u2", "u3"]


def test_joinedload_nested(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(joinedload(User.orders).joinedload(Order.items))
        users = s.scalars(stmt.order_by(User.id)).unique().all()
        assert log.count() == 1
        assert [[i.name for i in o.items] for o in users[0].orders] == [["i1", "i2"], ["i2"]]
        assert [[i.name for i in o.items] for o in users[1].orders] == [["i3"]]
        assert log.count() == 1


def test_joinedload_then_selectinload(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(Order).options(joinedload(Order.user).selectinload(User.orders))
        orders = s.scalars(stmt.order_by(Order.id)).all()
        assert log.count() == 2
        assert [len(o.user.orders) for o in orders] == [2, 2, 1]
        assert log.count() == 2


def test_joinedload_joined_inheritance_target(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        s.add(
            Company(
                name="c",
                employees=[Employee(name="e"), Manager(name="m", budget=7)],
            )
        )
        s.commit()
    log.clear()
    with Session(db) as s:
        company = s.scalars(select(Company).options(joinedload(Company.employees))).unique().one()
        assert log.count() == 1
        kinds = [(type(e).__name__, e.name) for e in company.employees]
        assert kinds == [("Employee", "e"), ("Manager", "m")]
        manager = company.employees[1]
        assert log.count() == 1
        assert isinstance(manager, Manager) and manager.budget == 7
        assert log.count() == 2  # the subclass table's columns load on access
    log.clear()
    with Session(db) as s:
        # a relationship to the subclass: its two tables are joined in one statement
        company = s.scalars(select(Company).options(joinedload(Company.managers))).unique().one()
        assert [(m.name, m.budget) for m in company.managers] == [("m", 7)]
        assert log.count() == 1
        assert "rel_managers" in log.statements[0]


def test_selectinload_joined_inheritance_target(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        s.add(Company(name="c", employees=[Employee(name="e"), Manager(name="m", budget=7)]))
        s.commit()
    log.clear()
    with Session(db) as s:
        company = s.scalars(select(Company).options(selectinload(Company.employees))).one()
        assert log.count() == 2
        assert [type(e).__name__ for e in company.employees] == ["Employee", "Manager"]
        assert company.employees[1].budget == 7
        assert log.count() == 3
    log.clear()
    with Session(db) as s:
        company = s.scalars(select(Company).options(selectinload(Company.managers))).one()
        assert [(m.name, m.budget) for m in company.managers] == [("m", 7)]
        assert log.count() == 2


# ---------------------------------------- subquery


def test_subqueryload(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        users = s.scalars(select(User).options(subqueryload(User.orders)).order_by(User.id)).all()
        assert log.count() == 2
        assert _orders_by_user(list(users)) == EXPECTED
        assert log.count() == 2


# ---------------------------------------- lazy= per relationship


def _authors(db: Engine) -> None:
    with Session(db) as s:
        a1, a2 = Author(name="a1"), Author(name="a2")
        s.add_all([a1, a2])
        s.flush()
        s.add_all(
            [
                Book(author_id=a1.id, title="b1"),
                Book(author_id=a1.id, title="b2"),
                Book(author_id=a2.id, title="b3"),
            ]
        )
        s.commit()


def test_lazy_settings_per_relationship(db: Engine, log: SQLLog) -> None:
    _authors(db)
    log.clear()
    with Session(db) as s:
        authors = s.scalars(select(Author).order_by(Author.id)).unique().all()
        # the main query (with books_joined joined in), then books_selectin and
        # books_subquery: one statement each
        assert log.count() == 3
        for attr in ("books_selectin", "books_joined", "books_subquery"):
            assert [[b.title for b in getattr(a, attr)] for a in authors] == [
                ["b1", "b2"],
                ["b3"],
            ], attr
        assert log.count() == 3
        assert authors[0].books_noload == []
        assert log.count() == 3
        with pytest.raises(exc.InvalidRequestError, match="lazy='raise'"):
            authors[0].books_raise  # noqa: B018
        with pytest.raises(exc.InvalidRequestError, match="lazy='raise_on_sql'"):
            authors[0].books_raise_on_sql  # noqa: B018
        assert [b.title for b in authors[0].books_select] == ["b1", "b2"]
        assert log.count() == 4


def test_lazy_joined_many_to_one_innerjoin(db: Engine, log: SQLLog) -> None:
    _authors(db)
    with Session(db) as s:
        s.add_all([Review(book_id=b.id, text=b.title) for b in s.scalars(select(Book))])
        s.commit()
    log.clear()
    with Session(db) as s:
        reviews = s.scalars(select(Review).order_by(Review.id)).all()
        assert log.count() == 1
        assert " JOIN " in log.statements[0] and "OUTER" not in log.statements[0]
        assert [r.book.title for r in reviews] == ["b1", "b2", "b3"]
        assert log.count() == 1


def test_lazyload_option_overrides_eager_default(db: Engine, log: SQLLog) -> None:
    _authors(db)
    log.clear()
    with Session(db) as s:
        stmt = select(Author).options(
            lazyload(Author.books_selectin),
            lazyload(Author.books_joined),
            lazyload(Author.books_subquery),
        )
        authors = s.scalars(stmt.order_by(Author.id)).all()
        assert log.count() == 1
        assert [b.title for b in authors[0].books_selectin] == ["b1", "b2"]
        assert log.count() == 2


def test_eager_option_overrides_raise_default(db: Engine, log: SQLLog) -> None:
    _authors(db)
    log.clear()
    with Session(db) as s:
        stmt = select(Author).options(
            selectinload(Author.books_raise),
            lazyload("*"),
        )
        authors = s.scalars(stmt.order_by(Author.id)).all()
        assert log.count() == 2
        assert [b.title for b in authors[0].books_raise] == ["b1", "b2"]
        assert log.count() == 2


# ---------------------------------------- raise / noload


def test_raiseload_names_the_option_that_loads_it(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        u = s.scalars(select(User).options(raiseload(User.orders)).where(User.name == "u1")).one()
        with pytest.raises(exc.InvalidRequestError) as info:
            u.orders  # noqa: B018
        message = str(info.value)
        assert message.startswith("'User.orders' is not available due to lazy='raise'")
        assert "selectinload(User.orders)" in message
        assert log.count() == 1
        assert u.profile is not None  # other relationships load as usual


def test_raiseload_wildcard(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(selectinload(User.orders), raiseload("*"))
        u = s.scalars(stmt.where(User.name == "u1")).one()
        assert len(u.orders) == 2  # a named option beats the wildcard
        assert u.email == "u1@x"  # columns are not affected
        with pytest.raises(exc.InvalidRequestError, match="lazy='raise'"):
            u.profile  # noqa: B018
        with pytest.raises(exc.InvalidRequestError, match="lazy='raise'"):
            u.addresses  # noqa: B018
        assert log.count() == 2


def test_raiseload_wildcard_on_a_path(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(selectinload(User.orders).raiseload("*"))
        u = s.scalars(stmt.where(User.name == "u1")).one()
        order = u.orders[0]
        with pytest.raises(exc.InvalidRequestError, match="lazy='raise'"):
            order.items  # noqa: B018
        assert u.profile is not None  # the wildcard applies to Order only
        assert log.count() == 3


def test_defaultload_then_raiseload(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(defaultload(User.orders).raiseload(Order.items))
        u = s.scalars(stmt.where(User.name == "u1")).one()
        orders = u.orders  # lazy, as configured
        assert log.count() == 2
        with pytest.raises(exc.InvalidRequestError, match="lazy='raise'"):
            orders[0].items  # noqa: B018


def test_raiseload_sql_only(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        users = s.scalars(select(User)).all()
        stmt = select(Order).options(raiseload("*", sql_only=True)).order_by(Order.id)
        orders = s.scalars(stmt).all()
        assert orders[0].user is users[0]  # from the identity map: no SQL needed
        with pytest.raises(exc.InvalidRequestError, match="lazy='raise_on_sql'"):
            orders[0].items  # noqa: B018
        assert log.count() == 2


def test_noload(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        u = s.scalars(select(User).options(noload(User.orders)).where(User.name == "u1")).one()
        assert u.orders == []
        assert log.count() == 1


# ---------------------------------------- columns


def _select_list(statement: str) -> str:
    return statement.split(" FROM ")[0]


def test_deferred_column_loads_on_access(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        u = s.scalars(select(User).where(User.name == "u1")).one()
        assert "bio" not in _select_list(log.statements[0])
        assert u.bio == "bio one"
        assert log.count() == 2
        assert "bio" in _select_list(log.statements[1])


def test_undefer(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        u = s.scalars(select(User).options(undefer(User.bio)).where(User.name == "u1")).one()
        assert "bio" in _select_list(log.statements[0])
        assert u.bio == "bio one"
        assert log.count() == 1


def test_defer(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        u = s.scalars(select(User).options(defer(User.email)).where(User.name == "u1")).one()
        assert "email" not in _select_list(log.statements[0])
        assert u.name == "u1"
        assert log.count() == 1
        assert u.email == "u1@x"
        assert log.count() == 2


def test_defer_raiseload(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(defer(User.email, raiseload=True)).where(User.name == "u1")
        u = s.scalars(stmt).one()
        with pytest.raises(exc.InvalidRequestError, match="email"):
            u.email  # noqa: B018
        assert log.count() == 1


def test_load_only(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        users = s.scalars(select(User).options(load_only(User.name)).order_by(User.id)).all()
        columns = _select_list(log.statements[0])
        assert "name" in columns and "rel_users.id" in columns
        assert "email" not in columns and "bio" not in columns
        assert [u.name for u in users] == ["u1", "u2", "u3"]
        assert log.count() == 1
        assert users[1].email == "u2@x"
        assert log.count() == 2


def test_load_only_on_a_relationship_path(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(selectinload(User.orders).load_only(Order.description))
        u = s.scalars(stmt.where(User.name == "u1")).one()
        assert log.count() == 2
        assert "status" not in _select_list(log.statements[1])
        assert [o.description for o in u.orders] == ["o1", "o2"]
        assert log.count() == 2


def test_column_options_and_identity_map(shop: Engine, log: SQLLog) -> None:
    """A load_only() query does not erase values an object already has."""
    with Session(shop) as s:
        u = s.scalars(select(User).where(User.name == "u1")).one()
        again = s.scalars(select(User).options(load_only(User.name))).first()
        assert again is u and u.email == "u1@x"
        assert log.count() == 2


# ---------------------------------------- contains_eager


def test_contains_eager_collection(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = (
            select(User)
            .join(User.orders)
            .where(Order.status == "open")
            .options(contains_eager(User.orders))
            .order_by(User.id, Order.id)
        )
        users = s.scalars(stmt).unique().all()
        assert log.count() == 1
        # the collections hold exactly the rows the query returned
        assert _orders_by_user(list(users)) == {"u1": ["o1"], "u2": ["o3"]}
        assert log.count() == 1


def test_contains_eager_many_to_one(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = (
            select(Order)
            .join(Order.user)
            .where(User.name == "u1")
            .options(contains_eager(Order.user))
            .order_by(Order.id)
        )
        orders = s.scalars(stmt).all()
        assert [o.user.name for o in orders] == ["u1", "u1"]
        assert log.count() == 1


def test_contains_eager_with_alias(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        closed = aliased(Order)
        stmt = (
            select(User)
            .join(User.orders.of_type(closed))
            .where(closed.status == "closed")
            .options(contains_eager(User.orders.of_type(closed)))
        )
        users = s.scalars(stmt).unique().all()
        assert _orders_by_user(list(users)) == {"u1": ["o2"]}
        assert log.count() == 1


# ---------------------------------------- Load, with_loader_criteria


def test_load_object(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(Load(User).selectinload(User.orders).selectinload(Order.items))
        users = s.scalars(stmt.order_by(User.id)).all()
        assert log.count() == 3
        assert [i.name for i in users[1].orders[0].items] == ["i3"]
        assert log.count() == 3


def test_load_options_method(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(
            selectinload(User.orders).options(selectinload(Order.items), joinedload(Order.user))
        )
        users = s.scalars(stmt.order_by(User.id)).all()
        assert log.count() == 3
        assert users[0].orders[0].user is users[0]
        assert [i.name for i in users[0].orders[0].items] == ["i1", "i2"]
        assert log.count() == 3


def test_with_loader_criteria_main_query_and_eager_load(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(Order).options(with_loader_criteria(Order, Order.status == "open"))
        assert sorted(o.description for o in s.scalars(stmt)) == ["o1", "o3"]
    with Session(shop) as s:
        stmt = (
            select(User)
            .options(
                selectinload(User.orders),
                with_loader_criteria(Order, lambda cls: cls.status == "closed"),
            )
            .order_by(User.id)
        )
        users = s.scalars(stmt).all()
        assert _orders_by_user(list(users)) == {"u1": ["o2"], "u2": [], "u3": []}


def test_with_loader_criteria_lazy_load(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(with_loader_criteria(Order, Order.status == "closed"))
        u = s.scalars(stmt.where(User.name == "u1")).one()
        assert [o.description for o in u.orders] == ["o2"]


def test_with_loader_criteria_joinedload(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = (
            select(User)
            .options(joinedload(User.orders), with_loader_criteria(Order, Order.status == "open"))
            .order_by(User.id)
        )
        users = s.scalars(stmt).unique().all()
        assert log.count() == 1
        assert _orders_by_user(list(users)) == {"u1": ["o1"], "u2": ["o3"], "u3": []}


# ---------------------------------------- misc


def test_eager_load_does_not_overwrite_pending_changes(shop: Engine) -> None:
    with Session(shop) as s:
        u = s.scalars(
            select(User).options(selectinload(User.orders)).where(User.name == "u1")
        ).one()
        u.orders.pop()
        s.scalars(select(User).options(selectinload(User.orders))).all()
        assert [o.description for o in u.orders] == ["o1"]


def test_populate_existing_reloads_collections(shop: Engine) -> None:
    with Session(shop) as s:
        u = s.scalars(
            select(User).options(selectinload(User.orders)).where(User.name == "u1")
        ).one()
        u2_id = s.scalar(select(User.id).where(User.name == "u2"))
        s.execute(Order.__table__.update().where(Order.description == "o2").values(user_id=u2_id))
        stmt = (
            select(User)
            .options(selectinload(User.orders))
            .where(User.name == "u1")
            .execution_options(populate_existing=True)
        )
        assert s.scalars(stmt).one() is u
        assert [o.description for o in u.orders] == ["o1"]


def test_items_loaded_through_both_paths_are_one_object(shop: Engine) -> None:
    with Session(shop) as s:
        stmt = select(Order).options(selectinload(Order.items)).order_by(Order.id)
        o1, o2, _ = s.scalars(stmt).all()
        assert o1.items[1] is o2.items[0]
        item = s.scalars(select(Item).where(Item.name == "i2")).one()
        assert item is o2.items[0]


def test_joinedload_self_referential_three_levels(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        s.add(
            Node(
                name="r",
                children=[
                    Node(name="a", children=[Node(name="a1"), Node(name="a2")]),
                    Node(name="b"),
                ],
            )
        )
        s.commit()
    log.clear()
    with Session(db) as s:
        stmt = (
            select(Node)
            .where(Node.parent_id.is_(None))
            .options(joinedload(Node.children).joinedload(Node.children))
        )
        root = s.scalars(stmt).unique().one()
        assert log.count() == 1
        assert [[g.name for g in c.children] for c in root.children] == [["a1", "a2"], []]
        assert log.count() == 1


def test_joinedload_collection_with_limit_counts_parents(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        stmt = select(User).options(joinedload(User.orders)).order_by(User.name).limit(2)
        users = s.scalars(stmt).unique().all()
        # two users with all their orders, not the first two joined rows
        assert _orders_by_user(list(users)) == {"u1": ["o1", "o2"], "u2": ["o3"]}
        assert log.count() == 1
        stmt = (
            select(User)
            .options(joinedload(User.orders).joinedload(Order.items))
            .order_by(User.id)
            .offset(1)
        )
        users = s.scalars(stmt).unique().all()
        assert [(u.name, [[i.name for i in o.items] for o in u.orders]) for u in users] == [
            ("u2", [["i3"]]),
            ("u3", []),
        ]
        assert log.count() == 2


def test_relationship_and_criteria(shop: Engine, log: SQLLog) -> None:
    open_orders = User.orders.and_(Order.status == "open")
    with Session(shop) as s:
        stmt = select(User.name).join(open_orders).where(Order.description == "o2")
        assert s.scalars(stmt).all() == []
        for option, statements in (
            (selectinload(open_orders), 2),
            (joinedload(open_orders), 1),
            (lazyload(open_orders), 4),
        ):
            s.expunge_all()
            log.clear()
            result = s.scalars(select(User).options(option).order_by(User.id)).unique().all()
            assert _orders_by_user(list(result)) == {"u1": ["o1"], "u2": ["o3"], "u3": []}
            assert log.count() == statements, option


def test_selectinload_many_to_one_skips_targets_in_identity_map(shop: Engine, log: SQLLog) -> None:
    with Session(shop) as s:
        users = s.scalars(select(User)).all()
        log.clear()
        orders = s.scalars(select(Order).options(selectinload(Order.user))).all()
        assert {o.user.name for o in orders} == {"u1", "u2"}
        assert log.count() == 1  # every user was already in the identity map
        assert len(users) == 3
