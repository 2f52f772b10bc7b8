"""ORM-enabled INSERT / UPDATE / DELETE statements on real SQLite and PostgreSQL:
``update(User)`` / ``delete(User)`` with each ``synchronize_session`` mode keeping the
identity map true, bulk INSERT (with ``returning(User)`` giving objects), bulk UPDATE by
primary key, and dialect upserts returning entities with populate_existing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import SQLLog
from hermetic import String, delete, exc, func, insert, inspect, select, text, update
from hermetic.dialects import postgresql, sqlite
from hermetic.engine import Engine
from hermetic.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    score: Mapped[int] = mapped_column(default=0)


@pytest.fixture
def db(orm_engine: Engine) -> Iterator[Engine]:
    Base.metadata.create_all(orm_engine)
    with Session(orm_engine) as s:
        users = [User(name=f"u{i}", score=i * 10) for i in range(1, 5)]
        s.add_all(users)
        s.commit()
        assert [u.id for u in users] == [1, 2, 3, 4]  # keys follow the order of add()
    yield orm_engine


def _scores(engine: Engine) -> dict[int, int]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT id, score FROM users")).all())  # type: ignore[arg-type]


SYNC_MODES = ["auto", "fetch", "evaluate", False]


@pytest.mark.parametrize("mode", SYNC_MODES)
def test_orm_update_synchronize_session(db: Engine, mode: object) -> None:
    with Session(db) as s:
        users = s.scalars(select(User).order_by(User.id)).all()
        result = s.execute(
            update(User).where(User.score >= 20).values(name="big"),
            execution_options={"synchronize_session": mode},
        )
        assert result.rowcount == 3
        names = [u.__dict__.get("name") for u in users]
        if mode is False:
            assert names == ["u1", "u2", "u3", "u4"]  # objects left alone
        else:
            assert names == ["u1", "big", "big", "big"]
            assert not s.dirty  # synchronized values are not changes to flush
        s.commit()
        assert [u.name for u in users] == ["u1", "big", "big", "big"]  # reloaded


@pytest.mark.parametrize("mode", SYNC_MODES)
def test_orm_update_with_sql_expression(db: Engine, mode: object) -> None:
    with Session(db) as s:
        u2 = s.get(User, 2)
        s.execute(
            update(User).where(User.id == 2).values(score=User.score + 1),
            execution_options={"synchronize_session": mode},
        )
        if mode is not False:
            assert u2.score == 21
        s.commit()
        assert u2.score == 21
    assert _scores(db)[2] == 21


@pytest.mark.parametrize("mode", SYNC_MODES)
def test_orm_delete_synchronize_session(db: Engine, mode: object) -> None:
    with Session(db) as s:
        users = s.scalars(select(User).order_by(User.id)).all()
        result = s.execute(
            delete(User).where(User.id > 2),
            execution_options={"synchronize_session": mode},
        )
        assert result.rowcount == 2
        if mode is False:
            assert users[2] in s  # the session does not know
        else:
            assert users[2] not in s and users[3] not in s
            assert inspect(users[2]).deleted
            assert s.get(User, 3) is None  # no stale object from the identity map
        assert users[0] in s
        s.commit()
        if mode is not False:
            assert inspect(users[2]).detached
        assert s.scalars(select(User.id).order_by(User.id)).all() == [1, 2]


def test_orm_update_flushes_pending_changes_first(db: Engine) -> None:
    with Session(db) as s:
        u1 = s.get(User, 1)
        u1.score = 500
        s.execute(update(User).where(User.score > 100).values(name="rich"))
        assert u1.name == "rich"
        s.commit()
    assert _scores(db)[1] == 500


def test_orm_update_returning(db: Engine) -> None:
    with Session(db) as s:
        rows = s.execute(
            update(User).where(User.id <= 2).values(score=7).returning(User.id, User.score)
        ).all()
        assert sorted(tuple(r) for r in rows) == [(1, 7), (2, 7)]


def test_bulk_insert_dicts_executemany(db: Engine, sql_log: SQLLog) -> None:
    with Session(db) as s:
        sql_log.clear()
        s.execute(insert(User), [{"id": 10 + i, "name": f"n{i}"} for i in range(5)])
        assert len(sql_log.matching("INSERT")) == 1 and sql_log.many[-1]
        s.commit()
        assert s.scalar(select(func.count()).select_from(User)) == 9
        assert s.get(User, 10).score == 0  # Python default applied


def test_bulk_insert_returning_entities(db: Engine) -> None:
    with Session(db) as s:
        result = s.execute(
            insert(User).returning(User), [{"name": "x", "score": 1}, {"name": "y", "score": 2}]
        )
        users = result.scalars().all()
        assert [(u.name, u.score) for u in users] == [("x", 1), ("y", 2)]
        assert all(inspect(u).persistent for u in users)
        assert s.get(User, users[0].id) is users[0]
        s.commit()
    assert len(_scores(db)) == 6


def test_bulk_insert_returning_columns(db: Engine) -> None:
    with Session(db) as s:
        rows = s.execute(
            insert(User).returning(User.id, User.name), [{"name": "x"}, {"name": "y"}]
        ).all()
        assert [r.name for r in rows] == ["x", "y"]
        assert len({r.id for r in rows}) == 2
        s.commit()


def test_bulk_update_by_primary_key(db: Engine, sql_log: SQLLog) -> None:
    with Session(db) as s:
        u1 = s.get(User, 1)
        sql_log.clear()
        s.execute(update(User), [{"id": 1, "score": 100}, {"id": 2, "score": 200}])
        assert len(sql_log.matching("UPDATE")) == 1 and sql_log.many[-1]
        assert u1.score == 100  # the loaded object is kept true
        s.commit()
    assert _scores(db) == {1: 100, 2: 200, 3: 30, 4: 40}


def test_bulk_update_without_primary_key_teaches(db: Engine) -> None:
    with Session(db) as s, pytest.raises(exc.InvalidRequestError, match="primary key"):
        s.execute(update(User), [{"score": 1}])


def test_upsert_returning_entities_with_populate_existing(db: Engine) -> None:
    dialect_insert = sqlite.insert if db.dialect.name == "sqlite" else postgresql.insert
    with Session(db) as s:
        u1 = s.get(User, 1)
        stmt = dialect_insert(User).values(
            [{"id": 1, "name": "one", "score": 11}, {"id": 9, "name": "nine", "score": 99}]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[User.id],
            set_={"name": stmt.excluded.name, "score": stmt.excluded.score},
        ).returning(User)
        users = s.execute(stmt, execution_options={"populate_existing": True}).scalars().all()
        by_id = {u.id: u for u in users}
        assert set(by_id) == {1, 9}
        assert by_id[1] is u1 and u1.name == "one" and u1.score == 11
        assert by_id[9].name == "nine" and inspect(by_id[9]).persistent
        s.commit()
    assert _scores(db)[9] == 99


def test_orm_delete_all_rows(db: Engine) -> None:
    with Session(db) as s:
        users = s.scalars(select(User)).all()
        result = s.execute(delete(User))
        assert result.rowcount == 4
        assert all(u not in s for u in users)
        s.commit()
    assert _scores(db) == {}
