"""Textual SQL: ``text()``, ``bindparam()``, ``column()`` and ``TextClause.columns()``.

``text("SELECT * FROM t WHERE id = :id")`` parses the ``:name`` placeholders once; a
backslash before a colon (``\\:``) keeps it literal, and PostgreSQL casts such as
``:x::int`` bind ``x``. Rendering for a driver's paramstyle happens in
:mod:`hermetic.sql.compiler` and is cached on the (immutable) clause.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from hermetic import exc
from hermetic.sql import sqltypes
from hermetic.sql.base import ClauseElement, Executable

# ":name" not preceded by a word character, a colon or a backslash.
_BIND_RE = re.compile(r"(?<![:\w\\]):(\w+)")


class BindParameter(ClauseElement):
    """A named bound value (``bindparam("x", 5, type_=Integer)``)."""

    __visit_name__ = "bindparam"
    _NO_VALUE: Any = object()

    def __init__(
        self,
        key: str,
        value: Any = _NO_VALUE,
        type_: Any = None,
        *,
        required: Any = _NO_VALUE,
        callable_: Any = None,
        expanding: bool = False,
        unique: bool = False,
    ) -> None:
        self.key = key
        self.value = None if value is self._NO_VALUE else value
        self.callable = callable_
        if required is self._NO_VALUE:
            required = value is self._NO_VALUE and callable_ is None
        self.required = bool(required)
        if type_ is None:
            self.type = (
                sqltypes.type_for_value(value) if value is not self._NO_VALUE else sqltypes.NULLTYPE
            )
        else:
            self.type = sqltypes.to_instance(type_)
        self.expanding = expanding
        self.unique = unique

    @property
    def effective_value(self) -> Any:
        return self.callable() if self.callable is not None else self.value

    def __repr__(self) -> str:
        return f"BindParameter({self.key!r}, {self.value!r}, type_={self.type!r})"


class ColumnClause(ClauseElement):
    """A named column not tied to a Table (``column("name", String)``)."""

    __visit_name__ = "column"

    def __init__(self, text: str, type_: Any = None) -> None:
        self.name = self.key = text
        self.type = sqltypes.to_instance(type_)

    def __repr__(self) -> str:
        return f"column({self.name!r})"


class TextClause(Executable):
    """A SQL string with ``:name`` bind parameters."""

    __visit_name__ = "textclause"
    _is_textual = True

    # (cache key, parsed pieces) per SQL string, shared by every text() of that string:
    # building text() inside a loop costs an attribute store, not a parse.
    _parsed: ClassVar[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {}

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise exc.ArgumentError(f"text() takes a SQL string, got {type(text).__name__}")
        self.text = text
        self._custom_binds: dict[str, BindParameter] | None = None

    @property
    def _cache_key(self) -> tuple[str, str] | None:
        """Structural key: equal for every text() of the same SQL without bindparams()."""
        return None if self._custom_binds is not None else ("text", self.text)

    def _parse(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        parsed = self._parsed.get(self.text)
        if parsed is None:
            text = self.text
            pieces: list[str] = []
            names: list[str] = []
            pos = 0
            for m in _BIND_RE.finditer(text):
                pieces.append(text[pos : m.start()])
                names.append(m.group(1))
                pos = m.end()
            pieces.append(text[pos:])
            parsed = (tuple(p.replace("\\:", ":") for p in pieces), tuple(names))
            if len(self._parsed) > 5000:
                self._parsed.clear()
            self._parsed[text] = parsed
        return parsed

    @property
    def _pieces(self) -> tuple[str, ...]:
        return self._parse()[0]

    @property
    def _names(self) -> tuple[str, ...]:
        return self._parse()[1]

    @property
    def _bindparams(self) -> dict[str, BindParameter]:
        custom = self._custom_binds
        binds = {n: BindParameter(n, required=True) for n in dict.fromkeys(self._names)}
        if custom:
            binds.update(custom)
        return binds

    def bindparams(self, *binds: BindParameter, **values: Any) -> TextClause:
        """Give values and/or types to the statement's parameters (a copy)."""
        new: TextClause = self._copy()
        params = dict(self._bindparams)
        for b in binds:
            if b.key not in params:
                raise exc.ArgumentError(
                    f"This text() construct has no bind parameter named {b.key!r}; "
                    f"its parameters are {sorted(params) or 'none'}"
                )
            params[b.key] = b
        for key, value in values.items():
            if key not in params:
                raise exc.ArgumentError(
                    f"This text() construct has no bind parameter named {key!r}; "
                    f"its parameters are {sorted(params) or 'none'}"
                )
            existing = params[key]
            params[key] = BindParameter(
                key, value, type_=existing.type if existing.type is not sqltypes.NULLTYPE else None
            )
        new._custom_binds = params
        return new

    def columns(self, *cols: ColumnClause, **types: Any) -> TextualSelect:
        """Declare the result columns (and their types, for result conversion)."""
        columns = list(cols)
        for c in columns:
            if c.key in types:
                c.type = sqltypes.to_instance(types.pop(c.key))
        columns.extend(ColumnClause(name, t) for name, t in types.items())
        return TextualSelect(self, columns)

    @property
    def selected_columns(self) -> list[ColumnClause]:
        return []

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<TextClause {self.text[:60]!r}>"


class TextualSelect(Executable):
    """``text(...).columns(...)``: textual SQL with declared result columns."""

    __visit_name__ = "textual_select"
    _is_textual = True

    def __init__(self, text: TextClause, columns: list[ColumnClause]) -> None:
        self.element = text
        self.column_args = columns
        self._execution_options = text._execution_options

    @property
    def selected_columns(self) -> list[ColumnClause]:
        return self.column_args

    @property
    def _cache_key(self) -> tuple[Any, ...] | None:
        # Type objects are compared by identity: the same TextualSelect built again in a
        # loop with fresh type instances simply misses the engine cache.
        inner = self.element._cache_key
        if inner is None:
            return None
        return (*inner, tuple((c.key, id(c.type)) for c in self.column_args))

    def bindparams(self, *binds: BindParameter, **values: Any) -> TextualSelect:
        return TextualSelect(self.element.bindparams(*binds, **values), self.column_args)

    def __str__(self) -> str:
        return self.element.text


def text(text: str) -> TextClause:
    """A textual SQL statement with ``:name`` bind parameters."""
    return TextClause(text)


def bindparam(
    key: str, value: Any = BindParameter._NO_VALUE, type_: Any = None, **kw: Any
) -> BindParameter:
    return BindParameter(key, value, type_, **kw)


def column(text: str, type_: Any = None) -> ColumnClause:
    return ColumnClause(text, type_)
