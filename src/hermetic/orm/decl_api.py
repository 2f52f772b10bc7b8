"""Declarative mapping: ``DeclarativeBase``, ``declarative_base()``, ``registry``,
``Mapped[...]`` annotations, mixins and ``declared_attr``.

A class body is scanned once, in definition order: ``Column`` objects,
``mapped_column()`` and bare ``Mapped[T]`` annotations become columns (type and
nullability from the annotation unless given), other mapper properties
(``relationship()``, ``column_property()``, ``synonym()``) are kept as they are. Then a
Table is built (or ``__table__`` used) and a :class:`Mapper` made.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import sys
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from hermetic import exc
from hermetic.orm import exc as orm_exc
from hermetic.orm.mapper import Mapper, _mapper_of_class
from hermetic.orm.properties import (
    _MISSING,
    ColumnProperty,
    MappedColumn,
    MapperProperty,
    Synonym,
)
from hermetic.sql import sqltypes
from hermetic.sql.schema import Column, MetaData, Table

_T = TypeVar("_T")


class Mapped(Generic[_T]):
    """``Mapped[int]``: the annotation of a mapped attribute (typing only at runtime)."""

    if typing.TYPE_CHECKING:

        def __get__(self, obj: Any, owner: Any) -> _T: ...

        def __set__(self, obj: Any, value: _T) -> None: ...


class WriteOnlyMapped(Mapped[_T]):
    """``WriteOnlyMapped[list[X]]``: a write-only collection relationship."""


class DynamicMapped(Mapped[_T]):
    """``DynamicMapped[X]``: a dynamic (query-returning) relationship."""


class declared_attr(Generic[_T]):
    """A class-body function evaluated per mapped class (mixins: ``__tablename__``,
    columns with foreign keys, relationships)."""

    def __init__(self, fn: Callable[..., _T], cascading: bool = False) -> None:
        self.fget = fn
        self._cascading = cascading
        self.__doc__ = fn.__doc__

    def __get__(self, obj: Any, cls: Any) -> Any:
        return self.fget(cls)

    @classmethod
    def directive(cls, fn: Callable[..., Any]) -> declared_attr[Any]:
        return cls(fn)

    @classmethod
    def _cascading_factory(cls, fn: Callable[..., Any]) -> declared_attr[Any]:
        return cls(fn, cascading=True)

    cascading: ClassVar[Any]


declared_attr.cascading = declared_attr._cascading_factory


_DEFAULT_TYPE_MAP: dict[Any, Any] = {
    int: sqltypes.Integer,
    str: sqltypes.String,
    float: sqltypes.Float,
    bool: sqltypes.Boolean,
    bytes: sqltypes.LargeBinary,
    decimal.Decimal: sqltypes.Numeric,
    datetime.datetime: sqltypes.DateTime,
    datetime.date: sqltypes.Date,
    datetime.time: sqltypes.Time,
    datetime.timedelta: sqltypes.Interval,
    uuid.UUID: sqltypes.Uuid,
}


class registry:
    """Holds a MetaData, the mapped classes (by name, for relationship strings) and the
    Python-type to SQL-type map of ``Mapped[...]`` annotations."""

    def __init__(
        self,
        *,
        metadata: MetaData | None = None,
        class_registry: dict[str, Any] | None = None,
        type_annotation_map: dict[Any, Any] | None = None,
        constructor: Callable[..., None] | None = None,
    ) -> None:
        self.metadata = metadata if metadata is not None else MetaData()
        self._class_registry: dict[str, Any] = class_registry if class_registry is not None else {}
        self.type_annotation_map: dict[Any, Any] = {}
        if type_annotation_map:
            self.update_type_annotation_map(type_annotation_map)
        self.constructor = constructor if constructor is not None else _declarative_constructor
        self._mappers: list[Mapper] = []

    def update_type_annotation_map(self, type_annotation_map: dict[Any, Any]) -> None:
        self.type_annotation_map.update(type_annotation_map)

    @property
    def mappers(self) -> frozenset[Mapper]:
        return frozenset(self._mappers)

    def configure(self, cascade: bool = False) -> None:
        from hermetic.orm.mapper import configure_mappers

        configure_mappers()

    def dispose(self, cascade: bool = False) -> None:
        for m in self._mappers:
            cls = m.class_
            for key in list(m._props):
                if key in cls.__dict__:
                    try:
                        type.__delattr__(cls, key)
                    except AttributeError:
                        pass
            for name in ("__mapper__", "_sa_impls", "_sa_select_entity", "__clause_element__"):
                if name in cls.__dict__:
                    type.__delattr__(cls, name)
        self._mappers.clear()
        self._class_registry.clear()

    def map_imperatively(self, class_: type, local_table: Any = None, **kw: Any) -> Mapper:
        """Map a plain class to a Table without declarative (``properties=``, ...)."""
        mapper = Mapper(class_, local_table, registry=self, **kw)
        self._register(class_, mapper)
        return mapper

    def map_declaratively(self, cls: type) -> Mapper | None:
        self._give_constructor(cls)
        return _map_declarative(cls, self)

    def mapped(self, cls: type[_T]) -> type[_T]:
        """Class decorator: map ``cls`` declaratively with this registry."""
        self.map_declaratively(cls)
        return cls

    def _give_constructor(self, cls: type) -> None:
        """A class mapped by decorator without an ``__init__`` of its own (or of a base)
        gets the registry's keyword constructor, as declarative-base classes do."""
        if all("__init__" not in b.__dict__ for b in cls.__mro__ if b is not object):
            type.__setattr__(cls, "__init__", self.constructor)

    def mapped_as_dataclass(self, cls: Any = None, **kw: Any) -> Any:
        def decorate(c: type) -> type:
            c = _make_dataclass(c, kw, self)
            _map_declarative(c, self)
            return c

        return decorate(cls) if cls is not None else decorate

    def as_declarative_base(self, **kw: Any) -> Callable[[type], type]:
        def decorate(cls: type) -> Any:
            return self.generate_base(cls=cls, name=cls.__name__)

        return decorate

    def generate_base(
        self, mapper: Any = None, cls: type = object, name: str = "Base", metaclass: type = type
    ) -> Any:
        return _make_declarative_base(self, cls=cls, name=name)

    def _register(self, cls: type, mapper: Mapper) -> None:
        self._mappers.append(mapper)
        name = cls.__name__
        existing = self._class_registry.get(name)
        if existing is not None and existing is not cls:
            marker = self._class_registry.setdefault(f"{cls.__module__}.{name}", cls)
            del marker
            self._class_registry[name] = _Ambiguous(name, [existing, cls])
        else:
            self._class_registry[name] = cls
        self._class_registry[f"{cls.__module__}.{cls.__qualname__}"] = cls

    def _resolve_class(self, name: str) -> type:
        found = self._class_registry.get(name)
        if isinstance(found, _Ambiguous):
            raise exc.InvalidRequestError(
                f"Multiple classes named '{name}' are mapped in this registry "
                f"({', '.join(c.__module__ for c in found.classes)}); use the module-"
                "qualified name in the relationship, e.g. 'myapp.models.Name'"
            )
        if found is None:
            raise exc.InvalidRequestError(
                f"When initializing mappers, expression '{name}' failed to locate a name: "
                f"no class named '{name}' is mapped in this registry. Known classes: "
                f"{', '.join(sorted(k for k in self._class_registry if '.' not in k))}"
            )
        return found  # type: ignore[no-any-return]


class _Ambiguous:
    def __init__(self, name: str, classes: list[type]) -> None:
        self.name = name
        self.classes = classes


def _declarative_constructor(self: Any, **kwargs: Any) -> None:
    """Set each keyword argument as an attribute; names must be mapped attributes (or
    other attributes of the class)."""
    cls = type(self)
    for key, value in kwargs.items():
        if not hasattr(cls, key):
            raise TypeError(f"{key!r} is an invalid keyword argument for {cls.__name__}")
        setattr(self, key, value)


_declarative_constructor.__name__ = "__init__"


# -- DeclarativeBase ----------------------------------------------------------------


class _DeclarativeMixin:
    """What ``DeclarativeBase`` and ``declarative_base()`` classes share."""

    registry: ClassVar[registry]
    metadata: ClassVar[MetaData]
    __mapper__: ClassVar[Mapper]
    __table__: ClassVar[Any]
    __tablename__: Any
    __mapper_args__: Any
    __table_args__: Any


def _setup_base(cls: type, reg: registry | None = None) -> None:
    """Give a new declarative base its registry and metadata."""
    if reg is None:
        reg = cls.__dict__.get("registry")
        if not isinstance(reg, registry):
            metadata = cls.__dict__.get("metadata")
            tmap = cls.__dict__.get("type_annotation_map")
            reg = registry(metadata=metadata, type_annotation_map=tmap)
    cls.registry = reg  # type: ignore[attr-defined]
    cls.metadata = reg.metadata  # type: ignore[attr-defined]
    cls._sa_registry = reg  # type: ignore[attr-defined]
    if "__init__" not in cls.__dict__:
        cls.__init__ = reg.constructor  # type: ignore[misc]


def _add_attribute(cls: type, key: str, value: Any) -> None:
    """``User.extra = column_property(...)`` (or a Column / mapped_column()) after a
    declarative class is mapped adds it to the mapping; other values are set as usual."""
    mapper = cls.__dict__.get("__mapper__")
    if isinstance(mapper, Mapper):
        if isinstance(value, MappedColumn):
            value = value.column
        if isinstance(value, (Column, MapperProperty)):
            mapper.add_property(key, value)
            return
    type.__setattr__(cls, key, value)


class DeclarativeAttributeIntercept(type):
    """The metaclass of ``DeclarativeBase``: attributes assigned to a mapped class
    after it is defined are added to its mapping."""

    def __setattr__(cls, key: str, value: Any) -> None:
        _add_attribute(cls, key, value)


class DeclarativeBase(_DeclarativeMixin, metaclass=DeclarativeAttributeIntercept):
    """Subclass this (``class Base(DeclarativeBase): pass``) for a base of mapped classes."""

    def __init_subclass__(cls, **kw: Any) -> None:
        if DeclarativeBase in cls.__bases__ or DeclarativeBaseNoMeta in cls.__bases__:
            _setup_base(cls)
        else:
            _map_declarative(cls, cls._sa_registry)  # type: ignore[attr-defined]
        super().__init_subclass__(**kw)

    if typing.TYPE_CHECKING:

        def __init__(self, **kw: Any) -> None: ...


class DeclarativeBaseNoMeta(_DeclarativeMixin):
    def __init_subclass__(cls, **kw: Any) -> None:
        if DeclarativeBaseNoMeta in cls.__bases__:
            _setup_base(cls)
        else:
            _map_declarative(cls, cls._sa_registry)  # type: ignore[attr-defined]
        super().__init_subclass__(**kw)


class MappedAsDataclass:
    """Mix in before the declarative base to make mapped classes dataclasses."""

    def __init_subclass__(cls, **kw: Any) -> None:
        opts = {
            k: kw.pop(k)
            for k in ("init", "repr", "eq", "order", "unsafe_hash", "kw_only", "match_args")
            if k in kw
        }
        cls._sa_dataclass_opts = opts  # type: ignore[attr-defined]
        super().__init_subclass__(**kw)


class DeclarativeMeta(type):
    """The metaclass of ``declarative_base()`` classes: maps each subclass."""

    def __init__(
        cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kw: Any
    ) -> None:
        super().__init__(name, bases, namespace)
        if "_sa_registry" in namespace and namespace.get("_sa_is_base"):
            return
        reg = getattr(cls, "_sa_registry", None)
        if reg is not None:
            _map_declarative(cls, reg)

    def __setattr__(cls, key: str, value: Any) -> None:
        _add_attribute(cls, key, value)


def _make_declarative_base(
    reg: registry,
    cls: type | tuple[type, ...] = object,
    name: str = "Base",
    metaclass: type = DeclarativeMeta,
) -> Any:
    bases = cls if isinstance(cls, tuple) else (cls,)
    namespace: dict[str, Any] = {
        "_sa_registry": reg,
        "_sa_is_base": True,
        "registry": reg,
        "metadata": reg.metadata,
        "__doc__": getattr(bases[0], "__doc__", None),
    }
    if not any("__init__" in b.__dict__ for b in bases if b is not object):
        namespace["__init__"] = reg.constructor
    return metaclass(name, bases, namespace)


def declarative_base(
    *,
    metadata: MetaData | None = None,
    mapper: Any = None,
    cls: type | tuple[type, ...] = object,
    name: str = "Base",
    class_registry: dict[str, Any] | None = None,
    type_annotation_map: dict[Any, Any] | None = None,
    constructor: Callable[..., None] = _declarative_constructor,
    metaclass: type = DeclarativeMeta,
) -> Any:
    """A base class for declarative models (the 1.x style; ``DeclarativeBase`` is the
    2.0 one). Subclasses with ``__tablename__`` are mapped when defined."""
    reg = registry(
        metadata=metadata,
        class_registry=class_registry,
        type_annotation_map=type_annotation_map,
        constructor=constructor,
    )
    return _make_declarative_base(reg, cls=cls, name=name, metaclass=metaclass)


def as_declarative(**kw: Any) -> Callable[[type], Any]:
    metadata = kw.pop("metadata", None)
    reg = registry(metadata=metadata)

    def decorate(cls: type) -> Any:
        return _make_declarative_base(reg, cls=cls, name=cls.__name__)

    return decorate


# -- the scan -----------------------------------------------------------------------


def _is_mapped_class(cls: type) -> bool:
    return isinstance(cls.__dict__.get("__mapper__"), Mapper)


def _own_or_mixin_attr(cls: type, name: str) -> Any:
    """A class attribute looked up on the class and its non-mapped bases (mixins),
    with ``declared_attr`` evaluated for ``cls``."""
    for base in cls.__mro__:
        if name in base.__dict__:
            if base is not cls and _is_mapped_class(base):
                return None
            value = base.__dict__[name]
            if isinstance(value, declared_attr):
                return value.fget(cls)
            if isinstance(value, classmethod):
                return value.__get__(None, cls)()
            return value
    return None


def _map_declarative(cls: type, reg: registry) -> Mapper | None:
    if cls.__dict__.get("__abstract__", False):
        return None
    mapped_parent = next((b for b in cls.__mro__[1:] if _is_mapped_class(b)), None)
    tablename = _own_or_mixin_attr(cls, "__tablename__")
    table = cls.__dict__.get("__table__")
    if table is None and "__table__" not in cls.__dict__:
        # a mixin may provide __table__ via declared_attr
        t = _own_or_mixin_attr(cls, "__table__")
        table = t if isinstance(t, Table) else None
    if mapped_parent is not None and "__tablename__" not in cls.__dict__:
        # inherited __tablename__ from a mapped parent does not create a new table
        tablename = None
        for base in cls.__mro__[1:]:
            if base is mapped_parent:
                break
            if "__tablename__" in base.__dict__ and not _is_mapped_class(base):
                tablename = _own_or_mixin_attr(cls, "__tablename__")
                break
    if tablename is None and table is None and mapped_parent is None:
        if _collect_attributes(cls, reg, probe=True):
            raise exc.InvalidRequestError(
                f"Class {cls.__name__} does not have a __table__ or __tablename__ "
                "specified and does not inherit from an existing table-mapped class; "
                "give it __tablename__ = '...', or mark it __abstract__ = True if it is a "
                "base for other models"
            )
        return None

    dataclass_opts = getattr(cls, "_sa_dataclass_opts", None)
    props, columns, extra_table_args = _collect_attributes(cls, reg)
    mapper_args = dict(_own_or_mixin_attr(cls, "__mapper_args__") or {})

    if table is None and tablename is not None:
        table_args = _own_or_mixin_attr(cls, "__table_args__")
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        if isinstance(table_args, dict):
            kwargs = dict(table_args)
        elif isinstance(table_args, tuple):
            if table_args and isinstance(table_args[-1], dict):
                kwargs = dict(table_args[-1])
                args = list(table_args[:-1])
            else:
                args = list(table_args)
        columns.sort(key=lambda kc: kc[1].__dict__.get("_sort_order", 0))
        table = Table(
            tablename,
            reg.metadata,
            *[c for _, c in columns],
            *extra_table_args,
            *args,
            **kwargs,
        )
        local_table = table
    elif table is not None:
        local_table = table
        for _, col in columns:
            if col.table is None:
                table.append_column(col)
    else:
        # single-table inheritance: new columns go to the parent's table
        assert mapped_parent is not None
        parent_table = _mapper_of_class(mapped_parent).local_table
        for _, col in columns:
            if col.table is None:
                existing = parent_table.c.get(col.key) if hasattr(parent_table.c, "get") else None
                if existing is not None:
                    continue
                parent_table.append_column(col)
        local_table = None

    properties: dict[str, Any] = {key: col for key, col in columns if col.key != key}
    properties.update(props)
    if local_table is not None:
        type.__setattr__(cls, "__table__", local_table)
    if mapped_parent is not None:
        mapper_args.setdefault("inherits", mapped_parent)
    for k in ("polymorphic_on", "version_id_col"):
        v = mapper_args.get(k)
        if v is not None:
            mapper_args[k] = _resolve_mapper_arg(v, cls, columns, props)
    if "primary_key" in mapper_args:
        mapper_args["primary_key"] = [
            _resolve_mapper_arg(v, cls, columns, props) for v in mapper_args["primary_key"]
        ]
    mapper = Mapper(cls, local_table, properties=properties, registry=reg, **mapper_args)
    reg._register(cls, mapper)
    for key, _ in columns:
        prop = mapper._props.get(key)
        mc = _mapped_columns_of(cls).get(key)
        if isinstance(prop, ColumnProperty) and mc is not None:
            prop.deferred = mc.deferred
            prop.group = mc.deferred_group
            prop.raiseload = mc.deferred_raiseload
            prop.active_history = mc.active_history
            impl = cls._sa_impls.get(key)  # type: ignore[attr-defined]
            if impl is not None:
                impl.active_history = mc.active_history
    if any(isinstance(mc, MappedColumn) and mc.deferred for mc in _mapped_columns_of(cls).values()):
        mapper._finish_properties()
    if dataclass_opts is not None:
        _apply_dataclass(cls, dataclass_opts, mapper)
    return mapper


def _mapped_columns_of(cls: type) -> dict[str, MappedColumn]:
    return cls.__dict__.get("_sa_mapped_columns", {})  # type: ignore[no-any-return]


def _resolve_mapper_arg(
    value: Any, cls: type, columns: list[tuple[str, Column]], props: dict[str, Any]
) -> Any:
    if isinstance(value, str):
        for key, col in columns:
            if key == value or col.name == value:
                return col
        return value
    if isinstance(value, MappedColumn):
        return value.column
    if isinstance(value, declared_attr):
        return value.fget(cls)
    return value


def _own_annotations(klass: type) -> dict[str, Any]:
    """The annotations written in this class body (not inherited ones)."""
    return dict(getattr(klass, "__dict__", {}).get("__annotations__", {}))


def _ordered_names(klass: type) -> list[str]:
    """Attribute names of one class body in definition order (annotations and values)."""
    annotations = list(_own_annotations(klass))
    values = [k for k in klass.__dict__ if not (k.startswith("__") and k.endswith("__"))]
    out: list[str] = []
    seen: set[str] = set()
    vi = 0
    for name in annotations:
        if name in klass.__dict__:
            while vi < len(values) and values[vi] != name:
                v = values[vi]
                if v not in seen and v not in annotations:
                    out.append(v)
                    seen.add(v)
                vi += 1
        if name not in seen:
            out.append(name)
            seen.add(name)
    for v in values:
        if v not in seen:
            out.append(v)
            seen.add(v)
    return out


def _collect_attributes(cls: type, reg: registry, probe: bool = False) -> Any:
    """Columns (key, Column) and other properties of ``cls`` and its mixins."""
    columns: list[tuple[str, Column]] = []
    props: dict[str, Any] = {}
    extra_table_args: list[Any] = []
    mapped_columns: dict[str, MappedColumn] = {}
    seen: set[str] = set()
    is_sub = any(_is_mapped_class(b) for b in cls.__mro__[1:])
    # bases first (mixins), then the class itself; mapped bases contribute nothing
    chain = [b for b in reversed(cls.__mro__) if b is not object]
    for klass in chain:
        if klass is not cls and (_is_mapped_class(klass) or "_sa_registry" in klass.__dict__):
            continue
        if klass.__module__ == __name__ or klass in (MappedAsDataclass,):
            continue
        hints = _own_annotations(klass)
        for name in _ordered_names(klass):
            if name in seen and klass is not cls:
                continue
            raw = klass.__dict__.get(name, _MISSING)
            annotation = hints.get(name)
            if isinstance(raw, declared_attr):
                raw = raw.fget(cls)
            mapped_ann = (
                _mapped_annotation(annotation, klass, cls) if annotation is not None else None
            )
            if raw is _MISSING:
                if mapped_ann is None:
                    continue
                if mapped_ann[0] == "relationship":
                    continue
                if probe:
                    return True
                raw = MappedColumn()
            if isinstance(raw, MappedColumn):
                if probe:
                    return True
                if klass is not cls:
                    mc = MappedColumn.__new__(MappedColumn)
                    mc.__dict__.update(raw.__dict__)
                    mc.column = raw.column._copy()
                    raw = mc
                col = raw.column
                _apply_annotation(col, raw, mapped_ann, reg, cls, name)
                if not col.name:
                    col.name = name
                    if not col.key or col.key == "":
                        col.key = name
                if col.key == "":
                    col.key = col.name
                col.__dict__["_sort_order"] = raw.sort_order
                columns = [kc for kc in columns if kc[0] != name]
                columns.append((name, col))
                mapped_columns[name] = raw
                seen.add(name)
            elif isinstance(raw, Column):
                if probe:
                    return True
                col = raw if klass is cls else raw._copy()
                if not col.name:
                    col.name = name
                    col.key = name
                if mapped_ann is not None and col.type is sqltypes.NULLTYPE:
                    col.type = _type_for(mapped_ann[1], reg, cls, name)
                columns = [kc for kc in columns if kc[0] != name]
                columns.append((name, col))
                seen.add(name)
            elif isinstance(raw, MapperProperty):
                if probe:
                    return True
                if isinstance(raw, ColumnProperty):
                    for i, c in enumerate(raw.columns):
                        if isinstance(c, MappedColumn):
                            raw.columns[i] = c.column
                    for c in raw.columns:
                        if isinstance(c, Column) and c.table is None:
                            if not c.name:
                                c.name = c.key = name
                            columns.append((name, c))
                if hasattr(raw, "_set_annotation") and mapped_ann is not None:
                    raw._set_annotation(mapped_ann, klass, cls)
                props[name] = raw
                seen.add(name)
            elif getattr(raw, "_sa_declarative_property", False):
                if probe:
                    return True
                if hasattr(raw, "_set_annotation") and mapped_ann is not None:
                    raw._set_annotation(mapped_ann, klass, cls)
                props[name] = raw
                seen.add(name)
    if probe:
        return False
    del is_sub
    type.__setattr__(cls, "_sa_mapped_columns", mapped_columns)
    return props, columns, extra_table_args


def _eval_annotation(annotation: Any, klass: type, cls: type) -> Any:
    if not isinstance(annotation, str):
        return annotation
    module = sys.modules.get(klass.__module__)
    namespace: dict[str, Any] = dict(vars(typing))
    if module is not None:
        namespace.update(vars(module))
    namespace.update({k: v for k, v in vars(klass).items()})
    namespace.setdefault("Mapped", Mapped)
    namespace.setdefault("WriteOnlyMapped", WriteOnlyMapped)
    namespace.setdefault("DynamicMapped", DynamicMapped)
    try:
        return eval(annotation, namespace)
    except NameError:
        return annotation  # a forward reference (e.g. a relationship's target class)
    except Exception as e:
        raise orm_exc.MappedAnnotationError(
            f"Could not interpret annotation {annotation!r} of {cls.__name__}: {e}"
        ) from e


def _mapped_annotation(annotation: Any, klass: type, cls: type) -> tuple[str, Any] | None:
    """("column", inner type) or ("relationship", inner) for ``Mapped[...]``-style
    annotations; None for other annotations (plain class attributes)."""
    ann = _eval_annotation(annotation, klass, cls)
    if isinstance(ann, str):
        # unresolvable: look for Mapped[...] textually
        text = ann.strip()
        for prefix in ("Mapped[", "WriteOnlyMapped[", "DynamicMapped[", "orm.Mapped["):
            if text.startswith(prefix) and text.endswith("]"):
                return ("relationship", text[len(prefix) : -1])
        return None
    origin = typing.get_origin(ann)
    if origin is ClassVar:
        return None
    if origin in (Mapped, WriteOnlyMapped, DynamicMapped) or (
        isinstance(origin, type) and issubclass(origin, Mapped)
    ):
        args = typing.get_args(ann)
        inner = args[0] if args else None
        if origin in (WriteOnlyMapped, DynamicMapped):
            return ("relationship", inner)
        if _looks_like_relationship(inner):
            return ("relationship", inner)
        return ("column", inner)
    return None


def _looks_like_relationship(inner: Any) -> bool:
    if isinstance(inner, (str, typing.ForwardRef)):
        return True
    inner_stripped, _ = _strip_optional(inner)
    origin = typing.get_origin(inner_stripped)
    if origin in (list, set, dict, frozenset) or origin is typing.Union:
        args = typing.get_args(inner_stripped)
        if args and any(_is_mapped_cls(a) or isinstance(a, (str, typing.ForwardRef)) for a in args):
            return True
    return _is_mapped_cls(inner_stripped)


def _is_mapped_cls(obj: Any) -> bool:
    return isinstance(obj, type) and isinstance(getattr(obj, "__mapper__", None), Mapper)


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    """(the type without None, whether None was part of it)."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or (hasattr(types, "UnionType") and isinstance(tp, types.UnionType)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) != len(typing.get_args(tp))
        if len(args) == 1:
            return args[0], optional
        return typing.Union[tuple(args)], optional
    return tp, False


def _type_for(python_type: Any, reg: registry, cls: type, name: str) -> Any:
    tp, _ = _strip_optional(python_type)
    tmap = reg.type_annotation_map
    if tp in tmap:
        return sqltypes.to_instance(tmap[tp])
    if typing.get_origin(tp) is typing.Annotated:
        base, *extras = typing.get_args(tp)
        for extra in extras:
            if isinstance(extra, MappedColumn) and extra._type_given:
                return extra.column.type
        if tp in tmap:
            return sqltypes.to_instance(tmap[tp])
        return _type_for(base, reg, cls, name)
    if typing.get_origin(tp) is typing.Literal:
        return sqltypes.Enum(*typing.get_args(tp), native_enum=False)
    if isinstance(tp, type):
        for py, sql in tmap.items():
            if isinstance(py, type) and issubclass(tp, py):
                return sqltypes.to_instance(sql)
        if issubclass(tp, enum.Enum):
            return sqltypes.Enum(tp)
        for py, sql in _DEFAULT_TYPE_MAP.items():
            if tp is py:
                return sql()
        for py, sql in _DEFAULT_TYPE_MAP.items():
            if issubclass(tp, py):
                return sql()
    raise orm_exc.MappedAnnotationError(
        f"Could not locate a SQL type for Python type {tp!r} of the '{name}' attribute of "
        f"{cls.__name__}: give the type in mapped_column(...), e.g. mapped_column(JSON), or "
        "add it to the base's type_annotation_map = {PythonType: SQLType}"
    )


def _apply_annotation(
    col: Column,
    mc: MappedColumn,
    mapped_ann: tuple[str, Any] | None,
    reg: registry,
    cls: type,
    name: str,
) -> None:
    if mapped_ann is None or mapped_ann[0] != "column":
        if not mc._type_given and col.type is sqltypes.NULLTYPE and col.foreign_keys:
            return  # type follows the referenced column
        if not mc._type_given and col.type is sqltypes.NULLTYPE and mapped_ann is None:
            raise orm_exc.MappedAnnotationError(
                f"Attribute '{name}' of {cls.__name__} is a mapped_column() with no type and no "
                f"Mapped[...] annotation; annotate it ({name}: Mapped[int] = ...) or pass a "
                "type (mapped_column(Integer))"
            )
        return
    inner = mapped_ann[1]
    stripped, optional = _strip_optional(inner)
    if typing.get_origin(stripped) is typing.Annotated:
        for extra in typing.get_args(stripped)[1:]:
            if isinstance(extra, MappedColumn):
                _merge_annotated(col, mc, extra)
    if not mc._type_given and col.type is sqltypes.NULLTYPE:
        col.type = _type_for(inner, reg, cls, name)
    if not mc._nullable_given and not col.primary_key:
        col.nullable = optional


def _merge_annotated(col: Column, mc: MappedColumn, extra: MappedColumn) -> None:
    """``Annotated[int, mapped_column(primary_key=True)]`` aliases: the alias gives what
    the attribute's own mapped_column() does not."""
    src = extra.column
    if src.primary_key and not col.primary_key:
        col.primary_key = True
        col.nullable = False
    if extra._type_given and not mc._type_given:
        col.type = src.type
        mc._type_given = True
    if src.default is not None and col.default is None:
        col.default = src.default
    if src.server_default is not None and col.server_default is None:
        col.server_default = src.server_default
    if src.index and not col.index:
        col.index = src.index
    if src.unique and not col.unique:
        col.unique = src.unique
    if extra._nullable_given and not mc._nullable_given:
        col.nullable = src.nullable
        mc._nullable_given = True
    for fk in src._fk_order:
        if not col.foreign_keys:
            new = fk._copy()
            new.parent = col
            col.foreign_keys.add(new)
            col._fk_order.append(new)


# -- dataclasses ----------------------------------------------------------------------


def _make_dataclass(cls: type, opts: dict[str, Any], reg: registry) -> type:
    return cls


def _apply_dataclass(cls: type, opts: dict[str, Any], mapper: Mapper) -> None:
    """Generate ``__init__``/``__repr__``/``__eq__`` the way ``dataclasses`` would for
    the mapped attributes (fields in declaration order, defaults from mapped_column)."""
    mapped_columns = _mapped_columns_of(cls)
    fields: list[tuple[str, Any, dict[str, Any]]] = []
    for base in reversed(cls.__mro__):
        for name, mc in base.__dict__.get("_sa_mapped_columns", {}).items():
            if any(f[0] == name for f in fields):
                continue
            default: Any = dataclasses.MISSING
            if mc.dataclass_default is not _MISSING:
                default = mc.dataclass_default
            factory = mc.default_factory
            field_opts = dict(mc.dataclass_opts)
            fields.append((name, (default, factory), field_opts))
    for name, prop in mapper._props.items():
        if getattr(prop, "_is_relationship", False) and name not in [f[0] for f in fields]:
            dopts = getattr(prop, "dataclass_opts", {})
            default = dopts.get("default", dataclasses.MISSING)
            factory = dopts.get("default_factory")
            fields.append(
                (
                    name,
                    (default, factory),
                    {k: v for k, v in dopts.items() if k not in ("default", "default_factory")},
                )
            )
    del mapped_columns
    init_fields = [f for f in fields if f[2].get("init", True)]
    required = [
        f
        for f in init_fields
        if f[1][0] is dataclasses.MISSING
        and f[1][1] is None
        and not f[2].get("kw_only", opts.get("kw_only", False))
    ]
    optional = [f for f in init_fields if f not in required]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        names = [f[0] for f in required] + [
            f[0] for f in optional if not f[2].get("kw_only", opts.get("kw_only", False))
        ]
        if len(args) > len(names):
            raise TypeError(
                f"__init__() takes {len(names) + 1} positional arguments but "
                f"{len(args) + 1} were given"
            )
        values = dict(zip(names, args, strict=False))
        for k, v in kwargs.items():
            if k in values:
                raise TypeError(f"__init__() got multiple values for argument '{k}'")
            if not any(f[0] == k for f in init_fields):
                raise TypeError(f"__init__() got an unexpected keyword argument '{k}'")
            values[k] = v
        for name, (default, factory), _fo in init_fields:
            if name in values:
                setattr(self, name, values[name])
            elif factory is not None:
                setattr(self, name, factory())
            elif default is not dataclasses.MISSING:
                setattr(self, name, default)
            else:
                raise TypeError(f"__init__() missing 1 required argument: '{name}'")
        post = getattr(self, "__post_init__", None)
        if post is not None:
            post()

    if opts.get("init", True) and "__init__" not in cls.__dict__:
        cls.__init__ = __init__  # type: ignore[misc]
    if opts.get("repr", True) and "__repr__" not in cls.__dict__:
        repr_fields = [f[0] for f in fields if f[2].get("repr", True)]

        def __repr__(self: Any) -> str:
            parts = ", ".join(f"{n}={self.__dict__.get(n)!r}" for n in repr_fields)
            return f"{type(self).__qualname__}({parts})"

        cls.__repr__ = __repr__  # type: ignore[method-assign,assignment]
    if opts.get("eq", True) and "__eq__" not in cls.__dict__:
        cmp_fields = [f[0] for f in fields if f[2].get("compare", True)]

        def __eq__(self: Any, other: Any) -> Any:
            if type(other) is not type(self):
                return NotImplemented
            return all(getattr(self, n) == getattr(other, n) for n in cmp_fields)

        cls.__eq__ = __eq__  # type: ignore[method-assign,assignment]
        cls.__hash__ = None  # type: ignore[assignment]
    cls.__dataclass_fields__ = {  # type: ignore[attr-defined]
        f[0]: dataclasses.field() for f in fields
    }


def has_inherited_table(cls: type) -> bool:
    return any(getattr(base, "__table__", None) is not None for base in cls.__mro__[1:])


def synonym_for(name: str, map_column: bool = False) -> Callable[[Any], Any]:
    def decorate(fn: Any) -> Any:
        prop = Synonym(name, descriptor=property(fn))
        return prop

    return decorate


def add_mapped_attribute(target: type, key: str, attr: Any) -> None:
    setattr(target, key, attr)
