"""Property test of the expression compiler: random WHERE clauses on real databases
against a Python model of SQL's three-valued logic.

Hypothesis builds small expression trees (a plain AST, so a failing example prints
readably) over a table with nullable INTEGER and VARCHAR columns: comparisons, AND / OR /
NOT, + - * and unary minus, IN / NOT IN (empty lists and NULL members included), BETWEEN,
IS [NOT] NULL, LIKE / NOT LIKE / ILIKE (with and without ESCAPE) and contains /
startswith / endswith with ``autoescape=True``, NULL literals anywhere. Each tree is
compiled with ``select(t.c.id).where(expr)``, run on SQLite and PostgreSQL twice (bound
parameters, then ``literal_binds`` SQL through ``exec_driver_sql``), and the ids returned
must be exactly those for which the model says TRUE.

Where the two databases differ, the data and the generators keep to the common ground
so that one exact model serves both (each rule is at the place it applies):

- SQLite's LIKE folds ASCII case, PostgreSQL's does not: all data and patterns are
  lower case.
- PostgreSQL's LIKE treats a backslash as the escape character when there is no ESCAPE
  clause, SQLite's has none: patterns without ESCAPE contain no backslash (the data and
  the autoescaped texts do, and an explicit ESCAPE '/' makes a backslash plain data on
  both).
- String order is the database collation on PostgreSQL (en_US and friends ignore
  punctuation at first level) and bytes on SQLite: ordering comparisons (< <= > >=)
  only meet strings of the letters a-c, which every collation orders alike. Equality is
  exact everywhere (PostgreSQL's deterministic collations break ties bytewise).
- PostgreSQL's INTEGER overflows with an error, SQLite's switches to REAL: values stay
  small (|x| <= 8, at most four leaves in an arithmetic tree).
- psycopg sends a small Python int as SMALLINT and None as an untyped NULL: every
  arithmetic or comparison node has a column on one side, so no two parameters meet
  (SMALLINT * SMALLINT could overflow; NULL + NULL has no operator).

Runs derandomized (the same examples every run; a failure reproduces by rerunning) with
``HERMETIC_HYPOTHESIS=ci`` (the default); ``HERMETIC_HYPOTHESIS=explore`` draws many
more, random examples.
"""

from __future__ import annotations

import operator
import os
import random
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from conftest import pg_url, require_pg
from hermetic import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    false,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
)
from hermetic.engine import Connection

settings.register_profile(
    "hermetic-ci",
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "hermetic-explore",
    max_examples=3000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SETTINGS = settings.get_profile(f"hermetic-{os.environ.get('HERMETIC_HYPOTHESIS', 'ci')}")


# -- the AST ---------------------------------------------------------------------------
# kinds: "int", "plain" (strings of a-c: safe to order), "text" (any of the alphabet)


@dataclass(frozen=True)
class Col:
    name: str


@dataclass(frozen=True)
class Lit:
    value: Any
    kind: str
    wrapped: bool  # literal(value, type) rather than a bare Python value


@dataclass(frozen=True)
class Arith:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Neg:
    operand: Any


@dataclass(frozen=True)
class Cmp:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Between:
    expr: Any
    low: Any
    high: Any


@dataclass(frozen=True)
class InList:
    expr: Any
    values: tuple[Any, ...]
    negate: bool
    by_invert: bool  # ~expr.in_(...) instead of expr.not_in(...)


@dataclass(frozen=True)
class IsNull:
    expr: Any
    negate: bool


@dataclass(frozen=True)
class Like:
    col: Col
    pattern: str | None
    escape: str | None
    negate: bool
    ilike: bool


@dataclass(frozen=True)
class Affix:
    col: Col
    kind: str  # contains / startswith / endswith
    text: str
    negate: bool


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class And:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    item: Any


@dataclass(frozen=True)
class PredIsNull:
    pred: Any
    negate: bool


INT_COLS = ("a", "b")
PLAIN_COLS = ("s", "p")
STR_COLS = ("s", "p", "t")
PLAIN_ALPHABET = "abc"
# data, equality literals, autoescaped texts: quotes, wildcards, both escape characters,
# a two-byte letter, SQL comment and placeholder look-alikes
TEXT_ALPHABET = "ab%_'\"/\\ é;-:?"
# LIKE patterns without ESCAPE: no backslash (PostgreSQL's default escape character)
RAW_PATTERN_ALPHABET = "ab%_'\"/ é;-"
# LIKE patterns with ESCAPE '/': single characters, wildcards and escaped ones
ESCAPED_TOKENS = ["a", "b", "é", "'", "\\", "%", "_", "/%", "/_", "//"]


# -- the model: SQL's three-valued logic (None is NULL / UNKNOWN) ----------------------


def _and(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}


def _like(value: str, pattern: str, escape: str | None) -> bool:
    regex = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if escape is not None and c == escape:
            i += 1
            regex.append(re.escape(pattern[i]))
        elif c == "%":
            regex.append(".*")
        elif c == "_":
            regex.append(".")
        else:
            regex.append(re.escape(c))
        i += 1
    return re.fullmatch("".join(regex), value, re.DOTALL) is not None


def evaluate(node: Any, row: dict[str, Any]) -> Any:
    if isinstance(node, Col):
        return row[node.name]
    if isinstance(node, Lit):
        return node.value
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Neg):
        v = evaluate(node.operand, row)
        return None if v is None else -v
    if isinstance(node, Arith):
        left, right = evaluate(node.left, row), evaluate(node.right, row)
        return None if left is None or right is None else _ARITH[node.op](left, right)
    if isinstance(node, Cmp):
        left, right = evaluate(node.left, row), evaluate(node.right, row)
        return None if left is None or right is None else _CMP[node.op](left, right)
    if isinstance(node, Between):
        x, low, high = (evaluate(n, row) for n in (node.expr, node.low, node.high))
        ge = None if x is None or low is None else x >= low
        le = None if x is None or high is None else x <= high
        return _and([ge, le])
    if isinstance(node, InList):
        result: bool | None
        x = evaluate(node.expr, row)
        members = [evaluate(v, row) for v in node.values]
        if not members:
            result = False  # IN () is false even for NULL: nothing to compare with
        elif x is None:
            result = None
        elif any(m is not None and m == x for m in members):
            result = True
        else:
            result = None if any(m is None for m in members) else False
        return _not(result) if node.negate else result
    if isinstance(node, IsNull):
        is_null = evaluate(node.expr, row) is None
        return not is_null if node.negate else is_null
    if isinstance(node, Like):
        value = row[node.col.name]
        if value is None or node.pattern is None:
            return None
        matched = _like(value, node.pattern, node.escape)
        return not matched if node.negate else matched
    if isinstance(node, Affix):
        value = row[node.col.name]
        if value is None:
            return None
        check = {"contains": str.__contains__, "startswith": str.startswith}.get(
            node.kind, str.endswith
        )
        matched = bool(check(value, node.text))
        return not matched if node.negate else matched
    if isinstance(node, And):
        return _and([evaluate(i, row) for i in node.items])
    if isinstance(node, Or):
        return _or([evaluate(i, row) for i in node.items])
    if isinstance(node, Not):
        return _not(evaluate(node.item, row))
    if isinstance(node, PredIsNull):
        is_null = evaluate(node.pred, row) is None
        return not is_null if node.negate else is_null
    raise AssertionError(node)


# -- the same tree as a hermetic expression --------------------------------------------

_TYPES = {"int": Integer, "plain": String, "text": String}


def to_sql(node: Any, t: Table) -> Any:
    if isinstance(node, Col):
        return t.c[node.name]
    if isinstance(node, Lit):
        return literal(node.value, _TYPES[node.kind]) if node.wrapped else node.value
    if isinstance(node, Const):
        return true() if node.value else false()
    if isinstance(node, Neg):
        return -to_sql(node.operand, t)
    if isinstance(node, Arith):
        return _ARITH[node.op](to_sql(node.left, t), to_sql(node.right, t))
    if isinstance(node, Cmp):
        # a bare Python value on the left is fine: Python reflects to the column's side
        return _CMP[node.op](to_sql(node.left, t), to_sql(node.right, t))
    if isinstance(node, Between):
        return to_sql(node.expr, t).between(to_sql(node.low, t), to_sql(node.high, t))
    if isinstance(node, InList):
        expr = to_sql(node.expr, t)
        values = [to_sql(v, t) if v.wrapped else v.value for v in node.values]
        if not node.negate:
            return expr.in_(values)
        return ~expr.in_(values) if node.by_invert else expr.not_in(values)
    if isinstance(node, IsNull):
        expr = to_sql(node.expr, t)
        return expr.is_not(None) if node.negate else expr.is_(None)
    if isinstance(node, Like):
        col = t.c[node.col.name]
        if node.ilike:
            fn = col.not_ilike if node.negate else col.ilike
        else:
            fn = col.not_like if node.negate else col.like
        return fn(node.pattern, escape=node.escape)
    if isinstance(node, Affix):
        expr = getattr(t.c[node.col.name], node.kind)(node.text, autoescape=True)
        return ~expr if node.negate else expr
    if isinstance(node, And):
        return and_(*[to_sql(i, t) for i in node.items])
    if isinstance(node, Or):
        return or_(*[to_sql(i, t) for i in node.items])
    if isinstance(node, Not):
        return not_(to_sql(node.item, t))
    if isinstance(node, PredIsNull):
        expr = to_sql(node.pred, t)
        return expr.is_not(None) if node.negate else expr.is_(None)
    raise AssertionError(node)


# -- generators ------------------------------------------------------------------------

small_ints = st.integers(-8, 8)


def lits(kind: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Lit]:
    present = st.builds(Lit, values, st.just(kind), st.booleans())
    # a NULL literal is always literal(None, type): a bare None means IS NULL
    null = st.just(Lit(None, kind, True))
    return st.one_of(present, present, present, null)


int_lits = lits("int", small_ints)
plain_texts = st.text(PLAIN_ALPHABET, max_size=3)
plain_lits = lits("plain", plain_texts)
any_texts = st.text(TEXT_ALPHABET, max_size=4)
text_lits = lits("text", any_texts)


def _swap(pair: tuple[Any, Any], flip: bool) -> tuple[Any, Any]:
    return (pair[1], pair[0]) if flip else pair


def int_exprs(depth: int) -> st.SearchStrategy[Any]:
    """Integer expressions with at least one column in them."""
    base = st.sampled_from(INT_COLS).map(Col)
    if depth == 0:
        return base
    inner = int_exprs(depth - 1)
    negated_lit = st.builds(Neg, st.builds(Lit, st.integers(-8, 8), st.just("int"), st.just(True)))
    operand = st.one_of(int_lits, inner, negated_lit)
    arith = st.builds(
        lambda op, col, other, flip: Arith(op, *_swap((col, other), flip)),
        st.sampled_from(sorted(_ARITH)),
        inner,
        operand,
        st.booleans(),
    )
    return st.one_of(base, arith, arith, st.builds(Neg, inner))


def comparisons(
    ops: list[str], left: st.SearchStrategy[Any], right: st.SearchStrategy[Any]
) -> st.SearchStrategy[Cmp]:
    return st.builds(
        lambda op, a, b, flip: Cmp(op, *_swap((a, b), flip)),
        st.sampled_from(ops),
        left,
        right,
        st.booleans(),
    )


plain_cols = st.sampled_from(PLAIN_COLS).map(Col)
str_cols = st.sampled_from(STR_COLS).map(Col)
all_ops = sorted(_CMP)

int_comparisons = comparisons(all_ops, int_exprs(2), st.one_of(int_lits, int_exprs(1)))
plain_comparisons = comparisons(all_ops, plain_cols, st.one_of(plain_lits, plain_cols))
text_comparisons = comparisons(["=", "!="], str_cols, st.one_of(text_lits, plain_lits, str_cols))
betweens = st.builds(Between, int_exprs(1), int_lits, int_lits)
in_lists = st.one_of(
    st.builds(
        InList,
        int_exprs(1),
        st.lists(int_lits, max_size=4).map(tuple),
        st.booleans(),
        st.booleans(),
    ),
    st.builds(
        InList,
        str_cols,
        st.lists(text_lits, max_size=4).map(tuple),
        st.booleans(),
        st.booleans(),
    ),
)
is_nulls = st.builds(IsNull, st.one_of(int_exprs(1), str_cols), st.booleans())
raw_likes = st.builds(
    Like,
    str_cols,
    st.one_of(st.text(RAW_PATTERN_ALPHABET, max_size=5), st.none()),
    st.none(),
    st.booleans(),
    st.booleans(),
)
escaped_likes = st.builds(
    Like,
    str_cols,
    st.lists(st.sampled_from(ESCAPED_TOKENS), max_size=4).map("".join),
    st.just("/"),
    st.booleans(),
    st.booleans(),
)
affixes = st.builds(
    Affix,
    str_cols,
    st.sampled_from(["contains", "startswith", "endswith"]),
    any_texts,
    st.booleans(),
)
leaves = st.one_of(
    int_comparisons,
    plain_comparisons,
    text_comparisons,
    betweens,
    in_lists,
    is_nulls,
    raw_likes,
    escaped_likes,
    affixes,
    st.builds(Const, st.booleans()),
)
predicates = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
        st.builds(Not, inner),
        st.builds(PredIsNull, inner, st.booleans()),
    ),
    max_leaves=6,
)


# -- the table, once per backend --------------------------------------------------------

HOSTILE_TEXTS = [
    "",
    "'",
    "''",
    "%",
    "_",
    "/",
    "\\",
    "a%b",
    "a_b",
    "a\\%",
    "//",
    "%_",
    "it's",
    '"q"',
    "é",
    ";--",
    "a b",
    ":a?",
]
PLAIN_VALUES = ["", "a", "b", "c", "ab", "ba", "abc", "cab", "bb"]


def _rows() -> list[dict[str, Any]]:
    rnd = random.Random(20240611)
    rows: list[dict[str, Any]] = [
        {"a": None, "b": None, "s": None, "p": None, "t": None},
        {"a": 0, "b": 0, "s": "", "p": "", "t": ""},
        {"a": -8, "b": 8, "s": "a", "p": "abc", "t": "a%b"},
    ]
    rows += [{"a": None, "b": 1, "s": "b", "p": None, "t": text} for text in HOSTILE_TEXTS]

    def maybe(values: list[Any]) -> Any:
        return None if rnd.random() < 0.2 else rnd.choice(values)

    for _ in range(40):
        text = "".join(rnd.choice(TEXT_ALPHABET) for _ in range(rnd.randint(0, 4)))
        rows.append(
            {
                "a": maybe(list(range(-6, 7))),
                "b": maybe(list(range(-6, 7))),
                "s": maybe(PLAIN_VALUES),
                "p": maybe(PLAIN_VALUES),
                "t": maybe([*HOSTILE_TEXTS, text, text]),
            }
        )
    for i, row in enumerate(rows, 1):
        row["id"] = i
    return rows


ROWS = _rows()


@dataclass
class Backend:
    conn: Connection
    table: Table


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('props') / 'props.db'}"
    else:
        require_pg()
        url = pg_url()
    engine = create_engine(url)
    md = MetaData()
    t = Table(
        f"props_{uuid.uuid4().hex[:12]}",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("a", Integer),
        Column("b", Integer),
        Column("s", String(10)),
        Column("p", String(10)),
        Column("t", String(20)),
    )
    md.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(t), ROWS)
        with engine.connect() as conn:
            yield Backend(conn, t)
    finally:
        md.drop_all(engine)
        engine.dispose()


def _run(conn: Connection, fn: Callable[[], Any]) -> set[int]:
    try:
        return set(fn().scalars().all())
    except BaseException:
        conn.rollback()  # leave the connection usable for the next example
        raise


@SETTINGS
@given(tree=predicates)
@example(tree=InList(Col("a"), (), negate=True, by_invert=False))  # NOT IN () with NULLs
@example(tree=InList(Col("a"), (Lit(1, "int", False), Lit(None, "int", True)), True, True))
@example(tree=Cmp(">", Neg(Neg(Col("a"))), Neg(Lit(-5, "int", True))))  # no "--" comment
@example(tree=Affix(Col("t"), "contains", "%'\\/", negate=False))
@example(tree=Like(Col("t"), "'%", None, negate=True, ilike=False))
@example(tree=PredIsNull(Cmp("=", Col("a"), Lit(None, "int", True)), negate=False))
def test_where_matches_three_valued_model(backend: Backend, tree: Any) -> None:
    conn, t = backend.conn, backend.table
    expected = {row["id"] for row in ROWS if evaluate(tree, row) is True}
    stmt = select(t.c.id).where(to_sql(tree, t))
    compiled = stmt.compile(dialect=conn.dialect)
    note(f"bound SQL: {compiled}  params: {compiled.construct_params(None)}")
    bound = _run(conn, lambda: conn.execute(stmt))
    assert bound == expected, f"bound: {compiled}"
    literal_sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    note(f"literal SQL: {literal_sql}")
    inline = _run(conn, lambda: conn.exec_driver_sql(literal_sql))
    assert inline == expected, f"literal: {literal_sql}"


def test_model_sanity() -> None:
    """The model's own corner cases, spelled out."""
    row = {"a": None, "b": 2, "s": "ab", "p": None, "t": "a%b"}
    assert evaluate(InList(Col("a"), (), negate=True, by_invert=False), row) is True
    assert evaluate(InList(Col("a"), (), negate=False, by_invert=False), row) is False
    nulls = (Lit(3, "int", False), Lit(None, "int", True))
    assert evaluate(InList(Col("b"), nulls, negate=True, by_invert=False), row) is None
    assert evaluate(InList(Col("b"), (Lit(2, "int", False),), True, False), row) is False
    assert evaluate(Or((Const(True), Cmp("=", Col("a"), Lit(1, "int", False)))), row) is True
    assert evaluate(And((Const(False), Cmp("=", Col("a"), Lit(1, "int", False)))), row) is False
    assert evaluate(Like(Col("t"), "a/%b", "/", negate=False, ilike=False), row) is True
    assert evaluate(Like(Col("t"), "a/_b", "/", negate=False, ilike=False), row) is False
    assert evaluate(Affix(Col("t"), "contains", "%", negate=False), row) is True
    assert evaluate(PredIsNull(Cmp("<", Col("p"), Col("s")), negate=False), row) is True
