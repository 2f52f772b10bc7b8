"""Results and rows read from real cursors on every backend, and server-side cursors
(stream_results / yield_per) on PostgreSQL through both drivers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from conftest import pg_url, require_pg
from hermetic import create_engine, exc, text
from hermetic.engine import Connection, Engine, Row, RowMapping

ROWS = [(1, "a", 10), (2, "b", 20), (3, "c", 20), (4, "d", 30), (5, "e", None)]


@pytest.fixture
def table(engine: Engine) -> Iterator[str]:
    """A unique table (id, name, score) holding ROWS, dropped afterwards."""
    name = f"t_res_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(
            text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, name VARCHAR(20), score INTEGER)")
        )
        conn.execute(
            text(f"INSERT INTO {name} (id, name, score) VALUES (:id, :name, :score)"),
            [{"id": i, "name": n, "score": s} for i, n, s in ROWS],
        )
    yield name
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))


@pytest.fixture
def conn(engine: Engine, table: str) -> Iterator[Connection]:
    """A connection, closed before ``table`` is dropped (it may hold locks on it)."""
    with engine.connect() as c:
        yield c


def _select(table: str, where: str = "") -> str:
    return f"SELECT id, name, score FROM {table} {where} ORDER BY id"


# --------------------------------------------------------------------------- Row


def test_row_is_tuple_like(conn: Connection, table: str) -> None:
    row = conn.execute(text(_select(table, "WHERE id = 1"))).one()
    assert isinstance(row, Row)
    assert row == (1, "a", 10)
    assert row == ROWS[0]
    assert tuple(row) == (1, "a", 10)
    assert len(row) == 3
    assert row[0] == 1
    assert row[-1] == 10
    assert row[0:2] == (1, "a")
    i, n, s = row
    assert (i, n, s) == (1, "a", 10)
    assert "a" in row
    assert hash(row) == hash((1, "a", 10))
    assert row < (2,)
    assert repr(row) == "(1, 'a', 10)"
    assert row._tuple() == (1, "a", 10)
    assert row._t == (1, "a", 10)
    assert row.count(10) == 1
    assert row.index("a") == 1


def test_row_named_access(conn: Connection, table: str) -> None:
    row = conn.execute(text(_select(table, "WHERE id = 2"))).one()
    assert row.id == 2
    assert row.name == "b"
    assert row.score == 20
    assert row._fields == ("id", "name", "score")
    assert row._asdict() == {"id": 2, "name": "b", "score": 20}
    with pytest.raises(AttributeError):
        row.nope  # noqa: B018


def test_row_mapping(conn: Connection, table: str) -> None:
    row = conn.execute(text(_select(table, "WHERE id = 5"))).one()
    m = row._mapping
    assert isinstance(m, RowMapping)
    assert m["id"] == 5
    assert m["name"] == "e"
    assert m["score"] is None
    assert list(m) == ["id", "name", "score"]
    assert list(m.keys()) == ["id", "name", "score"]
    assert list(m.values()) == [5, "e", None]
    assert dict(m) == {"id": 5, "name": "e", "score": None}
    assert m == {"id": 5, "name": "e", "score": None}
    assert "name" in m
    assert "nope" not in m
    assert len(m) == 3
    assert m.get("nope", "dflt") == "dflt"
    with pytest.raises(KeyError):
        m["nope"]
    with pytest.raises(exc.NoSuchColumnError):
        m["nope"]


def test_row_labels_and_duplicate_free_names(conn: Connection) -> None:
    row = conn.execute(text("SELECT 1 AS one, 'x' AS two, NULL AS three")).one()
    assert row._fields == ("one", "two", "three")
    assert row.one == 1
    assert row.three is None


# --------------------------------------------------------------------------- Result


def test_all_iteration_and_exhaustion(conn: Connection, table: str) -> None:
    result = conn.execute(text(_select(table)))
    rows = result.all()
    assert rows == ROWS
    assert all(isinstance(r, Row) for r in rows)
    assert result.all() == []
    assert result.fetchone() is None
    assert not result.closed
    assert [tuple(r) for r in conn.execute(text(_select(table)))] == ROWS
    assert [r.name for r in conn.execute(text(_select(table)))] == ["a", "b", "c", "d", "e"]


def test_fetch_methods(conn: Connection, table: str) -> None:
    result = conn.execute(text(_select(table)))
    assert result.fetchone() == ROWS[0]
    assert result.fetchmany(2) == ROWS[1:3]
    assert result.fetchall() == ROWS[3:]
    assert result.fetchone() is None
    assert result.fetchmany(2) == []
    assert result.fetchall() == []


def test_fetchmany_default_size(conn: Connection, table: str) -> None:
    result = conn.execute(text(_select(table)))
    batch = result.fetchmany()
    assert 1 <= len(batch) <= 5
    assert batch == ROWS[: len(batch)]
    result.close()


def test_first(conn: Connection, table: str) -> None:
    result = conn.execute(text(_select(table)))
    assert result.first() == ROWS[0]
    assert result.closed
    with pytest.raises(exc.ResourceClosedError):
        result.fetchone()
    assert conn.execute(text(_select(table, "WHERE id > 100"))).first() is None


def test_one(conn: Connection, table: str) -> None:
    assert conn.execute(text(_select(table, "WHERE id = 3"))).one() == ROWS[2]
    with pytest.raises(exc.NoResultFound) as none:
        conn.execute(text(_select(table, "WHERE id > 100"))).one()
    assert str(none.value) == "No row was found when one was required"
    with pytest.raises(exc.MultipleResultsFound) as many:
        conn.execute(text(_select(table))).one()
    assert str(many.value) == "Multiple rows were found when exactly one was required"
    assert issubclass(exc.NoResultFound, exc.InvalidRequestError)
    assert issubclass(exc.MultipleResultsFound, exc.InvalidRequestError)


def test_one_or_none(conn: Connection, table: str) -> None:
    assert conn.execute(text(_select(table, "WHERE id = 4"))).one_or_none() == ROWS[3]
    assert conn.execute(text(_select(table, "WHERE id > 100"))).one_or_none() is None
    with pytest.raises(exc.MultipleResultsFound) as many:
        conn.execute(text(_select(table))).one_or_none()
    assert str(many.value) == "Multiple rows were found when one or none was required"


def test_scalar_family(conn: Connection, table: str) -> None:
    result = conn.execute(text(_select(table)))
    assert result.scalar() == 1
    assert result.closed
    assert conn.execute(text(_select(table, "WHERE id > 100"))).scalar() is None
    assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 5
    with pytest.raises(exc.NoResultFound):
        conn.execute(text(_select(table, "WHERE id > 100"))).scalar_one()
    with pytest.raises(exc.MultipleResultsFound):
        conn.execute(text(_select(table))).scalar_one()
    assert conn.execute(text(_select(table, "WHERE id = 2"))).scalar_one_or_none() == 2
    assert conn.execute(text(_select(table, "WHERE id > 100"))).scalar_one_or_none() is None
    with pytest.raises(exc.MultipleResultsFound):
        conn.execute(text(_select(table))).scalar_one_or_none()
    # a NULL scalar is None, like no row
    assert conn.execute(text(f"SELECT score FROM {table} WHERE id = 5")).scalar_one() is None


def test_scalars(conn: Connection, table: str) -> None:
    assert conn.execute(text(_select(table))).scalars().all() == [1, 2, 3, 4, 5]
    assert conn.execute(text(_select(table))).scalars(1).all() == ["a", "b", "c", "d", "e"]
    assert conn.execute(text(_select(table))).scalars("score").all() == [10, 20, 20, 30, None]
    assert conn.execute(text(_select(table))).scalars().first() == 1
    scalars = conn.execute(text(_select(table))).scalars()
    assert scalars.fetchmany(2) == [1, 2]
    assert list(scalars) == [3, 4, 5]
    assert conn.execute(text(_select(table, "WHERE id = 1"))).scalars().one() == 1
    assert conn.execute(text(_select(table))).scalars("score").unique().all() == [
        10,
        20,
        30,
        None,
    ]


def test_mappings(conn: Connection, table: str) -> None:
    maps = conn.execute(text(_select(table))).mappings().all()
    assert maps == [{"id": i, "name": n, "score": s} for i, n, s in ROWS]
    assert all(isinstance(m, RowMapping) for m in maps)
    assert maps[1]["name"] == "b"
    one = conn.execute(text(_select(table, "WHERE id = 1"))).mappings().one()
    assert one == {"id": 1, "name": "a", "score": 10}
    result = conn.execute(text(_select(table))).mappings()
    assert result.fetchone() == {"id": 1, "name": "a", "score": 10}
    assert list(result.keys()) == ["id", "name", "score"]
    assert [m["id"] for m in result] == [2, 3, 4, 5]
    assert conn.execute(text(_select(table, "WHERE id > 100"))).mappings().first() is None


def test_partitions(conn: Connection, table: str) -> None:
    parts = list(conn.execute(text(_select(table))).partitions(2))
    assert [len(p) for p in parts] == [2, 2, 1]
    assert [r for p in parts for r in p] == ROWS
    scalar_parts = list(conn.execute(text(_select(table))).scalars().partitions(3))
    assert scalar_parts == [[1, 2, 3], [4, 5]]


def test_yield_per_sets_partition_size(conn: Connection, table: str) -> None:
    result = conn.execute(text(_select(table))).yield_per(2)
    assert [len(p) for p in result.partitions()] == [2, 2, 1]


def test_columns(conn: Connection, table: str) -> None:
    rows = conn.execute(text(_select(table))).columns("name", "id").all()
    assert rows == [(n, i) for i, n, _ in ROWS]
    assert rows[0]._fields == ("name", "id")
    assert rows[0].name == "a"
    rows = conn.execute(text(_select(table))).columns(2).all()
    assert rows == [(s,) for _, _, s in ROWS]


def test_unique(conn: Connection, table: str) -> None:
    result = conn.execute(text(f"SELECT score FROM {table} ORDER BY id")).unique()
    assert result.all() == [(10,), (20,), (30,), (None,)]
    by_score = conn.execute(text(_select(table))).unique(lambda row: row.score)
    assert [r.id for r in by_score] == [1, 2, 4, 5]


def test_keys(conn: Connection, table: str) -> None:
    result = conn.execute(text(_select(table)))
    keys = result.keys()
    assert list(keys) == ["id", "name", "score"]
    assert keys == ["id", "name", "score"]
    assert "name" in keys
    assert len(keys) == 3
    result.close()


def test_close(conn: Connection, table: str) -> None:
    result = conn.execute(text(_select(table)))
    assert result.fetchone() == ROWS[0]
    result.close()
    assert result.closed
    with pytest.raises(exc.ResourceClosedError):
        result.fetchone()
    with pytest.raises(exc.ResourceClosedError):
        result.all()
    result.close()  # idempotent
    # the connection is still usable
    assert conn.execute(text("SELECT 1")).scalar() == 1


def test_result_context_manager(conn: Connection, table: str) -> None:
    with conn.execute(text(_select(table))) as result:
        assert result.fetchone() == ROWS[0]
    assert result.closed


def test_rowcount_and_non_row_results(conn: Connection, table: str) -> None:
    result = conn.execute(text(f"UPDATE {table} SET name = 'z' WHERE score = 20"))
    assert result.rowcount == 2
    assert not result.returns_rows
    with pytest.raises(exc.ResourceClosedError, match="does not return rows"):
        result.fetchone()
    with pytest.raises(exc.ResourceClosedError):
        result.all()
    assert conn.execute(text(f"UPDATE {table} SET name = 'z' WHERE id > 100")).rowcount == 0
    assert conn.execute(text(f"DELETE FROM {table} WHERE score IS NULL")).rowcount == 1
    insert = conn.execute(text(f"INSERT INTO {table} (id, name) VALUES (9, 'n')"))
    assert insert.rowcount == 1
    assert not insert.returns_rows
    conn.rollback()


def test_returns_rows(conn: Connection, table: str) -> None:
    assert conn.execute(text(_select(table))).returns_rows
    assert conn.execute(text(_select(table, "WHERE id > 100"))).returns_rows


def test_freeze(conn: Connection, table: str) -> None:
    frozen = conn.execute(text(_select(table))).freeze()
    assert frozen().all() == ROWS
    assert frozen().scalars().all() == [1, 2, 3, 4, 5]


def test_stream_results_is_harmless_on_any_backend(conn: Connection, table: str) -> None:
    result = conn.execution_options(stream_results=True).execute(text(_select(table)))
    assert result.all() == ROWS
    result = conn.execute(text(_select(table)), execution_options={"yield_per": 2})
    assert [len(p) for p in result.partitions()] == [2, 2, 1]


# --------------------------------------------------------------------------- server-side


SERIES = "SELECT n, 'row ' || n AS label FROM generate_series(1, 10000) AS n ORDER BY n"


def _open_cursors(conn: Connection) -> list[str]:
    """Server-side cursors open in this session (this query itself never streams)."""
    result = conn.execute(
        text("SELECT name FROM pg_cursors"), execution_options={"stream_results": False}
    )
    return list(result.scalars())


@pytest.fixture(params=["psycopg", "psycopg2"])
def pg_driver_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    require_pg()
    eng = create_engine(pg_url(request.param))
    yield eng
    assert eng.pool.checkedout() == 0
    eng.dispose()


def test_stream_results_uses_named_server_cursor(pg_driver_engine: Engine) -> None:
    with pg_driver_engine.connect() as conn:
        conn.execution_options(stream_results=True)
        result = conn.execute(text(SERIES))
        first = result.fetchone()
        assert first == (1, "row 1")
        name = result.cursor.name
        assert name  # a named (server-side) cursor
        assert name in _open_cursors(conn)
        sizes = [len(p) for p in result.partitions(1000)]
        assert sum(sizes) == 9999
        assert max(sizes) == 1000
        assert result.fetchone() is None
        # exhausted: the server-side cursor is closed
        assert name not in _open_cursors(conn)


def test_yield_per_partitions_fetch_10000_rows(pg_driver_engine: Engine) -> None:
    with pg_driver_engine.connect() as conn:
        result = conn.execute(text(SERIES), execution_options={"yield_per": 1000})
        assert result.cursor.name
        seen = 0
        partitions = 0
        for part in result.partitions():
            if partitions == 0:
                assert result.cursor is not None
                assert result.cursor.name in _open_cursors(conn)
            assert len(part) == 1000
            assert part[0].n == seen + 1
            assert part[-1].label == f"row {seen + 1000}"
            seen += len(part)
            partitions += 1
        assert (seen, partitions) == (10000, 10)
        assert _open_cursors(conn) == []


def test_statement_level_yield_per(pg_driver_engine: Engine) -> None:
    stmt = text(SERIES).execution_options(yield_per=2500)
    with pg_driver_engine.connect() as conn:
        result = conn.execute(stmt)
        assert result.cursor.name in _open_cursors(conn)
        total = sum(1 for _ in result)
        assert total == 10000
        assert _open_cursors(conn) == []


def test_closing_stream_midway_closes_cursor(pg_driver_engine: Engine) -> None:
    with pg_driver_engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(text(SERIES))
        assert len(result.fetchmany(10)) == 10
        assert len(_open_cursors(conn)) == 1
        result.close()
        assert _open_cursors(conn) == []
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_plain_execution_has_no_server_cursor(pg_driver_engine: Engine) -> None:
    with pg_driver_engine.connect() as conn:
        result = conn.execute(text(SERIES))
        assert _open_cursors(conn) == []
        assert len(result.all()) == 10000


def test_stream_scalars_and_mappings(pg_driver_engine: Engine) -> None:
    with pg_driver_engine.connect() as conn:
        conn.execution_options(stream_results=True, max_row_buffer=100)
        assert sum(conn.execute(text(SERIES)).scalars()) == 10000 * 10001 // 2
        maps = conn.execute(text(SERIES)).mappings()
        assert maps.fetchone() == {"n": 1, "label": "row 1"}
        assert len(maps.all()) == 9999
