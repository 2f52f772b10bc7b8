"""The Inspector (``hermetic.inspect(engine_or_connection)``) and table reflection
(``Table(..., autoload_with=...)``, ``MetaData.reflect()``).

The dialect's reflector (``dialects/<db>/reflection.py``) owns the catalog SQL and the
parsing of its rows; this module runs its steps on a connection, caches what came back,
and turns it into ``Table`` objects. A batch of tables costs a handful of queries whatever
its size: ``MetaData.reflect()`` asks for every table of the schema at once and builds
each Table from that one answer.

As SQLAlchemy's, an Inspector caches what it has read until ``clear_cache()``; one made
on an Engine checks out a connection per operation (one for the whole of
``MetaData.reflect()``), one made on a Connection uses that connection, within its
transaction (so ``conn.run_sync(...)`` reflects on the async connection's own).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, TypeVar

from hermetic import exc
from hermetic.dialects.reflection import (
    PARTS,
    ObjectKind,
    ObjectScope,
    ReflectedTable,
    Reflector,
    Step,
)
from hermetic.sql import operators as ops
from hermetic.sql.elements import TextClause, UnaryExpression, literal_column
from hermetic.sql.schema import (
    CheckConstraint,
    Column,
    DefaultClause,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)

T = TypeVar("T")
_Key = tuple[str | None, str]
_Batch = dict[_Key, ReflectedTable]

_SORT_OPS = {"desc": ops.desc_op, "asc": ops.asc_op}
_NULLS_OPS = {"nulls_first": ops.nulls_first_op, "nulls_last": ops.nulls_last_op}


class _Cached:
    """What is known of one part of one (schema, kind, scope): tables by name, names
    known to be absent, and whether the whole schema has been read."""

    __slots__ = ("absent", "complete", "tables")

    def __init__(self) -> None:
        self.tables: dict[str, ReflectedTable] = {}
        self.absent: set[str] = set()
        self.complete = False


class Inspector:
    """Reads the schema of a database: table names, columns, keys, indexes, comments.

    Get one with ``hermetic.inspect(engine)`` or ``hermetic.inspect(connection)``."""

    _is_inspectable_self = True

    def __init__(self, bind: Any) -> None:
        reflector_for = getattr(bind.dialect, "reflector", None)
        if reflector_for is None:
            raise exc.NoInspectionAvailable(
                f"The {bind.dialect.name} dialect has no reflection support in hermetic yet"
            )
        self.bind = bind
        self.engine = bind.engine
        self.dialect = bind.dialect
        self.info_cache: dict[Any, Any] = {}
        self._reflector: Reflector = reflector_for()
        # a Connection is used as is; an Engine lends one per operation
        self._conn: Any = bind if hasattr(bind, "exec_driver_sql") else None
        self._owns_conn = self._conn is None

    @classmethod
    def from_engine(cls, bind: Any) -> Inspector:
        return cls(bind)

    def __repr__(self) -> str:
        return f"<Inspector {self.bind!r}>"

    def clear_cache(self) -> None:
        """Forget what was read; the next calls query the database again."""
        self.info_cache.clear()

    # -- running reflector steps -----------------------------------------------------------

    @contextlib.contextmanager
    def _operation_context(self) -> Iterator[Any]:
        if self._conn is not None:
            yield self._conn
            return
        with self.bind.connect() as conn:
            self._conn = conn
            try:
                yield conn
            finally:
                self._conn = None

    def _run(self, step: Step[T]) -> T:
        with self._operation_context() as conn:
            try:
                sql, params = next(step)
                while True:
                    rows = conn.execute(TextClause(sql), params).fetchall()
                    sql, params = step.send(rows)
            except StopIteration as stop:
                result: T = stop.value
                return result

    def _memo(self, key: tuple[Any, ...], make: Callable[[], Step[T]]) -> T:
        if key in self.info_cache:
            cached: T = self.info_cache[key]
            return cached
        value = self._run(make())
        self.info_cache[key] = value
        return value

    # -- names -------------------------------------------------------------------------------

    @property
    def default_schema_name(self) -> str | None:
        """The schema used when none is named (``main`` on SQLite, the first schema of
        the search path on PostgreSQL)."""
        return self._memo(("default_schema",), self._reflector.default_schema_name)

    def get_schema_names(self, **kw: Any) -> list[str]:
        return list(self._memo(("schemas",), self._reflector.schema_names))

    def _names(self, schema: str | None, kind: ObjectKind, scope: ObjectScope) -> list[str]:
        key = ("names", schema, kind, scope)
        return list(self._memo(key, lambda: self._reflector.object_names(schema, kind, scope)))

    def get_table_names(self, schema: str | None = None, **kw: Any) -> list[str]:
        """Names of the tables of ``schema`` (default: the default schema), sorted."""
        return self._names(schema, ObjectKind.TABLE, ObjectScope.DEFAULT)

    def get_view_names(self, schema: str | None = None, **kw: Any) -> list[str]:
        return self._names(schema, ObjectKind.VIEW, ObjectScope.DEFAULT)

    def get_materialized_view_names(self, schema: str | None = None, **kw: Any) -> list[str]:
        return self._names(schema, ObjectKind.MATERIALIZED_VIEW, ObjectScope.DEFAULT)

    def get_temp_table_names(self, **kw: Any) -> list[str]:
        return self._names(None, ObjectKind.TABLE, ObjectScope.TEMPORARY)

    def get_temp_view_names(self, **kw: Any) -> list[str]:
        return self._names(None, ObjectKind.VIEW, ObjectScope.TEMPORARY)

    def get_sequence_names(self, schema: str | None = None, **kw: Any) -> list[str]:
        key = ("sequences", schema)
        return list(self._memo(key, lambda: self._reflector.sequence_names(schema)))

    def get_view_definition(self, view_name: str, schema: str | None = None, **kw: Any) -> str:
        key = ("view_definition", schema, view_name)
        sql = self._memo(key, lambda: self._reflector.view_definition(view_name, schema))
        if sql is None:
            raise exc.NoSuchTableError(_qualified(view_name, schema))
        return sql

    def has_table(self, table_name: str, schema: str | None = None, **kw: Any) -> bool:
        """Whether the table (or view) exists; never cached."""
        return self._run(self._reflector.has_table(table_name, schema))

    def has_sequence(self, sequence_name: str, schema: str | None = None, **kw: Any) -> bool:
        return sequence_name in self._run(self._reflector.sequence_names(schema))

    def has_schema(self, schema_name: str, **kw: Any) -> bool:
        return schema_name in self._run(self._reflector.schema_names())

    def has_index(
        self, table_name: str, index_name: str, schema: str | None = None, **kw: Any
    ) -> bool:
        return any(ix["name"] == index_name for ix in self.get_indexes(table_name, schema))

    # -- tables ------------------------------------------------------------------------------

    def _fetch(
        self,
        schema: str | None,
        names: Sequence[str] | None,
        kind: ObjectKind,
        scope: ObjectScope,
        parts: frozenset[str],
    ) -> dict[str, ReflectedTable]:
        """Tables of (schema, kind, scope) with ``parts``, from the cache where every part
        is known, else from the database (and then cached)."""
        entries = []
        for part in parts:
            entry = self.info_cache.get(("tables", schema, kind, scope, part))
            if entry is None:
                entry = self.info_cache["tables", schema, kind, scope, part] = _Cached()
            entries.append(entry)
        if names is None:
            need: list[str] | None = None if not all(e.complete for e in entries) else []
        else:
            need = [
                n
                for n in names
                if not all(e.complete or n in e.tables or n in e.absent for e in entries)
            ]
        if need is None or need:
            found = self._run(self._reflector.tables(schema, need, kind, scope, parts))
            for e in entries:
                e.tables.update(found)
                if need is None:
                    e.complete = True
                else:
                    e.absent.update(n for n in need if n not in found)
        source = entries[0].tables if entries else {}
        if names is None:
            return dict(source)
        return {n: source[n] for n in names if n in source}

    def _one(self, table_name: str, schema: str | None, part: str) -> Any:
        for key, entry in self.info_cache.items():  # read with a whole batch already?
            if key[0] == "tables" and key[1] == schema and key[4] == part:
                t = entry.tables.get(table_name)
                if t is not None:
                    return t.part(part)
        found = self._fetch(
            schema, [table_name], ObjectKind.ANY, ObjectScope.ANY, frozenset({part})
        )
        t = found.get(table_name)
        if t is None:
            raise exc.NoSuchTableError(_qualified(table_name, schema))
        return t.part(part)

    def _multi(
        self,
        part: str,
        schema: str | None,
        filter_names: Sequence[str] | None,
        kind: ObjectKind,
        scope: ObjectScope,
    ) -> dict[_Key, Any]:
        names = list(filter_names) if filter_names is not None else None
        found = self._fetch(schema, names, kind, scope, frozenset({part}))
        return {(schema, name): t.part(part) for name, t in sorted(found.items())}

    def reflect_tables(
        self,
        schema: str | None = None,
        filter_names: Sequence[str] | None = None,
        kind: ObjectKind = ObjectKind.ANY,
        scope: ObjectScope = ObjectScope.DEFAULT,
    ) -> dict[str, ReflectedTable]:
        """Everything about many tables in one batch, by name (a hermetic addition: what
        the ``get_multi_*`` methods return, all parts at once). Each ``ReflectedTable``
        has ``columns``, ``pk``, ``foreign_keys``, ``indexes``, ``unique``, ``check``,
        ``comment``, ``options`` and ``kind``."""
        names = list(filter_names) if filter_names is not None else None
        return self._fetch(schema, names, kind, scope, PARTS)

    def get_columns(
        self, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        """The columns: ``name``, ``type`` (a hermetic type), ``nullable``, ``default``
        (SQL text or None), ``autoincrement``, ``comment`` (and ``computed`` /
        ``identity`` where they apply)."""
        return list(self._one(table_name, schema, "columns"))

    def get_pk_constraint(
        self, table_name: str, schema: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        return dict(self._one(table_name, schema, "pk"))

    def get_foreign_keys(
        self, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        return list(self._one(table_name, schema, "foreign_keys"))

    def get_indexes(
        self, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        return list(self._one(table_name, schema, "indexes"))

    def get_unique_constraints(
        self, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        return list(self._one(table_name, schema, "unique"))

    def get_check_constraints(
        self, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        return list(self._one(table_name, schema, "check"))

    def get_table_comment(
        self, table_name: str, schema: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        return dict(self._one(table_name, schema, "comment"))

    def get_table_options(
        self, table_name: str, schema: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        return dict(self._one(table_name, schema, "options"))

    def get_multi_columns(
        self,
        schema: str | None = None,
        filter_names: Sequence[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
        **kw: Any,
    ) -> dict[_Key, list[dict[str, Any]]]:
        """``get_columns()`` of many tables in one go, keyed by ``(schema, name)``
        (schema None for the default schema)."""
        return self._multi("columns", schema, filter_names, kind, scope)

    def get_multi_pk_constraint(
        self,
        schema: str | None = None,
        filter_names: Sequence[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
        **kw: Any,
    ) -> dict[_Key, dict[str, Any]]:
        return self._multi("pk", schema, filter_names, kind, scope)

    def get_multi_foreign_keys(
        self,
        schema: str | None = None,
        filter_names: Sequence[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
        **kw: Any,
    ) -> dict[_Key, list[dict[str, Any]]]:
        return self._multi("foreign_keys", schema, filter_names, kind, scope)

    def get_multi_indexes(
        self,
        schema: str | None = None,
        filter_names: Sequence[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
        **kw: Any,
    ) -> dict[_Key, list[dict[str, Any]]]:
        return self._multi("indexes", schema, filter_names, kind, scope)

    def get_multi_unique_constraints(
        self,
        schema: str | None = None,
        filter_names: Sequence[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
        **kw: Any,
    ) -> dict[_Key, list[dict[str, Any]]]:
        return self._multi("unique", schema, filter_names, kind, scope)

    def get_multi_check_constraints(
        self,
        schema: str | None = None,
        filter_names: Sequence[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
        **kw: Any,
    ) -> dict[_Key, list[dict[str, Any]]]:
        return self._multi("check", schema, filter_names, kind, scope)

    def get_multi_table_comment(
        self,
        schema: str | None = None,
        filter_names: Sequence[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
        **kw: Any,
    ) -> dict[_Key, dict[str, Any]]:
        return self._multi("comment", schema, filter_names, kind, scope)

    def get_multi_table_options(
        self,
        schema: str | None = None,
        filter_names: Sequence[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
        **kw: Any,
    ) -> dict[_Key, dict[str, Any]]:
        return self._multi("options", schema, filter_names, kind, scope)

    def get_sorted_table_and_fkc_names(
        self, schema: str | None = None, **kw: Any
    ) -> list[tuple[str | None, list[tuple[str, str | None]]]]:
        """Table names in foreign-key dependency order (referred tables first, ties by
        name), each with its foreign key names; the foreign keys that close a cycle come
        last, under ``None``."""
        fks = {name: v for (_, name), v in self.get_multi_foreign_keys(schema).items()}
        deps: dict[str, set[str]] = {
            name: {fk["referred_table"] for fk in v if fk["referred_table"] in fks} - {name}
            for name, v in fks.items()
        }
        ordered: list[str] = []
        remaining = sorted(deps)
        cyclic: list[tuple[str, str | None]] = []
        while remaining:
            ready = [n for n in remaining if not (deps[n] - set(ordered))]
            if not ready:  # a cycle: drop the edges of the first stuck table
                stuck = remaining[0]
                open_deps = deps[stuck] - set(ordered)
                cyclic.extend(
                    (stuck, fk["name"]) for fk in fks[stuck] if fk["referred_table"] in open_deps
                )
                deps[stuck] = set()
                continue
            ordered.extend(ready)
            remaining = [n for n in remaining if n not in ready]
        out: list[tuple[str | None, list[tuple[str, str | None]]]] = []
        for n in ordered:
            names = dict.fromkeys((n, fk["name"]) for fk in fks[n])
            out.append((n, [key for key in names if key not in cyclic]))
        out.append((None, cyclic))
        return out

    # -- Table objects -----------------------------------------------------------------------

    def reflect_table(
        self,
        table: Table,
        include_columns: Collection[str] | None,
        exclude_columns: Collection[str] = (),
        resolve_fks: bool = True,
        _extend_on: set[Table] | None = None,
        _reflect_info: _Batch | None = None,
        _overrides: dict[str, Column] | None = None,
    ) -> None:
        """Fill ``table`` (a Table with a name and perhaps a schema) from the database:
        columns, primary key, foreign keys (reflecting the tables they refer to into the
        same MetaData unless ``resolve_fks=False``), indexes, unique and check
        constraints, comment and options."""
        if _extend_on is not None:
            if table in _extend_on:
                return
            _extend_on.add(table)
        with self._operation_context():
            info = _reflect_info.get((table.schema, table.name)) if _reflect_info else None
            if info is None:
                found = self._fetch(
                    table.schema, [table.name], ObjectKind.ANY, ObjectScope.ANY, PARTS
                )
                info = found.get(table.name)
                if info is None:
                    e = exc.NoSuchTableError(table.fullname)
                    e.table_name = table.fullname  # type: ignore[attr-defined]
                    raise e
            _build_table(
                self,
                table,
                info,
                include_columns,
                exclude_columns,
                resolve_fks,
                _extend_on,
                _reflect_info,
                _overrides or {},
            )

    def _reflect_metadata(
        self,
        metadata: MetaData,
        schema: str | None,
        views: bool,
        only: Sequence[str] | Callable[[str, MetaData], bool] | None,
        extend_existing: bool,
        autoload_replace: bool,
        resolve_fks: bool,
        dialect_kwargs: dict[str, Any],
    ) -> None:
        """``MetaData.reflect()``: every table (and view, with ``views=True``) of the
        schema in one batch, then a Table for each."""
        if schema is None:
            schema = metadata.schema
        kind = ObjectKind.ANY if views else ObjectKind.TABLE
        with self._operation_context():
            available = self._names(schema, ObjectKind.TABLE, ObjectScope.DEFAULT)
            if views:
                available += self._names(schema, ObjectKind.ANY_VIEW, ObjectScope.DEFAULT)
            current = set(metadata.tables)

            def wanted(name: str) -> bool:
                return extend_existing or _qualified(name, schema) not in current

            if only is None:
                load = [n for n in available if wanted(n)]
            elif callable(only):
                load = [n for n in available if wanted(n) and only(n, metadata)]
            else:
                known = set(available)
                missing = [n for n in only if n not in known]
                if missing:
                    where = f" schema '{schema}'" if schema else ""
                    raise exc.InvalidRequestError(
                        f"Could not reflect: requested table(s) not available in "
                        f"{self.engine!r}{where}: ({', '.join(missing)})"
                    )
                load = [n for n in only if wanted(n)]
            if not load:
                return
            batch_names = None if len(load) * 2 >= len(available) else load
            found = self._fetch(schema, batch_names, kind, ObjectScope.DEFAULT, PARTS)
            batch: _Batch = {(schema, name): t for name, t in found.items()}
            extend_on: set[Table] = set()
            for name in load:
                Table(
                    name,
                    metadata,
                    schema=schema,
                    autoload_with=self,
                    extend_existing=extend_existing,
                    autoload_replace=autoload_replace,
                    resolve_fks=resolve_fks,
                    _extend_on=extend_on,
                    _reflect_info=batch,
                    **dialect_kwargs,
                )


def _qualified(name: str, schema: str | None) -> str:
    return f"{schema}.{name}" if schema else name


def _build_table(
    insp: Inspector,
    table: Table,
    info: ReflectedTable,
    include_columns: Collection[str] | None,
    exclude_columns: Collection[str],
    resolve_fks: bool,
    extend_on: set[Table] | None,
    reflect_info: _Batch | None,
    overrides: dict[str, Column],
) -> None:
    for key, value in info.options.items():
        if key not in table.kwargs:
            table.kwargs[key] = value
            dialect, _, arg = key.partition("_")
            table.dialect_options.setdefault(dialect, {})[arg] = value
    if table.comment is None:
        table.comment = info.comment.get("text")

    include = set(include_columns) if include_columns is not None else None
    exclude = set(exclude_columns)
    cols: dict[str, Column] = {}
    reflected: set[str] = set()
    for col_d in info.columns:
        name = col_d["name"]
        if (include is not None and name not in include) or name in exclude:
            continue
        col = overrides.pop(name, None)
        if col is None:
            default = col_d.get("default")
            col = Column(
                name,
                col_d["type"],
                nullable=col_d["nullable"],
                autoincrement=col_d.get("autoincrement", "auto"),
                comment=col_d.get("comment"),
                server_default=DefaultClause(TextClause(default)) if default is not None else None,
            )
            if "computed" in col_d:
                col.info["computed"] = col_d["computed"]
            if "identity" in col_d:
                col.info["identity"] = col_d["identity"]
            reflected.add(name)
        table.append_column(col, replace_existing=True)
        cols[name] = col
    for col in table._column_list:
        cols.setdefault(col.name, col)

    pk = info.pk
    pk_cols = [cols[c] for c in pk["constrained_columns"] if c in cols]
    if pk_cols:
        nullable = {c.name: c.nullable for c in pk_cols}
        table.append_constraint(PrimaryKeyConstraint(*pk_cols, name=pk.get("name")))
        for c in pk_cols:  # as the database says (SQLite allows NULL in most key columns)
            if c.name in reflected:
                c.nullable = nullable[c.name]

    metadata = table.metadata
    for fk in info.foreign_keys:
        local = fk["constrained_columns"]
        if any(c not in cols for c in local):
            continue
        ref_schema, ref_table = fk["referred_schema"], fk["referred_table"]
        if resolve_fks:
            _reflect_referred(insp, metadata, table, fk, extend_on, reflect_info)
        prefix = f"{ref_schema}.{ref_table}" if ref_schema is not None else ref_table
        table.append_constraint(
            ForeignKeyConstraint(
                [cols[c] for c in local],
                [f"{prefix}.{c}" for c in fk["referred_columns"]],
                name=fk.get("name"),
                link_to_name=True,
                **fk.get("options", {}),
            )
        )

    for ix in info.indexes:
        if ix.get("duplicates_constraint"):
            continue
        if include is not None and not include.issuperset(ix["column_names"]):
            continue  # an index on a column left out (or on an expression)
        elements = _index_elements(ix, cols)
        if elements is None:
            continue
        dialect_kw: dict[str, Any] = {
            k: (TextClause(v) if k.endswith("_where") and isinstance(v, str) else v)
            for k, v in ix.get("dialect_options", {}).items()
        }
        Index(ix["name"], *elements, unique=bool(ix["unique"]), _table=table, **dialect_kw)

    for uc in info.unique:
        if uc.get("duplicates_index") or any(c not in cols for c in uc["column_names"]):
            continue
        table.append_constraint(
            UniqueConstraint(*[cols[c] for c in uc["column_names"]], name=uc.get("name"))
        )

    for ck in info.check:
        table.append_constraint(CheckConstraint(ck["sqltext"], name=ck.get("name")))


def _index_elements(ix: dict[str, Any], cols: dict[str, Column]) -> list[Any] | None:
    """The expressions of a reflected index (columns, or text for expressions), with
    their sort order; None when a column is not part of the reflected Table."""
    exprs = ix.get("expressions") or []
    sorting: dict[str, tuple[str, ...]] = ix.get("column_sorting") or {}
    elements: list[Any] = []
    for k, name in enumerate(ix["column_names"]):
        element: Any
        if name is None:
            text = exprs[k] if k < len(exprs) else ""
            flags = sorting.get(text, ())
            element = literal_column(text) if flags else TextClause(text)
        elif name in cols:
            element = cols[name]
            flags = sorting.get(name, ())
        else:
            return None
        for flag in flags:
            op = _SORT_OPS.get(flag) or _NULLS_OPS.get(flag)
            if op is not None:
                element = UnaryExpression(element, modifier=op)
        elements.append(element)
    return elements


def _reflect_referred(
    insp: Inspector,
    metadata: MetaData,
    table: Table,
    fk: dict[str, Any],
    extend_on: set[Table] | None,
    reflect_info: _Batch | None,
) -> None:
    ref_schema, ref_name = fk["referred_schema"], fk["referred_table"]
    full = _qualified(ref_name, ref_schema if ref_schema is not None else metadata.schema)
    if full in metadata.tables:
        return
    try:
        Table(
            ref_name,
            metadata,
            schema=ref_schema,
            autoload_with=insp,
            resolve_fks=True,
            _extend_on=extend_on,
            _reflect_info=reflect_info,
        )
    except exc.NoSuchTableError as e:
        if getattr(e, "table_name", None) != full:
            raise
        which = f"foreign key {fk['name']!r}" if fk.get("name") else "a foreign key"
        err = exc.NoSuchTableError(
            f"{full}: no such table, yet {which} of table {table.fullname!r} "
            f"({', '.join(fk['constrained_columns'])}) refers to it; create it, or reflect "
            "with resolve_fks=False to keep the foreign key unresolved"
        )
        err.table_name = full  # type: ignore[attr-defined]
        raise err from None


__all__ = ["Inspector", "ObjectKind", "ObjectScope"]
