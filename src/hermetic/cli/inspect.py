"""``hermetic inspect URL [TABLE ...]``: a database's schema as readable tables, or as
JSON with ``--json``.

For each table (and view): its columns (type as the database's DDL spells it,
nullability, default, autoincrement, comment), primary key, foreign keys with their
actions and DEFERRABLE options, unique and check constraints, indexes (unique,
expressions, sort order, the WHERE of a partial index, the access method) and options
such as WITHOUT ROWID. Everything is read in one batch through the Inspector.

A bad URL, an unreachable server, a missing SQLite file, schema or table prints one line
on stderr and exits 1.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from hermetic import exc


class _UserError(Exception):
    """A mistake in the command line or a database that is not there: one line."""


def _first_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None)
    text = str(orig if orig is not None else e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _type_sql(type_: Any, dialect: Any) -> str:
    from hermetic.sql import sqltypes
    from hermetic.sql.ddl import DDLTypeCompiler

    if isinstance(type_, sqltypes.NullType):
        return ""
    try:
        return DDLTypeCompiler(dialect).process(type_)
    except exc.HermeticError:
        return repr(type_)


def _text(value: Any) -> Any:
    """SQL fragments (text() objects) as strings, for printing and JSON."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value]
    return str(getattr(value, "text", value))


def describe(insp: Any, schema: str | None, names: Sequence[str]) -> list[dict[str, Any]]:
    """The tables (all, or those named, in that order) as plain data."""
    from hermetic.engine.reflection import ObjectKind, ObjectScope

    if schema is not None and not insp.has_schema(schema):
        raise _UserError(f"no schema {schema!r} (schemas: {', '.join(insp.get_schema_names())})")
    found = insp.reflect_tables(
        schema, list(names) or None, kind=ObjectKind.ANY, scope=ObjectScope.ANY
    )
    missing = [n for n in names if n not in found]
    if missing:
        available = insp.get_table_names(schema) + insp.get_view_names(schema)
        listing = ", ".join(available) if available else "none"
        which = "table" if len(missing) == 1 else "tables"
        raise _UserError(
            f"no {which} {', '.join(repr(m) for m in missing)} (tables and views: {listing})"
        )
    order = list(names) or sorted(found, key=lambda n: (found[n].kind != ObjectKind.TABLE, n))
    dialect = insp.dialect
    out: list[dict[str, Any]] = []
    for name in order:
        t = found[name]
        kind = {
            ObjectKind.TABLE: "table",
            ObjectKind.VIEW: "view",
            ObjectKind.MATERIALIZED_VIEW: "materialized view",
        }.get(t.kind, "table")
        columns = []
        for c in t.columns:
            col = {
                "name": c["name"],
                "type": _type_sql(c["type"], dialect),
                "nullable": c["nullable"],
                "default": c.get("default"),
                "autoincrement": bool(c.get("autoincrement", False)),
                "comment": c.get("comment"),
            }
            for extra in ("computed", "identity"):
                if extra in c:
                    col[extra] = _text(c[extra])
            columns.append(col)
        indexes = []
        for ix in t.indexes:
            if ix.get("duplicates_constraint"):
                continue  # shown as its constraint
            options = ix.get("dialect_options", {})
            exprs = ix.get("expressions") or ix["column_names"]
            sorting = ix.get("column_sorting", {})
            indexes.append(
                {
                    "name": ix["name"],
                    "columns": [
                        " ".join(
                            [str(e), *[f.replace("_", " ").upper() for f in sorting.get(e, ())]]
                        )
                        for e in exprs
                    ],
                    "unique": bool(ix["unique"]),
                    "where": _text(
                        next((v for k, v in options.items() if k.endswith("_where")), None)
                    ),
                    "using": next((v for k, v in options.items() if k.endswith("_using")), None),
                    "include": ix.get("include_columns", []),
                }
            )
        out.append(
            {
                "name": name,
                "schema": schema,
                "kind": kind,
                "comment": t.comment.get("text"),
                "columns": columns,
                "primary_key": {
                    "name": t.pk.get("name"),
                    "columns": list(t.pk.get("constrained_columns", [])),
                },
                "foreign_keys": [
                    {
                        "name": fk.get("name"),
                        "columns": fk["constrained_columns"],
                        "referred_schema": fk.get("referred_schema"),
                        "referred_table": fk["referred_table"],
                        "referred_columns": fk["referred_columns"],
                        "options": fk.get("options", {}),
                    }
                    for fk in t.foreign_keys
                ],
                "unique_constraints": [
                    {"name": u.get("name"), "columns": u["column_names"]} for u in t.unique
                ],
                "check_constraints": [
                    {"name": ck.get("name"), "sqltext": ck["sqltext"]} for ck in t.check
                ],
                "indexes": indexes,
                "options": _text(t.options),
            }
        )
    return out


def _named(name: str | None) -> str:
    return f"{name} " if name else ""


def _cols(cols: Sequence[Any]) -> str:
    return "(" + ", ".join(str(c) for c in cols) + ")"


def render(tables: list[dict[str, Any]], where: str) -> str:
    """The human-readable report."""
    if not tables:
        return f"no tables in {where}"
    blocks: list[str] = []
    for t in tables:
        title = t["name"] if not t["schema"] else f"{t['schema']}.{t['name']}"
        head = f"{title} ({t['kind']}, {len(t['columns'])} columns)"
        if t["comment"]:
            head += f" -- {t['comment']}"
        rows = [("column", "type", "null", "default", "comment")]
        for c in t["columns"]:
            default = c["default"] if c["default"] is not None else ""
            if "computed" in c:
                default = f"AS ({c['computed'].get('sqltext')})"
            elif c["autoincrement"]:
                default = (default + " " if default else "") + "[autoincrement]"
            rows.append(
                (
                    c["name"],
                    c["type"],
                    "yes" if c["nullable"] else "no",
                    default,
                    c["comment"] or "",
                )
            )
        # the default and comment columns only when some column has one
        shown = [j for j in range(5) if j < 3 or any(r[j] for r in rows[1:])]
        widths = {j: max(len(r[j]) for r in rows) for j in shown}
        lines = [head]
        for k, r in enumerate(rows):
            lines.append("  " + "  ".join(r[j].ljust(widths[j]) for j in shown).rstrip())
            if k == 0:
                lines.append("  " + "  ".join("-" * widths[j] for j in shown))
        pk = t["primary_key"]
        if pk["columns"]:
            lines.append(f"  primary key  {_named(pk['name'])}{_cols(pk['columns'])}")
        for fk in t["foreign_keys"]:
            target = fk["referred_table"]
            if fk["referred_schema"]:
                target = f"{fk['referred_schema']}.{target}"
            words = []
            opts = fk["options"]
            if opts.get("onupdate"):
                words.append(f"ON UPDATE {opts['onupdate']}")
            if opts.get("ondelete"):
                words.append(f"ON DELETE {opts['ondelete']}")
            if opts.get("match"):
                words.append(f"MATCH {opts['match']}")
            if opts.get("deferrable") is not None:
                words.append("DEFERRABLE" if opts["deferrable"] else "NOT DEFERRABLE")
            if opts.get("initially"):
                words.append(f"INITIALLY {opts['initially']}")
            tail = (" " + " ".join(words)) if words else ""
            lines.append(
                f"  foreign key  {_named(fk['name'])}{_cols(fk['columns'])} -> "
                f"{target} {_cols(fk['referred_columns'])}{tail}"
            )
        lines.extend(
            f"  unique       {_named(u['name'])}{_cols(u['columns'])}"
            for u in t["unique_constraints"]
        )
        lines.extend(
            f"  check        {_named(ck['name'])}({ck['sqltext']})" for ck in t["check_constraints"]
        )
        for ix in t["indexes"]:
            kind = "unique index" if ix["unique"] else "index       "
            sql = f"  {kind} {_named(ix['name'])}"
            if ix["using"]:
                sql += f"USING {ix['using']} "
            sql += _cols(ix["columns"])
            if ix["include"]:
                sql += f" INCLUDE {_cols(ix['include'])}"
            if ix["where"]:
                sql += f" WHERE {' '.join(str(ix['where']).split())}"
            lines.append(sql)
        for key, value in t["options"].items():
            lines.append(f"  option       {key}={value!r}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def cmd_inspect(url: str, tables: Sequence[str], schema: str | None, as_json: bool) -> int:
    from hermetic import create_engine, inspect
    from hermetic.pool import NullPool

    def fail(message: str) -> int:
        print(f"hermetic inspect: {message}", file=sys.stderr)
        return 1

    try:
        engine = create_engine(url, poolclass=NullPool)
    except exc.HermeticError as e:
        return fail(_first_line(e))
    masked = engine.url.render_as_string(hide_password=True)
    database = engine.url.database
    if (
        engine.url.get_backend_name() == "sqlite"
        and database
        and database != ":memory:"
        and not database.startswith("file:")
        and not os.path.exists(database)
    ):
        return fail(f"no such SQLite database file: {database}")
    try:
        with engine.connect() as conn:
            report = describe(inspect(conn), schema, tables)
    except _UserError as e:
        return fail(f"{e} in {masked}")
    except exc.HermeticError as e:
        return fail(f"cannot inspect {masked}: {_first_line(e)}")
    finally:
        engine.dispose()
    if as_json:
        doc = {"url": masked, "dialect": engine.dialect.name, "schema": schema, "tables": report}
        print(json.dumps(doc, indent=2, default=str))
    else:
        print(render(report, masked + (f" schema {schema}" if schema else "")))
    return 0
