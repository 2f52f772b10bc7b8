"""ORM events and validation on real SQLite and PostgreSQL: Session events (flush,
commit, rollback, begin, do_orm_execute), mapper events (insert/update/delete, load,
refresh), attribute events (set, init_scalar) through event.listen and
@event.listens_for, and @validates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Optional

import pytest

from hermetic import String, event, select, text
from hermetic.engine import Engine
from hermetic.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    Session,
    mapped_column,
    sessionmaker,
    validates,
)
from hermetic.orm.attributes import NO_VALUE


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    stamp: Mapped[Optional[str]] = mapped_column(String(50))
    owner: Mapped[Optional[str]] = mapped_column(String(50))


class Checked(Base):
    __tablename__ = "checked"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(50))
    name: Mapped[Optional[str]] = mapped_column(String(50))

    @validates("email")
    def _check_email(self, key: str, value: str) -> str:
        if "@" not in value:
            raise ValueError(f"{key} needs an @: {value!r}")
        return value.lower()

    @validates("name")
    def _strip(self, key: str, value: Optional[str]) -> Optional[str]:
        return value.strip() if value is not None else None


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    org: Mapped[str] = mapped_column(String(20))
    n: Mapped[int] = mapped_column(default=0)


@pytest.fixture
def db(orm_engine: Engine) -> Iterator[Engine]:
    Base.metadata.create_all(orm_engine)
    yield orm_engine


@pytest.fixture
def calls() -> list[Any]:
    return []


# --------------------------------------------------------------------------- session


def test_session_events_in_order(db: Engine, calls: list[Any]) -> None:
    s = Session(db)
    for name in (
        "after_begin",
        "before_flush",
        "after_flush",
        "after_flush_postexec",
        "before_commit",
        "after_commit",
        "after_rollback",
    ):

        def record(*args: Any, _name: str = name) -> None:
            calls.append(_name)

        event.listen(s, name, record)
    s.add(Note(title="a"))
    s.commit()
    assert calls == [
        "before_flush",
        "after_begin",
        "after_flush",
        "after_flush_postexec",
        "before_commit",
        "after_commit",
    ]
    calls.clear()
    s.add(Note(title="b"))
    s.flush()
    s.rollback()
    assert calls == [
        "before_flush",
        "after_begin",
        "after_flush",
        "after_flush_postexec",
        "after_rollback",
    ]
    s.close()


def test_before_flush_can_add_and_change_objects(db: Engine) -> None:
    maker = sessionmaker(db)

    @event.listens_for(maker, "before_flush")
    def stamp(session: Session, flush_context: Any, instances: Any) -> None:
        for obj in session.new:
            if isinstance(obj, Note):
                obj.stamp = "new"
        if any(isinstance(o, Note) and o.title == "spawn" for o in session.new):
            session.add(Note(title="spawned"))

    with maker() as s:
        s.add(Note(title="spawn"))
        s.commit()
        rows = s.execute(select(Note.title, Note.stamp).order_by(Note.title)).all()
        # the object added by the listener is flushed too (the listener ran once)
        assert [tuple(r) for r in rows] == [("spawn", "new"), ("spawned", None)]
    with Session(db) as plain:  # a listener on one sessionmaker doesn't reach others
        plain.add(Note(title="plain"))
        plain.commit()
        assert plain.scalar(select(Note.stamp).where(Note.title == "plain")) is None


def test_after_begin_gets_connection(db: Engine, calls: list[Any]) -> None:
    s = Session(db)

    @event.listens_for(s, "after_begin")
    def began(session: Session, transaction: Any, connection: Any) -> None:
        calls.append((session, connection.execute(text("SELECT 1")).scalar()))

    s.execute(select(Note))
    assert calls == [(s, 1)]
    s.close()


def test_do_orm_execute_can_change_statements(db: Engine, calls: list[Any]) -> None:
    with Session(db) as s:
        s.add_all([Tenant(org="a"), Tenant(org="b"), Tenant(org="a")])
        s.commit()

    maker = sessionmaker(db)

    @event.listens_for(maker, "do_orm_execute")
    def only_org_a(state: Any) -> None:
        calls.append((state.is_select, state.is_update))
        if state.is_select and state.is_orm_statement:
            state.statement = state.statement.where(Tenant.org == "a")

    with maker() as s:
        assert len(s.scalars(select(Tenant)).all()) == 2
        assert calls[0] == (True, False)


def test_do_orm_execute_can_return_a_result(db: Engine) -> None:
    s = Session(db)
    seen: list[Any] = []

    @event.listens_for(s, "do_orm_execute")
    def wrap(state: Any) -> Any:
        result = state.invoke_statement()
        seen.append(state.statement)
        return result

    s.add(Tenant(org="x"))
    s.commit()
    assert [t.org for t in s.scalars(select(Tenant))] == ["x"]
    assert seen
    s.close()


def test_listen_on_session_class(db: Engine, calls: list[Any]) -> None:
    class MySession(Session):
        pass

    def on_commit(session: Session) -> None:
        calls.append(type(session))

    event.listen(MySession, "after_commit", on_commit)
    try:
        with MySession(db) as s:
            s.commit()
        with Session(db) as s:
            s.commit()
        assert calls == [MySession]
    finally:
        event.remove(MySession, "after_commit", on_commit)


# --------------------------------------------------------------------------- mapper


def test_mapper_persistence_events(db: Engine, calls: list[Any]) -> None:
    class B(DeclarativeBase):
        pass

    class Item(B):
        __tablename__ = "ev_items"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(20))
        updated_by: Mapped[Optional[str]] = mapped_column(String(20))

    B.metadata.create_all(db)

    for name in (
        "before_insert",
        "after_insert",
        "before_update",
        "after_update",
        "before_delete",
        "after_delete",
    ):

        def record(mapper: Any, connection: Any, target: Any, _name: str = name) -> None:
            assert isinstance(mapper, Mapper) and mapper.class_ is Item
            calls.append((_name, target.name))

        event.listen(Item, name, record)

    @event.listens_for(Item, "before_update")
    def touch(mapper: Any, connection: Any, target: Any) -> None:
        target.updated_by = "listener"  # a change made here is written too

    @event.listens_for(Item, "after_insert")
    def has_key(mapper: Any, connection: Any, target: Any) -> None:
        assert target.id is not None
        connection.execute(text("SELECT 1"))  # the flush's connection works

    with Session(db) as s:
        item = Item(name="a")
        s.add(item)
        s.commit()
        item.name = "b"
        s.commit()
        assert s.scalar(select(Item.updated_by)) == "listener"
        s.delete(item)
        s.commit()
    assert calls == [
        ("before_insert", "a"),
        ("after_insert", "a"),
        ("before_update", "b"),
        ("after_update", "b"),
        ("before_delete", "b"),
        ("after_delete", "b"),
    ]


def test_load_and_refresh_events(db: Engine, calls: list[Any]) -> None:
    class B(DeclarativeBase):
        pass

    class Thing(B):
        __tablename__ = "ev_things"
        id: Mapped[int] = mapped_column(primary_key=True)
        v: Mapped[int]

    B.metadata.create_all(db)

    @event.listens_for(Thing, "load")
    def on_load(target: Any, context: Any) -> None:
        calls.append(("load", target.v))

    @event.listens_for(Thing, "refresh")
    def on_refresh(target: Any, context: Any, attrs: Any) -> None:
        calls.append(("refresh", target.v))

    with Session(db) as s:
        s.add(Thing(id=1, v=5))
        s.commit()
    with Session(db) as s:
        t = s.scalars(select(Thing)).one()
        s.scalars(select(Thing)).one()  # already loaded: no second load event
        assert calls == [("load", 5)]
        s.refresh(t)
        assert calls == [("load", 5), ("refresh", 5)]


def test_mapper_events_on_base_class_reach_subclasses(db: Engine, calls: list[Any]) -> None:
    class B(DeclarativeBase):
        pass

    class Audited:
        pass

    @event.listens_for(Audited, "before_insert", propagate=True)
    def audit(mapper: Any, connection: Any, target: Any) -> None:
        calls.append(type(target).__name__)

    class One(Audited, B):
        __tablename__ = "ev_one"
        id: Mapped[int] = mapped_column(primary_key=True)

    B.metadata.create_all(db)
    with Session(db) as s:
        s.add(One())
        s.commit()
    assert calls == ["One"]


# --------------------------------------------------------------------------- attributes


def test_attribute_set_event(db: Engine, calls: list[Any]) -> None:
    class B(DeclarativeBase):
        pass

    class Doc(B):
        __tablename__ = "ev_docs"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(30))

    B.metadata.create_all(db)

    @event.listens_for(Doc.title, "set")
    def on_set(target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
        calls.append((value, oldvalue))

    @event.listens_for(Doc.title, "set", retval=True)
    def upper(target: Any, value: Any, oldvalue: Any, initiator: Any) -> Any:
        return value.upper()

    with Session(db) as s:
        d = Doc(title="a")
        assert d.title == "A"
        s.add(d)
        s.commit()
        d.title = "b"  # expired by the commit: the old value is not loaded for the event
        assert calls[0] == ("a", NO_VALUE)
        assert calls[1] == ("b", NO_VALUE)
        s.commit()
        assert s.scalar(select(Doc.title)) == "B"
        seen: list[Any] = []

        def with_history(target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
            seen.append(oldvalue)

        event.listen(Doc.title, "set", with_history, active_history=True)
        d.title = "c"  # expired again: now the old value is loaded first
        assert seen == ["B"]


def test_attribute_init_scalar_event() -> None:
    class B(DeclarativeBase):
        pass

    class Counter(B):
        __tablename__ = "ev_counters"
        id: Mapped[int] = mapped_column(primary_key=True)
        n: Mapped[int] = mapped_column(default=7)

    @event.listens_for(Counter.n, "init_scalar", retval=True)
    def init_n(target: Any, value: Any, dict_: dict[str, Any]) -> Any:
        dict_["n"] = 7
        return 7

    c = Counter()
    assert c.n == 7
    assert c.__dict__["n"] == 7


def test_event_remove_and_contains(db: Engine) -> None:
    calls: list[Any] = []

    def fn(*args: Any) -> None:
        calls.append(args)

    event.listen(Note, "before_insert", fn)
    assert event.contains(Note, "before_insert", fn)
    event.remove(Note, "before_insert", fn)
    assert not event.contains(Note, "before_insert", fn)
    with Session(db) as s:
        s.add(Note(title="x"))
        s.commit()
    assert calls == []


# --------------------------------------------------------------------------- validates


def test_validates(db: Engine) -> None:
    c = Checked(email="A@X.ORG", name="  ann ")
    assert c.email == "a@x.org" and c.name == "ann"  # runs in the constructor
    with pytest.raises(ValueError, match="needs an @"):
        Checked(email="nope")
    with Session(db) as s:
        s.add(c)
        s.commit()
        with pytest.raises(ValueError):
            c.email = "still nope"
        assert c.email == "a@x.org"
        c.email = "B@Y.ORG"
        s.commit()
        assert s.scalar(select(Checked.email)) == "b@y.org"
    # values loaded from the database don't go through validators
    with Session(db) as s:
        s.execute(text("UPDATE checked SET email = 'RAW'"))
        assert s.scalars(select(Checked)).one().email == "RAW"


def test_validates_unknown_attribute_teaches() -> None:
    class B(DeclarativeBase):
        pass

    with pytest.raises(Exception, match="no mapped attribute 'nope'"):

        class Bad(B):
            __tablename__ = "bad"
            id: Mapped[int] = mapped_column(primary_key=True)

            @validates("nope")
            def _v(self, key: str, value: Any) -> Any:
                return value
