"""ORM-enabled INSERT / UPDATE / DELETE statements (``update(User)``, ...).

* ``session.execute(update(User).where(...).values(...))`` keeps the identity map true
  (``synchronize_session``): with ``"auto"``, ``"fetch"`` or ``"evaluate"`` the
  statement gets ``RETURNING`` of the primary key, and the objects of the matched rows
  that are in the identity map get the new values (literal values are set, SQL
  expressions expire the attribute so it reloads); ``False`` leaves objects alone.
  (SQLAlchemy's "evaluate" runs the WHERE clause in Python over the identity map;
  asking the database which rows matched gives the same answer for every criterion,
  including ones Python cannot evaluate, for one round trip.)
* ``session.execute(update(User), [{"id": 1, "name": ...}, ...])`` is a bulk UPDATE by
  primary key (executemany).
* ``session.execute(insert(User), [dicts])`` inserts rows (attribute names as keys);
  with ``.returning(User)`` it returns the new objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic.orm.mapper import Mapper
from hermetic.orm.state import NO_VALUE
from hermetic.sql.base import ClauseElement
from hermetic.sql.elements import BindParameter, and_, bindparam

if TYPE_CHECKING:
    from hermetic.orm.session import Session


def _mapper(stmt: Any) -> Mapper | None:
    entity = stmt.__dict__.get("_orm_entity")
    if entity is None:
        return None
    m = getattr(entity, "__mapper__", None)
    return m if isinstance(m, Mapper) else None


def _to_columns(mapper: Mapper, row: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute-keyed values -> column-keyed values of the mapper's table."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        prop = mapper._props.get(key) if isinstance(key, str) else None
        if prop is not None and prop._is_column:
            out[prop.columns[0].key] = value  # type: ignore[attr-defined]
        elif isinstance(key, str):
            if key in mapper.local_table.c:
                out[key] = value
            else:
                raise exc.InvalidRequestError(
                    f"'{key}' is not a mapped attribute or column of {mapper.class_.__name__}"
                )
        else:
            out[key] = value
    return out


def execute_orm_dml(session: Session, stmt: Any, params: Any, opts: dict[str, Any]) -> Any:
    mapper = _mapper(stmt)
    if mapper is None:
        return None
    kind = type(stmt).__name__
    conn = session._conn(mapper)
    if kind == "Insert":
        return _insert(session, conn, mapper, stmt, params, opts)
    if kind == "Update":
        if isinstance(params, (list, tuple)) and params and not stmt._where:
            return _bulk_update_by_pk(session, conn, mapper, params)
        return _criteria_dml(session, conn, mapper, stmt, params, opts, delete=False)
    if kind == "Delete":
        return _criteria_dml(session, conn, mapper, stmt, params, opts, delete=True)
    return None


def _insert(
    session: Session, conn: Any, mapper: Mapper, stmt: Any, params: Any, opts: dict[str, Any]
) -> Any:
    if isinstance(params, (list, tuple)):
        rows = [_to_columns(mapper, p) for p in params]
    elif isinstance(params, Mapping):
        rows = [_to_columns(mapper, params)]
    else:
        rows = None
    if rows:
        _apply_python_defaults(mapper, rows)
    entity = stmt.__dict__.get("_returning_entity")
    if entity is None:
        if rows and len(rows) > 1 and stmt._returning:
            # RETURNING for many parameter sets: one row (or more) back per set, in order
            returned: list[tuple[Any, ...]] = []
            keys: list[str] = []
            for one in rows:
                part = conn.execute(stmt, one)
                keys = list(part.keys())
                returned.extend(tuple(x) for x in part.all())
            from hermetic.engine.result import IteratorResult
            from hermetic.engine.row import ResultMetaData

            return IteratorResult(ResultMetaData(keys), iter(returned))
        return conn.execute(stmt, rows if rows is None or len(rows) != 1 else rows[0])
    from hermetic.orm import loading
    from hermetic.sql.selectable import Select

    results = []
    run_rows = rows if rows else [None]
    for r in run_rows:
        results.extend(conn.execute(stmt, r).all())
    # build objects from the RETURNING rows via the select loader
    fake = Select([entity[0]])
    plan = loading.make_plan(fake, [f"c{i}" for i in range(len(fake._raw_columns))])
    del plan
    loader = loading._entity_loader(
        session,
        mapper,
        entity[1],
        entity[1] + len(fake._raw_columns),
        bool(opts.get("populate_existing")),
    )
    objs = [loader(row) for row in results]
    from hermetic.engine.result import IteratorResult
    from hermetic.engine.row import ResultMetaData

    return IteratorResult(ResultMetaData([mapper.class_.__name__]), iter([(o,) for o in objs]))


def _apply_python_defaults(mapper: Mapper, rows: list[dict[str, Any]]) -> None:
    """Fill the columns a row leaves out from their Python-side defaults (scalars and
    callables), as a flush would; SQL-expression defaults are left to the statement."""
    from hermetic.orm.persistence import _call_default

    defaults = [
        c for c in mapper.local_table.c if c.default is not None and not c.default.is_clause_element
    ]
    if not defaults:
        return
    for row in rows:
        for col in defaults:
            if col.key not in row:
                default = col.default
                row[col.key] = (
                    _call_default(default.arg, dict(row)) if default.is_callable else default.arg
                )


def _bulk_update_by_pk(session: Session, conn: Any, mapper: Mapper, params: Any) -> Any:
    table = mapper.local_table
    pk_keys = mapper._pk_keys
    rows = []
    set_keys: tuple[str, ...] | None = None
    for p in params:
        missing = [k for k in pk_keys if k not in p]
        if missing:
            raise exc.InvalidRequestError(
                f"Bulk UPDATE by primary key: each parameter dict needs the primary key "
                f"{list(pk_keys)}; missing {missing} in {dict(p)!r}"
            )
        cols = _to_columns(mapper, {k: v for k, v in p.items() if k not in pk_keys})
        keys = tuple(cols)
        if set_keys is None:
            set_keys = keys
        row = {f"v_{k}": v for k, v in cols.items()}
        for k in pk_keys:
            row[f"w_{mapper._props[k].columns[0].key}"] = p[k]  # type: ignore[attr-defined]
        rows.append((keys, row, p))
    from hermetic.sql.dml import update

    result = None
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for keys, row, _ in rows:
        groups.setdefault(keys, []).append(row)
    for keys, group in groups.items():
        stmt = (
            update(table)
            .where(and_(*[c == bindparam(f"w_{c.key}", type_=c.type) for c in mapper.primary_key]))
            .values({table.c[k]: bindparam(f"v_{k}", type_=table.c[k].type) for k in keys})
        )
        result = conn.execute(stmt, group)
    # keep loaded objects true
    for _keys, _row, p in rows:
        key = (mapper.identity_class, tuple(p[k] for k in pk_keys), None)
        state = session.identity_map._get_state(key)
        if state is not None:
            obj = state()
            if obj is not None:
                for k, v in p.items():
                    if k not in pk_keys and k in mapper._props:
                        obj.__dict__[k] = v
    return result


def _criteria_dml(
    session: Session,
    conn: Any,
    mapper: Mapper,
    stmt: Any,
    params: Any,
    opts: dict[str, Any],
    delete: bool,
) -> Any:
    sync = opts.get("synchronize_session", "auto")
    if sync not in ("auto", "fetch", "evaluate", False, None):
        raise exc.ArgumentError(
            f"synchronize_session must be 'auto', 'fetch', 'evaluate' or False, got {sync!r}"
        )
    if not sync or not conn.dialect.supports_returning:
        result = conn.execute(stmt, params)
        if sync and not delete:
            _expire_class(session, mapper, stmt)
        return result
    user_returning = list(stmt._returning)
    pk_cols = list(mapper.primary_key)
    run = stmt.returning(*pk_cols)
    result = conn.execute(run, params)
    rows = result.all()
    n_user = len(user_returning)
    matched = [tuple(r[n_user : n_user + len(pk_cols)]) for r in rows]
    values = _set_values(mapper, stmt) if not delete else {}
    for ident in matched:
        key = (mapper.identity_class, ident, None)
        state = session.identity_map._get_state(key)
        if state is None:
            continue
        obj = state()
        if obj is None:
            continue
        if delete:
            session.identity_map._discard(key, state)
            state.deleted_flushed = True
            session._deleted_flushed[state] = obj
            t = session._transaction
            if t is not None:
                t._deleted[state] = obj
            session._modified.pop(state, None)
            continue
        d = obj.__dict__
        for attr, value in values.items():
            if isinstance(value, ClauseElement) and not isinstance(value, BindParameter):
                d.pop(attr, None)
            else:
                if isinstance(value, BindParameter):
                    value = value.effective_value
                if state.committed and attr in state.committed:
                    state.committed.pop(attr, None)
                if attr in d or value is not NO_VALUE:
                    d[attr] = value
    from hermetic.engine.result import IteratorResult
    from hermetic.engine.row import ResultMetaData

    out: Any
    if user_returning:
        keys = list(result.keys())[:n_user]
        out = IteratorResult(ResultMetaData(keys), iter([tuple(r[:n_user]) for r in rows]))
    else:
        out = _RowcountResult(len(rows))
    return out


class _RowcountResult:
    """The result of an ORM UPDATE/DELETE without RETURNING: ``rowcount``."""

    def __init__(self, rowcount: int) -> None:
        self.rowcount = rowcount
        self.returns_rows = False

    def close(self) -> None:
        pass

    def all(self) -> list[Any]:
        raise exc.ResourceClosedError(
            "This result object does not return rows (an ORM UPDATE/DELETE without "
            "RETURNING); read .rowcount, or add .returning(...) to the statement"
        )


def _set_values(mapper: Mapper, stmt: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    keys = getattr(stmt, "_value_keys", ()) or ()
    exprs = getattr(stmt, "_value_exprs", ()) or ()
    table = mapper.local_table
    for k, v in zip(keys, exprs, strict=False):
        col = table.c.get(k)
        attr = mapper._col_to_key.get(col) if col is not None else None
        if attr is not None:
            out[attr] = v
    return out


def _expire_class(session: Session, mapper: Mapper, stmt: Any) -> None:
    keys = list(_set_values(mapper, stmt))
    for state in session.identity_map.all_states():
        if state.mapper.isa(mapper):
            obj = state()
            if obj is not None:
                for k in keys:
                    obj.__dict__.pop(k, None)
