"""Loader strategies: how relationships and columns are loaded, and the options that
choose them.

* lazy ("select"): on first access, one SELECT for that object
  (:func:`lazy_load`); a many-to-one whose target is in the identity map needs none;
* "selectin": after a result's rows are read, one ``SELECT ... WHERE key IN (...)`` per
  relationship for all parents (:func:`_load_many`);
* "joined": LEFT OUTER JOINs (INNER with ``innerjoin``) added to the statement, related
  objects built from the same rows; chained joined loads join further in the same
  statement; for collections the result must be ``unique()``d;
* "contains_eager": the related objects come from columns the query already joins;
* "subquery": loaded like "selectin" (one extra statement per relationship);
* "raise" / "raise_on_sql" / "noload": refuse / refuse to emit SQL / return nothing.

Per-query choices come from options (``selectinload(User.orders).joinedload(...)``,
``raiseload("*")``, ``defer``, ``load_only``, ``with_loader_criteria``...).
:func:`prepare_select` rewrites the statement before execution (column lists, eager
joins, criteria); :func:`post_load_wrapper` wraps the stream of rows to run
post-loaders and to give every loaded object the :class:`LoadContext` of its result.

N+1 detection: objects loaded by one result share a :class:`LoadContext`. A lazy load
that emits SQL counts against it; the N-th lazy load of one relationship among objects
of the same result warns once (``NPlusOneWarning``, or raises ``NPlusOneError`` in
``"raise"`` mode) naming the relationship, the count, the code that iterated and the
option that fixes it. In ``fetch_peers`` mode the first lazy load loads the
relationship for every object of the result in one ``SELECT ... IN`` instead.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic._util import gcpause
from hermetic.orm.collections import members
from hermetic.orm.state import STATE_ATTR, InstanceState
from hermetic.pool import sites

if TYPE_CHECKING:
    from hermetic.orm.mapper import Mapper
    from hermetic.orm.relationships import RelationshipProperty
    from hermetic.orm.session import Session

PrepareHook = Callable[["Session", Any, dict[str, Any]], Any]
PostLoadHook = Callable[["Session", Any, Any, Any], Any]

_prepare_hooks: list[PrepareHook] = []
_post_hooks: list[PostLoadHook] = []


NPlusOneWarning = exc.NPlusOneWarning

_COLUMN_STRATEGIES = frozenset({"defer", "undefer", "load_only", "undefer_group"})
_POST_STRATEGIES = frozenset({"selectin", "subquery", "immediate"})
_LAZY_STRATEGIES = frozenset({"select", "raise", "raise_on_sql", "noload"})


# -- options --------------------------------------------------------------------------


class Load:
    """A loader option: a path of relationship attributes, each with a strategy
    (``selectinload(User.orders).joinedload(Order.items)``), or column options."""

    _is_loader_option = True
    _children: list[Any] = []

    def __init__(self, entity: Any = None) -> None:
        self.entity = entity
        self.path: list[tuple[Any, str, dict[str, Any]]] = []  # (attr or "*", strategy, opts)

    def _chain(self, attr: Any, strategy: str, **opts: Any) -> Load:
        new = Load(self.entity)
        new.path = [*self.path, (attr, strategy, opts)]
        return new

    def selectinload(self, attr: Any, recursion_depth: int | None = None) -> Load:
        return self._chain(attr, "selectin")

    def subqueryload(self, attr: Any) -> Load:
        return self._chain(attr, "subquery")

    def joinedload(self, attr: Any, innerjoin: bool = False) -> Load:
        return self._chain(attr, "joined", innerjoin=innerjoin)

    def lazyload(self, attr: Any) -> Load:
        return self._chain(attr, "select")

    def noload(self, attr: Any) -> Load:
        return self._chain(attr, "noload")

    def raiseload(self, attr: Any, sql_only: bool = False) -> Load:
        return self._chain(attr, "raise_on_sql" if sql_only else "raise")

    def defaultload(self, attr: Any) -> Load:
        return self._chain(attr, "default")

    def immediateload(self, attr: Any) -> Load:
        return self._chain(attr, "immediate")

    def contains_eager(self, attr: Any, alias: Any = None) -> Load:
        return self._chain(attr, "contains_eager", alias=alias)

    def defer(self, *attrs: Any, raiseload: bool = False) -> Load:
        return self._chain(tuple(attrs), "defer", raiseload=raiseload)

    def undefer(self, *attrs: Any) -> Load:
        return self._chain(tuple(attrs), "undefer")

    def load_only(self, *attrs: Any, raiseload: bool = False) -> Load:
        return self._chain(tuple(attrs), "load_only", raiseload=raiseload)

    def undefer_group(self, name: str) -> Load:
        return self._chain(name, "undefer_group")

    def options(self, *opts: Load) -> Load:
        """Options for the objects at the end of this path
        (``selectinload(User.orders).options(joinedload(Order.items), ...)``)."""
        new = Load(self.entity)
        new.path = list(self.path)
        new._children = [*self._children, *opts]
        return new

    def __repr__(self) -> str:
        return "Load(" + ".".join(f"{_attr_name(a)}:{s}" for a, s, _ in self.path) + ")"


def _chained(method: str, attrs: tuple[Any, ...], **kw: Any) -> Load:
    """``selectinload(A.b, B.c)``: a path, each step with the strategy ``method`` names."""
    opt = Load()
    for a in attrs:
        opt = getattr(opt, method)(a, **kw)
    return opt


def _attr_name(attr: Any) -> str:
    if isinstance(attr, tuple):
        return ",".join(_attr_name(a) for a in attr)
    return str(attr)


def selectinload(*attrs: Any, recursion_depth: int | None = None) -> Load:
    return _chained("selectinload", attrs)


def subqueryload(*attrs: Any) -> Load:
    return _chained("subqueryload", attrs)


def joinedload(*attrs: Any, innerjoin: bool = False) -> Load:
    return _chained("joinedload", attrs, innerjoin=innerjoin)


def lazyload(*attrs: Any) -> Load:
    return _chained("lazyload", attrs)


def noload(*attrs: Any) -> Load:
    return _chained("noload", attrs)


def raiseload(*attrs: Any, sql_only: bool = False) -> Load:
    return _chained("raiseload", attrs, sql_only=sql_only)


def defaultload(*attrs: Any) -> Load:
    return _chained("defaultload", attrs)


def immediateload(*attrs: Any) -> Load:
    return _chained("immediateload", attrs)


def contains_eager(*attrs: Any, alias: Any = None) -> Load:
    return _chained("contains_eager", attrs, alias=alias)


def defer(key: Any, *addl: Any, raiseload: bool = False) -> Load:
    return Load().defer(key, *addl, raiseload=raiseload)


def undefer(key: Any, *addl: Any) -> Load:
    return Load().undefer(key, *addl)


def load_only(*attrs: Any, raiseload: bool = False) -> Load:
    return Load().load_only(*attrs, raiseload=raiseload)


def undefer_group(name: str) -> Load:
    return Load().undefer_group(name)


class LoaderCriteriaOption:
    """``with_loader_criteria(Order, Order.status == "open")``: criteria added wherever
    the statement (and the relationship loads it starts) selects that entity."""

    _is_loader_option = True

    def __init__(
        self,
        entity_or_base: Any,
        where_criteria: Any,
        loader_only: bool = False,
        include_aliases: bool = False,
        propagate_to_loaders: bool = True,
        track_closure_variables: bool = True,
    ) -> None:
        from hermetic.orm.loading import _entity_mapper

        self.entity = entity_or_base
        self.mapper = _entity_mapper(entity_or_base)
        if self.mapper is None and not isinstance(entity_or_base, type):
            raise exc.ArgumentError(
                f"with_loader_criteria() takes a mapped class or a base class, got "
                f"{entity_or_base!r}"
            )
        self.where_criteria = where_criteria
        self.loader_only = loader_only
        self.include_aliases = include_aliases
        self.propagate_to_loaders = propagate_to_loaders

    def applies_to(self, mapper: Mapper) -> bool:
        if self.mapper is not None:
            return mapper.isa(self.mapper)
        return issubclass(mapper.class_, self.entity)

    def criteria_for(self, entity: Any, mapper: Mapper) -> Any:
        """The criteria for ``entity`` (the class, or an aliased class)."""
        crit = self.where_criteria
        if callable(crit) and not hasattr(crit, "__clause_element__"):
            return crit(entity)
        crit = getattr(crit, "__clause_element__", lambda: crit)()
        adapter = getattr(entity, "_adapter", None)
        if adapter is not None:
            from hermetic.orm.util import adapt

            return adapt(crit, adapter)
        return crit

    def __repr__(self) -> str:
        return f"with_loader_criteria({getattr(self.entity, '__name__', self.entity)}, ...)"


def with_loader_criteria(
    entity_or_base: Any,
    where_criteria: Any,
    loader_only: bool = False,
    include_aliases: bool = False,
    propagate_to_loaders: bool = True,
    track_closure_variables: bool = True,
) -> LoaderCriteriaOption:
    """Add criteria to every load of ``entity_or_base`` (a mapped class, or a base class
    / mixin of several) done by this statement: its own FROM entries and joins, and the
    relationship loads (lazy, selectin, joined) of the objects it loads.
    ``where_criteria`` is an expression or a ``lambda cls: ...``."""
    return LoaderCriteriaOption(
        entity_or_base,
        where_criteria,
        loader_only=loader_only,
        include_aliases=include_aliases,
        propagate_to_loaders=propagate_to_loaders,
        track_closure_variables=track_closure_variables,
    )


# -- resolving options for one entity ---------------------------------------------------


class _Resolved:
    """The options of one statement (or sub-path) as they apply to one mapper."""

    __slots__ = ("columns", "criteria", "rels")

    def __init__(self) -> None:
        # relationship key (or "*") -> (strategy, sub-options for the targets, opts)
        self.rels: dict[str, tuple[str, list[Any], dict[str, Any]]] = {}
        self.columns: list[tuple[str, Any, dict[str, Any]]] = []  # (strategy, attrs, opts)
        self.criteria: list[LoaderCriteriaOption] = []

    def chosen(self, key: str) -> tuple[str, list[Any], dict[str, Any]] | None:
        return self.rels.get(key) or self.rels.get("*")


def _belongs(attr: Any, mapper: Mapper) -> bool:
    prop = getattr(attr, "prop", None)
    parent = getattr(prop, "parent", None)
    if parent is None:
        return False
    return bool(mapper.isa(parent) or parent.isa(mapper))


def resolve(options: Iterable[Any], mapper: Mapper) -> _Resolved:
    out = _Resolved()
    for opt in options:
        if isinstance(opt, LoaderCriteriaOption):
            out.criteria.append(opt)
            continue
        if not isinstance(opt, Load):
            continue
        if not opt.path:
            for child in opt._children:
                _merge(out, resolve([child], mapper))
            continue
        attr, strategy, o = opt.path[0]
        rest = opt.path[1:]
        if strategy in _COLUMN_STRATEGIES:
            if rest:
                continue
            attrs = attr if isinstance(attr, tuple) else (attr,)
            if strategy == "undefer_group" or all(
                a == "*" or isinstance(a, str) or _belongs(a, mapper) for a in attrs
            ):
                out.columns.append((strategy, attrs, o))
            continue
        if isinstance(attr, str):
            if attr != "*":
                raise exc.ArgumentError(
                    f"Loader options take mapped attributes (User.orders) or '*', not the "
                    f"string {attr!r}"
                )
            key = "*"
        else:
            prop = getattr(attr, "prop", None)
            if prop is None or not getattr(prop, "_is_relationship", False):
                continue
            if not _belongs(attr, mapper):
                continue
            key = prop.key
            kind = type(attr).__name__
            if kind == "_OfType":
                o = {**o, "of_type": attr.entity}
            elif kind == "_WithCriteria":  # User.orders.and_(...)
                o = {**o, "criteria": attr.criteria}
        subs: list[Any] = []
        if rest:
            sub = Load()
            sub.path = rest
            sub._children = opt._children
            subs.append(sub)
        else:
            subs.extend(opt._children)
        prev = out.rels.get(key)
        if prev is not None:
            subs = [*prev[1], *subs]
            if strategy == "default":
                strategy, o = prev[0], prev[2]
        out.rels[key] = (strategy, subs, o)
    return out


def _merge(into: _Resolved, other: _Resolved) -> None:
    for key, (strategy, subs, o) in other.rels.items():
        prev = into.rels.get(key)
        if prev is not None:
            subs = [*prev[1], *subs]
            if strategy == "default":
                strategy, o = prev[0], prev[2]
        into.rels[key] = (strategy, subs, o)
    into.columns.extend(other.columns)
    into.criteria.extend(other.criteria)


def _strategy(prop: Any, chosen: tuple[str, list[Any], dict[str, Any]] | None) -> str:
    if chosen is None or chosen[0] == "default":
        return str(prop.lazy)
    return chosen[0]


def column_keys(
    mapper: Mapper, columns: Sequence[tuple[str, Any, dict[str, Any]]]
) -> tuple[tuple[str, ...] | None, frozenset[str]]:
    """(the attribute keys to select, or None for the default ones; keys whose load
    raises) under column options."""
    if not columns:
        return None, frozenset()
    selected = {p.key: not p.deferred for p in mapper._column_props}
    raising: set[str] = set()
    always = {*mapper._pk_keys}
    if mapper._polymorphic_key:
        always.add(mapper._polymorphic_key)
    if mapper.version_id_key:
        always.add(mapper.version_id_key)
    for strategy, attrs, o in columns:
        if strategy == "undefer_group":
            for p in mapper._column_props:
                if getattr(p, "group", None) == attrs[0]:
                    selected[p.key] = True
            continue
        names = [a if isinstance(a, str) else a.key for a in attrs]
        if strategy == "defer":
            for k in names:
                if k in selected:
                    selected[k] = False
                    if o.get("raiseload"):
                        raising.add(k)
        elif strategy == "undefer":
            for k in names:
                if k == "*":
                    selected = dict.fromkeys(selected, True)
                elif k in selected:
                    selected[k] = True
                    raising.discard(k)
        elif strategy == "load_only":
            keep = set(names)
            for k in selected:
                selected[k] = k in keep
                if o.get("raiseload") and k not in keep and k not in always:
                    raising.add(k)
    for k in always:
        selected[k] = True
    keys = tuple(p.key for p in mapper._column_props if selected[p.key])
    if keys == tuple(p.key for p in mapper._loaded_props):
        return None, frozenset(raising)
    return keys, frozenset(raising)


# -- per-result loading context ------------------------------------------------------


class LoadContext:
    """Shared by the objects one result loaded: options that apply to them, and the
    N+1 bookkeeping."""

    __slots__ = (
        "__weakref__",
        "counts",
        "criteria",
        "fetch_peers",
        "mode",
        "overrides",
        "peers",
        "raise_keys",
        "site",
        "threshold",
        "warned",
    )

    def __init__(
        self, overrides: dict[str, Any] | None, mode: str, threshold: int, fetch_peers: bool
    ) -> None:
        self.overrides = overrides  # relationship key (or "*") -> (strategy, sub-options)
        self.mode = mode
        self.threshold = threshold
        self.fetch_peers = fetch_peers
        self.peers: list[weakref.ref[Any]] = []
        self.counts: dict[str, int] = {}
        self.warned: set[str] = set()
        self.site: str | None = None
        self.criteria: tuple[LoaderCriteriaOption, ...] = ()  # with_loader_criteria to pass on
        self.raise_keys: frozenset[str] = frozenset()  # defer(..., raiseload=True) columns


def strategy_for(prop: RelationshipProperty, state: InstanceState) -> str:
    ctx = state.load_path
    if ctx is not None and ctx.overrides:
        o = ctx.overrides.get(prop.key) or ctx.overrides.get("*")
        if o is not None and o[0] in _LAZY_STRATEGIES:
            return str(o[0])
    lazy = prop.lazy
    if lazy in ("raise", "noload", "raise_on_sql"):
        return str(lazy)
    return "select"


def raise_on_column(state: InstanceState, obj: Any, key: str) -> None:
    """``defer(User.bio, raiseload=True)`` / ``load_only(..., raiseload=True)``: reading
    the unloaded column is an error that names the option to change."""
    ctx = state.load_path
    if ctx is None or not ctx.raise_keys or key not in ctx.raise_keys or state.expired:
        return
    name = f"{type(obj).__name__}.{key}"
    raise exc.InvalidRequestError(
        f"'{name}' is not available due to raiseload=True: the query deferred it with "
        f"defer(..., raiseload=True) or load_only(..., raiseload=True). Load it with the "
        f"query (remove it from the defer(), add it to load_only(), or undefer({name}))"
    )


def _n_plus_one_settings(session: Session, opts: dict[str, Any] | None) -> tuple[str, int, bool]:
    """(mode, threshold, fetch_peers): the query's execution options, else the
    Session's arguments, else the engine's execution options, else warn / 5 / off."""
    o = opts or {}
    engine_opts: dict[str, Any] = {}
    bind = session.bind
    if bind is not None:
        get = getattr(bind, "get_execution_options", None)
        if get is not None:
            engine_opts = dict(get())
    mode = o.get(
        "n_plus_one",
        session.n_plus_one
        if session.n_plus_one is not None
        else engine_opts.get("n_plus_one", "warn"),
    )
    threshold = o.get(
        "n_plus_one_threshold",
        session.n_plus_one_threshold
        if session.n_plus_one_threshold is not None
        else engine_opts.get("n_plus_one_threshold", 5),
    )
    peers = o.get(
        "fetch_peers",
        session.fetch_peers
        if session.fetch_peers is not None
        else engine_opts.get("fetch_peers", False),
    )
    if mode not in ("warn", "raise", "off"):
        raise exc.ArgumentError(f"n_plus_one must be 'warn', 'raise' or 'off', got {mode!r}")
    return str(mode), max(2, int(threshold)), bool(peers)


# -- lazy loading ------------------------------------------------------------------------


def lazy_load(prop: RelationshipProperty, session: Session, state: InstanceState, obj: Any) -> None:
    """Load one relationship of one object (the lazy strategy)."""
    from hermetic.orm.relationships import MANYTOONE, _value_of

    ctx: LoadContext | None = state.load_path
    subs: list[Any] = []
    where: tuple[Any, ...] = ()
    criteria: tuple[LoaderCriteriaOption, ...] = ()
    if ctx is not None:
        if ctx.overrides:
            o = ctx.overrides.get(prop.key) or ctx.overrides.get("*")
            if o is not None:
                subs = o[1]
                where = o[2].get("criteria", ()) if len(o) > 2 else ()
        criteria = ctx.criteria
    d = obj.__dict__
    # many-to-one by primary key: the identity map first (no SQL, so no N+1 either)
    if prop.direction == MANYTOONE and not prop.extra_criteria:
        target = prop.mapper
        if [r for _, r in prop.local_remote_pairs] == list(target.primary_key):
            ident = tuple(_value_of(prop.parent, obj, d, loc) for loc, _ in prop.local_remote_pairs)
            if any(v is None for v in ident):
                d[prop.key] = None
                return
            hit = session.identity_map._get_state((target.identity_class, ident, None))
            if hit is not None:
                other = hit()
                if other is not None and not hit.deleted_flushed:
                    d[prop.key] = other
                    return
    if strategy_for(prop, state) == "raise_on_sql":
        from hermetic.orm.relationships import _raise_on_load

        _raise_on_load(prop, obj, "raise_on_sql")
    session._autoflush()  # a lazy load sees the Session's pending changes, as queries do
    if ctx is not None and ctx.peers:
        if ctx.fetch_peers:
            cls = prop.parent.class_
            peers = [
                o
                for o in (r() for r in ctx.peers)
                if o is not None and prop.key not in o.__dict__ and isinstance(o, cls)
            ]
            if len(peers) > 1:
                if not any(p is obj for p in peers):
                    peers.append(obj)
                _load_many(prop, session, peers, subs, criteria, where)
                if prop.key in d:
                    return
        elif ctx.mode != "off":
            _count_lazy_load(prop, ctx)
    _load_many(prop, session, [obj], subs, criteria, where)


def _count_lazy_load(prop: RelationshipProperty, ctx: LoadContext) -> None:
    key = prop.key
    n = ctx.counts.get(key, 0) + 1
    ctx.counts[key] = n
    if n < ctx.threshold or key in ctx.warned:
        return
    ctx.warned.add(key)
    fix = f".options(selectinload({prop}))"
    if not prop.uselist:
        fix += f" or .options(joinedload({prop}))"
    message = (
        f"N+1 queries: relationship {prop} was lazy-loaded {n} times, once per object of "
        f"one result (query at {ctx.site or 'an unknown place'}; attribute read at "
        f"{sites.user_site()}). Load it with the query instead: {fix}; or run the "
        "Session with fetch_peers=True to load it for every object of the result at the "
        "first access"
    )
    if ctx.mode == "raise":
        raise exc.NPlusOneError(message)
    warnings.warn(message, NPlusOneWarning, stacklevel=sites.user_stacklevel())


def _select_for(prop: RelationshipProperty, parents: Sequence[Any]) -> tuple[Any, list[Any]]:
    """SELECT of the targets of ``parents`` (with the parents' key columns as the
    last columns, to group rows by parent) and the parents' key tuples."""
    from hermetic.orm.relationships import MANYTOMANY, _value_of
    from hermetic.sql.elements import tuple_
    from hermetic.sql.selectable import Select

    target = prop.mapper
    stmt = Select([target.class_])
    if prop.direction == MANYTOMANY:
        key_cols = [s for _, s in prop.local_remote_pairs]
        stmt = stmt.add_columns(*key_cols)
        stmt = stmt.join_from(target.persist_selectable, prop.secondary, prop.secondaryjoin)
        parent_cols = [p for p, _ in prop.local_remote_pairs]
    else:
        key_cols = [r for _, r in prop.local_remote_pairs]
        stmt = stmt.add_columns(*key_cols)
        parent_cols = [loc for loc, _ in prop.local_remote_pairs]
    keys = []
    for p in parents:
        pd = p.__dict__
        keys.append(tuple(_value_of(prop.parent, p, pd, c) for c in parent_cols))
    distinct = list(dict.fromkeys(k for k in keys if all(v is not None for v in k)))
    if len(key_cols) == 1:
        crit = (
            key_cols[0].in_([k[0] for k in distinct])
            if len(parents) > 1
            else key_cols[0] == distinct[0][0]
            if distinct
            else key_cols[0].is_(None)
        )
    else:
        crit = tuple_(*key_cols).in_(distinct)
    stmt = stmt.where(crit, *prop.extra_criteria)
    if prop.order_by:
        stmt = stmt.order_by(*prop.order_by)
    return stmt, keys


def _load_many(
    prop: RelationshipProperty,
    session: Session,
    parents: Sequence[Any],
    sub_options: Sequence[Any] | None,
    criteria: Sequence[LoaderCriteriaOption] = (),
    where: Sequence[Any] = (),
) -> None:
    """Load ``prop`` for every parent in one statement and store the values
    (``where``: extra criteria on the targets, from ``User.orders.and_(...)``)."""
    if not parents:
        return
    if not (sub_options or criteria or where):
        parents = _from_identity_map(prop, session, parents)
        if not parents:
            return
    stmt, keys = _select_for(prop, parents)
    if where:
        stmt = stmt.where(*where)
    if all(any(v is None for v in k) for k in keys):
        for p in parents:
            prop._set_loaded(p, [] if prop.uselist else None)
        return
    if sub_options or criteria:
        stmt = stmt.options(*(sub_options or ()), *criteria)
    n_key = len(prop.local_remote_pairs)
    with session.no_autoflush:
        result = session.execute(stmt, execution_options={"_sa_relationship_load": True})
        if getattr(result, "_needs_unique", False):  # a joined collection under this load
            result = result.unique()
        # building many objects and collections would set off full garbage collections
        # over a growing heap; they form no cycles (objects refer to their state, and
        # collections to their owner, weakly), so the collector is paused meanwhile
        with gcpause.paused(keep=True):
            rows = result.all()
            _store_loaded(prop, parents, keys, rows, n_key)


def _from_identity_map(
    prop: RelationshipProperty, session: Session, parents: Sequence[Any]
) -> Sequence[Any]:
    """A many-to-one by primary key: set the targets the identity map has; the parents
    left still need a SELECT."""
    from hermetic.orm.relationships import MANYTOONE, _value_of

    target = prop.mapper
    if (
        prop.direction != MANYTOONE
        or prop.extra_criteria
        or [r for _, r in prop.local_remote_pairs] != list(target.primary_key)
    ):
        return parents
    get = session.identity_map._get_state
    left = []
    for p in parents:
        d = p.__dict__
        ident = tuple(_value_of(prop.parent, p, d, loc) for loc, _ in prop.local_remote_pairs)
        if any(v is None for v in ident):
            d[prop.key] = None
            continue
        hit = get((target.identity_class, ident, None))
        other = hit() if hit is not None and not hit.deleted_flushed else None
        if other is None:
            left.append(p)
        else:
            d[prop.key] = other
    return left


def _store_loaded(
    prop: RelationshipProperty,
    parents: Sequence[Any],
    keys: list[Any],
    rows: Sequence[Any],
    n_key: int,
) -> None:
    # rows are (target, key column, ...): grouped by the key (one column: its value)
    grouped: dict[Any, list[Any]] = {}
    get = grouped.get
    if n_key == 1:
        for row in rows:
            k = row[-1]
            found = get(k)
            if found is None:
                grouped[k] = [row[0]]
            else:
                found.append(row[0])
    else:
        for row in rows:
            grouped.setdefault(tuple(row[len(row) - n_key :]), []).append(row[0])
    key, uselist, set_loaded = prop.key, prop.uselist, prop._set_loaded
    for p, k in zip(parents, keys, strict=True):
        found = get(k[0] if n_key == 1 else k)
        d = p.__dict__
        if key in d and d.get(STATE_ATTR) is not None:
            existing = d[key]
            if existing is not None and existing != [] and not (uselist and not members(existing)):
                continue
        if uselist:
            set_loaded(p, [] if found is None else found)
        else:
            set_loaded(p, found[0] if found else None)


# -- statement preparation --------------------------------------------------------------


def _root_mapper(stmt: Any) -> Any:
    from hermetic.orm.loading import _entity_mapper

    ents = getattr(stmt, "_raw_entities", ())
    if not ents:
        return None
    return _entity_mapper(ents[0][0])


def _default_joined(mapper: Mapper) -> list[Any]:
    """The relationships of ``mapper`` configured ``lazy="joined"`` (cached)."""
    found = mapper.__dict__.get("_joined_defaults")
    if found is None or found[0] != len(mapper._props):
        rels = [p for p in mapper._relationship_props() if p.lazy == "joined"]
        found = mapper.__dict__["_joined_defaults"] = (len(mapper._props), rels)
    return list(found[1])


class EagerNode:
    """One relationship loaded from the statement's own rows (joined / contains_eager),
    with the ones chained under it."""

    __slots__ = ("alias", "children", "criteria", "innerjoin", "keys", "prop", "strategy")

    def __init__(self, prop: Any, strategy: str, opts: dict[str, Any], subs: list[Any]) -> None:
        self.prop = prop
        self.strategy = strategy
        self.criteria: tuple[Any, ...] = opts.get("criteria", ())
        self.innerjoin = bool(opts.get("innerjoin")) or bool(prop.innerjoin)
        self.alias = opts.get("alias") or opts.get("of_type")
        resolved = resolve(subs, prop.mapper) if subs else None
        self.keys = column_keys(prop.mapper, resolved.columns)[0] if resolved else None
        self.children: list[EagerNode] = []


def _eager_nodes(
    mapper: Mapper, resolved: _Resolved | None, path: tuple[Any, ...]
) -> list[EagerNode]:
    nodes = []
    if resolved is not None and resolved.rels:
        props = mapper._relationship_props()
    else:
        props = _default_joined(mapper)
    for prop in props:
        chosen = resolved.chosen(prop.key) if resolved is not None else None
        strategy = _strategy(prop, chosen)
        if strategy not in ("joined", "contains_eager"):
            continue
        if (chosen is None or chosen[0] == "default") and prop.mapper in path:
            continue  # a configured lazy="joined": not back into a class on the path
        subs = chosen[1] if chosen is not None else []
        node = EagerNode(prop, strategy, chosen[2] if chosen is not None else {}, subs)
        sub_resolved = resolve(subs, prop.mapper) if subs else None
        node.children = _eager_nodes(prop.mapper, sub_resolved, (*path, prop.mapper))
        nodes.append(node)
    return nodes


def prepare_select(session: Session, stmt: Any, opts: dict[str, Any]) -> Any:
    """Rewrite an ORM SELECT before it runs: column options of the first entity, eager
    joins, ``with_loader_criteria``."""
    for hook in _prepare_hooks:
        stmt = hook(session, stmt, opts)
    mapper = _root_mapper(stmt)
    if mapper is None:
        return stmt
    mapper._check_configure()
    options = getattr(stmt, "_with_options", ())
    if not options and not _default_joined(mapper):
        return stmt
    resolved = resolve(options, mapper)
    if resolved.columns:
        stmt = _apply_columns(stmt, mapper, resolved)
    if resolved.criteria:
        stmt = _apply_criteria(stmt, resolved.criteria, bool(opts.get("_sa_relationship_load")))
    nodes = _eager_nodes(mapper, resolved, (mapper,))
    if not nodes:
        return stmt
    from hermetic.orm.util import join_eager

    entity = stmt._raw_entities[0][0]
    return join_eager(stmt, mapper, entity, nodes, resolved.criteria)


def _apply_columns(stmt: Any, mapper: Mapper, resolved: _Resolved) -> Any:
    """The first entity's columns as the column options choose (defer, load_only ...)."""
    entity, start, stop = stmt._raw_entities[0]
    if getattr(entity, "_sa_polymorphic_keys", None) is not None:
        return stmt  # with_polymorphic entities keep their full column list
    keys, raising = column_keys(mapper, resolved.columns)
    new = stmt._generate()
    if raising:
        new.__dict__["_raise_keys"] = raising
    if keys is None:
        return new
    cols = [mapper._props[k].select_column() for k in keys]  # type: ignore[attr-defined]
    adapter = getattr(entity, "_adapter", None)
    if adapter is not None:
        from hermetic.orm.util import adapt

        cols = [adapt(c, adapter) for c in cols]
    delta = len(cols) - (stop - start)
    new._raw_columns[start:stop] = cols
    new._raw_entities = (
        (entity, start, start + len(cols)),
        *((e, s + delta, t + delta) for e, s, t in stmt._raw_entities[1:]),
    )
    new.__dict__["_entity_keys"] = {start: tuple((k, mapper) for k in keys)}
    new.__dict__.pop("_orm_plan", None)
    return new


def _apply_criteria(stmt: Any, criteria: Sequence[LoaderCriteriaOption], rel_load: bool) -> Any:
    """``with_loader_criteria``: WHERE criteria for the entities selected, ON criteria
    for the entities joined."""
    from hermetic.orm.loading import _entity_mapper

    new = stmt._generate()
    for c in criteria:
        if c.loader_only and not rel_load:
            continue
        done: set[int] = set()
        for e, _, _ in stmt._raw_entities:
            m = _entity_mapper(e)
            if m is None or id(e) in done or not c.applies_to(m):
                continue
            done.add(id(e))
            aliased = not isinstance(e, type) and getattr(e, "_adapter", None) is not None
            if aliased and not c.include_aliases:
                continue
            new._where.append(c.criteria_for(e if aliased else m.class_, m))
            done.add(id(m.persist_selectable))

        new._from_obj = [_criteria_on_joins(f, c, done) for f in new._from_obj]
    new.__dict__.pop("_orm_plan", None)
    return new


def _criteria_on_joins(j: Any, c: LoaderCriteriaOption, done: set[int]) -> Any:
    """``j`` with ``c``'s criteria added to the ON clause of each join to its entity."""
    from hermetic.sql.elements import and_
    from hermetic.sql.selectable import Join

    if not isinstance(j, Join):
        return j
    left = _criteria_on_joins(j.left, c, done)
    right = j.right
    on = j.onclause
    m = _mapper_for_table(right)
    if m is not None and id(right) not in done and c.applies_to(m):
        on = and_(on, c.criteria_for(m.class_, m))
    if left is j.left and on is j.onclause:
        return j
    return Join(left, right, on, j.isouter, j.full)


def _mapper_for_table(table: Any) -> Any:
    from hermetic.orm.mapper import _all_mappers

    for m in list(_all_mappers):
        if m.persist_selectable is table and not m.single:
            return m
    return None


# -- post-loading -------------------------------------------------------------------------------


def post_load_wrapper(
    session: Session, stmt: Any, plan: Any, options: Any
) -> Callable[[Iterator[Any]], Iterator[Any]] | None:
    wrappers = [w for w in (h(session, stmt, plan, options) for h in _post_hooks) if w is not None]
    mapper = _root_mapper(stmt)
    entity_ok = mapper is not None and plan.items and plan.items[0][0] == "entity"
    if entity_ok:
        w = _relationship_post_loader(session, stmt, mapper, options or {})
        if w is not None:
            wrappers.append(w)
    if not wrappers:
        return None

    def wrap(rows: Iterator[Any]) -> Iterator[Any]:
        for w in wrappers:
            rows = w(rows)
        return rows

    return wrap


def _relationship_post_loader(
    session: Session, stmt: Any, mapper: Any, opts: dict[str, Any]
) -> Callable[[Iterator[Any]], Iterator[Any]] | None:
    options = getattr(stmt, "_with_options", ())
    resolved = resolve(options, mapper) if options else _Resolved()
    criteria = tuple(c for c in resolved.criteria if c.propagate_to_loaders)
    post: list[tuple[Any, list[Any], tuple[Any, ...]]] = []
    overrides: dict[str, Any] = {}
    joined: list[tuple[Any, list[Any]]] = []
    for prop in mapper._relationship_props():
        chosen = resolved.chosen(prop.key)
        strategy = _strategy(prop, chosen)
        subs = chosen[1] if chosen is not None else []
        if strategy in _POST_STRATEGIES:
            post.append((prop, subs, chosen[2].get("criteria", ()) if chosen else ()))
        elif strategy in _LAZY_STRATEGIES and chosen is not None:
            overrides[prop.key] = (strategy, subs, chosen[2])
        elif strategy in ("joined", "contains_eager") and (subs or _has_post_work(prop.mapper)):
            joined.append((prop, subs))
    if "*" in resolved.rels and resolved.rels["*"][0] in _LAZY_STRATEGIES:
        overrides["*"] = resolved.rels["*"][:2]
    raise_keys: frozenset[str] = stmt.__dict__.get("_raise_keys", frozenset())
    mode, threshold, fetch_peers = _n_plus_one_settings(session, opts)
    track = mode != "off" or fetch_peers
    # the objects a relationship load returns are a result of their own (their lazy
    # loads are counted together), unless an earlier query already gave them one
    nested = bool(opts.get("_sa_relationship_load"))
    if not (post or overrides or track or joined or criteria or raise_keys):
        return None
    ctx = None
    if track or overrides or criteria or raise_keys:
        ctx = LoadContext(overrides or None, mode, threshold, fetch_peers)
        ctx.criteria = criteria
        ctx.raise_keys = raise_keys
        if track:
            ctx.site = sites.user_site()
    yield_per = opts.get("yield_per")
    populate_existing = bool(opts.get("populate_existing"))

    def process(batch: list[Any]) -> None:
        objs = [r[0] for r in batch if r and r[0] is not None]
        if ctx is not None:
            add_peer = ctx.peers.append
            for o in objs:
                st = o.__dict__.get(STATE_ATTR)
                if st is not None and (not nested or st.load_path is None):
                    st.load_path = ctx
                    if track:
                        add_peer(st.obj)  # the state's weak reference to o
        for prop, subs, where in post:
            cls = prop.parent.class_
            parents = [
                o
                for o in objs
                if isinstance(o, cls) and (prop.key not in o.__dict__ or populate_existing)
            ]
            unique = list({id(o): o for o in parents}.values())
            if unique:
                if populate_existing:
                    for o in unique:
                        o.__dict__.pop(prop.key, None)
                _load_many(prop, session, unique, subs, criteria, where)
        for prop, subs in joined:
            children = _values_of(objs, prop.key)
            if children:
                _apply_sub_options(session, children, subs, criteria, {id(mapper)})

    def wrap(rows: Iterator[Any]) -> Iterator[Any]:
        if yield_per:
            batch: list[Any] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= yield_per:
                    process(batch)
                    yield from batch
                    batch = []
            if batch:
                process(batch)
                yield from batch
            return
        all_rows = list(rows)
        process(all_rows)
        yield from all_rows

    return wrap


def _has_post_work(mapper: Mapper) -> bool:
    """Whether objects of ``mapper`` loaded by an eager join still need loads of their
    own (relationships configured selectin / subquery)."""
    return any(p.lazy in _POST_STRATEGIES for p in mapper._relationship_props())


def _values_of(objs: Iterable[Any], key: str) -> list[Any]:
    out: list[Any] = []
    seen: set[int] = set()
    for o in objs:
        v = o.__dict__.get(key)
        if v is None:
            continue
        for m in members(v) if isinstance(v, (list, set, dict)) else [v]:
            if id(m) not in seen:
                seen.add(id(m))
                out.append(m)
    return out


def _apply_sub_options(
    session: Session,
    objs: list[Any],
    subs: list[Any],
    criteria: Sequence[LoaderCriteriaOption],
    path: set[int],
) -> None:
    """Options for objects an eager join loaded (``joinedload(A.b).selectinload(B.c)``):
    the post-loads they ask for, the lazy-load overrides they set, and the same for the
    objects joined under them."""
    by_class: dict[type, list[Any]] = {}
    for o in objs:
        by_class.setdefault(type(o), []).append(o)
    for cls, group in by_class.items():
        mapper = cls.__mapper__  # type: ignore[attr-defined]
        resolved = resolve(subs, mapper) if subs else _Resolved()
        overrides: dict[str, Any] = {}
        for prop in mapper._relationship_props():
            chosen = resolved.chosen(prop.key)
            strategy = _strategy(prop, chosen)
            nested = chosen[1] if chosen is not None else []
            if strategy in _POST_STRATEGIES:
                if chosen is None and id(prop.mapper) in path:
                    continue  # a configured eager load does not recurse into the path
                pending = [o for o in group if prop.key not in o.__dict__]
                where = chosen[2].get("criteria", ()) if chosen is not None else ()
                _load_many(prop, session, pending, nested, criteria, where)
            elif strategy in ("joined", "contains_eager"):
                if nested or (id(prop.mapper) not in path and _has_post_work(prop.mapper)):
                    loaded = _values_of(group, prop.key)
                    if loaded:
                        _apply_sub_options(session, loaded, nested, criteria, {*path, id(mapper)})
            elif strategy in _LAZY_STRATEGIES and chosen is not None:
                overrides[prop.key] = (strategy, nested, chosen[2])
        if "*" in resolved.rels and resolved.rels["*"][0] in _LAZY_STRATEGIES:
            overrides["*"] = resolved.rels["*"][:2]
        if overrides or criteria:
            ctx = LoadContext(overrides or None, "off", 0, False)
            ctx.criteria = tuple(criteria)
            for o in group:
                st = o.__dict__.get(STATE_ATTR)
                if st is not None:
                    st.load_path = ctx
