"""SQL functions: ``func.count()``, ``func.lower(x)``, ``func.my_schema.fn(x)``.

Known functions carry a return type (``count`` is an Integer, ``lower`` a String, ``max``
the type of its argument ...); any other name renders as written, with its arguments.
"""

from __future__ import annotations

from typing import Any

from hermetic.sql import operators as ops
from hermetic.sql import sqltypes
from hermetic.sql.elements import (
    ClauseList,
    ColumnElement,
    Over,
    WithinGroup,
    _coerce,
    _type_key,
    and_,
)

# name -> return type, or None for "the type of the first argument"
_KNOWN: dict[str, Any] = {
    "count": sqltypes.Integer,
    "char_length": sqltypes.Integer,
    "length": sqltypes.Integer,
    "sum": None,
    "max": None,
    "min": None,
    "coalesce": None,
    "abs": None,
    "round": None,
    "avg": sqltypes.Numeric,
    "lower": sqltypes.String,
    "upper": sqltypes.String,
    "concat": sqltypes.String,
    "trim": sqltypes.String,
    "substr": sqltypes.String,
    "replace": sqltypes.String,
    "now": sqltypes.DateTime,
    "current_timestamp": sqltypes.DateTime,
    "localtimestamp": sqltypes.DateTime,
    "current_date": sqltypes.Date,
    "current_time": sqltypes.Time,
    "random": sqltypes.Float,
}

# ANSI functions written without parentheses.
NO_PARENS = frozenset(
    {
        "current_timestamp",
        "current_date",
        "current_time",
        "localtime",
        "localtimestamp",
        "current_user",
        "session_user",
        "user",
    }
)


class Function(ColumnElement):
    """A call of an SQL function."""

    __visit_name__ = "function"
    _traverse = ("clause_expr",)
    _key_attrs = ("name", "packagenames", "_ret_key")

    def __init__(
        self, name: str, *args: Any, packagenames: tuple[str, ...] = (), type_: Any = None
    ) -> None:
        self.name = name
        self.packagenames = packagenames
        self.clause_expr = ClauseList([_coerce(a) for a in args], ops.comma_op)
        if type_ is None:
            known = _KNOWN.get(name.lower(), sqltypes.NullType)
            if known is None:
                clauses = self.clause_expr.clauses
                type_ = clauses[0].type if clauses else sqltypes.NULLTYPE
            else:
                type_ = known
        self.type = sqltypes.to_instance(type_)
        self.key = name

    @property
    def clauses(self) -> ClauseList:
        return self.clause_expr

    @property
    def _ret_key(self) -> Any:
        return _type_key(self.type)

    def over(
        self, partition_by: Any = None, order_by: Any = None, rows: Any = None, range_: Any = None
    ) -> Over:
        return Over(self, partition_by, order_by, rows, range_)

    def filter(self, *criterion: Any) -> FunctionFilter:
        return FunctionFilter(self, *criterion)

    def within_group(self, *order_by: Any) -> WithinGroup:
        """``fn(...) WITHIN GROUP (ORDER BY ...)`` (ordered-set aggregates)."""
        return WithinGroup(self, *order_by)


class FunctionFilter(ColumnElement):
    """``fn(...) FILTER (WHERE ...)``."""

    __visit_name__ = "funcfilter"
    _traverse = ("func", "criterion")

    def __init__(self, fn: Function, *criterion: Any) -> None:
        self.func = fn
        self.type = fn.type
        self.criterion = and_(*criterion)
        self.name = fn.name

    def over(
        self, partition_by: Any = None, order_by: Any = None, rows: Any = None, range_: Any = None
    ) -> Over:
        return Over(self, partition_by, order_by, rows, range_)


class _FunctionGenerator:
    """``func.<name>(...)``; attribute chains name packages (``func.pg_catalog.now()``)."""

    def __init__(self, names: tuple[str, ...] = ()) -> None:
        self._names = names

    def __getattr__(self, name: str) -> _FunctionGenerator:
        if name.startswith("__"):
            raise AttributeError(name)
        # a trailing underscore escapes Python keywords: func.and_ -> and
        return _FunctionGenerator((*self._names, name.rstrip("_") or name))

    def __call__(self, *args: Any, **kw: Any) -> Function:
        if not self._names:
            raise TypeError("call func.<name>(...), e.g. func.count()")
        *packages, name = self._names
        return Function(name, *args, packagenames=tuple(packages), type_=kw.get("type_"))


func = _FunctionGenerator()
