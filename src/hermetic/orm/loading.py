"""Turning result rows into objects.

A *plan* is computed once per statement shape (which entities, at which column
positions) and turned into one row function; the per-row work is: read the primary key,
look in the identity map, and either return the object already there or build a new
one by filling its ``__dict__`` from a slice of the row.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic._util import gcpause
from hermetic.engine.result import IteratorResult, Result, ScalarResult
from hermetic.engine.row import ResultMetaData
from hermetic.orm import strategies
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

    __slots__ = ("entity_positions", "items", "keys", "metadata", "single_entity")

    def __init__(self, keys: list[str], items: list[tuple[str, Any, int, int]]) -> None:
        self.keys = keys
        self.items = items  # ("entity", mapper, start, stop) | ("column", None, index, index+1)
        self.single_entity = len(items) == 1 and items[0][0] == "entity"
        self.metadata: ResultMetaData | None = None  # of the ORM rows, made on first use
        self.entity_positions = frozenset(i for i, item in enumerate(items) if item[0] == "entity")


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
    session: Session,
    mapper: Mapper,
    start: int,
    stop: int,
    populate_existing: bool,
    poly_keys: Sequence[tuple[str, Mapper]] | None = None,
) -> Callable[[Any], Any]:
    """A function row -> object for one entity at columns [start, stop). ``poly_keys``
    (``with_polymorphic``): the attribute and owning mapper of each column, when the
    entity also selects its subclasses' columns; an object gets only its class's."""
    props = mapper._loaded_props
    keys = tuple(p.key for p in props)
    poly_pairs: dict[Mapper, tuple[tuple[str, int], ...]] = {}
    if poly_keys is not None:
        keys = tuple(k for k, _ in poly_keys)

    def pairs_for(target: Mapper) -> tuple[tuple[str, int], ...]:
        found = poly_pairs.get(target)
        if found is None:
            assert poly_keys is not None
            found = poly_pairs[target] = tuple(
                (k, start + i) for i, (k, owner) in enumerate(poly_keys) if target.isa(owner)
            )
        return found

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
            obj = state()
            if obj is not None:
                d = obj.__dict__
                if poly_keys is not None:
                    overwrite = populate_existing or state.expired
                    committed = state.committed
                    for k, i in pairs_for(state.mapper):
                        # a pending change is kept; an unloaded value is filled in
                        if (overwrite and not (committed and k in committed)) or k not in d:
                            d[k] = row[i]
                    if overwrite:
                        state.expired = False
                    return obj
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
        d.clear()  # unsplit: see _LOADER_SOURCE
        if poly_keys is not None:
            for k, i in pairs_for(mapper if target_cls is cls else target_cls.__mapper__):
                d[k] = row[i]
        elif whole and stop == len(row):
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


# Loading a row of a plain entity (no polymorphic discriminator, no subclass columns) is
# the hot loop of every big result, so its function is generated once per entity layout:
# the object's state is the weak reference to it, built slot by slot without an __init__
# call, its __dict__ filled by item, the identity map written in place. Only integer
# positions and fixed names reach the source text; attribute names are passed as
# constants. The __dict__ is cleared first: CPython 3.11+ materialises the dict of an
# object made by __new__ as a "split" dict sharing its class's key table, which the
# interpreter's specialised attribute read cannot serve, so every later ``obj.name``
# would take the slow path (3x slower); cleared, it is an ordinary dict.
_LOADER_SOURCE = """\
def factory(idmap, identity_map, sref, populate_existing, listeners, populate):
    get = idmap.get
    def load(row):
{ident}
        key = (_icls, ident, None)
        state = get(key)
        if state is not None:
            obj = state()
            if obj is not None:
                d = obj.__dict__
                if populate_existing or state.expired:
                    populate(state, obj, d, _keys, row, {start}, True)
                elif len(d) <= {width}:
                    populate(state, obj, d, _keys, row, {start}, False)
                return obj
        obj = _new(_cls)
        state = _new_state(_State, obj)
        state.mapper = _mapper
        state.key = key
        state.session_ref = sref
{defaults}
        d = obj.__dict__
        d.clear()  # a combined dict, not one split from the class: see below
{values}
        d[_STATE] = state
        idmap[key] = state
        if len(idmap) >= identity_map._prune_at:
            identity_map._prune()
        if listeners:
            for fn in listeners:
                fn(obj, None)
        return obj
    return load
"""

_loader_factories: dict[tuple[Any, ...], Callable[..., Callable[[Any], Any]]] = {}
_STATE_SLOTS = frozenset(InstanceState.__slots__)


def _loader_factory(
    mapper: Mapper, keys: tuple[str, ...], start: int
) -> Callable[..., Callable[[Any], Any]]:
    ck = (mapper, keys, start)
    found = _loader_factories.get(ck)
    if found is not None:
        return found
    defaults = InstanceState._defaults
    if {name for name, _ in defaults} | {"mapper", "key", "session_ref"} != _STATE_SLOTS:
        raise exc.InvalidRequestError(
            "Internal: InstanceState._defaults must list every slot of InstanceState "
            "except mapper, key and session_ref"
        )
    pk_pos = [start + keys.index(k) for k in mapper._pk_keys]
    if len(pk_pos) == 1:
        ident = (
            f"        pk = row[{pk_pos[0]}]\n"
            "        if pk is None:\n"
            "            return None\n"
            "        ident = (pk,)"
        )
    else:
        ident = (
            f"        ident = ({', '.join(f'row[{i}]' for i in pk_pos)},)\n"
            f"        if {' and '.join(f'row[{i}] is None' for i in pk_pos)}:\n"
            "            return None"
        )
    namespace: dict[str, Any] = {
        "_icls": mapper.identity_class,
        "_keys": keys,
        "_new": mapper.class_.__new__,
        "_cls": mapper.class_,
        "_new_state": weakref.ref.__new__,
        "_State": InstanceState,
        "_mapper": mapper,
        "_STATE": STATE_ATTR,
    }
    default_lines = []
    for i, (name, value) in enumerate(defaults):
        namespace[f"_d{i}"] = value
        default_lines.append(f"        state.{name} = _d{i}")
    values = []
    for i, k in enumerate(keys):
        namespace[f"_k{i}"] = k
        values.append(f"        d[_k{i}] = row[{start + i}]")
    source = _LOADER_SOURCE.format(
        ident=ident,
        start=start,
        width=len(keys),
        defaults="\n".join(default_lines),
        values="\n".join(values),
    )
    exec(compile(source, f"<hermetic loader of {mapper.class_.__name__}>", "exec"), namespace)
    factory: Callable[..., Callable[[Any], Any]] = namespace["factory"]
    if len(_loader_factories) >= 512:
        _loader_factories.clear()
    _loader_factories[ck] = factory
    return factory


def _fast_entity_loader(
    session: Session, mapper: Mapper, start: int, stop: int, populate_existing: bool
) -> Callable[[Any], Any] | None:
    """The generated row function for a plain entity, or None when the entity needs the
    general one (a polymorphic discriminator to read, or a column count that differs).
    A session keeps the functions it made while its identity map and the mapper's
    ``load`` listeners stay the same (a session often runs one query shape many times)."""
    from hermetic.orm.events import mapper_listeners

    listeners = mapper_listeners(mapper, "load")
    identity_map = session.identity_map
    cache: tuple[Any, dict[tuple[Any, ...], Any]] | None = session.__dict__.get("_loader_cache")
    if cache is None or cache[0] is not identity_map:
        cache = session.__dict__["_loader_cache"] = (identity_map, {})
    ck = (mapper, start, stop, populate_existing, len(mapper._loaded_props))
    hit = cache[1].get(ck)
    if hit is not None and hit[0] is listeners:
        return hit[1]  # type: ignore[no-any-return]
    if mapper.polymorphic_on is not None and mapper.polymorphic_map:
        return None
    keys = tuple(p.key for p in mapper._loaded_props)
    if len(keys) != stop - start:
        return None
    if not all(k in keys for k in mapper._pk_keys):
        return None
    factory = _loader_factory(mapper, keys, start)
    load = factory(
        identity_map._dict, identity_map, session._wref, populate_existing, listeners, _populate
    )
    cache[1][ck] = (listeners, load)
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
    plan = _plan_for(stmt, result)
    populate_existing = bool(options.get("populate_existing")) if options else False
    makers: list[Callable[[Any], Any]] = []
    ents = stmt._raw_entities
    entities_at = {ents[0][1]: ents[0][0]} if len(ents) == 1 else {s: e for e, s, _ in ents}
    # column options (defer, load_only): the attributes each entity's columns hold
    entity_keys = stmt.__dict__.get("_entity_keys")
    for kind, mapper, start, stop in plan.items:
        if kind == "entity":
            poly = getattr(entities_at.get(start), "_sa_polymorphic_keys", None)
            chosen = entity_keys.get(start) if entity_keys else None
            fast = None
            if poly is None and chosen is None:
                fast = _fast_entity_loader(session, mapper, start, stop, populate_existing)
            makers.append(
                fast
                if fast is not None
                else _entity_loader(
                    session,
                    mapper,
                    start,
                    stop,
                    populate_existing,
                    chosen if chosen is not None else poly() if poly is not None else None,
                )
            )
        else:
            makers.append(_column_getter(start))
    unique_flag: list[bool] = [False]
    eager = stmt.__dict__.get("_eager_joins")
    if eager:
        makers[0] = _with_eager(
            session,
            makers[0],
            eager,
            populate_existing,
            unique_flag,
            stmt.__dict__.get("_eager_parents"),
            entity_keys,
        )
    post = session._post_load_hooks(stmt, plan, options) if _may_post_load(stmt, plan) else None
    md = result._metadata
    yield_per = options.get("yield_per") if options else None
    # one entity and nothing after the rows: objects may come straight from the Core
    # result's rows (see _EntityScalarResult)
    direct = plan.single_entity and post is None and not eager and not yield_per
    it: Iterator[Any]
    if direct:
        one = makers[0]
        if md is not None and (md._processors is not None or md._sources is not None):
            load, make_row = one, md.make_row

            def one(raw: Any) -> Any:
                return load(make_row(raw))

        it = _rows_of(result, one)
    else:
        it = _orm_rows(result, plan, makers, post)
    metadata = plan.metadata
    if metadata is None:
        metadata = plan.metadata = ResultMetaData(plan.keys)
    out = ORMResult(metadata, it, raw=result)
    if direct:
        out._direct = (one, result)
    out._unique_flag = unique_flag
    out._needs_unique = bool(eager) and any(p.uselist for p, _, _ in eager)
    out._entity_positions = plan.entity_positions
    if yield_per:
        out._yield_per = yield_per
    out._is_orm_single = plan.single_entity  # type: ignore[attr-defined]
    return out


def _orm_rows(
    result: Result[Any], plan: _Plan, makers: list[Callable[[Any], Any]], post: Any
) -> Iterator[Any]:
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
    return it


_plans: dict[int, tuple[Any, Any, _Plan]] = {}


def _plan_for(stmt: Any, result: Result[Any]) -> _Plan:
    """The plan for this statement and result shape: kept on the statement (reused in a
    loop) and, for statements built again each time, per Core result metadata (one per
    compiled statement) and entities."""
    md = result._metadata
    cache = stmt.__dict__.get("_orm_plan")
    if cache is not None and cache[0] is md and md is not None:
        return cache[1]  # type: ignore[no-any-return]
    ents = stmt._raw_entities
    hit = _plans.get(id(md))
    if (
        hit is not None
        and hit[0] is md
        and len(hit[1]) == len(ents)
        and all(a[0] is b[0] and a[1:] == b[1:] for a, b in zip(hit[1], ents, strict=True))
    ):
        plan = hit[2]
    else:
        plan = make_plan(stmt, list(result.keys()))
        if md is not None:
            if len(_plans) >= 1024:
                _plans.clear()
            _plans[id(md)] = (md, ents, plan)  # md kept alive: its id stays unique
    stmt.__dict__["_orm_plan"] = (md, plan)
    return plan


def _may_post_load(stmt: Any, plan: _Plan) -> bool:
    """Whether anything can run after the rows are read: post-load hooks, loader
    options, or relationships (eager loading, N+1 tracking) of a loaded class."""
    if strategies._post_hooks or getattr(stmt, "_with_options", None):
        return True
    for kind, mapper, _, _ in plan.items:
        if kind == "entity" and (
            mapper._has_relationships()
            or (
                mapper._dependents
                and any(m._has_relationships() for m in mapper.self_and_descendants)
            )
        ):
            return True
    return False


def _column_getter(index: int) -> Callable[[Any], Any]:
    def get(row: Any) -> Any:
        return row[index]

    return get


def load_by_key(session: Session, mapper: Mapper, stmt: Any, params: dict[str, Any]) -> Any:
    """``session.get()``'s SELECT by key, for a plain mapper (no relationships, hooks or
    listeners; the caller checks): ``session.execute(stmt, params).scalars().first()``
    step by step, without building the ORM result objects."""
    session._autoflush()
    conn = session._conn(mapper)
    mapper._check_configure()
    result = conn.execute(stmt, params)
    plan = _plan_for(stmt, result)
    _, entity_mapper, start, stop = plan.items[0]
    load = _fast_entity_loader(session, entity_mapper, start, stop, False) or _entity_loader(
        session, entity_mapper, start, stop, False
    )
    row = result.first()
    return None if row is None else load(row)


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
    # (row function, Core result) when scalars() may build objects straight from the
    # Core result's rows: one entity, nothing to post-load
    _direct: tuple[Callable[[Any], Any], Result[Any]] | None = None

    def _check_unique(self) -> None:
        if self._needs_unique and not self._unique_flag[0]:
            raise exc.InvalidRequestError(
                "The unique() method must be invoked on this Result, as it contains "
                "results that include joined eager loads against collections (each parent "
                "row repeats once per related row). Call result.unique() or "
                "result.scalars().unique(), or use selectinload() for collections"
            )

    def _fetchone_impl(self) -> Any:
        self._check_unique()
        return super()._fetchone_impl()

    def _fetchmany_impl(self, size: int | None) -> list[Any]:
        self._check_unique()
        return super()._fetchmany_impl(size)

    def _fetchall_impl(self) -> list[Any]:
        self._check_unique()
        return super()._fetchall_impl()

    def _consume_all(self, convert: Callable[[Any], list[Any]]) -> list[Any]:
        self._check_unique()
        return super()._consume_all(convert)

    def _raw_iter(self) -> Iterator[Any]:
        self._check_unique()
        return super()._raw_iter()

    def _prebuffer(self) -> None:
        """Build every object now (inside the async bridge, where loaders may await);
        later fetches read from memory."""
        self._direct = None
        if not self._soft_closed:
            rows = list(self._iterator)
            self._iterator = iter(rows)

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
        direct = self._direct
        scalars: _ORMScalarResult
        if direct is not None and i == 0:
            scalars = _EntityScalarResult(self, direct[0], direct[1])
        else:
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


class _EntityScalarResult(_ORMScalarResult):
    """``scalars()`` of a one-entity result with nothing to post-load: objects are built
    straight from the Core result's rows, with no row tuple per object in between. The
    ORM result's own rows come from :func:`_rows_of`, which reads the Core result only
    once iterated, so the two views share one position."""

    def __init__(self, orm: ORMResult, one: Callable[[Any], Any], core: Result[Any]) -> None:
        self._real = orm
        self._core = core
        self._entity = True
        self._one = one
        if orm._seen is not None:
            self._seen = set()
        if orm._yield_per:
            core.yield_per(orm._yield_per)

    def _many(self, raws: Any) -> list[Any]:
        return list(map(self._one, raws))

    def _fetchone_impl(self) -> Any:
        return self._core._fetchone_impl()

    def _fetchmany_impl(self, size: int | None) -> list[Any]:
        return self._core._fetchmany_impl(size)

    def _fetchall_impl(self) -> list[Any]:
        return self._core._fetchall_impl()

    def _consume_all(self, convert: Callable[[Any], list[Any]]) -> list[Any]:
        # Objects are tracked by the garbage collector: building many with it on sets
        # off full collections over the growing heap again and again; they form no
        # cycles, so it is paused for the build (hermetic/_util/gcpause.py).
        with gcpause.paused(keep=True):
            return self._core._consume_all(convert)

    def _raw_iter(self) -> Iterator[Any]:
        return self._core._raw_iter()

    def _is_soft_closed(self) -> bool:
        return self._core._is_soft_closed()

    def yield_per(self, num: int) -> _EntityScalarResult:
        self._real.yield_per(num)
        self._core.yield_per(num)
        return self


def _rows_of(core: Result[Any], one: Callable[[Any], Any]) -> Iterator[tuple[Any, ...]]:
    # _raw_iter() runs on the first next(): it sees the Core result as it is then (maybe
    # already read to the end by the scalars() view, its cursor given back)
    for raw in core._raw_iter():
        yield (one(raw),)


def _with_eager(
    session: Session,
    base: Callable[[Any], Any],
    eager: Sequence[tuple[Any, int, int]],
    populate_existing: bool,
    unique_flag: list[bool],
    parents: Sequence[int] | None = None,
    entity_keys: dict[int, Any] | None = None,
) -> Callable[[Any], Any]:
    """The root entity's row function, also building joined eager related objects from
    the same row. ``parents[i]``: the entry that entry ``i`` hangs from (-1: the root),
    for chained joins. Collections fill as rows arrive (the first row of a parent sets an
    empty collection); rows repeat parents, so the result must be unique()d."""
    from hermetic.orm.collections import new_collection

    loaders = [
        (
            prop,
            _entity_loader(
                session,
                prop.mapper,
                start,
                stop,
                populate_existing,
                entity_keys.get(start) if entity_keys else None,
            ),
        )
        for prop, start, stop in eager
    ]
    owners = list(parents) if parents else [-1] * len(loaders)
    # (id(owner), key) -> (collection, ids of its members), or None: left as it was
    filling: dict[tuple[int, str], tuple[Any, set[int]] | None] = {}

    def load(row: Any) -> Any:
        root = base(row)
        if root is None:
            return None
        made: list[Any] = []
        for (prop, load_child), owner_index in zip(loaders, owners, strict=True):
            owner = root if owner_index < 0 else made[owner_index]
            if owner is None:
                made.append(None)
                continue
            child = load_child(row)
            made.append(child)
            d = owner.__dict__
            key = prop.key
            if prop.uselist:
                slot = (id(owner), key)
                if slot in filling:
                    entry = filling[slot]
                    if entry is None:
                        continue
                else:
                    if key in d and not populate_existing:
                        filling[slot] = None
                        continue
                    impl = type(owner)._sa_impls[key]
                    coll = new_collection(prop._collection_cls, owner, impl)
                    d[key] = coll
                    entry = filling[slot] = (coll, set())
                if child is not None and id(child) not in entry[1]:
                    entry[1].add(id(child))
                    entry[0]._append_quiet(child)
            elif key not in d or populate_existing:
                d[key] = child
        return root

    return load
