"""The ORM's fast paths give the same results as the general ones, on real SQLite and
PostgreSQL: the generated row loader and ``scalars()`` built straight from the Core
result (orm/loading.py), the plain bulk INSERT path of the flush and the inline
``add_all()`` (orm/persistence.py, orm/session.py), ``session.get()``'s cached
statement, and the collector pauses around big loads and flushes.
"""

from __future__ import annotations

import datetime
import gc
from collections.abc import Iterator
from typing import Any, Optional

import pytest

from conftest import SQLLog
from hermetic import DateTime, Integer, String, event, exc, func, insert, inspect, select
from hermetic.engine import Engine
from hermetic.orm import DeclarativeBase, Mapped, Session, mapped_column
from hermetic.orm.state import InstanceState


class Base(DeclarativeBase):
    pass


class Item(Base):
    """Plain: a generated integer key and columns without defaults."""

    __tablename__ = "fp_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    note: Mapped[Optional[str]] = mapped_column(String(50))
    qty: Mapped[int] = mapped_column(Integer)


class Stamped(Base):
    """Not plain: a column default, and a type with a result processor on SQLite."""

    __tablename__ = "fp_stamped"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime.datetime] = mapped_column(
        DateTime, default=lambda: datetime.datetime(2024, 1, 2, 3, 4, 5)
    )


@pytest.fixture
def db(orm_engine: Engine) -> Iterator[Engine]:
    Base.metadata.create_all(orm_engine)
    yield orm_engine


def _rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(Item.__table__).order_by(Item.id))]


def _items(n: int, start: int = 0) -> list[Item]:
    return [Item(name=f"n{i}", note=None if i % 3 else f"x{i}", qty=i) for i in range(start, n)]


# --------------------------------------------------------------------------- inserts


def test_plain_insert_matches_keys_to_objects(db: Engine, sql_log: SQLLog) -> None:
    items = _items(2500)  # several chunks: 1000, 1000, then 256 + 128 + ... for the rest
    with Session(db) as s:
        s.add_all(items)
        s.flush()
        ids = [i.id for i in items]
        assert all(isinstance(k, int) for k in ids) and len(set(ids)) == len(ids)
        assert ids == sorted(ids)  # rows numbered in the order of the VALUES lists
        for obj in items:  # persistent, in the identity map under its new key
            assert inspect(obj).persistent
            assert s.get(Item, obj.id) is obj
        expected = {(i.id, i.name, i.note, i.qty) for i in items}
        s.commit()
    inserts = sql_log.matching("INSERT")
    assert 3 <= len(inserts) <= 12
    assert set(_rows(db)) == expected


@pytest.mark.parametrize(
    "odd_one",
    ["explicit key", "unset column", "sql expression", "other class"],
)
def test_general_path_when_one_object_is_not_plain(db: Engine, odd_one: str) -> None:
    items: list[Any] = _items(5)
    if odd_one == "explicit key":
        items[2].id = 1000
    elif odd_one == "unset column":
        items[2] = Item(name="no note", qty=7)  # `note` never set: omitted, NULL
    elif odd_one == "sql expression":
        items[2].qty = func.abs(-42)
    else:
        items.insert(2, Stamped(name="other"))
    with Session(db) as s:
        s.add_all(items)
        s.commit()
        got = {(i.id, i.name, i.qty) for i in items if isinstance(i, Item)}
    assert got == {(r[0], r[1], r[3]) for r in _rows(db)}
    if odd_one == "explicit key":
        assert 1000 in {r[0] for r in _rows(db)}
    if odd_one == "sql expression":
        assert 42 in {r[3] for r in _rows(db)}


def test_failed_plain_insert_takes_keys_back(db: Engine) -> None:
    items = _items(10)
    items[7].name = None  # type: ignore[assignment]  # NOT NULL: the INSERT fails
    with Session(db) as s:
        s.add_all(items)
        with pytest.raises(exc.IntegrityError):
            s.flush()
        assert all("id" not in i.__dict__ for i in items)
        assert all(inspect(i).pending for i in items)
        with pytest.raises(exc.PendingRollbackError):
            s.flush()
        s.rollback()
    assert _rows(db) == []


def test_add_all_inline_path_keeps_events_and_cascades(db: Engine) -> None:
    seen: list[Any] = []
    with Session(db) as s:
        event.listen(s, "transient_to_pending", lambda session, obj: seen.append(obj))
        items = _items(3)
        s.add_all(items)
        s.add_all(items)  # already pending: no second event
        assert seen == items
        assert list(s.new) == items
        s.commit()
    with Session(db) as s:
        s.add_all([Stamped(name="a"), Stamped(name="b")])  # a default: general INSERT path
        s.commit()
        at = s.scalars(select(Stamped.at)).all()
    assert at == [datetime.datetime(2024, 1, 2, 3, 4, 5)] * 2


def test_big_flush_leaves_the_collector_on(db: Engine) -> None:
    assert gc.isenabled()
    with Session(db) as s:
        s.add_all(_items(1500))
        s.commit()
    assert gc.isenabled()
    bad = _items(1500)
    bad[-1].name = None  # type: ignore[assignment]
    with Session(db) as s:
        s.add_all(bad)
        with pytest.raises(exc.IntegrityError):
            s.commit()
    assert gc.isenabled()


# --------------------------------------------------------------------------- loading


def _seed(engine: Engine, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(Item.__table__),
            [{"name": f"n{i}", "note": None, "qty": i} for i in range(n)],
        )


def test_loaded_state_equals_a_constructed_one(db: Engine) -> None:
    _seed(db, 3)
    slots = set(InstanceState.__slots__)
    assert {k for k, _ in InstanceState._defaults} | {"mapper", "key", "session_ref"} == slots
    with Session(db) as s:
        loaded = s.scalars(select(Item)).first()
        state = inspect(loaded)
        made = InstanceState(loaded, Item.__mapper__)
        for name in slots - {"key", "session_ref"}:
            assert getattr(state, name) == getattr(made, name), name
        # the state is the weak reference to its object
        assert state() is loaded and state.obj() is loaded and made() is loaded
        assert state.session_ref is s._wref
        assert state.key == (Item, (loaded.id,), None)
        assert inspect(loaded).persistent
        # compared and hashed by identity, never through the object
        assert state != made and hash(state) != hash(made)
        assert len({state, made}) == 2


def test_state_of_an_unhashable_object_is_hashable(db: Engine) -> None:
    _seed(db, 1)
    with Session(db) as s:
        loaded = s.scalars(select(Item)).first()
        type(loaded).__hash__ = None  # type: ignore[assignment,method-assign]
        try:
            state = inspect(loaded)
            assert {state: 1}[state] == 1
        finally:
            del type(loaded).__hash__


def test_attribute_descriptors_are_sealed() -> None:
    """The descriptor types of mapped attributes are immutable on CPython, so reads of
    loaded attributes are specialised (hermetic/_util/cpython.py)."""
    import platform

    from hermetic.orm.attributes import QueryableAttribute
    from hermetic.orm.relationships import RelationshipAttribute

    if platform.python_implementation() != "CPython":
        pytest.skip("sealing applies to CPython only")
    for cls in (QueryableAttribute, RelationshipAttribute):
        assert cls.__flags__ & (1 << 8), cls
        with pytest.raises(TypeError):
            cls.extra = 1  # type: ignore[attr-defined]


def test_scalars_all_identity_and_refresh(db: Engine) -> None:
    _seed(db, 50)
    with Session(db) as s:
        first = s.execute(select(Item).order_by(Item.id)).scalars().all()
        again = s.scalars(select(Item).order_by(Item.id)).all()
        assert len(first) == 50 and all(a is b for a, b in zip(first, again, strict=True))
        first[0].name = "changed"  # a pending change survives a reload ...
        s.expire(first[1])  # ... an expired object is loaded again
        with s.no_autoflush:
            s.scalars(select(Item)).all()
        assert first[0].name == "changed" and first[1].name == "n1"
        with db.begin() as conn:
            conn.execute(Item.__table__.update().where(Item.id == first[2].id).values(qty=-1))
        s.scalars(select(Item).execution_options(populate_existing=True)).all()
        assert first[2].qty == -1
    assert gc.isenabled()


def test_rows_and_scalars_share_one_position(db: Engine) -> None:
    _seed(db, 6)
    with Session(db) as s:
        result = s.execute(select(Item).order_by(Item.id))
        row = result.fetchone()
        assert row is not None and row[0].name == "n0"
        scalars = result.scalars()
        assert next(iter(scalars)).name == "n1"
        assert [r[0].name for r in result.fetchmany(2)] == ["n2", "n3"]
        assert [i.name for i in scalars.all()] == ["n4", "n5"]
        assert result.all() == [] and scalars.all() == []

        result = s.execute(select(Item).order_by(Item.id))
        assert [i.name for i in result.scalars().all()] == [f"n{i}" for i in range(6)]
        assert list(result) == []  # the rows view sees the same end

        assert s.execute(select(Item).where(Item.id == -1)).scalar_one_or_none() is None
        one = s.execute(select(Item).where(Item.name == "n3")).scalar_one()
        assert one.qty == 3
        with pytest.raises(exc.MultipleResultsFound):
            s.execute(select(Item)).scalar_one()
        uniq = s.execute(select(Item).order_by(Item.id)).unique().scalars().all()
        assert len(uniq) == 6


def test_result_processors_and_load_events(db: Engine) -> None:
    with Session(db) as s:
        s.add(Stamped(name="a"))
        s.commit()
    loaded: list[Any] = []

    def on_load(target: Any, context: Any) -> None:
        loaded.append(target)

    event.listen(Stamped, "load", on_load)
    try:
        with Session(db) as s:
            obj = s.execute(select(Stamped)).scalars().one()
            assert obj.at == datetime.datetime(2024, 1, 2, 3, 4, 5)
            assert loaded == [obj]
    finally:
        event.remove(Stamped, "load", on_load)


def test_statements_built_in_a_loop(db: Engine) -> None:
    _seed(db, 20)
    with Session(db) as s:
        ids = [i.id for i in s.scalars(select(Item).order_by(Item.id))]
        for k in ids:
            assert s.execute(select(Item).where(Item.id == k)).scalar_one().id == k
            assert s.execute(select(Item.name).where(Item.id == k)).scalar_one() == f"n{k - 1}"
        pairs = s.execute(select(Item, Item.qty).where(Item.id == ids[0])).all()
        assert pairs[0][0].id == ids[0] and pairs[0][1] == 0


# --------------------------------------------------------------------------- get


def test_get_compiles_once_and_keeps_its_rules(db: Engine, sql_log: SQLLog) -> None:
    _seed(db, 5)
    with Session(db) as s:
        got = [s.get(Item, k) for k in (1, 2, 3)]
        assert [g.name for g in got] == ["n0", "n1", "n2"]
        assert s.get(Item, 2) is got[1]  # the identity map: no SQL
        assert s.get(Item, 99) is None
        assert s.get(Item, {"id": 4}).name == "n3"
        assert s.get(Item, (5,)).name == "n4"
        with pytest.raises(exc.InvalidRequestError):
            s.get(Item, (1, 2))
    selects = sql_log.matching("SELECT")
    assert len(selects) == 6 and len(set(selects)) == 1  # one statement, bound key
