"""ORM helpers: expression adaptation (columns of a table -> columns of an alias),
``aliased()``, and the joins of joined eager loading."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hermetic import exc
from hermetic.orm.attributes import OPERATOR_NAMES, delegate_operator
from hermetic.orm.mapper import Mapper, _mapper_of_class
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


for _name in OPERATOR_NAMES:
    setattr(_AliasedColumn, _name, delegate_operator(_name))


class _AliasedRelationship:
    def __init__(self, aliased: AliasedClass, prop: Any) -> None:
        self._aliased = aliased
        self.prop = prop
        self.key = prop.key

    def _sa_join_target(self) -> tuple[Any, ...]:
        prop = self.prop
        on, via = prop._join_parts(parent_adapter=self._aliased._adapter)
        return (prop.mapper, on) if via is None else (prop.mapper, on, via)

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

    def _sa_join_target(self) -> tuple[Any, ...]:
        parent = getattr(self.attr, "_aliased", None)
        on, via = self.prop._join_parts(
            parent_adapter=parent._adapter if parent is not None else None,
            target_adapter=(
                self.entity._adapter if isinstance(self.entity, AliasedClass) else None
            ),
        )
        return (self.entity, on) if via is None else (self.entity, on, via)

    def _subclass_criteria(self, criterion: Any) -> Any:
        """A subclass target (joined inheritance): its tables joined in the criteria."""
        from hermetic.sql.elements import and_

        mapper = getattr(self.entity, "__mapper__", None)
        if not isinstance(mapper, Mapper) or mapper is self.prop.mapper:
            return criterion
        conditions = []
        sel = mapper.persist_selectable
        while isinstance(sel, Join):
            conditions.append(sel.onclause)
            sel = sel.left
        crit = mapper._single_table_criteria()
        if crit is not None:
            conditions.append(crit)
        if criterion is not None:
            conditions.append(criterion)
        return and_(*conditions) if conditions else None

    def any(self, criterion: Any = None, **kw: Any) -> Any:
        if isinstance(self.entity, AliasedClass):
            raise exc.InvalidRequestError(
                "of_type(aliased(...)).any(): use the relationship's any() with criteria "
                "on the class, or join to the alias"
            )
        return self.attr.any(self._subclass_criteria(criterion), **kw)

    def has(self, criterion: Any = None, **kw: Any) -> Any:
        if isinstance(self.entity, AliasedClass):
            raise exc.InvalidRequestError(
                "of_type(aliased(...)).has(): use the relationship's has() with criteria "
                "on the class, or join to the alias"
            )
        return self.attr.has(self._subclass_criteria(criterion), **kw)

    def __str__(self) -> str:
        return f"{self.attr}.of_type({getattr(self.entity, '__name__', self.entity)})"


class _WithCriteria:
    """``User.orders.and_(criteria)``: joins along the relationship get the criteria in
    their ON clause; loader options load only the related objects that match."""

    def __init__(self, attr: Any, criteria: tuple[Any, ...]) -> None:
        self.attr = attr
        self.criteria = criteria
        self.prop = attr.prop
        self.key = attr.prop.key

    def _sa_join_target(self) -> tuple[Any, ...]:
        from hermetic.sql.elements import and_

        found = self.attr._sa_join_target()
        on = and_(found[1], *self.criteria)
        return (found[0], on, *found[2:])

    def __str__(self) -> str:
        return f"{self.attr}.and_(...)"


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
        return self._sa_select_entity()[1] or self._mapper.persist_selectable

    def _sa_select_entity(self) -> Any:
        """The base's columns and then each subclass's own columns; the subclasses'
        tables LEFT OUTER JOINed to the base's (joined inheritance)."""
        cached = self.__dict__.get("_entity_cache")
        if cached is not None:
            return cached[:3]
        base = self._mapper
        columns, from_, criteria = base._select_entity()
        columns = list(columns)
        keys: list[tuple[str, Mapper]] = [(p.key, base) for p in base._loaded_props]
        seen = {k for k, _ in keys}
        selectable = base.persist_selectable
        joined: set[int] = {id(t) for t in base.tables}
        for cls in self._classes:
            m = _mapper_of_class(cls)
            chain = [mm for mm in m.iterate_to_root() if mm is not base and mm.isa(base)]
            for mm in reversed(chain):
                if not mm.single and id(mm.local_table) not in joined:
                    joined.add(id(mm.local_table))
                    selectable = Join(
                        selectable, mm.local_table, mm.inherit_condition, isouter=True
                    )
            for p in m._loaded_props:
                if p.key not in seen:
                    seen.add(p.key)
                    columns.append(p.select_column())
                    keys.append((p.key, m))
        if selectable is base.persist_selectable:
            selectable = from_
        cached = (columns, selectable, criteria, tuple(keys))
        self.__dict__["_entity_cache"] = cached
        return cached[:3]

    def _sa_polymorphic_keys(self) -> tuple[tuple[str, Mapper], ...]:
        """(attribute, mapper it belongs to) for each column of the entity."""
        self._sa_select_entity()
        return self.__dict__["_entity_cache"][3]  # type: ignore[no-any-return]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        for cls in self.__dict__["_classes"]:
            if cls.__name__ == key:
                return cls
        return getattr(self.__dict__["_mapper"].class_, key)


def join_eager(
    stmt: Any, mapper: Mapper, entity: Any, nodes: list[Any], criteria: list[Any]
) -> Any:
    """Add the joins (LEFT OUTER, or INNER with ``innerjoin=True``) and the related
    columns of joined eager loads (``nodes``: :class:`~hermetic.orm.strategies.EagerNode`,
    chained ones joined from their parent's alias), and the related columns of
    ``contains_eager``; record where each entity's columns are for the loader
    (``_eager_joins``: (relationship, start, stop); ``_eager_parents``: the index of the
    entry each one hangs from, -1 for the root; ``_entity_keys`` for column options)."""
    from hermetic.sql.elements import and_

    new: Any = stmt._generate()
    eager = list(stmt.__dict__.get("_eager_joins", ()))
    parents = list(stmt.__dict__.get("_eager_parents", ())) or [-1] * len(eager)
    entity_keys = dict(stmt.__dict__.get("_entity_keys") or {})
    counter = [len(eager)]

    def alias_of(table: Any) -> Any:
        counter[0] += 1
        return table.alias(f"{table.name}_{counter[0]}")

    root_adapter = getattr(entity, "_adapter", None) or _no_adapter
    if not eager and _limits_rows(stmt) and any(_joins_collection(n) for n in nodes):
        # LIMIT/OFFSET count parents, not the rows a joined collection multiplies
        # them into: the statement becomes a subquery the eager joins are joined to
        new, base, root_adapter = _wrap_limited(stmt, root_adapter)
    else:
        base = _last_from(new, mapper, entity)
    joined = [base]

    def add(
        node: Any, parent_adapter: Callable[[Any], Any], parent_index: int, outer: bool
    ) -> None:
        prop = node.prop
        target = prop.mapper
        if node.keys is not None:
            cols = [target._props[k].select_column() for k in node.keys]
            target_criteria = target._select_entity()[2]
        else:
            cols, _from, target_criteria = target._select_entity()
        isouter = outer
        if node.strategy == "contains_eager":
            adapter = _alias_adapter(node.alias, target)
        else:
            adapter, right = _aliased_target(target, alias_of)
            isouter = outer or not node.innerjoin
            extra = [adapt(c, adapter) for c in (*prop.extra_criteria, *node.criteria)]
            if target_criteria is not None:
                extra.append(adapt(target_criteria, adapter))
            extra.extend(
                adapt(c.criteria_for(target.class_, target), adapter)
                for c in criteria
                if c.applies_to(target)
            )
            if prop.secondary is not None:
                sec = alias_of(prop.secondary)
                sec_adapter = column_adapter(prop.secondary, sec)
                on1 = and_(
                    *[
                        adapt(p, parent_adapter) == adapt(sc, sec_adapter)
                        for p, sc in prop.local_remote_pairs
                    ]
                )
                on2 = and_(
                    *[
                        adapt(t, adapter) == adapt(sc, sec_adapter)
                        for t, sc in prop.secondary_synchronize_pairs
                    ],
                    *extra,
                )
                joined[0] = Join(joined[0], sec, on1, isouter=isouter)
                joined[0] = Join(joined[0], right, on2, isouter=isouter)
            else:
                on = and_(
                    *[
                        adapt(loc, parent_adapter) == adapt(rem, adapter)
                        for loc, rem in prop.local_remote_pairs
                    ],
                    *extra,
                )
                joined[0] = Join(joined[0], right, on, isouter=isouter)
            for o in prop.order_by:
                o = o.__clause_element__() if hasattr(o, "__clause_element__") else o
                new._order_by.append(adapt(o, adapter))
        start = len(new._raw_columns)
        new._raw_columns.extend(adapt(c, adapter) for c in cols)
        eager.append((prop, start, len(new._raw_columns)))
        parents.append(parent_index)
        if node.keys is not None:
            entity_keys[start] = tuple((k, target) for k in node.keys)
        index = len(eager) - 1
        for child in node.children:
            add(child, adapter, index, isouter)

    for node in nodes:
        add(node, root_adapter, -1, False)
    if joined[0] is not base:
        _replace_from(new, base, joined[0])
    new.__dict__["_eager_joins"] = tuple(eager)
    new.__dict__["_eager_parents"] = tuple(parents)
    if entity_keys:
        new.__dict__["_entity_keys"] = entity_keys
    new.__dict__.pop("_orm_plan", None)
    return new


def _no_adapter(node: Any) -> Any:
    return None


def _limits_rows(stmt: Any) -> bool:
    return (
        stmt._limit is not None
        or stmt._offset is not None
        or getattr(stmt, "_fetch", None) is not None
        or bool(stmt._distinct)
    )


def _joins_collection(node: Any) -> bool:
    if node.strategy != "joined":
        return False
    return bool(node.prop.uselist) or any(_joins_collection(c) for c in node.children)


def _wrap_limited(stmt: Any, root_adapter: Callable[[Any], Any]) -> tuple[Any, Any, Any]:
    """``SELECT <the statement's columns> FROM (<the statement>) AS anon`` ordered the
    same way, and the adapter from the statement's columns to the subquery's."""
    from hermetic.sql.elements import Label

    inner = stmt._generate()
    for key in ("_eager_joins", "_eager_parents", "_orm_plan", "_with_options"):
        inner.__dict__.pop(key, None)
    selected = list(stmt._raw_columns)

    def base_of(c: Any) -> Any:
        return c.element if isinstance(c, Label) else c

    known = {id(base_of(c)) for c in selected}
    extra: list[Any] = []  # ORDER BY columns the statement does not select

    def collect(node: Any) -> Any:
        if isinstance(node, Column) and id(node) not in known:
            known.add(id(node))
            extra.append(node)
        return None

    for o in stmt._order_by:
        adapt(o, collect)
    columns = selected + extra
    inner._raw_columns = [c.label(f"anon_col_{i}") for i, c in enumerate(columns)]
    sub = inner.subquery()
    proxies = list(sub.c)
    mapping = {id(base_of(c)): p for c, p in zip(columns, proxies, strict=True)}

    def replace(node: Any) -> Any:
        found = mapping.get(id(node))
        if found is not None:
            return found
        inner_node = root_adapter(node)  # an aliased root: its alias's column first
        return mapping.get(id(inner_node)) if inner_node is not None else None

    outer = stmt._generate()
    outer._raw_columns = proxies[: len(selected)]
    outer._from_obj = [sub]
    outer._where = []
    outer._group_by = []
    outer._having = []
    outer._limit = outer._offset = None
    outer._fetch = outer._fetch_options = None
    outer._distinct = False
    outer._distinct_on = []
    outer._order_by = [adapt(o, replace) for o in stmt._order_by]
    return outer, sub, replace


def _alias_adapter(alias: Any, target: Mapper) -> Callable[[Any], Any]:
    """Columns of ``target``'s tables as ``contains_eager(..., alias=)`` names them."""
    if alias is None:
        return _no_adapter
    adapter = getattr(alias, "_adapter", None)
    if adapter is not None:
        return adapter  # type: ignore[no-any-return]
    if isinstance(alias, str):
        raise exc.ArgumentError(
            "contains_eager(alias=) takes an aliased() class or a table alias, not a string"
        )
    return column_adapter(target.persist_selectable, alias)


def _aliased_target(
    target: Mapper, alias_of: Callable[[Any], Any]
) -> tuple[Callable[[Any], Any], Any]:
    """An alias of each of ``target``'s tables (joined inheritance: the join of them),
    and the adapter from the tables' columns to the aliases'."""
    selectable = target.persist_selectable
    aliases: dict[Any, Any] = {}

    def collect(sel: Any) -> None:
        if isinstance(sel, Join):
            collect(sel.left)
            collect(sel.right)
        else:
            aliases[sel] = alias_of(sel)

    collect(selectable)

    def replace(node: Any) -> Any:
        if isinstance(node, Column) and node.table in aliases:
            return aliases[node.table].c[node.key]
        return None

    def build(sel: Any) -> Any:
        if isinstance(sel, Join):
            return Join(
                build(sel.left),
                build(sel.right),
                adapt(sel.onclause, replace),
                isouter=sel.isouter,
                full=sel.full,
            )
        return aliases[sel]

    return replace, build(selectable)


def and_pairs(pairs: list[tuple[Any, Any]]) -> Any:
    from hermetic.sql.elements import and_

    return and_(*[a == b for a, b in pairs])


def _last_from(stmt: Any, mapper: Mapper, entity: Any = None) -> Any:
    """The FROM element the root entity's table is in (to join eager tables to)."""
    table = getattr(entity, "_alias", None) or mapper.persist_selectable
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
    if p.direction == MANYTOMANY:  # the secondary table joins in through the criteria
        return and_(
            p.secondaryjoin,
            *[s == _value_of(p.parent, instance, d, par) for par, s in p.local_remote_pairs],
        )
    crit = and_(
        *[rem == _value_of(p.parent, instance, d, loc) for loc, rem in p.local_remote_pairs],
        *p.extra_criteria,
    )
    adapter = getattr(from_entity, "_adapter", None)
    return adapt(crit, adapter) if adapter is not None else crit


def _unused(x: Alias) -> None:
    return None
