"""``relationship()``: links between mapped classes.

A relationship is configured lazily (first query, first flush, or
``configure_mappers()``): its target class is resolved (class, string, lambda), the
join found from foreign keys (or ``primaryjoin``), and the direction decided:

* ONETOMANY: the target's foreign key refers to the parent (``User.addresses``);
* MANYTOONE: the parent's foreign key refers to the target (``Address.user``);
* MANYTOMANY: through a ``secondary`` table.

``local_remote_pairs`` are (parent column, target column) pairs of the join; for
MANYTOMANY there are two lists, parent -> secondary and target -> secondary.

Values: a collection (list by default, ``collection_class=set`` or a keyed dict) or a
single object. Both sides of a ``back_populates`` / ``backref`` pair are kept consistent
in memory when either side changes, before any flush.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic._util.cpython import seal
from hermetic.orm import exc as orm_exc
from hermetic.orm.attributes import AttributeImpl, QueryableAttribute
from hermetic.orm.collections import collection_class_for, members, new_collection
from hermetic.orm.properties import MapperProperty
from hermetic.orm.state import NO_VALUE, STATE_ATTR, History, InstanceState, instance_state
from hermetic.sql.elements import BinaryExpression, BooleanClauseList, ColumnElement, and_
from hermetic.sql.schema import Column, Table

if TYPE_CHECKING:
    from hermetic.orm.mapper import Mapper
    from hermetic.orm.session import Session


class RelationshipDirection(enum.Enum):
    """Which side holds the foreign key (``prop.direction``)."""

    ONETOMANY = 1
    MANYTOONE = 2
    MANYTOMANY = 3


ONETOMANY = RelationshipDirection.ONETOMANY
MANYTOONE = RelationshipDirection.MANYTOONE
MANYTOMANY = RelationshipDirection.MANYTOMANY

_ALL_CASCADES = ("save-update", "merge", "refresh-expire", "expunge", "delete")


def _parse_cascade(spec: str | None) -> frozenset[str]:
    if spec is None:
        return frozenset({"save-update", "merge"})
    out: set[str] = set()
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        if part == "all":
            out.update(_ALL_CASCADES)
        elif part in (*_ALL_CASCADES, "delete-orphan"):
            out.add(part)
        elif part == "none":
            continue
        else:
            raise exc.ArgumentError(
                f"Invalid cascade option {part!r}; valid options are all, none, "
                f"{', '.join(_ALL_CASCADES)}, delete-orphan"
            )
    return frozenset(out)


def foreign(expr: Any) -> Any:
    """Mark a column in a ``primaryjoin`` as the foreign (referring) side."""
    col = getattr(expr, "__clause_element__", lambda: expr)()
    col.__dict__["_sa_foreign"] = True
    return col


def remote(expr: Any) -> Any:
    """Mark a column in a ``primaryjoin`` as the remote side."""
    col = getattr(expr, "__clause_element__", lambda: expr)()
    col.__dict__["_sa_remote"] = True
    return col


def backref(name: str, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """``relationship(..., backref=backref("user", lazy="joined"))``."""
    return (name, kwargs)


class RelationshipProperty(MapperProperty):
    """A relationship between two mapped classes (what ``relationship()`` returns)."""

    _is_relationship = True
    _sa_replaceable = True
    mapper: Any = None  # the target's mapper (set when configured)

    def __init__(
        self,
        argument: Any = None,
        secondary: Any = None,
        *,
        uselist: bool | None = None,
        collection_class: Any = None,
        primaryjoin: Any = None,
        secondaryjoin: Any = None,
        back_populates: str | None = None,
        backref: Any = None,
        order_by: Any = False,
        lazy: str | bool | None = "select",
        cascade: str | None = None,
        viewonly: bool = False,
        foreign_keys: Any = None,
        remote_side: Any = None,
        passive_deletes: bool | str = False,
        post_update: bool = False,
        single_parent: bool = False,
        innerjoin: bool = False,
        info: dict[Any, Any] | None = None,
        overlaps: str | None = None,
        doc: str | None = None,
        join_depth: int | None = None,
        active_history: bool = False,
        sync_backref: bool | None = None,
        **kw: Any,
    ) -> None:
        super().__init__()
        self.argument = argument
        self.secondary = secondary
        self.uselist = uselist
        self.collection_class = collection_class
        self._primaryjoin_arg = primaryjoin
        self._secondaryjoin_arg = secondaryjoin
        self.back_populates = back_populates
        self.backref = backref
        self._order_by_arg = order_by
        if lazy is True:
            lazy = "select"
        elif lazy is False:
            lazy = "joined"
        elif lazy is None:
            lazy = "noload"
        self.lazy = lazy
        self.cascade = _parse_cascade(cascade)
        if viewonly:
            self.cascade = frozenset()
        self.viewonly = viewonly
        self._foreign_keys_arg = foreign_keys
        self._remote_side_arg = remote_side
        self.passive_deletes = passive_deletes
        self.post_update = post_update
        self.single_parent = single_parent
        self.innerjoin = innerjoin
        self.doc = doc
        self.join_depth = join_depth
        self.active_history = active_history
        self.sync_backref = sync_backref
        if info:
            self.info.update(info)
        self.dataclass_opts = {
            k: kw.pop(k)
            for k in ("init", "repr", "default", "default_factory", "compare", "kw_only", "hash")
            if k in kw
        }
        self._reverse: RelationshipProperty | None = None
        self._configured = False
        self._annotation_target: Any = None

    # -- declarative annotation ---------------------------------------------------------
    def _set_annotation(self, mapped_ann: tuple[str, Any], klass: type, cls: type) -> None:
        inner = mapped_ann[1]
        target, uselist, coll = _parse_relationship_annotation(inner)
        if self.argument is None and target is not None:
            self.argument = target
        if self.uselist is None and uselist is not None:
            self.uselist = uselist
        if self.collection_class is None and coll is not None:
            self.collection_class = coll
        self._annotation_module = klass.__module__
        if self.lazy == "select":  # WriteOnlyMapped[...] / DynamicMapped[...] choose lazy=
            kind = _annotation_kind(klass, self)
            if kind is not None:
                self.lazy = kind

    # -- instrumentation --------------------------------------------------------------------
    def _impl_for(self, mapper: Mapper) -> AttributeImpl:
        if self.lazy in ("write_only", "dynamic"):
            from hermetic.orm.writeonly import WriteOnlyImpl

            return WriteOnlyImpl(mapper, self.key, self)
        return RelationshipImpl(mapper, self.key, self)

    def _make_descriptor(self, cls: type, key: str, impl: AttributeImpl | None) -> Any:
        return RelationshipAttribute(cls, key, self, impl)

    # -- configuration ------------------------------------------------------------------------
    def _configure(self) -> None:
        if self._configured:
            return
        self._configured = True
        parent = self.parent
        self.mapper = _resolve_target(self, self.argument)
        self.entity = self.mapper
        self.target = self.mapper.persist_selectable
        if callable(self.secondary) and not isinstance(self.secondary, Table):
            self.secondary = self.secondary()
        if isinstance(self.secondary, str):
            table = _lookup_table(parent, self.secondary)
            if table is None:
                raise exc.InvalidRequestError(
                    f"relationship {self}: secondary table '{self.secondary}' is not in the "
                    "MetaData; define it before configuring mappers"
                )
            self.secondary = table
        self._setup_join()
        if self.uselist is None:
            self.uselist = self.direction != MANYTOONE
        self._collection_cls = collection_class_for(self.collection_class) if self.uselist else None
        self.order_by = _resolve_order_by(self, self._order_by_arg)
        self._setup_reverse()

    def _setup_reverse(self) -> None:
        if self.backref is not None and self._reverse is None:
            name, kwargs = (self.backref, {}) if isinstance(self.backref, str) else self.backref
            target = self.mapper
            if name in target._props:
                raise exc.ArgumentError(
                    f"Error creating backref '{name}' on relationship '{self}': property of "
                    f"that name exists on mapper '{target}'"
                )
            kwargs = dict(kwargs)
            if self.secondary is not None:
                kwargs.setdefault("secondary", self.secondary)
                if self._secondaryjoin_arg is not None:
                    kwargs.setdefault("primaryjoin", self._secondaryjoin_arg)
                    kwargs.setdefault("secondaryjoin", self._primaryjoin_arg)
            elif self._primaryjoin_arg is not None:
                kwargs.setdefault("primaryjoin", self._primaryjoin_arg)
            if self._foreign_keys_arg is not None:
                kwargs.setdefault("foreign_keys", self._foreign_keys_arg)
            if self.direction == ONETOMANY and self.parent is self.mapper:
                kwargs.setdefault("remote_side", [c for c, _ in self.local_remote_pairs])
            reverse = RelationshipProperty(self.parent.class_, back_populates=self.key, **kwargs)
            target._add_property(name, reverse)
            self._reverse = reverse
            reverse._reverse = self
            self.back_populates = name
        elif self.back_populates:
            target = self.mapper
            other = target._props.get(self.back_populates)
            if other is None or not isinstance(other, RelationshipProperty):
                raise exc.InvalidRequestError(
                    f"Mapper '{target}' has no relationship '{self.back_populates}' (named by "
                    f"back_populates of {self}); add it, or use backref= to create it"
                )
            self._reverse = other
            other._reverse = self

    def _setup_join(self) -> None:
        parent = self.parent
        ptables = set(parent.tables)
        ttables = set(self.mapper.tables)
        fk_cols = _columns_of(self._foreign_keys_arg, parent, self.mapper)
        remote_cols = _columns_of(self._remote_side_arg, parent, self.mapper)
        self.extra_criteria: list[Any] = []
        self.secondary_synchronize_pairs: list[tuple[Column, Column]] = []
        self.local_remote_pairs: list[tuple[Column, Column]] = []
        if self.secondary is not None:
            self.direction = MANYTOMANY
            sec = self.secondary
            if self._primaryjoin_arg is not None:
                pj = _eval_join(self, self._primaryjoin_arg)
                sj = (
                    _eval_join(self, self._secondaryjoin_arg)
                    if self._secondaryjoin_arg is not None
                    else None
                )
                self.local_remote_pairs = _pairs_between(pj, ptables, {sec})
                if sj is None:
                    raise exc.ArgumentError(
                        f"relationship {self}: primaryjoin given without secondaryjoin"
                    )
                self.secondary_synchronize_pairs = _pairs_between(sj, ttables, {sec})
            else:
                to_parent = [
                    (fk.column, fk.parent)
                    for c in sec.c
                    for fk in c.foreign_keys
                    if fk.column.table in ptables and (not fk_cols or c in fk_cols)
                ]
                to_target = [
                    (fk.column, fk.parent)
                    for c in sec.c
                    for fk in c.foreign_keys
                    if fk.column.table in ttables and (not fk_cols or c in fk_cols)
                ]
                if ptables & ttables:
                    raise exc.ArgumentError(
                        f"relationship {self}: a self-referential many-to-many needs "
                        "primaryjoin= and secondaryjoin= to tell the two foreign keys apart"
                    )
                if not to_parent or not to_target:
                    raise exc.NoForeignKeysError(
                        f"Could not determine join condition between parent/child tables on "
                        f"relationship {self}: table '{sec.name}' has no foreign key to "
                        f"{'the parent' if not to_parent else 'the target'} table; add "
                        "ForeignKey(...) to its columns or give primaryjoin/secondaryjoin"
                    )
                self.local_remote_pairs = to_parent
                self.secondary_synchronize_pairs = to_target
            return
        if self._primaryjoin_arg is not None:
            pj = _eval_join(self, self._primaryjoin_arg)
            pairs, extra, direction = _analyze_primaryjoin(
                self, pj, ptables, ttables, fk_cols, remote_cols
            )
            self.local_remote_pairs = pairs
            self.extra_criteria = extra
            self.direction = direction
            return
        to_parent = []  # target column refers to parent column: one-to-many
        parent_paths: set[int] = set()  # the foreign key constraints found, each a path
        for t in ttables:
            for c in t.c:
                for fk in c.foreign_keys:
                    try:
                        ref = fk.column
                    except exc.NoReferenceError:
                        continue
                    if ref.table in ptables and (not fk_cols or c in fk_cols):
                        to_parent.append((ref, c))
                        parent_paths.add(id(fk.constraint or fk))
        to_target = []  # parent column refers to target column: many-to-one
        target_paths: set[int] = set()
        for t in ptables:
            for c in t.c:
                for fk in c.foreign_keys:
                    try:
                        ref = fk.column
                    except exc.NoReferenceError:
                        continue
                    if ref.table in ttables and (not fk_cols or c in fk_cols):
                        to_target.append((c, ref))
                        target_paths.add(id(fk.constraint or fk))
        if len(parent_paths) > 1 or len(target_paths) > 1:
            columns = ", ".join(
                sorted({str(c) for _, c in to_parent} | {str(c) for c, _ in to_target})
            )
            raise exc.AmbiguousForeignKeysError(
                f"Could not determine join condition between parent/child tables on "
                f"relationship {self} - there are multiple foreign key paths linking the "
                f"tables ({columns}). Specify the 'foreign_keys' argument, listing the "
                "columns that refer to the other table for this relationship, e.g. "
                f"relationship(..., foreign_keys=[...]), or give primaryjoin="
            )
        self_ref = bool(ptables & ttables)
        if self_ref:
            pairs = to_parent  # (referenced col, fk col), same table
            if not pairs:
                raise exc.NoForeignKeysError(
                    f"Could not determine join condition on self-referential relationship "
                    f"{self}: the table has no foreign key to itself"
                )
            if remote_cols and all(ref in remote_cols for ref, _ in pairs):
                # remote_side=[id]: the parent holds the foreign key (many-to-one)
                self.direction = MANYTOONE
                self.local_remote_pairs = [(fkc, ref) for ref, fkc in pairs]
            else:
                self.direction = ONETOMANY
                self.local_remote_pairs = pairs
            return
        if to_parent and to_target:
            raise exc.AmbiguousForeignKeysError(
                f"Could not determine join condition between parent/child tables on "
                f"relationship {self}: foreign keys point both ways; give foreign_keys=[...] "
                "or primaryjoin="
            )
        if to_parent:
            self.direction = ONETOMANY
            self.local_remote_pairs = to_parent
        elif to_target:
            self.direction = MANYTOONE
            self.local_remote_pairs = to_target
        else:
            raise exc.NoForeignKeysError(
                f"Could not determine join condition between parent/child tables on "
                f"relationship {self} - there are no foreign keys linking these tables. "
                "Ensure that referencing columns are associated with a ForeignKey or "
                "ForeignKeyConstraint, or specify a 'primaryjoin' expression"
            )
        if (
            len({id(r.table) for _, r in self.local_remote_pairs}) > 1
            and self.direction == ONETOMANY
        ):
            pass

    # -- SQL ---------------------------------------------------------------------------
    @property
    def primaryjoin(self) -> Any:
        self.parent._check_configure()
        if self.direction == MANYTOMANY:
            return and_(*[p == s for p, s in self.local_remote_pairs])
        return and_(*[loc == rem for loc, rem in self.local_remote_pairs], *self.extra_criteria)

    @property
    def secondaryjoin(self) -> Any:
        self.parent._check_configure()
        if self.direction != MANYTOMANY:
            return None
        return and_(*[t == s for t, s in self.secondary_synchronize_pairs])

    @property
    def local_columns(self) -> set[Column]:
        return {loc for loc, _ in self.local_remote_pairs}

    @property
    def remote_side(self) -> set[Column]:
        return {rem for _, rem in self.local_remote_pairs}

    @property
    def class_attribute(self) -> Any:
        return getattr(self.parent.class_, self.key)

    @property
    def expression(self) -> Any:
        return self.primaryjoin

    def _criteria_for(self, obj: Any) -> list[Any]:
        """WHERE criteria selecting the targets of ``obj`` (lazy load)."""
        d = obj.__dict__
        out = []
        if self.direction == MANYTOMANY:
            for pcol, scol in self.local_remote_pairs:
                out.append(scol == _value_of(self.parent, obj, d, pcol))
        else:
            for loc, rem in self.local_remote_pairs:
                out.append(rem == _value_of(self.parent, obj, d, loc))
        out.extend(self.extra_criteria)
        return out

    def _join_onclause(self, target_sel: Any = None, parent_sel: Any = None) -> Any:
        return self.primaryjoin

    def _join_parts(
        self,
        parent_adapter: Callable[[Any], Any] | None = None,
        target_adapter: Callable[[Any], Any] | None = None,
    ) -> tuple[Any, tuple[Any, Any] | None]:
        """(ON clause to the target, ``via``) for a join from parent to target: ``via``
        is (secondary table, its ON clause) for a many-to-many. The adapters move the
        parent's / the target's columns to aliases (each side separately, so a
        self-referential join aliases only one side)."""
        from hermetic.orm.util import adapt

        self.parent._check_configure()

        def pa(c: Any) -> Any:
            return adapt(c, parent_adapter) if parent_adapter is not None else c

        def ta(c: Any) -> Any:
            return adapt(c, target_adapter) if target_adapter is not None else c

        if self.direction == MANYTOMANY:
            on_secondary = and_(*[pa(p) == s for p, s in self.local_remote_pairs])
            on_target = and_(*[ta(t) == s for t, s in self.secondary_synchronize_pairs])
            return on_target, (self.secondary, on_secondary)
        self_ref = bool(set(self.parent.tables) & set(self.mapper.tables))
        extra = [ta(x) if self_ref else ta(pa(x)) for x in self.extra_criteria]
        return and_(*[pa(loc) == ta(rem) for loc, rem in self.local_remote_pairs], *extra), None

    def with_criteria(self, attr: Any, criteria: Any) -> Any:
        """``User.orders.and_(Order.status == "open")``: the relationship with extra
        criteria, for joins and loader options."""
        from hermetic.orm.util import _WithCriteria

        return _WithCriteria(attr, tuple(criteria))

    def of_type(self, attr: Any, entity: Any) -> Any:
        """``User.orders.of_type(aliased(Order))`` / ``Company.employees.of_type(Manager)``."""
        from hermetic.orm.util import _OfType

        return _OfType(attr, entity)

    def __repr__(self) -> str:
        try:
            return f"{self.parent.class_.__name__}.{self.key}"
        except AttributeError:
            return "relationship()"

    __str__ = __repr__

    # -- loading -----------------------------------------------------------------------
    def _load_for(self, session: Session, state: InstanceState, obj: Any) -> None:
        from hermetic.orm.strategies import lazy_load

        lazy_load(self, session, state, obj)

    def _set_loaded(self, obj: Any, value: Any) -> None:
        """Store a loaded value (no events, no history)."""
        d = obj.__dict__
        if self.uselist:
            d[self.key] = new_collection(self._collection_cls, obj, self.class_impl(), value)  # type: ignore[arg-type]
        else:
            d[self.key] = value

    def class_impl(self) -> Any:
        return self.parent.class_._sa_impls[self.key]  # type: ignore[attr-defined]

    # -- cascades ---------------------------------------------------------------------
    def _cascade_objects(self, obj: Any, kind: str) -> list[Any]:
        if kind not in self.cascade:
            return []
        d = obj.__dict__
        if kind == "delete" and self.key not in d:
            if self.passive_deletes:
                return []  # the database's ON DELETE CASCADE removes the unloaded ones
            state = d.get(STATE_ATTR)
            if state is not None and state.key is not None and state.session is not None:
                with state.session.no_autoflush:  # the parent is already marked deleted
                    getattr(obj, self.key)  # load it: its members are deleted too
        value = d.get(self.key)
        if value is None:
            return []
        if self.uselist:
            return [m for m in members(value) if m is not None]
        return [value]

    def history(self, state: InstanceState, obj: Any) -> History:
        d = obj.__dict__
        committed = state.committed or {}
        current = d.get(self.key, NO_VALUE)
        if self.uselist:
            cur = members(current) if current is not NO_VALUE and current is not None else []
            if self.key in committed:
                old = committed[self.key]
                old_list = members(old) if old not in (NO_VALUE, None) else []
                old_ids = {id(o) for o in old_list}
                cur_ids = {id(c) for c in cur}
                added = [x for x in cur if id(x) not in old_ids]
                removed = [x for x in old_list if id(x) not in cur_ids]
                unchanged = [x for x in cur if id(x) in old_ids]
                return History(added, unchanged, removed)
            if state.key is None:
                return History(cur, (), ())
            return History((), cur, ())
        if self.key in committed:
            old = committed[self.key]
            if old is current:
                return History((), (current,), ())
            return History(
                () if current in (NO_VALUE, None) else (current,),
                (),
                () if old in (NO_VALUE, None) else (old,),
            )
        if current is NO_VALUE or current is None:
            return History()
        return History((current,), (), ()) if state.key is None else History((), (current,), ())

    def _has_changes(self, state: InstanceState, obj: Any) -> bool:
        return self.history(state, obj).has_changes()

    def _merge(
        self, session: Session, source: Any, dest: Any, load: bool, memo: dict[int, Any]
    ) -> None:
        if "merge" not in self.cascade:
            return
        d = source.__dict__
        if self.key not in d:
            return
        from hermetic.orm.session import _merge

        value = d[self.key]
        if self.uselist:
            merged = [_merge(session, v, load, memo) for v in members(value)]
            if load:
                setattr(dest, self.key, merged)
            else:
                self._set_loaded(dest, merged)
        else:
            merged_one = _merge(session, value, load, memo) if value is not None else None
            if load:
                setattr(dest, self.key, merged_one)
            else:
                dest.__dict__[self.key] = merged_one

    # -- comparisons (class level) -----------------------------------------------------------
    def _any(self, attr: QueryableAttribute, criterion: Any = None, **kw: Any) -> Any:
        from hermetic.sql.selectable import Select, exists

        self.parent._check_configure()
        crit = []
        if criterion is not None:
            crit.append(criterion)
        for k, v in kw.items():
            crit.append(getattr(self.mapper.class_, k) == v)
        if self.direction == MANYTOMANY:
            sel = Select([self.secondary.c[self.local_remote_pairs[0][1].key]]).where(
                *[s == p for p, s in self.local_remote_pairs],
                *[t == s for t, s in self.secondary_synchronize_pairs],
                *crit,
            )
            sel = sel.select_from(self.secondary).select_from(self.mapper.persist_selectable)
            return exists(sel.correlate(*self.parent.tables))
        join = [loc == rem for loc, rem in self.local_remote_pairs]
        sel = Select([*(rem for _, rem in self.local_remote_pairs)]).where(
            *join, *self.extra_criteria, *crit
        )
        if self.parent.tables == self.mapper.tables:
            # self-referential: the inner FROM must be an alias of the table
            from hermetic.orm.util import _self_ref_exists

            return _self_ref_exists(self, crit)
        return exists(sel.correlate(*self.parent.tables))

    def _compare(self, attr: QueryableAttribute, other: Any, negate: bool = False) -> Any:
        self.parent._check_configure()
        if self.direction == MANYTOONE:
            if other is None:
                crit = and_(*[loc.is_(None) for loc, _ in self.local_remote_pairs])
            else:
                od = other.__dict__
                crit = and_(
                    *[
                        loc == _value_of(self.mapper, other, od, rem)
                        for loc, rem in self.local_remote_pairs
                    ]
                )
            from hermetic.sql.elements import not_

            return not_(crit) if negate else crit
        if other is None:
            expr = self._any(attr)
            from hermetic.sql.elements import not_

            return expr if negate else not_(expr)
        raise exc.InvalidRequestError(
            f"Can't compare a collection to an object or collection; use {self}.contains(obj)"
        )

    def _contains(self, attr: QueryableAttribute, other: Any) -> Any:
        self.parent._check_configure()
        od = other.__dict__
        if self.direction == ONETOMANY:
            return and_(
                *[
                    loc == _value_of(self.mapper, other, od, rem)
                    for loc, rem in self.local_remote_pairs
                ]
            )
        if self.direction == MANYTOMANY:
            from hermetic.sql.selectable import Select, exists

            sel = (
                Select([self.local_remote_pairs[0][1]])
                .where(
                    *[s == p for p, s in self.local_remote_pairs],
                    *[
                        s == _value_of(self.mapper, other, od, t)
                        for t, s in self.secondary_synchronize_pairs
                    ],
                )
                .select_from(self.secondary)
            )
            return exists(sel.correlate(*self.parent.tables))
        raise exc.InvalidRequestError(
            f"contains() applies to collections; {self} is many-to-one; use =="
        )


def _value_of(mapper: Mapper, obj: Any, d: dict[str, Any], col: Column) -> Any:
    key = mapper._col_to_key.get(col)
    if key is None:
        raise orm_exc.UnmappedColumnError(f"Column {col} is not mapped by {mapper}")
    if key not in d:
        return getattr(obj, key)
    return d[key]


def _columns_of(spec: Any, parent: Mapper, target: Mapper) -> set[Any]:
    if spec is None:
        return set()
    if isinstance(spec, str):
        spec = _eval_string(spec, parent)
    if callable(spec) and not isinstance(spec, (ColumnElement, QueryableAttribute)):
        spec = spec()
    if not isinstance(spec, (list, tuple, set)):
        spec = [spec]
    out = set()
    for s in spec:
        if isinstance(s, str):
            s = _eval_string(s, parent)
        clause = getattr(s, "__clause_element__", None)
        out.add(clause() if clause is not None else s)
    return out


def _eval_string(text: str, parent: Mapper) -> Any:
    reg = parent.registry
    namespace: dict[str, Any] = {}
    if reg is not None:
        namespace.update(
            {k: v for k, v in reg._class_registry.items() if "." not in k and isinstance(v, type)}
        )
    import hermetic

    namespace.update(
        {
            "foreign": foreign,
            "remote": remote,
            "and_": hermetic.and_,
            "or_": hermetic.or_,
            "desc": hermetic.desc,
            "asc": hermetic.asc,
            "func": hermetic.func,
            "text": hermetic.text,
        }
    )
    if parent.local_table is not None and getattr(parent.local_table, "metadata", None) is not None:
        for t in parent.local_table.metadata.tables.values():
            namespace.setdefault(t.name, t)
    try:
        return eval(text, namespace)
    except NameError as e:
        raise exc.InvalidRequestError(
            f"When initializing mapper {parent}, expression {text!r} failed to locate a "
            f"name ({e}); is the class defined and mapped in the same registry?"
        ) from e


def _resolve_target(prop: RelationshipProperty, argument: Any) -> Mapper:
    from hermetic.orm.mapper import Mapper

    if argument is None:
        raise exc.ArgumentError(
            f"relationship {prop} has no target class: pass it (relationship('Address')) or "
            "annotate the attribute (Mapped[list['Address']])"
        )
    if isinstance(argument, typing.ForwardRef):
        argument = argument.__forward_arg__
    if isinstance(argument, str):
        reg = prop.parent.registry
        name = argument.strip().strip("'\"")
        if reg is None:
            raise exc.InvalidRequestError(
                f"relationship {prop}: cannot resolve '{name}' without a registry"
            )
        if "." in name and name not in reg._class_registry:
            name = name.rsplit(".", 1)[-1]
        argument = reg._resolve_class(name)
    elif callable(argument) and not isinstance(argument, type) and not isinstance(argument, Mapper):
        argument = argument()
    if isinstance(argument, Mapper):
        return argument
    mapper = getattr(argument, "__mapper__", None)
    if not isinstance(mapper, Mapper):
        raise exc.ArgumentError(f"relationship {prop}: target {argument!r} is not a mapped class")
    return mapper


def _lookup_table(parent: Mapper, name: str) -> Table | None:
    md = getattr(parent.local_table, "metadata", None)
    if md is None:
        return None
    return md.tables.get(name)  # type: ignore[no-any-return]


def _eval_join(prop: RelationshipProperty, arg: Any) -> Any:
    if isinstance(arg, str):
        arg = _eval_string(arg, prop.parent)
    elif callable(arg) and not isinstance(arg, ColumnElement):
        arg = arg()
    clause = getattr(arg, "__clause_element__", None)
    return clause() if clause is not None else arg


def _binaries(expr: Any) -> list[Any]:
    if isinstance(expr, BooleanClauseList):
        out = []
        for c in expr.clauses:
            out.extend(_binaries(c))
        return out
    inner = getattr(expr, "element", None)
    if type(expr).__name__ == "Grouping" and inner is not None:
        return _binaries(inner)
    return [expr]


def _table_of(col: Any) -> Any:
    return getattr(col, "table", None)


def _pairs_between(expr: Any, a_tables: set[Any], b_tables: set[Any]) -> list[tuple[Any, Any]]:
    pairs = []
    for b in _binaries(expr):
        if not isinstance(b, BinaryExpression) or not _is_eq(b):
            continue
        left, right = b.left, b.right
        if _table_of(left) in a_tables and _table_of(right) in b_tables:
            pairs.append((left, right))
        elif _table_of(right) in a_tables and _table_of(left) in b_tables:
            pairs.append((right, left))
    return pairs


def _is_eq(b: Any) -> bool:
    from hermetic.sql import operators

    return getattr(b, "operator", None) is operators.eq


def _analyze_primaryjoin(
    prop: RelationshipProperty,
    pj: Any,
    ptables: set[Any],
    ttables: set[Any],
    fk_cols: set[Any],
    remote_cols: set[Any],
) -> tuple[list[tuple[Any, Any]], list[Any], RelationshipDirection]:
    pairs: list[tuple[Any, Any]] = []
    extra: list[Any] = []
    foreign_on_target = foreign_on_parent = 0
    self_ref = bool(ptables & ttables)
    for b in _binaries(pj):
        if (
            isinstance(b, BinaryExpression)
            and _is_eq(b)
            and isinstance(b.left, Column)
            and isinstance(b.right, Column)
        ):
            left, right = b.left, b.right
            lt, rt = _table_of(left), _table_of(right)
            if self_ref:
                # remote(): which side is the target row
                if left.__dict__.get("_sa_remote") or left in remote_cols:
                    loc, rem = right, left
                elif right.__dict__.get("_sa_remote") or right in remote_cols:
                    loc, rem = left, right
                else:
                    fk_l = (
                        bool(left.foreign_keys)
                        or left in fk_cols
                        or left.__dict__.get("_sa_foreign")
                    )
                    loc, rem = (right, left) if fk_l else (left, right)
                is_fk_rem = (
                    bool(rem.foreign_keys) or rem in fk_cols or rem.__dict__.get("_sa_foreign")
                )
                if is_fk_rem:
                    foreign_on_target += 1
                else:
                    foreign_on_parent += 1
                pairs.append((loc, rem))
                continue
            if lt in ptables and rt in ttables:
                loc, rem = left, right
            elif rt in ptables and lt in ttables:
                loc, rem = right, left
            else:
                extra.append(b)
                continue

            def is_fk(c: Any) -> bool:
                if fk_cols:
                    return c in fk_cols
                if c.__dict__.get("_sa_foreign"):
                    return True
                return bool(c.foreign_keys)

            if is_fk(rem) and not is_fk(loc):
                foreign_on_target += 1
            elif is_fk(loc) and not is_fk(rem):
                foreign_on_parent += 1
            elif is_fk(rem):
                foreign_on_target += 1
            pairs.append((loc, rem))
        else:
            extra.append(b)
    if not pairs:
        raise exc.ArgumentError(
            f"relationship {prop}: primaryjoin has no equality between a parent column and a "
            "target column; hermetic needs at least one (col_a == col_b) to load and flush"
        )
    direction = MANYTOONE if foreign_on_parent and not foreign_on_target else ONETOMANY
    return pairs, extra, direction


def _resolve_order_by(prop: RelationshipProperty, arg: Any) -> list[Any]:
    if arg is False or arg is None:
        return []
    if isinstance(arg, str):
        arg = _eval_string(arg, prop.parent)
    elif callable(arg) and not isinstance(arg, (ColumnElement, QueryableAttribute)):
        arg = arg()
    if not isinstance(arg, (list, tuple)):
        arg = [arg]
    out = []
    for a in arg:
        if isinstance(a, str):
            a = _eval_string(a, prop.parent)
        out.append(a)
    return out


def _annotation_kind(klass: type, prop: RelationshipProperty) -> str | None:
    """ "write_only" / "dynamic" when ``prop`` is annotated ``WriteOnlyMapped[...]`` /
    ``DynamicMapped[...]`` in ``klass``'s body."""
    import inspect

    from hermetic.orm.decl_api import DynamicMapped, WriteOnlyMapped

    annotations = inspect.get_annotations(klass)
    for name, value in klass.__dict__.items():
        if value is prop and name in annotations:
            ann = annotations[name]
            if isinstance(ann, str):
                head = ann.strip().split("[", 1)[0].rsplit(".", 1)[-1]
                return {"WriteOnlyMapped": "write_only", "DynamicMapped": "dynamic"}.get(head)
            origin = typing.get_origin(ann) or ann
            if isinstance(origin, type) and issubclass(origin, WriteOnlyMapped):
                return "write_only"
            if isinstance(origin, type) and issubclass(origin, DynamicMapped):
                return "dynamic"
            return None
    return None


def _parse_relationship_annotation(inner: Any) -> tuple[Any, bool | None, Any]:
    """(target, uselist, collection class) from ``Mapped[...]``'s inner type."""
    if inner is None:
        return None, None, None
    if isinstance(inner, typing.ForwardRef):
        inner = inner.__forward_arg__
    if isinstance(inner, str):
        text = inner.strip()
        for opt in ("Optional[",):
            if text.startswith(opt) and text.endswith("]"):
                return _parse_relationship_annotation(text[len(opt) : -1])[0], False, None
        if "|" in text and "[" not in text:
            parts = [p.strip() for p in text.split("|") if p.strip() not in ("None", "'None'")]
            return parts[0].strip("'\""), False, None
        for prefix, coll in (
            ("list[", list),
            ("List[", list),
            ("set[", set),
            ("Set[", set),
            ("typing.List[", list),
        ):
            if text.startswith(prefix) and text.endswith("]"):
                return text[len(prefix) : -1].strip().strip("'\""), True, coll
        if text.startswith(("dict[", "Dict[")):
            return text[text.index(",") + 1 : -1].strip().strip("'\""), True, None
        return text.strip("'\""), False, None
    origin = typing.get_origin(inner)
    args = typing.get_args(inner)
    if origin in (list, set, frozenset):
        target = args[0] if args else None
        if isinstance(target, typing.ForwardRef):
            target = target.__forward_arg__
        return target, True, (set if origin is set else list)
    if origin is dict:
        target = args[1] if len(args) > 1 else None
        if isinstance(target, typing.ForwardRef):
            target = target.__forward_arg__
        return target, True, None
    from hermetic.orm.decl_api import _strip_optional

    stripped, _ = _strip_optional(inner)
    if stripped is not inner:
        return _parse_relationship_annotation(stripped)[0], False, None
    return inner, False, None


# -- attribute implementation -------------------------------------------------------------


class RelationshipImpl(AttributeImpl):
    """Reads (lazy load, empty collections) and writes (back-references, cascades) of
    one relationship attribute."""

    __slots__ = (
        "append_listeners",
        "collection_validators",
        "other_listeners",
        "prop",
        "remove_listeners",
    )

    def __init__(self, mapper: Mapper, key: str, prop: RelationshipProperty) -> None:
        super().__init__(mapper, key)
        self.prop = prop
        self.append_listeners: list[Callable[..., Any]] = []
        self.remove_listeners: list[Callable[..., Any]] = []
        self.other_listeners: dict[str, list[Any]] = {}
        self.collection_validators: list[tuple[Callable[..., Any], bool]] = []

    @property
    def is_collection(self) -> bool:  # type: ignore[override]
        self.prop.parent._check_configure()
        return bool(self.prop.uselist)

    def add_validator(self, fn: Callable[..., Any], include_removes: bool = False) -> None:
        self.collection_validators.append((fn, include_removes))
        self.validators.append(fn)
        self._refresh_hooks()

    def load(self, obj: Any) -> Any:
        d = obj.__dict__
        key = self.key
        if key in d:
            return d[key]
        prop = self.prop
        prop.parent._check_configure()
        state: InstanceState | None = d.get(STATE_ATTR)
        if state is None or state.key is None:
            if prop.uselist:
                coll = new_collection(prop._collection_cls, obj, self)  # type: ignore[arg-type]
                d[key] = coll
                return coll
            return None
        from hermetic.orm.strategies import strategy_for

        strategy = strategy_for(prop, state)
        if strategy == "noload":
            prop._set_loaded(obj, [] if prop.uselist else None)
            return d[key]
        if strategy == "raise":
            _raise_on_load(prop, obj, strategy)
        session = state.session
        if session is None:
            raise orm_exc.DetachedInstanceError(
                f"Parent instance {orm_exc.object_description(obj)} is not bound to a Session; "
                f"lazy load operation of attribute '{key}' cannot proceed. Fix: load it while "
                f"the Session is open, eagerly with .options(selectinload({prop})) (or "
                f"joinedload), or re-attach the object with session.add(obj) / session.merge(obj)"
            )
        try:
            session._load_unloaded(state, obj, key)
        except exc.MissingGreenlet as e:
            from hermetic.orm.attributes import missing_greenlet

            raise missing_greenlet(obj, key, True) from e
        return d.get(key)

    def set(self, obj: Any, value: Any) -> None:
        prop = self.prop
        prop.parent._check_configure()
        if prop.uselist:
            self._set_collection(obj, value)
        else:
            self._set_scalar(obj, value, backref=True)

    def _track(self, obj: Any, state: InstanceState, snapshot: Any) -> None:
        if state.key is None:
            return
        committed = state.committed
        if committed is None:
            committed = state.committed = {}
        if self.key not in committed:
            committed[self.key] = snapshot
        if not state.modified:
            state.modified = True
            ref = state.session_ref
            session = ref() if ref is not None else None
            if session is not None:
                session._modified[state] = obj

    def _set_scalar(self, obj: Any, value: Any, backref: bool) -> None:
        d = obj.__dict__
        state = d.get(STATE_ATTR) or instance_state(obj)
        key = self.key
        prop = self.prop
        if key in d:
            old = d[key]
        elif (
            state.key is not None
            and backref
            and state.session is not None
            and (prop.active_history or prop._reverse is not None)
        ):
            old = self.load(obj)
        else:
            old = NO_VALUE
        if self.hooks:
            for validator in self.validators:
                value = validator(obj, key, value)
            for fn in self.set_listeners:
                ret = fn(obj, value, old, self)
                if getattr(fn, "_retval", False):
                    value = ret
        if old is value:
            return
        self._track(obj, state, old)
        d[key] = value
        if backref:
            reverse = prop._reverse
            if reverse is not None and not prop.viewonly:
                if old not in (NO_VALUE, None):
                    _reverse_remove(reverse, old, obj)
                if value is not None:
                    _reverse_add(reverse, value, obj)
        if old not in (NO_VALUE, None) and "delete-orphan" in prop.cascade:
            _expunge_pending_orphan(obj, old)
        if value is not None and "save-update" in prop.cascade:
            _cascade_into_session(state, value)

    def _set_collection(self, obj: Any, value: Any) -> None:
        prop = self.prop
        d = obj.__dict__
        state = d.get(STATE_ATTR) or instance_state(obj)
        if value is None:
            raise TypeError(f"{prop} is a collection; assign a list/set (possibly empty), not None")
        new_items = list(value.values()) if isinstance(value, dict) else list(value)
        current = (
            self.load(obj)
            if (state.key is not None and state.session is not None)
            else d.get(self.key)
        )
        old_items = members(current) if current is not None else []
        self.before_change(obj, current)
        coll = new_collection(prop._collection_cls, obj, self)  # type: ignore[arg-type]
        d[self.key] = coll
        new_ids = {id(n) for n in new_items}
        old_ids = {id(o) for o in old_items}
        for item in old_items:
            if id(item) not in new_ids:
                self.fire_remove(obj, item)
        for item in new_items:
            if id(item) not in old_ids:
                item = self.fire_append(obj, item)
            coll._append_quiet(item)

    def before_change(self, obj: Any, coll: Any) -> None:
        """A collection is about to change: remember its members as loaded."""
        state = obj.__dict__.get(STATE_ATTR) or instance_state(obj)
        if state.key is not None and (state.committed is None or self.key not in state.committed):
            self._track(obj, state, list(members(coll)) if coll is not None else [])

    def fire_append(self, obj: Any, item: Any) -> Any:
        for fn, _ in self.collection_validators:
            item = fn(obj, self.key, item)
        for fn in self.append_listeners:
            ret = fn(obj, item, self)
            if getattr(fn, "_retval", False) and ret is not None:
                item = ret
        prop = self.prop
        reverse = prop._reverse
        if reverse is not None and not prop.viewonly:
            _reverse_add(reverse, item, obj)
        if "save-update" in prop.cascade:
            _cascade_into_session(obj.__dict__.get(STATE_ATTR) or instance_state(obj), item)
        return item

    def fire_remove(self, obj: Any, item: Any) -> None:
        for fn, include_removes in self.collection_validators:
            if include_removes:
                fn(obj, self.key, item, True)
        for fn in self.remove_listeners:
            fn(obj, item, self)
        prop = self.prop
        reverse = prop._reverse
        if reverse is not None and not prop.viewonly:
            _reverse_remove(reverse, item, obj)
        if "delete-orphan" in prop.cascade:
            _expunge_pending_orphan(obj, item)


def _expunge_pending_orphan(obj: Any, item: Any) -> None:
    """A pending object removed from its delete-orphan parent is never inserted."""
    if item is None:
        return
    istate = item.__dict__.get(STATE_ATTR)
    if istate is None or istate.key is not None:
        return
    session = istate.session
    if session is not None and session._owns(istate):
        session.expunge(item)


def _impl_of(prop: RelationshipProperty, obj: Any) -> RelationshipImpl:
    return type(obj)._sa_impls[prop.key]  # type: ignore[no-any-return]


def _reverse_add(reverse: RelationshipProperty, target: Any, obj: Any) -> None:
    """``obj`` was linked to ``target``: make ``target``'s side of the pair say so."""
    td = target.__dict__
    impl = _impl_of(reverse, target)
    tstate = td.get(STATE_ATTR) or instance_state(target)
    if reverse.uselist:
        coll = td.get(reverse.key)
        if coll is None:
            if tstate.key is not None:
                return  # not loaded: it will load with the link once flushed
            coll = td[reverse.key] = new_collection(reverse._collection_cls, target, impl)  # type: ignore[arg-type]
        if any(m is obj for m in members(coll)):
            return
        impl.before_change(target, coll)
        coll._append_quiet(obj)
    else:
        old = td.get(reverse.key, NO_VALUE)
        if old is obj:
            return
        impl._track(target, tstate, old)
        td[reverse.key] = obj
        if old not in (NO_VALUE, None) and reverse._reverse is not None:
            # target moved away from its previous partner
            _reverse_remove(reverse._reverse, old, target)


def _reverse_remove(reverse: RelationshipProperty, target: Any, obj: Any) -> None:
    td = target.__dict__
    impl = _impl_of(reverse, target)
    if reverse.uselist:
        coll = td.get(reverse.key)
        if coll is None or not any(m is obj for m in members(coll)):
            return
        impl.before_change(target, coll)
        coll._remove_quiet(obj)
    else:
        if td.get(reverse.key) is obj:
            tstate = td.get(STATE_ATTR) or instance_state(target)
            impl._track(target, tstate, obj)
            td[reverse.key] = None


def _cascade_into_session(state: InstanceState, item: Any) -> None:
    ref = state.session_ref
    session = ref() if ref is not None else None
    if session is None or not session._holds(state):
        return
    istate = item.__dict__.get(STATE_ATTR) or instance_state(item)
    if not session._owns(istate) and istate.session is None:
        session.add(item)


def _raise_on_load(prop: RelationshipProperty, obj: Any, strategy: str) -> None:
    how = "lazy='raise_on_sql'" if strategy == "raise_on_sql" else "lazy='raise'"
    name = f"{type(obj).__name__}.{prop.key}"
    fix = f"selectinload({prop})" if prop.uselist else f"joinedload({prop})"
    alt = f"joinedload({prop})" if prop.uselist else f"selectinload({prop})"
    raise exc.InvalidRequestError(
        f"'{name}' is not available due to {how}: the relationship is set to raise "
        f"instead of loading lazily (raiseload() option or lazy= setting). Load it with "
        f"the query: .options({fix}) (or {alt})"
    )


class RelationshipAttribute(QueryableAttribute):
    """``User.addresses``: joins, ``any()``/``has()``, comparisons, ``of_type()``."""

    def __clause_element__(self) -> Any:
        return self.prop.primaryjoin

    def _sa_join_target(self) -> tuple[Any, ...]:
        prop = self.prop
        on, via = prop._join_parts()
        return (prop.mapper, on) if via is None else (prop.mapper, on, via)

    @property
    def entity(self) -> Any:
        self.prop.parent._check_configure()
        return self.prop.mapper

    def any(self, criterion: Any = None, **kw: Any) -> Any:
        return self.prop._any(self, criterion, **kw)

    def has(self, criterion: Any = None, **kw: Any) -> Any:
        return self.prop._any(self, criterion, **kw)

    def __eq__(self, other: Any) -> Any:
        return self.prop._compare(self, other)

    def __ne__(self, other: Any) -> Any:
        return self.prop._compare(self, other, negate=True)

    def contains(self, other: Any, **kw: Any) -> Any:
        return self.prop._contains(self, other)

    __hash__ = object.__hash__

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"Relationship attribute {self.class_.__name__}.{self.key} has no attribute "
            f"'{name}'; use .any()/.has()/.contains() or join to "
            f"{getattr(self.prop, 'mapper', None) and self.prop.mapper.class_.__name__}"
        )


def relationship(argument: Any = None, secondary: Any = None, **kw: Any) -> Any:
    """A relationship to another mapped class (see :class:`RelationshipProperty`)."""
    return RelationshipProperty(argument, secondary, **kw)


Relationship = RelationshipProperty
seal(RelationshipAttribute)  # see hermetic._util.cpython


def _unused(*a: Iterable[Any]) -> None:
    return None
