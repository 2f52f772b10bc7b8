"""Models shared by the relationship / loading / N+1 test files
(tests/test_orm_relationships*.py, tests/test_orm_loading.py, tests/test_orm_nplusone.py).

Table names carry a ``rel_`` prefix; on PostgreSQL each test runs in its own schema
(the ``orm_engine`` fixture), on SQLite in its own file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import pytest

from hermetic import (
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    create_engine,
    event,
    make_url,
)
from hermetic.engine import Engine
from hermetic.ext.associationproxy import AssociationProxy, association_proxy
from hermetic.orm import (
    DeclarativeBase,
    DynamicMapped,
    Mapped,
    WriteOnlyMapped,
    attribute_keyed_dict,
    mapped_column,
    relationship,
)

if TYPE_CHECKING:
    from conftest import SQLLog


class Base(DeclarativeBase):
    pass


order_items = Table(
    "rel_order_items",
    Base.metadata,
    Column("order_id", ForeignKey("rel_orders.id"), primary_key=True),
    Column("item_id", ForeignKey("rel_items.id"), primary_key=True),
)


class User(Base):
    __tablename__ = "rel_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    email: Mapped[Optional[str]] = mapped_column(String(80))
    bio: Mapped[Optional[str]] = mapped_column(Text, deferred=True)

    # one-to-many, ordered, owning its orders (three-level cascades: User -> Order -> Line)
    orders: Mapped[list[Order]] = relationship(
        back_populates="user", order_by="Order.id", cascade="all, delete-orphan"
    )
    # one-to-one from the annotation (Mapped[X | None] -> uselist=False)
    profile: Mapped[Optional[Profile]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    # the legacy style: a set collection, the other side made by backref
    addresses = relationship("Address", backref="user", collection_class=set)
    # a set proxy: the e-mail strings of the addresses
    address_emails: AssociationProxy[set[str]] = association_proxy(
        "addresses", "email", creator=lambda email: Address(email=email)
    )
    # primaryjoin with an extra criterion; viewonly
    open_orders: Mapped[list[Order]] = relationship(
        primaryjoin="and_(User.id == Order.user_id, Order.status == 'open')",
        order_by="Order.id",
        viewonly=True,
    )
    # write-only and dynamic
    events: WriteOnlyMapped[Event] = relationship(order_by="Event.id", passive_deletes=True)
    notes: DynamicMapped[Note] = relationship(order_by="Note.id")


class Order(Base):
    __tablename__ = "rel_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("rel_users.id"))
    description: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(10), default="open")

    user: Mapped[Optional[User]] = relationship(back_populates="orders")
    items: Mapped[list[Item]] = relationship(
        secondary=order_items, back_populates="orders", order_by="Item.id"
    )
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )


class OrderLine(Base):
    __tablename__ = "rel_order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("rel_orders.id"))
    qty: Mapped[int] = mapped_column(default=1)

    order: Mapped[Order] = relationship(back_populates="lines")


class Item(Base):
    __tablename__ = "rel_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))

    orders: Mapped[list[Order]] = relationship(secondary=order_items, back_populates="items")


class Profile(Base):
    __tablename__ = "rel_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("rel_users.id"))
    nickname: Mapped[str] = mapped_column(String(30))

    user: Mapped[User] = relationship(back_populates="profile")


class Address(Base):
    __tablename__ = "rel_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("rel_users.id"))
    email: Mapped[str] = mapped_column(String(80))


class Event(Base):
    __tablename__ = "rel_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("rel_users.id"))
    kind: Mapped[str] = mapped_column(String(20))


class Note(Base):
    __tablename__ = "rel_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("rel_users.id"))
    text: Mapped[str] = mapped_column(String(50))


# -- self-referential tree ----------------------------------------------------------------


class Node(Base):
    __tablename__ = "rel_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("rel_nodes.id"))
    name: Mapped[str] = mapped_column(String(30))

    children: Mapped[list[Node]] = relationship(
        back_populates="parent", cascade="all, delete-orphan", order_by="Node.id"
    )
    parent: Mapped[Optional[Node]] = relationship(back_populates="children", remote_side="Node.id")


# -- self-referential many-to-many: primaryjoin + secondaryjoin ---------------------------

friendships = Table(
    "rel_friendships",
    Base.metadata,
    Column("a_id", ForeignKey("rel_people.id"), primary_key=True),
    Column("b_id", ForeignKey("rel_people.id"), primary_key=True),
)


class Person(Base):
    __tablename__ = "rel_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))

    friends: Mapped[list[Person]] = relationship(
        secondary=friendships,
        primaryjoin=lambda: Person.id == friendships.c.a_id,
        secondaryjoin=lambda: Person.id == friendships.c.b_id,
        order_by=lambda: Person.id,
    )


# -- foreign_keys: two foreign keys to the same table ----------------------------------------


class Message(Base):
    __tablename__ = "rel_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("rel_users.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("rel_users.id"))
    body: Mapped[str] = mapped_column(String(50), default="")

    sender: Mapped[User] = relationship(foreign_keys=[sender_id])
    recipient: Mapped[User] = relationship(foreign_keys="Message.recipient_id")


# -- association object + association_proxy ----------------------------------------------


class Post(Base):
    __tablename__ = "rel_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))

    post_tags: Mapped[list[PostTag]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="PostTag.position"
    )
    tags: AssociationProxy[list[Tag]] = association_proxy(
        "post_tags", "tag", creator=lambda tag: PostTag(tag=tag)
    )
    tag_names: AssociationProxy[list[str]] = association_proxy("post_tags", "tag_name")


class PostTag(Base):
    __tablename__ = "rel_post_tags"

    post_id: Mapped[int] = mapped_column(ForeignKey("rel_posts.id"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("rel_tags.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    post: Mapped[Post] = relationship(back_populates="post_tags")
    tag: Mapped[Tag] = relationship()
    # a scalar proxy: PostTag.tag_name reads/writes tag.name
    tag_name: AssociationProxy[str] = association_proxy("tag", "name")


class Tag(Base):
    __tablename__ = "rel_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30), unique=True)


# -- keyed-dict collection -----------------------------------------------------------------


class Account(Base):
    __tablename__ = "rel_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))

    settings: Mapped[dict[str, Setting]] = relationship(
        collection_class=attribute_keyed_dict("key"),
        back_populates="account",
        cascade="all, delete-orphan",
    )
    # a dict proxy: setting key -> value
    values: AssociationProxy[dict[str, str]] = association_proxy(
        "settings", "value", creator=lambda key, value: Setting(key=key, value=value)
    )


class Setting(Base):
    __tablename__ = "rel_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("rel_accounts.id"))
    key: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(30))

    account: Mapped[Account] = relationship(back_populates="settings")


# -- passive_deletes (the database deletes the children) ----------------------------------


class Blog(Base):
    __tablename__ = "rel_blogs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))

    entries: Mapped[list[Entry]] = relationship(
        back_populates="blog", cascade="all, delete-orphan", passive_deletes=True
    )


class Entry(Base):
    __tablename__ = "rel_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    blog_id: Mapped[int] = mapped_column(ForeignKey("rel_blogs.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(30))

    blog: Mapped[Blog] = relationship(back_populates="entries")


# -- post_update: rows that refer to each other ------------------------------------------


class Widget(Base):
    __tablename__ = "rel_widgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    favorite_part_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("rel_parts.id", name="fk_widget_favorite", use_alter=True)
    )

    parts: Mapped[list[Part]] = relationship(
        primaryjoin="Widget.id == Part.widget_id",
        back_populates="widget",
        cascade="all, delete-orphan",
        order_by="Part.id",
    )
    favorite: Mapped[Optional[Part]] = relationship(
        primaryjoin="Widget.favorite_part_id == Part.id", post_update=True
    )


class Part(Base):
    __tablename__ = "rel_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[Optional[int]] = mapped_column(ForeignKey("rel_widgets.id"))
    name: Mapped[str] = mapped_column(String(30))

    widget: Mapped[Optional[Widget]] = relationship(
        primaryjoin="Widget.id == Part.widget_id", back_populates="parts"
    )


# -- joined inheritance as a relationship target --------------------------------------------


class Company(Base):
    __tablename__ = "rel_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))

    employees: Mapped[list[Employee]] = relationship(
        back_populates="company", order_by="Employee.id"
    )
    # a relationship to a joined-inheritance subclass (its target is a join of two tables)
    managers: Mapped[list[Manager]] = relationship(viewonly=True, order_by="Manager.id")


class Employee(Base):
    __tablename__ = "rel_employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[Optional[int]] = mapped_column(ForeignKey("rel_companies.id"))
    name: Mapped[str] = mapped_column(String(30))
    type: Mapped[str] = mapped_column(String(20))

    company: Mapped[Optional[Company]] = relationship(back_populates="employees")

    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "employee"}


class Manager(Employee):
    __tablename__ = "rel_managers"

    id: Mapped[int] = mapped_column(ForeignKey("rel_employees.id"), primary_key=True)
    budget: Mapped[int] = mapped_column(Integer, default=0)

    __mapper_args__ = {"polymorphic_identity": "manager"}


# -- lazy= chosen per relationship --------------------------------------------------------


class Author(Base):
    __tablename__ = "rel_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))

    books_select: Mapped[list[Book]] = relationship(order_by="Book.id", viewonly=True)
    books_selectin: Mapped[list[Book]] = relationship(
        lazy="selectin", order_by="Book.id", viewonly=True
    )
    books_joined: Mapped[list[Book]] = relationship(
        lazy="joined", order_by="Book.id", viewonly=True
    )
    books_subquery: Mapped[list[Book]] = relationship(
        lazy="subquery", order_by="Book.id", viewonly=True
    )
    books_raise: Mapped[list[Book]] = relationship(lazy="raise", viewonly=True)
    books_raise_on_sql: Mapped[list[Book]] = relationship(lazy="raise_on_sql", viewonly=True)
    books_noload: Mapped[list[Book]] = relationship(lazy="noload", viewonly=True)


class Book(Base):
    __tablename__ = "rel_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("rel_authors.id"))
    title: Mapped[str] = mapped_column(String(30))
    author: Mapped[Author] = relationship(viewonly=True)


class Review(Base):
    __tablename__ = "rel_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("rel_books.id"))
    text: Mapped[str] = mapped_column(String(30))
    # many-to-one joined by default, with an inner join
    book: Mapped[Book] = relationship(lazy="joined", innerjoin=True)


# -- fixtures (imported by the test modules) -----------------------------------------------
# One database per module and backend (creating ~25 tables per test would dominate the
# run time); every test starts from empty tables.


def _make_engine(backend: str, tmp_dir: Path) -> tuple[Engine, Callable[[], None]]:
    from conftest import PG_URL, _sqlite_foreign_keys, pg_url, require_pg

    if backend == "sqlite":
        eng = create_engine(f"sqlite:///{tmp_dir / 'rel.db'}")
        event.listen(eng, "connect", _sqlite_foreign_keys)
        _engine_args[id(eng)] = (f"sqlite:///{tmp_dir / 'rel.db'}", {})
        return eng, lambda: None
    require_pg()
    import psycopg

    schema = f"t_{uuid.uuid4().hex}"
    u = make_url(PG_URL)
    admin = dict(
        host=u.host, port=u.port or 5432, user=u.username, dbname=u.database, password=u.password
    )
    with psycopg.connect(**admin, autocommit=True) as c:  # type: ignore[arg-type]
        c.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(**admin, autocommit=True) as c:  # type: ignore[arg-type]
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    connect_args = {"options": f"-csearch_path={schema}"}
    eng = create_engine(pg_url(), connect_args=connect_args)
    _engine_args[id(eng)] = (pg_url(), connect_args)
    return eng, drop


_engine_args: dict[int, tuple[str, dict[str, str]]] = {}


def clone_engine(engine: Engine, **kw: object) -> Engine:
    """Another engine on the same database (and schema) as ``engine``, with ``kw``
    passed to create_engine(); dispose() it when done."""
    url, connect_args = _engine_args.get(id(engine), (str(engine.url), {}))
    from conftest import _sqlite_foreign_keys

    eng = create_engine(url, connect_args=connect_args, **kw)  # type: ignore[arg-type]
    if eng.dialect.name == "sqlite":
        event.listen(eng, "connect", _sqlite_foreign_keys)
    return eng


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def rel_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    eng, drop = _make_engine(request.param, tmp_path_factory.mktemp("rel"))
    try:
        Base.metadata.create_all(eng)
        yield eng
    finally:
        eng.dispose()
        drop()


@pytest.fixture
def db(rel_engine: Engine) -> Iterator[Engine]:
    """The module's engine with empty tables; checks that no connection is left out."""
    yield rel_engine
    assert rel_engine.pool.checkedout() == 0, rel_engine.pool.holders()
    with rel_engine.begin() as conn:
        conn.execute(Widget.__table__.update().values(favorite_part_id=None))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def log(db: Engine) -> Iterator[SQLLog]:
    from conftest import SQLLog

    sql = SQLLog(db)
    yield sql
    sql.remove()


def seed_shop(engine: Engine) -> None:
    """Users u1 (orders o1 [i1, i2] open, o2 [i2] closed; a profile), u2 (o3 [i3]
    open), u3 (no orders)."""
    from hermetic.orm import Session

    with Session(engine) as s:
        i1, i2, i3 = Item(name="i1"), Item(name="i2"), Item(name="i3")
        s.add_all(
            [
                User(
                    name="u1",
                    email="u1@x",
                    bio="bio one",
                    profile=Profile(nickname="one"),
                    orders=[
                        Order(description="o1", status="open", items=[i1, i2]),
                        Order(description="o2", status="closed", items=[i2]),
                    ],
                ),
                User(name="u2", email="u2@x", orders=[Order(description="o3", items=[i3])]),
                User(name="u3"),
            ]
        )
        s.commit()
