"""SQL expression elements: columns, bound values, operators, and textual SQL.

Elements are immutable trees. Each class declares once which attributes are child
elements (``_traverse``) and which are plain values that change the SQL (``_key_attrs``);
that declaration drives the structural cache key (bound *values* excluded, so
``col == 5`` and ``col == 6`` share one compiled form) and the ordered list of bound
parameters whose values are extracted at execution.

``text("SELECT * FROM t WHERE id = :id")`` parses the ``:name`` placeholders once; a
backslash before a colon (``\\:``) keeps it literal, and PostgreSQL casts such as
``:x::int`` bind ``x``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from hermetic import exc
from hermetic.sql import operators as ops
from hermetic.sql import sqltypes
from hermetic.sql.base import ClauseElement, Executable

# ":name" not preceded by a word character, a colon or a backslash.
_BIND_RE = re.compile(r"(?<![:\w\\]):(\w+)")


# Type keys by type instance (types are immutable once built): id -> (type, key). The
# entry holds the type, so its id cannot be reused while the entry lives; bounded, since
# literals bring fresh type instances.
_TYPE_KEYS: dict[int, tuple[Any, Any]] = {}


def _type_key(t: Any) -> Any:
    hit = _TYPE_KEYS.get(id(t))
    if hit is not None and hit[0] is t:
        return hit[1]
    key = getattr(t, "_static_cache_key", None)
    if key is None:
        try:
            key = (type(t), tuple(sorted(vars(t).items())))
            hash(key)
        except TypeError:
            key = (type(t), id(t))
    if len(_TYPE_KEYS) >= 4096:
        _TYPE_KEYS.clear()
    _TYPE_KEYS[id(t)] = (t, key)
    return key


class _ColumnKey:
    """A column's memoized key and the table it was computed for (copies of a column
    drop ``_key_memo``; a column moved to another table recomputes it)."""

    __slots__ = ("key", "table")

    def __init__(self, table: Any, key: tuple[Any, ...]) -> None:
        self.table = table
        self.key = key


class KeyedElement(ClauseElement):
    """An element with a structural cache key (see the module docstring)."""

    _traverse: ClassVar[tuple[str, ...]] = ()
    _key_attrs: ClassVar[tuple[str, ...]] = ()

    def _gen_key(self, binds: list[BindParameter]) -> tuple[Any, ...]:
        return _structural_key(self, binds)

    _gen_key._generated_key = True  # type: ignore[attr-defined]

    def _key_and_binds(self) -> tuple[tuple[Any, ...], list[BindParameter]]:
        binds: list[BindParameter] = []
        return self._gen_key(binds), binds


def _structural_key(self: Any, binds: list[BindParameter]) -> tuple[Any, ...]:
    """The key of ``self`` from its own class's declarations (also what an overriding
    ``_gen_key``, such as a memoizing one, reaches through ``super()``). The first call
    for a class generates its function and, unless the class overrides ``_gen_key``,
    installs it as the class's ``_gen_key``, so later keys cost one call per element."""
    cls = type(self)
    keyfn = cls.__dict__.get("_keyfn")
    if keyfn is None:
        keyfn = _build_keyfn(cls)
        if getattr(cls._gen_key, "_generated_key", False):
            cls._gen_key = keyfn
    return keyfn(self, binds)  # type: ignore[no-any-return]


def _build_keyfn(cls: type) -> Any:
    """The cache-key function of ``cls``, generated once from its declarations: a
    tuple of its key attributes and children, no loop over attribute names per call;
    each child is keyed inline (None, a list or tuple of elements, or an element), an
    empty list without a call. Operators in key attributes are singletons, so they key
    by identity. The function is installed on ``cls``, where subclasses inherit it: its
    first line sends an instance of any other class to :func:`_structural_key`."""
    key_attrs: tuple[str, ...] = cls._key_attrs  # type: ignore[attr-defined]
    traverse: tuple[str, ...] = cls._traverse  # type: ignore[attr-defined]
    lines = [
        "def keyfn(self, binds):",
        "    if self.__class__ is not _cls:",
        "        return _structural(self, binds)",
    ]
    parts = ["_cls"]
    parts += [f"self.{a}" for a in key_attrs]
    for i, a in enumerate(traverse):
        # (lists are walked by an inline loop: a comprehension would make a function
        # object and a frame per list)
        lines += [
            f"    v = self.{a}",
            "    if v.__class__ is list or v.__class__ is tuple:",
            "        if not v:",
            f"            k{i} = ()",
            "        elif len(v) == 1:",
            f"            k{i} = (v[0]._gen_key(binds),)",
            "        else:",
            "            ks = []",
            "            for c in v:",
            "                ks.append(c._gen_key(binds))",
            f"            k{i} = tuple(ks)",
            "    elif v is None:",
            f"        k{i} = None",
            "    elif isinstance(v, (list, tuple)):",
            f"        k{i} = tuple([c._gen_key(binds) for c in v])",
            "    else:",
            f"        k{i} = v._gen_key(binds)",
        ]
        parts.append(f"k{i}")
    lines.append(f"    return ({', '.join(parts)},)")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {"_cls": cls, "_structural": _structural_key}
    exec(compile(source, f"<cache key of {cls.__name__}>", "exec"), namespace)
    keyfn = namespace["keyfn"]
    keyfn._generated_key = True
    cls._keyfn = keyfn  # type: ignore[attr-defined]
    return keyfn


# Values that are plainly values (no SQL element, no ORM attribute): a comparison such as
# ``col == 5``, built for every execution, skips the other checks for them.
_PLAIN_VALUES = frozenset({int, str, float, bool, bytes})


def _coerce(value: Any, like: ColumnElement | None = None) -> ColumnElement:
    """A Python value becomes a bound parameter typed after ``like``; elements pass."""
    if value.__class__ not in _PLAIN_VALUES:
        if isinstance(value, ColumnElement):
            return value
        clause_element = getattr(value, "__clause_element__", None)
        if clause_element is not None:  # an ORM attribute (``User.name``) or entity
            return _coerce(clause_element(), like)
        if isinstance(value, ClauseElement) and hasattr(value, "self_group"):
            return value  # type: ignore[return-value]
        if value is None:
            return Null()
    type_ = like.type if like is not None and like.type is not sqltypes.NULLTYPE else None
    name = getattr(like, "key", None) or "param"
    return BindParameter(name, value, type_=type_, unique=True)


class ColumnElement(KeyedElement):
    """An SQL expression with a type; Python operators build SQL expressions."""

    __visit_name__ = "column_element"
    type: Any = sqltypes.NULLTYPE
    key: str | None = None
    precedence: int = ops.P_ATOM

    __hash__ = object.__hash__  # __eq__ builds SQL, identity still hashes

    def self_group(self, against: ops.Operator | None = None) -> ColumnElement:
        return self

    # -- building -------------------------------------------------------------------
    def _bin(
        self, op: ops.Operator, other: Any, type_: Any = None, reverse: bool = False
    ) -> BinaryExpression:
        right = _coerce(other, self)
        left: ColumnElement = self
        if reverse:
            left, right = right, left
        if type_ is None:
            type_ = (
                sqltypes.BOOLEANTYPE  # (types are immutable: one instance serves all)
                if op.is_comparison
                else (left.type if left.type is not sqltypes.NULLTYPE else right.type)
            )
        return BinaryExpression(left, right, op, type_)

    def __eq__(self, other: Any) -> Any:
        if other is None or isinstance(other, Null):
            return BinaryExpression(self, Null(), ops.is_, sqltypes.Boolean())
        return self._bin(ops.eq, other)

    def __ne__(self, other: Any) -> Any:
        if other is None or isinstance(other, Null):
            return BinaryExpression(self, Null(), ops.is_not, sqltypes.Boolean())
        return self._bin(ops.ne, other)

    def __lt__(self, other: Any) -> BinaryExpression:
        return self._bin(ops.lt, other)

    def __le__(self, other: Any) -> BinaryExpression:
        return self._bin(ops.le, other)

    def __gt__(self, other: Any) -> BinaryExpression:
        return self._bin(ops.gt, other)

    def __ge__(self, other: Any) -> BinaryExpression:
        return self._bin(ops.ge, other)

    def __add__(self, other: Any) -> BinaryExpression:
        if isinstance(self.type, sqltypes.String) and _concatenates_with(other):
            return self._bin(ops.concat_op, other)
        return self._bin(ops.add, other)

    def __radd__(self, other: Any) -> BinaryExpression:
        if isinstance(self.type, sqltypes.String) and _concatenates_with(other):
            return self._bin(ops.concat_op, other, reverse=True)
        return self._bin(ops.add, other, reverse=True)

    def __sub__(self, other: Any) -> BinaryExpression:
        return self._bin(ops.sub, other)

    def __rsub__(self, other: Any) -> BinaryExpression:
        return self._bin(ops.sub, other, reverse=True)

    def __mul__(self, other: Any) -> BinaryExpression:
        return self._bin(ops.mul, other)

    def __rmul__(self, other: Any) -> BinaryExpression:
        return self._bin(ops.mul, other, reverse=True)

    def __truediv__(self, other: Any) -> BinaryExpression:
        # true division, as Python's: integer / integer is a Numeric (the compiler
        # makes the database divide as numbers, not as integers)
        return self._div(ops.truediv, other, False)

    def __rtruediv__(self, other: Any) -> BinaryExpression:
        return self._div(ops.truediv, other, True)

    def __floordiv__(self, other: Any) -> BinaryExpression:
        return self._div(ops.floordiv, other, False)

    def __rfloordiv__(self, other: Any) -> BinaryExpression:
        return self._div(ops.floordiv, other, True)

    def _div(self, op: ops.Operator, other: Any, reverse: bool) -> BinaryExpression:
        if not isinstance(other, ClauseElement) and other is not None:
            # typed by its value where that differs in kind (x / 2.5 is no integer
            # division), so the compiled form can depend on the types alone
            other = BindParameter(
                self.key or "param",
                other,
                type_=self.type.coerce_compared_value(op, other),
                unique=True,
            )
        expr = self._bin(op, other, reverse=reverse)
        if op is ops.truediv and all(
            isinstance(side.type, sqltypes.Integer) for side in (expr.left, expr.right)
        ):
            expr.type = sqltypes.Numeric()
        return expr

    def __mod__(self, other: Any) -> BinaryExpression:
        return self._bin(ops.mod, other)

    def __rmod__(self, other: Any) -> BinaryExpression:
        return self._bin(ops.mod, other, reverse=True)

    def __neg__(self) -> UnaryExpression:
        return UnaryExpression(self, operator=ops.neg, type_=self.type)

    def __invert__(self) -> ColumnElement:
        return not_(self)

    def __and__(self, other: Any) -> ColumnElement:
        return and_(self, other)

    def __or__(self, other: Any) -> ColumnElement:
        return or_(self, other)

    def __bool__(self) -> bool:
        raise TypeError(
            "Boolean value of this SQL expression is not defined; combine conditions "
            "with and_()/or_() (or & and |), not Python's `and`/`or`/`if`"
        )

    def is_(self, other: Any) -> BinaryExpression:
        return BinaryExpression(self, _coerce(other, self), ops.is_, sqltypes.Boolean())

    def is_not(self, other: Any) -> BinaryExpression:
        return BinaryExpression(self, _coerce(other, self), ops.is_not, sqltypes.Boolean())

    def is_distinct_from(self, other: Any) -> BinaryExpression:
        return self._bin(ops.is_distinct_from, other)

    def is_not_distinct_from(self, other: Any) -> BinaryExpression:
        return self._bin(ops.is_not_distinct_from, other)

    def nulls_first(self) -> UnaryExpression:
        return UnaryExpression(self, modifier=ops.nulls_first_op)

    def nulls_last(self) -> UnaryExpression:
        return UnaryExpression(self, modifier=ops.nulls_last_op)

    def _like(self, op: ops.Operator, other: Any, escape: str | None) -> BinaryExpression:
        expr = self._bin(op, other)
        expr.escape = escape
        return expr

    def like(self, other: Any, escape: str | None = None) -> BinaryExpression:
        return self._like(ops.like_op, other, escape)

    def ilike(self, other: Any, escape: str | None = None) -> BinaryExpression:
        return self._like(ops.ilike_op, other, escape)

    def not_like(self, other: Any, escape: str | None = None) -> BinaryExpression:
        return self._like(ops.not_like_op, other, escape)

    def not_ilike(self, other: Any, escape: str | None = None) -> BinaryExpression:
        return self._like(ops.not_ilike_op, other, escape)

    def _affix(
        self, other: Any, before: bool, after: bool, autoescape: bool, escape: str | None
    ) -> BinaryExpression:
        if isinstance(other, ColumnElement):
            pattern: Any = other
            if before:
                pattern = BinaryExpression(_coerce("%"), pattern, ops.concat_op)
            if after:
                pattern = BinaryExpression(pattern, _coerce("%"), ops.concat_op)
            return self._like(ops.like_op, pattern, escape)
        text = str(other)
        if autoescape:
            escape = "/"
            text = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
        return self._like(
            ops.like_op, ("%" if before else "") + text + ("%" if after else ""), escape
        )

    def contains(
        self, other: Any, autoescape: bool = False, escape: str | None = None
    ) -> BinaryExpression:
        return self._affix(other, True, True, autoescape, escape)

    def startswith(
        self, other: Any, autoescape: bool = False, escape: str | None = None
    ) -> BinaryExpression:
        return self._affix(other, False, True, autoescape, escape)

    def endswith(
        self, other: Any, autoescape: bool = False, escape: str | None = None
    ) -> BinaryExpression:
        return self._affix(other, True, False, autoescape, escape)

    def collate(self, collation: str) -> BinaryExpression:
        return BinaryExpression(self, literal_column(collation), ops.collate, self.type)

    def concat(self, other: Any) -> BinaryExpression:
        return self._bin(ops.concat_op, other)

    def distinct(self) -> UnaryExpression:
        return UnaryExpression(self, operator=ops.distinct_op)

    def op(self, opstring: str, precedence: int = 0, is_comparison: bool = False) -> Any:
        operator = ops.custom_op(opstring, precedence, is_comparison)
        return lambda other: self._bin(operator, other)

    def in_(self, values: Any) -> BinaryExpression:
        if hasattr(values, "scalar_subquery"):  # a select()
            values = values.scalar_subquery()
        if isinstance(values, ColumnElement):
            return BinaryExpression(self, values, ops.in_op, sqltypes.Boolean())
        values = list(values)
        if any(isinstance(v, ClauseElement) or hasattr(v, "__clause_element__") for v in values):
            # expressions among the values (literal(None), a column): one element each,
            # not an expanding bind, which would hand the driver the expression objects
            items = _InList([_coerce(v, self) for v in values])
            return BinaryExpression(self, items, ops.in_op, sqltypes.Boolean())
        bind = BindParameter(
            self.key or "param", list(values), type_=self.type, expanding=True, unique=True
        )
        return BinaryExpression(self, bind, ops.in_op, sqltypes.Boolean())

    def not_in(self, values: Any) -> BinaryExpression:
        expr = self.in_(values)
        return BinaryExpression(expr.left, expr.right, ops.not_in_op, sqltypes.Boolean())

    def between(self, lower: Any, upper: Any) -> BinaryExpression:
        pair = ClauseList([_coerce(lower, self), _coerce(upper, self)], ops.and_)
        return BinaryExpression(self, pair, ops.between_op, sqltypes.Boolean())

    def asc(self) -> UnaryExpression:
        return UnaryExpression(self, modifier=ops.asc_op)

    def desc(self) -> UnaryExpression:
        return UnaryExpression(self, modifier=ops.desc_op)

    def label(self, name: str) -> Label:
        return Label(name, self)

    def __getitem__(self, index: Any) -> JSONElement:
        if not isinstance(self.type, sqltypes.JSON):
            raise TypeError(
                f"{type(self).__name__} of type {self.type!r} is not subscriptable; "
                "indexing needs a JSON column (JSON, or JSONB on PostgreSQL)"
            )
        return JSONElement(self, index)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key or ''}>"


class BindParameter(ColumnElement):
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
            if value is self._NO_VALUE:
                self.type = sqltypes.NULLTYPE
            elif expanding and isinstance(value, (list, tuple)) and value:
                self.type = sqltypes.type_for_value(value[0])
            else:
                self.type = sqltypes.type_for_value(value)
        else:
            self.type = (
                type_ if isinstance(type_, sqltypes.TypeEngine) else sqltypes.to_instance(type_)
            )
        self.expanding = expanding
        self.unique = unique

    @property
    def effective_value(self) -> Any:
        return self.callable() if self.callable is not None else self.value

    def _gen_key(self, binds: list[BindParameter]) -> tuple[Any, ...]:
        binds.append(self)
        t = self.type
        hit = _TYPE_KEYS.get(id(t))
        return (
            BindParameter,
            self.key,
            self.unique,
            self.expanding,
            self.required,
            hit[1] if hit is not None and hit[0] is t else _type_key(t),
        )

    def __repr__(self) -> str:
        return f"BindParameter({self.key!r}, {self.value!r}, type_={self.type!r})"


class ColumnClause(ColumnElement):
    """A named column, alone (``column("name", String)``) or of a table."""

    __visit_name__ = "column"
    _key_attrs = ("name", "is_literal", "_table_key")

    def __init__(
        self, text: str, type_: Any = None, is_literal: bool = False, _selectable: Any = None
    ) -> None:
        self.name = self.key = text
        self.type = sqltypes.to_instance(type_)
        self.is_literal = is_literal
        self.table = _selectable

    @property
    def _table_key(self) -> Any:
        t = self.table
        return None if t is None else (getattr(t, "schema", None), t.name)

    _key_memo: _ColumnKey | None = None

    def _gen_key(self, binds: list[BindParameter]) -> tuple[Any, ...]:
        # Columns are leaves reused by every statement that names them: their key is
        # computed once (per owning table: CTEs re-home their columns).
        memo = self._key_memo
        if memo is not None and memo.table is self.table:
            return memo.key
        key = _structural_key(self, binds)
        self._key_memo = _ColumnKey(self.table, key)
        return key

    def __repr__(self) -> str:
        return f"column({self.name!r})"


class BinaryExpression(ColumnElement):
    """``left <operator> right``."""

    __visit_name__ = "binary"
    _traverse = ("left", "right")
    _key_attrs = ("operator", "escape")
    escape: str | None = None

    def __init__(
        self, left: ColumnElement, right: ColumnElement, operator: ops.Operator, type_: Any = None
    ) -> None:
        self.left = left.self_group(operator)
        # BETWEEN's right side is "a AND b", never parenthesized
        between = operator is ops.between_op or operator is ops.not_between_op
        self.right = right if between else right.self_group(operator)
        self.operator = operator
        self.type = type_ if isinstance(type_, sqltypes.TypeEngine) else sqltypes.to_instance(type_)
        self.precedence = operator.precedence

    def self_group(self, against: ops.Operator | None = None) -> ColumnElement:
        if (
            against is not None
            and against.precedence >= self.operator.precedence
            and not (against is self.operator and self.operator.commutative)
        ):
            return Grouping(self)
        return self

    def __bool__(self) -> bool:
        # `col_a == col_b` in a dict lookup or `in` test compares identities, as in
        # SQLAlchemy; any other truth test is an error.
        if self.operator is ops.eq:
            return self.left is self.right
        if self.operator is ops.ne:
            return self.left is not self.right
        return ColumnElement.__bool__(self)

    def _negate(self) -> ColumnElement:
        negated = self.operator.negate
        if negated is not None:
            return BinaryExpression(self.left, self.right, negated, self.type)
        return UnaryExpression(self.self_group(ops.inv), operator=ops.inv, type_=sqltypes.Boolean())


class JSONElement(ColumnElement):
    """``json_col[key]`` / ``json_col[("a", "b")]``: a JSON value inside a document.

    ``as_string()``, ``as_integer()``, ``as_float()``, ``as_boolean()`` and ``as_json()``
    give it an SQL type; on PostgreSQL JSON/JSONB, ``.astext`` is ``as_string()``. The
    path is rendered inline, escaped, by the dialect (``dialect.json_getitem``).
    """

    __visit_name__ = "json_getitem"
    _traverse = ("element",)
    _key_attrs = ("path", "mode")

    def __init__(self, element: ColumnElement, index: Any, mode: str = "json") -> None:
        self.element = element
        path = tuple(index) if isinstance(index, (tuple, list)) else (index,)
        for step in path:
            if not isinstance(step, (str, int)) or isinstance(step, bool):
                raise exc.ArgumentError(
                    f"JSON index steps must be str keys or int positions, got {step!r}"
                )
        self.path = path
        self.mode = mode
        self.type = {
            "json": element.type,
            "string": sqltypes.String(),
            "integer": sqltypes.Integer(),
            "float": sqltypes.Float(),
            "boolean": sqltypes.Boolean(),
        }[mode]

    def _as(self, mode: str) -> JSONElement:
        return JSONElement(self.element, self.path, mode)

    def as_string(self) -> JSONElement:
        return self._as("string")

    def as_integer(self) -> JSONElement:
        return self._as("integer")

    def as_float(self) -> JSONElement:
        return self._as("float")

    def as_boolean(self) -> JSONElement:
        return self._as("boolean")

    def as_json(self) -> JSONElement:
        return self._as("json")

    @property
    def astext(self) -> JSONElement:
        if not getattr(self.element.type, "astext_type", None):
            raise AttributeError(
                "astext exists on PostgreSQL JSON/JSONB columns only; use .as_string(), "
                "which works on every database"
            )
        return self._as("string")

    def __getitem__(self, index: Any) -> JSONElement:
        more = tuple(index) if isinstance(index, (tuple, list)) else (index,)
        return JSONElement(self.element, self.path + more, self.mode)


class Grouping(ColumnElement):
    """Parentheses around an element."""

    __visit_name__ = "grouping"
    _traverse = ("element",)

    def __init__(self, element: ColumnElement) -> None:
        self.element = element
        self.type = element.type


class ClauseList(ColumnElement):
    """Elements joined by an operator (``a AND b AND c``, ``a, b``)."""

    __visit_name__ = "clauselist"
    _traverse = ("clauses",)
    _key_attrs = ("operator",)

    def __init__(
        self,
        clauses: Iterable[ColumnElement],
        operator: ops.Operator = ops.comma_op,
        type_: Any = None,
    ) -> None:
        self.operator = operator
        self.clauses = [c.self_group(operator) for c in clauses]
        self.type = sqltypes.to_instance(type_)
        self.precedence = operator.precedence

    def self_group(self, against: ops.Operator | None = None) -> ColumnElement:
        if (
            against is not None
            and against is not self.operator
            and (against.precedence >= self.operator.precedence)
            and len(self.clauses) > 1
        ):
            return Grouping(self)
        return self


class BooleanClauseList(ClauseList):
    """``and_()`` / ``or_()``."""


class UnaryExpression(ColumnElement):
    """``NOT x``, ``-x``, ``x DESC``, ``DISTINCT x``."""

    __visit_name__ = "unary"
    _traverse = ("element",)
    _key_attrs = ("operator", "modifier")

    def __init__(
        self,
        element: ColumnElement,
        operator: ops.Operator | None = None,
        modifier: ops.Operator | None = None,
        type_: Any = None,
    ) -> None:
        self.element = element.self_group(operator or modifier)
        self.operator = operator
        self.modifier = modifier
        self.type = sqltypes.to_instance(type_) if type_ is not None else element.type
        self.precedence = (operator or modifier or ops.comma_op).precedence

    def _negate(self) -> ColumnElement:
        if self.operator is ops.inv:
            return self.element
        return UnaryExpression(self.self_group(ops.inv), operator=ops.inv, type_=sqltypes.Boolean())

    def nulls_first(self) -> UnaryExpression:
        return UnaryExpression(self, modifier=ops.nulls_first_op)

    def nulls_last(self) -> UnaryExpression:
        return UnaryExpression(self, modifier=ops.nulls_last_op)


def _concatenates_with(other: Any) -> bool:
    """``string_expr + other`` means ``||`` when ``other`` is a plain value or a string
    (or untyped) expression: ``first + " " + last`` concatenates all three."""
    if not isinstance(other, ColumnElement):
        return True
    return isinstance(other.type, sqltypes.String) or other.type is sqltypes.NULLTYPE


class Label(ColumnElement):
    """``expr AS name``."""

    __visit_name__ = "label"
    _traverse = ("element",)
    _key_attrs = ("name",)

    def __init__(self, name: str, element: ColumnElement) -> None:
        self.name = self.key = name
        self.element = element
        self.type = element.type


class Cast(ColumnElement):
    """``CAST(expr AS type)``."""

    __visit_name__ = "cast"
    _traverse = ("element",)
    _key_attrs = ("_type_key",)

    def __init__(self, element: Any, type_: Any) -> None:
        self.type = sqltypes.to_instance(type_)
        self.element = _coerce(element)

    @property
    def _type_key(self) -> Any:
        return _type_key(self.type)


class Null(ColumnElement):
    __visit_name__ = "null"


class True_(ColumnElement):
    __visit_name__ = "true"
    type = sqltypes.Boolean()


class False_(ColumnElement):
    __visit_name__ = "false"
    type = sqltypes.Boolean()


def and_(*clauses: Any) -> ColumnElement:
    items = [_coerce(c) for c in clauses]
    if len(items) == 1:
        return items[0]
    return BooleanClauseList(items, ops.and_, sqltypes.Boolean())


def or_(*clauses: Any) -> ColumnElement:
    items = [_coerce(c) for c in clauses]
    if len(items) == 1:
        return items[0]
    return BooleanClauseList(items, ops.or_, sqltypes.Boolean())


def not_(clause: Any) -> ColumnElement:
    element = _coerce(clause)
    negate = getattr(element, "_negate", None)
    if negate is not None:
        result: ColumnElement = negate()
        return result
    return UnaryExpression(element.self_group(ops.inv), operator=ops.inv, type_=sqltypes.Boolean())


class Case(ColumnElement):
    """``CASE WHEN ... THEN ... [ELSE ...] END`` (searched, or simple with ``value``)."""

    __visit_name__ = "case"
    _traverse = ("value", "whens", "else_")

    def __init__(self, *whens: Any, value: Any = None, else_: Any = None) -> None:
        pairs = (
            list(whens[0].items())
            if len(whens) == 1 and isinstance(whens[0], dict)
            else [tuple(w) for w in whens]
        )
        self.value = _coerce(value) if value is not None else None
        self.whens = [
            ClauseList([_coerce(cond), _coerce(result)], ops.comma_op) for cond, result in pairs
        ]
        self.else_ = _coerce(else_) if else_ is not None else None
        results = [w.clauses[1] for w in self.whens]
        self.type = next(
            (r.type for r in results if r.type is not sqltypes.NULLTYPE), sqltypes.NULLTYPE
        )


class TypeCoerce(ColumnElement):
    """``type_coerce(expr, T)``: the SQL of ``expr``, handled in Python as type ``T``."""

    __visit_name__ = "type_coerce"
    _traverse = ("element",)
    _key_attrs = ("_type_key",)

    def __init__(self, element: Any, type_: Any) -> None:
        self.type = sqltypes.to_instance(type_)
        if isinstance(element, ColumnElement):
            self.element: ColumnElement = element
        else:
            self.element = BindParameter("param", element, type_=self.type, unique=True)

    @property
    def _type_key(self) -> Any:
        return _type_key(self.type)


def type_coerce(expression: Any, type_: Any) -> TypeCoerce:
    return TypeCoerce(expression, type_)


class WithinGroup(ColumnElement):
    """``fn(...) WITHIN GROUP (ORDER BY ...)`` (ordered-set aggregates)."""

    __visit_name__ = "within_group"
    _traverse = ("element", "order_by")

    def __init__(self, element: ColumnElement, *order_by: Any) -> None:
        self.element = element
        self.order_by = _columns(order_by)
        self.type = element.type


def within_group(element: ColumnElement, *order_by: Any) -> WithinGroup:
    return WithinGroup(element, *order_by)


def any_(expr: Any) -> UnaryExpression:
    """``ANY (expr)``: compare against each element of an array or subquery."""
    return UnaryExpression(_coerce(expr).self_group(ops.any_op), operator=ops.any_op)


def all_(expr: Any) -> UnaryExpression:
    """``ALL (expr)``."""
    return UnaryExpression(_coerce(expr).self_group(ops.all_op), operator=ops.all_op)


def nulls_first(expr: ColumnElement) -> UnaryExpression:
    return UnaryExpression(expr, modifier=ops.nulls_first_op)


def nulls_last(expr: ColumnElement) -> UnaryExpression:
    return UnaryExpression(expr, modifier=ops.nulls_last_op)


def case(*whens: Any, value: Any = None, else_: Any = None) -> Case:
    return Case(*whens, value=value, else_=else_)


class Over(ColumnElement):
    """``fn() OVER (PARTITION BY ... ORDER BY ... [ROWS|RANGE BETWEEN ...])``."""

    __visit_name__ = "over"
    _traverse = ("element", "partition_by", "order_by")
    _key_attrs = ("rows", "range_")

    def __init__(
        self,
        element: ColumnElement,
        partition_by: Any = None,
        order_by: Any = None,
        rows: tuple[int | None, int | None] | None = None,
        range_: tuple[int | None, int | None] | None = None,
    ) -> None:
        self.element = element
        self.type = element.type
        self.partition_by = _columns(_seq(partition_by)) or None
        self.order_by = _columns(_seq(order_by)) or None
        self.rows = rows
        self.range_ = range_


def _seq(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def over(
    element: ColumnElement,
    partition_by: Any = None,
    order_by: Any = None,
    rows: Any = None,
    range_: Any = None,
) -> Over:
    return Over(element, partition_by, order_by, rows, range_)


class _InList(ClauseList):
    """The values of ``x IN (a, b)`` given as a list that holds expressions; the
    compiler writes IN's parentheses, so it never adds its own."""

    def self_group(self, against: ops.Operator | None = None) -> ColumnElement:
        return self


class Tuple(ClauseList):
    """``(a, b)``: a row value."""

    __visit_name__ = "tuple"

    def __init__(self, *clauses: Any) -> None:
        super().__init__([_coerce(c) for c in clauses], ops.comma_op)

    def self_group(self, against: ops.Operator | None = None) -> ColumnElement:
        return self  # renders its own parentheses


def tuple_(*clauses: Any) -> Tuple:
    return Tuple(*clauses)


class Extract(ColumnElement):
    """``EXTRACT(field FROM expr)``."""

    __visit_name__ = "extract"
    _traverse = ("expr",)
    _key_attrs = ("field",)

    def __init__(self, field: str, expr: Any) -> None:
        self.field = field
        self.expr = _coerce(expr)
        self.type = sqltypes.Integer()


def extract(field: str, expr: Any) -> Extract:
    return Extract(field, expr)


def distinct(expr: ColumnElement) -> UnaryExpression:
    return expr.distinct()


def collate(expr: ColumnElement, collation: str) -> BinaryExpression:
    return expr.collate(collation)


def cast(expression: Any, type_: Any) -> Cast:
    return Cast(expression, type_)


def literal(value: Any, type_: Any = None) -> BindParameter:
    return BindParameter("param", value, type_=type_, unique=True)


def literal_column(text: str, type_: Any = None) -> ColumnClause:
    return ColumnClause(text, type_, is_literal=True)


def null() -> Null:
    return Null()


def true() -> True_:
    return True_()


def false() -> False_:
    return False_()


def asc(column: ColumnElement | str) -> UnaryExpression:
    # a string names a label or column of the SELECT: asc("n") is "n ASC"
    return (ColumnClause(column) if isinstance(column, str) else column).asc()


def desc(column: ColumnElement | str) -> UnaryExpression:
    return (ColumnClause(column) if isinstance(column, str) else column).desc()


def _columns(items: Sequence[Any]) -> list[ColumnElement]:
    return [_coerce(i) for i in items]


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
