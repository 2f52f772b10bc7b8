"""Compile snapshots: every construct of the SQL expression language, rendered for the
generic ``str()`` form, for SQLite and for PostgreSQL (psycopg's ``pyformat``), with the
parameters the driver receives. One table of cases, one test.

Reading a case: ``generic`` is ``str(statement)``; ``sqlite=SAME`` means SQLite renders
exactly that text (both use ``:name`` placeholders); ``postgresql=PYFORMAT`` means
PostgreSQL renders that text with ``%(name)s`` placeholders (and ``%`` written ``%%``).
Everything else is spelled out. ``params`` are the parameters executed (expanding ``IN``
lists expanded); ``generic_params`` / ``sqlite_params`` say where those differ. A
``Raises`` entry is the CompileError that dialect gives, with the words it must contain.

Every dialect rendering is also compiled with a positional paramstyle (``qmark`` /
``format``): its parameters must be the named ones in the order of their placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from hermetic import (
    JSON,
    Column,
    CreateIndex,
    CreateTable,
    Date,
    DateTime,
    DropIndex,
    DropTable,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    all_,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    delete,
    desc,
    exc,
    except_,
    exists,
    extract,
    false,
    func,
    insert,
    intersect,
    literal,
    literal_column,
    not_,
    null,
    or_,
    over,
    select,
    table,
    true,
    tuple_,
    type_coerce,
    union,
    union_all,
    update,
    within_group,
)
from hermetic.dialects.postgresql import JSONB
from hermetic.dialects.postgresql import insert as pg_insert
from hermetic.dialects.postgresql.base import PGDialect
from hermetic.dialects.sqlite import insert as sqlite_insert
from hermetic.dialects.sqlite.base import SQLiteDialect
from hermetic.sql.ddl import DDLElement

SQLITE = SQLiteDialect(driver="pysqlite", paramstyle="named")
PG = PGDialect(driver="psycopg", paramstyle="pyformat")
SQLITE_QMARK = SQLiteDialect(driver="pysqlite", paramstyle="qmark")
PG_FORMAT = PGDialect(driver="psycopg", paramstyle="format")

md = MetaData()
users = Table(
    "users",
    md,
    Column("id", Integer, primary_key=True),
    Column("name", String(50)),
    Column("age", Integer),
    Column("created", DateTime),
)
addresses = Table(
    "addresses",
    md,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("email", String(100)),
)
docs = Table(
    "docs", md, Column("id", Integer, primary_key=True), Column("data", JSON), Column("jb", JSONB)
)
events = Table(
    "events",
    md,
    Column("id", Integer, primary_key=True),
    Column("day", Date),
    Column("kind", String),
)
u, a, d = users.c, addresses.c, docs.c
light = table("light", column("x", Integer), column("y", String))
u2 = users.alias("u2")

SAME = "<the generic SQL>"
PYFORMAT = "<the generic SQL, %(name)s placeholders>"


@dataclass(frozen=True)
class Raises:
    error: type[Exception]
    match: str


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], Any]
    generic: str | Raises
    sqlite: str | Raises | None = SAME  # None: not a statement for this dialect
    postgresql: str | Raises | None = PYFORMAT
    params: dict[str, Any] | None = None
    generic_params: dict[str, Any] | None = None
    sqlite_params: dict[str, Any] | None = None
    run: dict[str, Any] | None = None  # values for required bind parameters


def _pyformat(sql: str | Raises) -> str | Raises:
    if isinstance(sql, Raises):
        return sql
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


# fmt: off
CASES: list[Case] = [
    # -- comparison and boolean operators --------------------------------------------------
    Case("eq", lambda: select(u.id).where(u.name == "ann"),
         "SELECT users.id FROM users WHERE users.name = :name_1",
         params={"name_1": "ann"}),
    Case("comparisons", lambda: select(u.id).where(
            u.age != 3, u.age < 10, u.age <= 9, u.age > 1, u.age >= 2),
         "SELECT users.id FROM users WHERE users.age != :age_1 AND users.age < :age_2 "
         "AND users.age <= :age_3 AND users.age > :age_4 AND users.age >= :age_5",
         params={"age_1": 3, "age_2": 10, "age_3": 9, "age_4": 1, "age_5": 2}),
    Case("eq_none_is_null", lambda: select(u.id).where(u.name == None, u.age != None),  # noqa: E711
         "SELECT users.id FROM users WHERE users.name IS NULL AND users.age IS NOT NULL",
         params={}),
    Case("is_is_not", lambda: select(u.id).where(u.age.is_(None), u.name.is_not(null())),
         "SELECT users.id FROM users WHERE users.age IS NULL AND users.name IS NOT NULL",
         params={}),
    Case("is_distinct_from",
         lambda: select(u.id).where(u.name.is_distinct_from("x"), u.age.is_not_distinct_from(3)),
         "SELECT users.id FROM users WHERE users.name IS DISTINCT FROM :name_1 "
         "AND users.age IS NOT DISTINCT FROM :age_1",
         sqlite="SELECT users.id FROM users WHERE users.name IS NOT :name_1 "
         "AND users.age IS :age_1",
         params={"name_1": "x", "age_1": 3}),
    Case("and_or_not", lambda: select(u.id).where(
            or_(u.age < 18, and_(u.age > 65, u.name != "x")), not_(u.name.like("q%"))),
         "SELECT users.id FROM users WHERE (users.age < :age_1 OR users.age > :age_2 "
         "AND users.name != :name_1) AND users.name NOT LIKE :name_2",
         params={"age_1": 18, "age_2": 65, "name_1": "x", "name_2": "q%"}),
    Case("not_of_and", lambda: select(u.id).where(~and_(u.age > 1, u.age < 3)),
         "SELECT users.id FROM users WHERE NOT (users.age > :age_1 AND users.age < :age_2)",
         params={"age_1": 1, "age_2": 3}),
    Case("nested_comparison_parenthesized",
         lambda: select(u.id).where(u.age.between(1, 3) == False, u.name.like("a%") == True),  # noqa: E712
         "SELECT users.id FROM users WHERE (users.age BETWEEN :age_1 AND :age_2) = :param_1 "
         "AND (users.name LIKE :name_1) = :param_2",
         params={"age_1": 1, "age_2": 3, "param_1": False, "name_1": "a%", "param_2": True},
         sqlite_params={"age_1": 1, "age_2": 3, "param_1": 0, "name_1": "a%", "param_2": 1}),
    Case("null_true_false", lambda: select(u.id).where(u.name == null(), true(),
                                                        or_(false(), u.age > 1)),
         "SELECT users.id FROM users WHERE users.name IS NULL AND true AND "
         "(false OR users.age > :age_1)",
         sqlite="SELECT users.id FROM users WHERE users.name IS NULL AND 1 AND "
         "(0 OR users.age > :age_1)",
         params={"age_1": 1}),
    # -- arithmetic ------------------------------------------------------------------------
    Case("arithmetic", lambda: select((u.age + 1).label("plus"), ((u.age - 2) * 3).label("times"),
                                      (-u.age).label("neg"), (u.age % 4).label("rem")),
         "SELECT users.age + :age_1 AS plus, (users.age - :age_2) * :param_1 AS times, "
         "-users.age AS neg, users.age % :age_3 AS rem FROM users",
         params={"age_1": 1, "age_2": 2, "param_1": 3, "age_3": 4}),
    Case("division", lambda: select((u.age / 2).label("half"), (u.age // 2).label("whole"),
                                    (u.age / 2.5).label("ratio"), (u.age // 1.5).label("floor")),
         "SELECT users.age / CAST(:age_1 AS NUMERIC) AS half, users.age / :age_2 AS whole, "
         "users.age / :age_3 AS ratio, FLOOR(users.age / :age_4) AS floor FROM users",
         sqlite="SELECT users.age / CAST(:age_1 AS REAL) AS half, users.age / :age_2 AS whole, "
         "users.age / :age_3 AS ratio, FLOOR(users.age / :age_4) AS floor FROM users",
         params={"age_1": 2, "age_2": 2, "age_3": 2.5, "age_4": 1.5}),
    Case("concat", lambda: select((u.name + "!").label("loud"), u.name.concat(u.name).label("two")),
         "SELECT users.name || :name_1 AS loud, users.name || users.name AS two FROM users",
         params={"name_1": "!"}),
    # -- IN, BETWEEN, LIKE -----------------------------------------------------------------
    Case("in_list", lambda: select(u.id).where(u.id.in_([1, 2, 3])),
         "SELECT users.id FROM users WHERE users.id IN :id_1",
         sqlite="SELECT users.id FROM users WHERE users.id IN (:id_1_1, :id_1_2, :id_1_3)",
         postgresql="SELECT users.id FROM users WHERE users.id IN "
         "(%(id_1_1)s, %(id_1_2)s, %(id_1_3)s)",
         params={"id_1_1": 1, "id_1_2": 2, "id_1_3": 3}, generic_params={"id_1": [1, 2, 3]}),
    Case("in_empty", lambda: select(u.id).where(u.id.in_([])),
         "SELECT users.id FROM users WHERE users.id IN :id_1",
         sqlite="SELECT users.id FROM users WHERE users.id IN (SELECT 1 FROM (SELECT 1) "
         "WHERE 1!=1)",
         postgresql="SELECT users.id FROM users WHERE users.id IN "
         "(SELECT CAST(NULL AS INTEGER) WHERE 1!=1)",
         params={}, generic_params={"id_1": []}),
    Case("not_in", lambda: select(u.id).where(u.name.not_in(["a", "b"])),
         "SELECT users.id FROM users WHERE users.name NOT IN :name_1",
         sqlite="SELECT users.id FROM users WHERE users.name NOT IN (:name_1_1, :name_1_2)",
         postgresql="SELECT users.id FROM users WHERE users.name NOT IN "
         "(%(name_1_1)s, %(name_1_2)s)",
         params={"name_1_1": "a", "name_1_2": "b"}, generic_params={"name_1": ["a", "b"]}),
    Case("not_in_empty", lambda: select(u.id).where(u.name.not_in([])),
         "SELECT users.id FROM users WHERE users.name NOT IN :name_1",
         sqlite="SELECT users.id FROM users WHERE users.name NOT IN "
         "(SELECT 1 FROM (SELECT 1) WHERE 1!=1)",
         postgresql="SELECT users.id FROM users WHERE users.name NOT IN "
         "(SELECT CAST(NULL AS VARCHAR) WHERE 1!=1)",
         params={}, generic_params={"name_1": []}),
    Case("in_expanding_bindparam",
         lambda: select(u.id).where(u.id.in_(bindparam("ids", expanding=True))),
         "SELECT users.id FROM users WHERE users.id IN :ids",
         sqlite="SELECT users.id FROM users WHERE users.id IN (:ids_1, :ids_2)",
         postgresql="SELECT users.id FROM users WHERE users.id IN (%(ids_1)s, %(ids_2)s)",
         params={"ids_1": 4, "ids_2": 5}, generic_params={"ids": [4, 5]},
         run={"ids": [4, 5]}),
    Case("in_select", lambda: select(u.id).where(u.id.in_(select(a.user_id))),
         "SELECT users.id FROM users WHERE users.id IN (SELECT addresses.user_id FROM addresses)",
         params={}),
    Case("between", lambda: select(u.id).where(u.age.between(18, 65), ~u.id.between(5, 6)),
         "SELECT users.id FROM users WHERE users.age BETWEEN :age_1 AND :age_2 "
         "AND users.id NOT BETWEEN :id_1 AND :id_2",
         params={"age_1": 18, "age_2": 65, "id_1": 5, "id_2": 6}),
    Case("like_ilike", lambda: select(u.id).where(
            u.name.like("a%"), u.name.ilike("B%"), u.name.not_like("%z"), u.name.not_ilike("%Q")),
         "SELECT users.id FROM users WHERE users.name LIKE :name_1 AND users.name ILIKE :name_2 "
         "AND users.name NOT LIKE :name_3 AND users.name NOT ILIKE :name_4",
         sqlite="SELECT users.id FROM users WHERE users.name LIKE :name_1 AND "
         "lower(users.name) LIKE lower(:name_2) AND users.name NOT LIKE :name_3 AND "
         "lower(users.name) NOT LIKE lower(:name_4)",
         params={"name_1": "a%", "name_2": "B%", "name_3": "%z", "name_4": "%Q"}),
    Case("like_escape", lambda: select(u.id).where(u.name.like("a!%", escape="!")),
         "SELECT users.id FROM users WHERE users.name LIKE :name_1 ESCAPE '!'",
         params={"name_1": "a!%"}),
    Case("contains_startswith_endswith", lambda: select(u.id).where(
            u.name.contains("an"), u.name.startswith("A"), u.name.endswith("n")),
         "SELECT users.id FROM users WHERE users.name LIKE :name_1 AND users.name LIKE :name_2 "
         "AND users.name LIKE :name_3",
         params={"name_1": "%an%", "name_2": "A%", "name_3": "%n"}),
    Case("contains_autoescape",
         lambda: select(u.id).where(u.name.contains("5%_/", autoescape=True)),
         "SELECT users.id FROM users WHERE users.name LIKE :name_1 ESCAPE '/'",
         params={"name_1": "%5/%/_//%"}),
    Case("startswith_column", lambda: select(u.id).where(u.name.startswith(a.email)),
         "SELECT users.id FROM users, addresses WHERE users.name LIKE "
         "addresses.email || :param_1",
         params={"param_1": "%"}),
    # -- DISTINCT, COLLATE, custom operators -----------------------------------------------
    Case("distinct_in_function", lambda: select(func.count(u.name.distinct())),
         "SELECT count(DISTINCT users.name) AS count_1 FROM users", params={}),
    Case("collate", lambda: select(u.name).where(u.name.collate("nocase") == "x")
                                            .order_by(u.name.collate("C")),
         "SELECT users.name FROM users WHERE users.name COLLATE nocase = :param_1 "
         'ORDER BY users.name COLLATE "C"',
         params={"param_1": "x"}),
    Case("custom_op", lambda: select(u.age.op("&")(4).label("bits"))
                                 .where(u.name.op("~", is_comparison=True)("^a")),
         "SELECT users.age & :age_1 AS bits FROM users WHERE users.name ~ :name_1",
         params={"age_1": 4, "name_1": "^a"}),
    # -- CASE, CAST, literals, labels ------------------------------------------------------
    Case("case_searched", lambda: select(case((u.age < 18, "minor"), (u.age < 65, "adult"),
                                              else_="senior").label("band")),
         "SELECT CASE WHEN users.age < :age_1 THEN :param_1 WHEN users.age < :age_2 "
         "THEN :param_2 ELSE :param_3 END AS band FROM users",
         params={"age_1": 18, "param_1": "minor", "age_2": 65, "param_2": "adult",
                 "param_3": "senior"}),
    Case("case_simple", lambda: select(case({1: "one", 2: "two"}, value=u.id,
                                            else_="many").label("word")),
         "SELECT CASE users.id WHEN :param_1 THEN :param_2 WHEN :param_3 THEN :param_4 "
         "ELSE :param_5 END AS word FROM users",
         params={"param_1": 1, "param_2": "one", "param_3": 2, "param_4": "two",
                 "param_5": "many"}),
    Case("cast", lambda: select(cast(u.age, String(10)).label("s"),
                                cast(u.name, Numeric(10, 2)).label("n"),
                                cast("2024-01-02", Date).label("d")),
         "SELECT CAST(users.age AS VARCHAR(10)) AS s, CAST(users.name AS NUMERIC(10, 2)) AS n, "
         "CAST(:param_1 AS DATE) AS d FROM users",
         params={"param_1": "2024-01-02"}),
    Case("type_coerce", lambda: select(type_coerce(u.name, JSON).label("j")),
         "SELECT users.name AS j FROM users", params={}),
    Case("literal_and_literal_column", lambda: select(
            literal(5).label("five"), literal("x"), literal_column("1 + 1").label("two")),
         "SELECT :param_1 AS five, :param_2 AS anon_1, 1 + 1 AS two",
         params={"param_1": 5, "param_2": "x"}),
    Case("column_and_table", lambda: select(light.c.x, column("q")).where(light.c.y == "b"),
         "SELECT light.x, q FROM light WHERE light.y = :y_1", params={"y_1": "b"}),
    Case("bindparam_required", lambda: select(u.id).where(u.name == bindparam("nm")),
         "SELECT users.id FROM users WHERE users.name = :nm",
         params={"nm": "x"}, run={"nm": "x"}),
    Case("bindparam_with_value", lambda: select(u.id).where(u.age > bindparam("lo", 7)),
         "SELECT users.id FROM users WHERE users.age > :lo", params={"lo": 7}),
    # -- functions, windows, aggregates ----------------------------------------------------
    Case("functions", lambda: select(func.count(), func.max(u.age), func.lower(u.name),
                                     func.my_fn(u.id, 1), func.current_timestamp()),
         "SELECT count(*) AS count_1, max(users.age) AS max_1, lower(users.name) AS lower_1, "
         "my_fn(users.id, :param_1) AS my_fn_1, CURRENT_TIMESTAMP AS current_timestamp_1 "
         "FROM users",
         params={"param_1": 1}),
    Case("over", lambda: select(
            func.row_number().over(partition_by=u.name, order_by=u.id.desc()).label("rn"),
            func.sum(u.age).over(order_by=u.id, rows=(None, 0)).label("running"),
            over(func.avg(u.age), partition_by=[u.name, u.age], range_=(-1, 1)).label("near"),
            func.count().over().label("total")),
         "SELECT row_number() OVER (PARTITION BY users.name ORDER BY users.id DESC) AS rn, "
         "sum(users.age) OVER (ORDER BY users.id ROWS BETWEEN UNBOUNDED PRECEDING AND "
         "CURRENT ROW) AS running, avg(users.age) OVER (PARTITION BY users.name, users.age "
         "RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS near, count(*) OVER () AS total "
         "FROM users",
         params={}),
    Case("within_group", lambda: select(
            func.percentile_cont(0.5).within_group(u.age).label("median"),
            within_group(func.mode(), u.name.desc()).label("common")),
         "SELECT percentile_cont(:param_1) WITHIN GROUP (ORDER BY users.age) AS median, "
         "mode() WITHIN GROUP (ORDER BY users.name DESC) AS common FROM users",
         params={"param_1": 0.5}),
    Case("filter", lambda: select(func.count(u.id).filter(u.age > 18).label("adults")),
         "SELECT count(users.id) FILTER (WHERE users.age > :age_1) AS adults FROM users",
         params={"age_1": 18}),
    Case("extract", lambda: select(extract("year", u.created).label("y"),
                                   extract("month", u.created).label("m")),
         "SELECT EXTRACT(YEAR FROM users.created) AS y, EXTRACT(MONTH FROM users.created) AS m "
         "FROM users",
         sqlite="SELECT CAST(STRFTIME('%Y', users.created) AS INTEGER) AS y, "
         "CAST(STRFTIME('%m', users.created) AS INTEGER) AS m FROM users",
         params={}),
    # -- tuples, ordering, ANY/ALL ---------------------------------------------------------
    Case("tuple_in", lambda: select(u.id).where(tuple_(u.id, u.name).in_([(1, "a"), (2, "b")])),
         "SELECT users.id FROM users WHERE (users.id, users.name) IN :param_1",
         sqlite="SELECT users.id FROM users WHERE (users.id, users.name) IN "
         "(VALUES (:param_1_1_1, :param_1_1_2), (:param_1_2_1, :param_1_2_2))",
         postgresql="SELECT users.id FROM users WHERE (users.id, users.name) IN "
         "((%(param_1_1_1)s, %(param_1_1_2)s), (%(param_1_2_1)s, %(param_1_2_2)s))",
         params={"param_1_1_1": 1, "param_1_1_2": "a", "param_1_2_1": 2, "param_1_2_2": "b"},
         generic_params={"param_1": [(1, "a"), (2, "b")]}),
    Case("tuple_not_in_empty", lambda: select(u.id).where(tuple_(u.id, u.name).not_in([])),
         "SELECT users.id FROM users WHERE (users.id, users.name) NOT IN :param_1",
         sqlite="SELECT users.id FROM users WHERE (users.id, users.name) NOT IN "
         "(SELECT 1, 1 FROM (SELECT 1) WHERE 1!=1)",
         postgresql="SELECT users.id FROM users WHERE (users.id, users.name) NOT IN "
         "(SELECT CAST(NULL AS INTEGER), CAST(NULL AS VARCHAR) WHERE 1!=1)",
         params={}, generic_params={"param_1": []}),
    Case("tuple_eq", lambda: select(u.id).where(tuple_(u.id, u.age) == tuple_(1, 2)),
         "SELECT users.id FROM users WHERE (users.id, users.age) = (:param_1, :param_2)",
         params={"param_1": 1, "param_2": 2}),
    Case("order_by_modifiers", lambda: select(u.id).order_by(
            u.name.asc().nulls_first(), desc(u.age), u.id.nulls_last(), "name"),
         "SELECT users.id FROM users ORDER BY users.name ASC NULLS FIRST, users.age DESC, "
         "users.id NULLS LAST, name",
         params={}),
    Case("any_all", lambda: select(u.id).where(u.age == any_(select(a.id).scalar_subquery()),
                                               u.id > all_(select(a.user_id).scalar_subquery())),
         "SELECT users.id FROM users WHERE users.age = ANY (SELECT addresses.id FROM addresses) "
         "AND users.id > ALL (SELECT addresses.user_id FROM addresses)",
         sqlite=Raises(exc.CompileError, "sqlite has no ANY"),
         params={}),
    # -- joins and FROM --------------------------------------------------------------------
    Case("join_inferred", lambda: select(u.name, a.email).join(addresses),
         "SELECT users.name, addresses.email FROM users JOIN addresses "
         "ON users.id = addresses.user_id",
         params={}),
    Case("outerjoin_and_full", lambda: select(u.name, a.email, u2.c.name)
                                         .outerjoin(addresses).join(u2, u2.c.id == a.id, full=True),
         "SELECT users.name, addresses.email, u2.name FROM users LEFT OUTER JOIN addresses "
         "ON users.id = addresses.user_id FULL OUTER JOIN users AS u2 ON u2.id = addresses.id",
         params={}),
    Case("join_from", lambda: select(u.name).join_from(users, addresses),
         "SELECT users.name FROM users JOIN addresses ON users.id = addresses.user_id",
         params={}),
    Case("join_reversed", lambda: select(a.email).join_from(addresses, users),
         "SELECT addresses.email FROM addresses JOIN users ON addresses.user_id = users.id",
         params={}),
    Case("select_from", lambda: select(func.count()).select_from(users.join(addresses)),
         "SELECT count(*) AS count_1 FROM users JOIN addresses ON users.id = addresses.user_id",
         params={}),
    Case("group_by_having", lambda: select(u.name, func.count(a.id).label("n"))
                                     .join(addresses).group_by(u.name)
                                     .having(func.count(a.id) > 1).order_by(desc("n")),
         "SELECT users.name, count(addresses.id) AS n FROM users JOIN addresses "
         "ON users.id = addresses.user_id GROUP BY users.name HAVING count(addresses.id) > "
         ":count_1 ORDER BY n DESC",
         params={"count_1": 1}),
    Case("limit_offset", lambda: select(u.id).order_by(u.id).limit(10).offset(20),
         "SELECT users.id FROM users ORDER BY users.id LIMIT :param_1 OFFSET :param_2",
         params={"param_1": 10, "param_2": 20}),
    Case("offset_only", lambda: select(u.id).offset(5),
         "SELECT users.id FROM users OFFSET :param_1",
         sqlite="SELECT users.id FROM users LIMIT -1 OFFSET :param_1",
         params={"param_1": 5}),
    Case("fetch", lambda: select(u.id).order_by(u.id).fetch(5),
         "SELECT users.id FROM users ORDER BY users.id FETCH FIRST :param_1 ROWS ONLY",
         sqlite="SELECT users.id FROM users ORDER BY users.id LIMIT :param_1",
         params={"param_1": 5}),
    Case("offset_fetch", lambda: select(u.id).order_by(u.id).offset(10).fetch(5),
         "SELECT users.id FROM users ORDER BY users.id OFFSET :param_1 ROWS "
         "FETCH FIRST :param_2 ROWS ONLY",
         sqlite="SELECT users.id FROM users ORDER BY users.id LIMIT :param_1 OFFSET :param_2",
         params={"param_1": 10, "param_2": 5}, sqlite_params={"param_1": 5, "param_2": 10}),
    Case("fetch_with_ties", lambda: select(u.id).order_by(u.age).fetch(3, with_ties=True),
         "SELECT users.id FROM users ORDER BY users.age FETCH FIRST :param_1 ROWS WITH TIES",
         sqlite=Raises(exc.CompileError, "sqlite has no FETCH FIRST.*with_ties"),
         params={"param_1": 3}),
    Case("fetch_percent", lambda: select(u.id).order_by(u.age).fetch(10, percent=True),
         "SELECT users.id FROM users ORDER BY users.age FETCH FIRST :param_1 PERCENT ROWS ONLY",
         sqlite=Raises(exc.CompileError, "sqlite has no FETCH FIRST.*percent"),
         postgresql=Raises(exc.CompileError, "postgresql has no FETCH ... PERCENT"),
         params={"param_1": 10}),
    Case("distinct", lambda: select(u.name).distinct(),
         "SELECT DISTINCT users.name FROM users", params={}),
    Case("distinct_on", lambda: select(u.name, u.age).distinct(u.name)
                                 .order_by(u.name, u.age.desc()),
         "SELECT DISTINCT ON (users.name) users.name, users.age FROM users "
         "ORDER BY users.name, users.age DESC",
         sqlite=Raises(exc.CompileError, "DISTINCT ON"),
         params={}),
    Case("alias", lambda: select(u2.c.name).where(u2.c.id == 1),
         "SELECT u2.name FROM users AS u2 WHERE u2.id = :id_1", params={"id_1": 1}),
    Case("self_join_alias",
         lambda: select(u.name, u2.c.name).join_from(users, u2, u.id == u2.c.age),
         "SELECT users.name, u2.name FROM users JOIN users AS u2 ON users.id = u2.age", params={}),
    Case("subquery", lambda: (lambda sq: select(u.name, sq.c.n).join(sq, u.id == sq.c.user_id))(
            select(a.user_id, func.count().label("n")).group_by(a.user_id).subquery("counts")),
         "SELECT users.name, counts.n FROM users JOIN (SELECT addresses.user_id, count(*) AS n "
         "FROM addresses GROUP BY addresses.user_id) AS counts ON users.id = counts.user_id",
         params={}),
    Case("scalar_subquery_correlated_in_columns", lambda: select(
            u.name, select(func.count(a.id)).where(a.user_id == u.id).scalar_subquery().label("n")),
         "SELECT users.name, (SELECT count(addresses.id) AS count_1 FROM addresses "
         "WHERE addresses.user_id = users.id) AS n FROM users",
         params={}),
    Case("scalar_subquery_uncorrelated", lambda: select(u.id).where(
            u.age > select(func.avg(u.age)).scalar_subquery()),
         "SELECT users.id FROM users WHERE users.age > (SELECT avg(users.age) AS avg_1 FROM users)",
         params={}),
    Case("lateral", lambda: (lambda lat: select(u.name, lat.c.email).join(lat, true()))(
            select(a.email).where(a.user_id == u.id).order_by(a.id.desc()).limit(1)
            .lateral("last")),
         "SELECT users.name, last.email FROM users JOIN LATERAL (SELECT addresses.email FROM "
         "addresses WHERE addresses.user_id = users.id ORDER BY addresses.id DESC "
         "LIMIT :param_1) AS last ON true",
         sqlite=Raises(exc.CompileError, "sqlite has no LATERAL"),
         params={"param_1": 1}),
    Case("exists", lambda: select(u.id).where(exists().where(a.user_id == u.id),
                                              ~exists(select(a.id).where(a.email == u.name))),
         "SELECT users.id FROM users WHERE EXISTS (SELECT * FROM addresses WHERE "
         "addresses.user_id = users.id) AND NOT EXISTS (SELECT addresses.id FROM addresses "
         "WHERE addresses.email = users.name)",
         params={}),
    Case("exists_in_columns", lambda: select(exists().where(a.user_id == 5).label("any")),
         'SELECT EXISTS (SELECT * FROM addresses WHERE addresses.user_id = :user_id_1) AS "any"',
         params={"user_id_1": 5}),
    # -- CTEs and compound selects ---------------------------------------------------------
    Case("cte", lambda: (lambda big: select(big.c.name).where(big.c.id < 9))(
            select(u.id, u.name).where(u.age > 30).cte("big")),
         "WITH big AS (SELECT users.id, users.name FROM users WHERE users.age > :age_1) "
         "SELECT big.name FROM big WHERE big.id < :id_1",
         params={"age_1": 30, "id_1": 9}),
    Case("cte_in_subquery_and_chained", lambda: (
            lambda xs: (lambda ys: select(u.name).where(u.id.in_(select(ys.c.user_id))))(
                select(xs.c.user_id).where(xs.c.user_id > 2).cte("ys")))(
            select(a.user_id).where(a.email.like("%@x.org")).cte("xs")),
         "WITH xs AS (SELECT addresses.user_id FROM addresses WHERE addresses.email LIKE "
         ":email_1), ys AS (SELECT xs.user_id FROM xs WHERE xs.user_id > :user_id_1) "
         "SELECT users.name FROM users WHERE users.id IN (SELECT ys.user_id FROM ys)",
         params={"email_1": "%@x.org", "user_id_1": 2}),
    Case("recursive_cte", lambda: (lambda nums: select(nums.c.n))(
            (lambda base: base.union_all(select((base.c.n + 1).label("n")).where(base.c.n < 5)))(
                select(literal(1).label("n")).cte("nums", recursive=True))),
         "WITH RECURSIVE nums AS (SELECT :param_1 AS n UNION ALL SELECT nums.n + :n_1 AS n "
         "FROM nums WHERE nums.n < :n_2) SELECT nums.n FROM nums",
         params={"param_1": 1, "n_1": 1, "n_2": 5}),
    Case("union", lambda: union(select(u.id).where(u.age < 2), select(a.user_id)).order_by("id"),
         "SELECT users.id FROM users WHERE users.age < :age_1 UNION "
         "SELECT addresses.user_id FROM addresses ORDER BY id",
         params={"age_1": 2}),
    Case("union_all_limit", lambda: union_all(select(u.id), select(a.id)).limit(3),
         "SELECT users.id FROM users UNION ALL SELECT addresses.id FROM addresses "
         "LIMIT :param_1",
         params={"param_1": 3}),
    Case("intersect_except", lambda: except_(intersect(select(u.id), select(a.user_id)),
                                             select(a.id)),
         "SELECT * FROM (SELECT users.id FROM users INTERSECT SELECT addresses.user_id FROM "
         "addresses) AS anon_member_1 EXCEPT SELECT addresses.id FROM addresses",
         params={}),
    Case("union_member_with_limit", lambda: select(u.id).limit(1).union(select(a.id)),
         "SELECT * FROM (SELECT users.id FROM users LIMIT :param_1) AS anon_member_1 "
         "UNION SELECT addresses.id FROM addresses",
         params={"param_1": 1}),
    # -- row locks -------------------------------------------------------------------------
    Case("for_update", lambda: select(u.id).with_for_update(),
         "SELECT users.id FROM users FOR UPDATE",
         sqlite="SELECT users.id FROM users", params={}),
    Case("for_share_nowait", lambda: select(u.id).with_for_update(read=True, nowait=True),
         "SELECT users.id FROM users FOR SHARE NOWAIT",
         sqlite="SELECT users.id FROM users", params={}),
    Case("for_update_of_skip_locked", lambda: select(u.id, a.id).join(addresses)
                                               .with_for_update(of=addresses, skip_locked=True),
         "SELECT users.id, addresses.id FROM users JOIN addresses ON users.id = "
         "addresses.user_id FOR UPDATE OF addresses SKIP LOCKED",
         sqlite="SELECT users.id, addresses.id FROM users JOIN addresses ON users.id = "
         "addresses.user_id", params={}),
    Case("for_no_key_update", lambda: select(u.id).with_for_update(key_share=True),
         "SELECT users.id FROM users FOR NO KEY UPDATE",
         sqlite="SELECT users.id FROM users", params={}),
    Case("for_key_share", lambda: select(u.id).with_for_update(read=True, key_share=True),
         "SELECT users.id FROM users FOR KEY SHARE",
         sqlite="SELECT users.id FROM users", params={}),
    Case("add_columns", lambda: select(u.id).add_columns(u.name, a.email),
         "SELECT users.id, users.name, addresses.email FROM users, addresses", params={}),
    Case("with_only_columns", lambda: select(u.id, u.name).with_only_columns(a.user_id),
         "SELECT addresses.user_id FROM addresses", params={}),
    # -- correlation -----------------------------------------------------------------------
    Case("correlate_explicit", lambda: select(u.name, a.email).where(
            exists(select(u2.c.id).where(u2.c.age == u.age, u2.c.id == a.user_id)
                   .correlate(users))),
         "SELECT users.name, addresses.email FROM users, addresses WHERE EXISTS (SELECT u2.id "
         "FROM users AS u2, addresses WHERE u2.age = users.age AND u2.id = addresses.user_id)",
         params={}),
    Case("correlate_none", lambda: select(u.name).where(
            select(func.count(a.id)).where(a.user_id == u.id).correlate(None)
            .scalar_subquery() > 0),
         "SELECT users.name FROM users WHERE (SELECT count(addresses.id) AS count_1 FROM "
         "addresses, users WHERE addresses.user_id = users.id) > :param_1",
         params={"param_1": 0}),
    Case("correlate_except", lambda: select(u.name, a.email).where(
            exists(select(u.id).where(u.id == a.user_id).correlate_except(users))),
         "SELECT users.name, addresses.email FROM users, addresses WHERE EXISTS (SELECT users.id "
         "FROM users WHERE users.id = addresses.user_id)",
         params={}),
    Case("correlate_to_outer_level", lambda: select(u.id).where(exists(
            select(a.id).where(a.user_id == u.id, a.id == select(u2.c.id)
                               .where(u2.c.age == u.age).correlate(users).scalar_subquery()))),
         "SELECT users.id FROM users WHERE EXISTS (SELECT addresses.id FROM addresses WHERE "
         "addresses.user_id = users.id AND addresses.id = (SELECT u2.id FROM users AS u2 "
         "WHERE u2.age = users.age))",
         params={}),
    Case("correlate_auto_would_remove_all", lambda: select(u.name, a.email).where(
            exists(select(u.id).where(u.id == a.user_id))),
         Raises(exc.InvalidRequestError, "auto-correlation would leave it no FROM clause"),
         sqlite=Raises(exc.InvalidRequestError, r"correlate\(<tables>\)"),
         postgresql=Raises(exc.InvalidRequestError, r"correlate\(None\)")),
    Case("subquery_in_from_does_not_auto_correlate", lambda: (
            lambda sq: select(u.id, sq.c.email).join(sq, true()))(
            select(a.email).where(a.user_id == u.id).subquery("s")),
         "SELECT users.id, s.email FROM users JOIN (SELECT addresses.email FROM addresses, users "
         "WHERE addresses.user_id = users.id) AS s ON true",
         sqlite="SELECT users.id, s.email FROM users JOIN (SELECT addresses.email FROM "
         "addresses, users WHERE addresses.user_id = users.id) AS s ON 1",
         params={}),
    # -- INSERT ----------------------------------------------------------------------------
    Case("insert_values", lambda: insert(users).values(id=1, name="ann"),
         "INSERT INTO users (id, name) VALUES (:id, :name)", params={"id": 1, "name": "ann"}),
    Case("insert_multi_row", lambda: insert(users).values([{"id": 1, "name": "a"},
                                                            {"id": 2, "name": "b"}]),
         "INSERT INTO users (id, name) VALUES (:id_m0, :name_m0), (:id_m1, :name_m1)",
         params={"id_m0": 1, "name_m0": "a", "id_m1": 2, "name_m1": "b"}),
    Case("insert_sql_value_and_returning", lambda: insert(users)
            .values(name=func.upper("x"), age=select(func.max(a.id)).scalar_subquery())
            .returning(u.id, u.name),
         "INSERT INTO users (name, age) VALUES (upper(:param_1), (SELECT max(addresses.id) AS "
         "max_1 FROM addresses)) RETURNING users.id, users.name",
         params={"param_1": "x"}),
    Case("insert_from_select", lambda: insert(users).from_select(
            ["id", "name"], select(a.id, a.email).where(a.id > 10)),
         "INSERT INTO users (id, name) SELECT addresses.id, addresses.email FROM addresses "
         "WHERE addresses.id > :id_1",
         params={"id_1": 10}),
    # -- UPDATE ----------------------------------------------------------------------------
    Case("update_where_values_returning", lambda: update(users).where(u.id == 5)
            .values(age=u.age + 1, name="z").returning(u.id, u.age),
         "UPDATE users SET age=(users.age + :age_1), name=:name WHERE users.id = :id_1 "
         "RETURNING users.id, users.age",
         params={"age_1": 1, "name": "z", "id_1": 5}),
    Case("update_correlated_set", lambda: update(users).values(
            name=select(a.email).where(a.user_id == u.id).order_by(a.id).limit(1)
            .scalar_subquery()),
         "UPDATE users SET name=(SELECT addresses.email FROM addresses WHERE addresses.user_id "
         "= users.id ORDER BY addresses.id LIMIT :param_1)",
         params={"param_1": 1}),
    Case("update_correlated_where", lambda: update(users).values(age=0).where(
            exists().where(a.user_id == u.id, a.email.like("%@old"))),
         "UPDATE users SET age=:age WHERE EXISTS (SELECT * FROM addresses WHERE "
         "addresses.user_id = users.id AND addresses.email LIKE :email_1)",
         params={"age": 0, "email_1": "%@old"}),
    Case("update_from", lambda: update(users).where(u.id == a.user_id, a.email == "x")
            .values(name=a.email).returning(u.id),
         "UPDATE users SET name=addresses.email FROM addresses WHERE users.id = "
         "addresses.user_id AND addresses.email = :email_1 RETURNING users.id",
         params={"email_1": "x"}),
    Case("update_from_returning_other_table", lambda: update(users)
            .where(u.id == a.user_id).values(age=a.id).returning(u.id, a.email),
         "UPDATE users SET age=addresses.id FROM addresses WHERE users.id = addresses.user_id "
         "RETURNING users.id, addresses.email",
         sqlite=Raises(exc.CompileError, "RETURNING can name only the updated table 'users'"),
         params={}),
    # -- DELETE ----------------------------------------------------------------------------
    Case("delete_where_returning", lambda: delete(users).where(u.age < 18).returning(u.id),
         "DELETE FROM users WHERE users.age < :age_1 RETURNING users.id", params={"age_1": 18}),
    Case("delete_all", lambda: delete(users), "DELETE FROM users", params={}),
    Case("delete_correlated_subquery", lambda: delete(users).where(
            u.id.in_(select(a.user_id).where(a.email == "x")),
            ~exists().where(a.user_id == u.id, a.id > 3)),
         "DELETE FROM users WHERE users.id IN (SELECT addresses.user_id FROM addresses WHERE "
         "addresses.email = :email_1) AND NOT EXISTS (SELECT * FROM addresses WHERE "
         "addresses.user_id = users.id AND addresses.id > :id_1)",
         params={"email_1": "x", "id_1": 3}),
    Case("delete_using", lambda: delete(users).where(u.id == a.user_id, a.email == "x")
            .returning(u.id),
         "DELETE FROM users USING addresses WHERE users.id = addresses.user_id AND "
         "addresses.email = :email_1 RETURNING users.id",
         sqlite=Raises(exc.CompileError, r"correlated subquery.*users\.c\.id\.in_\(select"),
         params={"email_1": "x"}),
    # -- upserts ---------------------------------------------------------------------------
    Case("pg_on_conflict_do_nothing", lambda: pg_insert(users).values(id=1)
            .on_conflict_do_nothing(index_elements=[u.id]),
         "INSERT INTO users (id) VALUES (:id) ON CONFLICT (id) DO NOTHING",
         sqlite=None, params={"id": 1}),
    Case("pg_on_conflict_constraint", lambda: pg_insert(users).values(id=1)
            .on_conflict_do_nothing(constraint="users_pkey"),
         "INSERT INTO users (id) VALUES (:id) ON CONFLICT ON CONSTRAINT users_pkey DO NOTHING",
         sqlite=None, params={"id": 1}),
    Case("pg_on_conflict_do_update", lambda: (lambda ins: ins.on_conflict_do_update(
            index_elements=["id"], set_={"name": ins.excluded.name, "age": u.age + 1},
            where=u.age < 100))(pg_insert(users).values(id=1, name="n")),
         "INSERT INTO users (id, name) VALUES (:id, :name) ON CONFLICT (id) DO UPDATE SET "
         "name = excluded.name, age = (users.age + :age_1) WHERE users.age < :age_2",
         sqlite=None, params={"id": 1, "name": "n", "age_1": 1, "age_2": 100}),
    Case("pg_on_conflict_index_where", lambda: (lambda ins: ins.on_conflict_do_update(
            index_elements=["name"], index_where=u.age > 18, set_={"age": ins.excluded.age}))(
            pg_insert(users).values(name="n", age=20)),
         "INSERT INTO users (name, age) VALUES (:name, :age) ON CONFLICT (name) WHERE age > 18 "
         "DO UPDATE SET age = excluded.age",
         sqlite=None, params={"name": "n", "age": 20}),
    Case("sqlite_on_conflict", lambda: (lambda ins: ins.on_conflict_do_update(
            index_elements=[u.id], set_={"name": ins.excluded.name}, where=u.name.is_(None)))(
            sqlite_insert(users).values(id=1, name="n")),
         "INSERT INTO users (id, name) VALUES (:id, :name) ON CONFLICT (id) DO UPDATE SET "
         "name = excluded.name WHERE users.name IS NULL",
         postgresql=None, params={"id": 1, "name": "n"}),
    Case("sqlite_on_conflict_do_nothing", lambda: sqlite_insert(users).values(id=1)
            .on_conflict_do_nothing(),
         "INSERT INTO users (id) VALUES (:id) ON CONFLICT DO NOTHING",
         postgresql=None, params={"id": 1}),
    # -- JSON ------------------------------------------------------------------------------
    Case("json_paths", lambda: select(d.data["a"], d.data[("a", 1, "b")].as_string(),
                                      d.data["n"].as_integer(), d.data["f"].as_float(),
                                      d.data[0].as_boolean()).where(d.jb["k"].astext == "v"),
         "SELECT docs.data['a'] AS anon_1, docs.data['a', 1, 'b'] AS anon_2, "
         "docs.data['n'] AS anon_3, docs.data['f'] AS anon_4, docs.data[0] AS anon_5 FROM docs "
         "WHERE docs.jb['k'] = :param_1",
         sqlite="SELECT JSON_QUOTE(JSON_EXTRACT(docs.data, '$.\"a\"')) AS anon_1, "
         "JSON_EXTRACT(docs.data, '$.\"a\"[1].\"b\"') AS anon_2, "
         "JSON_EXTRACT(docs.data, '$.\"n\"') AS anon_3, "
         "JSON_EXTRACT(docs.data, '$.\"f\"') AS anon_4, "
         "JSON_EXTRACT(docs.data, '$[0]') AS anon_5 FROM docs "
         "WHERE JSON_EXTRACT(docs.jb, '$.\"k\"') = :param_1",
         postgresql="SELECT docs.data -> 'a' AS anon_1, docs.data #>> '{\"a\",\"1\",\"b\"}' "
         "AS anon_2, CAST(docs.data ->> 'n' AS INTEGER) AS anon_3, "
         "CAST(docs.data ->> 'f' AS FLOAT) AS anon_4, CAST(docs.data ->> 0 AS BOOLEAN) "
         "AS anon_5 FROM docs WHERE docs.jb ->> 'k' = %(param_1)s",
         params={"param_1": "v"}),
    Case("json_key_escaping",
         lambda: select(d.id).where(d.data[("it's", "a.b")].as_string() == "x"),
         "SELECT docs.id FROM docs WHERE docs.data[\"it's\", 'a.b'] = :param_1",
         sqlite="SELECT docs.id FROM docs WHERE JSON_EXTRACT(docs.data, "
         "'$.\"it''s\".\"a.b\"') = :param_1",
         postgresql="SELECT docs.id FROM docs WHERE docs.data #>> "
         "'{\"it''s\",\"a.b\"}' = %(param_1)s",
         params={"param_1": "x"}),
    # -- DDL -------------------------------------------------------------------------------
    Case("create_table", lambda: CreateTable(users),
         "CREATE TABLE users (\n\tid INTEGER NOT NULL,\n\tname VARCHAR(50),\n\tage INTEGER,"
         "\n\tcreated DATETIME,\n\tPRIMARY KEY (id)\n)",
         postgresql="CREATE TABLE users (\n\tid SERIAL NOT NULL,\n\tname VARCHAR(50),"
         "\n\tage INTEGER,\n\tcreated TIMESTAMP,\n\tPRIMARY KEY (id)\n)",
         params={}),
    Case("create_table_foreign_key", lambda: CreateTable(addresses),
         "CREATE TABLE addresses (\n\tid INTEGER NOT NULL,\n\tuser_id INTEGER NOT NULL,"
         "\n\temail VARCHAR(100),\n\tPRIMARY KEY (id),\n\tFOREIGN KEY (user_id) REFERENCES "
         "users (id)\n)",
         postgresql="CREATE TABLE addresses (\n\tid SERIAL NOT NULL,\n\tuser_id INTEGER NOT NULL,"
         "\n\temail VARCHAR(100),\n\tPRIMARY KEY (id),\n\tFOREIGN KEY (user_id) REFERENCES "
         "users (id)\n)",
         params={}),
    Case("drop_table", lambda: DropTable(users, if_exists=True),
         "DROP TABLE IF EXISTS users", params={}),
    Case("create_index", lambda: CreateIndex(Index("ix_events_day", events.c.day, unique=True)),
         "CREATE UNIQUE INDEX ix_events_day ON events (day)", params={}),
    Case("create_partial_index", lambda: CreateIndex(Index(
            "ix_events_kind", events.c.kind, postgresql_where=events.c.kind != "x'y",
            sqlite_where=events.c.day > "2024-01-01")),
         "CREATE INDEX ix_events_kind ON events (kind)",
         sqlite="CREATE INDEX ix_events_kind ON events (kind) WHERE day > '2024-01-01'",
         postgresql="CREATE INDEX ix_events_kind ON events (kind) WHERE kind != 'x''y'",
         params={}),
    Case("drop_index", lambda: DropIndex(Index("ix_x", events.c.kind)),
         "DROP INDEX ix_x", params={}),
]
# fmt: on


def _expected(case: Case, dialect_name: str) -> str | Raises | None:
    value = getattr(case, dialect_name)
    if value is SAME:
        return case.generic
    if value is PYFORMAT:
        return _pyformat(case.generic)
    return value  # type: ignore[no-any-return]


def _compile(stmt: Any, dialect: Any, run: dict[str, Any] | None) -> tuple[str, Any]:
    result: tuple[str, Any] = stmt._compile_for(dialect).process(run)
    return result


def _named_order(sql: str, style: str) -> list[str]:
    pattern = r"(?<![:\w]):(\w+)" if style == "named" else r"%\((\w+)\)s"
    return re.findall(pattern, sql)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_snapshot(case: Case) -> None:
    stmt = case.build()
    is_ddl = isinstance(stmt, DDLElement)
    if isinstance(case.generic, Raises):
        with pytest.raises(case.generic.error, match=case.generic.match):
            str(stmt)
    else:
        assert str(stmt) == case.generic
        if not is_ddl:
            expected = case.generic_params if case.generic_params is not None else case.params
            assert stmt.compile().construct_params(case.run) == (expected or {})
    for name, dialect, positional in (
        ("sqlite", SQLITE, SQLITE_QMARK),
        ("postgresql", PG, PG_FORMAT),
    ):
        expected_sql = _expected(case, name)
        if expected_sql is None:
            continue
        if isinstance(expected_sql, Raises):
            with pytest.raises(expected_sql.error, match=expected_sql.match):
                _compile(stmt, dialect, case.run)
            continue
        sql, params = _compile(stmt, dialect, case.run)
        assert sql == expected_sql, name
        expected_params = case.params
        if name == "sqlite" and case.sqlite_params is not None:
            expected_params = case.sqlite_params
        assert params == (expected_params or {}), name
        if is_ddl:
            continue
        # the positional paramstyle binds the same values in placeholder order
        psql, pparams = _compile(stmt, positional, case.run)
        order = _named_order(sql, dialect.paramstyle)
        assert pparams == tuple(params[k] for k in order), name
        mark = "?" if positional.paramstyle == "qmark" else "%s"
        assert psql.count(mark) == len(order), name


def deep_statement(kind: str, lo: int, pattern: str, ages: list[int], score: int) -> Any:
    """A CTE, a subquery in FROM, a correlated scalar subquery, JSON paths, an expanding
    IN and LIMIT/OFFSET: binds at every depth, rendered in an order unlike the order the
    statement was built in."""
    picked = select(d.id, d.data).where(d.data["kind"].as_string() == kind, d.id > lo).cte("picked")
    young = select(u.id, u.age).where(u.age.in_(ages)).subquery("young")
    mail = (
        select(func.count(a.id))
        .where(a.user_id == young.c.id, a.email.like(pattern))
        .scalar_subquery()
    )
    return (
        select(young.c.id, mail.label("n"), picked.c.data[("tags", 0)].as_string().label("tag"))
        .join_from(young, picked, picked.c.id == young.c.id)
        .where(picked.c.data["score"].as_integer() > score)
        .order_by(young.c.id)
        .limit(7)
        .offset(2)
    )


def test_bind_order_is_deterministic_and_positional() -> None:
    stmt = deep_statement("k", 10, "%@x", [20, 30, 40], 5)
    in_text_order = ("k", 10, "%@x", 20, 30, 40, 5, 7, 2)
    for named, positional in ((SQLITE, SQLITE_QMARK), (PG, PG_FORMAT)):
        sql, params = _compile(stmt, named, None)
        # built again and compiled again: the same text and names
        assert _compile(deep_statement("k", 10, "%@x", [20, 30, 40], 5), named, None) == (
            sql,
            params,
        )
        order = _named_order(sql, named.paramstyle)
        assert tuple(params[k] for k in order) == in_text_order
        psql, pparams = _compile(stmt, positional, None)
        assert pparams == in_text_order
        assert psql.count("?" if positional.paramstyle == "qmark" else "%s") == len(order)
    sql, params = _compile(stmt, SQLITE, None)
    assert sql == (
        "WITH picked AS (SELECT docs.id, docs.data FROM docs WHERE JSON_EXTRACT(docs.data, "
        "'$.\"kind\"') = :param_1 AND docs.id > :id_1) SELECT young.id, (SELECT "
        "count(addresses.id) AS count_1 FROM addresses WHERE addresses.user_id = young.id AND "
        "addresses.email LIKE :email_1) AS n, JSON_EXTRACT(picked.data, '$.\"tags\"[0]') AS tag "
        "FROM (SELECT users.id, users.age FROM users WHERE users.age IN (:age_1_1, :age_1_2, "
        ":age_1_3)) AS young JOIN picked ON picked.id = young.id WHERE "
        "JSON_EXTRACT(picked.data, '$.\"score\"') > :param_2 ORDER BY young.id "
        "LIMIT :param_3 OFFSET :param_4"
    )


def test_compiled_form_serves_equal_statements_with_their_own_values() -> None:
    """The engine reuses one Compiled for structurally equal statements and fills in each
    statement's values by traversal slot: the slot order differs from the text order
    here (the CTE renders first), and the values must still land in their places."""
    first = deep_statement("k", 10, "%@x", [20, 30, 40], 5)
    second = deep_statement("z", 99, "%@y", [1, 2, 3], 8)
    assert first._key_and_binds()[0] == second._key_and_binds()[0]
    compiled = first._compile_for(SQLITE_QMARK)
    _key, own = second._key_and_binds()
    values = {name: own[i].effective_value for name, i in compiled.bind_slots}
    _sql, params = compiled.process(values)
    assert params == ("z", 99, "%@y", 1, 2, 3, 8, 7, 2)
