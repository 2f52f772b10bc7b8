"""Declarative mapping on real SQLite and PostgreSQL: column types inferred from
``Mapped[...]`` annotations (and round-tripped), nullability, Annotated aliases,
type_annotation_map, __tablename__/__table_args__/__table__, MappedAsDataclass, mixins
and declared_attr, deferred(), column_property(), synonym(), hybrids, the legacy
declarative_base() with Column attributes, registry.map_imperatively, and single-table
and joined-table inheritance.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Iterator
from typing import Annotated, Optional

import pytest

from conftest import SQLLog
from hermetic import (
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
    exc,
    func,
    inspect,
    select,
)
from hermetic.engine import Engine
from hermetic.ext.hybrid import hybrid_method, hybrid_property
from hermetic.orm import (
    DeclarativeBase,
    Mapped,
    MappedAsDataclass,
    Session,
    column_property,
    declarative_base,
    declared_attr,
    deferred,
    mapped_column,
    registry,
    synonym,
    with_polymorphic,
)
from hermetic.orm import exc as orm_exc
from hermetic.sql import sqltypes

# --------------------------------------------------------------------------- models

intpk = Annotated[int, mapped_column(primary_key=True)]
str30 = Annotated[str, mapped_column(String(30))]
required_name = Annotated[str, mapped_column(String(40), nullable=False)]


class Color(enum.Enum):
    red = "red"
    green = "green"


class Thing:
    """Not a type the ORM knows how to store."""


class Base(DeclarativeBase):
    type_annotation_map = {bytes: sqltypes.LargeBinary(64)}


class Everything(Base):
    __tablename__ = "everything"

    id: Mapped[intpk]
    i: Mapped[int]
    s: Mapped[str30]
    f: Mapped[float]
    b: Mapped[bool]
    dec: Mapped[decimal.Decimal] = mapped_column(sqltypes.Numeric(10, 2))
    dt: Mapped[datetime.datetime]
    d: Mapped[datetime.date]
    t: Mapped[datetime.time]
    td: Mapped[datetime.timedelta]
    u: Mapped[uuid.UUID]
    raw: Mapped[bytes]
    color: Mapped[Color]
    opt: Mapped[Optional[str]]
    opt2: Mapped[int | None]
    forced: Mapped[Optional[str]] = mapped_column(nullable=False, default="x")


class Mixin:
    """A mixin: its columns are copied into every class that uses it."""

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return cls.__name__.lower() + "s"

    id: Mapped[int] = mapped_column(primary_key=True)
    created: Mapped[int] = mapped_column(default=7)


class Owner(Mixin, Base):
    name: Mapped[str] = mapped_column(String(30))


class Pet(Mixin, Base):
    __table_args__ = (UniqueConstraint("name", "owner_id", name="uq_pet"),)

    name: Mapped[str] = mapped_column(String(30))

    @declared_attr
    def owner_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("owners.id"))


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    first: Mapped[str] = mapped_column(String(30))
    last: Mapped[str] = mapped_column(String(30))
    bio: Mapped[Optional[str]] = mapped_column(String(200), deferred=True)
    notes: Mapped[Optional[str]] = deferred(mapped_column(String(200)))
    full: Mapped[str] = column_property(first + " " + last)
    given = synonym("first")

    @hybrid_property
    def initials(self) -> str:
        return self.first[0] + self.last[0]

    @initials.expression
    def initials(cls):
        return func.substr(cls.first, 1, 1) + func.substr(cls.last, 1, 1)

    @hybrid_property
    def fullname(self) -> str:
        return self.first + " " + self.last

    @fullname.setter
    def fullname(self, value: str) -> None:
        self.first, self.last = value.split(" ", 1)

    @hybrid_method
    def longer_than(self, n: int) -> bool:
        return len(self.first) > n

    @longer_than.expression
    def longer_than(cls, n: int):
        return func.length(cls.first) > n


class Account(Base):
    """column_property() with a correlated scalar subquery."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    amount: Mapped[int]


Owner.account_count = column_property(  # type: ignore[attr-defined]
    select(func.count(Account.id)).where(Account.owner_id == Owner.id).scalar_subquery()
)


explicit_table = Table(
    "explicit",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String(20)),
)


class Explicit(Base):
    __table__ = explicit_table


class Point(MappedAsDataclass, Base):
    __tablename__ = "points"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    x: Mapped[int]
    y: Mapped[int] = mapped_column(default=0)
    tags: Mapped[str] = mapped_column(String(50), default_factory=lambda: "none")


# single-table inheritance
class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    type: Mapped[str] = mapped_column(String(20))
    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "employee"}


class Manager(Employee):
    level: Mapped[Optional[int]]
    __mapper_args__ = {"polymorphic_identity": "manager"}


class Engineer(Employee):
    language: Mapped[Optional[str]] = mapped_column(String(20))
    __mapper_args__ = {"polymorphic_identity": "engineer"}


# joined-table inheritance
class Vehicle(Base):
    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    wheels: Mapped[int]
    __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "vehicle"}


class Car(Vehicle):
    __tablename__ = "cars"

    id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), primary_key=True)
    doors: Mapped[int]
    __mapper_args__ = {"polymorphic_identity": "car"}


class Truck(Vehicle):
    __tablename__ = "trucks"

    id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), primary_key=True)
    payload: Mapped[int]
    __mapper_args__ = {"polymorphic_identity": "truck"}


# legacy declarative_base() with Column attributes
LegacyBase = declarative_base()


class Legacy(LegacyBase):
    __tablename__ = "legacy"

    id = Column(Integer, primary_key=True)
    name = Column(String(30), nullable=False)
    score = Column("score_col", Integer, default=5)


# imperative mapping
imperative_registry = registry()
imperative_table = Table(
    "imperative",
    imperative_registry.metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(30)),
)


class Imperative:
    def __init__(self, title: str) -> None:
        self.title = title


imperative_registry.map_imperatively(Imperative, imperative_table)


renamed_table = Table(
    "renamed",
    imperative_registry.metadata,
    Column("id", Integer, primary_key=True),
    Column("nm", String(20)),
)


class Renamed:
    pass


imperative_registry.map_imperatively(
    Renamed,
    renamed_table,
    properties={
        "name": renamed_table.c.nm,
        "shout": column_property(func.upper(renamed_table.c.nm)),
    },
)


@imperative_registry.mapped
class Decorated:
    __tablename__ = "decorated"

    id: Mapped[int] = mapped_column(primary_key=True)
    x: Mapped[str] = mapped_column(String(10))


@pytest.fixture
def db(orm_engine: Engine) -> Iterator[Engine]:
    Base.metadata.create_all(orm_engine)
    LegacyBase.metadata.create_all(orm_engine)
    imperative_registry.metadata.create_all(orm_engine)
    yield orm_engine


# --------------------------------------------------------------------------- annotations


def test_types_inferred_from_annotations() -> None:
    c = Everything.__table__.c
    expected = {
        "i": sqltypes.Integer,
        "s": sqltypes.String,
        "f": sqltypes.Float,
        "b": sqltypes.Boolean,
        "dec": sqltypes.Numeric,
        "dt": sqltypes.DateTime,
        "d": sqltypes.Date,
        "t": sqltypes.Time,
        "td": sqltypes.Interval,
        "u": sqltypes.Uuid,
        "raw": sqltypes.LargeBinary,
        "color": sqltypes.Enum,
    }
    for name, type_ in expected.items():
        assert isinstance(c[name].type, type_), (name, c[name].type)
    assert c.s.type.length == 30  # from the Annotated alias
    assert c.raw.type.length == 64  # from the base's type_annotation_map
    assert c.id.primary_key and not c.id.nullable
    assert c.dec.type.precision == 10


def test_nullability_from_optional() -> None:
    c = Everything.__table__.c
    assert c.opt.nullable is True
    assert c.opt2.nullable is True
    assert c.i.nullable is False
    assert c.s.nullable is False
    assert c.forced.nullable is False  # an explicit nullable= wins over Optional


def test_annotated_alias_gives_primary_key_and_nullable() -> None:
    class B(DeclarativeBase):
        pass

    class T(B):
        __tablename__ = "t"
        id: Mapped[intpk]
        name: Mapped[required_name]

    assert T.__table__.c.id.primary_key
    assert T.__table__.c.name.nullable is False
    assert T.__table__.c.name.type.length == 40
    assert isinstance(T.__table__.c.id.type, sqltypes.Integer)


def test_type_annotation_map_overrides_defaults() -> None:
    class B(DeclarativeBase):
        type_annotation_map = {str: String(77)}

    class T(B):
        __tablename__ = "t"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]

    assert T.__table__.c.name.type.length == 77
    assert B.registry.type_annotation_map[str].length == 77


def test_unknown_annotation_type_teaches() -> None:
    class B(DeclarativeBase):
        pass

    with pytest.raises(exc.ArgumentError, match="type_annotation_map"):

        class T(B):
            __tablename__ = "t"
            id: Mapped[int] = mapped_column(primary_key=True)
            thing: Mapped[Thing]


def test_all_types_round_trip(db: Engine) -> None:
    values = dict(
        i=42,
        s="hello",
        f=1.5,
        b=True,
        dec=decimal.Decimal("12.34"),
        dt=datetime.datetime(2024, 5, 6, 7, 8, 9),
        d=datetime.date(2024, 5, 6),
        t=datetime.time(7, 8, 9),
        td=datetime.timedelta(days=1, seconds=5),
        u=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        raw=b"\x00\x01bin",
        color=Color.green,
        opt=None,
        opt2=3,
    )
    with Session(db) as s:
        s.add(Everything(**values))
        s.commit()
    with Session(db) as s:
        row = s.scalars(select(Everything)).one()
        for k, v in values.items():
            assert getattr(row, k) == v, k
            assert type(getattr(row, k)) is type(v), k
        assert row.forced == "x"  # Python default applied
        # the enum compares in SQL too
        assert s.scalar(select(Everything.id).where(Everything.color == Color.green)) == row.id


# --------------------------------------------------------------------------- tables


def test_metadata_and_registry_shared() -> None:
    assert Base.metadata is Base.registry.metadata
    assert Everything.__table__ is Base.metadata.tables["everything"]
    assert inspect(Everything).local_table is Everything.__table__
    assert inspect(Everything).class_ is Everything
    assert Explicit.__table__ is explicit_table
    assert set(inspect(Explicit).column_attrs.keys()) == {"id", "label"}


def test_mixin_columns_and_declared_attr(db: Engine) -> None:
    assert Owner.__tablename__ == "owners"
    assert Pet.__table__.name == "pets"
    # mixin columns are copies: each table has its own
    assert Owner.__table__.c.id is not Pet.__table__.c.id
    fk = next(iter(Pet.__table__.c.owner_id.foreign_keys))
    assert fk.column is Owner.__table__.c.id
    assert any(
        isinstance(c, UniqueConstraint) and c.name == "uq_pet" for c in Pet.__table__.constraints
    )
    with Session(db) as s:
        o = Owner(name="ann")
        s.add(o)
        s.flush()
        s.add(Pet(name="rex", owner_id=o.id))
        s.commit()
        assert o.created == 7
        pet = s.scalars(select(Pet)).one()
        assert (pet.name, pet.owner_id, pet.created) == ("rex", o.id, 7)
        # __table_args__ constraint is real
        s.add(Pet(name="rex", owner_id=o.id))
        with pytest.raises(exc.IntegrityError):
            s.flush()
        s.rollback()


def test_explicit_table_class(db: Engine) -> None:
    with Session(db) as s:
        s.add(Explicit(label="a"))
        s.commit()
        assert s.scalars(select(Explicit.label)).all() == ["a"]


# --------------------------------------------------------------------------- properties


def test_deferred_columns_load_on_access(db: Engine) -> None:
    log = SQLLog(db)
    with Session(db) as s:
        s.add(Person(id=1, first="ada", last="lovelace", bio="math", notes="n"))
        s.commit()
    with Session(db) as s:
        log.clear()
        p = s.scalars(select(Person)).one()
        assert "bio" not in log.statements[0]
        assert "notes" not in log.statements[0]
        assert "bio" not in p.__dict__
        assert p.bio == "math"  # one more SELECT
        assert log.count("SELECT") == 2
        assert p.notes == "n"
        assert log.count("SELECT") == 3
        assert p.bio == "math"  # now loaded: no SQL
        assert log.count("SELECT") == 3
    log.remove()


def test_column_property_expression(db: Engine) -> None:
    with Session(db) as s:
        s.add(Person(id=1, first="ada", last="lovelace"))
        s.commit()
        p = s.get(Person, 1)
        assert p.full == "ada lovelace"
        assert s.scalars(select(Person.id).where(Person.full == "ada lovelace")).all() == [1]


def test_column_property_scalar_subquery(db: Engine) -> None:
    with Session(db) as s:
        o = Owner(name="a")
        s.add(o)
        s.flush()
        s.add_all([Account(owner_id=o.id, amount=1), Account(owner_id=o.id, amount=2)])
        s.commit()
        assert o.account_count == 2  # type: ignore[attr-defined]


def test_synonym_reads_writes_and_queries(db: Engine) -> None:
    with Session(db) as s:
        p = Person(id=1, first="ada", last="lovelace")
        assert p.given == "ada"
        s.add(p)
        s.commit()
        assert s.scalars(select(Person.id).where(Person.given == "ada")).all() == [1]
        p.given = "grace"
        assert p.first == "grace"
        assert p in s.dirty
        s.commit()
        assert s.scalar(select(Person.first)) == "grace"


def test_hybrid_property_instance_and_class(db: Engine) -> None:
    with Session(db) as s:
        p = Person(id=1, first="ada", last="lovelace")
        assert p.initials == "al"
        assert p.fullname == "ada lovelace"
        p.fullname = "grace hopper"
        assert (p.first, p.last) == ("grace", "hopper")
        s.add(p)
        s.add(Person(id=2, first="bo", last="x"))
        s.commit()
        assert s.scalars(select(Person.id).where(Person.initials == "gh")).all() == [1]
        # no @expression: the getter runs against the class
        got = s.scalars(select(Person.id).where(Person.fullname == "bo x")).all()
        assert got == [2]
        assert p.longer_than(3) and not p.longer_than(10)
        assert s.scalars(select(Person.id).where(Person.longer_than(3))).all() == [1]


def test_hybrid_without_setter_refuses_assignment() -> None:
    p = Person(first="a", last="b")
    with pytest.raises(AttributeError, match="setter"):
        p.initials = "zz"


def test_hybrid_copies_on_modify() -> None:
    class B(DeclarativeBase):
        pass

    class T(B):
        __tablename__ = "t"
        id: Mapped[int] = mapped_column(primary_key=True)
        v: Mapped[int]

        @hybrid_property
        def double(self) -> int:
            return self.v * 2

        @double.inplace.setter
        def _double_set(self, value: int) -> None:
            self.v = value // 2

    t = T(v=3)
    assert t.double == 6
    t.double = 10
    assert t.v == 5
    assert T.__dict__["double"] is T.__dict__["_double_set"]  # modified in place

    def get(self: object) -> int:
        return 1

    def set_(self: object, value: int) -> None:
        pass

    base = hybrid_property(get)
    derived = base.setter(set_)
    assert derived is not base and base.fset is None and derived.fset is set_


def test_legacy_declarative_base_with_columns(db: Engine) -> None:
    assert Legacy.__table__.c.score_col is not None
    assert "score" in inspect(Legacy).column_attrs
    with Session(db) as s:
        s.add(Legacy(name="x"))
        s.commit()
        obj = s.scalars(select(Legacy)).one()
        assert (obj.name, obj.score) == ("x", 5)
        assert s.scalars(select(Legacy.id).where(Legacy.score == 5)).all() == [obj.id]


def test_invalid_constructor_keyword() -> None:
    with pytest.raises(TypeError, match="nope"):
        Legacy(nope=1)
    with pytest.raises(TypeError, match="nope"):
        Person(nope=1)


def test_map_imperatively(db: Engine) -> None:
    m = inspect(Imperative)
    assert m.local_table is imperative_table
    with Session(db) as s:
        obj = Imperative("hello")
        assert inspect(obj).transient
        s.add(obj)
        s.commit()
        assert obj.id is not None
        got = s.scalars(select(Imperative).where(Imperative.title == "hello")).one()
        assert got is obj


def test_map_imperatively_with_properties(db: Engine) -> None:
    assert not hasattr(Renamed, "nm")
    with Session(db) as s:
        r = Renamed()
        r.name = "hey"
        s.add(r)
        s.commit()
        assert r.shout == "HEY"
        assert s.scalars(select(Renamed.id).where(Renamed.name == "hey")).all() == [r.id]


def test_registry_mapped_decorator(db: Engine) -> None:
    assert inspect(Decorated).local_table.name == "decorated"
    with Session(db) as s:
        d = Decorated(x="1")  # the registry's keyword constructor
        s.add(d)
        s.commit()
        assert s.scalars(select(Decorated)).one() is d


def test_mapped_as_dataclass(db: Engine) -> None:
    p = Point(3)
    assert (p.x, p.y, p.tags) == (3, 0, "none")
    assert repr(p) == "Point(id=None, x=3, y=0, tags='none')"
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    with pytest.raises(TypeError):
        Point(id=5, x=1)  # id has init=False
    with pytest.raises(TypeError):
        Point()  # x is required
    with Session(db) as s:
        s.add(p)
        s.commit()
        assert p.id is not None
        assert s.scalars(select(Point)).one() is p


def test_table_without_tablename_teaches() -> None:
    class B(DeclarativeBase):
        pass

    with pytest.raises(exc.InvalidRequestError, match="__tablename__"):

        class T(B):
            id: Mapped[int] = mapped_column(primary_key=True)


def test_no_primary_key_teaches() -> None:
    class B(DeclarativeBase):
        pass

    with pytest.raises(exc.ArgumentError, match="primary key"):

        class T(B):
            __tablename__ = "t"
            name: Mapped[str]


def test_unmapped_class_errors() -> None:
    class Plain:
        pass

    with pytest.raises(orm_exc.UnmappedClassError):
        Session().get(Plain, 1)


# --------------------------------------------------------------------------- inheritance


def test_single_table_inheritance(db: Engine) -> None:
    assert Manager.__table__ is Employee.__table__
    assert "level" in Employee.__table__.c
    with Session(db) as s:
        s.add_all(
            [
                Employee(name="e"),
                Manager(name="m", level=3),
                Engineer(name="g", language="py"),
            ]
        )
        s.commit()
    with Session(db) as s:
        everyone = s.scalars(select(Employee).order_by(Employee.id)).all()
        assert [type(e) for e in everyone] == [Employee, Manager, Engineer]
        assert [e.type for e in everyone] == ["employee", "manager", "engineer"]
        assert everyone[1].level == 3
        assert everyone[2].language == "py"
        # a subclass query only finds its rows
        assert [m.name for m in s.scalars(select(Manager)).all()] == ["m"]
        assert s.scalars(select(Manager.name)).all() == ["m"]  # criteria for columns too
        assert s.query(Engineer).count() == 1
        assert s.get(Manager, everyone[1].id) is everyone[1]


def test_with_polymorphic_single_table(db: Engine) -> None:
    with Session(db) as s:
        s.add_all([Manager(name="m", level=2), Engineer(name="g", language="go")])
        s.commit()
    log = SQLLog(db)
    with Session(db) as s:
        poly = with_polymorphic(Employee, [Manager, Engineer])
        rows = s.scalars(select(poly).order_by(Employee.id)).all()
        n = log.count()
        assert [type(r) for r in rows] == [Manager, Engineer]
        assert rows[0].level == 2 and rows[1].language == "go"
        assert "language" not in rows[0].__dict__  # only its own class's attributes
        assert log.count() == n
    log.remove()


def test_joined_table_inheritance(db: Engine) -> None:
    with Session(db) as s:
        s.add_all([Car(wheels=4, doors=5), Truck(wheels=6, payload=1000), Vehicle(wheels=2)])
        s.commit()
    with Session(db) as s:
        vehicles = s.scalars(select(Vehicle).order_by(Vehicle.id)).all()
        assert [type(v) for v in vehicles] == [Car, Truck, Vehicle]
        assert [v.kind for v in vehicles] == ["car", "truck", "vehicle"]
        # subclass columns load (on access, or up front with with_polymorphic)
        assert vehicles[0].doors == 5
        assert vehicles[1].payload == 1000
        cars = s.scalars(select(Car)).all()
        assert cars == [vehicles[0]]
        assert s.scalars(select(Car.id).where(Car.doors == 5)).all() == [vehicles[0].id]
        # the child row has the parent's key
        cid = vehicles[0].id
        assert s.scalar(select(Car.__table__.c.id)) == cid


def test_with_polymorphic_loads_subclass_columns_in_one_query(db: Engine) -> None:
    with Session(db) as s:
        s.add_all([Car(wheels=4, doors=3), Truck(wheels=6, payload=9)])
        s.commit()
    log = SQLLog(db)
    with Session(db) as s:
        poly = with_polymorphic(Vehicle, [Car, Truck])
        rows = s.scalars(select(poly).order_by(poly.id)).all()
        assert [type(v) for v in rows] == [Car, Truck]
        n = log.count()
        assert rows[0].doors == 3 and rows[1].payload == 9
        assert log.count() == n  # no extra SELECT per object
        got = s.scalars(select(poly).where(poly.Car.doors == 3)).all()
        assert got == [rows[0]]
    log.remove()


def test_joined_inheritance_update_and_delete(db: Engine) -> None:
    with Session(db) as s:
        car = Car(wheels=4, doors=5)
        s.add(car)
        s.commit()
        car.doors = 3
        car.wheels = 3
        s.commit()
        assert s.scalars(select(Car.doors)).one() == 3
        assert s.scalars(select(Vehicle.wheels)).one() == 3
        s.delete(car)
        s.commit()
        assert s.scalar(select(func.count()).select_from(Vehicle.__table__)) == 0
        assert s.scalar(select(func.count()).select_from(Car.__table__)) == 0
