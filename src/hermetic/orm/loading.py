"""Turning result rows into objects.

A *plan* is computed once per statement shape (which entities, at which column
positions) and turned into one row function; the per-row work is: read the primary key,
look in the identity map, and either return the object already there or build a new
one by filling its ``__dict__`` from a slice of the row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic.engine.result import IteratorResult, Result, ScalarResult
from hermetic.engine.row import ResultMetaData
from hermetic.orm.attributes import QueryableAttribute
from hermetic.orm.mapper import Mapper
from hermetic.orm.state import STATE_ATTR, InstanceState

if TYPE_CHECKING:
    from hermetic.orm.session import Session


def _entity_mapper(e: Any) -> Mapper | None:
    if isinstance(e, Mapper):
        return e
    if isinstance(e, type):
        m = e.__dict__.get("__mapper__") or getattr(e, "__mapper__", None)
        return m if isinstance(m, Mapper) else None
    m = getattr(e, "_sa_aliased_mapper", None)
    return m if isinstance(m, Mapper) else None


def has_orm_entities(stmt: Any) -> bool:
    return any(_entity_mapper(e) is not None for e, _, _ in getattr(stmt, "_raw_entities", ()))


class _Plan:
    """What each result column is: (kind, key, data)."""

    __slots__ = ("items", "keys", "single_entity")

    def __init__(self, keys: list[str], items: list[tuple[str, Any, int, int]]) -> None:
        self.keys = keys
        self.items = items  # ("entity", mapper, start, stop) | ("column", None, index, index+1)
        self.single_entity = len(items) == 1 and items[0][0] == "entity"


def make_plan(stmt: Any, column_keys: Sequence[str]) -> _Plan:
    items: list[tuple[str, Any, int, int]] = []
    keys: list[str] = []
    covered: dict[int, tuple[Any, int, int]] = {e[1]: e for e in stmt._raw_entities}
    i = 0
    n = len(column_keys)
    eager = stmt.__dict__.get("_eager_joins")
    if eager:  # joined eager columns are read by the parent's loader, not returned
        n = min(start for _, start, _ in eager)
    while i < n:
        hit = covered.get(i)
        if hit is not None:
            e, start, stop = hit
            mapper = _entity_mapper(e)
            if mapper is not None:
                items.append(("entity", mapper, start, stop))
                keys.append(getattr(e, "_sa_label_name", None) or mapper.class_.__name__)
                i = stop
                continue
            if isinstance(e, QueryableAttribute):
                items.append(("column", None, i, i + 1))
                keys.append(e.key)
                i = stop if stop > i else i + 1
                continue
        items.append(("column", None, i, i + 1))
        keys.append(column_keys[i])
        i += 1
    return _Plan(keys, items)


def _entity_loader(
    session: Session, mapper: Mapper, start: int, stop: int, populate_existing: bool
) -> Callable[[Any], Any]:
    """A function row -> object for one entity at columns [start, stop)."""
    props = mapper._loaded_props
    keys = tuple(p.key for p in props)
    if len(keys) != stop - start:
        raise exc.InvalidRequestError(
            f"Internal: {mapper.class_.__name__} expects {len(keys)} columns, got {stop - start}"
        )
    identity_class = mapper.identity_class
    pk_pos = tuple(start + keys.index(k) for k in mapper._pk_keys)
    idmap = session.identity_map._dict
    idmap_add = session.identity_map._add
    sref = session._wref
    whole = start == 0
    cls: Any = mapper.class_
    new: Any = cls.__new__
    polymorphic = mapper.polymorphic_on is not None and bool(mapper.polymorphic_map)
    disc_pos = -1
    if polymorphic and mapper._polymorphic_key in keys:
        disc_pos = start + keys.index(mapper._polymorphic_key)
    from hermetic.orm.events import mapper_listeners

    load_listeners = mapper_listeners(mapper, "load")
    single_pk = pk_pos[0] if len(pk_pos) == 1 else -1

    def load(row: Any) -> Any:
        if single_pk >= 0:
            pk = row[single_pk]
            if pk is None:
                return None
            ident = (pk,)
        else:
            ident = tuple([row[i] for i in pk_pos])
            if all(v is None for v in ident):
                return None
        key = (identity_class, ident, None)
        state = idmap.get(key)
        if state is not None:
            obj = state.obj()
            if obj is not None:
                d = obj.__dict__
                if populate_existing or state.expired:
                    _populate(state, obj, d, keys, row, start, overwrite=True)
                elif len(d) <= len(keys):
                    _populate(state, obj, d, keys, row, start, overwrite=False)
                return obj
        target_cls = cls
        if disc_pos >= 0:
            sub = mapper.polymorphic_map.get(row[disc_pos])
            if sub is not None and sub is not mapper:
                target_cls = sub.class_
        obj = new(target_cls) if target_cls is cls else target_cls.__new__(target_cls)
        d = obj.__dict__
        if whole and stop == len(row):
            d.update(zip(keys, row, strict=False))
        else:
            d.update(zip(keys, row[start:stop], strict=False))
        state = InstanceState(obj, mapper if target_cls is cls else target_cls.__mapper__)
        state.key = key
        state.session_ref = sref
        d[STATE_ATTR] = state
        idmap_add(key, state)
        if target_cls is not cls:
            session._load_subclass_columns(state, obj)
        if load_listeners:
            for fn in load_listeners:
                fn(obj, None)
        return obj

    return load


def _populate(
    state: InstanceState,
    obj: Any,
    d: dict[str, Any],
    keys: tuple[str, ...],
    row: Any,
    start: int,
    overwrite: bool,
) -> None:
    committed = state.committed
    for i, k in enumerate(keys):
        if overwrite:
            if committed and k in committed:
                continue  # keep pending changes (populate_existing overwrites them in SA
                # only when there are none; unflushed changes are flushed first anyway)
            d[k] = row[start + i]
        elif k not in d:
            d[k] = row[start + i]
    if overwrite:
        state.expired = False


def orm_result(session: Session, stmt: Any, result: Result[Any], options: Any) -> Result[Any]:
    """Wrap a Core result of an ORM-enabled select into rows of objects."""
    keys = result.keys()
    cache = stmt.__dict__.get("_orm_plan")
    if cache is None or cache[0] != tuple(keys):
        plan = make_plan(stmt, list(keys))
        stmt.__dict__["_orm_plan"] = (tuple(keys), plan)
    else:
        plan = cache[1]
    populate_existing = bool(options.get("populate_existing")) if options else False
    makers: list[Callable[[Any], Any]] = []
    for kind, mapper, start, stop in plan.items:
        if kind == "entity":
            makers.append(_entity_loader(session, mapper, start, stop, populate_existing))
        else:
            makers.append(_column_getter(start))
    unique_flag: list[bool] = [False]
    eager = stmt.__dict__.get("_eager_joins")
    if eager:
        makers[0] = _with_eager(session, makers[0], eager, populate_existing, unique_flag)
    post = session._post_load_hooks(stmt, plan, options)
    md = result._metadata
    # driver rows need no conversion when no column has a result processor
    source: Iterator[Any] = (
        result._raw_iter() if md is not None and md._processors is None else iter(result)
    )
    if plan.single_entity:
        one = makers[0]

        def rows_single(source: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
            for row in source:
                yield (one(row),)

        it: Iterator[Any] = rows_single(source)
    else:

        def rows_multi(source: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
            for row in source:
                yield tuple([m(row) for m in makers])

        it = rows_multi(source)
    if post is not None:
        it = post(it)
    yield_per = options.get("yield_per") if options else None
    out = ORMResult(ResultMetaData(plan.keys), it, raw=result)
    out._unique_flag = unique_flag
    out._needs_unique = bool(eager) and any(p.uselist for p, _, _ in eager)
    out._entity_positions = frozenset(i for i, item in enumerate(plan.items) if item[0] == "entity")
    if yield_per:
        out._yield_per = yield_per
    out._is_orm_single = plan.single_entity  # type: ignore[attr-defined]
    return out


def _column_getter(index: int) -> Callable[[Any], Any]:
    def get(row: Any) -> Any:
        return row[index]

    return get


def load_on_pk(
    session: Session, mapper: Mapper, ident: tuple[Any, ...], keys: Sequence[str] | None
) -> Any:
    """SELECT one row by primary key (for refresh and expired attributes)."""
    from hermetic.sql.selectable import Select

    if keys is None:
        stmt = Select([mapper.class_])
    else:
        cols = [mapper._props[k].select_column() for k in keys]  # type: ignore[attr-defined]
        stmt = Select(cols)
        if mapper.persist_selectable is not mapper.local_table:
            stmt = stmt.select_from(mapper.persist_selectable)
    for col, value in zip(mapper.primary_key, ident, strict=False):
        stmt = stmt.where(col == value)
    return stmt


class ORMResult(IteratorResult[Any]):
    """Rows of an ORM select. ``unique()`` compares mapped objects by identity (they
    may be unhashable, e.g. dataclasses with ``eq``), other values by equality."""

    _entity_positions: frozenset[int] = frozenset()
    _unique_flag: list[bool] = [False]
    _needs_unique = False

    def unique(self, strategy: Callable[[Any], Any] | None = None) -> ORMResult:
        self._unique_flag[0] = True
        if strategy is None and self._entity_positions:
            positions = self._entity_positions

            def strategy(row: Any) -> Any:
                return tuple(id(v) if i in positions else v for i, v in enumerate(row))

        super().unique(strategy)
        return self

    def scalars(self, index: Any = 0) -> ScalarResult[Any]:
        i = self._md()._index_for(index)
        scalars = _ORMScalarResult(self, i, i in self._entity_positions)
        scalars._unique_flag = self._unique_flag
        return scalars


class _ORMScalarResult(ScalarResult[Any]):
    def __init__(self, real: Any, index: int, entity: bool) -> None:
        super().__init__(real, index)
        self._entity = entity

    _unique_flag: list[bool] = [False]

    def unique(self, strategy: Callable[[Any], Any] | None = None) -> _ORMScalarResult:
        self._unique_flag[0] = True
        super().unique(id if strategy is None and self._entity else strategy)
        return self


def _with_eager(
    session: Session,
    base: Callable[[Any], Any],
    eager: Sequence[tuple[Any, int, int]],
    populate_existing: bool,
    unique_flag: list[bool],
) -> Callable[[Any], Any]:
    """The root entity's row function, also building joined eager related objects from
    the same row. Collections fill as rows arrive (the first row of a parent sets an
    empty collection); rows repeat parents, so the result must be unique()d."""
    from hermetic.orm.collections import new_collection

    loaders = [
        (prop, _entity_loader(session, prop.mapper, start, stop, populate_existing))
        for prop, start, stop in eager
    ]
    needs_unique = any(prop.uselist for prop, _ in loaders)
    filling: dict[tuple[int, str], Any] = {}
    checked = [False]

    def load(row: Any) -> Any:
        if not checked[0]:
            checked[0] = True
            if needs_unique and not unique_flag[0]:
                raise exc.InvalidRequestError(
                    "The unique() method must be invoked on this Result, as it contains "
                    "results that include joined eager loads against collections (each parent "
                    "row repeats once per related row). Call result.unique() or "
                    "result.scalars().unique(), or use selectinload() for collections"
                )
        parent = base(row)
        if parent is None:
            return None
        d = parent.__dict__
        for prop, load_child in loaders:
            child = load_child(row)
            key = prop.key
            if prop.uselist:
                slot = (id(parent), key)
                coll = filling.get(slot)
                if coll is None:
                    if key in d and not populate_existing:
                        filling[slot] = False
                        continue
                    impl = type(parent)._sa_impls[key]
                    coll = new_collection(prop._collection_cls, parent, impl)
                    d[key] = coll
                    filling[slot] = coll
                elif coll is False:
                    continue
                if child is not None and not any(c is child for c in coll):
                    coll._append_quiet(child)
            elif key not in d or populate_existing:
                d[key] = child
        return parent

    return load
