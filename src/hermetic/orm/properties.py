"""Mapper properties: column attributes, SQL-expression attributes and synonyms, and the
``mapped_column()`` / ``column_property()`` / ``deferred()`` / ``synonym()`` constructors
used in class bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic.sql.elements import ColumnElement, Label
from hermetic.sql.schema import Column

if TYPE_CHECKING:
    from hermetic.orm.mapper import Mapper

_creation_counter = [0]


def _next_order() -> int:
    _creation_counter[0] += 1
    return _creation_counter[0]


class MapperProperty:
    """Something a mapper maps under an attribute name."""

    _is_relationship = False
    _is_column = False
    _is_synonym = False
    key: str
    parent: Mapper
    doc: str | None = None

    def __init__(self) -> None:
        self.info: dict[Any, Any] = {}

    def instrument(self, mapper: Mapper, key: str) -> None:
        self.parent = mapper
        self.key = key

    @property
    def class_attribute(self) -> Any:
        return getattr(self.parent.class_, self.key)

    @property
    def mapper(self) -> Mapper:
        return self.parent


class ColumnProperty(MapperProperty):
    """An attribute loaded from a column, or from a SQL expression (read only)."""

    _is_column = True

    def __init__(
        self,
        *columns: Any,
        deferred: bool = False,
        group: str | None = None,
        raiseload: bool = False,
        active_history: bool = False,
        doc: str | None = None,
        info: dict[Any, Any] | None = None,
        expire_on_flush: bool = True,
    ) -> None:
        super().__init__()
        self.columns: list[Any] = list(columns)
        self.deferred = deferred
        self.group = group
        self.raiseload = raiseload
        self.active_history = active_history
        self.doc = doc
        self.expire_on_flush = expire_on_flush
        if info:
            self.info.update(info)
        self._order = _next_order()

    @property
    def column(self) -> Any:
        return self.columns[0]

    @property
    def is_expression(self) -> bool:
        """True for ``column_property(select(...).scalar_subquery())`` and the like."""
        return not isinstance(self.columns[0], Column)

    @property
    def expression(self) -> Any:
        return self.columns[0]

    def select_column(self) -> Any:
        """What to put in the SELECT list to load this attribute."""
        col = self.columns[0]
        if isinstance(col, Column):
            return col
        if isinstance(col, Label):
            return col
        return col.label(self.key) if hasattr(col, "label") else col

    def __repr__(self) -> str:
        return f"ColumnProperty({getattr(self, 'key', '?')})"


class Synonym(MapperProperty):
    """``synonym("name")``: another name for a mapped attribute (reads, writes, SQL)."""

    _is_synonym = True

    def __init__(self, name: str, descriptor: Any = None, doc: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.descriptor = descriptor
        self.doc = doc

    @property
    def expression(self) -> Any:
        return getattr(self.parent.class_, self.name).expression

    def get_value(self, obj: Any) -> Any:
        if self.descriptor is not None:
            return self.descriptor.__get__(obj, type(obj))
        return getattr(obj, self.name)

    def _impl_for(self, mapper: Mapper) -> Any:
        """Reads and writes of the synonym go to the attribute it names."""
        from hermetic.orm.attributes import AttributeImpl

        synonym = self

        class _SynonymImpl(AttributeImpl):
            __slots__ = ()

            def load(self, obj: Any) -> Any:
                return synonym.get_value(obj)

            def set(self, obj: Any, value: Any) -> None:
                setter = getattr(synonym.descriptor, "__set__", None)
                if setter is not None:
                    setter(obj, value)
                else:
                    setattr(obj, synonym.name, value)

            def delete(self, obj: Any) -> None:
                deleter = getattr(synonym.descriptor, "__delete__", None)
                if deleter is not None:
                    deleter(obj)
                else:
                    delattr(obj, synonym.name)

        return _SynonymImpl(mapper, self.key)


class MappedColumn:
    """What ``mapped_column()`` returns in a class body: a Column waiting for the
    annotation (type, nullability) and its attribute name."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        self._order = _next_order()
        self.deferred = kw.pop("deferred", False)
        self.deferred_group = kw.pop("deferred_group", None)
        self.deferred_raiseload = kw.pop("deferred_raiseload", False)
        self.active_history = kw.pop("active_history", False)
        self.use_existing_column = kw.pop("use_existing_column", False)
        self.sort_order = kw.pop("sort_order", 0)
        # dataclass options (MappedAsDataclass)
        self.dataclass_opts = {
            k: kw.pop(k) for k in ("init", "repr", "compare", "kw_only", "hash") if k in kw
        }
        self.default_factory = kw.pop("default_factory", None)
        if "insert_default" in kw:
            insert_default = kw.pop("insert_default")
            self.dataclass_default = kw.pop("default", _MISSING)
            kw["default"] = insert_default
        else:
            self.dataclass_default = kw.get("default", _MISSING)
        if self.default_factory is not None and "default" not in kw:
            kw["default"] = _factory_default(self.default_factory)
        type_ = kw.pop("type_", None)
        self._nullable_given = "nullable" in kw
        self._type_given = type_ is not None or any(_is_type(a) for a in args)
        for k in list(kw):
            if k.startswith(("sqlite_", "postgresql_", "mysql_", "mariadb_")):
                kw.pop(k)
        self.column = Column(*args, type_=type_, **kw)

    def __repr__(self) -> str:
        return f"mapped_column({self.column.name or '?'})"

    # in a class body, ``column_property(first + " " + last)`` builds SQL from the
    # mapped_column() objects: they stand for their Column
    def __clause_element__(self) -> Column:
        return self.column


def _column_operator(name: str) -> Callable[..., Any]:
    def method(self: MappedColumn, *args: Any) -> Any:
        return getattr(self.column, name)(*args)

    method.__name__ = name
    return method


for _op in (
    "__add__",
    "__radd__",
    "__sub__",
    "__rsub__",
    "__mul__",
    "__rmul__",
    "__truediv__",
    "__rtruediv__",
    "__mod__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__neg__",
):
    setattr(MappedColumn, _op, _column_operator(_op))


def _factory_default(factory: Callable[[], Any]) -> Callable[..., Any]:
    def default() -> Any:
        return factory()

    return default


def _is_type(obj: Any) -> bool:
    from hermetic.sql.sqltypes import TypeEngine

    return isinstance(obj, TypeEngine) or (isinstance(obj, type) and issubclass(obj, TypeEngine))


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Any = _Missing()


def mapped_column(*args: Any, **kw: Any) -> Any:
    """A column attribute in a declarative class: ``id: Mapped[int] =
    mapped_column(primary_key=True)``. Takes Column's arguments; the type and
    nullability come from the ``Mapped[...]`` annotation when not given."""
    return MappedColumn(*args, **kw)


def column_property(
    *columns: Any,
    deferred: bool = False,
    group: str | None = None,
    raiseload: bool = False,
    active_history: bool = False,
    doc: str | None = None,
    info: dict[Any, Any] | None = None,
    expire_on_flush: bool = True,
    **kw: Any,
) -> Any:
    """An attribute loaded from a SQL expression (or extra columns) with the object."""
    if not columns:
        raise exc.ArgumentError(
            "column_property() needs a column or a SQL expression, e.g. "
            "column_property(select(func.count(Address.id)).where(...).scalar_subquery())"
        )
    coerced = []
    for c in columns:
        clause = getattr(c, "__clause_element__", None)
        if clause is not None:
            c = clause()
        if isinstance(c, MappedColumn):
            c = c.column
        if not isinstance(c, ColumnElement) and hasattr(c, "scalar_subquery"):
            c = c.scalar_subquery()
        coerced.append(c)
    return ColumnProperty(
        *coerced,
        deferred=deferred,
        group=group,
        raiseload=raiseload,
        active_history=active_history,
        doc=doc,
        info=info,
        expire_on_flush=expire_on_flush,
    )


def deferred(
    column: Any, *more: Any, group: str | None = None, raiseload: bool = False, **kw: Any
) -> Any:
    """A column attribute loaded on first access instead of with the object."""
    return column_property(column, *more, deferred=True, group=group, raiseload=raiseload, **kw)


def synonym(
    name: str, map_column: Any = None, descriptor: Any = None, doc: str | None = None, **kw: Any
) -> Any:
    return Synonym(name, descriptor=descriptor, doc=doc)


def query_expression(default_expr: Any = None, **kw: Any) -> Any:
    from hermetic.sql.elements import null

    prop = ColumnProperty(default_expr if default_expr is not None else null())
    prop._query_expression = True  # type: ignore[attr-defined]
    return prop
