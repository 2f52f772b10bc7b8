"""INSERT / UPDATE / DELETE and the dialect upserts: compile snapshots per dialect, then
execution on real SQLite and PostgreSQL (psycopg and psycopg2) with the rows checked, and
the engine's structural cache serving structurally equal statements with their values."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from hermetic import Integer, String, column, exc, exists, func, select, table, text
from hermetic.dialects.postgresql import insert as pg_insert
from hermetic.dialects.postgresql.base import PGDialect
from hermetic.dialects.sqlite import insert as sqlite_insert
from hermetic.dialects.sqlite.base import SQLiteDialect
from hermetic.engine import Engine
from hermetic.sql.dml import delete, insert, update

SQLITE = SQLiteDialect(driver="pysqlite", paramstyle="named")
PG = PGDialect(driver="psycopg", paramstyle="pyformat")

t = table("t", column("id", Integer), column("name", String), column("n", Integer))
u = table("u", column("tid", Integer), column("x", Integer))
odd = table("odd table", column("order", Integer), column("Mixed", String))

CASES: list[tuple[Any, str, dict[str, Any]]] = [
    (
        insert(t).values(id=1, name="a"),
        "INSERT INTO t (id, name) VALUES (:id, :name)",
        {"id": 1, "name": "a"},
    ),
    (
        insert(t).values({"name": "b", t.c.n: 2}),
        "INSERT INTO t (name, n) VALUES (:name, :n)",
        {"name": "b", "n": 2},
    ),
    (insert(t), "INSERT INTO t (id, name, n) VALUES (:id, :name, :n)", {}),
    (
        insert(t).values([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]),
        "INSERT INTO t (id, name) VALUES (:id_m0, :name_m0), (:id_m1, :name_m1)",
        {"id_m0": 1, "name_m0": "a", "id_m1": 2, "name_m1": "b"},
    ),
    (
        insert(t).values(id=1).returning(t.c.id, t.c.name),
        "INSERT INTO t (id) VALUES (:id) RETURNING t.id, t.name",
        {"id": 1},
    ),
    (
        insert(t).from_select(["id", "n"], select(u.c.tid, u.c.x).where(u.c.x > 3)),
        "INSERT INTO t (id, n) SELECT u.tid, u.x FROM u WHERE u.x > :x_1",
        {"x_1": 3},
    ),
    (
        update(t).where(t.c.id == 5).values(n=t.c.n + 1, name="z"),
        "UPDATE t SET n=(t.n + :n_1), name=:name WHERE t.id = :id_1",
        {"n_1": 1, "name": "z", "id_1": 5},
    ),
    (
        update(t).values(n=select(u.c.x).where(u.c.tid == t.c.id).scalar_subquery()),
        "UPDATE t SET n=(SELECT u.x FROM u WHERE u.tid = t.id)",
        {},
    ),
    (
        update(t).where(t.c.id > 1).values(name=None).returning(t.c.id),
        "UPDATE t SET name=:name WHERE t.id > :id_1 RETURNING t.id",
        {"name": None, "id_1": 1},
    ),
    (
        delete(t).where(t.c.name == "q").returning(t.c.id, (t.c.n * 2).label("dbl")),
        "DELETE FROM t WHERE t.name = :name_1 RETURNING t.id, t.n * :n_1 AS dbl",
        {"name_1": "q", "n_1": 2},
    ),
    (delete(t), "DELETE FROM t", {}),
    (
        insert(odd).values({"order": 1, "Mixed": "m"}),
        'INSERT INTO "odd table" ("order", "Mixed") VALUES (:order, :Mixed)',
        {"order": 1, "Mixed": "m"},
    ),
]


def _pg_sql(sql: str) -> str:
    import re

    return re.sub(r":(\w+)", r"%(\1)s", sql)


@pytest.mark.parametrize(("stmt", "sql", "params"), CASES, ids=[c[1][:40] for c in CASES])
def test_compile_snapshots(stmt: Any, sql: str, params: dict[str, Any]) -> None:
    c = stmt._compile_for(SQLITE)
    assert c.string == sql
    if not c.required:
        assert c.construct_params(None) == params
    assert stmt._compile_for(PG).string == _pg_sql(sql)
    assert str(stmt) == sql


def test_upsert_snapshots() -> None:
    p = pg_insert(t).values(id=1, name="x")
    p = p.on_conflict_do_update(
        index_elements=[t.c.id], set_={"name": p.excluded.name, "n": 5}, where=t.c.n < 3
    )
    assert p._compile_for(PG).string == (
        "INSERT INTO t (id, name) VALUES (%(id)s, %(name)s) ON CONFLICT (id) DO UPDATE "
        "SET name = excluded.name, n = %(param_1)s WHERE t.n < %(n_1)s"
    )
    assert (
        pg_insert(t).values(id=1).on_conflict_do_nothing(constraint="t_pkey")._compile_for(PG)
    ).string == "INSERT INTO t (id) VALUES (%(id)s) ON CONFLICT ON CONSTRAINT t_pkey DO NOTHING"
    assert (
        pg_insert(t).values(id=1).on_conflict_do_nothing()._compile_for(PG).string
        == "INSERT INTO t (id) VALUES (%(id)s) ON CONFLICT DO NOTHING"
    )
    s = sqlite_insert(t).values(id=1)
    s = s.on_conflict_do_update(index_elements=["id"], set_={t.c.n: s.excluded.n + t.c.n})
    assert s._compile_for(SQLITE).string == (
        "INSERT INTO t (id) VALUES (:id) ON CONFLICT (id) DO UPDATE SET n = (excluded.n + t.n)"
    )
    assert (
        sqlite_insert(t).values(id=1).on_conflict_do_nothing(index_elements=["id"])
    )._compile_for(SQLITE).string == "INSERT INTO t (id) VALUES (:id) ON CONFLICT (id) DO NOTHING"
    with pytest.raises(exc.CompileError):
        pg_insert(t).values(id=1).on_conflict_do_update(set_={"n": 1})._compile_for(PG)
    with pytest.raises(exc.InvalidRequestError):
        pg_insert(t).on_conflict_do_nothing().on_conflict_do_nothing()


def test_cache_keys_exclude_values() -> None:
    def key(s: Any) -> Any:
        return s._key_and_binds()[0]

    assert key(insert(t).values(n=1)) == key(insert(t).values(n=2))
    assert key(insert(t).values(n=1)) != key(insert(t).values(name="x"))
    assert key(insert(t).values([{"n": 1}])) != key(insert(t).values([{"n": 1}, {"n": 2}]))
    assert key(update(t).values(n=1).where(t.c.id == 1)) == key(
        update(t).values(n=7).where(t.c.id == 9)
    )
    assert key(delete(t).where(t.c.id == 1)) != key(delete(t).where(t.c.n == 1))
    assert key(insert(t).values(n=1)) != key(insert(t).values(n=1).returning(t.c.id))
    assert key(pg_insert(t).values(n=1)) != key(insert(t).values(n=1))
    a = pg_insert(t).values(n=1).on_conflict_do_update(index_elements=["id"], set_={"n": 1})
    b = pg_insert(t).values(n=2).on_conflict_do_update(index_elements=["id"], set_={"n": 3})
    assert key(a) == key(b)
    assert key(a) != key(pg_insert(t).values(n=1).on_conflict_do_nothing(index_elements=["id"]))


def test_errors() -> None:
    with pytest.raises(exc.CompileError, match="nope"):
        insert(t).values(nope=1)
    with pytest.raises(exc.ArgumentError):
        insert(t).values([{"id": 1}, {"name": "x"}])
    with pytest.raises(exc.CompileError):
        update(t)._compile_for(SQLITE)


# -- execution on real databases --------------------------------------------------------

HOSTILE = ["'; DROP TABLE x; --", 'quo"te', "100% :name %(x)s ?", "back\\slash", "ünï 🙂", ""]


@pytest.fixture
def tbl(engine: Engine) -> Iterator[Any]:
    name = f"dml_{uuid.uuid4().hex[:8]}"
    key = "SERIAL" if engine.dialect.name == "postgresql" else "INTEGER"
    with engine.begin() as conn:
        conn.execute(
            text(f"CREATE TABLE {name} (id {key} PRIMARY KEY, name VARCHAR(100), n INTEGER)")
        )
    yield table(name, column("id", Integer), column("name", String), column("n", Integer))
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {name}"))


def _rows(conn: Any, tb: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(select(tb).order_by(tb.c.id))]


def test_insert_single_multi_many(engine: Engine, tbl: Any) -> None:
    with engine.begin() as conn:
        r = conn.execute(insert(tbl).values(id=1, name="a", n=10))
        assert r.rowcount == 1
        assert r.inserted_primary_key == (1,) if engine.dialect.name == "sqlite" else True
        conn.execute(insert(tbl).values([{"id": 2, "name": "b"}, {"id": 3, "name": "c"}]))
        r = conn.execute(
            insert(tbl), [{"id": 4, "name": "d", "n": 4}, {"id": 5, "name": "e", "n": None}]
        )
        assert r.rowcount in (2, -1)
        conn.execute(insert(tbl), {"id": 6, "n": 6})
        assert _rows(conn, tbl) == [
            (1, "a", 10),
            (2, "b", None),
            (3, "c", None),
            (4, "d", 4),
            (5, "e", None),
            (6, None, 6),
        ]


def test_inserted_primary_key(engine: Engine, tbl: Any) -> None:
    with engine.begin() as conn:
        # generated by the database: lastrowid (SQLite) or RETURNING (PostgreSQL)
        r = conn.execute(insert(tbl).values(name="y").return_defaults(tbl.c.id))
        assert r.inserted_primary_key == (1,)
        # a value given for the key column is reported as given
        r = conn.execute(insert(tbl).values(id=7, name="x").return_defaults(tbl.c.id))
        assert r.inserted_primary_key == (7,)
        r = conn.execute(insert(tbl).return_defaults(tbl.c.id), {"name": "p", "id": 9})
        assert r.inserted_primary_key == (9,)
        if engine.dialect.name == "sqlite":
            # no key hint: SQLite reports the rowid
            assert conn.execute(insert(tbl).values(name="z")).inserted_primary_key == (10,)
        else:
            # no key hint and no primary key known for a table(): nothing to report
            assert conn.execute(insert(tbl).values(name="z")).inserted_primary_key is None
        with pytest.raises(exc.InvalidRequestError):
            _ = conn.execute(delete(tbl).where(tbl.c.id == 0)).inserted_primary_key
        # no values and no parameters: DEFAULT VALUES
        r = conn.execute(insert(tbl).return_defaults(tbl.c.id))
        assert r.inserted_primary_key == ((11,) if engine.dialect.name == "sqlite" else (3,))
        rows = [r for r in _rows(conn, tbl) if r[1] is not None and r[1] != "z"]
        assert rows == [(1, "y", None), (7, "x", None), (9, "p", None)]


def test_returning(engine: Engine, tbl: Any) -> None:
    with engine.begin() as conn:
        r = conn.execute(
            insert(tbl)
            .values([{"id": 1, "name": "a", "n": 1}, {"id": 2, "name": "b", "n": 2}])
            .returning(tbl.c.id, tbl.c.name)
        )
        rows = sorted(r.all())
        assert [tuple(x) for x in rows] == [(1, "a"), (2, "b")]
        assert rows[0]._mapping[tbl.c.name] == "a"
        r = conn.execute(
            update(tbl)
            .where(tbl.c.id == 2)
            .values(n=tbl.c.n + 40)
            .returning(tbl.c.n, (tbl.c.n * 2).label("dbl"))
        )
        row = r.one()
        assert (row.n, row.dbl) == (42, 84)
        r = conn.execute(delete(tbl).where(tbl.c.id == 1).returning(tbl.c.name))
        assert r.scalars().all() == ["a"]
        assert _rows(conn, tbl) == [(2, "b", 42)]


def test_update_delete_rowcount(engine: Engine, tbl: Any) -> None:
    with engine.begin() as conn:
        conn.execute(insert(tbl), [{"id": i, "name": f"r{i}", "n": i} for i in range(1, 6)])
        r = conn.execute(update(tbl).where(tbl.c.n > 2).values(n=tbl.c.n * 10, name="big"))
        assert r.rowcount == 3
        assert conn.execute(update(tbl).where(tbl.c.id == 99).values(n=1)).rowcount == 0
        r = conn.execute(delete(tbl).where(tbl.c.id < 3))
        assert r.rowcount == 2
        assert _rows(conn, tbl) == [(3, "big", 30), (4, "big", 40), (5, "big", 50)]
        # executemany update with parameters naming the SET column
        stmt = update(tbl).where(tbl.c.id == text_bind("key"))
        conn.execute(stmt, [{"key": 3, "name": "three"}, {"key": 4, "name": "four"}])
        assert [r[1] for r in _rows(conn, tbl)] == ["three", "four", "big"]
        assert conn.execute(delete(tbl)).rowcount == 3


def text_bind(name: str) -> Any:
    from hermetic import bindparam

    return bindparam(name, type_=Integer)


def test_from_select_and_correlated_update(engine: Engine, tbl: Any) -> None:
    with engine.begin() as conn:
        conn.execute(insert(tbl).values([{"id": i, "name": f"s{i}", "n": i} for i in (1, 2, 3)]))
        src = select(tbl.c.id + 10, tbl.c.name, tbl.c.n).where(tbl.c.id >= 2)
        r = conn.execute(insert(tbl).from_select(["id", "name", "n"], src))
        assert r.rowcount == 2
        other = tbl.alias("o")
        sub = select(other.c.n).where(other.c.id == tbl.c.id + 10).scalar_subquery()
        conn.execute(update(tbl).where(tbl.c.id < 10).values(n=sub))
        assert _rows(conn, tbl) == [
            (1, "s1", None),
            (2, "s2", 2),
            (3, "s3", 3),
            (12, "s2", 2),
            (13, "s3", 3),
        ]


def test_hostile_values(engine: Engine, tbl: Any) -> None:
    with engine.begin() as conn:
        conn.execute(insert(tbl), [{"id": i, "name": v} for i, v in enumerate(HOSTILE)])
        for i, v in enumerate(HOSTILE):
            conn.execute(insert(tbl).values(id=100 + i, name=v))
        conn.execute(
            insert(tbl).values([{"id": 200 + i, "name": v} for i, v in enumerate(HOSTILE)])
        )
        names = [r[1] for r in _rows(conn, tbl)]
        assert names == HOSTILE * 3
        r = conn.execute(update(tbl).where(tbl.c.name == HOSTILE[2]).values(name=HOSTILE[0]))
        assert r.rowcount == 3
        assert conn.execute(delete(tbl).where(tbl.c.name == HOSTILE[0])).rowcount == 6


def test_upsert(engine: Engine, tbl: Any) -> None:
    ins = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    with engine.begin() as conn:
        conn.execute(insert(tbl).values(id=1, name="a", n=1))
        stmt = ins(tbl).values(id=1, name="dup", n=5)
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))
        assert _rows(conn, tbl) == [(1, "a", 1)]
        stmt = ins(tbl).values(id=1, name="new", n=5)
        up = stmt.on_conflict_do_update(
            index_elements=[tbl.c.id],
            set_={"name": stmt.excluded.name, "n": tbl.c.n + stmt.excluded.n},
        )
        conn.execute(up)
        assert _rows(conn, tbl) == [(1, "new", 6)]
        # WHERE on the update: not taken when false
        stmt = ins(tbl).values(id=1, name="skip", n=1)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"], set_={"name": stmt.excluded.name}, where=tbl.c.n > 100
            )
        )
        stmt = ins(tbl).values(id=2, name=HOSTILE[2], n=2)
        conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={"n": 99}))
        assert _rows(conn, tbl) == [(1, "new", 6), (2, HOSTILE[2], 2)]


def test_engine_cache_reuse(engine: Engine, tbl: Any) -> None:
    with engine.begin() as conn:
        conn.execute(select(tbl.c.id))  # warm anything unrelated
        before = len(engine._compiled_cache)
        for i in range(1, 6):
            conn.execute(insert(tbl).values(id=i, name=f"v{i}", n=i))
        assert len(engine._compiled_cache) == before + 1
        for i in range(1, 6):
            conn.execute(update(tbl).where(tbl.c.id == i).values(n=i * 100))
        assert len(engine._compiled_cache) == before + 2
        for i in range(6, 9):
            conn.execute(insert(tbl), {"id": i, "name": f"p{i}"})
        assert len(engine._compiled_cache) == before + 3
        conn.execute(delete(tbl).where(tbl.c.id == 8))
        conn.execute(delete(tbl).where(tbl.c.id == 7))
        assert len(engine._compiled_cache) == before + 4
        assert _rows(conn, tbl) == [
            *[(i, f"v{i}", i * 100) for i in range(1, 6)],
            (6, "p6", None),
        ]


# -- UPDATE ... FROM, DELETE ... USING, correlated SET, RETURNING with other tables -------


@pytest.fixture
def pair(engine: Engine, tbl: Any) -> Iterator[tuple[Any, Any]]:
    """``tbl`` with rows 1..4, and ``src`` (tid, x, tag) pointing at them."""
    name = f"src_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name} (tid INTEGER, x INTEGER, tag VARCHAR(10))"))
        conn.execute(insert(tbl), [{"id": i, "name": f"r{i}", "n": i} for i in range(1, 5)])
    src = table(name, column("tid", Integer), column("x", Integer), column("tag", String))
    with engine.begin() as conn:
        conn.execute(
            insert(src),
            [
                {"tid": 1, "x": 100, "tag": "keep"},
                {"tid": 2, "x": 200, "tag": "drop"},
                {"tid": 3, "x": 300, "tag": "drop"},
            ],
        )
    yield tbl, src
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {name}"))


def test_update_from(engine: Engine, pair: tuple[Any, Any]) -> None:
    t, s = pair
    with engine.begin() as conn:
        stmt = (
            update(t)
            .where(t.c.id == s.c.tid, s.c.tag == "drop")
            .values(n=s.c.x + t.c.n, name=s.c.tag)
        )
        assert "FROM " + s.name in str(stmt.compile(dialect=engine.dialect))
        if engine.dialect.name == "postgresql":
            rows = conn.execute(stmt.returning(t.c.id, t.c.n, s.c.x))
            assert sorted(tuple(r) for r in rows) == [(2, 202, 200), (3, 303, 300)]
        else:
            # SQLite's RETURNING sees only the updated table
            with pytest.raises(exc.CompileError, match="RETURNING"):
                conn.execute(stmt.returning(t.c.id, s.c.x))
            rows = conn.execute(stmt.returning(t.c.id, t.c.n))
            assert sorted(tuple(r) for r in rows) == [(2, 202), (3, 303)]
        assert _rows(conn, t) == [(1, "r1", 1), (2, "drop", 202), (3, "drop", 303), (4, "r4", 4)]
        # the same structure, other values: the cached form with the new values
        stmt = update(t).where(t.c.id == s.c.tid, s.c.tag == "keep").values(n=s.c.x)
        assert conn.execute(stmt).rowcount == 1
        assert _rows(conn, t)[0] == (1, "r1", 100)


def test_delete_using_or_correlated_subquery(engine: Engine, pair: tuple[Any, Any]) -> None:
    t, s = pair
    using = delete(t).where(t.c.id == s.c.tid, s.c.tag == "drop").returning(t.c.id, t.c.name)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            assert sorted(tuple(r) for r in conn.execute(using)) == [(2, "r2"), (3, "r3")]
        else:
            with pytest.raises(exc.CompileError, match=r"correlated subquery.*\.in_\(select"):
                conn.execute(using)
            # what the message suggests, on every database
            rows = conn.execute(
                delete(t)
                .where(t.c.id.in_(select(s.c.tid).where(s.c.tag == "drop")))
                .returning(t.c.id, t.c.name)
            )
            assert sorted(tuple(r) for r in rows) == [(2, "r2"), (3, "r3")]
        assert [r[0] for r in _rows(conn, t)] == [1, 4]
        # EXISTS correlated to the DELETE's table
        gone = conn.execute(
            delete(t).where(exists().where(s.c.tid == t.c.id)).returning(t.c.id)
        ).scalars()
        assert gone.all() == [1]
        assert [r[0] for r in _rows(conn, t)] == [4]


def test_correlated_set_and_where(engine: Engine, pair: tuple[Any, Any]) -> None:
    t, s = pair
    with engine.begin() as conn:
        biggest = select(func.max(s.c.x)).where(s.c.tid == t.c.id).scalar_subquery()
        r = conn.execute(
            update(t)
            .values(n=func.coalesce(biggest, -1))
            .where(exists().where(s.c.tid == t.c.id, s.c.tag == "drop") | (t.c.id == 4))
            .returning(t.c.id, t.c.n)
        )
        assert sorted(tuple(x) for x in r) == [(2, 200), (3, 300), (4, -1)]
        assert _rows(conn, t)[0] == (1, "r1", 1)


def test_upsert_on_partial_index(engine: Engine, tbl: Any) -> None:
    """index_where is written inline and unqualified, as the partial index has it: the
    database matches it against the index's own predicate."""
    ins = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    with engine.begin() as conn:
        conn.execute(text(f"CREATE UNIQUE INDEX ix_{tbl.name} ON {tbl.name} (name) WHERE n > 0"))
        conn.execute(insert(tbl).values(id=1, name="a", n=1))
        stmt = ins(tbl).values(id=2, name="a", n=5)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["name"], index_where=tbl.c.n > 0, set_={"n": stmt.excluded.n}
            )
        )
        assert _rows(conn, tbl) == [(1, "a", 5)]
        # another predicate value is another statement: not the cached text of the first
        stmt = ins(tbl).values(id=3, name="a", n=7)
        with pytest.raises(exc.DBAPIError), conn.begin_nested():
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["name"],
                    index_where=tbl.c.n > -5,
                    set_={"n": stmt.excluded.n},
                )
            )
        assert _rows(conn, tbl) == [(1, "a", 5)]
