"""The flush executor: turns the session's pending, modified and deleted objects into
:class:`~hermetic.orm.unitofwork.Change` records, asks the pure planner for the
ordered batches, runs them, and only when every statement succeeded updates the
objects' states. If a statement fails, the values it wrote into objects (generated
keys, defaults) are taken back, so the objects look as they did before the flush.

Batching:

* rows whose keys are known go out as one executemany per batch;
* rows whose integer key the database generates go out as multi-row
  ``INSERT ... VALUES (...), (...) RETURNING id`` (SQLite 3.35+, PostgreSQL), in chunks.
  The generated keys are matched to rows by sorting them: both databases number a
  statement's rows in the order of its VALUES list (SQLite takes max(rowid)+1 per row
  under the write lock; PostgreSQL calls nextval() per row in order), so the k-th
  smallest key belongs to the k-th row. Other generated keys (UUIDs from a server
  default) are matched by RETURNING order on PostgreSQL and inserted one row at a time
  elsewhere.
"""

from __future__ import annotations

import inspect as _inspect
import itertools
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic._util import gcpause
from hermetic.orm import exc as orm_exc
from hermetic.orm.mapper import Mapper
from hermetic.orm.state import NO_VALUE, InstanceState
from hermetic.orm.unitofwork import Batch, Change, plan_flush
from hermetic.sql import sqltypes
from hermetic.sql.base import ClauseElement
from hermetic.sql.dml import delete, insert, update
from hermetic.sql.elements import BindParameter, and_, bindparam
from hermetic.sql.schema import Column, Table

if TYPE_CHECKING:
    from hermetic.engine.base import Connection
    from hermetic.orm.session import Session

# Rows per multi-row INSERT: up to 1000, and up to 3000 bound parameters (SQLite allows
# 32766; PostgreSQL 65535). Each statement shape is kept compiled (see _multirow_insert),
# about 0.6 KB per parameter: the cap keeps one shape near 2 MB.
_CHUNK_PARAMS = 3000
_CHUNK_ROWS = 1000
# compiled multi-row INSERT shapes kept: up to this many parameters in all (~35 MB),
# the least recently used dropped first
_MULTIROW_KEPT_PARAMS = 60000


class LateValue:
    """A value known only after an earlier batch ran: read when its batch runs."""

    __slots__ = ()
    state: InstanceState | None = None  # the object it comes from, if another one

    def resolve(self, own: dict[str, Any]) -> Any:
        raise NotImplementedError


class _Late(LateValue):
    """The object's own attribute, set by an earlier batch (the primary key of a
    joined-inheritance child row, copied from its parent row)."""

    __slots__ = ("attr",)

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def resolve(self, own: dict[str, Any]) -> Any:
        return own.get(self.attr)


class LateRef(LateValue):
    """Another object's attribute (a foreign key to a row inserted in the same flush)."""

    __slots__ = ("attr", "obj", "state")

    def __init__(self, state: InstanceState, obj: Any, attr: str) -> None:
        self.state = state
        self.obj = obj
        self.attr = attr

    def resolve(self, own: dict[str, Any]) -> Any:
        value = self.obj.__dict__.get(self.attr)
        return value.resolve(self.obj.__dict__) if isinstance(value, LateValue) else value

    def __repr__(self) -> str:
        return f"<pending value of {type(self.obj).__name__}.{self.attr}>"


class _DefaultContext:
    """What a callable column default receives when it takes an argument."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.current_parameters = params

    @classmethod
    def for_row(
        cls, table: Table, d: dict[str, Any], col_to_key: dict[Any, str], values: dict[str, Any]
    ) -> _DefaultContext:
        """The row's parameters: every value given on the object (columns after this
        one too) and the defaults computed so far."""
        params = {}
        for col in table.c:
            key = col_to_key.get(col)
            if key is not None and key in d and not isinstance(d[key], LateValue):
                params[col.key] = d[key]
        params.update(values)
        return cls(params)

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self.current_parameters


_arity_cache: dict[Any, bool] = {}


def _call_default(fn: Callable[..., Any], params: Any) -> Any:
    """Call a Python default; ``params``: the row's values, or a function making the
    :class:`_DefaultContext` (built only for defaults that take one)."""
    takes_ctx = _arity_cache.get(fn)
    if takes_ctx is None:
        try:
            sig = _inspect.signature(fn)
            takes_ctx = any(
                p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                for p in sig.parameters.values()
            )
        except (TypeError, ValueError):
            takes_ctx = False
        _arity_cache[fn] = takes_ctx
    if not takes_ctx:
        return fn()
    return fn(params() if callable(params) else _DefaultContext(params))


def _generated_key(col: Column) -> bool:
    """True when the database makes up this primary-key column's value."""
    from hermetic.sql.ddl import _is_autoincrement

    return _is_autoincrement(col) or col.server_default is not None or _has_identity(col)


def _has_identity(col: Column) -> bool:
    return getattr(col, "identity", None) is not None


def _int_key(col: Column) -> bool:
    return issubclass(col.type._type_affinity, sqltypes.Integer)


class _FlushContext:
    def __init__(self, session: Session, conn: Connection) -> None:
        self.session = session
        self.conn = conn
        self.undo: list[tuple[dict[str, Any], str, Any]] = []
        self.expire_after: list[tuple[InstanceState, Any, str]] = []
        dialect = conn.dialect
        self.multirow_returning = bool(getattr(dialect, "supports_multirow_returning", True))
        self.returning_ordered = bool(getattr(dialect, "returning_preserves_order", False))
        self.supports_returning = bool(getattr(dialect, "supports_returning", False))
        self._generated: dict[Any, bool] = {}
        self._columns: dict[tuple[Any, Any], list[tuple[Any, ...]]] = {}

    def insert_columns(self, mapper: Mapper, table: Table) -> list[tuple[Any, ...]]:
        """(column, attribute, column key, primary key?, default, server default) of
        ``table``'s mapped columns, in table order: found once per flush (building a
        row's values runs this loop per new object)."""
        found = self._columns.get((mapper, table))
        if found is None:
            col_to_key = mapper._col_to_key
            found = [
                (c, col_to_key[c], c.key, c.primary_key, c.default, c.server_default)
                for c in table.c
                if col_to_key.get(c) is not None
            ]
            self._columns[(mapper, table)] = found
        return found

    def generated_key(self, col: Column) -> bool:
        """:func:`_generated_key`, once per column and flush (it runs per new row)."""
        found = self._generated.get(col)
        if found is None:
            found = self._generated[col] = _generated_key(col)
        return found

    def set_value(self, d: dict[str, Any], key: str, value: Any) -> None:
        self.undo.append((d, key, d.get(key, NO_VALUE)))
        d[key] = value

    def rollback_values(self) -> None:
        for d, key, old in reversed(self.undo):
            if old is NO_VALUE:
                d.pop(key, None)
            else:
                d[key] = old


# -- building changes ------------------------------------------------------------------


def _insert_changes(ctx: _FlushContext, state: InstanceState, obj: Any, out: list[Change]) -> None:
    mapper = state.mapper
    d = obj.__dict__
    # discriminator and version counter
    pkey = mapper._polymorphic_key
    if mapper.polymorphic_identity is not None and pkey is not None and d.get(pkey) is None:
        ctx.set_value(d, pkey, mapper.polymorphic_identity)
    vkey = mapper.version_id_key
    if vkey is not None and d.get(vkey) is None:
        gen = mapper.version_id_generator
        ctx.set_value(d, vkey, gen(None) if callable(gen) else 1)
    col_to_key = mapper._col_to_key
    first_table = True
    # server defaults come back in the INSERT's RETURNING (eager_defaults="auto") when the
    # rows can be matched to their objects: by a generated key, or RETURNING order
    eager = mapper.eager_defaults is not False and ctx.supports_returning
    for table in mapper.tables:
        values: dict[str, Any] = {}
        returning: list[str] = []
        server: list[str] = []
        for col, key, ckey, is_pk, default, server_default in ctx.insert_columns(mapper, table):
            if key in d:
                value = d[key]
                if value is None and is_pk:
                    if first_table and ctx.generated_key(col):
                        returning.append(ckey)
                        continue
                    if not first_table:
                        values[ckey] = _Late(key)
                        continue
                values[ckey] = value
                continue
            if is_pk and not first_table:
                values[ckey] = _Late(key)
                continue
            if default is not None and not default.is_clause_element:
                value = (
                    _call_default(
                        default.arg,
                        lambda t=table, v=values: _DefaultContext.for_row(t, d, col_to_key, v),
                    )
                    if default.is_callable
                    else default.arg
                )
                ctx.set_value(d, key, value)
                values[ckey] = value
                continue
            if is_pk and ctx.generated_key(col):
                returning.append(ckey)
                continue
            if default is not None and default.is_clause_element:
                values[ckey] = default.arg
                ctx.expire_after.append((state, obj, key))
                continue
            if server_default is not None:
                if eager and first_table:
                    server.append(ckey)
                continue
        if server and (returning or ctx.returning_ordered):
            returning.extend(server)  # after the generated key, which sorts the rows
        plain = True
        for k, v in values.items():
            if isinstance(v, ClauseElement):
                if not isinstance(v, BindParameter):
                    ctx.expire_after.append((state, obj, col_to_key[table.c[k]]))
                    plain = False
            elif isinstance(v, LateValue):
                plain = False
        change = Change(table, values, owner=(state, obj), returning=tuple(returning))
        change.ident = state
        change.plain = plain
        if not plain:
            for v in values.values():
                if isinstance(v, LateValue) and v.state is not None:
                    change.depends_on = v.state
        out.append(change)
        first_table = False


def _changed_values(state: InstanceState, d: dict[str, Any]) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    committed = state.committed
    if not committed:
        return changed
    for key, old in committed.items():
        new = d.get(key, NO_VALUE)
        if new is NO_VALUE:
            continue
        if old is not NO_VALUE and (old is new or _equal(old, new)):
            continue
        changed[key] = new
    return changed


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:
        return False


def _update_changes(ctx: _FlushContext, state: InstanceState, obj: Any, out: list[Change]) -> None:
    mapper = state.mapper
    d = obj.__dict__
    changed = _changed_values(state, d)
    vkey = mapper.version_id_key
    if not changed:
        return
    assert state.key is not None
    pk_values = state.key[1]
    col_to_key = mapper._col_to_key
    version_where: tuple[Any, Any] | None = None
    if vkey is not None:
        committed = state.committed or {}
        old_version = committed.get(vkey, d.get(vkey))
        if vkey not in changed:
            gen = mapper.version_id_generator
            new_version = gen(old_version) if callable(gen) else (old_version or 0) + 1
            ctx.set_value(d, vkey, new_version)
            changed[vkey] = new_version
        version_where = (mapper.version_id_col.key, old_version)  # type: ignore[union-attr]
    for table in mapper.tables:
        values: dict[str, Any] = {}
        for col in table.c:
            key = col_to_key.get(col)
            if key is not None and key in changed:
                values[col.key] = changed[key]
        if not values and (table is not mapper.tables[-1] or version_where is None):
            continue
        # onupdate defaults for columns not set explicitly
        for col in table.c:
            if col.onupdate is not None and col.key not in values:
                key = col_to_key.get(col)
                od = col.onupdate
                if od.is_clause_element:
                    values[col.key] = od.arg
                    if key is not None:
                        ctx.expire_after.append((state, obj, key))
                else:
                    value = _call_default(od.arg, values) if od.is_callable else od.arg
                    values[col.key] = value
                    if key is not None:
                        ctx.set_value(d, key, value)
        if not values:
            continue
        pk = {c.key: pk_values[i] for i, c in enumerate(mapper.primary_key)}
        if table is not mapper.tables[0]:
            pk = {
                tc.key: pk_values[i]
                for i, c in enumerate(mapper.primary_key)
                for tc in table.primary_key
                if col_to_key.get(tc) == mapper._pk_keys[i]
            }
        vw = version_where if version_where is not None and version_where[0] in table.c else None
        for k, v in values.items():
            if isinstance(v, ClauseElement) and not isinstance(v, BindParameter):
                ctx.expire_after.append((state, obj, col_to_key[table.c[k]]))
        out.append(Change(table, values, owner=(state, obj), pk=pk, version=vw))


def _delete_changes(state: InstanceState, obj: Any, out: list[Change]) -> None:
    mapper = state.mapper
    assert state.key is not None
    pk_values = state.key[1]
    d = obj.__dict__
    vkey = mapper.version_id_key
    for table in reversed(mapper.tables):
        pk = {
            tc.key: pk_values[i]
            for i, c in enumerate(mapper.primary_key)
            for tc in table.primary_key
            if mapper._col_to_key.get(tc) == mapper._pk_keys[i]
        }
        version = None
        if (
            vkey is not None
            and mapper.version_id_col is not None
            and mapper.version_id_col.key in table.c
        ):
            committed = state.committed or {}
            version = (mapper.version_id_col.key, committed.get(vkey, d.get(vkey)))
        out.append(Change(table, {}, owner=(state, obj), pk=pk, version=version))


# -- running batches -----------------------------------------------------------------


def _resolve(ctx: _FlushContext, change: Change) -> dict[str, Any]:
    values = change.values
    if not any(isinstance(v, LateValue) for v in values.values()):
        return values
    d = change.owner[1].__dict__
    return {k: (v.resolve(d) if isinstance(v, LateValue) else v) for k, v in values.items()}


def _has_sql(values: dict[str, Any]) -> bool:
    return any(
        isinstance(v, ClauseElement) and not isinstance(v, BindParameter) for v in values.values()
    )


_stmt_cache: dict[tuple[Any, ...], Any] = {}


def _update_stmt(table: Table, keys: tuple[str, ...], where_keys: tuple[str, ...]) -> Any:
    ck = ("u", table, keys, where_keys)
    stmt = _stmt_cache.get(ck)
    if stmt is None:
        stmt = (
            update(table)
            .where(
                and_(
                    *[table.c[k] == bindparam(f"w_{k}", type_=table.c[k].type) for k in where_keys]
                )
            )
            .values({table.c[k]: bindparam(f"v_{k}", type_=table.c[k].type) for k in keys})
        )
        _stmt_cache[ck] = stmt
    return stmt


def _delete_stmt(table: Table, where_keys: tuple[str, ...]) -> Any:
    ck = ("d", table, where_keys)
    stmt = _stmt_cache.get(ck)
    if stmt is None:
        stmt = delete(table).where(
            and_(*[table.c[k] == bindparam(f"w_{k}", type_=table.c[k].type) for k in where_keys])
        )
        _stmt_cache[ck] = stmt
    return stmt


def _insert_stmt(table: Table) -> Any:
    ck = ("i", table)
    stmt = _stmt_cache.get(ck)
    if stmt is None:
        stmt = _stmt_cache[ck] = insert(table)
    return stmt


def _run_insert(ctx: _FlushContext, batch: Batch) -> None:
    conn = ctx.conn
    table = batch.table
    rows = [c.values if c.plain else _resolve(ctx, c) for c in batch.changes]
    if not batch.returning:
        plain = [r for r in rows if not _has_sql(r)]
        if len(plain) == len(rows):
            conn.execute(_insert_stmt(table), rows)
        else:
            for r in rows:
                conn.execute(insert(table).values(r))
        return
    ret_cols: list[Any] = [table.c[k] for k in batch.returning]
    # rows matched by sorting on a generated integer key (returned first)
    sorted_keys = (
        ret_cols[0].primary_key
        and sum(1 for c in ret_cols if c.primary_key) == 1
        and _int_key(ret_cols[0])
        and _generated_key(ret_cols[0])
    )
    batchable = (
        len(rows) > 1
        and ctx.multirow_returning
        and (sorted_keys or ctx.returning_ordered)
        and not any(not c.plain and _has_sql(r) for c, r in zip(batch.changes, rows, strict=True))
        and bool(batch.keys)
    )
    if batchable:
        keys = batch.keys
        per = max(1, min(_CHUNK_ROWS, _CHUNK_PARAMS // max(1, len(keys))))
        n = len(rows)
        i = 0
        while i < n:
            size = _chunk_size(n - i, per)
            chunk = rows[i : i + size]
            changes = batch.changes[i : i + size]
            stmt, names = _multirow_insert(table, keys, size, batch.returning)
            result = conn.execute(stmt, _flat_params(names, keys, chunk)).all()
            if len(result) != len(chunk):
                raise orm_exc.FlushError(
                    f"INSERT into '{table.name}' returned {len(result)} rows for {len(chunk)}"
                )
            if sorted_keys:
                result = sorted(result, key=_first)
            _assign_all_returned(ctx, changes, batch.returning, result)
            i += size
        return
    for change, r in zip(batch.changes, rows, strict=False):
        if r and batch.keys and not _has_sql(r):
            stmt, names = _multirow_insert(table, batch.keys, 1, batch.returning)
            result_row = conn.execute(stmt, _flat_params(names, batch.keys, [r])).first()
            if result_row is None:
                raise orm_exc.FlushError(
                    f"INSERT into '{table.name}' returned no row for RETURNING; a trigger or "
                    "rule on the table may have suppressed it (give the primary key a value "
                    "in Python, or remove the rule)"
                )
            _assign_returned(ctx, change, batch.returning, result_row)
            continue
        stmt = insert(table).values(r) if r else insert(table)
        result_row = conn.execute(stmt.returning(*ret_cols)).first()
        if result_row is None:
            raise orm_exc.FlushError(
                f"INSERT into '{table.name}' returned no row for RETURNING; a trigger or "
                "rule on the table may have suppressed it (give the primary key a value "
                "in Python, or remove the rule)"
            )
        _assign_returned(ctx, change, batch.returning, result_row)


def _chunk_size(remaining: int, per: int) -> int:
    """Rows in the next multi-row INSERT: ``per`` while that many remain; then the
    remainder when small (a small flush is one statement), else its largest power of
    two, so that a table's statements come in few sizes (each is built and compiled
    once; see _multirow_insert)."""
    if remaining >= per:
        return per
    if remaining <= 64:
        return remaining
    return 1 << (remaining.bit_length() - 1)


def _multirow_insert(
    table: Table, keys: tuple[str, ...], nrows: int, returning: tuple[str, ...]
) -> tuple[Any, tuple[str, ...]]:
    """``INSERT INTO t (keys) VALUES (...) x nrows RETURNING ...`` with one named bound
    parameter per value (``r<row>_<column>``), and those names in row order. Built once
    per table, columns, row count and RETURNING: executing it again is a lookup of its
    compiled form (no statement to build or key per chunk), the values going through
    the columns' bind processors as for any statement."""
    global _multirow_params
    ck = (table, keys, nrows, returning)
    with _multirow_lock:  # sessions of several threads may flush at once
        found = _multirow_cache.get(ck)
        if found is not None:
            _multirow_cache.move_to_end(ck)
            return found
    # built outside the lock (two threads may each build a new shape once)
    cols = [table.c[k] for k in keys]
    names = tuple(f"r{j}_{i}" for j in range(nrows) for i in range(len(keys)))
    values = [
        {
            k: bindparam(f"r{j}_{i}", type_=c.type)
            for i, (k, c) in enumerate(zip(keys, cols, strict=True))
        }
        for j in range(nrows)
    ]
    stmt = insert(table).values(values).returning(*[table.c[k] for k in returning])
    found = (stmt, names)
    with _multirow_lock:
        if ck not in _multirow_cache:
            _multirow_cache[ck] = found
            _multirow_params += len(names)
            while _multirow_params > _MULTIROW_KEPT_PARAMS and len(_multirow_cache) > 1:
                _multirow_params -= len(_multirow_cache.popitem(last=False)[1][1])
    return found


_multirow_params = 0  # parameters of the shapes in _multirow_cache
_multirow_lock = threading.Lock()


_multirow_cache: OrderedDict[tuple[Any, ...], tuple[Any, tuple[str, ...]]] = OrderedDict()


def _flat_params(
    names: tuple[str, ...], keys: tuple[str, ...], rows: list[dict[str, Any]]
) -> dict[str, Any]:
    if len(keys) == 1:
        k = keys[0]
        return dict(zip(names, [r[k] for r in rows], strict=True))
    get = operator.itemgetter(*keys)
    return dict(zip(names, itertools.chain.from_iterable(map(get, rows)), strict=True))


_first = operator.itemgetter(0)


def _assign_all_returned(
    ctx: _FlushContext, changes: list[Change], keys: tuple[str, ...], rows: Any
) -> None:
    """:func:`_assign_returned` for a chunk: each row's values into its object (the
    previous values noted for a failed flush), the attribute names found per mapper."""
    undo = ctx.undo
    attrs_of: dict[Any, list[str | None]] = {}
    for change, row in zip(changes, rows, strict=True):
        state, obj = change.owner
        mapper = state.mapper
        attrs = attrs_of.get(mapper)
        if attrs is None:
            table = change.table
            attrs = attrs_of[mapper] = [mapper._col_to_key.get(table.c[k]) for k in keys]
        d = obj.__dict__
        for attr, value in zip(attrs, row, strict=False):
            if attr is not None:
                undo.append((d, attr, d.get(attr, NO_VALUE)))
                d[attr] = value


# -- new objects of one plain class: the common bulk case, without change records ----
#
# A flush holding only new objects of one class whose table needs nothing but the
# objects' own values (one table, an integer key the database generates, no column
# defaults, no relationships, version counter or discriminator) writes them here: each
# object's values are read in one call, the rows go out as the same multi-row INSERT ...
# RETURNING chunks as in _run_insert, and the generated keys are matched the same way.
# Anything else (an object with its key or an SQL expression set, a column left unset)
# makes _insert_plain decline before writing anything, and the general path runs.

_NOT_PLAIN = (ClauseElement, LateValue)


def _plain_shape(ctx: _FlushContext, mapper: Mapper) -> tuple[Any, ...] | None:
    """(table, key column, key attribute, attributes, column keys) when ``mapper``'s
    new objects can take the plain path, else None."""
    if (
        len(mapper.tables) != 1
        or mapper.polymorphic_on is not None
        or mapper.polymorphic_identity is not None
        or mapper.version_id_key is not None
        or mapper._has_relationships()
        or not (ctx.multirow_returning and ctx.supports_returning)
        or len(mapper.primary_key) != 1
    ):
        return None
    table = mapper.tables[0]
    pk_col = None
    attrs: list[str] = []
    ckeys: list[str] = []
    for col, key, ckey, is_pk, default, server_default in ctx.insert_columns(mapper, table):
        if is_pk:
            if pk_col is not None or default is not None:
                return None
            if not (_int_key(col) and ctx.generated_key(col)):
                return None
            pk_col = (col, key)
            continue
        if default is not None or server_default is not None:
            return None
        attrs.append(key)
        ckeys.append(ckey)
    if pk_col is None or not attrs or pk_col[0] is not mapper.primary_key[0]:
        return None
    return table, pk_col[0], pk_col[1], tuple(attrs), tuple(ckeys)


def _insert_plain(
    ctx: _FlushContext, new: list[tuple[InstanceState, Any]]
) -> list[tuple[Any, ...]] | None:
    """Write ``new`` on the plain path and return the objects' identities; None (and
    nothing done) when the path does not apply."""
    if len(new) < 2:
        return None
    mapper = new[0][0].mapper
    shape = _plain_shape(ctx, mapper)
    if shape is None:
        return None
    table, pk_col, pk_attr, attrs, ckeys = shape
    values_of = operator.itemgetter(*attrs)
    rows: list[Any] = []
    append = rows.append
    try:
        for state, obj in new:
            if state.mapper is not mapper:
                return None
            d = obj.__dict__
            if d.get(pk_attr) is not None:
                return None
            append(values_of(d))  # KeyError: an attribute never set (a default applies)
    except KeyError:
        return None
    width = len(attrs)
    flat = rows if width == 1 else list(itertools.chain.from_iterable(rows))
    # values only: no SQL expression, nothing known later (checked per class of value)
    if any(issubclass(t, _NOT_PLAIN) for t in set(map(type, flat))):
        return None
    idents: list[tuple[Any, ...]] = []
    conn = ctx.conn
    undo = ctx.undo
    per = max(1, min(_CHUNK_ROWS, _CHUNK_PARAMS // width))
    returning = (pk_col.key,)
    n = len(rows)
    i = 0
    while i < n:
        size = _chunk_size(n - i, per)
        stmt, names = _multirow_insert(table, ckeys, size, returning)
        params = dict(zip(names, flat[i * width : (i + size) * width], strict=True))
        keys = conn.execute(stmt, params).scalars().all()
        if len(keys) != size:
            raise orm_exc.FlushError(
                f"INSERT into '{table.name}' returned {len(keys)} rows for {size}"
            )
        keys = sorted(keys)  # the k-th smallest key is the k-th row's
        for (_state, obj), key in zip(new[i : i + size], keys, strict=True):
            if key is None:
                raise orm_exc.FlushError(
                    f"Instance {orm_exc.object_description(obj)} has a NULL identity key "
                    "after the INSERT"
                )
            d = obj.__dict__
            undo.append((d, pk_attr, d.get(pk_attr, NO_VALUE)))
            d[pk_attr] = key
            idents.append((key,))
        i += size
    return idents


def _assign_returned(ctx: _FlushContext, change: Change, keys: tuple[str, ...], row: Any) -> None:
    state, obj = change.owner
    mapper: Mapper = state.mapper
    d = obj.__dict__
    table = change.table
    for i, k in enumerate(keys):
        attr = mapper._col_to_key.get(table.c[k])
        if attr is not None:
            ctx.set_value(d, attr, row[i])


def _run_update(ctx: _FlushContext, batch: Batch) -> None:
    conn = ctx.conn
    table = batch.table
    rows = []
    for c in batch.changes:
        params = {f"v_{k}": v for k, v in _resolve(ctx, c).items()}
        for k, v in c.pk.items():
            params[f"w_{k}"] = v
        if c.version is not None:
            params[f"w_{c.version[0]}"] = c.version[1]
        rows.append(params)
    if any(_has_sql(c.values) for c in batch.changes):
        for c in batch.changes:
            criteria = [table.c[k] == v for k, v in c.pk.items()]
            if c.version is not None:
                criteria.append(table.c[c.version[0]] == c.version[1])
            result = conn.execute(update(table).where(and_(*criteria)).values(c.values))
            _check_count(table, "UPDATE", "update", 1, result.rowcount, c.version is not None, True)
        return
    stmt = _update_stmt(table, batch.keys, batch.where_keys)
    if len(rows) > 1 and not getattr(conn.dialect, "supports_sane_multi_rowcount", True):
        matched = 0
        for r in rows:
            matched += max(0, conn.execute(stmt, r).rowcount)
    else:
        matched = conn.execute(stmt, rows if len(rows) > 1 else rows[0]).rowcount
    _check_count(
        table, "UPDATE", "update", len(rows), matched, bool(batch.changes[0].version), True
    )


def _run_delete(ctx: _FlushContext, batch: Batch) -> None:
    conn = ctx.conn
    table = batch.table
    rows = []
    for c in batch.changes:
        params = {f"w_{k}": v for k, v in c.pk.items()}
        if c.version is not None:
            params[f"w_{c.version[0]}"] = c.version[1]
        rows.append(params)
    stmt = _delete_stmt(table, batch.where_keys)
    if len(rows) > 1 and not getattr(conn.dialect, "supports_sane_multi_rowcount", True):
        matched = sum(max(0, conn.execute(stmt, r).rowcount) for r in rows)
    else:
        matched = conn.execute(stmt, rows if len(rows) > 1 else rows[0]).rowcount
    versioned = batch.changes[0].version is not None
    _check_count(table, "DELETE", "delete", len(rows), matched, versioned, versioned)


def _check_count(
    table: Table, verb: str, word: str, expected: int, matched: int, versioned: bool, strict: bool
) -> None:
    if matched < 0 or matched == expected:
        return
    message = (
        f"{verb} statement on table '{table.name}' expected to {word} {expected} row(s); "
        f"{matched} were matched. "
        + (
            "The row's version changed or it was deleted by another transaction since it was "
            "loaded (version_id_col): reload the object (session.refresh) and retry"
            if versioned
            else "The row was deleted or its key changed by someone else since it was loaded; "
            "reload the object (session.refresh) before changing it"
        )
    )
    if strict:
        raise orm_exc.StaleDataError(message)
    import warnings

    warnings.warn(message, exc.HermeticWarning, stacklevel=4)


# -- the flush ------------------------------------------------------------------------

# A flush of many objects allocates a few tracked containers per object (change records,
# parameter rows, identity keys) while those objects are alive: with the garbage
# collector on, that sets off full collections over the growing heap again and again.
# The records form no reference cycles, so from this many objects up the collector is
# paused for the flush and its bookkeeping (as the Core pauses it to build rows).


def flush(
    session: Session,
    new: list[tuple[InstanceState, Any]],
    modified: list[tuple[InstanceState, Any]],
    deleted: list[tuple[InstanceState, Any]],
    conn: Connection,
) -> Callable[[], None]:
    """Write the changes; return the bookkeeping to apply once the flush transaction
    holds (the caller runs it, or on failure calls nothing: values are restored here)."""
    if len(new) + len(modified) + len(deleted) < gcpause.MIN_OBJECTS:
        return _flush(session, new, modified, deleted, conn)
    with gcpause.paused():
        finish = _flush(session, new, modified, deleted, conn)

    def finish_gc_paused() -> None:
        with gcpause.paused():
            finish()

    return finish_gc_paused


def _flush(
    session: Session,
    new: list[tuple[InstanceState, Any]],
    modified: list[tuple[InstanceState, Any]],
    deleted: list[tuple[InstanceState, Any]],
    conn: Connection,
) -> Callable[[], None]:
    ctx = _FlushContext(session, conn)
    inserts: list[Change] = []
    updates: list[Change] = []
    deletes: list[Change] = []
    modified = [(s, o) for s, o in modified if s.key is not None and not s.deleted_flushed]
    try:
        _fire("before_insert", new, conn)
        _fire("before_update", modified, conn)
        _fire("before_delete", deleted, conn)
        plain = None if modified or deleted else _insert_plain(ctx, new)
        if plain is None:
            for state, obj in new:
                _insert_changes(ctx, state, obj, inserts)
            for state, obj in modified:
                _update_changes(ctx, state, obj, updates)
            for state, obj in deleted:
                _delete_changes(state, obj, deletes)
            _link_dependencies(inserts)
            for batch in plan_flush(inserts, updates, deletes):
                if batch.kind == "insert":
                    _run_insert(ctx, batch)
                elif batch.kind == "update":
                    _run_update(ctx, batch)
                else:
                    _run_delete(ctx, batch)
        idents = plain if plain is not None else [_identity_after_insert(s, o) for s, o in new]
        _fire("after_insert", new, conn)
        _fire("after_update", modified, conn)
        _fire("after_delete", deleted, conn)
    except BaseException:
        ctx.rollback_values()
        raise

    def finish() -> None:
        session._register_persistent_all(
            (state, obj, (state.mapper.identity_class, ident, None))
            for (state, obj), ident in zip(new, idents, strict=True)
        )
        for state, obj in modified:
            state.committed = None
            state.modified = False
            session._modified.pop(state, None)
            ikey = state.key
            if ikey is not None:  # a changed primary key moves the object in the map
                d = obj.__dict__
                ident = tuple(
                    d.get(k, old) for k, old in zip(state.mapper._pk_keys, ikey[1], strict=False)
                )
                if ident != ikey[1]:
                    session.identity_map._discard(ikey, state)
                    state.key = (ikey[0], ident, ikey[2])
                    session.identity_map._add(state.key, state)
        for state, obj in deleted:
            session._register_deleted(state, obj)
        for _, obj, key in ctx.expire_after:
            obj.__dict__.pop(key, None)

    return finish


def _identity_after_insert(state: InstanceState, obj: Any) -> tuple[Any, ...]:
    """The new object's primary key, checked: a NULL key fails the flush (inside it, so
    the transaction is rolled back like for any other failed statement)."""
    mapper = state.mapper
    d = obj.__dict__
    pk_keys = mapper._pk_keys
    if len(pk_keys) == 1:
        value = d.get(pk_keys[0])
        if value is not None:
            return (value,)
    ident = tuple(d.get(k) for k in pk_keys)
    if (any(v is None for v in ident) and not mapper.allow_partial_pks) or all(
        v is None for v in ident
    ):
        raise orm_exc.FlushError(
            f"Instance {orm_exc.object_description(obj)} has a NULL identity key after "
            "the INSERT; check that the primary key column is autoincrementing or "
            "give the object a primary key value before flushing"
        )
    return ident


def _fire(name: str, items: list[tuple[InstanceState, Any]], conn: Connection) -> None:
    """Mapper events (``before_insert(mapper, connection, target)``, ...)."""
    if not items:
        return
    from hermetic.orm.events import mapper_listeners

    last: Any = None  # objects mostly come in runs of one class
    listeners: list[Any] = []
    for state, obj in items:
        mapper = state.mapper
        if mapper is not last:
            last = mapper
            listeners = mapper_listeners(mapper, name)
        if listeners:
            for fn in listeners:
                fn(mapper, conn, obj)


def _link_dependencies(inserts: list[Change]) -> None:
    """Rows of one table referring to other new rows of the same table (trees built with
    explicit keys are already ordered by the user; relationships set depends_on)."""
    return None
