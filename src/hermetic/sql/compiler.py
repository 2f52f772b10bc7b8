"""Rendering statements for a dialect and a driver's paramstyle.

The product is a :class:`Compiled`: the SQL string, the order of its parameters, the
types that convert them, and the result columns. The engine caches one per statement and
dialect; everything that can be decided once is decided here so the per-execution path is
a dict merge and a driver call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hermetic import exc
from hermetic._util import gcpause
from hermetic.sql import operators as _ops
from hermetic.sql import sqltypes
from hermetic.sql.elements import BindParameter, TextClause, TextualSelect

_PLACEHOLDER: dict[str, Callable[[str, int], str]] = {
    "named": lambda name, i: f":{name}",
    "pyformat": lambda name, i: f"%({name})s",
    "qmark": lambda name, i: "?",
    "format": lambda name, i: "%s",
    "numeric": lambda name, i: f":{i}",
    "numeric_dollar": lambda name, i: f"${i}",
}


def _shown(value: Any, limit: int = 100) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class BindValueError(Exception):
    """A bind processor could not convert a value: which parameter, which value (and in
    which parameter set of an executemany); the engine wraps it in StatementError."""

    def __init__(
        self, name: str, value: Any, type_: Any, orig: Exception, index: int | None = None
    ) -> None:
        super().__init__(name, value, type_, orig)
        self.name = name
        self.value = value
        self.type = type_
        self.orig = orig
        self.index = index

    def describe(self, hide_value: bool = False) -> str:
        shown = "" if hide_value else f" = {_shown(self.value)}"
        where = f" in parameter set {self.index}" if self.index is not None else ""
        try:
            python_type = self.type.python_type
        except Exception:  # a type may not know its Python type (NotImplementedError)
            python_type = object
        if not isinstance(python_type, type):
            python_type = object
        wanted = (
            f"pass {python_type.__module__ + '.' if python_type.__module__ != 'builtins' else ''}"
            f"{python_type.__qualname__} values"
            if python_type is not object
            else "pass a value the type accepts"
        )
        return (
            f"[bind parameter {self.name!r}{shown} ({type(self.value).__qualname__}){where}: "
            f"the {self.type!r} type cannot convert it ({self.orig}); {wanted}, or convert "
            "the value before executing]"
        )


def _needs_loop(binds: Sequence[BindParameter]) -> Any:
    raise LookupError("a value that execution_params() must find")


class Compiled:
    """One statement rendered for one dialect/paramstyle."""

    __slots__ = (
        "_empty_set",
        "_expanded_strings",
        "_from_binds",
        "_many",
        "_meta_cache",
        "_plan",
        "_render",
        "_template",
        "_tuple_procs",
        "_tuple_values",
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
        # row-value IN (``tuple_(a, b).in_([(1, 2), ...])``): per bind, the bind
        # processors of the tuple's members; rendered as ``IN (VALUES (...), ...)`` where
        # the dialect wants that form
        self._tuple_procs: dict[str, tuple[Callable[[Any], Any] | None, ...]] = {}
        self._tuple_values = False
        # built on first execution (see execution_params / many_params)
        self._plan: tuple[tuple[str, int, BindParameter | None, Any], ...] | None = None
        self._many: Callable[[Sequence[Mapping[str, Any]]], list[Any]] | None = None
        self._from_binds: Callable[[Sequence[BindParameter]], Any] | None = None

    def _set_tuple_binds(self, types: Mapping[str, tuple[Any, ...]], dialect: Any) -> None:
        for name, member_types in types.items():
            self.bind_processors.pop(name, None)
            self._tuple_procs[name] = tuple(t.bind_processor(dialect) for t in member_types)
            self._empty_set[name] = dialect.empty_set_expression(tuple(member_types))
        self._tuple_values = bool(getattr(dialect, "tuple_in_values", False))

    def __str__(self) -> str:
        return self.string

    def missing(self, params: Mapping[str, Any], index: int | None = None) -> BaseException:
        names = sorted(self.required.difference(params))
        name = names[0]
        return exc.InvalidRequestError(
            f"A value is required for bind parameter {name!r}"
            + (f" (and {', '.join(map(repr, names[1:]))})" if len(names) > 1 else "")
            + (f" in parameter set {index}" if index is not None else "")
            + f"; pass it in the parameters, e.g. conn.execute(stmt, {{{name!r}: ...}}), "
            "or give it a value with .bindparams()",
        )

    def construct_params(self, params: Mapping[str, Any] | None) -> Any:
        """Driver-ready parameters for one execution (dict, or tuple when positional)."""
        return self.execution_params(None, params)

    # -- the per-execution path -------------------------------------------------------
    # Decided once per Compiled: for each driver parameter, in the driver's order, where
    # its value comes from and which processor converts it. An execution is then one
    # pass over that plan: no merged dicts.

    def _build_plan(self) -> tuple[tuple[str, int, BindParameter | None, Any], ...]:
        """(name, slot in the statement's bind traversal or -1, default bind or None,
        bind processor or None) per driver parameter."""
        slots = dict(self.bind_slots)
        names = self.positiontup if self.positional else tuple(self.binds)
        plan = tuple(
            (
                name,
                slots.get(name, -1),
                self.defaults.get(name),
                self.bind_processors.get(name),
            )
            for name in names
        )
        self._plan = plan
        return plan

    def execution_params(
        self, binds: Sequence[BindParameter] | None, params: Mapping[str, Any] | None
    ) -> Any:
        """Driver-ready parameters for one execution of a statement without expanding
        parameters: each value from ``params``, else from ``binds`` (the executed
        statement's own bound parameters in traversal order, when it is structurally
        equal to the compiled one; see ``bind_slots``), else the compiled default; then
        its bind processor. A tuple when the paramstyle is positional, else a dict."""
        if binds is not None and not params:
            # a structurally equal statement executed again with its own values: the
            # generated function (the loop below reports any problem)
            from_binds = self._from_binds
            if from_binds is None:
                from_binds = self._from_binds = self._build_from_binds()
            try:
                return from_binds(binds)
            except Exception:
                pass
        plan = self._plan
        if plan is None:
            plan = self._build_plan()
        positional = self.positional
        values: list[Any] = []
        named: dict[str, Any] = {}
        for name, slot, default, proc in plan:
            if params and name in params:
                value = params[name]
            elif slot >= 0 and binds is not None:
                b = binds[slot]
                value = b.value if b.callable is None else b.callable()
            elif default is not None:
                value = default.value if default.callable is None else default.callable()
            else:
                raise self.missing(params or {})
            if proc is not None:
                try:
                    value = proc(value)
                except Exception as e:
                    raise BindValueError(name, value, self.binds[name].type, e) from e
            if positional:
                values.append(value)
            else:
                named[name] = value
        return tuple(values) if positional else named

    def _build_from_binds(self) -> Callable[[Sequence[BindParameter]], Any]:
        """``execution_params(binds, None)`` as straight-line generated code: each value
        from its slot of ``binds`` (or the compiled constant default), then its
        processor. Raises (for the loop to report) when a value is required."""
        plan = self._plan
        if plan is None:
            plan = self._build_plan()
        namespace: dict[str, Any] = {}
        lines = ["def from_binds(binds):"]
        for i, (_name, slot, default, proc) in enumerate(plan):
            if slot >= 0:
                lines.append(f"    b = binds[{slot}]")
                lines.append(f"    v{i} = b.value if b.callable is None else b.callable()")
            elif default is not None and default.callable is None:
                namespace[f"_d{i}"] = default.value
                lines.append(f"    v{i} = _d{i}")
            else:  # required, or a callable default: the loop handles it
                return _needs_loop
            if proc is not None:
                namespace[f"_p{i}"] = proc
                lines.append(f"    v{i} = _p{i}(v{i})")
        values = [f"v{i}" for i in range(len(plan))]
        if self.positional:
            lines.append("    return (" + "".join(v + ", " for v in values) + ")")
        else:
            pairs = ", ".join(f"{entry[0]!r}: {v}" for entry, v in zip(plan, values, strict=True))
            lines.append("    return {" + pairs + "}")
        source = "\n".join(lines) + "\n"
        exec(compile(source, "<hermetic execution parameters>", "exec"), namespace)
        return namespace["from_binds"]  # type: ignore[no-any-return]

    def many_params(self, params: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Driver-ready parameter sets for executemany: one generated list
        comprehension that reads each value (or its constant default) from each set and
        applies its processor. A set that lacks a value is reported as by
        :meth:`execution_params`."""
        many = self._many
        if many is None:
            many = self._many = self._build_many()
        # The new tuples (or dicts) are freed right after the executemany: building
        # thousands of them with the cyclic collector on triggers its passes, full-heap
        # ones included, over objects that cannot be in cycles.
        try:
            if len(params) < gcpause.MIN_OBJECTS:
                return many(params)
            with gcpause.paused():
                return many(params)
        except Exception:
            pass
        # Find the set and the parameter to blame (or convert what the generated code
        # could not, such as a Mapping without .get).
        out = []
        for i, p in enumerate(params):
            try:
                out.append(self.execution_params(None, p))
            except BindValueError as e:
                e.index = i
                raise
            except exc.InvalidRequestError:
                raise self.missing(p, i) from None
        return out

    def _build_many(self) -> Callable[[Sequence[Mapping[str, Any]]], list[Any]]:
        plan = self._plan
        if plan is None:
            plan = self._build_plan()
        # Names enter the source as literals (repr() of a str is one); values and
        # processors as globals of the generated function.
        namespace: dict[str, Any] = {}
        values = []
        for i, (name, _slot, default, proc) in enumerate(plan):
            if default is None:
                value = f"p[{name!r}]"
            elif default.callable is None:
                namespace[f"_d{i}"] = default.value
                value = f"p.get({name!r}, _d{i})"
            else:  # a callable default: evaluated per set, as for one execution
                return lambda params: [self.execution_params(None, p) for p in params]
            if proc is not None:
                namespace[f"_p{i}"] = proc
                same = getattr(proc, "identity_for", None)
                if isinstance(same, type):
                    # the processor returns values of this class as they are: skip the
                    # call for them (the common case: floats for a Float column)
                    namespace[f"_t{i}"] = same
                    value = f"(v if (v := {value}).__class__ is _t{i} else _p{i}(v))"
                else:
                    value = f"_p{i}({value})"
            values.append(value)
        if self.positional:
            row = "(" + "".join(v + ", " for v in values) + ")"
        else:
            row = (
                "{"
                + ", ".join(f"{n!r}: {v}" for (n, *_), v in zip(plan, values, strict=False))
                + "}"
            )
        source = f"def many(params):\n    return [{row} for p in params]\n"
        exec(compile(source, "<hermetic executemany parameters>", "exec"), namespace)
        return namespace["many"]  # type: ignore[no-any-return]

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
                member_procs = self._tuple_procs.get(name)
                if member_procs is not None:
                    parts.append(self._expand_rows(name, values, member_procs, out, order))
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

    def _expand_rows(
        self,
        name: str,
        rows: list[Any],
        procs: tuple[Callable[[Any], Any] | None, ...],
        out: dict[str, Any],
        order: list[str],
    ) -> str:
        """``((:p_1_1, :p_1_2), (:p_2_1, :p_2_2))`` for a row-value IN."""
        render = self._render
        assert render is not None
        width = len(procs)
        marks = []
        for i, row in enumerate(rows, 1):
            if isinstance(row, (str, bytes)) or not hasattr(row, "__iter__"):
                raise exc.ArgumentError(
                    f"Bind parameter {name!r} takes rows of {width} values for a tuple "
                    f"IN; got {row!r}"
                )
            row = tuple(row)
            if len(row) != width:
                raise exc.ArgumentError(
                    f"Bind parameter {name!r} takes rows of {width} values for a tuple "
                    f"IN; row {i} has {len(row)}"
                )
            inner = []
            for j, (value, proc) in enumerate(zip(row, procs, strict=True), 1):
                sub = f"{name}_{i}_{j}"
                out[sub] = proc(value) if proc is not None else value
                order.append(sub)
                inner.append(render(sub, len(order)))
            marks.append("(" + ", ".join(inner) + ")")
        return ("(VALUES " if self._tuple_values else "(") + ", ".join(marks) + ")"


def _integral(elem: Any) -> bool:
    """Whether ``elem`` is an integer for division (by its type: the compiled form is
    shared by every value)."""
    return isinstance(elem.type, sqltypes.Integer)


def _from_name(f: Any) -> str:
    return str(getattr(f, "name", None) or type(f).__name__)


def _collect_ctes(root: Any) -> list[Any]:
    """Every CTE used anywhere in ``root``, each after the CTEs its own body uses
    (first use decides the order otherwise)."""
    found: dict[int, Any] = {}
    active: set[int] = set()

    def visit(elem: Any) -> None:
        if elem is None:
            return
        if isinstance(elem, (list, tuple)):
            for e in elem:
                visit(e)
            return
        name = getattr(elem, "__visit_name__", None)
        if name == "cte":
            key = id(elem)
            if key in found or key in active:
                return  # seen, or a recursive CTE naming itself
            active.add(key)
            visit(elem.element)
            active.discard(key)
            found[key] = elem
            return
        if name == "select":
            for f in elem._froms():
                visit(f)
        elif name == "column":
            table = elem.table
            if table is not None and table.__visit_name__ != "table":
                visit(table)
        for attr in getattr(elem, "_traverse", ()):
            visit(getattr(elem, attr, None))
        extra = getattr(elem, "_extra_froms", None)
        if extra is not None:
            visit(extra())

    visit(root)
    return list(found.values())


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
        "asfrom",
        "bare_columns",
        "bind_names",
        "binds",
        "buf",
        "enclosing",
        "in_columns",
        "template",
        "tuple_binds",
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
        # One entry per enclosing statement level: the ids of the FROM entries it
        # renders (joins with their parts), for the correlation of nested SELECTs. Empty
        # at the top level; CTE bodies sit under an empty level.
        self.enclosing: list[set[int]] = []
        # the next SELECT is a subquery in a FROM clause (no auto-correlation; explicit
        # correlation only to levels beyond the one whose FROM it is in)
        self.asfrom = False
        # expanding binds of a row-value IN: bind name -> types of the tuple's members
        self.tuple_binds: dict[str, tuple[Any, ...]] = {}

    def write(self, text: str) -> None:
        self.buf.append(text)

    def bind(self, name: str) -> None:
        self.template.append(("".join(self.buf), name))
        self.buf.clear()

    def finish(self) -> list[tuple[str, str | None]]:
        self.template.append(("".join(self.buf), None))
        self.buf.clear()
        return self.template


# Elements whose SQL never starts with "-" (a bind here is a placeholder).
_SAFE_AFTER_MINUS = frozenset(
    ["bindparam", "grouping", "function", "cast", "scalar_select", "case", "extract"]
)


class SQLCompiler:
    """Renders element trees for one dialect: ``visit_<__visit_name__>(element, state)``."""

    def __init__(self, dialect: Any, literal_binds: bool = False) -> None:
        self.dialect = dialect
        self.literal_binds = literal_binds

    def compile_statement(self, stmt: Any) -> Compiled:
        state = _State()
        result_columns: list[tuple[str, Any]] = []
        result_objects: list[tuple[Any, ...]] = []
        self._with_clause(stmt, state)
        self.process(stmt, state, result_columns, result_objects)
        template = state.finish()
        # "%" is doubled for drivers that read pyformat/format placeholders (the engine
        # always executes a Compiled with parameters, which undoes the doubling). A
        # literal_binds rendering with no placeholder left is final SQL, to print or to
        # run without parameters (exec_driver_sql), so it keeps its "%" as written.
        literal_only = self.literal_binds and all(n is None for _, n in template)
        if self.dialect.paramstyle in ("pyformat", "format") and not literal_only:
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
        if state.tuple_binds:
            compiled._set_tuple_binds(state.tuple_binds, self.dialect)
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
        froms = self._display_froms(stmt, state)
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

    def _display_froms(self, stmt: Any, state: _State) -> list[Any]:
        """The FROM entries ``stmt`` renders: its own, less those it correlates to an
        enclosing statement (the rules are in ``sql/selectable.py``'s docstring)."""
        froms: list[Any] = stmt._froms()
        asfrom = state.asfrom
        state.asfrom = False
        if not state.enclosing:
            return froms
        immediate = state.enclosing[-1]
        outer: set[int] = set().union(*state.enclosing)
        if asfrom:
            # a subquery in a FROM list cannot see its sibling FROM entries
            outer -= immediate
        if stmt._correlate:
            targets = {id(p) for f in stmt._correlate for p in f._covers()}
            froms = [f for f in froms if not (id(f) in outer and id(f) in targets)]
        if stmt._correlate_except is not None:
            kept = {id(p) for f in stmt._correlate_except for p in f._covers()}
            froms = [f for f in froms if id(f) not in outer or id(f) in kept]
        if stmt._auto_correlate and not asfrom and len(froms) > 1:
            own = [f for f in froms if id(f) not in immediate]
            if not own:
                names = ", ".join(_from_name(f) for f in froms)
                raise exc.InvalidRequestError(
                    f"A nested SELECT names only tables of the enclosing statement "
                    f"({names}), so auto-correlation would leave it no FROM clause. Say "
                    "which tables come from the enclosing query with .correlate(<tables>) "
                    "(the others stay in the subquery's FROM), or .correlate(None) to "
                    "keep all of them in the subquery"
                )
            froms = own
        return froms

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
        limit = stmt._limit
        if stmt._fetch is not None:
            with_ties, percent = stmt._fetch_options
            dialect = self.dialect
            if dialect.supports_fetch_first and (dialect.supports_fetch_percent or not percent):
                self.fetch_clause(stmt, state)
                return
            if with_ties or percent:
                option = "WITH TIES" if with_ties else "PERCENT"
                fix = (
                    "order by a rank instead (a subquery with rank() OVER (ORDER BY ...) <= n)"
                    if with_ties
                    else "compute the row count first (count(*) * pct / 100) and pass it"
                )
                where = "FETCH FIRST" if not dialect.supports_fetch_first else "FETCH ... PERCENT"
                raise exc.CompileError(
                    f"{dialect.name} has no {where}, so fetch(..., "
                    f"{'with_ties' if with_ties else 'percent'}=True) ({option}) cannot be "
                    f"rendered for it; {fix}, or use fetch(n) / limit(n) without the option"
                )
            limit = stmt._fetch  # the same rows: FETCH FIRST n ROWS ONLY is LIMIT n
        if limit is not None:
            state.write(" LIMIT ")
            self.process(limit, state)
        elif stmt._offset is not None and self.dialect.offset_requires_limit:
            state.write(" LIMIT -1")
        if stmt._offset is not None:
            state.write(" OFFSET ")
            self.process(stmt._offset, state)

    def fetch_clause(self, stmt: Any, state: _State) -> None:
        """``[OFFSET n ROWS] FETCH FIRST m [PERCENT] ROWS ONLY | WITH TIES``."""
        with_ties, percent = stmt._fetch_options
        if stmt._offset is not None:
            state.write(" OFFSET ")
            self.process(stmt._offset, state)
            state.write(" ROWS")
        state.write(" FETCH FIRST ")
        self.process(stmt._fetch, state)
        state.write(" PERCENT ROWS" if percent else " ROWS")
        state.write(" WITH TIES" if with_ties else " ONLY")

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
            state.enclosing.append(set())
        asfrom = state.asfrom
        for i, member in enumerate(stmt.selects):
            if i:
                state.write(f" {stmt.keyword} ")
            wrap = bool(
                getattr(member, "_order_by", None)
                or getattr(member, "_limit", None) is not None
                or getattr(member, "_offset", None) is not None
                or getattr(member, "_fetch", None) is not None
                or member.__visit_name__ == "compound_select"
            )
            state.asfrom = asfrom
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
        """``WITH name AS (...), ...`` before the statement for every CTE used anywhere
        in it (subqueries included), each after the CTEs its body uses; ``RECURSIVE``
        when any of them is."""
        ctes = _collect_ctes(stmt)
        if not ctes:
            return
        names: dict[str, Any] = {}
        for cte in ctes:
            other = names.setdefault(cte.name, cte)
            if other is not cte:
                raise exc.CompileError(
                    f"Two different CTEs are named {cte.name!r} in one statement; build "
                    "the CTE once and use that object everywhere, or give each its own name"
                )
        recursive = any(c.recursive for c in ctes)
        state.write("WITH RECURSIVE " if recursive else "WITH ")
        state.enclosing.append(set())  # CTE bodies correlate to nothing
        for i, cte in enumerate(ctes):
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
        if join.right.__visit_name__ == "join":  # right-nested: a JOIN (b JOIN c ON ..) ON ..
            state.write("(")
            self.process(join.right, state)
            state.write(")")
        else:
            self.process(join.right, state)
        state.write(" ON ")
        self.process(join.onclause, state)

    def visit_alias(self, alias: Any, state: _State, lateral: bool = False) -> None:
        element = alias.element
        if element.__visit_name__ in ("select", "compound_select"):
            state.asfrom = not lateral
            self._nested_select(element, state)
            state.asfrom = False
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
            state.write(self._literal_bind(bind))
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

    def _literal_bind(self, bind: Any) -> str:
        return self.render_literal(bind.effective_value, bind.expanding, bind.type)

    def render_literal(self, value: Any, expanding: bool = False, type_: Any = None) -> str:
        """A value as SQL text (``literal_binds``), rendered by ``type_`` (else by the
        value's own type): for printing statements; executions always bind. An
        expanding value (``IN``) renders as a parenthesized list, or the dialect's
        empty set for no values (``x NOT IN (NULL)`` would be NULL, not true)."""
        if type_ is None:
            type_ = sqltypes.NULLTYPE
        if expanding:
            items = [sqltypes.render_literal_value(v, type_, self.dialect) for v in value]
            if not items:
                return f"({self.dialect.empty_set_expression(type_)})"
            return "(" + ", ".join(items) + ")"
        return sqltypes.render_literal_value(value, type_, self.dialect)

    def visit_binary(self, binary: Any, state: _State) -> None:
        op = binary.operator
        right = binary.right
        if op is _ops.collate and right.__visit_name__ == "column" and right.is_literal:
            # a collation is an identifier: "C" must stay upper case on PostgreSQL
            self.process(binary.left, state)
            state.write(" COLLATE " + quote_identifier(right.name))
            return
        if (
            op in (_ops.in_op, _ops.not_in_op)
            and right.__visit_name__ == "bindparam"
            and right.expanding
            and binary.left.__visit_name__ == "tuple"
        ):
            self._tuple_in(binary, state)
            return
        if op is _ops.truediv or op is _ops.floordiv:
            self._division(binary, state)
            return
        if (
            op in (_ops.is_distinct_from, _ops.is_not_distinct_from)
            and not self.dialect.supports_is_distinct_from
        ):
            # SQLite's IS / IS NOT compare NULLs as values: the same meaning
            self.process(binary.left, state)
            state.write(" IS NOT " if op is _ops.is_distinct_from else " IS ")
            self.process(binary.right, state)
            return
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

    def _division(self, binary: Any, state: _State) -> None:
        """``/`` is Python's true division and ``//`` floor division. Where the database
        divides integers as integers (``div_is_floordiv``), integer ``a / b`` makes
        ``b`` a number (``a / CAST(b AS NUMERIC)``) and integer ``a // b`` is a plain
        ``/``; elsewhere ``a // b`` is ``FLOOR(a / b)``."""
        ints = _integral(binary.left) and _integral(binary.right)
        int_division = ints and self.dialect.div_is_floordiv
        floor = binary.operator is _ops.floordiv and not int_division
        if floor:
            state.write("FLOOR(")
        self.process(binary.left, state)
        state.write(" / ")
        if binary.operator is _ops.truediv and int_division:
            before, after = self.dialect.numeric_division_template.split("{}")
            state.write(before)
            self.process(binary.right, state)
            state.write(after)
        else:
            self.process(binary.right, state)
        if floor:
            state.write(")")

    def _tuple_in(self, binary: Any, state: _State) -> None:
        """``(a, b) IN ((:x_1_1, :x_1_2), ...)``: one bind per member of each row,
        expanded at execution (``Compiled._expand_rows``)."""
        bind = binary.right
        types = tuple(c.type for c in binary.left.clauses)
        self.process(binary.left, state)
        state.write(f" {binary.operator.sql} ")
        if self.literal_binds and not bind.required:
            rows = list(bind.effective_value)
            if not rows:
                state.write(f"({self.dialect.empty_set_expression(types)})")
                return
            values = getattr(self.dialect, "tuple_in_values", False)
            state.write(
                ("(VALUES " if values else "(")
                + ", ".join(
                    "("
                    + ", ".join(
                        self.render_literal(v, False, t) for v, t in zip(row, types, strict=True)
                    )
                    + ")"
                    for row in rows
                )
                + ")"
            )
            return
        self.process(bind, state)
        state.tuple_binds[state.bind_names[id(bind)]] = types

    def _escape(self, binary: Any, state: _State) -> None:
        if binary.escape is not None:
            state.write(" ESCAPE " + sqltypes.quote_literal(binary.escape, self.dialect))

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
        if not self.dialect.supports_lateral:
            raise exc.CompileError(
                f"{self.dialect.name} has no LATERAL subqueries; use a correlated scalar "
                "subquery in the columns clause (select(...).where(...).scalar_subquery()) "
                "or a window function instead"
            )
        state.write("LATERAL ")
        self.visit_alias(alias, state, lateral=True)

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
            if not self.dialect.supports_any_all:
                raise exc.CompileError(
                    f"{self.dialect.name} has no {unary.operator.sql} (...) comparison; "
                    "write x.in_(select(...)) for = ANY, x.not_in(select(...)) for != ALL, "
                    "or compare with a max()/min() subquery"
                )
            element = unary.element
            if element.__visit_name__ == "scalar_select":
                # ANY (SELECT ...): the subquery's own parentheses are the operator's
                state.write(unary.operator.sql + " ")
                self.process(element, state)
                return
            state.write(unary.operator.sql + " (")
            self.process(element, state)
            state.write(")")
            return
        if unary.operator is _ops.neg:
            self._negate(unary.element, state)
            return
        if unary.operator is not None:
            state.write(unary.operator.sql + " ")
        self.process(unary.element, state)
        if unary.modifier is not None:
            state.write(" " + unary.modifier.sql)

    def _negate(self, element: Any, state: _State) -> None:
        """``-x``. What follows the minus must not start with one: ``--`` opens a
        comment. A literal is checked as rendered (``-(-5)``); any element that can
        render a leading minus (a negation, literal SQL text) is parenthesized."""
        visit = element.__visit_name__
        if visit == "bindparam" and self.literal_binds and not element.required:
            text = self._literal_bind(element)
            state.write(f"-({text})" if text.startswith("-") else "-" + text)
            return
        safe = visit in _SAFE_AFTER_MINUS or (visit == "column" and not element.is_literal)
        state.write("-" if safe else "-(")
        self.process(element, state)
        if not safe:
            state.write(")")

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
    supports_fetch_first = True
    supports_fetch_percent = True
    supports_update_from = True
    supports_delete_using = True
    returning_sees_update_from = True
    supports_is_distinct_from = True
    supports_any_all = True
    supports_lateral = True
    div_is_floordiv = True
    numeric_division_template = "CAST({} AS NUMERIC)"
    tuple_in_values = False
    extract_templates: dict[str, str] = {}
    type_names: dict[str, str] = {}
    # the types' capabilities (sql/sqltypes.py): every type renders, as on a database
    # that has it, with no driver conversions
    supports_native_enum = False
    supports_native_uuid = True
    supports_native_interval = True
    supports_native_array = True
    driver_binds_uuid = True
    driver_returns_uuid = True
    driver_decodes_json = False
    driver_returns_ip_objects = False
    driver_returns_memoryview = False
    ddl_type_names: dict[str, str] = {}
    # literals: standard SQL, non-finite floats spelled as PostgreSQL reads them
    literal_backslash_escapes = False
    binary_literal_template = "X'{}'"
    float_literal_specials = {"inf": "'Infinity'", "-inf": "'-Infinity'", "nan": "'NaN'"}

    def empty_set_expression(self, type_: Any) -> str:
        width = len(type_) if isinstance(type_, tuple) else 1
        return "SELECT " + ", ".join(["1"] * width) + " WHERE 1!=1"

    def json_getitem(self, path: tuple[str | int, ...], mode: str) -> tuple[str, str]:
        return "", "[" + ", ".join(map(repr, path)) + "]"


def generic_string(stmt: Any) -> str:
    return SQLCompiler(_GenericDialect()).compile_statement(stmt).string
