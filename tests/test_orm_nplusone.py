"""N+1 detection and prevention on real SQLite and PostgreSQL.

Detection: when one lazy relationship fires for several objects of the same result,
``NPlusOneWarning`` is issued once, naming the relationship, the number of loads, the
line that read the attribute and the fix; ``n_plus_one="raise"`` (for test suites)
raises ``NPlusOneError`` instead; ``"off"`` is silent. Configured per Session, per engine
(``execution_options``) or per query. Prevention: ``fetch_peers=True`` makes the first
lazy load of a relationship load it for every object of the result in one
``SELECT ... IN``, so unchanged N+1 code issues 2 statements instead of N+1.
"""

from __future__ import annotations

import warnings

import pytest

from conftest import SQLLog
from hermetic import exc, select
from hermetic.engine import Engine
from hermetic.exc import NPlusOneError, NPlusOneWarning
from hermetic.orm import Session, selectinload
from orm_rel_models import (
    Item,
    Order,
    User,
    clone_engine,
    db,
    log,
    rel_engine,
)

__all__ = ["db", "log", "rel_engine"]  # fixtures

N_USERS = 6


@pytest.fixture
def users(db: Engine) -> Engine:
    """Six users with two orders each; each order has one item."""
    with Session(db) as s:
        for i in range(N_USERS):
            s.add(
                User(
                    name=f"u{i}",
                    orders=[
                        Order(description=f"o{i}a", items=[Item(name=f"i{i}a")]),
                        Order(description=f"o{i}b", items=[Item(name=f"i{i}b")]),
                    ],
                )
            )
        s.commit()
    return db


def _line_of(marker: str) -> int:
    """The line number of this file's line containing ``marker``."""
    with open(__file__) as f:
        for number, line in enumerate(f, 1):
            if marker in line and "_line_of(" not in line:
                return number
    raise AssertionError(marker)


# ---------------------------------------- detection


def test_warns_once_naming_relationship_count_site_and_fix(users: Engine, log: SQLLog) -> None:
    with Session(users) as s:
        result = s.scalars(select(User).order_by(User.id)).all()  # QUERY-SITE
        with pytest.warns(NPlusOneWarning) as record:
            total = 0
            for u in result:
                total += len(u.orders)  # ITERATION-SITE
        assert total == 2 * N_USERS
        assert len(record) == 1  # once, not once per object
        message = str(record[0].message)
        assert "User.orders" in message
        assert "lazy-loaded 5 times" in message  # the default threshold
        assert f"test_orm_nplusone.py:{_line_of('# ITERATION-SITE')}" in message
        assert f"test_orm_nplusone.py:{_line_of('# QUERY-SITE')}" in message
        assert ".options(selectinload(User.orders))" in message
        assert "fetch_peers=True" in message
        # the warning points at the line that read the attribute
        assert record[0].filename == __file__
        assert record[0].lineno == _line_of("# ITERATION-SITE")
        assert log.count() == 1 + N_USERS  # detection changes nothing about loading


def test_many_to_one_fix_mentions_joinedload(users: Engine) -> None:
    with Session(users) as s:
        s.scalars(select(User)).all()  # the users are in the identity map ...
        s.expunge_all()
        orders = s.scalars(select(Order)).all()
        with pytest.warns(NPlusOneWarning) as record:
            for o in orders:
                o.user  # noqa: B018
        message = str(record[0].message)
        assert "Order.user" in message
        assert "selectinload(Order.user)" in message and "joinedload(Order.user)" in message


def test_identity_map_hits_are_not_counted(users: Engine, log: SQLLog) -> None:
    with Session(users) as s:
        loaded = s.scalars(select(User)).all()  # held: the identity map is weak
        orders = s.scalars(select(Order)).all()
        log.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("error", NPlusOneWarning)
            assert {o.user.name for o in orders} == {f"u{i}" for i in range(N_USERS)}
        assert log.count() == 0
        assert len(loaded) == N_USERS


def test_separate_results_are_counted_separately(users: Engine) -> None:
    with Session(users) as s, warnings.catch_warnings():
        warnings.simplefilter("error", NPlusOneWarning)
        for offset in (0, 3):
            batch = s.scalars(select(User).order_by(User.id).offset(offset).limit(3)).all()
            for u in batch:
                assert len(u.orders) == 2


def test_below_threshold_is_silent(users: Engine) -> None:
    with Session(users) as s, warnings.catch_warnings():
        warnings.simplefilter("error", NPlusOneWarning)
        for u in s.scalars(select(User).limit(4)).all():
            u.orders  # noqa: B018


def test_threshold_is_configurable(users: Engine) -> None:
    with Session(users, n_plus_one_threshold=2) as s:
        result = s.scalars(select(User)).all()
        with pytest.warns(NPlusOneWarning, match="lazy-loaded 2 times"):
            for u in result[:2]:
                u.orders  # noqa: B018


def test_off_is_silent(users: Engine) -> None:
    with Session(users, n_plus_one="off") as s, warnings.catch_warnings():
        warnings.simplefilter("error", NPlusOneWarning)
        for u in s.scalars(select(User)).all():
            u.orders  # noqa: B018


def test_raise_mode_for_test_suites(users: Engine, log: SQLLog) -> None:
    with Session(users, n_plus_one="raise") as s:
        result = s.scalars(select(User).order_by(User.id)).all()
        with pytest.raises(NPlusOneError) as info:
            for u in result:
                u.orders  # noqa: B018
        assert isinstance(info.value, exc.InvalidRequestError)
        assert "User.orders" in str(info.value) and "lazy-loaded 5 times" in str(info.value)
        assert ".options(selectinload(User.orders))" in str(info.value)
        # the eager version of the same code passes
        log.clear()
        s.expunge_all()
        stmt = select(User).options(selectinload(User.orders))
        assert sum(len(u.orders) for u in s.scalars(stmt)) == 2 * N_USERS
        assert log.count() == 2


def test_engine_execution_options(users: Engine) -> None:
    engine = clone_engine(users, execution_options={"n_plus_one": "raise"})
    try:
        with Session(engine) as s:
            result = s.scalars(select(User)).all()
            with pytest.raises(NPlusOneError):
                for u in result:
                    u.orders  # noqa: B018
        # an explicit Session setting wins over the engine's
        with Session(engine, n_plus_one="off") as s:
            for u in s.scalars(select(User)).all():
                u.orders  # noqa: B018
        # and so does the engine.execution_options() copy's
        with Session(users.execution_options(n_plus_one="raise")) as s:
            result = s.scalars(select(User)).all()
            with pytest.raises(NPlusOneError):
                for u in result:
                    u.orders  # noqa: B018
    finally:
        engine.dispose()


def test_query_execution_option(users: Engine) -> None:
    with Session(users) as s:
        stmt = select(User).execution_options(n_plus_one="raise")
        result = s.scalars(stmt).all()
        with pytest.raises(NPlusOneError):
            for u in result:
                u.orders  # noqa: B018
        s.expunge_all()
        result = s.execute(select(User), execution_options={"n_plus_one": "off"}).scalars().all()
        with warnings.catch_warnings():
            warnings.simplefilter("error", NPlusOneWarning)
            for u in result:
                u.orders  # noqa: B018


def test_invalid_mode_is_refused(db: Engine) -> None:
    with pytest.raises(exc.ArgumentError, match="n_plus_one"):
        Session(db, n_plus_one="loud")


def test_nested_level_is_detected(users: Engine) -> None:
    """Orders loaded by one selectin load form one result: reading each order's items
    lazily is an N+1 of its own."""
    with Session(users) as s:
        result = s.scalars(select(User).options(selectinload(User.orders))).all()
        with pytest.warns(NPlusOneWarning) as record:
            for u in result:
                for o in u.orders:
                    o.items  # noqa: B018
        assert len(record) == 1
        assert "Order.items" in str(record[0].message)


# ---------------------------------------- prevention: fetch_peers


def test_fetch_peers_turns_n_plus_one_into_two_queries(users: Engine, log: SQLLog) -> None:
    with Session(users, fetch_peers=True) as s, warnings.catch_warnings():
        warnings.simplefilter("error", NPlusOneWarning)
        result = s.scalars(select(User).order_by(User.id)).all()
        names = {u.name: [o.description for o in u.orders] for u in result}
        assert names == {f"u{i}": [f"o{i}a", f"o{i}b"] for i in range(N_USERS)}
        assert log.count() == 2
        assert " IN " in log.statements[1]


def test_fetch_peers_nested_levels(users: Engine, log: SQLLog) -> None:
    with Session(users, fetch_peers=True) as s:
        result = s.scalars(select(User)).all()
        items = sorted(i.name for u in result for o in u.orders for i in o.items)
        assert len(items) == 2 * N_USERS
        assert log.count() == 3  # users, all their orders, all those orders' items


def test_fetch_peers_many_to_one(users: Engine, log: SQLLog) -> None:
    with Session(users, fetch_peers=True) as s:
        orders = s.scalars(select(Order)).all()
        assert len({o.user.name for o in orders}) == N_USERS
        assert log.count() == 2


def test_fetch_peers_per_query(users: Engine, log: SQLLog) -> None:
    with Session(users) as s:
        stmt = select(User).execution_options(fetch_peers=True)
        result = s.scalars(stmt).all()
        assert sum(len(u.orders) for u in result) == 2 * N_USERS
        assert log.count() == 2


def test_fetch_peers_from_engine_options(users: Engine, log: SQLLog) -> None:
    with Session(users.execution_options(fetch_peers=True)) as s:
        result = s.scalars(select(User)).all()
        assert sum(len(u.orders) for u in result) == 2 * N_USERS
        assert log.count() == 2


def test_fetch_peers_skips_already_loaded_and_other_results(users: Engine, log: SQLLog) -> None:
    with Session(users, fetch_peers=True) as s:
        first = s.scalars(select(User).order_by(User.id).limit(3)).all()
        second = s.scalars(select(User).order_by(User.id).offset(3)).all()
        first[0].orders  # noqa: B018  -- loads the first result's three users
        assert log.count() == 3
        assert " IN " in log.statements[2]
        for u in first:
            u.orders  # noqa: B018
        assert log.count() == 3
        second[0].orders  # noqa: B018
        assert log.count() == 4


def test_fetch_peers_sees_pending_changes(users: Engine) -> None:
    with Session(users, fetch_peers=True) as s:
        result = s.scalars(select(User).order_by(User.id)).all()
        s.add(Order(description="new", user_id=result[1].id))
        assert [o.description for o in result[1].orders] == ["o1a", "o1b", "new"]


def test_detection_does_not_keep_objects_alive(users: Engine) -> None:
    import gc
    import weakref

    with Session(users) as s:
        result = s.scalars(select(User)).all()
        ref = weakref.ref(result[0])
        del result
        gc.collect()
        assert ref() is None


def test_engine_threshold(users: Engine) -> None:
    with Session(users.execution_options(n_plus_one_threshold=3)) as s:
        result = s.scalars(select(User)).all()
        with pytest.warns(NPlusOneWarning, match="lazy-loaded 3 times"):
            for u in result[:3]:
                u.orders  # noqa: B018
