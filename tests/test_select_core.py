"""The first slice of the Core: expressions, select() and the compiler with its cache.

Compile snapshots (SQL and parameters) per dialect, then the same statements run on real
SQLite and PostgreSQL, and the engine's structural cache serving structurally equal
statements with their own values.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from hermetic import (
    Integer,
    String,
    and_,
    cast,
    column,
    exc,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    not_,
    null,
    or_,
    select,
    table,
    text,
    true,
    union,
    union_all,
)
from hermetic.dialects.postgresql.base import PGDialect
from hermetic.dialects.sqlite.base import SQLiteDialect
from hermetic.engine import Engine
from hermetic.sql.compiler import SQLCompiler

users = table("users", column("id", Integer), column("name", String), column("order", Integer))
u = users.c

SQLITE = SQLiteDialect(driver="pysqlite", paramstyle="named")
PG = PGDialect(driver="psycopg", paramstyle="pyformat")

CASES = [
    (
        select(u.id, u.name).where(u.id == 5),
        "SELECT users.id, users.name FROM users WHERE users.id = :id_1",
        "SELECT users.id, users.name FROM users WHERE users.id = %(id_1)s",
        {"id_1": 5},
    ),
    (
        select(u.id).where(u.id > 1, or_(u.name == "a", u.name.is_(None))),
        "SELECT users.id FROM users WHERE users.id > :id_1 AND "
        "(users.name = :name_1 OR users.name IS NULL)",
        "SELECT users.id FROM users WHERE users.id > %(id_1)s AND "
        "(users.name = %(name_1)s OR users.name IS NULL)",
        {"id_1": 1, "name_1": "a"},
    ),
    (
        select(u.id).where(not_(u.id == 3), ~u.name.like("x%")),
        "SELECT users.id FROM users WHERE users.id != :id_1 AND users.name NOT LIKE :name_1",
        "SELECT users.id FROM users WHERE users.id != %(id_1)s AND users.name NOT LIKE %(name_1)s",
        {"id_1": 3, "name_1": "x%"},
    ),
    (
        select((u.id + 1).label("next"), u.order).order_by(u.order.desc()).limit(2).offset(1),
        'SELECT users.id + :id_1 AS next, users."order" FROM users '
        'ORDER BY users."order" DESC LIMIT :param_1 OFFSET :param_2',
        'SELECT users.id + %(id_1)s AS next, users."order" FROM users '
        'ORDER BY users."order" DESC LIMIT %(param_1)s OFFSET %(param_2)s',
        {"id_1": 1, "param_1": 2, "param_2": 1},
    ),
    (
        select(u.id).where(u.id.between(1, 4)).offset(2),
        "SELECT users.id FROM users WHERE users.id BETWEEN :id_1 AND :id_2 "
        "LIMIT -1 OFFSET :param_1",
        "SELECT users.id FROM users WHERE users.id BETWEEN %(id_1)s AND %(id_2)s "
        "OFFSET %(param_1)s",
        {"id_1": 1, "id_2": 4, "param_1": 2},
    ),
    (
        select(u.id).where((u.id + 2) * 3 == 9),
        "SELECT users.id FROM users WHERE (users.id + :id_1) * :param_1 = :param_2",
        "SELECT users.id FROM users WHERE (users.id + %(id_1)s) * %(param_1)s = %(param_2)s",
        {"id_1": 2, "param_1": 3, "param_2": 9},
    ),
    (
        select(cast(u.id, String(10)), literal(7), null(), true(), false()),
        "SELECT CAST(users.id AS VARCHAR(10)) AS anon_1, :param_1 AS anon_2, NULL AS anon_3,"
        " 1 AS anon_4, 0 AS anon_5 FROM users",
        "SELECT CAST(users.id AS VARCHAR(10)) AS anon_1, %(param_1)s AS anon_2, "
        "NULL AS anon_3, true AS anon_4, false AS anon_5 FROM users",
        {"param_1": 7},
    ),
]


@pytest.mark.parametrize(("stmt", "sqlite_sql", "pg_sql", "params"), CASES)
def test_compile_snapshots(stmt: object, sqlite_sql: str, pg_sql: str, params: dict) -> None:
    for dialect, expected in ((SQLITE, sqlite_sql), (PG, pg_sql)):
        compiled = SQLCompiler(dialect).compile_statement(stmt)
        assert compiled.string == expected
        assert compiled.construct_params(None) == params


def test_str_renders_generic_sql() -> None:
    assert str(select(u.id).where(u.name == "x")) == (
        "SELECT users.id FROM users WHERE users.name = :name_1"
    )


def test_python_truth_of_sql_is_an_error() -> None:
    with pytest.raises(TypeError, match="and_"):
        bool(u.id > 1)
    assert bool(u.id == u.id) and not bool(u.id == u.name)  # identity, for dict lookups


def test_cache_key_ignores_values() -> None:
    k1, b1 = select(u.id).where(u.id == 1)._key_and_binds()
    k2, b2 = select(u.id).where(u.id == 2)._key_and_binds()
    k3, _ = select(u.id).where(u.id > 2)._key_and_binds()
    assert k1 == k2 and k1 != k3
    assert [b.value for b in b1] == [1] and [b.value for b in b2] == [2]


@pytest.fixture
def people(engine: Engine) -> Iterator[tuple[Engine, object]]:
    name = f"people_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, name VARCHAR(200))"))
        conn.execute(
            text(f"INSERT INTO {name} (id, name) VALUES (:id, :name)"),
            [{"id": i, "name": f"n{i}"} for i in range(1, 11)],
        )
    t = table(name, column("id", Integer), column("name", String))
    yield engine, t
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {name}"))


def test_select_runs_and_reuses_compiled_form(people: tuple[Engine, object]) -> None:
    engine, t = people
    c = t.c  # type: ignore[attr-defined]

    def query(lo: int) -> object:
        return (
            select(c.id, c.name)
            .where(c.id > lo, or_(c.name != "n9", c.id.between(1, 2)))
            .order_by(c.id.desc())
            .limit(3)
        )

    with engine.connect() as conn:
        before = len(engine._compiled_cache)
        first = conn.execute(query(3)).all()
        second = conn.execute(query(7)).all()  # same structure: the cached form, new values
        assert len(engine._compiled_cache) == before + 1
        assert [r.id for r in first] == [10, 8, 7]
        assert [r.id for r in second] == [10, 8]
        assert first[0]._mapping[c.id] == 10 and first[0]._mapping["name"] == "n10"
        assert conn.execute(select(c.id).where(c.id.in_([2, 4]))).scalars().all() == [2, 4]
        assert conn.execute(select(c.id).where(c.id.in_([]))).scalars().all() == []
        assert len(conn.execute(select(c.id).where(c.id.not_in([]))).all()) == 10
        assert conn.execute(select(c.name).where(and_(c.id == 1, true()))).scalar() == "n1"
        assert conn.execute(select(c.id).where(false())).all() == []
        assert conn.execute(select(c.id).where(c.name.is_(None))).all() == []
        assert conn.execute(select(c.id).order_by(c.id).offset(8)).scalars().all() == [9, 10]


def test_hostile_values_are_bound(people: tuple[Engine, object]) -> None:
    engine, t = people
    c = t.c  # type: ignore[attr-defined]
    hostile = 'x\'); DROP TABLE users; --\\ "é"'
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {t.name} SET name = :n WHERE id = 1"), {"n": hostile})  # type: ignore[attr-defined]
        assert conn.execute(select(c.id).where(c.name == hostile)).scalar_one() == 1


def test_select_rejects_non_sql() -> None:
    with pytest.raises(exc.ArgumentError, match="literal"):
        select("id")


addresses = table(
    "addresses", column("id", Integer), column("user_id", Integer), column("email", String)
)
a = addresses.c


def test_join_subquery_function_snapshots() -> None:
    stmt = (
        select(u.name, func.count(a.id))
        .join_from(users, addresses, u.id == a.user_id)
        .group_by(u.name)
        .having(func.count(a.id) > 1)
    )
    assert str(stmt) == (
        "SELECT users.name, count(addresses.id) AS count_1 FROM users "
        "JOIN addresses ON users.id = addresses.user_id GROUP BY users.name "
        "HAVING count(addresses.id) > :count_1"
    )
    sub = select(a.user_id, func.count().label("n")).group_by(a.user_id).subquery("cnt")
    assert str(select(u.name, sub.c.n).outerjoin(sub, u.id == sub.c.user_id)) == (
        "SELECT users.name, cnt.n FROM users LEFT OUTER JOIN (SELECT addresses.user_id, "
        "count(*) AS n FROM addresses GROUP BY addresses.user_id) AS cnt "
        "ON users.id = cnt.user_id"
    )
    correlated = select(func.count(a.id)).where(a.user_id == u.id).scalar_subquery()
    assert str(select(u.name, correlated.label("c"))) == (
        "SELECT users.name, (SELECT count(addresses.id) AS count_1 FROM addresses "
        "WHERE addresses.user_id = users.id) AS c FROM users"
    )
    assert str(select(u.id).where(exists(select(a.id).where(a.user_id == u.id)))) == (
        "SELECT users.id FROM users WHERE EXISTS (SELECT addresses.id FROM addresses "
        "WHERE addresses.user_id = users.id)"
    )
    assert str(select(func.current_timestamp(), func.my_schema.fn(u.id))) == (
        "SELECT CURRENT_TIMESTAMP AS current_timestamp_1, my_schema.fn(users.id) AS fn_1 FROM users"
    )


def test_join_needs_on_clause_without_foreign_keys() -> None:
    with pytest.raises(exc.NoForeignKeysError, match="ON clause"):
        select(u.id).join(addresses)


def test_joins_and_subqueries_run(engine: Engine) -> None:
    suffix = uuid.uuid4().hex[:8]
    ut = table(f"u_{suffix}", column("id", Integer), column("name", String))
    at = table(f"a_{suffix}", column("id", Integer), column("user_id", Integer))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {ut.name} (id INTEGER PRIMARY KEY, name VARCHAR(20))"))
        conn.execute(text(f"CREATE TABLE {at.name} (id INTEGER PRIMARY KEY, user_id INTEGER)"))
        conn.execute(
            text(f"INSERT INTO {ut.name} VALUES (:id, :name)"),
            [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}, {"id": 3, "name": "cy"}],
        )
        conn.execute(
            text(f"INSERT INTO {at.name} VALUES (:id, :uid)"),
            [{"id": 10, "uid": 1}, {"id": 11, "uid": 1}, {"id": 12, "uid": 2}],
        )
    try:
        with engine.connect() as conn:
            counted = conn.execute(
                select(ut.c.name, func.count(at.c.id))
                .join_from(ut, at, ut.c.id == at.c.user_id)
                .group_by(ut.c.name)
                .order_by(ut.c.name)
            ).all()
            assert [tuple(r) for r in counted] == [("ann", 2), ("bob", 1)]
            sub = select(at.c.user_id, func.count().label("n")).group_by(at.c.user_id).subquery()
            rows = conn.execute(
                select(ut.c.name, sub.c.n)
                .outerjoin(sub, ut.c.id == sub.c.user_id)
                .order_by(ut.c.id)
            ).all()
            assert [tuple(r) for r in rows] == [("ann", 2), ("bob", 1), ("cy", None)]
            n = select(func.count(at.c.id)).where(at.c.user_id == ut.c.id).scalar_subquery()
            assert conn.execute(select(ut.c.name, n.label("n")).order_by(ut.c.id)).all() == [
                ("ann", 2),
                ("bob", 1),
                ("cy", 0),
            ]
            has = exists(select(at.c.id).where(at.c.user_id == ut.c.id))
            assert conn.execute(select(ut.c.name).where(~has)).scalars().all() == ["cy"]
            assert conn.execute(select(func.max(ut.c.id))).scalar() == 3
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {at.name}"))
            conn.execute(text(f"DROP TABLE {ut.name}"))


def test_more_expressions_snapshots() -> None:
    from hermetic.sql.elements import case, extract, over, tuple_

    assert str(select(u.id).where(u.name.contains("50%_off", autoescape=True))) == (
        "SELECT users.id FROM users WHERE users.name LIKE :name_1 ESCAPE '/'"
    )
    stmt = select(u.id).where(u.name.contains("50%_off", autoescape=True))
    assert SQLCompiler(SQLITE).compile_statement(stmt).construct_params(None) == {
        "name_1": "%50/%/_off%"
    }
    assert SQLCompiler(SQLITE).compile_statement(select(u.id).where(u.name.ilike("a%"))).string == (
        "SELECT users.id FROM users WHERE lower(users.name) LIKE lower(:name_1)"
    )
    assert SQLCompiler(PG).compile_statement(select(u.id).where(u.name.ilike("a%"))).string == (
        "SELECT users.id FROM users WHERE users.name ILIKE %(name_1)s"
    )
    c = case((u.id < 3, "low"), else_="high").label("band")
    assert str(select(c)) == (
        "SELECT CASE WHEN users.id < :id_1 THEN :param_1 ELSE :param_2 END AS band FROM users"
    )
    ranked = over(func.row_number(), partition_by=u.name, order_by=u.id.desc(), rows=(None, 0))
    assert str(select(ranked.label("r"))) == (
        "SELECT row_number() OVER (PARTITION BY users.name ORDER BY users.id DESC "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS r FROM users"
    )
    assert str(select(u.id).where(tuple_(u.id, u.name).in_(select(a.user_id, a.email)))) == (
        "SELECT users.id FROM users WHERE (users.id, users.name) IN "
        "(SELECT addresses.user_id, addresses.email FROM addresses)"
    )
    year = select(extract("year", u.name).label("y"))
    assert SQLCompiler(PG).compile_statement(year).string == (
        "SELECT EXTRACT(YEAR FROM users.name) AS y FROM users"
    )
    assert SQLCompiler(SQLITE).compile_statement(year).string == (
        "SELECT CAST(STRFTIME('%Y', users.name) AS INTEGER) AS y FROM users"
    )
    assert str(select(func.count(u.id).filter(u.id > 1))) == (
        "SELECT count(users.id) FILTER (WHERE users.id > :id_1) AS anon_1 FROM users"
    )


def test_more_expressions_run(people: tuple[Engine, object]) -> None:
    from hermetic.sql.elements import case, over

    engine, t = people
    c = t.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.execute(select(c.id).where(c.name.startswith("n1"))).scalars().all() == [
            1,
            10,
        ]
        assert conn.execute(select(c.id).where(c.name.ilike("N2"))).scalars().all() == [2]
        band = case((c.id < 3, "low"), else_="high")
        assert conn.execute(select(band).order_by(c.id).limit(3)).scalars().all() == [
            "low",
            "low",
            "high",
        ]
        running = over(func.sum(c.id), order_by=c.id, rows=(None, 0))
        assert conn.execute(select(running).order_by(c.id).limit(4)).scalars().all() == [
            1,
            3,
            6,
            10,
        ]
        inner = select(c.id).where(c.id > 8)
        assert conn.execute(select(c.name).where(c.id.in_(inner))).scalars().all() == [
            "n9",
            "n10",
        ]


def test_json_paths_and_cte_snapshots() -> None:
    from hermetic import JSON, Column, MetaData, Table

    docs = Table("docs", MetaData(), Column("id", Integer, primary_key=True), Column("d", JSON))
    stmt = select(docs.c.id).where(docs.c.d[("a", "it's")].as_integer() > 1)
    assert SQLCompiler(SQLITE).compile_statement(stmt).string == (
        "SELECT docs.id FROM docs WHERE JSON_EXTRACT(docs.d, '$.\"a\".\"it''s\"') > :param_1"
    )
    assert SQLCompiler(PG).compile_statement(stmt).string == (
        "SELECT docs.id FROM docs WHERE CAST(docs.d #>> '{\"a\",\"it''s\"}' AS INTEGER) "
        "> %(param_1)s"
    )
    with pytest.raises(AttributeError, match="as_string"):
        _ = docs.c.d["a"].astext
    with pytest.raises(TypeError, match="JSON"):
        _ = u.id["a"]
    big = select(u.id, u.name).where(u.id > 2).cte("big")
    assert str(select(big.c.name).where(big.c.id < 9)) == (
        "WITH big AS (SELECT users.id, users.name FROM users WHERE users.id > :id_1) "
        "SELECT big.name FROM big WHERE big.id < :id_2"
    )


def test_json_queries_run(engine: Engine) -> None:
    from hermetic import JSON, Column, MetaData, Table

    md = MetaData()
    docs = Table(
        f"docs_{uuid.uuid4().hex[:8]}",
        md,
        Column("id", Integer, primary_key=True),
        Column("d", JSON),
    )
    md.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(docs),
                [
                    {"id": 1, "d": {"k": "x'y", "n": 3, "ok": True, "sub": {"v": [1, 2]}}},
                    {"id": 2, "d": {"k": "z", "n": 1, "ok": False}},
                    {"id": 3, "d": None},
                ],
            )
        with engine.connect() as conn:
            c = docs.c.d
            assert conn.execute(select(docs.c.id).where(c["k"].as_string() == "x'y")).all() == [
                (1,)
            ]
            assert conn.execute(
                select(docs.c.id).where(c["n"].as_integer() >= 1).order_by(docs.c.id)
            ).scalars().all() == [1, 2]
            assert conn.execute(
                select(docs.c.id).where(c["ok"].as_boolean() == True)  # noqa: E712
            ).scalars().all() == [1]
            assert conn.execute(select(c[("sub", "v")]).where(docs.c.id == 1)).scalar() == [1, 2]
            assert conn.execute(select(c[("sub", "v", 1)].as_integer())).scalars().all()[0] == 2
    finally:
        md.drop_all(engine)


def test_compound_locking_distinct_on_snapshots() -> None:
    stmt = union(select(u.id).where(u.id < 2), select(u.id).where(u.id > 8)).order_by(u.id)
    assert str(stmt) == (
        "SELECT users.id FROM users WHERE users.id < :id_1 UNION "
        "SELECT users.id FROM users WHERE users.id > :id_2 ORDER BY id"
    )
    locked = select(u.id).where(u.id == 1).with_for_update(skip_locked=True, of=users)
    assert (
        SQLCompiler(PG).compile_statement(locked).string.endswith("FOR UPDATE OF users SKIP LOCKED")
    )
    assert "FOR" not in SQLCompiler(SQLITE).compile_statement(locked).string
    on = select(u.id, u.name).distinct(u.name).order_by(u.name, u.id)
    assert (
        SQLCompiler(PG)
        .compile_statement(on)
        .string.startswith("SELECT DISTINCT ON (users.name) users.id")
    )
    with pytest.raises(exc.CompileError, match="DISTINCT ON"):
        SQLCompiler(SQLITE).compile_statement(on)


def test_compound_and_recursive_cte_run(people: tuple[Engine, object]) -> None:
    engine, t = people
    c = t.c  # type: ignore[attr-defined]
    nums = select(literal(1).label("n")).cte("nums", recursive=True)
    nums = nums.union_all(select((nums.c.n + 1).label("n")).where(nums.c.n < 5))
    with engine.connect() as conn:
        assert conn.execute(select(nums.c.n)).scalars().all() == [1, 2, 3, 4, 5]
        both = union_all(select(c.id).where(c.id < 3), select(c.id).where(c.id > 9))
        assert sorted(conn.execute(both).scalars().all()) == [1, 2, 10]
        assert conn.execute(
            union(select(c.id).where(c.id < 3), select(c.id).where(c.id < 2)).order_by(c.id)
        ).scalars().all() == [1, 2]
        conn.commit()
        with conn.begin():
            assert conn.execute(select(c.id).where(c.id == 4).with_for_update()).scalar() == 4


def test_compile_with_literal_binds_and_dialects() -> None:
    import datetime as dt

    stmt = (
        select(u.id)
        .where(u.name == "o'neil; DROP TABLE users; --", u.id.in_([1, 2]), u.id > 3)
        .limit(5)
    )
    assert str(stmt.compile(compile_kwargs={"literal_binds": True})) == (
        "SELECT users.id FROM users WHERE users.name = 'o''neil; DROP TABLE users; --' "
        "AND users.id IN (1, 2) AND users.id > 3 LIMIT 5"
    )
    assert str(stmt.compile(dialect=PG)).startswith(
        "SELECT users.id FROM users WHERE users.name = %(name_1)s"
    )
    when = select(u.id).where(u.name == dt.date(2024, 1, 2), u.id.is_(None), u.order == True)  # noqa: E712
    assert str(when.compile(dialect=SQLITE, compile_kwargs={"literal_binds": True})) == (
        "SELECT users.id FROM users WHERE users.name = '2024-01-02' AND users.id IS NULL "
        'AND users."order" = 1'
    )
    with pytest.raises(exc.CompileError, match="literal"):
        select(u.id).where(u.name == object()).compile(compile_kwargs={"literal_binds": True})


def test_lateral_any_type_coerce_within_group() -> None:
    from hermetic.sql.elements import any_, nulls_last, type_coerce, within_group

    latest = select(a.email).where(a.user_id == u.id).order_by(a.id.desc()).limit(1).lateral("last")
    assert str(select(u.name, latest.c.email).select_from(users).join(latest, true())) == (
        "SELECT users.name, last.email FROM users JOIN LATERAL (SELECT addresses.email "
        "FROM addresses WHERE addresses.user_id = users.id ORDER BY addresses.id DESC "
        "LIMIT :param_1) AS last ON true"
    )
    assert (
        SQLCompiler(PG)
        .compile_statement(select(u.id).where(u.id == any_(literal_column("ARRAY[1, 2]"))))
        .string
        == "SELECT users.id FROM users WHERE users.id = ANY (ARRAY[1, 2])"
    )
    assert str(select(type_coerce(u.name, Integer).label("n"))) == (
        "SELECT users.name AS n FROM users"
    )
    pct = within_group(func.percentile_cont(0.5), u.id)
    assert str(select(pct)) == (
        "SELECT percentile_cont(:param_1) WITHIN GROUP (ORDER BY users.id) AS anon_1 FROM users"
    )
    assert str(select(u.id).order_by(nulls_last(u.name.desc()))) == (
        "SELECT users.id FROM users ORDER BY users.name DESC NULLS LAST"
    )


def test_lateral_and_any_run_on_postgresql(pg_engine: Engine) -> None:
    from hermetic.sql.elements import any_

    with pg_engine.connect() as conn:
        got = conn.execute(
            select(literal_column("3")).where(literal(3) == any_(literal_column("ARRAY[1,3]")))
        ).scalar()
        assert got == 3


# -- correlation, FETCH FIRST, row values, division, CTEs in subqueries: run for real -----


@pytest.fixture
def shop(engine: Engine) -> Iterator[tuple[Engine, Any, Any]]:
    """people (id, name, age) and mails (id, person_id, email), uniquely named."""
    from hermetic import Column, ForeignKey, MetaData, Table

    suffix = uuid.uuid4().hex[:8]
    md = MetaData()
    people = Table(
        f"people_{suffix}",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("name", String(20)),
        Column("age", Integer),
    )
    mails = Table(
        f"mails_{suffix}",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("person_id", Integer, ForeignKey(people.c.id)),
        Column("email", String(40)),
    )
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(people),
            [
                {"id": 1, "name": "ann", "age": 30},
                {"id": 2, "name": "bob", "age": 40},
                {"id": 3, "name": "cy", "age": 40},
                {"id": 4, "name": "di", "age": 50},
                {"id": 5, "name": "ed", "age": None},
            ],
        )
        conn.execute(
            insert(mails),
            [
                {"id": 10, "person_id": 1, "email": "ann@a.org"},
                {"id": 11, "person_id": 1, "email": "ann@b.org"},
                {"id": 12, "person_id": 2, "email": "bob@a.org"},
                {"id": 13, "person_id": 4, "email": "di@b.org"},
            ],
        )
    try:
        yield engine, people, mails
    finally:
        md.drop_all(engine)


def test_correlation_runs(shop: tuple[Engine, Any, Any]) -> None:
    engine, p, m = shop
    other = p.alias("other")
    with engine.connect() as conn:
        # auto-correlation in the columns clause and in WHERE
        count = select(func.count(m.c.id)).where(m.c.person_id == p.c.id).scalar_subquery()
        rows = conn.execute(select(p.c.name, count.label("n")).order_by(p.c.id)).all()
        assert [tuple(r) for r in rows] == [("ann", 2), ("bob", 1), ("cy", 0), ("di", 1), ("ed", 0)]
        busy = select(p.c.name).where(count > 1)
        assert conn.execute(busy).scalars().all() == ["ann"]
        # correlate(None): the subquery counts every mail of every person
        total = (
            select(func.count(m.c.id))
            .where(m.c.person_id == p.c.id)
            .correlate(None)
            .scalar_subquery()
        )
        assert conn.execute(select(p.c.id, total).order_by(p.c.id)).all()[0] == (1, 4)
        # explicit correlate() of one table while another stays in the subquery
        same_age = exists(
            select(other.c.id)
            .where(other.c.age == p.c.age, other.c.id != p.c.id, m.c.person_id == p.c.id)
            .correlate(p)
        )
        names = conn.execute(select(p.c.name).where(same_age).order_by(p.c.id)).scalars().all()
        assert names == ["bob"]  # cy has bob's age but no mail: mails stays in the subquery
        # correlate_except(): correlate everything the enclosing query has but `other`
        older = (
            select(func.count(other.c.id))
            .where(other.c.age > p.c.age)
            .correlate_except(other)
            .scalar_subquery()
        )
        got = conn.execute(select(p.c.name, older).where(p.c.age.is_not(None)).order_by(p.c.id))
        assert [tuple(r) for r in got] == [("ann", 3), ("bob", 1), ("cy", 1), ("di", 0)]
        # a subquery that would correlate away all its tables is an error naming the fix
        with pytest.raises(exc.InvalidRequestError, match=r"correlate\("):
            conn.execute(
                select(p.c.name, m.c.email).where(exists(select(p.c.id).where(p.c.id == m.c.id)))
            )
        # deeper: the innermost SELECT correlates to the outermost one
        deep = exists(
            select(m.c.id).where(
                m.c.person_id == p.c.id,
                m.c.id
                == select(func.min(m.c.id))
                .where(m.c.person_id == p.c.id)
                .correlate(p)
                .scalar_subquery(),
            )
        )
        assert conn.execute(select(p.c.id).where(deep).order_by(p.c.id)).scalars().all() == [
            1,
            2,
            4,
        ]


def test_fetch_runs(shop: tuple[Engine, Any, Any]) -> None:
    engine, p, _m = shop
    is_pg = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        by_id = select(p.c.id).order_by(p.c.id)
        assert conn.execute(by_id.fetch(2)).scalars().all() == [1, 2]
        assert conn.execute(by_id.offset(1).fetch(2)).scalars().all() == [2, 3]
        assert conn.execute(by_id.fetch(2).limit(3)).scalars().all() == [1, 2, 3]
        # the compiled form is shared; each statement brings its own count
        assert conn.execute(by_id.offset(3).fetch(5)).scalars().all() == [4, 5]
        ties = (
            select(p.c.name)
            .where(p.c.age.is_not(None))
            .order_by(p.c.age.desc())
            .fetch(2, with_ties=True)
        )
        if is_pg:
            assert sorted(conn.execute(ties).scalars().all()) == ["bob", "cy", "di"]
        else:
            with pytest.raises(exc.CompileError, match="sqlite has no FETCH FIRST"):
                conn.execute(ties)
        with pytest.raises(exc.CompileError, match="PERCENT"):
            conn.execute(by_id.fetch(50, percent=True))
        both = union_all(select(p.c.id), select(p.c.id)).order_by(p.c.id).fetch(3)
        assert conn.execute(both).scalars().all() == [1, 1, 2]


def test_row_values_division_and_nested_ctes_run(shop: tuple[Engine, Any, Any]) -> None:
    from hermetic.sql.elements import tuple_

    engine, p, m = shop
    with engine.connect() as conn:
        pairs = tuple_(p.c.id, p.c.name)
        got = conn.execute(select(p.c.id).where(pairs.in_([(1, "ann"), (2, "nope"), (3, "cy")])))
        assert sorted(got.scalars().all()) == [1, 3]
        assert conn.execute(select(p.c.id).where(pairs.in_([]))).all() == []
        assert len(conn.execute(select(p.c.id).where(pairs.not_in([]))).all()) == 5
        # "/" is true division, "//" floor division, as in Python
        half, whole = conn.execute(select(p.c.age / 8, p.c.age // 8).where(p.c.id == 1)).one()
        assert float(half) == 3.75 and whole == 3
        assert float(conn.execute(select(p.c.age / 2.5).where(p.c.id == 1)).scalar()) == 12.0
        # NULL-safe comparison
        assert conn.execute(
            select(p.c.id).where(p.c.age.is_not_distinct_from(None))
        ).scalars().all() == [5]
        assert len(conn.execute(select(p.c.id).where(p.c.age.is_distinct_from(40))).all()) == 3
        # a CTE used only inside a subquery goes into the statement's WITH
        b_mail = select(m.c.person_id).where(m.c.email.like("%@b.org")).cte("b_mail")
        names = (
            conn.execute(
                select(p.c.name).where(p.c.id.in_(select(b_mail.c.person_id))).order_by(p.c.id)
            )
            .scalars()
            .all()
        )
        assert names == ["ann", "di"]


def test_deep_statement_binds_in_order_on_every_paramstyle(engine: Engine) -> None:
    """One statement with binds in a CTE, a FROM subquery, a correlated subquery and an
    expanding IN, run with the driver's own paramstyle and a positional one; a second,
    structurally equal statement reuses the compiled form with its own values."""
    from hermetic import Column, MetaData, Table, create_engine

    suffix = uuid.uuid4().hex[:8]
    md = MetaData()
    t = Table(
        f"deep_{suffix}",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("kind", String(10)),
        Column("n", Integer),
    )
    md.create_all(engine)
    positional = "qmark" if engine.dialect.name == "sqlite" else "format"
    other = create_engine(engine.url, paramstyle=positional)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(t),
                [{"id": i, "kind": "ab"[i % 2], "n": i * 10} for i in range(1, 11)],
            )

        def query(kind: str, lo: int, ns: list[int], hi: int) -> Any:
            picked = select(t.c.id, t.c.n).where(t.c.kind == kind, t.c.id > lo).cte("picked")
            sub = select(t.c.id).where(t.c.n.in_(ns)).subquery("sub")
            bigger = select(func.count(t.c.id)).where(t.c.n > picked.c.n + hi).scalar_subquery()
            return (
                select(picked.c.id, bigger.label("bigger"))
                .join_from(picked, sub, sub.c.id == picked.c.id)
                .order_by(picked.c.id)
                .limit(3)
            )

        for eng in (engine, other):
            with eng.connect() as conn:
                first = conn.execute(query("a", 2, [40, 60, 80, 100], 5)).all()
                second = conn.execute(query("b", 0, [10, 30, 50], 0)).all()
                assert [tuple(r) for r in first] == [(4, 6), (6, 4), (8, 2)]
                assert [tuple(r) for r in second] == [(1, 9), (3, 7), (5, 5)]
    finally:
        other.dispose()
        md.drop_all(engine)


def test_collations_run(engine: Engine) -> None:
    with engine.connect() as conn:
        word = literal("B", String)
        if engine.dialect.name == "postgresql":
            # "C" must stay quoted (collation names are case sensitive there)
            assert conn.execute(select(word.collate("C") < literal("a", String))).scalar()
        else:
            assert conn.execute(select(word.collate("NOCASE") == literal("b", String))).scalar()


def test_correlate_and_fetch_arguments_and_cache_keys() -> None:
    def key(stmt: Any) -> Any:
        return stmt._key_and_binds()[0]

    base = select(u.id).order_by(u.id)
    assert key(base.fetch(2)) == key(base.fetch(3))  # the count is a value
    assert key(base.fetch(2)) != key(base.fetch(2, with_ties=True))
    assert key(base.fetch(2)) != key(base.limit(2))
    assert base.fetch(2).limit(3)._fetch is None and base.limit(3).fetch(2)._limit is None
    assert base.fetch(2).fetch(None)._fetch is None
    with pytest.raises(exc.ArgumentError, match="limit"):
        base.limit("many")
    inner = select(a.id).where(a.user_id == u.id)
    keys = {
        key(inner),
        key(inner.correlate(None)),
        key(inner.correlate(users)),
        key(inner.correlate_except(None)),
        key(inner.correlate_except(users)),
    }
    assert len(keys) == 5
    with pytest.raises(exc.ArgumentError, match="correlate"):
        inner.correlate(None, users)
    with pytest.raises(exc.ArgumentError, match="FROM entries"):
        inner.correlate(u.id)
    # the wrappers keep their SELECT adjustable
    sub = select(func.count(a.id)).scalar_subquery().where(a.user_id == u.id)
    assert str(select(u.name, sub.label("n"))) == (
        "SELECT users.name, (SELECT count(addresses.id) AS count_1 FROM addresses "
        "WHERE addresses.user_id = users.id) AS n FROM users"
    )
    ex = exists().where(a.user_id == u.id).correlate(None)
    assert str(select(u.id).where(ex)) == (
        "SELECT users.id FROM users WHERE EXISTS (SELECT * FROM addresses, users "
        "WHERE addresses.user_id = users.id)"
    )
    assert str(exists().where(a.id == 1).select()) == (
        "SELECT EXISTS (SELECT * FROM addresses WHERE addresses.id = :id_1) AS anon_1"
    )
