"""The unit of work: the pure flush planner (``plan_flush``, no database) and the flush
on real SQLite and PostgreSQL: foreign-key ordering over three levels, batched INSERTs
(executemany, multi-row INSERT ... RETURNING), UPDATE of changed columns only,
defaults, version_id_col optimistic locking, autoflush, and a failed flush that leaves
the database and the objects as they were and the Session waiting for rollback().
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, Optional

import pytest

from conftest import SQLLog
from hermetic import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    exc,
    func,
    inspect,
    select,
    text,
)
from hermetic.engine import Engine
from hermetic.orm import DeclarativeBase, Mapped, Session, mapped_column
from hermetic.orm.exc import FlushError, StaleDataError
from hermetic.orm.unitofwork import Change, plan_flush

# --------------------------------------------------------------------------- pure planner

_md = MetaData()
t_a = Table("a", _md, Column("id", Integer, primary_key=True), Column("v", String(10)))
t_b = Table(
    "b",
    _md,
    Column("id", Integer, primary_key=True),
    Column("a_id", ForeignKey("a.id")),
    Column("v", String(10)),
)
t_c = Table(
    "c",
    _md,
    Column("id", Integer, primary_key=True),
    Column("b_id", ForeignKey("b.id")),
    Column("parent_id", ForeignKey("c.id")),
)
t_x = Table("x", _md, Column("id", Integer, primary_key=True))


def _shape(plan: list[Any]) -> list[tuple[str, str, int]]:
    return [(b.kind, b.table.name, len(b.changes)) for b in plan]


def test_planner_orders_tables_by_foreign_keys() -> None:
    inserts = [
        Change(t_c, {"id": 1, "b_id": 1}, owner="c1"),
        Change(t_b, {"id": 1, "a_id": 1}, owner="b1"),
        Change(t_a, {"id": 1}, owner="a1"),
        Change(t_c, {"id": 2, "b_id": 1}, owner="c2"),
    ]
    plan = plan_flush(inserts, [], [])
    assert _shape(plan) == [("insert", "a", 1), ("insert", "b", 1), ("insert", "c", 2)]
    assert [c.owner for c in plan[2].changes] == ["c1", "c2"]  # session order kept


def test_planner_deletes_in_reverse_order_after_inserts_and_updates() -> None:
    deletes = [
        Change(t_a, {}, owner="a1", pk={"id": 1}),
        Change(t_c, {}, owner="c1", pk={"id": 1}),
        Change(t_b, {}, owner="b1", pk={"id": 1}),
    ]
    updates = [Change(t_b, {"v": "x"}, owner="b2", pk={"id": 2})]
    inserts = [Change(t_b, {"id": 3, "a_id": 2}, owner="b3"), Change(t_a, {"id": 2}, owner="a2")]
    plan = plan_flush(inserts, updates, deletes)
    assert _shape(plan) == [
        ("insert", "a", 1),
        ("insert", "b", 1),
        ("update", "b", 1),
        ("delete", "c", 1),
        ("delete", "b", 1),
        ("delete", "a", 1),
    ]
    assert plan[2].keys == ("v",) and plan[2].where_keys == ("id",)


def test_planner_batches_rows_with_the_same_columns() -> None:
    inserts = [
        Change(t_a, {"id": 1, "v": "a"}, owner=1),
        Change(t_a, {"id": 2, "v": "b"}, owner=2),
        Change(t_a, {"v": "c"}, owner=3, returning=("id",)),
        Change(t_a, {"v": "d"}, owner=4, returning=("id",)),
        Change(t_a, {"id": 5, "v": "e"}, owner=5),
    ]
    plan = plan_flush(inserts, [], [])
    assert _shape(plan) == [("insert", "a", 2), ("insert", "a", 2), ("insert", "a", 1)]
    assert plan[1].returning == ("id",) and plan[0].returning == ()
    updates = [
        Change(t_a, {"v": "x"}, owner=1, pk={"id": 1}),
        Change(t_a, {"v": "y"}, owner=2, pk={"id": 2}),
        Change(t_a, {"v": "z"}, owner=3, pk={"id": 3}, version=("id", 3)),
    ]
    plan = plan_flush([], updates, [])
    assert _shape(plan) == [("update", "a", 2), ("update", "a", 1)]
    assert plan[1].where_keys == ("id", "id")


def test_planner_orders_rows_of_a_self_referencing_table() -> None:
    parent, child, grandchild = object(), object(), object()
    inserts = [
        Change(t_c, {"b_id": 1}, owner=grandchild, depends_on=child),
        Change(t_c, {"b_id": 1}, owner=child, depends_on=parent),
        Change(t_c, {"b_id": 1}, owner=parent),
    ]
    plan = plan_flush(inserts, [], [])
    owners = [c.owner for b in plan for c in b.changes]
    assert owners == [parent, child, grandchild]
    # a row waits for the batch holding the row it refers to
    assert len(plan) == 3
    deletes = [
        Change(t_c, {}, owner=parent, pk={"id": 1}),
        Change(t_c, {}, owner=child, pk={"id": 2}, depends_on=parent),
    ]
    owners = [c.owner for b in plan_flush([], [], deletes) for c in b.changes]
    assert owners == [child, parent]  # children deleted first


def test_planner_sends_a_tree_as_one_batch_per_level() -> None:
    root, a, b, a1, a2, b1 = (object() for _ in range(6))
    inserts = [
        Change(t_c, {"b_id": 1}, owner=root),
        Change(t_c, {"b_id": 1}, owner=a, depends_on=root),
        Change(t_c, {"b_id": 1}, owner=a1, depends_on=a),
        Change(t_c, {"b_id": 1}, owner=a2, depends_on=a),
        Change(t_c, {"b_id": 1}, owner=b, depends_on=root),
        Change(t_c, {"b_id": 1}, owner=b1, depends_on=b),
    ]
    plan = plan_flush(inserts, [], [])
    assert [[c.owner for c in batch.changes] for batch in plan] == [[root], [a, b], [a1, a2, b1]]


def test_planner_unrelated_tables_and_empty_input() -> None:
    assert plan_flush([], [], []) == []
    plan = plan_flush([Change(t_x, {"id": 1}), Change(t_a, {"id": 1})], [], [])
    assert {b.table.name for b in plan} == {"x", "a"}
    assert "insert a" in repr(next(b for b in plan if b.table is t_a))


# --------------------------------------------------------------------------- models


class Base(DeclarativeBase):
    pass


class Country(Base):
    __tablename__ = "countries"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))


class City(Base):
    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(primary_key=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"))
    name: Mapped[str] = mapped_column(String(30))


class Street(Base):
    __tablename__ = "streets"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"))
    name: Mapped[str] = mapped_column(String(30))


_counter = itertools.count(1)


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    qty: Mapped[int] = mapped_column(default=1)
    code: Mapped[int] = mapped_column(default=lambda: next(_counter))
    # the context holds values given for later columns too
    label: Mapped[str] = mapped_column(
        String(40), default=lambda ctx: f"label-{ctx.get_current_parameters().get('name')}"
    )
    name: Mapped[str] = mapped_column(String(30), unique=True)
    server: Mapped[str] = mapped_column(String(10), server_default="srv")
    touched: Mapped[int] = mapped_column(default=0, onupdate=lambda: 99)
    note: Mapped[Optional[str]] = mapped_column(String(30))


class Doc(Base):
    __tablename__ = "docs"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Tag(Base):
    """A table with a key given by the application (no RETURNING needed)."""

    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    weight: Mapped[int] = mapped_column(default=0)


@pytest.fixture
def db(orm_engine: Engine) -> Iterator[Engine]:
    Base.metadata.create_all(orm_engine)
    yield orm_engine


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar())


# --------------------------------------------------------------------------- ordering


def test_flush_orders_three_levels_of_foreign_keys(db: Engine, sql_log: SQLLog) -> None:
    with Session(db) as s:
        # added children first: the flush must still insert parents first
        s.add_all(
            [
                Street(id=1, city_id=1, name="main st"),
                Street(id=2, city_id=2, name="high st"),
                City(id=1, country_id=1, name="paris"),
                City(id=2, country_id=1, name="lyon"),
                Country(id=1, name="france"),
            ]
        )
        sql_log.clear()
        s.commit()
        order = [stmt.split()[2] for stmt in sql_log.matching("INSERT")]
        assert order == ["countries", "cities", "streets"]
        assert sum(1 for m, st in zip(sql_log.many, sql_log.statements, strict=True) if m) == 2
        # deletes go children first, whatever order they were marked in
        objects = [s.get(Country, 1), s.get(City, 1), s.get(City, 2)]
        objects += [s.get(Street, 1), s.get(Street, 2)]
        for obj in objects:
            s.delete(obj)
        sql_log.clear()
        s.commit()
        order = [stmt.split()[2] for stmt in sql_log.matching("DELETE")]
        assert order == ["streets", "cities", "countries"]
    assert _count(db, "countries") == 0


def test_flush_orders_inserts_before_updates_that_refer_to_them(db: Engine) -> None:
    with Session(db) as s:
        s.add(Country(id=1, name="a"))
        s.add(City(id=1, country_id=1, name="c"))
        s.commit()
        city = s.get(City, 1)
        city.country_id = 2  # refers to a country added in the same flush
        s.add(Country(id=2, name="b"))
        s.commit()
        assert s.get(City, 1).country_id == 2


# --------------------------------------------------------------------------- batching


def test_inserts_with_server_keys_are_one_multirow_returning(db: Engine, sql_log: SQLLog) -> None:
    with Session(db) as s:
        items = [Item(name=f"i{n}") for n in range(25)]
        s.add_all(items)
        sql_log.clear()
        s.flush()
        inserts = sql_log.matching("INSERT")
        assert len(inserts) == 1
        assert "RETURNING" in inserts[0].upper()
        ids = [i.id for i in items]
        assert None not in ids and len(set(ids)) == 25
        # every object got the key of its own row
        rows = dict(s.execute(select(Item.name, Item.id)).all())
        assert all(rows[i.name] == i.id for i in items)
        s.commit()


def test_inserts_with_known_keys_use_executemany(db: Engine, sql_log: SQLLog) -> None:
    with Session(db) as s:
        s.add_all([Tag(name=f"t{n}") for n in range(10)])
        sql_log.clear()
        s.flush()
        assert len(sql_log.matching("INSERT")) == 1
        assert sql_log.many[0] is True
        assert "RETURNING" not in sql_log.statements[0].upper()
        s.commit()
    assert _count(db, "tags") == 10


def test_updates_and_deletes_are_batched(db: Engine, sql_log: SQLLog) -> None:
    with Session(db) as s:
        tags = [Tag(name=f"t{n}") for n in range(6)]
        s.add_all(tags)
        s.commit()
        for n, t in enumerate(tags):
            t.weight = n + 10
        sql_log.clear()
        s.flush()
        assert len(sql_log.matching("UPDATE")) == 1 and sql_log.many == [True]
        for t in tags:
            s.delete(t)
        sql_log.clear()
        s.flush()
        assert len(sql_log.matching("DELETE")) == 1 and sql_log.many == [True]
        s.commit()
    assert _count(db, "tags") == 0


def test_defaults_python_callable_context_and_server(db: Engine, sql_log: SQLLog) -> None:
    with Session(db) as s:
        a = Item(name="a")
        b = Item(name="b", qty=5, label="mine")
        s.add_all([a, b])
        sql_log.clear()
        s.flush()
        assert sql_log.count() == 1  # one multi-row INSERT ... RETURNING id, server
        assert "server" in sql_log.statements[0].split("RETURNING")[1]
        assert a.qty == 1 and b.qty == 5
        assert a.label == "label-a" and b.label == "mine"
        assert isinstance(a.code, int) and a.code != b.code
        assert a.server == "srv" and b.server == "srv"  # came back with the keys
        assert a.touched == 0
        s.commit()
        a.note = "changed"
        s.flush()
        assert a.touched == 99  # onupdate
        s.commit()
        a_id = a.id
    with Session(db) as s:
        row = s.get(Item, a_id)
        assert (row.touched, row.server, row.note) == (99, "srv", "changed")


def test_update_only_changed_columns(db: Engine, sql_log: SQLLog) -> None:
    with Session(db) as s:
        s.add(Tag(name="t", weight=1))
        s.commit()
        t = s.get(Tag, "t")
        t.weight = 2
        sql_log.clear()
        s.commit()
        (update,) = sql_log.matching("UPDATE")
        set_clause = update.upper().split(" SET ")[1].split(" WHERE ")[0]
        assert "WEIGHT" in set_clause and "NAME" not in set_clause


def test_primary_key_change_updates_identity(db: Engine) -> None:
    with Session(db) as s:
        s.add(Tag(name="old", weight=1))
        s.commit()
        t = s.get(Tag, "old")
        t.name = "new"
        s.commit()
        assert inspect(t).identity == ("new",)
        assert s.get(Tag, "new") is t
        assert s.get(Tag, "old") is None
    assert _count(db, "tags") == 1


# --------------------------------------------------------------------------- autoflush


def test_autoflush_before_queries(db: Engine, sql_log: SQLLog) -> None:
    with Session(db) as s:
        s.add(Tag(name="a"))
        sql_log.clear()
        got = s.scalars(select(Tag.name)).all()
        assert got == ["a"]
        assert sql_log.count("INSERT") == 1
        assert sql_log.statements.index(sql_log.matching("INSERT")[0]) < (
            sql_log.statements.index(sql_log.matching("SELECT")[0])
        )
        t = s.get(Tag, "a")
        t.weight = 3
        assert s.scalar(select(Tag.weight)) == 3
        s.add(Tag(name="b"))
        assert s.query(Tag).count() == 2  # legacy Query autoflushes too


def test_autoflush_disabled_in_session(db: Engine) -> None:
    with Session(db, autoflush=False) as s:
        s.add(Tag(name="a"))
        assert s.scalars(select(Tag)).all() == []
        s.flush()
        assert len(s.scalars(select(Tag)).all()) == 1


# --------------------------------------------------------------------------- versioning


def test_version_id_col_increments_and_detects_stale_update(db: Engine) -> None:
    with Session(db) as s:
        d = Doc(body="v1")
        s.add(d)
        s.commit()
        assert d.version == 1
        d.body = "v2"
        s.commit()
        assert d.version == 2
        doc_id = d.id
    with Session(db) as s1, Session(db) as s2:
        mine = s1.get(Doc, doc_id)
        theirs = s2.get(Doc, doc_id)
        theirs.body = "theirs"
        s2.commit()
        mine.body = "mine"
        with pytest.raises(StaleDataError, match="version"):
            s1.flush()
        with pytest.raises(exc.PendingRollbackError):
            s1.get(Doc, doc_id, populate_existing=True)
        s1.rollback()
        assert mine.body == "theirs" and mine.version == 3


def test_version_id_col_stale_delete(db: Engine) -> None:
    with Session(db) as s:
        s.add(Doc(id=1, body="x"))
        s.commit()
    with Session(db) as s1:
        d = s1.get(Doc, 1)
        with db.begin() as conn:
            conn.execute(text("UPDATE docs SET version = 7 WHERE id = 1"))
        s1.delete(d)
        with pytest.raises(StaleDataError):
            s1.flush()
        s1.rollback()
    assert _count(db, "docs") == 1


def test_update_of_vanished_row_raises_stale_data(db: Engine) -> None:
    with Session(db) as s:
        s.add(Tag(name="t"))
        s.commit()
        t = s.get(Tag, "t")
        s.execute(text("DELETE FROM tags"))
        t.weight = 5
        with pytest.raises(StaleDataError, match="expected to update 1 row"):
            s.flush()
        s.rollback()


# --------------------------------------------------------------------------- failures


def test_failed_flush_leaves_database_and_objects_consistent(db: Engine) -> None:
    with Session(db) as s:
        s.add(Item(name="dup"))
        s.commit()
    with Session(db) as s:
        before = Item(name="first")
        s.add(before)
        s.flush()  # a flushed row in this transaction
        existing = s.scalars(select(Item).where(Item.name == "dup")).one()
        existing.qty = 50
        good = Item(name="good")
        bad = Item(name="dup")  # unique violation
        s.add_all([good, bad])
        with pytest.raises(exc.IntegrityError):
            s.flush()
        # the objects look as they did before the failed flush
        assert inspect(good).pending and good.id is None and inspect(bad).pending
        assert inspect(existing).persistent and existing.qty == 50
        # the session waits for rollback(), and says so
        with pytest.raises(exc.PendingRollbackError, match="rollback"):
            s.scalars(select(Item)).all()
        with pytest.raises(exc.PendingRollbackError):
            s.commit()
        s.rollback()
        assert inspect(good).transient and inspect(bad).transient
        assert inspect(before).transient  # its INSERT was rolled back too
        assert existing.qty == 1  # expired, reloaded
        assert s.scalars(select(Item.name)).all() == ["dup"]
        s.add(Item(name="after"))
        s.commit()  # usable again
    assert _count(db, "items") == 2


def test_failed_flush_in_savepoint_keeps_outer_transaction(db: Engine) -> None:
    with Session(db) as s:
        s.add(Tag(name="outer"))
        s.flush()
        with pytest.raises(exc.IntegrityError), s.begin_nested():
            s.add(Tag(name="outer"))  # duplicate key
            s.flush()
        assert s.is_active and not s.in_nested_transaction()
        s.add(Tag(name="after"))
        s.commit()
        assert sorted(s.scalars(select(Tag.name)).all()) == ["after", "outer"]


def test_failed_flush_in_with_block_is_rolled_back(db: Engine) -> None:
    with pytest.raises(exc.IntegrityError), Session(db) as s, s.begin():
        s.add_all([Tag(name="x"), Tag(name="x")])
    assert _count(db, "tags") == 0
    assert db.pool.checkedout() == 0


def test_null_identity_after_insert_is_a_flush_error(db: Engine) -> None:
    class B2(DeclarativeBase):
        pass

    class NoKey(B2):
        __tablename__ = "nokey"
        code: Mapped[str] = mapped_column(String(10), primary_key=True)

    B2.metadata.create_all(db)
    with Session(db) as s:
        s.add(NoKey())
        with pytest.raises((FlushError, exc.IntegrityError)):
            s.flush()
        s.rollback()


def test_flush_error_for_object_without_values(db: Engine) -> None:
    with Session(db) as s:
        s.add(Item())  # name is NOT NULL
        with pytest.raises(exc.IntegrityError):
            s.commit()
        s.rollback()
        assert s.scalar(select(func.count()).select_from(Item)) == 0
