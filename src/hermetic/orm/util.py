"""ORM helpers: expression adaptation (columns of a table -> columns of an alias),
``aliased()``, and the joins of joined eager loading."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hermetic import exc
from hermetic.orm.mapper import Mapper
from hermetic.orm.state import instance_state
from hermetic.sql.base import ClauseElement
from hermetic.sql.schema import Column
from hermetic.sql.selectable import Alias, Join


def adapt(element: Any, replace: Callable[[Any], Any]) -> Any:
    """A copy of ``element`` where ``replace(node)`` returned a substitute (None keeps
    the node); unchanged subtrees are shared, not copied."""
    found = replace(element)
    if found is not None:
        return found
    names = getattr(type(element), "_traverse", ())
    changes: dict[str, Any] = {}
    for name in names:
        value = getattr(element, name, None)
        if isinstance(value, (list, tuple)):
            new_items = [adapt(v, replace) if isinstance(v, ClauseElement) else v for v in value]
            if any(a is not b for a, b in zip(new_items, value, strict=True)):
                changes[name] = type(value)(new_items) if isinstance(value, tuple) else new_items
        elif isinstance(value, ClauseElement):
            new = adapt(value, replace)
            if new is not value:
                changes[name] = new
    if not changes:
        return element
    copy = element._copy()
    copy.__dict__.update(changes)
    copy.__dict__.pop("_key_memo", None)
    return copy


def column_adapter(table: Any, alias: Any) -> Callable[[Any], Any]:
    """``replace`` for :func:`adapt`: columns of ``table`` become ``alias``'s."""

    def replace(node: Any) -> Any:
        if isinstance(node, Column) and node.table is table:
            return alias.c[node.key]
        return None

    return replace


class AliasedClass:
    """``aliased(User)``: the mapped class under another name in one statement."""

    def __init__(
        self, mapper: Mapper, alias: Any = None, name: str | None = None, flat: bool = False
    ) -> None:
        mapper._check_configure()
        self._sa_aliased_mapper = mapper
        self._mapper = mapper
        table = mapper.persist_selectable
        if alias is None:
            if isinstance(table, Join):
                raise exc.InvalidRequestError(
                    "aliased() of a joined-inheritance class is not supported yet; alias the "
                    "tables yourself"
                )
            alias = table.alias(name)
        self._alias = alias
        self._table = table
        self._adapter = column_adapter(table, alias)
        self.__name__ = name or mapper.class_.__name__
        self._sa_label_name = name or mapper.class_.__name__
        self._attrs: dict[str, Any] = {}

    @property
    def _aliased_insp(self) -> AliasedClass:
        return self

    @property
    def mapper(self) -> Mapper:
        return self._mapper

    @property
    def entity(self) -> AliasedClass:
        return self

    @property
    def class_(self) -> type:
        return self._mapper.class_

    @property
    def selectable(self) -> Any:
        return self._alias

    is_aliased_class = True

    def __clause_element__(self) -> Any:
        return self._alias

    def _sa_select_entity(self) -> Any:
        cols, _from, criteria = self._mapper._select_entity()
        return (
            [adapt(c, self._adapter) for c in cols],
            None,
            adapt(criteria, self._adapter) if criteria is not None else None,
        )

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        attrs = self.__dict__.get("_attrs")
        if attrs is None:
            raise AttributeError(key)
        if key in attrs:
            return attrs[key]
        mapper = self.__dict__["_mapper"]
        prop = mapper._props.get(key)
        if prop is None:
            value = getattr(mapper.class_, key)
            expr = getattr(value, "__clause_element__", None)
            if expr is not None:
                return adapt(expr(), self._adapter)
            return value
        if getattr(prop, "_is_relationship", False):
            attr: Any = _AliasedRelationship(self, prop)
        else:
            attr = _AliasedColumn(self, key, adapt(prop.expression, self._adapter))
        attrs[key] = attr
        return attr

    def __repr__(self) -> str:
        return f"<AliasedClass {self.__name__} of {self._mapper.class_.__name__}>"


class _AliasedColumn:
    """An attribute of an aliased class: its column on the alias."""

    def __init__(self, aliased: AliasedClass, key: str, expression: Any) -> None:
        self._aliased = aliased
        self.key = key
        self.expression = expression

    def __clause_element__(self) -> Any:
        return self.expression

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.expression, name)

    def __hash__(self) -> int:
        return id(self)


def _delegate(name: str) -> Callable[..., Any]:
    def method(self: _AliasedColumn, *args: Any) -> Any:
        return getattr(self.expression, name)(*args)

    method.__name__ = name
    return method


for _name in (
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__add__",
    "__sub__",
    "__mul__",
    "__truediv__",
    "__neg__",
    "__invert__",
    "__getitem__",
    "__mod__",
):
    setattr(_AliasedColumn, _name, _delegate(_name))


class _AliasedRelationship:
    def __init__(self, aliased: AliasedClass, prop: Any) -> None:
        self._aliased = aliased
        self.prop = prop
        self.key = prop.key

    def _sa_join_target(self) -> tuple[Any, Any]:
        prop = self.prop
        return prop.mapper, adapt(prop.primaryjoin, self._aliased._adapter)

    def of_type(self, entity: Any) -> Any:
        return _OfType(self, entity)

    def has(self, criterion: Any = None, **kw: Any) -> Any:
        return adapt(self.prop._any(self, criterion, **kw), self._aliased._adapter)

    any = has


class _OfType:
    """``User.orders.of_type(aliased(Order))``: join to an alias of the target."""

    def __init__(self, attr: Any, entity: Any) -> None:
        self.attr = attr
        self.entity = entity
        self.prop = attr.prop

    def _sa_join_target(self) -> tuple[Any, Any]:
        _, onclause = self.attr._sa_join_target()
        if isinstance(self.entity, AliasedClass):
            return self.entity, adapt(onclause, self.entity._adapter)
        return self.entity, onclause

    def any(self, criterion: Any = None, **kw: Any) -> Any:
        return self.attr.any(criterion, **kw)


def aliased(
    element: Any,
    alias: Any = None,
    name: str | None = None,
    flat: bool = False,
    adapt_on_names: bool = False,
) -> Any:
    """An alias of a mapped class (or of a table / subquery) for one statement."""
    mapper = getattr(element, "__mapper__", None)
    if isinstance(mapper, Mapper):
        return AliasedClass(mapper, alias, name, flat)
    if isinstance(element, Mapper):
        return AliasedClass(element, alias, name, flat)
    if hasattr(element, "alias"):
        return element.alias(name)
    raise exc.ArgumentError(
        f"aliased() takes a mapped class, a table or a subquery, got {element!r}"
    )


def with_polymorphic(
    base: Any,
    classes: Any,
    selectable: Any = False,
    flat: bool = False,
    polymorphic_on: Any = None,
    aliased: bool = False,
    innerjoin: bool = False,
) -> Any:
    """``with_polymorphic(Employee, [Manager, Engineer])``: the base class, loading the
    subclasses' columns with the same query (their tables outer-joined)."""
    mapper = base.__mapper__ if not isinstance(base, Mapper) else base
    return _WithPolymorphic(mapper, classes)


class _WithPolymorphic:
    def __init__(self, mapper: Mapper, classes: Any) -> None:
        self._sa_aliased_mapper = mapper
        self._mapper = mapper
        if classes == "*":
            classes = [m.class_ for m in mapper.self_and_descendants if m is not mapper]
        self._classes = [c if isinstance(c, type) else c.class_ for c in classes]
        self.__name__ = mapper.class_.__name__

    def __clause_element__(self) -> Any:
        return self._mapper.persist_selectable

    def _sa_select_entity(self) -> Any:
        return self._mapper._select_entity()

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        for cls in self.__dict__["_classes"]:
            if cls.__name__ == key:
                return cls
        return getattr(self.__dict__["_mapper"].class_, key)


def join_eager(stmt: Any, mapper: Mapper, props: list[Any], options: dict[str, Any]) -> Any:
    """Add LEFT OUTER JOINs (INNER with ``innerjoin=True``) and the related columns of
    joined eager loads; record where those columns are for the loader."""
    from hermetic.sql.selectable import Select

    new: Select = stmt._generate()
    eager = list(stmt.__dict__.get("_eager_joins", ()))
    froms_used = {id(f) for f in stmt._froms()}
    for prop in props:
        target = prop.mapper
        table = target.persist_selectable
        opts = options.get(prop.key, (None, [], {}))[2]
        innerjoin = bool(opts.get("innerjoin")) or bool(prop.innerjoin)
        cols, _from, criteria = target._select_entity()
        onclause = prop.primaryjoin
        del froms_used  # always an alias: the target's table may already be in the FROM
        if True:
            alias = (
                table.alias(f"{table.name}_{len(eager) + 1}")
                if not isinstance(table, Join)
                else None
            )
            if alias is None:
                raise exc.InvalidRequestError(
                    f"joinedload of {prop}: joined-inheritance targets are not supported yet; "
                    "use selectinload"
                )
            adapter = column_adapter(table, alias)
            cols = [adapt(c, adapter) for c in cols]
            right: Any = alias
            if prop.secondary is not None:
                sec_alias = prop.secondary.alias(f"{prop.secondary.name}_{len(eager) + 1}")
                sadapter = column_adapter(prop.secondary, sec_alias)
                on1 = adapt(and_pairs([(p, s) for p, s in prop.local_remote_pairs]), sadapter)
                on2 = adapt(
                    adapt(
                        and_pairs([(t, s) for t, s in prop.secondary_synchronize_pairs]), sadapter
                    ),
                    adapter,
                )
                left = _last_from(new, mapper)
                joined = Join(left, sec_alias, on1, isouter=not innerjoin)
                joined = Join(joined, right, on2, isouter=not innerjoin)
                _replace_from(new, left, joined)
            else:
                on = adapt(onclause, adapter)
                if criteria is not None:
                    from hermetic.sql.elements import and_

                    on = and_(on, adapt(criteria, adapter))
                left = _last_from(new, mapper)
                joined = Join(left, right, on, isouter=not innerjoin)
                _replace_from(new, left, joined)
        start = len(new._raw_columns)
        new._raw_columns.extend(cols)
        eager.append((prop, start, len(new._raw_columns)))
        if prop.order_by:
            new._order_by.extend(
                adapt(o.__clause_element__() if hasattr(o, "__clause_element__") else o, adapter)
                for o in prop.order_by
            )
    new.__dict__["_eager_joins"] = tuple(eager)
    new.__dict__.pop("_orm_plan", None)
    return new


def and_pairs(pairs: list[tuple[Any, Any]]) -> Any:
    from hermetic.sql.elements import and_

    return and_(*[a == b for a, b in pairs])


def _last_from(stmt: Any, mapper: Mapper) -> Any:
    """The FROM element the root entity's table is in (to join eager tables to)."""
    table = mapper.persist_selectable
    for f in stmt._from_obj:
        if f is table or (isinstance(f, Join) and _contains(f, table)):
            return f
    return table


def _contains(join: Any, table: Any) -> bool:
    if join is table:
        return True
    if isinstance(join, Join):
        return _contains(join.left, table) or _contains(join.right, table)
    return False


def _replace_from(stmt: Any, old: Any, new: Any) -> None:
    for i, f in enumerate(stmt._from_obj):
        if f is old:
            stmt._from_obj[i] = new
            return
    stmt._from_obj.insert(0, new)


def _self_ref_exists(prop: Any, criteria: list[Any]) -> Any:
    """EXISTS for ``Node.children.any(...)`` on a self-referential relationship: the
    inner query uses an alias of the table."""
    from hermetic.sql.selectable import Select, exists

    table = prop.mapper.persist_selectable
    alias = table.alias()
    adapter = column_adapter(table, alias)
    join = [loc == adapt(rem, adapter) for loc, rem in prop.local_remote_pairs]
    crit = [adapt(c, adapter) for c in criteria]
    sel = Select([next(iter(alias.c))]).where(*join, *crit)
    return exists(sel.correlate(table))


def identity_key(
    class_: Any = None,
    ident: Any = None,
    *,
    instance: Any = None,
    row: Any = None,
    identity_token: Any = None,
) -> Any:
    if instance is not None:
        return instance_state(instance).mapper.identity_key_from_instance(instance)
    mapper = class_.__mapper__
    if row is not None:
        return mapper.identity_key_from_row(row, identity_token)
    if not isinstance(ident, (tuple, list)):
        ident = (ident,)
    return mapper.identity_key_from_primary_key(ident, identity_token)


def was_deleted(obj: Any) -> bool:
    return instance_state(obj).was_deleted


def object_state(obj: Any) -> Any:
    return instance_state(obj)


def with_parent(instance: Any, prop: Any, from_entity: Any = None) -> Any:
    """Criteria selecting the objects related to ``instance`` through ``prop``."""
    p = getattr(prop, "prop", prop)
    p.parent._check_configure()
    from hermetic.orm.relationships import MANYTOMANY, _value_of
    from hermetic.sql.elements import and_

    d = instance.__dict__
    if p.direction == MANYTOMANY:
        raise exc.InvalidRequestError(
            "with_parent() over a many-to-many: join the secondary table and filter on it"
        )
    return and_(
        *[rem == _value_of(p.parent, instance, d, loc) for loc, rem in p.local_remote_pairs],
        *p.extra_criteria,
    )


def _unused(x: Alias) -> None:
    return None
