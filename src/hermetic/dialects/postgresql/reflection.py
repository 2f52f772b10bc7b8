"""PostgreSQL reflection: ``pg_catalog`` queries and the parsing of what comes back. Pure:
no I/O. Columns of the one-byte ``"char"`` type are cast to text (asyncpg returns them as
bytes).

A batch of tables (a whole schema, or the tables named) costs one query for the
relations and one per part asked for (columns, constraints, indexes): every query reads
the catalog rows of all the tables at once, keyed by table oid. Constraint definitions
come from the catalog columns rather than from parsing ``pg_get_constraintdef()``, except
for CHECK expressions, which only exist as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from hermetic.dialects.postgresql import types as pgtypes
from hermetic.dialects.reflection import (
    ObjectKind,
    ObjectScope,
    ReflectedTable,
    Reflector,
    Rows,
    Step,
    int_args,
    split_type,
    unknown_type,
)
from hermetic.sql import sqltypes

# -- types -------------------------------------------------------------------------------

TypeFactory = Callable[[list[int], str], sqltypes.TypeEngine]


def _plain(cls: Callable[[], sqltypes.TypeEngine]) -> TypeFactory:
    return lambda args, rest: cls()


def _sized(cls: Callable[..., sqltypes.TypeEngine]) -> TypeFactory:
    return lambda args, rest: cls(*args[:1])


def _scaled(cls: Callable[..., sqltypes.TypeEngine]) -> TypeFactory:
    return lambda args, rest: cls(*args[:2])


def _first(args: list[int]) -> int | None:
    return args[0] if args else None


def _timestamp(tz: bool) -> TypeFactory:
    return lambda args, rest: pgtypes.TIMESTAMP(timezone=tz, precision=_first(args))


def _time(tz: bool) -> TypeFactory:
    return lambda args, rest: pgtypes.TIME(timezone=tz, precision=_first(args))


def _interval(args: list[int], fields: str) -> sqltypes.TypeEngine:
    return pgtypes.INTERVAL(precision=_first(args), fields=fields.upper() or None)


def _bit(varying: bool) -> TypeFactory:
    return lambda args, rest: pgtypes.BIT(_first(args), varying=varying)


# format_type() spellings (lower case, single spaces, arguments removed) -> types.
TYPES: dict[str, TypeFactory] = {
    "integer": _plain(sqltypes.INTEGER),
    "bigint": _plain(sqltypes.BIGINT),
    "smallint": _plain(sqltypes.SMALLINT),
    "character varying": _sized(sqltypes.VARCHAR),
    "character": _sized(sqltypes.CHAR),
    "bpchar": _sized(sqltypes.CHAR),
    '"char"': _plain(sqltypes.CHAR),
    "text": _plain(sqltypes.TEXT),
    "citext": _plain(pgtypes.CITEXT),
    "numeric": _scaled(sqltypes.NUMERIC),
    "real": _plain(sqltypes.REAL),
    "double precision": lambda args, rest: sqltypes.DOUBLE_PRECISION(precision=53),
    "boolean": _plain(sqltypes.BOOLEAN),
    "date": _plain(sqltypes.DATE),
    "timestamp without time zone": _timestamp(False),
    "timestamp with time zone": _timestamp(True),
    "time without time zone": _time(False),
    "time with time zone": _time(True),
    "interval": _interval,
    "bytea": _plain(pgtypes.BYTEA),
    "json": _plain(pgtypes.JSON),
    "jsonb": _plain(pgtypes.JSONB),
    "uuid": _plain(sqltypes.UUID),
    "inet": _plain(pgtypes.INET),
    "cidr": _plain(pgtypes.CIDR),
    "macaddr": _plain(pgtypes.MACADDR),
    "macaddr8": _plain(pgtypes.MACADDR8),
    "money": _plain(pgtypes.MONEY),
    "oid": _plain(pgtypes.OID),
    "regclass": _plain(pgtypes.REGCLASS),
    "tsvector": _plain(pgtypes.TSVECTOR),
    "bit": _bit(False),
    "bit varying": _bit(True),
}


def resolve_type(spec: str, column: str) -> sqltypes.TypeEngine:
    """The hermetic type of a ``format_type()`` string such as ``numeric(10,2)``,
    ``timestamp(3) with time zone`` or ``character varying(20)[]``."""
    spec = spec.strip()
    dims = 0
    while spec.endswith("[]"):
        spec = spec[:-2].rstrip()
        dims += 1
    if dims:
        return sqltypes.ARRAY(resolve_type(spec, column))
    name, args, rest = split_type(spec)
    name = name.lower()
    full = f"{name} {rest.lower()}" if rest else name
    factory = TYPES.get(full)
    if factory is not None:
        return factory(int_args(args), "")
    if full.startswith("interval "):
        return _interval(int_args(args), full[len("interval ") :])
    return unknown_type(spec, column)


# -- the reflector -----------------------------------------------------------------------

_FK_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT", "r": "RESTRICT"}
_FK_MATCH = {"f": "FULL", "p": "PARTIAL"}
_CHECK = re.compile(r"^\s*CHECK\s*\((.*)\)(\s+NOT VALID)?\s*$", re.S | re.I)
_REL = "pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
_CHUNK = 500  # tables per catalog query


def _relkinds(kind: ObjectKind, listing: bool) -> str:
    kinds: list[str] = []
    if kind & ObjectKind.TABLE:
        kinds += ["r", "p"] if listing else ["r", "p", "f"]
    if kind & ObjectKind.VIEW:
        kinds.append("v")
    if kind & ObjectKind.MATERIALIZED_VIEW:
        kinds.append("m")
    return ", ".join(f"'{k}'" for k in kinds) or "''"


def _where(schema: str | None, scope: ObjectScope) -> tuple[str, dict[str, Any]]:
    """Conditions on ``c``/``n`` for the schema and scope, and their parameters."""
    if schema is None:
        cond = "pg_catalog.pg_table_is_visible(c.oid) AND n.nspname <> 'pg_catalog'"
        params: dict[str, Any] = {}
    else:
        cond = "n.nspname = :schema"
        params = {"schema": schema}
    if scope is ObjectScope.DEFAULT:
        cond += " AND c.relpersistence <> 't'"
    elif scope is ObjectScope.TEMPORARY:
        cond += " AND c.relpersistence = 't'"
    return cond, params


_KIND_OF = {
    "r": ObjectKind.TABLE,
    "p": ObjectKind.TABLE,
    "f": ObjectKind.TABLE,
    "v": ObjectKind.VIEW,
    "m": ObjectKind.MATERIALIZED_VIEW,
}

_COLUMNS_SQL = """\
SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
  a.attnotnull, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attidentity::text,
  a.attgenerated::text, ds.description, bt.typtype::text,
  CASE WHEN bt.typtype = 'e' THEN ARRAY(SELECT e.enumlabel FROM pg_catalog.pg_enum e
    WHERE e.enumtypid = bt.oid ORDER BY e.enumsortorder) END,
  CASE WHEN bt.typtype = 'd' THEN pg_catalog.format_type(bt.typbasetype, bt.typtypmod) END,
  bt.typname, btn.nspname, pg_catalog.pg_type_is_visible(bt.oid), t.oid <> bt.oid,
  CASE WHEN a.attidentity <> '' THEN (SELECT ARRAY[s.seqstart, s.seqincrement, s.seqmin,
    s.seqmax, s.seqcache, s.seqcycle::int] FROM pg_catalog.pg_depend dp
    JOIN pg_catalog.pg_sequence s ON s.seqrelid = dp.objid
    WHERE dp.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
    AND dp.refobjid = a.attrelid AND dp.refobjsubid = a.attnum
    AND dp.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dp.deptype = 'i'
    LIMIT 1) END
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0
  THEN t.typelem ELSE t.oid END
JOIN pg_catalog.pg_namespace btn ON btn.oid = bt.typnamespace
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_description ds ON ds.objoid = a.attrelid
  AND ds.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ds.objsubid = a.attnum
WHERE a.attrelid = ANY(CAST(:oids AS pg_catalog.oid[])) AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum"""

_CONSTRAINTS_SQL = """\
SELECT con.conrelid, con.conname, con.contype::text,
  ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(num, ord)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
    ORDER BY k.ord),
  rn.nspname, rc.relname,
  ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(num, ord)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
    ORDER BY k.ord),
  con.confupdtype::text, con.confdeltype::text, con.confmatchtype::text, con.condeferrable,
  con.condeferred,
  CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_constraintdef(con.oid, true) END,
  ds.description,
  CASE WHEN con.contype = 'f' THEN pg_catalog.pg_table_is_visible(con.confrelid) END,
  CASE WHEN con.contype IN ('p', 'u') THEN ARRAY(SELECT a.attname
    FROM pg_catalog.pg_index i, generate_series(i.indnkeyatts, i.indnatts - 1) AS k(n)
    JOIN pg_catalog.pg_attribute a ON true
    WHERE i.indexrelid = con.conindid AND a.attrelid = i.indrelid AND a.attnum = i.indkey[k.n]
    ORDER BY k.n) END,
  {nulls_not_distinct}
FROM pg_catalog.pg_constraint con
LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_catalog.pg_description ds ON ds.objoid = con.oid
  AND ds.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
WHERE con.conrelid = ANY(CAST(:oids AS pg_catalog.oid[])) AND con.contype IN ('p', 'f', 'u', 'c')
ORDER BY con.conrelid, con.conname"""

_INDEXES_SQL = """\
SELECT i.indrelid, ic.relname, i.indisunique, i.indnkeyatts,
  ARRAY(SELECT a.attname FROM generate_series(0, i.indnatts - 1) AS k(n)
    LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k.n]
    ORDER BY k.n),
  ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k.n, true)
    FROM generate_series(1, i.indnkeyatts) AS k(n) ORDER BY k.n),
  ARRAY(SELECT i.indoption[k.n] FROM generate_series(0, i.indnkeyatts - 1) AS k(n)
    ORDER BY k.n),
  pg_catalog.pg_get_expr(i.indpred, i.indrelid), am.amname, con.conname, ic.reloptions,
  {nulls_not_distinct}
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid
  AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
WHERE i.indrelid = ANY(CAST(:oids AS pg_catalog.oid[])) AND NOT i.indisprimary
ORDER BY i.indrelid, ic.relname"""


class PGReflector(Reflector):
    """Reflection for PostgreSQL through ``pg_catalog``."""

    @property
    def _nulls_not_distinct(self) -> bool:
        version = self.dialect.server_version_info
        return bool(version and version >= (15,))

    def default_schema_name(self) -> Step[str | None]:
        rows = yield ("SELECT pg_catalog.current_schema()", {})
        return rows[0][0] if rows else None

    def schema_names(self) -> Step[list[str]]:
        rows = yield (
            "SELECT nspname FROM pg_catalog.pg_namespace "
            "WHERE nspname NOT LIKE 'pg~_%' ESCAPE '~' ORDER BY nspname",
            {},
        )
        return [r[0] for r in rows]

    def object_names(
        self, schema: str | None, kind: ObjectKind, scope: ObjectScope
    ) -> Step[list[str]]:
        cond, params = _where(schema, scope)
        rows = yield (
            f"SELECT c.relname FROM {_REL} WHERE c.relkind IN ({_relkinds(kind, True)}) "
            f"AND {cond} ORDER BY c.relname",
            params,
        )
        return [r[0] for r in rows]

    def sequence_names(self, schema: str | None) -> Step[list[str]]:
        cond, params = _where(schema, ObjectScope.ANY)
        rows = yield (
            f"SELECT c.relname FROM {_REL} WHERE c.relkind = 'S' AND {cond} ORDER BY c.relname",
            params,
        )
        return [r[0] for r in rows]

    def has_table(self, name: str, schema: str | None) -> Step[bool]:
        cond, params = _where(schema, ObjectScope.ANY)
        rows = yield (
            f"SELECT 1 FROM {_REL} WHERE c.relname = :name "
            f"AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {cond}",
            {**params, "name": name},
        )
        return bool(rows)

    def view_definition(self, name: str, schema: str | None) -> Step[str | None]:
        cond, params = _where(schema, ObjectScope.ANY)
        rows = yield (
            f"SELECT pg_catalog.pg_get_viewdef(c.oid, true) FROM {_REL} "
            f"WHERE c.relname = :name AND c.relkind IN ('v', 'm') AND {cond}",
            {**params, "name": name},
        )
        return rows[0][0] if rows else None

    def tables(
        self,
        schema: str | None,
        names: Sequence[str] | None,
        kind: ObjectKind,
        scope: ObjectScope,
        parts: frozenset[str],
    ) -> Step[dict[str, ReflectedTable]]:
        cond, params = _where(schema, scope)
        if names is not None:
            cond += " AND c.relname = ANY(:names)"
            params["names"] = list(names)
        rows = yield (
            f"SELECT c.oid, c.relname, c.relkind::text, ds.description FROM {_REL} "
            "LEFT JOIN pg_catalog.pg_description ds ON ds.objoid = c.oid "
            "AND ds.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ds.objsubid = 0 "
            f"WHERE c.relkind IN ({_relkinds(kind, False)}) AND {cond}",
            params,
        )
        by_oid: dict[int, ReflectedTable] = {}
        out: dict[str, ReflectedTable] = {}
        for oid, name, relkind, comment in rows:
            if name in out:  # visible-only lookups cannot repeat a name; be safe
                continue
            t = ReflectedTable(name, _KIND_OF.get(relkind, ObjectKind.TABLE))
            t.comment = {"text": comment}
            by_oid[oid] = out[name] = t
        if not out:
            return out
        nnd = self._nulls_not_distinct
        all_oids = list(by_oid)
        # in chunks: a query's cost estimate grows with its tables, and past
        # jit_above_cost PostgreSQL spends longer compiling it than running it
        for start in range(0, len(all_oids), _CHUNK):
            oids = {"oids": all_oids[start : start + _CHUNK]}
            if "columns" in parts:
                rows = yield (_COLUMNS_SQL, oids)
                self._columns(rows, by_oid)
            if parts & {"pk", "foreign_keys", "unique", "check"}:
                sql = _CONSTRAINTS_SQL.format(
                    nulls_not_distinct="CASE WHEN con.contype = 'u' THEN (SELECT "
                    "i.indnullsnotdistinct FROM pg_catalog.pg_index i "
                    "WHERE i.indexrelid = con.conindid) END"
                    if nnd
                    else "NULL"
                )
                rows = yield (sql, oids)
                self._constraints(rows, by_oid, schema)
            if "indexes" in parts:
                nulls = "i.indnullsnotdistinct" if nnd else "NULL"
                rows = yield (_INDEXES_SQL.format(nulls_not_distinct=nulls), oids)
                self._indexes(rows, by_oid)
        return out

    @staticmethod
    def _columns(rows: Rows, by_oid: dict[int, ReflectedTable]) -> None:
        for (
            oid,
            name,
            spec,
            notnull,
            default,
            identity,
            generated,
            comment,
            typtype,
            labels,
            domain_base,
            typname,
            typschema,
            visible,
            is_array,
            seq,
        ) in rows:
            t = by_oid.get(oid)
            if t is None:
                continue
            if typtype == "e":
                type_: sqltypes.TypeEngine = pgtypes.ENUM(
                    *labels, name=typname, schema=None if visible else typschema
                )
            elif typtype == "d":
                type_ = resolve_type(domain_base, name)
            else:
                type_ = resolve_type(spec, name)
                is_array = False
            if is_array:
                type_ = sqltypes.ARRAY(type_)
            col: dict[str, Any] = {
                "name": name,
                "type": type_,
                "nullable": not notnull,
                "default": default,
                "autoincrement": False,
                "comment": comment,
            }
            if generated not in (None, "", "\x00", b"\x00"):
                col["computed"] = {"sqltext": default, "persisted": generated == "s"}
                col["default"] = None
            if identity not in (None, "", "\x00", b"\x00"):
                col["autoincrement"] = True
                col["default"] = None
                if seq:
                    start, increment, minvalue, maxvalue, cache, cycle = seq
                    col["identity"] = {
                        "always": identity == "a",
                        "start": start,
                        "increment": increment,
                        "minvalue": minvalue,
                        "maxvalue": maxvalue,
                        "cache": cache,
                        "cycle": bool(cycle),
                    }
            elif (
                default is not None
                and default.startswith("nextval(")
                and isinstance(type_, sqltypes.Integer)
            ):
                col["autoincrement"] = True
            t.columns.append(col)

    @staticmethod
    def _constraints(rows: Rows, by_oid: dict[int, ReflectedTable], schema: str | None) -> None:
        for (
            oid,
            name,
            contype,
            cols,
            ref_schema,
            ref_table,
            ref_cols,
            on_update,
            on_delete,
            match,
            deferrable,
            deferred,
            definition,
            comment,
            ref_visible,
            include,
            nulls_not_distinct,
        ) in rows:
            t = by_oid.get(oid)
            if t is None:
                continue
            if contype == "p":
                t.pk = {
                    "constrained_columns": list(cols),
                    "name": name,
                    "comment": comment,
                    "dialect_options": {"postgresql_include": list(include or ())},
                }
            elif contype == "f":
                options: dict[str, Any] = {}
                if on_update in _FK_ACTIONS:
                    options["onupdate"] = _FK_ACTIONS[on_update]
                if on_delete in _FK_ACTIONS:
                    options["ondelete"] = _FK_ACTIONS[on_delete]
                if deferrable:
                    options["deferrable"] = True
                if deferred:
                    options["initially"] = "DEFERRED"
                if match in _FK_MATCH:
                    options["match"] = _FK_MATCH[match]
                if schema is not None and ref_schema == schema:
                    referred_schema: str | None = schema
                elif ref_visible:
                    referred_schema = None
                else:
                    referred_schema = ref_schema
                t.foreign_keys.append(
                    {
                        "name": name,
                        "constrained_columns": list(cols),
                        "referred_schema": referred_schema,
                        "referred_table": ref_table,
                        "referred_columns": list(ref_cols),
                        "options": options,
                        "comment": comment,
                    }
                )
            elif contype == "u":
                t.unique.append(
                    {
                        "name": name,
                        "column_names": list(cols),
                        "comment": comment,
                        "dialect_options": {
                            "postgresql_include": list(include or ()),
                            "postgresql_nulls_not_distinct": bool(nulls_not_distinct),
                        },
                    }
                )
            else:
                m = _CHECK.match(definition or "")
                entry: dict[str, Any] = {
                    "name": name,
                    "sqltext": m.group(1).strip() if m else (definition or ""),
                    "comment": comment,
                }
                if m and m.group(2):
                    entry["dialect_options"] = {"not_valid": True}
                t.check.append(entry)

    @staticmethod
    def _indexes(rows: Rows, by_oid: dict[int, ReflectedTable]) -> None:
        for (
            oid,
            name,
            unique,
            nkey,
            attnames,
            defs,
            options,
            where,
            method,
            constraint,
            reloptions,
            nulls_not_distinct,
        ) in rows:
            t = by_oid.get(oid)
            if t is None:
                continue
            keys = list(attnames[:nkey])
            include = [c for c in attnames[nkey:] if c is not None]
            index: dict[str, Any] = {"name": name, "unique": bool(unique), "column_names": keys}
            if None in keys:
                index["expressions"] = [
                    c if c is not None else d for c, d in zip(keys, defs, strict=False)
                ]
            sorting: dict[str, tuple[str, ...]] = {}
            for k, opt in enumerate(options or ()):
                desc, nulls_first = bool(opt & 1), bool(opt & 2)
                flags: tuple[str, ...] = ()
                if desc:
                    flags = ("desc",) if nulls_first else ("desc", "nulls_last")
                elif nulls_first:
                    flags = ("nulls_first",)
                if flags:
                    key = keys[k] if keys[k] is not None else defs[k]
                    sorting[key] = flags
            if sorting:
                index["column_sorting"] = sorting
            if constraint is not None:
                index["duplicates_constraint"] = constraint
            if include:
                index["include_columns"] = include
            dialect_options: dict[str, Any] = {"postgresql_include": include}
            if where is not None:
                dialect_options["postgresql_where"] = where
            if method != "btree":
                dialect_options["postgresql_using"] = method
            if reloptions:
                dialect_options["postgresql_with"] = dict(
                    opt.split("=", 1) for opt in reloptions if "=" in opt
                )
            if nulls_not_distinct:
                dialect_options["postgresql_nulls_not_distinct"] = True
            index["dialect_options"] = dialect_options
            t.indexes.append(index)


__all__ = ["TYPES", "PGReflector", "resolve_type"]
