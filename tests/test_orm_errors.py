"""ORM errors that teach, on real SQLite and PostgreSQL: each names what happened (the
object, the attribute) and how to fix it. NoResultFound, MultipleResultsFound,
DetachedInstanceError, ObjectDeletedError, FlushError, PendingRollbackError,
UnmappedInstanceError, InvalidRequestError.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import pytest

from hermetic import String, exc, select, text
from hermetic.engine import Engine
from hermetic.orm import (
    DeclarativeBase,
    DetachedInstanceError,
    FlushError,
    Mapped,
    ObjectDeletedError,
    Session,
    UnmappedInstanceError,
    deferred,
    mapped_column,
)
from hermetic.orm import exc as orm_exc


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    bio: Mapped[Optional[str]] = deferred(mapped_column(String(100)))


class Code(Base):
    """A string primary key the database does not generate."""

    __tablename__ = "codes"

    code: Mapped[Optional[str]] = mapped_column(String(10), primary_key=True, nullable=True)
    label: Mapped[Optional[str]] = mapped_column(String(10))


@pytest.fixture
def db(orm_engine: Engine) -> Iterator[Engine]:
    Base.metadata.create_all(orm_engine)
    with Session(orm_engine) as s:
        s.add_all([User(id=1, name="ann", bio="b"), User(id=2, name="bob")])
        s.commit()
    yield orm_engine


def test_exception_hierarchy() -> None:
    assert orm_exc.NoResultFound is exc.NoResultFound
    assert orm_exc.MultipleResultsFound is exc.MultipleResultsFound
    assert issubclass(exc.NoResultFound, exc.InvalidRequestError)
    assert issubclass(exc.PendingRollbackError, exc.InvalidRequestError)
    assert issubclass(ObjectDeletedError, exc.InvalidRequestError)
    assert issubclass(UnmappedInstanceError, exc.InvalidRequestError)
    for cls in (DetachedInstanceError, FlushError, orm_exc.StaleDataError):
        assert issubclass(cls, exc.SQLAlchemyError)


def test_no_result_and_multiple_results(db: Engine) -> None:
    with Session(db) as s:
        with pytest.raises(exc.NoResultFound, match="No row was found"):
            s.execute(select(User).where(User.id == 99)).scalar_one()
        with pytest.raises(exc.NoResultFound):
            s.query(User).filter_by(id=99).one()
        with pytest.raises(exc.MultipleResultsFound, match="Multiple rows"):
            s.execute(select(User)).scalar_one()
        with pytest.raises(exc.MultipleResultsFound):
            s.query(User).one()
        with pytest.raises(exc.NoResultFound, match="User"):
            s.get_one(User, 99)


def test_detached_instance_error_names_attribute_and_fix(db: Engine) -> None:
    with Session(db) as s:
        u = s.get(User, 1)
    with pytest.raises(DetachedInstanceError) as info:
        _ = u.bio  # deferred, never loaded, session closed
    message = str(info.value)
    assert "'bio'" in message and "User" in message
    assert "Session" in message and ("merge" in message or "add" in message)
    with Session(db) as s:
        u = s.get(User, 1)
        s.commit()  # expires
    with pytest.raises(DetachedInstanceError, match="expire_on_commit=False"):
        _ = u.name


def test_object_deleted_error(db: Engine) -> None:
    with Session(db) as s:
        u = s.get(User, 2)
        s.execute(text("DELETE FROM users WHERE id = 2"))
        s.expire(u)
        with pytest.raises(ObjectDeletedError) as info:
            _ = u.name
        assert "deleted" in str(info.value) and "User" in str(info.value)


def test_flush_error_null_identity(db: Engine) -> None:
    with Session(db) as s:
        s.add(Code(label="no key"))
        if db.dialect.name == "sqlite":
            # SQLite accepts a NULL in a non-integer primary key; the flush refuses it
            with pytest.raises(FlushError, match="NULL identity key"):
                s.flush()
        else:
            with pytest.raises(exc.IntegrityError):
                s.flush()
        with pytest.raises(exc.PendingRollbackError):
            s.flush()
        s.rollback()
        assert s.scalars(select(Code)).all() == []  # nothing was left behind


def test_pending_rollback_error_says_why_and_what_to_do(db: Engine) -> None:
    with Session(db) as s:
        s.add(User(id=1, name="duplicate"))
        with pytest.raises(exc.IntegrityError) as first:
            s.flush()
        assert "users" in str(first.value)
        with pytest.raises(exc.PendingRollbackError) as info:
            s.execute(select(User))
        message = str(info.value)
        assert "rollback()" in message and "IntegrityError" in message
        s.rollback()
        assert s.get(User, 1).name == "ann"


def test_autoflush_error_mentions_no_autoflush(db: Engine) -> None:
    with Session(db) as s:
        s.add(User(id=1, name="duplicate"))
        with pytest.raises(exc.IntegrityError, match="no_autoflush"):
            s.execute(select(User)).all()
        s.rollback()


def test_unmapped_instance_error(db: Engine) -> None:
    class Plain:
        pass

    with Session(db) as s:
        with pytest.raises(UnmappedInstanceError, match=r"Plain.*not mapped"):
            s.add(Plain())
        with pytest.raises(UnmappedInstanceError):
            s.delete(Plain())
        with pytest.raises(UnmappedInstanceError):
            s.merge(Plain())


def test_invalid_requests(db: Engine) -> None:
    with Session(db) as s:
        with pytest.raises(exc.InvalidRequestError, match="not persisted"):
            s.delete(User(name="transient"))
        with pytest.raises(exc.InvalidRequestError, match="not present"):
            s.expunge(User(name="transient"))
        with pytest.raises(exc.InvalidRequestError, match="not persistent"):
            s.refresh(User(name="transient"))
        with pytest.raises(exc.InvalidRequestError, match="not persistent"):
            s.expire(User(name="transient"))
        u = s.get(User, 1)
        with Session(db) as other:
            with pytest.raises(exc.InvalidRequestError, match="already attached"):
                other.add(u)
            with pytest.raises(exc.InvalidRequestError, match="another session"):
                other.delete(u)
        s.expunge(u)
        again = s.get(User, 1)
        assert again is not u
        with pytest.raises(exc.InvalidRequestError, match="merge"):
            s.add(u)  # another object with this key is already there


def test_deleted_object_cannot_be_added_again(db: Engine) -> None:
    with Session(db) as s:
        u = s.get(User, 2)
        s.delete(u)
        s.commit()
        with pytest.raises(exc.InvalidRequestError, match="make_transient"):
            s.add(u)
