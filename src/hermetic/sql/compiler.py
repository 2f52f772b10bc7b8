"""Rendering statements for a dialect and a driver's paramstyle.

The product is a :class:`Compiled`: the SQL string, the order of its parameters, the
types that convert them, and the result columns. The engine caches one per statement and
dialect; everything that can be decided once is decided here so the per-execution path is
a dict merge and a driver call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hermetic import exc
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
        "binds",
        "defaults",
        "expanding",
        "positional",
        "positiontup",
        "required",
        "result_columns",
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
        result_columns = [(c.key, c.type) for c in stmt.column_args]
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
