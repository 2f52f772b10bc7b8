"""Loader strategies: how relationships are loaded, and the options that choose them.

* lazy ("select"): on first access, one SELECT for that object
  (:func:`lazy_load`); a many-to-one whose target is in the identity map needs none;
* "selectin": after a result's rows are read, one ``SELECT ... WHERE key IN (...)`` per
  relationship for all parents (:class:`_SelectIn`);
* "joined": a LEFT OUTER JOIN added to the statement, related objects built from the
  same rows (:class:`_Joined`); for collections the result must be ``unique()``d;
* "subquery": loaded like "selectin" (one extra statement per relationship);
* "raise" / "raise_on_sql" / "noload": refuse / return nothing.

Per-query choices come from options (``selectinload(User.orders).joinedload(...)``,
``raiseload("*")``, ``defer``...). ``prepare_select`` adds joins before execution;
``post_load_wrapper`` wraps the stream of rows to run post-loaders.

N+1 detection: objects loaded by one result share a :class:`LoadContext`. A lazy load
counts against it; the N-th lazy load of one relationship among objects of the same
result warns once (``NPlusOneWarning``, or raises in ``"raise"`` mode) naming the
relationship, the count, the code that iterated and the option that fixes it. In
``fetch_peers`` mode the first lazy load loads the relationship for every object of the
result in one ``SELECT ... IN`` instead.
"""

from __future__ import annotations

import sys
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic.orm.collections import members
from hermetic.orm.state import STATE_ATTR, InstanceState

if TYPE_CHECKING:
    from hermetic.orm.relationships import RelationshipProperty
    from hermetic.orm.session import Session

PrepareHook = Callable[["Session", Any, dict[str, Any]], Any]
PostLoadHook = Callable[["Session", Any, Any, Any], Any]

_prepare_hooks: list[PrepareHook] = []
_post_hooks: list[PostLoadHook] = []


NPlusOneWarning = exc.NPlusOneWarning


# -- options --------------------------------------------------------------------------


class Load:
    """A loader option: a path of relationship attributes, each with a strategy
    (``selectinload(User.orders).joinedload(Order.items)``), or column options."""

    _is_loader_option = True

    def __init__(self, entity: Any = None) -> None:
        self.entity = entity
        self.path: list[tuple[Any, str, dict[str, Any]]] = []  # (attr or "*", strategy, opts)

    def _chain(self, attr: Any, strategy: str, **opts: Any) -> Load:
        new = Load(self.entity)
        new.path = [*self.path, (attr, strategy, opts)]
        return new

    def selectinload(self, attr: Any, **kw: Any) -> Load:
        return self._chain(attr, "selectin", **kw)

    def subqueryload(self, attr: Any, **kw: Any) -> Load:
        return self._chain(attr, "subquery", **kw)

    def joinedload(self, attr: Any, innerjoin: bool = False, **kw: Any) -> Load:
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
        new = self
        for a in attrs:
            new = new._chain(a, "defer", raiseload=raiseload)
        return new

    def undefer(self, *attrs: Any) -> Load:
        new = self
        for a in attrs:
            new = new._chain(a, "undefer")
        return new

    def load_only(self, *attrs: Any, raiseload: bool = False) -> Load:
        return self._chain(tuple(attrs), "load_only", raiseload=raiseload)

    def undefer_group(self, name: str) -> Load:
        return self._chain(name, "undefer_group")

    def options(self, *opts: Load) -> Load:
        new = Load(self.entity)
        new.path = list(self.path)
        new._children = [*getattr(self, "_children", []), *opts]  # type: ignore[attr-defined]
        return new

    def __repr__(self) -> str:
        return "Load(" + ".".join(f"{_attr_name(a)}:{s}" for a, s, _ in self.path) + ")"


def _attr_name(attr: Any) -> str:
    if isinstance(attr, tuple):
        return ",".join(_attr_name(a) for a in attr)
    return str(attr)


def selectinload(*attrs: Any, recursion_depth: int | None = None) -> Load:
    opt = Load()
    for a in attrs:
        opt = opt.selectinload(a)
    return opt


def subqueryload(*attrs: Any) -> Load:
    opt = Load()
    for a in attrs:
        opt = opt.subqueryload(a)
    return opt


def joinedload(*attrs: Any, innerjoin: bool = False) -> Load:
    opt = Load()
    for a in attrs:
        opt = opt.joinedload(a, innerjoin=innerjoin)
    return opt


def lazyload(*attrs: Any) -> Load:
    opt = Load()
    for a in attrs:
        opt = opt.lazyload(a)
    return opt


def noload(*attrs: Any) -> Load:
    opt = Load()
    for a in attrs:
        opt = opt.noload(a)
    return opt


def raiseload(*attrs: Any, sql_only: bool = False) -> Load:
    opt = Load()
    for a in attrs:
        opt = opt.raiseload(a, sql_only=sql_only)
    return opt


def defaultload(*attrs: Any) -> Load:
    opt = Load()
    for a in attrs:
        opt = opt.defaultload(a)
    return opt


def immediateload(*attrs: Any) -> Load:
    opt = Load()
    for a in attrs:
        opt = opt.immediateload(a)
    return opt


def contains_eager(*attrs: Any, alias: Any = None) -> Load:
    opt = Load()
    for a in attrs:
        opt = opt.contains_eager(a, alias=alias)
    return opt


def defer(key: Any, *addl: Any, raiseload: bool = False) -> Load:
    return Load().defer(key, *addl, raiseload=raiseload)


def undefer(key: Any, *addl: Any) -> Load:
    return Load().undefer(key, *addl)


def load_only(*attrs: Any, raiseload: bool = False) -> Load:
    return Load().load_only(*attrs, raiseload=raiseload)


def undefer_group(name: str) -> Load:
    return Load().undefer_group(name)


# -- per-result loading context ------------------------------------------------------


class LoadContext:
    """Shared by the objects one result loaded: options that apply to them, and the
    N+1 bookkeeping."""

    __slots__ = (
        "__weakref__",
        "counts",
        "fetch_peers",
        "mode",
        "overrides",
        "peers",
        "site",
        "threshold",
        "warned",
    )

    def __init__(
        self, overrides: dict[str, Any] | None, mode: str, threshold: int, fetch_peers: bool
    ) -> None:
        self.overrides = overrides  # relationship key -> (strategy, sub-options)
        self.mode = mode
        self.threshold = threshold
        self.fetch_peers = fetch_peers
        self.peers: list[weakref.ref[Any]] = []
        self.counts: dict[str, int] = {}
        self.warned: set[str] = set()
        self.site: str | None = None


def strategy_for(prop: RelationshipProperty, state: InstanceState) -> str:
    ctx = state.load_path
    if ctx is not None and ctx.overrides:
        o = ctx.overrides.get(prop.key) or ctx.overrides.get("*")
        if o is not None:
            strategy = o[0]
            if strategy in ("raise", "raise_on_sql", "noload"):
                return "raise" if strategy == "raise" else strategy
            if strategy == "select":
                return "select"
    lazy = prop.lazy
    if lazy == "raise":
        return "raise"
    if lazy in ("noload",):
        return "noload"
    if lazy == "raise_on_sql":
        return "raise_on_sql"
    return "select"


def _n_plus_one_settings(session: Session, opts: dict[str, Any] | None) -> tuple[str, int, bool]:
    o = opts or {}
    engine_opts: dict[str, Any] = {}
    bind = session.bind
    if bind is not None:
        try:
            engine_opts = dict(bind.get_execution_options())
        except Exception:
            engine_opts = {}
    mode = o.get(
        "n_plus_one",
        session.n_plus_one
        if session.n_plus_one is not None
        else engine_opts.get("n_plus_one", "warn"),
    )
    threshold = o.get(
        "n_plus_one_threshold",
        engine_opts.get("n_plus_one_threshold", session.n_plus_one_threshold),
    )
    peers = o.get(
        "fetch_peers",
        session.fetch_peers
        if session.fetch_peers is not None
        else engine_opts.get("fetch_peers", False),
    )
    return str(mode), int(threshold), bool(peers)


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside hermetic."""
    level = 1
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename.replace("\\", "/")
        if "/hermetic/" not in name or "/tests/" in name:
            return level
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _caller_site() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename.replace("\\", "/")
        if "/hermetic/" not in name or "/tests/" in name:
            return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"


def lazy_load(prop: RelationshipProperty, session: Session, state: InstanceState, obj: Any) -> None:
    """Load one relationship of one object (the lazy strategy)."""
    ctx: LoadContext | None = state.load_path
    if ctx is not None and ctx.peers and ctx.mode != "off":
        _count_lazy_load(prop, ctx)
        if ctx.fetch_peers:
            peers = [
                o for o in (r() for r in ctx.peers) if o is not None and prop.key not in o.__dict__
            ]
            peers = [o for o in peers if isinstance(o, prop.parent.class_)]
            if len(peers) > 1:
                _load_many(prop, session, peers, None)
                if prop.key in obj.__dict__:
                    return
    # many-to-one by primary key: the identity map first
    from hermetic.orm.relationships import MANYTOONE, _value_of

    d = obj.__dict__
    if prop.direction == MANYTOONE and not prop.extra_criteria:
        target = prop.mapper
        remote = [r for _, r in prop.local_remote_pairs]
        if list(remote) == list(target.primary_key):
            ident = tuple(_value_of(prop.parent, obj, d, loc) for loc, _ in prop.local_remote_pairs)
            if any(v is None for v in ident):
                d[prop.key] = None
                return
            key = (target.identity_class, ident, None)
            hit = session.identity_map._get_state(key)
            if hit is not None:
                other = hit.obj()
                if other is not None and not hit.deleted_flushed:
                    d[prop.key] = other
                    return
    strategy = strategy_for(prop, state)
    if strategy == "raise_on_sql":
        from hermetic.orm.relationships import _raise_on_load

        _raise_on_load(prop, obj, strategy)
    _load_many(prop, session, [obj], None)


def _count_lazy_load(prop: RelationshipProperty, ctx: LoadContext) -> None:
    key = prop.key
    n = ctx.counts.get(key, 0) + 1
    ctx.counts[key] = n
    if n < ctx.threshold or key in ctx.warned or ctx.fetch_peers:
        return
    ctx.warned.add(key)
    site = _caller_site()
    message = (
        f"N+1 queries: relationship {prop} was lazy-loaded {n} times for objects of one "
        f"result (loaded at {ctx.site or 'an unknown place'}; iterated at {site}). Load it "
        f"with the query instead: .options(selectinload({prop})), or joinedload({prop}) "
        "for many-to-one; or run the Session with fetch_peers=True to load it for every "
        "object of the result at the first access"
    )
    if ctx.mode == "raise":
        raise exc.InvalidRequestError(message)
    warnings.warn(message, NPlusOneWarning, stacklevel=_user_stacklevel())


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
    prop: RelationshipProperty, session: Session, parents: Sequence[Any], sub_options: Any
) -> None:
    """Load ``prop`` for every parent in one statement and store the values."""
    if not parents:
        return
    stmt, keys = _select_for(prop, parents)
    if all(any(v is None for v in k) for k in keys):
        for p in parents:
            prop._set_loaded(p, [] if prop.uselist else None)
        return
    if sub_options:
        stmt = stmt.options(*sub_options)
    n_key = len(prop.local_remote_pairs)
    with session.no_autoflush:
        rows = session.execute(stmt, execution_options={"_sa_relationship_load": True}).all()
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        grouped.setdefault(tuple(row[len(row) - n_key :]), []).append(row[0])
    for p, k in zip(parents, keys, strict=True):
        found = grouped.get(k, [])
        if prop.key in p.__dict__ and p.__dict__.get(STATE_ATTR) is not None:
            existing = p.__dict__[prop.key]
            if (
                existing is not None
                and existing != []
                and not (prop.uselist and not members(existing))
            ):
                continue
        if prop.uselist:
            prop._set_loaded(p, found)
        else:
            prop._set_loaded(p, found[0] if found else None)


# -- statement preparation and post-loading ------------------------------------------------


def _root_mapper(stmt: Any) -> Any:
    from hermetic.orm.loading import _entity_mapper

    ents = getattr(stmt, "_raw_entities", ())
    if not ents:
        return None
    return _entity_mapper(ents[0][0])


def _options_for(stmt: Any, mapper: Any) -> dict[str, tuple[str, list[Load], dict[str, Any]]]:
    """relationship key (or "*") -> (strategy, sub-options for the targets, opts)."""
    out: dict[str, tuple[str, list[Load], dict[str, Any]]] = {}
    for opt in getattr(stmt, "_with_options", ()):
        if not isinstance(opt, Load) or not opt.path:
            continue
        attr, strategy, o = opt.path[0]
        if isinstance(attr, str):
            key = attr
        elif isinstance(attr, tuple):
            continue
        else:
            prop = getattr(attr, "prop", None)
            if prop is None or not getattr(prop, "_is_relationship", False):
                continue
            if not mapper.isa(prop.parent) and not prop.parent.isa(mapper):
                continue
            key = prop.key
        rest = opt.path[1:]
        subs = []
        if rest:
            sub = Load()
            sub.path = rest
            subs.append(sub)
        subs.extend(getattr(opt, "_children", []))
        if strategy == "default" and key in out:
            out[key][1].extend(subs)
            continue
        prev = out.get(key)
        if prev is not None:
            subs = [*prev[1], *subs]
            if strategy == "default":
                strategy = prev[0]
        out[key] = (strategy, subs, o)
    return out


def prepare_select(session: Session, stmt: Any, opts: dict[str, Any]) -> Any:
    for hook in _prepare_hooks:
        stmt = hook(session, stmt, opts)
    mapper = _root_mapper(stmt)
    if mapper is None:
        return stmt
    mapper._check_configure()
    options = _options_for(stmt, mapper)
    joined = []
    for key, prop in mapper._props.items():
        if not getattr(prop, "_is_relationship", False):
            continue
        chosen = options.get(key)
        strategy = chosen[0] if chosen is not None else None
        if strategy in (None, "default"):
            strategy = prop.lazy
        if strategy == "joined" and not opts.get("_sa_relationship_load_depth"):
            joined.append(prop)
    if not joined:
        return stmt
    from hermetic.orm.util import join_eager

    return join_eager(stmt, mapper, joined, options)


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
    options = _options_for(stmt, mapper)
    selectin: list[tuple[Any, list[Load]]] = []
    overrides: dict[str, Any] = {}
    joined_subs: dict[str, list[Load]] = {}
    for key, prop in mapper._props.items():
        if not getattr(prop, "_is_relationship", False):
            continue
        chosen = options.get(key) or options.get("*")
        strategy = chosen[0] if chosen is not None else "default"
        subs = chosen[1] if chosen is not None else []
        if strategy == "default":
            strategy = prop.lazy
        if strategy in ("selectin", "subquery", "immediate"):
            selectin.append((prop, subs))
        elif strategy in ("raise", "raise_on_sql", "noload", "select"):
            if chosen is not None:
                overrides[key] = (strategy, subs)
        elif strategy == "joined" and subs:
            joined_subs[key] = subs
    mode, threshold, fetch_peers = _n_plus_one_settings(session, opts)
    track = mode != "off" and not opts.get("_sa_relationship_load")
    if not (selectin or overrides or track or joined_subs):
        return None
    ctx = (
        LoadContext(overrides or None, mode, threshold, fetch_peers)
        if (track or overrides)
        else None
    )
    if ctx is not None and track:
        ctx.site = _caller_site_outer()
    yield_per = opts.get("yield_per")

    def process(batch: list[Any]) -> None:
        objs = [r[0] for r in batch if r and r[0] is not None]
        if ctx is not None:
            for o in objs:
                st = o.__dict__.get(STATE_ATTR)
                if st is not None:
                    st.load_path = ctx
                    if track:
                        ctx.peers.append(weakref.ref(o))
        for prop, subs in selectin:
            parents = [
                o
                for o in objs
                if isinstance(o, prop.parent.class_)
                and (prop.key not in o.__dict__ or opts.get("populate_existing"))
            ]
            unique = list({id(o): o for o in parents}.values())
            if unique:
                _load_many(prop, session, unique, subs)
        for key, subs in joined_subs.items():
            children: list[Any] = []
            for o in objs:
                v = o.__dict__.get(key)
                if v is None:
                    continue
                children.extend(
                    members(v)
                    if not hasattr(v, "__mapper__") and isinstance(v, (list, set, dict))
                    else [v]
                )
            if children:
                _apply_sub_options(session, children, subs)

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


def _apply_sub_options(session: Session, objs: list[Any], subs: list[Load]) -> None:
    """Nested options (``joinedload(A.b).selectinload(B.c)``) for already-loaded objects."""
    if not objs:
        return
    by_class: dict[type, list[Any]] = {}
    for o in objs:
        by_class.setdefault(type(o), []).append(o)
    for cls, group in by_class.items():
        mapper = cls.__mapper__  # type: ignore[attr-defined]
        for sub in subs:
            if not sub.path:
                continue
            attr, strategy, _ = sub.path[0]
            prop = getattr(attr, "prop", None)
            if prop is None or not mapper.isa(prop.parent):
                continue
            rest = Load()
            rest.path = sub.path[1:]
            nested = [rest] if rest.path else []
            if strategy in ("selectin", "subquery", "joined", "immediate"):
                pending = [o for o in group if prop.key not in o.__dict__]
                _load_many(prop, session, pending, nested)
                if nested:
                    loaded: list[Any] = []
                    for o in group:
                        v = o.__dict__.get(prop.key)
                        if v is not None:
                            loaded.extend(members(v) if isinstance(v, (list, set, dict)) else [v])
                    _apply_sub_options(session, loaded, nested)


def _caller_site_outer() -> str:
    return _caller_site()
