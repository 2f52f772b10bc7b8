"""SQL operators: identity, rendering text, precedence and negation.

An operator is a small immutable object; expressions hold the object, the compiler asks
it for its SQL and its precedence (to decide on parentheses), and ``not_()`` asks it for
its negation (``=`` becomes ``!=``, ``IN`` becomes ``NOT IN``) instead of wrapping NOT.
"""

from __future__ import annotations


class Operator:
    """One SQL operator."""

    __slots__ = ("commutative", "is_comparison", "name", "negate_name", "precedence", "sql")

    def __init__(
        self,
        name: str,
        sql: str,
        precedence: int,
        *,
        negate: str | None = None,
        is_comparison: bool = False,
        commutative: bool = False,
    ) -> None:
        self.name = name
        self.sql = sql
        self.precedence = precedence
        self.negate_name = negate
        self.is_comparison = is_comparison
        self.commutative = commutative

    @property
    def negate(self) -> Operator | None:
        return BY_NAME[self.negate_name] if self.negate_name else None

    def __repr__(self) -> str:
        return f"<operator {self.name}>"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (_by_name, (self.name,))


def _by_name(name: str) -> Operator:
    return BY_NAME[name]


# Precedence, higher binds tighter. Comparisons, IS, LIKE, IN and BETWEEN share one
# level: PostgreSQL ranks LIKE/IN/BETWEEN above "=" while SQLite ranks them equal (and
# "<" above "="), so any of them nested in another is parenthesized, which both read alike.
_P_OR = 2
_P_AND = 3
_P_NOT = 4
_P_IS = 5
_P_CMP = 5
_P_LIKE = 5
_P_IN = 5
_P_BETWEEN = 5
_P_CONCAT = 7
_P_ADD = 8
_P_MUL = 9
_P_NEG = 10
_P_COLLATE = 11

or_ = Operator("or_", "OR", _P_OR, commutative=True)
and_ = Operator("and_", "AND", _P_AND, commutative=True)
inv = Operator("inv", "NOT", _P_NOT)
eq = Operator("eq", "=", _P_CMP, negate="ne", is_comparison=True, commutative=True)
ne = Operator("ne", "!=", _P_CMP, negate="eq", is_comparison=True, commutative=True)
lt = Operator("lt", "<", _P_CMP, negate="ge", is_comparison=True)
le = Operator("le", "<=", _P_CMP, negate="gt", is_comparison=True)
gt = Operator("gt", ">", _P_CMP, negate="le", is_comparison=True)
ge = Operator("ge", ">=", _P_CMP, negate="lt", is_comparison=True)
is_ = Operator("is_", "IS", _P_IS, negate="is_not", is_comparison=True)
is_not = Operator("is_not", "IS NOT", _P_IS, negate="is_", is_comparison=True)
is_distinct_from = Operator(
    "is_distinct_from",
    "IS DISTINCT FROM",
    _P_IS,
    negate="is_not_distinct_from",
    is_comparison=True,
)
is_not_distinct_from = Operator(
    "is_not_distinct_from",
    "IS NOT DISTINCT FROM",
    _P_IS,
    negate="is_distinct_from",
    is_comparison=True,
)
like_op = Operator("like_op", "LIKE", _P_LIKE, negate="not_like_op", is_comparison=True)
not_like_op = Operator("not_like_op", "NOT LIKE", _P_LIKE, negate="like_op", is_comparison=True)
ilike_op = Operator("ilike_op", "ILIKE", _P_LIKE, negate="not_ilike_op", is_comparison=True)
not_ilike_op = Operator("not_ilike_op", "NOT ILIKE", _P_LIKE, negate="ilike_op", is_comparison=True)
in_op = Operator("in_op", "IN", _P_IN, negate="not_in_op", is_comparison=True)
not_in_op = Operator("not_in_op", "NOT IN", _P_IN, negate="in_op", is_comparison=True)
between_op = Operator(
    "between_op", "BETWEEN", _P_BETWEEN, negate="not_between_op", is_comparison=True
)
not_between_op = Operator(
    "not_between_op", "NOT BETWEEN", _P_BETWEEN, negate="between_op", is_comparison=True
)
concat_op = Operator("concat_op", "||", _P_CONCAT)
add = Operator("add", "+", _P_ADD, commutative=True)
sub = Operator("sub", "-", _P_ADD)
mul = Operator("mul", "*", _P_MUL, commutative=True)
truediv = Operator("truediv", "/", _P_MUL)
floordiv = Operator("floordiv", "/", _P_MUL)
mod = Operator("mod", "%", _P_MUL)
neg = Operator("neg", "-", _P_NEG)
collate = Operator("collate", "COLLATE", _P_COLLATE)
asc_op = Operator("asc_op", "ASC", 0)
desc_op = Operator("desc_op", "DESC", 0)
nulls_first_op = Operator("nulls_first_op", "NULLS FIRST", 0)
nulls_last_op = Operator("nulls_last_op", "NULLS LAST", 0)
distinct_op = Operator("distinct_op", "DISTINCT", 0)
exists = Operator("exists", "EXISTS", _P_NOT)
comma_op = Operator("comma_op", ",", 0)
# ANY/ALL render their own parentheses: nothing inside needs more
any_op = Operator("any_op", "ANY", 90)
all_op = Operator("all_op", "ALL", 90)


def custom_op(opstring: str, precedence: int = 0, is_comparison: bool = False) -> Operator:
    """An operator given as text (``col.op("@>")(other)``)."""
    return Operator(
        f"custom:{opstring}", opstring, precedence or _P_CMP, is_comparison=is_comparison
    )


BY_NAME: dict[str, Operator] = {
    op.name: op for op in list(globals().values()) if isinstance(op, Operator)
}

# Highest precedence: an element at this level never needs parentheses.
P_ATOM = 100
