"""Rendering statements for a dialect and a driver's paramstyle.

The product is a :class:`Compiled`: the SQL string, the order of its parameters, the
types that convert them, and the result columns. The engine caches one per statement and
dialect; everything that can be decided once is decided here so the per-execution path is
a dict merge and a driver call.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hermetic import exc
from hermetic.sql import operators as _ops
from hermetic.sql.elements import BindParameter, TextClause, TextualSelect

_PLACEHOLDER: dict[str, Callable[[str, int], str]] = {
    "named": lambda name, i: f":{name}",
    "pyformat": lambda name, i: f"%({name})s",
    "qmark": lambda name, i: "?",
    "format": lambda name, i: "%s",
    "numeric": lambda name, i: f":{i}",
    "numeric_dollar": lambda name, i: f"${i}",
}


class Compiled:
    """One statement rendered for one dialect/paramstyle."""

    __slots__ = (
        "_empty_set",
        "_expanded_strings",
        "_meta_cache",
        "_render",
        "_template",
        "bind_processors",
        "bind_slots",
        "binds",
        "defaults",
        "expanding",
        "positional",
        "positiontup",
        "required",
        "result_columns",
        "result_objects",
        "statement",
        "string",
    )

    def __init__(
        self,
        statement: Any,
        string: str,
        positional: bool,
        positiontup: tuple[str, ...],
        binds: Mapping[str, BindParameter],
        bind_processors: Mapping[str, Callable[[Any], Any]],
        result_columns: Sequence[tuple[str, Any]] | None,
        template: Sequence[tuple[str, str | None]] = (),
        dialect: Any = None,
    ) -> None:
        self.statement = statement
        self.string = string
        self.positional = positional
        self.positiontup = positiontup
        self.binds = dict(binds)
        self.bind_processors = dict(bind_processors)
        self.defaults = {k: b for k, b in binds.items() if not b.required}
        self.required = frozenset(k for k, b in binds.items() if b.required)
        self.result_columns = result_columns
        self._meta_cache: Any = None
        # Expanding parameters (``IN :ids`` with a list) are rendered per execution from
        # the template: one placeholder per value, or the dialect's empty set.
        self.expanding = frozenset(k for k, b in binds.items() if b.expanding)
        self._template = tuple(template)
        self._render = _PLACEHOLDER[dialect.paramstyle] if dialect is not None else None
        self._empty_set = (
            {k: dialect.empty_set_expression(b.type) for k, b in binds.items() if b.expanding}
            if dialect is not None
            else {}
        )
        self._expanded_strings: dict[tuple[int, ...], str] = {}
        # Core statements: (bind name, index in the statement's bind traversal) for the
        # values a structurally equal statement supplies; per-column key objects.
        self.bind_slots: tuple[tuple[str, int], ...] = ()
        self.result_objects: list[tuple[Any, ...]] | None = None

    def __str__(self) -> str:
        return self.string

    def missing(self, params: Mapping[str, Any]) -> BaseException:
        names = sorted(self.required.difference(params))
        name = names[0]
        return exc.InvalidRequestError(
            f"A value is required for bind parameter {name!r}"
            + (f" (and {', '.join(map(repr, names[1:]))})" if len(names) > 1 else "")
            + f"; pass it in the parameters, e.g. conn.execute(stmt, {{{name!r}: ...}}), "
            "or give it a value with .bindparams()",
        )

    def construct_params(self, params: Mapping[str, Any] | None) -> Any:
        """Driver-ready parameters for one execution (dict, or tuple when positional)."""
        if params is None:
            params = {}
        if self.defaults or self.bind_processors or self.positional:
            merged = {k: b.effective_value for k, b in self.defaults.items()}
            merged.update(params)
            params = merged
        if not self.required.issubset(params):
            raise self.missing(params)
        if self.bind_processors:
            params = dict(params)
            for key, proc in self.bind_processors.items():
                if key in params:
                    params[key] = proc(params[key])
        if self.positional:
            return tuple(params[k] for k in self.positiontup)
        return params

    def process(self, params: Mapping[str, Any] | None) -> tuple[str, Any]:
        """The SQL string and driver parameters for one execution."""
        if not self.expanding:
            return self.string, self.construct_params(params)
        merged = {k: b.effective_value for k, b in self.defaults.items()}
        merged.update(params or {})
        if not self.required.issubset(merged):
            raise self.missing(merged)
        procs = self.bind_processors
        render = self._render
        assert render is not None
        out: dict[str, Any] = {}
        order: list[str] = []
        lengths: list[int] = []
        parts: list[str] = []
        for piece, name in self._template:
            parts.append(piece)
            if name is None:
                continue
            proc = procs.get(name)
            if name in self.expanding:
                values = merged[name]
                if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                    raise exc.ArgumentError(
                        f"Bind parameter {name!r} is expanding (as in IN :{name}); pass a "
                        f"list or tuple of values, got {type(values).__name__}"
                    )
                values = list(values)
                lengths.append(len(values))
                if not values:
                    parts.append(f"({self._empty_set[name]})")
                    continue
                marks = []
                for i, v in enumerate(values, 1):
                    sub = f"{name}_{i}"
                    out[sub] = proc(v) if proc is not None else v
                    order.append(sub)
                    marks.append(render(sub, len(order)))
                parts.append("(" + ", ".join(marks) + ")")
            else:
                value = merged[name]
                out[name] = proc(value) if proc is not None else value
                order.append(name)
                parts.append(render(name, len(order)))
        key = tuple(lengths)
        string = self._expanded_strings.get(key)
        if string is None:
            string = "".join(parts)
            if len(self._expanded_strings) < 64:
                self._expanded_strings[key] = string
        if self.positional:
            return string, tuple(out[k] for k in order)
        return string, out


def compile_textual(stmt: TextClause | TextualSelect, dialect: Any) -> Compiled:
    text = stmt.element if isinstance(stmt, TextualSelect) else stmt
    style = dialect.paramstyle
    render = _PLACEHOLDER[style]
    escape_percent = style in ("pyformat", "format")
    parts: list[str] = []
    positiontup: list[str] = []
    template: list[tuple[str, str | None]] = []
    for i, piece in enumerate(text._pieces):
        literal = piece.replace("%", "%%") if escape_percent else piece
        parts.append(literal)
        if i < len(text._names):
            name = text._names[i]
            positiontup.append(name)
            parts.append(render(name, len(positiontup)))
            template.append((literal, name))
        else:
            template.append((literal, None))
    binds = text._bindparams
    bind_processors = {}
    for key, b in binds.items():
        proc = b.type.bind_processor(dialect)
        if proc is not None:
            bind_processors[key] = proc
    result_columns = None
    if isinstance(stmt, TextualSelect):
        result_columns = [(str(c.key), c.type) for c in stmt.column_args]
    return Compiled(
        stmt,
        "".join(parts),
        dialect.positional,
        tuple(positiontup),
        binds,
        bind_processors,
        result_columns,
        template,
        dialect,
    )


# ---------------------------------------------------------------------------------------
# The Core compiler: element trees -> Compiled


def _assemble(
    template: Sequence[tuple[str, str | None]], dialect: Any
) -> tuple[str, tuple[str, ...]]:
    """The SQL string and positional order of a (literal, bind name) template."""
    render = _PLACEHOLDER[dialect.paramstyle]
    parts: list[str] = []
    order: list[str] = []
    for literal, name in template:
        parts.append(literal)
        if name is not None:
            order.append(name)
            parts.append(render(name, len(order)))
    return "".join(parts), tuple(order)


# Words that must be quoted when used as identifiers (the common core of SQL:2016,
# PostgreSQL and SQLite reserved words); mixed-case names are quoted too.
RESERVED_WORDS = frozenset(
    [
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "between",
        "binary",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "cross",
        "current_date",
        "current_role",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "natural",
        "not",
        "notnull",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "overlaps",
        "placing",
        "primary",
        "references",
        "returning",
        "right",
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
    ]
)
_LEGAL = re.compile(r"^[a-z_][a-z0-9_$]*$")


def quote_identifier(name: str) -> str:
    if _LEGAL.match(name) and name not in RESERVED_WORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


# Generic SQL names of types for CAST; dialects override entries (``type_names``).
_TYPE_NAMES = {
    "Integer": "INTEGER",
    "SmallInteger": "SMALLINT",
    "BigInteger": "BIGINT",
    "Float": "FLOAT",
    "Double": "DOUBLE PRECISION",
    "Boolean": "BOOLEAN",
    "DateTime": "TIMESTAMP",
    "Date": "DATE",
    "Time": "TIME",
    "LargeBinary": "BLOB",
    "Text": "TEXT",
}


def type_sql(type_: Any, dialect: Any) -> str:
    affinity = getattr(type_, "_type_affinity", type(type_))
    name = getattr(affinity, "__name__", "")
    overrides = getattr(dialect, "type_names", {})
    if name in overrides:
        return str(overrides[name])
    if name in ("String", "Unicode"):
        length = getattr(type_, "length", None)
        return f"VARCHAR({length})" if length else "VARCHAR"
    if name == "Numeric":
        p, s = getattr(type_, "precision", None), getattr(type_, "scale", None)
        if p is not None:
            return f"NUMERIC({p}, {s})" if s is not None else f"NUMERIC({p})"
        return "NUMERIC"
    return _TYPE_NAMES.get(name, name.upper() or "VARCHAR")


class _State:
    """What one compilation accumulates (passed to every visit method)."""

    __slots__ = (
        "anon",
        "bare_columns",
        "bind_names",
        "binds",
        "buf",
        "enclosing",
        "in_columns",
        "template",
    )

    def __init__(self) -> None:
        self.template: list[tuple[str, str | None]] = []
        self.buf: list[str] = []
        self.bind_names: dict[int, str] = {}
        self.binds: dict[str, BindParameter] = {}
        self.anon: dict[str, int] = {}
        self.in_columns = False
        # columns without their table (a compound SELECT's ORDER BY names result columns)
        self.bare_columns = False
        # FROM entries of the enclosing SELECTs, for auto-correlation of subqueries
        self.enclosing: list[set[int]] = []

    def write(self, text: str) -> None:
        self.buf.append(text)

    def bind(self, name: str) -> None:
        self.template.append(("".join(self.buf), name))
        self.buf.clear()

    def finish(self) -> list[tuple[str, str | None]]:
        self.template.append(("".join(self.buf), None))
        self.buf.clear()
        return self.template


class SQLCompiler:
    """Renders element trees for one dialect: ``visit_<__visit_name__>(element, state)``."""

    def __init__(self, dialect: Any, literal_binds: bool = False) -> None:
        self.dialect = dialect
        self.literal_binds = literal_binds

    def compile_statement(self, stmt: Any) -> Compiled:
        state = _State()
        result_columns: list[tuple[str, Any]] = []
        result_objects: list[tuple[Any, ...]] = []
        self.process(stmt, state, result_columns, result_objects)
        template = state.finish()
        if self.dialect.paramstyle in ("pyformat", "format"):
            template = [(lit.replace("%", "%%"), n) for lit, n in template]
        string, positiontup = _assemble(template, self.dialect)
        compiled = Compiled(
            stmt,
            string,
            self.dialect.positional,
            positiontup,
            state.binds,
            _bind_processors(state.binds, self.dialect),
            result_columns or None,
            template,
            self.dialect,
        )
        compiled.result_objects = result_objects or None
        # Where each rendered bind sits in the statement's traversal order, so that a
        # structurally equal statement can reuse this Compiled with its own values.
        _key, traversal = stmt._key_and_binds()
        position = {id(b): i for i, b in enumerate(traversal)}
        compiled.bind_slots = tuple(
            (name, position[id(b)])
            for name, b in state.binds.items()
            if id(b) in position and not b.required
        )
        return compiled

    def process(self, element: Any, state: _State, *args: Any) -> None:
        visit = getattr(self, f"visit_{element.__visit_name__}", None)
        if visit is None:
            raise exc.UnsupportedCompilationError(
                f"hermetic cannot render {type(element).__name__} for {self.dialect.name} yet"
            )
        visit(element, state, *args)

    # -- statements ---------------------------------------------------------------------
    def visit_select(
        self,
        stmt: Any,
        state: _State,
        result_columns: list[tuple[str, Any]] | None = None,
        result_objects: list[tuple[Any, ...]] | None = None,
    ) -> None:
        w = state.write
        if not state.enclosing:
            self._with_clause(stmt, state)
        w("SELECT ")
        if stmt._distinct_on:
            if not self.dialect.supports_distinct_on:
                raise exc.CompileError(
                    f"DISTINCT ON is PostgreSQL only; {self.dialect.name} cannot render it. "
                    "Use a window function (row_number() OVER ...) or GROUP BY instead"
                )
            w("DISTINCT ON (")
            for i, e in enumerate(stmt._distinct_on):
                if i:
                    w(", ")
                self.process(e, state)
            w(") ")
        elif stmt._distinct:
            w("DISTINCT ")
        outer_columns = state.in_columns
        froms = stmt._froms()
        if state.enclosing:
            # auto-correlation: a nested SELECT does not repeat the enclosing query's
            # tables in its FROM (unless that would leave it none)
            outer = state.enclosing[-1]
            inner = [f for f in froms if id(f) not in outer]
            if inner:
                froms = inner
        state.enclosing.append({id(c) for f in froms for c in f._covers()})
        state.in_columns = True
        anon = 0
        for i, col in enumerate(stmt._raw_columns):
            if i:
                w(", ")
            visit = col.__visit_name__
            key = getattr(col, "key", None) or getattr(col, "name", None)
            self.process(col, state)
            if visit == "function":
                n = state.anon.get("fn:" + col.name, 0) + 1
                state.anon["fn:" + col.name] = n
                key = f"{col.name}_{n}"
                w(f" AS {quote_identifier(key)}")
            elif visit not in ("column", "label"):
                anon += 1
                key = f"anon_{anon}"
                w(f" AS {key}")
            if result_columns is not None:
                result_columns.append((str(key or f"anon_{i}"), col.type))
            if result_objects is not None:
                result_objects.append((col,))
        state.in_columns = False
        if froms:
            w(" FROM ")
            for i, f in enumerate(froms):
                if i:
                    w(", ")
                self.process(f, state)
        self._clause(stmt._where, " WHERE ", " AND ", state, and_=True)
        self._clause(stmt._group_by, " GROUP BY ", ", ", state)
        self._clause(stmt._having, " HAVING ", " AND ", state, and_=True)
        self._clause(stmt._order_by, " ORDER BY ", ", ", state)
        self.limit_clause(stmt, state)
        if stmt._for_update is not None and self.dialect.supports_for_update:
            self.for_update_clause(stmt, state)
        state.enclosing.pop()
        state.in_columns = outer_columns

    def _clause(
        self, items: list[Any], head: str, sep: str, state: _State, and_: bool = False
    ) -> None:
        if not items:
            return
        state.write(head)
        for i, item in enumerate(items):
            if i:
                state.write(sep)
            if and_ and len(items) > 1:
                self.process(item.self_group(_ops.and_), state)
            else:
                self.process(item, state)

    def limit_clause(self, stmt: Any, state: _State) -> None:
        if stmt._limit is not None:
            state.write(" LIMIT ")
            self.process(stmt._limit, state)
        elif stmt._offset is not None and self.dialect.offset_requires_limit:
            state.write(" LIMIT -1")
        if stmt._offset is not None:
            state.write(" OFFSET ")
            self.process(stmt._offset, state)

    def for_update_clause(self, stmt: Any, state: _State) -> None:
        read, nowait, skip_locked, key_share = stmt._for_update
        if read:
            state.write(" FOR KEY SHARE" if key_share else " FOR SHARE")
        else:
            state.write(" FOR NO KEY UPDATE" if key_share else " FOR UPDATE")
        if stmt._for_update_of:
            state.write(" OF ")
            names = []
            for target in stmt._for_update_of:
                table = getattr(target, "table", None) or target
                name = quote_identifier(table.name)
                if name not in names:
                    names.append(name)
            state.write(", ".join(names))
        if nowait:
            state.write(" NOWAIT")
        elif skip_locked:
            state.write(" SKIP LOCKED")

    def visit_compound_select(
        self,
        stmt: Any,
        state: _State,
        result_columns: list[tuple[str, Any]] | None = None,
        result_objects: list[tuple[Any, ...]] | None = None,
    ) -> None:
        top = not state.enclosing
        if top:
            # members share one WITH at the top: collect their CTEs first
            for member in stmt.selects:
                if member.__visit_name__ == "select":
                    self._with_clause(member, state)
            state.enclosing.append(set())
        for i, member in enumerate(stmt.selects):
            if i:
                state.write(f" {stmt.keyword} ")
            wrap = bool(
                getattr(member, "_order_by", None)
                or getattr(member, "_limit", None) is not None
                or getattr(member, "_offset", None) is not None
                or member.__visit_name__ == "compound_select"
            )
            if wrap:
                # SQLite rejects parenthesized members: select from them instead
                state.write("SELECT * FROM (")
            if i == 0:
                self.process(member, state, result_columns, result_objects)
            else:
                self.process(member, state)
            if wrap:
                state.write(f") AS anon_member_{i + 1}")
        state.bare_columns = True
        self._clause(stmt._order_by, " ORDER BY ", ", ", state)
        state.bare_columns = False
        self.limit_clause(stmt, state)
        if top:
            state.enclosing.pop()

    # -- FROM ---------------------------------------------------------------------------
    def visit_table(self, table: Any, state: _State) -> None:
        if table.schema:
            state.write(quote_identifier(table.schema) + ".")
        state.write(quote_identifier(table.name))

    def _with_clause(self, stmt: Any, state: _State) -> None:
        """``WITH name AS (...)`` for every CTE the statement selects from (directly or
        in a join), before its SELECT; recursive when any of them is."""
        ctes: dict[int, Any] = {}
        for f in stmt._froms():
            for part in f._covers():
                if part.__visit_name__ == "cte":
                    ctes.setdefault(id(part), part)
        if not ctes:
            return
        recursive = any(c.recursive for c in ctes.values())
        state.write("WITH RECURSIVE " if recursive else "WITH ")
        state.enclosing.append(set())  # CTE bodies are nested: no WITH of their own
        for i, cte in enumerate(ctes.values()):
            if i:
                state.write(", ")
            state.write(quote_identifier(cte.name) + " AS ")
            self._nested_select(cte.element, state)
        state.enclosing.pop()
        state.write(" ")

    def visit_cte(self, cte: Any, state: _State) -> None:
        state.write(quote_identifier(cte.name))

    def visit_join(self, join: Any, state: _State) -> None:
        self.process(join.left, state)
        if join.full:
            state.write(" FULL OUTER JOIN ")
        elif join.isouter:
            state.write(" LEFT OUTER JOIN ")
        else:
            state.write(" JOIN ")
        self.process(join.right, state)
        state.write(" ON ")
        self.process(join.onclause, state)

    def visit_alias(self, alias: Any, state: _State) -> None:
        element = alias.element
        if element.__visit_name__ == "select":
            self._nested_select(element, state)
        else:
            self.process(element, state)
        state.write(" AS " + quote_identifier(alias.name))

    visit_subquery = visit_alias

    def _nested_select(self, select: Any, state: _State) -> None:
        in_columns = state.in_columns
        state.in_columns = False
        state.write("(")
        self.process(select, state)
        state.write(")")
        state.in_columns = in_columns

    def visit_scalar_select(self, elem: Any, state: _State) -> None:
        self._nested_select(elem.element, state)

    def visit_exists(self, elem: Any, state: _State) -> None:
        state.write("EXISTS ")
        self._nested_select(elem.element, state)

    def visit_function(self, fn: Any, state: _State) -> None:
        from hermetic.sql.functions import NO_PARENS

        name = ".".join([*(quote_identifier(p) for p in fn.packagenames), fn.name])
        args = fn.clause_expr.clauses
        if not args and fn.name.lower() in NO_PARENS and not fn.packagenames:
            state.write(name.upper())
            return
        state.write(name + "(")
        if not args and fn.name.lower() == "count":
            state.write("*")
        in_columns = state.in_columns
        state.in_columns = False
        self.process(fn.clause_expr, state)
        state.in_columns = in_columns
        state.write(")")

    # -- expressions ----------------------------------------------------------------------
    def visit_column(self, col: Any, state: _State) -> None:
        if col.is_literal:
            state.write(col.name)
            return
        if col.table is not None and col.table.name and not state.bare_columns:
            state.write(quote_identifier(col.table.name) + ".")
        state.write(quote_identifier(col.name))

    def visit_bindparam(self, bind: Any, state: _State) -> None:
        if self.literal_binds and not bind.required:
            state.write(self.render_literal(bind.effective_value, bind.expanding))
            return
        name = state.bind_names.get(id(bind))
        if name is None:
            if bind.unique:
                n = state.anon.get(bind.key, 0) + 1
                state.anon[bind.key] = n
                name = f"{bind.key}_{n}"
            else:
                name = bind.key
                existing = state.binds.get(name)
                if existing is not None and existing is not bind:
                    raise exc.CompileError(
                        f"Bind parameter {name!r} appears twice with different "
                        "definitions; give them distinct names"
                    )
            state.bind_names[id(bind)] = name
            state.binds[name] = bind
        state.bind(name)

    def render_literal(self, value: Any, expanding: bool = False) -> str:
        """A value as SQL text (``literal_binds``): for printing statements; executions
        always bind."""
        if expanding:
            items = [self.render_literal(v) for v in value]
            return "(" + ", ".join(items) + ")" if items else "(NULL)"
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            if self.dialect.supports_native_boolean:
                return "true" if value else "false"
            return "1" if value else "0"
        if isinstance(value, (int, float, decimal.Decimal)):
            return str(value)
        if isinstance(value, dt.datetime):
            return "'" + value.isoformat(" ") + "'"
        if isinstance(value, (dt.date, dt.time)):
            return "'" + value.isoformat() + "'"
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        raise exc.CompileError(
            f"No literal rendering for {type(value).__name__} values ({value!r:.60}); "
            "compile without literal_binds to see the statement with bound parameters"
        )

    def visit_binary(self, binary: Any, state: _State) -> None:
        op = binary.operator
        if op in (_ops.ilike_op, _ops.not_ilike_op) and not self.dialect.supports_ilike:
            state.write("lower(")
            self.process(binary.left, state)
            state.write(") NOT LIKE lower(" if op is _ops.not_ilike_op else ") LIKE lower(")
            self.process(binary.right, state)
            state.write(")")
            self._escape(binary, state)
            return
        self.process(binary.left, state)
        state.write(f" {op.sql} ")
        if op in (_ops.in_op, _ops.not_in_op) and binary.right.__visit_name__ not in (
            "bindparam",
            "scalar_select",
        ):
            state.write("(")
            self.process(binary.right, state)
            state.write(")")
        else:
            self.process(binary.right, state)
        self._escape(binary, state)

    def _escape(self, binary: Any, state: _State) -> None:
        if binary.escape is not None:
            state.write(" ESCAPE '" + binary.escape.replace("'", "''") + "'")

    def visit_json_getitem(self, elem: Any, state: _State) -> None:
        before, after = self.dialect.json_getitem(elem.path, elem.mode)
        state.write(before)
        self.process(elem.element.self_group(_ops.collate), state)
        state.write(after)

    def visit_type_coerce(self, elem: Any, state: _State) -> None:
        self.process(elem.element, state)

    def visit_within_group(self, elem: Any, state: _State) -> None:
        self.process(elem.element, state)
        state.write(" WITHIN GROUP (ORDER BY ")
        for i, c in enumerate(elem.order_by):
            if i:
                state.write(", ")
            self.process(c, state)
        state.write(")")

    def visit_lateral(self, alias: Any, state: _State) -> None:
        state.write("LATERAL ")
        self.visit_alias(alias, state)

    def visit_tuple(self, elem: Any, state: _State) -> None:
        state.write("(")
        self.visit_clauselist(elem, state)
        state.write(")")

    def visit_case(self, case: Any, state: _State) -> None:
        state.write("CASE")
        if case.value is not None:
            state.write(" ")
            self.process(case.value, state)
        for when in case.whens:
            cond, result = when.clauses
            state.write(" WHEN ")
            self.process(cond, state)
            state.write(" THEN ")
            self.process(result, state)
        if case.else_ is not None:
            state.write(" ELSE ")
            self.process(case.else_, state)
        state.write(" END")

    def visit_over(self, over: Any, state: _State) -> None:
        self.process(over.element, state)
        parts: list[str] = []
        state.write(" OVER (")
        if over.partition_by:
            state.write("PARTITION BY ")
            for i, c in enumerate(over.partition_by):
                if i:
                    state.write(", ")
                self.process(c, state)
            parts.append("p")
        if over.order_by:
            state.write(" ORDER BY " if parts else "ORDER BY ")
            for i, c in enumerate(over.order_by):
                if i:
                    state.write(", ")
                self.process(c, state)
            parts.append("o")
        for kind, frame in (("ROWS", over.rows), ("RANGE", over.range_)):
            if frame is not None:
                state.write((" " if parts else "") + f"{kind} BETWEEN {_frame(frame)}")
        state.write(")")

    def visit_funcfilter(self, elem: Any, state: _State) -> None:
        self.process(elem.func, state)
        state.write(" FILTER (WHERE ")
        self.process(elem.criterion, state)
        state.write(")")

    def visit_extract(self, elem: Any, state: _State) -> None:
        field = elem.field.lower()
        if self.dialect.supports_extract:
            state.write(f"EXTRACT({field.upper()} FROM ")
            self.process(elem.expr, state)
            state.write(")")
            return
        template = self.dialect.extract_templates.get(field)
        if template is None:
            raise exc.CompileError(f"{self.dialect.name} cannot EXTRACT({field})")
        before, after = template.split("{expr}")
        state.write(before)
        self.process(elem.expr, state)
        state.write(after)

    def visit_grouping(self, grouping: Any, state: _State) -> None:
        state.write("(")
        self.process(grouping.element, state)
        state.write(")")

    def visit_clauselist(self, clauses: Any, state: _State) -> None:
        sep = ", " if clauses.operator is _ops.comma_op else f" {clauses.operator.sql} "
        for i, c in enumerate(clauses.clauses):
            if i:
                state.write(sep)
            self.process(c, state)

    def visit_unary(self, unary: Any, state: _State) -> None:
        if unary.operator in (_ops.any_op, _ops.all_op):
            state.write(unary.operator.sql + " (")
            self.process(unary.element, state)
            state.write(")")
            return
        if unary.operator is not None:
            sql = unary.operator.sql
            state.write(sql if sql == "-" else sql + " ")
        self.process(unary.element, state)
        if unary.modifier is not None:
            state.write(" " + unary.modifier.sql)

    def visit_label(self, label: Any, state: _State) -> None:
        in_columns = state.in_columns
        state.in_columns = False
        self.process(label.element, state)
        state.in_columns = in_columns
        if in_columns:
            state.write(" AS " + quote_identifier(label.name))

    def visit_cast(self, cast: Any, state: _State) -> None:
        state.write("CAST(")
        self.process(cast.element, state)
        state.write(f" AS {type_sql(cast.type, self.dialect)})")

    def visit_null(self, elem: Any, state: _State) -> None:
        state.write("NULL")

    def visit_true(self, elem: Any, state: _State) -> None:
        state.write("true" if self.dialect.supports_native_boolean else "1")

    def visit_false(self, elem: Any, state: _State) -> None:
        state.write("false" if self.dialect.supports_native_boolean else "0")


def _frame(frame: tuple[int | None, int | None]) -> str:
    def bound(value: int | None, preceding: bool) -> str:
        if value is None:
            return "UNBOUNDED " + ("PRECEDING" if preceding else "FOLLOWING")
        if value == 0:
            return "CURRENT ROW"
        return f"{abs(int(value))} " + ("PRECEDING" if value < 0 else "FOLLOWING")

    start, end = frame
    return f"{bound(start, True)} AND {bound(end, False)}"


def _bind_processors(
    binds: Mapping[str, BindParameter], dialect: Any
) -> dict[str, Callable[[Any], Any]]:
    procs = {}
    for key, b in binds.items():
        proc = b.type.bind_processor(dialect)
        if proc is not None:
            procs[key] = proc
    return procs


class _GenericDialect:
    """What ``str(statement)`` renders for: named binds, no database."""

    name = "default"
    paramstyle = "named"
    positional = False
    supports_native_boolean = True
    supports_native_decimal = True
    supports_native_datetime = True
    offset_requires_limit = False
    supports_ilike = True
    supports_extract = True
    supports_distinct_on = True
    supports_for_update = True
    extract_templates: dict[str, str] = {}
    type_names: dict[str, str] = {}

    def empty_set_expression(self, type_: Any) -> str:
        return "SELECT 1 WHERE 1!=1"

    def json_getitem(self, path: tuple[str | int, ...], mode: str) -> tuple[str, str]:
        return "", "[" + ", ".join(map(repr, path)) + "]"


def generic_string(stmt: Any) -> str:
    return SQLCompiler(_GenericDialect()).compile_statement(stmt).string
