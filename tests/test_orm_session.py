"""The Session on real SQLite and PostgreSQL: construction (Session, sessionmaker,
scoped_session), transactions (commit, rollback, begin, begin_nested), object states
through inspect(), the identity map (sameness, get() without SQL), dirty tracking,
expire/refresh/merge/expunge, no_autoflush, info, and the warning for a Session
garbage-collected while it holds a connection.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Optional

import pytest

from conftest import SQLLog
from hermetic import ForeignKey, String, exc, func, inspect, select, text
from hermetic.engine import Engine
from hermetic.orm import (
    DeclarativeBase,
    DetachedInstanceError,
    Mapped,
    Session,
    make_transient,
    mapped_column,
    object_session,
    scoped_session,
    sessionmaker,
)
from hermetic.orm.attributes import flag_modified, get_history


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    email: Mapped[Optional[str]] = mapped_column(String(100))
    balance: Mapped[int] = mapped_column(default=0)


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str] = mapped_column(String(100))


@pytest.fixture
def db(orm_engine: Engine) -> Iterator[Engine]:
    Base.metadata.create_all(orm_engine)
    yield orm_engine


def _names(engine: Engine) -> list[str]:
    """User names as another connection sees them (committed data only)."""
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT name FROM users ORDER BY id")).scalars())


def _seed(engine: Engine, *names: str) -> None:
    with Session(engine) as s:
        s.add_all([User(name=n) for n in names])
        s.commit()


# --------------------------------------------------------------------------- basics


def test_session_context_manager_returns_connection(db: Engine) -> None:
    with Session(db) as s:
        assert not s.in_transaction()
        s.add(User(name="a"))
        assert s.in_transaction()  # autobegin
        assert db.pool.checkedout() == 0  # no connection until SQL must run
        s.flush()
        assert db.pool.checkedout() == 1
        s.commit()
        assert db.pool.checkedout() == 0
        assert not s.in_transaction()
    assert db.pool.checkedout() == 0
    assert _names(db) == ["a"]


def test_close_without_commit_rolls_back(db: Engine) -> None:
    with Session(db) as s:
        s.add(User(name="a"))
        s.flush()
    assert _names(db) == []


def test_object_states(db: Engine) -> None:
    u = User(name="a")
    st = inspect(u)
    assert st.transient and not (st.pending or st.persistent or st.deleted or st.detached)
    s = Session(db)
    s.add(u)
    assert st.pending and u in s and object_session(u) is s
    s.flush()
    assert st.persistent and st.identity == (u.id,) and st.key[1] == (u.id,)
    s.delete(u)
    assert st.persistent and u in s.deleted
    s.flush()
    assert st.deleted and not st.persistent
    assert u not in s  # a flushed DELETE takes the object out of the session
    s.commit()
    assert st.detached and st.was_deleted
    assert object_session(u) is None
    u2 = User(name="b")
    s.add(u2)
    s.commit()
    s.close()
    assert inspect(u2).detached
    s2 = Session(db)
    s2.add(u2)
    assert inspect(u2).persistent
    s2.expunge(u2)
    assert inspect(u2).detached
    s2.close()


def test_add_all_new_dirty_deleted(db: Engine) -> None:
    _seed(db, "x", "y")
    with Session(db) as s:
        x, y = s.scalars(select(User).order_by(User.id)).all()
        a, b = User(name="a"), User(name="b")
        s.add_all([a, b])
        assert s.new == {a, b} and len(s.new) == 2
        x.name = "x2"
        assert x in s.dirty and y not in s.dirty
        s.delete(y)
        assert y in s.deleted and list(s.deleted) == [y]
        s.commit()
        assert not s.new and not s.dirty and not s.deleted
    assert _names(db) == ["x2", "a", "b"]


def test_identity_map_sameness_and_get_without_sql(db: Engine) -> None:
    _seed(db, "a", "b")
    log = SQLLog(db)
    with Session(db) as s:
        u = s.scalars(select(User).where(User.name == "a")).one()
        again = s.scalars(select(User).order_by(User.id)).first()
        assert again is u
        assert s.execute(select(User, User.name).where(User.id == u.id)).one()[0] is u
        assert inspect(u).key in s.identity_map
        assert s.identity_map[inspect(u).key] is u
        log.clear()
        assert s.get(User, u.id) is u
        assert s.get(User, (u.id,)) is u
        assert s.get(User, {"id": u.id}) is u
        assert s.get_one(User, u.id) is u
        assert log.statements == []  # identity-map hits: no SQL
        other = s.get(User, u.id + 1)
        assert other is not None and other.name == "b"
        assert log.count("SELECT") == 1
        assert s.get(User, 999) is None
        with pytest.raises(exc.NoResultFound):
            s.get_one(User, 999)
    log.remove()


def test_get_wrong_key_shape_teaches(db: Engine) -> None:
    with Session(db) as s, pytest.raises(exc.InvalidRequestError, match="primary key"):
        s.get(User, (1, 2))


def test_dirty_tracking_and_update_of_changed_columns(db: Engine) -> None:
    _seed(db, "a")
    log = SQLLog(db)
    with Session(db) as s:
        u = s.scalars(select(User)).one()
        assert not s.is_modified(u)
        u.name = "a"  # same value: marked dirty, but not modified
        assert u in s.dirty
        assert not s.is_modified(u)
        log.clear()
        s.flush()
        assert log.count("UPDATE") == 0
        u.balance = 10
        assert s.is_modified(u)
        assert get_history(u, "balance") == ([10], (), [0])
        log.clear()
        s.commit()
        updates = log.matching("UPDATE")
        assert len(updates) == 1
        assert "balance" in updates[0] and "name" not in updates[0] and "email" not in updates[0]
    with Session(db) as s:
        assert s.scalars(select(User.balance)).one() == 10
    log.remove()


def test_flag_modified_writes_unchanged_value(db: Engine) -> None:
    _seed(db, "a")
    log = SQLLog(db)
    with Session(db) as s:
        u = s.scalars(select(User)).one()
        flag_modified(u, "name")
        assert s.is_modified(u)
        log.clear()
        s.commit()
        assert log.count("UPDATE") == 1
    log.remove()


def test_expire_on_commit_reloads_on_access(db: Engine) -> None:
    log = SQLLog(db)
    with Session(db) as s:
        u = User(name="a")
        s.add(u)
        s.commit()
        assert "name" not in u.__dict__
        assert inspect(u).expired_attributes >= {"name", "balance"}
        log.clear()
        assert u.name == "a"  # reloads in a new transaction
        assert log.count("SELECT") == 1
        assert u.balance == 0
        assert log.count("SELECT") == 1  # all expired columns came back together
    log.remove()


def test_expire_on_commit_false_keeps_values(db: Engine) -> None:
    maker = sessionmaker(db, expire_on_commit=False)
    with maker() as s:
        u = User(name="a")
        s.add(u)
        s.commit()
    assert u.name == "a"  # detached but loaded: no error
    assert inspect(u).detached


def test_detached_expired_attribute_teaches(db: Engine) -> None:
    with Session(db) as s:
        u = User(name="a")
        s.add(u)
        s.commit()
    with pytest.raises(DetachedInstanceError) as info:
        _ = u.name
    message = str(info.value)
    assert "'name'" in message
    assert "expire_on_commit=False" in message


def test_expire_and_refresh(db: Engine) -> None:
    _seed(db, "a")
    with Session(db) as s:
        u = s.scalars(select(User)).one()
        # a change behind the ORM's back (Core SQL in the session's transaction)
        s.execute(text("UPDATE users SET name = 'changed', balance = 5"))
        assert u.name == "a"  # still the loaded value
        s.expire(u, ["name"])
        assert "name" not in u.__dict__ and "balance" in u.__dict__
        assert u.name == "changed"
        assert u.balance == 0
        s.refresh(u)
        assert u.balance == 5
        u.name = "mine"
        s.expire_all()
        assert not s.dirty
        assert u.name == "changed"  # the unflushed change is gone


def test_refresh_attribute_names(db: Engine) -> None:
    _seed(db, "a")
    with Session(db) as s:
        u = s.scalars(select(User)).one()
        s.execute(text("UPDATE users SET name = 'n', balance = 3"))
        s.refresh(u, ["balance"])
        assert (u.name, u.balance) == ("a", 3)


def test_rollback_expires_and_makes_new_objects_transient(db: Engine) -> None:
    _seed(db, "a")
    with Session(db) as s:
        u = s.scalars(select(User)).one()
        u.name = "changed"
        new = User(name="new")
        pending = User(name="pending")
        s.add(new)
        s.flush()
        new_id = new.id
        assert inspect(new).persistent
        s.add(pending)
        doomed = s.get(User, u.id)
        s.delete(doomed)
        s.flush()
        assert inspect(u).deleted
        s.rollback()
        # the object inserted in the rolled-back transaction is transient again
        assert inspect(new).transient and new not in s
        assert new.name == "new" and new.id == new_id
        # the pending one is expunged
        assert inspect(pending).transient and pending not in s
        # the deleted one is persistent again, expired, and reloads its row
        assert inspect(u).persistent
        assert "name" not in u.__dict__
        assert u.name == "a"
        assert not s.dirty and not s.new and not s.deleted
    assert _names(db) == ["a"]


def test_begin_context_manager(db: Engine) -> None:
    s = Session(db)
    with s.begin():
        s.add(User(name="a"))
    assert _names(db) == ["a"]
    assert not s.in_transaction()
    with pytest.raises(RuntimeError), s.begin():
        s.add(User(name="b"))
        s.flush()
        raise RuntimeError("boom")
    assert _names(db) == ["a"]
    s.close()
    s2 = Session(db)
    s2.add(User(name="c"))
    with pytest.raises(exc.InvalidRequestError, match="already"):
        s2.begin()
    s2.close()


def test_sessionmaker_options_and_begin(db: Engine) -> None:
    class MySession(Session):
        pass

    maker = sessionmaker(
        bind=db, class_=MySession, autoflush=False, expire_on_commit=False, info={"a": 1}
    )
    with maker() as s:
        assert isinstance(s, MySession)
        assert s.autoflush is False and s.expire_on_commit is False
        assert s.info == {"a": 1}
        s.add(User(name="x"))
        assert s.scalar(select(func.count()).select_from(User)) == 0  # no autoflush
    with maker(info={"b": 2}) as s:
        assert s.info == {"a": 1, "b": 2}
    with maker.begin() as s:
        s.add(User(name="committed"))
    assert _names(db) == ["committed"]
    with pytest.raises(ValueError), maker.begin() as s:
        s.add(User(name="nope"))
        raise ValueError
    assert _names(db) == ["committed"]
    assert db.pool.checkedout() == 0


def test_begin_nested_savepoint(db: Engine) -> None:
    with Session(db) as s:
        s.add(User(name="outer"))
        with s.begin_nested():
            s.add(User(name="kept"))
        assert s.in_nested_transaction() is False
        inner = User(name="dropped")
        nested = s.begin_nested()
        s.add(inner)
        s.flush()
        assert s.in_nested_transaction()
        nested.rollback()
        assert inspect(inner).transient
        assert s.scalars(select(User.name).order_by(User.id)).all() == ["outer", "kept"]
        with pytest.raises(KeyError), s.begin_nested():
            s.add(User(name="also dropped"))
            s.flush()
            raise KeyError
        s.commit()
    assert _names(db) == ["outer", "kept"]


def test_no_autoflush(db: Engine) -> None:
    with Session(db) as s:
        s.add(User(name="a"))
        with s.no_autoflush:
            assert s.scalar(select(func.count()).select_from(User)) == 0
            assert s.new
        assert s.scalar(select(func.count()).select_from(User)) == 1  # autoflush
        assert not s.new


def test_execute_scalar_scalars(db: Engine) -> None:
    _seed(db, "a", "b")
    with Session(db) as s:
        assert s.scalar(select(func.count(User.id))) == 2
        assert s.scalars(select(User.name).order_by(User.name)).all() == ["a", "b"]
        rows = s.execute(text("SELECT name FROM users WHERE name = :n"), {"n": "b"}).all()
        assert [tuple(r) for r in rows] == [("b",)]
        assert s.execute(select(User.id, User.name).order_by(User.id)).all()[1].name == "b"
        conn = s.connection()
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 2


def test_expunge_and_expunge_all(db: Engine) -> None:
    _seed(db, "a", "b")
    with Session(db) as s:
        a, b = s.scalars(select(User).order_by(User.id)).all()
        s.expunge(a)
        assert a not in s and inspect(a).detached
        assert s.scalars(select(User).order_by(User.id)).first() is not a
        s.expunge_all()
        assert b not in s and len(s.identity_map) == 0
        with pytest.raises(exc.InvalidRequestError):
            s.expunge(b)


def test_merge(db: Engine) -> None:
    _seed(db, "a")
    with Session(db) as s:
        loaded = s.scalars(select(User)).one()
        uid = loaded.id
        detached = User(id=uid, name="merged", email="m@x")
        merged = s.merge(detached)
        assert merged is loaded and merged is not detached
        assert merged.name == "merged" and merged in s.dirty
        assert detached not in s
        new = s.merge(User(id=uid + 100, name="brand new"))
        assert new in s.new
        s.commit()
    assert _names(db) == ["merged", "brand new"]
    with Session(db) as s:
        merged = s.merge(User(id=uid, name="again"))  # loads the row, then copies
        assert inspect(merged).persistent and merged.email == "m@x"
        s.commit()
    assert _names(db)[0] == "again"


def test_add_object_of_another_session_teaches(db: Engine) -> None:
    _seed(db, "a")
    with Session(db) as s1, Session(db) as s2:
        u = s1.scalars(select(User)).one()
        with pytest.raises(exc.InvalidRequestError, match="merge"):
            s2.add(u)


def test_make_transient(db: Engine) -> None:
    _seed(db, "a")
    with Session(db) as s:
        u = s.scalars(select(User)).one()
        make_transient(u)
        assert inspect(u).transient
        u.id = None
        s.add(u)
        s.commit()
    assert _names(db) == ["a", "a"]


def test_info_dicts(db: Engine) -> None:
    s = Session(db, info={"k": 1})
    assert s.info["k"] == 1
    s.info["x"] = 2
    assert s.info == {"k": 1, "x": 2}
    u = User(name="a")
    inspect(u).info["note"] = True
    assert inspect(u).info == {"note": True}
    s.close()


def test_scoped_session(db: Engine) -> None:
    Scoped = scoped_session(sessionmaker(db))
    s = Scoped()
    assert Scoped() is s
    Scoped.add(User(name="a"))  # proxies to the current session
    Scoped.commit()
    seen: list[object] = []

    def other() -> None:
        seen.append(Scoped())
        Scoped.remove()

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen[0] is not s  # one session per thread
    assert Scoped.query(User).count() == 1
    Scoped.remove()
    assert Scoped() is not s
    Scoped.remove()
    assert _names(db) == ["a"]
    assert db.pool.checkedout() == 0


def test_identity_map_holds_objects_weakly(db: Engine) -> None:
    _seed(db, "a")
    with Session(db) as s:
        u = s.scalars(select(User)).one()
        key = inspect(u).key
        del u
        gc.collect()
        assert key not in s.identity_map
        # a modified object is held until flushed
        u = s.scalars(select(User)).one()
        u.name = "kept"
        del u
        gc.collect()
        s.commit()
    assert _names(db) == ["kept"]


def test_leaked_session_returns_connection_with_warning(db: Engine) -> None:
    def leak() -> None:
        s = Session(db)
        s.add(User(name="never committed"))
        s.flush()
        assert db.pool.checkedout() == 1

    with pytest.warns(exc.ConnectionLeakWarning) as record:
        leak()
        gc.collect()
    assert db.pool.checkedout() == 0
    message = str(record[0].message)
    assert "test_orm_session.py" in message and "leak" in message
    assert _names(db) == []
