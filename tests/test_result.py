"""Result, Row and friends, driven by real sqlite3 cursors (in-memory, no mocks)."""

from __future__ import annotations

import copy
import pickle
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from hermetic.engine.result import (
    ChunkedIteratorResult,
    CursorResult,
    FrozenResult,
    IteratorResult,
    MappingResult,
    MergedResult,
    Result,
    ResultMetaData,
    RMKeyView,
    Row,
    RowMapping,
    ScalarResult,
    SimpleResultMetaData,
)
from hermetic.engine.row import _metadata_for_keys
from hermetic.exc import (
    InvalidRequestError,
    MultipleResultsFound,
    NoResultFound,
    NoSuchColumnError,
    ResourceClosedError,
)

CLOSED = "This result object is closed."
NO_ROWS = "This result object does not return rows. It has been closed automatically."
ROWS = [(1, "a", 10), (2, "b", 20), (3, "c", 30), (4, "a", 40)]


class TrackingCursor(sqlite3.Cursor):
    """A real sqlite3 cursor that counts close() calls and records fetchmany sizes."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        super().__init__(connection)
        self.close_calls = 0
        self.fetchmany_sizes: list[int | None] = []

    def close(self) -> None:
        self.close_calls += 1
        super().close()

    def fetchmany(self, *args: Any) -> list[Any]:
        self.fetchmany_sizes.append(args[0] if args else None)
        return super().fetchmany(*args)


class PythonIterCursor(TrackingCursor):
    """Iterates through Python code: CursorResult.all() must use fetchall() instead."""

    def __next__(self) -> Any:
        return super().__next__()


class NoIterCursor(TrackingCursor):
    """A cursor without iteration (optional in PEP 249)."""

    __iter__ = None  # type: ignore[assignment]


class Closer:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.fixture
def con() -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, count INT)")
    con.executemany("INSERT INTO t (id, name, count) VALUES (?, ?, ?)", ROWS)
    yield con
    con.close()


class Runner:
    """Executes SQL on a TrackingCursor and wraps it in a CursorResult."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        self.cursor: TrackingCursor | None = None
        self.closer = Closer()

    def __call__(
        self,
        sql: str = "SELECT id, name, count FROM t ORDER BY id",
        params: Sequence[Any] = (),
        *,
        processors: Sequence[Callable[[Any], Any] | None] | None = None,
        extra_keys: Sequence[Sequence[object]] | None = None,
        factory: type[TrackingCursor] = TrackingCursor,
        **kw: Any,
    ) -> CursorResult[Any]:
        cursor = self.con.cursor(factory=factory)
        cursor.execute(sql, params)
        self.cursor = cursor
        self.closer = Closer()
        if cursor.description is None:
            return CursorResult(
                cursor,
                None,
                rowcount=cursor.rowcount,
                lastrowid=cursor.lastrowid,
                on_close=self.closer,
                **kw,
            )
        keys = [d[0] for d in cursor.description]
        if processors is None and extra_keys is None:
            metadata = ResultMetaData.for_keys(keys)
        else:
            metadata = ResultMetaData(keys, processors, extra_keys)
        return CursorResult(cursor, metadata, on_close=self.closer, **kw)

    def assert_released(self) -> None:
        assert self.cursor is not None
        assert self.cursor.close_calls == 1
        assert self.closer.calls == 1

    def assert_open(self) -> None:
        assert self.cursor is not None
        assert self.cursor.close_calls == 0
        assert self.closer.calls == 0


@pytest.fixture
def run(con: sqlite3.Connection) -> Runner:
    return Runner(con)


# --- ResultMetaData ------------------------------------------------------------------


def test_metadata_keymap_names_positions_and_extras() -> None:
    marker = object()
    md = ResultMetaData(["a", "b"], extra_keys=[("A", marker), ("B",)])
    assert md.keys == ("a", "b")
    assert md._keymap["a"] == 0 and md._keymap["b"] == 1
    assert md._keymap[0] == 0 and md._keymap[1] == 1
    assert md._keymap[marker] == 0 and md._keymap["B"] == 1
    assert issubclass(md.row_class, Row)


def test_metadata_without_processors_builds_rows_with_the_class_itself() -> None:
    md = ResultMetaData(["a", "b"], [None, None])
    assert md.make_row is md.row_class
    assert md.make_rows([(1, 2), (3, 4)]) == [(1, 2), (3, 4)]


def test_metadata_for_keys_is_memoised_and_bounded() -> None:
    first = ResultMetaData.for_keys(["x", "y"])
    assert ResultMetaData.for_keys(("x", "y")) is first
    assert ResultMetaData.for_keys(["x", "y"]).row_class is first.row_class
    info = _metadata_for_keys.cache_info()
    assert info.maxsize == 256


def test_metadata_row_class_reused_across_executions(run: Runner) -> None:
    one = run().fetchone()
    two = run().fetchone()
    assert type(one) is type(two)


def test_metadata_rejects_too_many_processors() -> None:
    with pytest.raises(ValueError):
        ResultMetaData(["a"], [None, str])


def test_simple_result_metadata_is_an_alias() -> None:
    assert SimpleResultMetaData is ResultMetaData


# --- Row -----------------------------------------------------------------------------


def test_row_is_a_tuple(run: Runner) -> None:
    row = run().first()
    assert isinstance(row, Row) and isinstance(row, tuple)
    assert row == (1, "a", 10)
    assert (1, "a", 10) == row  # noqa: SIM300 - the reflected comparison
    assert hash(row) == hash((1, "a", 10))
    assert row in {(1, "a", 10)}
    id_, name, count = row
    assert (id_, name, count) == (1, "a", 10)
    assert row[0] == 1 and row[-1] == 10
    assert row[1:] == ("a", 10)
    assert repr(row) == "(1, 'a', 10)"
    assert list(row) == [1, "a", 10]
    assert len(row) == 3
    assert row < (2,)


def test_row_attribute_access(run: Runner) -> None:
    row = run().first()
    assert row is not None
    assert row.id == 1
    assert row.name == "a"
    # As in SQLAlchemy 2.0, a column named like a tuple method wins over the method...
    assert row.count == 10
    # ...and stays reachable by position and through the mapping.
    assert row[2] == 10
    assert row._mapping["count"] == 10


def test_row_tuple_methods_remain_without_clashing_columns(run: Runner) -> None:
    row = run("SELECT 1 AS a, 1 AS b").one()
    assert row.count(1) == 2
    assert row.index(1) == 0


def test_row_index_column(run: Runner) -> None:
    row = run('SELECT 7 AS "index", 8 AS b').one()
    assert row.index == 7
    assert row._mapping["index"] == 7


def test_row_unusual_names_reached_through_getattr(run: Runner) -> None:
    row = run('SELECT 1 AS _private, 2 AS "my col", 3 AS t, 4 AS tuple, 5 AS "_mapping"').one()
    assert row._private == 1
    assert getattr(row, "my col") == 2
    assert row.t == 3
    assert row.tuple == 4
    assert isinstance(row._mapping, RowMapping)  # the API name wins over the column
    assert row._mapping["_mapping"] == 5
    assert "t" not in type(row).__dict__  # reserved names get no property


def test_row_unknown_attribute(run: Runner) -> None:
    row = run().first()
    with pytest.raises(AttributeError) as info:
        row.nope  # noqa: B018
    assert str(info.value) == (
        "Could not locate column in row for column 'nope'; the row has columns: id, name, count"
    )
    assert not hasattr(row, "nope")
    with pytest.raises(AttributeError):
        row.__nothing__  # noqa: B018


def test_row_accessors(run: Runner) -> None:
    row = run().first()
    assert row is not None
    assert row._fields == ("id", "name", "count")
    assert row._asdict() == {"id": 1, "name": "a", "count": 10}
    assert row._t == (1, "a", 10) and type(row._t) is tuple
    assert row._tuple() == (1, "a", 10) and type(row._tuple()) is tuple


def test_row_pickles(run: Runner) -> None:
    row = run().first()
    clone = pickle.loads(pickle.dumps(row))
    assert clone == row
    assert isinstance(clone, Row)
    assert clone.name == "a"
    assert clone._fields == ("id", "name", "count")
    assert clone._mapping == {"id": 1, "name": "a", "count": 10}
    rows = pickle.loads(pickle.dumps(run().all()))
    assert [r.id for r in rows] == [1, 2, 3, 4]


def test_row_copies(run: Runner) -> None:
    row = run().first()
    assert copy.copy(row) is row
    deep = copy.deepcopy(row)
    assert deep == row and deep.name == "a"


def test_ambiguous_names(run: Runner) -> None:
    message = (
        "Ambiguous column name 'x' in result set; use a label to give the columns distinct names"
    )
    result = run("SELECT 1 AS x, 2 AS x, 3 AS y")
    assert result.keys() == ["x", "x", "y"]
    assert "x" in result.keys()  # noqa: SIM118 - the keys view itself
    row = result.one()
    assert row.y == 3
    assert row == (1, 2, 3)
    with pytest.raises(InvalidRequestError) as info:
        row.x  # noqa: B018
    assert str(info.value) == message
    with pytest.raises(InvalidRequestError, match="Ambiguous column name 'x'"):
        row._mapping["x"]
    assert list(row._mapping) == ["x", "x", "y"]
    with pytest.raises(InvalidRequestError, match="Ambiguous"):
        run("SELECT 1 AS x, 2 AS x").scalars("x")
    with pytest.raises(InvalidRequestError, match="Ambiguous"):
        run("SELECT 1 AS x, 2 AS x").columns("x")
    assert run("SELECT 1 AS x, 2 AS x").scalars(1).one() == 2


# --- RowMapping ----------------------------------------------------------------------


def test_row_mapping(run: Runner) -> None:
    row = run().first()
    assert row is not None
    mapping = row._mapping
    assert mapping["name"] == "a"
    assert mapping["count"] == 10
    assert list(mapping) == ["id", "name", "count"]
    assert len(mapping) == 3
    assert "name" in mapping and "nope" not in mapping and 0 not in mapping
    assert mapping.keys() == ["id", "name", "count"]
    assert isinstance(mapping.keys(), RMKeyView)
    assert list(mapping.values()) == [1, "a", 10]
    assert 10 in mapping.values()
    assert list(mapping.items()) == [("id", 1), ("name", "a"), ("count", 10)]
    assert ("name", "a") in mapping.items()
    assert mapping == {"id": 1, "name": "a", "count": 10}
    assert {"id": 1, "name": "a", "count": 10} == mapping  # noqa: SIM300
    assert mapping != {"id": 1}
    assert dict(mapping) == {"id": 1, "name": "a", "count": 10}
    assert repr(mapping) == "{'id': 1, 'name': 'a', 'count': 10}"
    assert mapping.get("nope", "default") == "default"
    assert hash(mapping) == hash(run().first()._mapping)  # type: ignore[union-attr]


def test_row_mapping_equality_between_mappings(run: Runner) -> None:
    first = run().first()._mapping  # type: ignore[union-attr]
    same = run().first()._mapping  # type: ignore[union-attr]
    reordered = run().columns("count", "name", "id").first()._mapping  # type: ignore[union-attr]
    other = run("SELECT 2 AS id").first()._mapping  # type: ignore[union-attr]
    assert first == same and first == reordered and hash(first) == hash(reordered)
    assert first != other
    assert first != (1, "a", 10)  # a mapping is not its values
    assert repr(first.values()) == "_RowValuesView([1, 'a', 10])"
    assert repr(first.items()) == "_RowItemsView([('id', 1), ('name', 'a'), ('count', 10)])"


def test_row_mapping_unknown_key(run: Runner) -> None:
    mapping = run().first()._mapping  # type: ignore[union-attr]
    with pytest.raises(NoSuchColumnError) as info:
        mapping["nope"]
    assert str(info.value) == (
        "Could not locate column in row for column 'nope'; the row has columns: id, name, count"
    )
    assert isinstance(info.value, KeyError)
    with pytest.raises(NoSuchColumnError, match="column '0'"):
        mapping[0]  # positions are not mapping keys


def test_row_mapping_extra_keys(run: Runner) -> None:
    marker = object()
    result = run(extra_keys=[("ID", marker), (), ("n",)])
    row = result.first()
    assert row is not None
    assert row._mapping["ID"] == 1
    assert row._mapping[marker] == 1
    assert row._mapping["n"] == 10
    assert marker in row._mapping
    assert list(row._mapping) == ["id", "name", "count"]


def test_extra_key_shared_by_two_columns_is_ambiguous(run: Runner) -> None:
    row = run(extra_keys=[("k",), ("k",), ()]).first()
    with pytest.raises(InvalidRequestError, match="Ambiguous"):
        row._mapping["k"]  # type: ignore[union-attr]


# --- keys() --------------------------------------------------------------------------


def test_keys_view(run: Runner) -> None:
    marker = object()
    result = run(extra_keys=[(marker,), (), ()])
    keys = result.keys()
    assert isinstance(keys, RMKeyView)
    assert keys == ["id", "name", "count"]
    assert keys == ("id", "name", "count")
    assert keys != ["id", "name"]
    assert list(keys) == ["id", "name", "count"]
    assert len(keys) == 3
    assert "name" in keys and "nope" not in keys and 0 not in keys
    assert marker in keys
    assert repr(keys) == "RMKeyView(['id', 'name', 'count'])"
    assert keys & {"id", "zz"} == {"id"}
    assert [] not in keys  # unhashable: simply absent
    assert keys != 5


def test_metadata_repr_and_pickle() -> None:
    md = ResultMetaData(["a", "b"], [str, None], [("A", object()), (1,)])
    assert repr(md) == "ResultMetaData(['a', 'b'])"
    clone = pickle.loads(pickle.dumps(md))
    assert clone.keys == ("a", "b")
    assert clone._key_to_index["A"] == 0 and clone._key_to_index[1] == 1
    assert clone.make_row is clone.row_class  # processors are not pickled


# --- fetching and soft close ---------------------------------------------------------


def test_fetchone_until_exhausted_releases_cursor_once(run: Runner) -> None:
    result = run()
    assert result.fetchone() == (1, "a", 10)
    run.assert_open()
    assert [result.fetchone() for _ in range(3)] == ROWS[1:]
    run.assert_open()
    assert result.fetchone() is None
    run.assert_released()
    assert result.closed is False  # exhausted ("soft closed"), not closed
    assert result.fetchone() is None
    assert result.fetchall() == []
    assert result.all() == []
    assert result.fetchmany(2) == []
    assert list(result) == []
    result.close()
    run.assert_released()
    assert result.closed is True


def test_fetchmany(run: Runner) -> None:
    result = run()
    assert result.fetchmany(2) == ROWS[:2]
    assert result.fetchmany() == ROWS[2:3]  # the DBAPI default: arraysize (1)
    run.assert_open()
    assert result.fetchmany(5) == ROWS[3:]  # fewer than asked: exhausted
    run.assert_released()
    assert result.fetchmany(5) == []


def test_fetchall_and_all(run: Runner) -> None:
    result = run()
    result.fetchone()
    rows = result.fetchall()
    assert rows == ROWS[1:]
    assert all(isinstance(row, Row) for row in rows)
    run.assert_released()
    assert run().all() == ROWS
    run.assert_released()


def test_iteration(run: Runner) -> None:
    result = run()
    iterator = iter(result)
    assert iterator is not result
    assert next(iterator) == ROWS[0]
    assert result.fetchone() == ROWS[1]  # iteration and fetchone share the position
    assert list(iterator) == ROWS[2:]
    run.assert_released()
    assert list(result) == []


def test_next(run: Runner) -> None:
    result = run("SELECT id FROM t WHERE id <= 2 ORDER BY id")
    assert next(result) == (1,)
    assert next(result) == (2,)
    with pytest.raises(StopIteration):
        next(result)
    run.assert_released()
    with pytest.raises(StopIteration):
        next(result)


def test_fetch_inside_a_loop_ends_the_loop(run: Runner) -> None:
    result = run()
    seen = [(row, result.fetchall()) for row in result]
    assert seen == [(ROWS[0], ROWS[1:])]
    run.assert_released()


def test_close_inside_a_loop_raises(run: Runner) -> None:
    result = run()
    with pytest.raises(ResourceClosedError, match=CLOSED):
        for _ in result:
            result.close()
    run.assert_released()


@pytest.mark.parametrize("factory", [PythonIterCursor, NoIterCursor])
def test_cursors_without_c_iteration(run: Runner, factory: type[TrackingCursor]) -> None:
    assert run(factory=factory).all() == ROWS
    run.assert_released()
    result = run(factory=factory)
    rows = []
    for row in result:
        rows.append(row)
        rows.append(result.fetchone())
    assert rows == ROWS
    run.assert_released()
    assert run(factory=factory).scalars(1).all() == ["a", "b", "c", "a"]


# --- methods that close --------------------------------------------------------------


def test_first_closes(run: Runner) -> None:
    result = run()
    assert result.first() == ROWS[0]
    assert result.closed
    run.assert_released()
    with pytest.raises(ResourceClosedError, match=CLOSED):
        result.fetchone()


def test_first_on_empty_result(run: Runner) -> None:
    result = run("SELECT * FROM t WHERE id > 100")
    assert result.first() is None
    assert result.closed
    run.assert_released()


def test_first_on_exhausted_result_leaves_closed_unchanged(run: Runner) -> None:
    result = run()
    result.all()
    assert result.first() is None
    assert result.closed is False
    assert result.scalar() is None
    assert result.closed is False
    assert result.one_or_none() is None
    assert result.closed is False


def test_one(run: Runner) -> None:
    result = run("SELECT id, name FROM t WHERE id = 2")
    assert result.one() == (2, "b")
    assert result.closed
    run.assert_released()


def test_one_no_row(run: Runner) -> None:
    result = run("SELECT id FROM t WHERE id > 100")
    with pytest.raises(NoResultFound) as info:
        result.one()
    assert str(info.value) == "No row was found when one was required"
    assert result.closed
    run.assert_released()


def test_one_many_rows(run: Runner) -> None:
    result = run()
    with pytest.raises(MultipleResultsFound) as info:
        result.one()
    assert str(info.value) == "Multiple rows were found when exactly one was required"
    assert result.closed
    run.assert_released()


def test_one_or_none(run: Runner) -> None:
    assert run("SELECT id FROM t WHERE id = 3").one_or_none() == (3,)
    empty = run("SELECT id FROM t WHERE id > 100")
    assert empty.one_or_none() is None
    assert empty.closed
    many = run()
    with pytest.raises(MultipleResultsFound) as info:
        many.one_or_none()
    assert str(info.value) == "Multiple rows were found when one or none was required"
    assert many.closed
    run.assert_released()


def test_scalar(run: Runner) -> None:
    result = run("SELECT name, id FROM t ORDER BY id")
    assert result.scalar() == "a"
    assert result.closed
    run.assert_released()
    empty = run("SELECT id FROM t WHERE id > 100")
    assert empty.scalar() is None
    assert empty.closed


def test_scalar_one(run: Runner) -> None:
    assert run("SELECT name FROM t WHERE id = 2").scalar_one() == "b"
    with pytest.raises(NoResultFound, match="No row was found when one was required"):
        run("SELECT id FROM t WHERE id > 100").scalar_one()
    with pytest.raises(MultipleResultsFound, match="exactly one was required"):
        run().scalar_one()
    result = run("SELECT name FROM t WHERE id = 2")
    result.scalar_one()
    assert result.closed
    run.assert_released()


def test_scalar_one_or_none(run: Runner) -> None:
    assert run("SELECT name FROM t WHERE id = 2").scalar_one_or_none() == "b"
    assert run("SELECT id FROM t WHERE id > 100").scalar_one_or_none() is None
    with pytest.raises(MultipleResultsFound, match="one or none was required"):
        run().scalar_one_or_none()


def test_scalar_may_be_null(run: Runner) -> None:
    result = run("SELECT NULL AS n UNION ALL SELECT 1")
    assert result.scalars().all() == [None, 1]
    assert run("SELECT NULL AS n").scalar_one() is None
    scalars = run("SELECT NULL AS n").scalars()
    assert next(scalars) is None
    with pytest.raises(StopIteration):
        next(scalars)


# --- close() -------------------------------------------------------------------------

FETCHES: list[Callable[[Result[Any]], Any]] = [
    lambda r: r.fetchone(),
    lambda r: r.fetchmany(2),
    lambda r: r.fetchall(),
    lambda r: r.all(),
    lambda r: r.first(),
    lambda r: r.one(),
    lambda r: r.one_or_none(),
    lambda r: r.scalar(),
    lambda r: r.scalar_one(),
    lambda r: r.scalar_one_or_none(),
    lambda r: list(r),
    lambda r: next(r),
    lambda r: list(r.partitions()),
    lambda r: r.scalars().all(),
    lambda r: r.mappings().all(),
    lambda r: r.mappings().fetchone(),
    lambda r: r.scalars().first(),
]


@pytest.mark.parametrize("fetch", FETCHES)
def test_fetch_after_close_raises(run: Runner, fetch: Callable[[Result[Any]], Any]) -> None:
    result = run()
    result.fetchone()
    result.close()
    run.assert_released()
    with pytest.raises(ResourceClosedError) as info:
        fetch(result)
    assert str(info.value) == CLOSED


def test_close(run: Runner) -> None:
    result = run()
    assert result.closed is False
    result.close()
    assert result.closed is True
    run.assert_released()
    result.close()
    run.assert_released()  # still exactly once
    assert result.keys() == ["id", "name", "count"]  # keys survive closing


def test_close_after_exhaustion_does_not_release_twice(run: Runner) -> None:
    result = run()
    result.all()
    result.close()
    run.assert_released()


class FailingCloseCursor(TrackingCursor):
    def close(self) -> None:
        super().close()
        raise sqlite3.OperationalError("close failed")


def test_cursor_close_error_is_logged_and_on_close_still_runs(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    result = run(factory=FailingCloseCursor)
    assert result.all() == ROWS  # the rows were read: the close error is not raised
    run.assert_released()
    assert "Error closing cursor" in caplog.text


def test_context_manager(run: Runner) -> None:
    with run() as result:
        assert result.fetchone() == ROWS[0]
    assert result.closed
    run.assert_released()


# --- statements without rows ---------------------------------------------------------


def test_dml_result(run: Runner) -> None:
    result = run("UPDATE t SET count = count + 1 WHERE id <= 2")
    run.assert_released()  # released at construction
    assert result.rowcount == 2
    assert result.returns_rows is False
    assert result.closed is False
    assert result.is_insert is False
    with pytest.raises(ResourceClosedError) as info:
        result.keys()
    assert str(info.value) == NO_ROWS
    with pytest.raises(InvalidRequestError) as info2:
        result.inserted_primary_key  # noqa: B018
    assert str(info2.value) == "Statement is not an insert() expression construct."
    result.close()
    assert result.closed is True
    run.assert_released()
    with pytest.raises(ResourceClosedError, match=NO_ROWS):
        result.fetchone()


@pytest.mark.parametrize("fetch", FETCHES)
def test_dml_fetch_raises(run: Runner, fetch: Callable[[Result[Any]], Any]) -> None:
    result = run("DELETE FROM t WHERE id = 4")
    with pytest.raises(ResourceClosedError) as info:
        fetch(result)
    assert str(info.value) == NO_ROWS


def test_dml_columns_and_yield_per_raise_or_pass(run: Runner) -> None:
    result = run("DELETE FROM t WHERE id = 4")
    with pytest.raises(ResourceClosedError, match=NO_ROWS):
        result.columns("id")
    assert result.yield_per(10) is result
    with pytest.raises(ResourceClosedError, match=NO_ROWS):
        result.fetchmany()


def test_insert_result(run: Runner) -> None:
    result = run(
        "INSERT INTO t (id, name, count) VALUES (9, 'z', 90)",
        is_insert=True,
        inserted_primary_key=(9,),
    )
    assert result.is_insert is True
    assert result.inserted_primary_key == (9,)
    assert result.lastrowid == 9
    assert result.rowcount == 1
    assert result.returns_rows is False
    run.assert_released()


def test_select_result_properties(run: Runner) -> None:
    result = run()
    assert result.returns_rows is True
    assert result.rowcount == -1
    assert result.lastrowid is None
    with pytest.raises(InvalidRequestError, match="not an insert"):
        result.inserted_primary_key  # noqa: B018


# --- processors ----------------------------------------------------------------------


def test_processors_applied(run: Runner) -> None:
    calls: list[Any] = []

    def upper(value: Any) -> Any:
        calls.append(value)
        return None if value is None else value.upper()

    result = run(processors=[None, upper, None])
    assert result.fetchone() == (1, "A", 10)
    assert result.fetchmany(1) == [(2, "B", 20)]
    assert [row.name for row in result] == ["C", "A"]
    assert calls == ["a", "b", "c", "a"]
    assert run(processors=[None, upper, None]).all()[1].name == "B"
    assert run(processors=[None, upper]).scalars(1).all() == ["A", "B", "C", "A"]
    assert run(processors=[None, upper]).scalar() == 1
    assert run(processors=[None, upper]).columns("name").scalar() == "A"
    mapping = run(processors=[str, upper, lambda v: v * 2]).mappings().first()
    assert mapping == {"id": "1", "name": "A", "count": 20}
    assert upper(None) is None


def test_processors_on_every_column(run: Runner) -> None:
    rows = run(processors=[str, str, str]).all()
    assert rows[0] == ("1", "a", "10")


def test_all_none_processors_mean_none(run: Runner) -> None:
    result = run(processors=[None, None, None])
    assert result._metadata is not None
    assert result._metadata.make_row is result._metadata.row_class


# --- scalars() -----------------------------------------------------------------------


def test_scalars(run: Runner) -> None:
    scalars = run().scalars()
    assert isinstance(scalars, ScalarResult)
    assert not hasattr(scalars, "fetchone")
    assert scalars.all() == [1, 2, 3, 4]
    run.assert_released()
    assert run().scalars(1).all() == ["a", "b", "c", "a"]
    assert run().scalars("count").all() == [10, 20, 30, 40]
    assert run().scalars(-1).first() == 10
    assert run().scalars().fetchall() == [1, 2, 3, 4]


def test_scalars_bad_column(run: Runner) -> None:
    with pytest.raises(NoSuchColumnError, match="column 'nope'; the row has columns: id"):
        run().scalars("nope")
    with pytest.raises(IndexError):
        run().scalars(3)


def test_scalars_fetching(run: Runner) -> None:
    result = run()
    scalars = result.scalars(1)
    assert next(scalars) == "a"
    assert scalars.fetchmany(2) == ["b", "c"]
    assert list(scalars) == ["a"]
    assert scalars.closed is False
    run.assert_released()
    with pytest.raises(MultipleResultsFound):
        run().scalars().one()
    assert run("SELECT id FROM t WHERE id = 2").scalars().one() == 2
    assert run("SELECT id FROM t WHERE id > 9").scalars().one_or_none() is None


def test_scalars_first_closes_the_result(run: Runner) -> None:
    result = run()
    scalars = result.scalars()
    assert scalars.first() == 1
    assert result.closed and scalars.closed
    run.assert_released()


def test_scalars_close(run: Runner) -> None:
    result = run()
    scalars = result.scalars()
    scalars.close()
    assert result.closed
    run.assert_released()
    with pytest.raises(ResourceClosedError, match=CLOSED):
        scalars.all()


def test_scalars_partitions_and_yield_per(run: Runner) -> None:
    scalars = run().scalars()
    assert scalars.yield_per(3) is scalars
    assert list(scalars.partitions()) == [[1, 2, 3], [4]]
    assert list(run().scalars().partitions(2)) == [[1, 2], [3, 4]]


# --- mappings() ----------------------------------------------------------------------


def test_mappings(run: Runner) -> None:
    result = run()
    mappings = result.mappings()
    assert isinstance(mappings, MappingResult)
    assert mappings.keys() == ["id", "name", "count"]
    first = mappings.fetchone()
    assert isinstance(first, RowMapping)
    assert first == {"id": 1, "name": "a", "count": 10}
    assert mappings.fetchmany(1) == [{"id": 2, "name": "b", "count": 20}]
    assert [m["name"] for m in mappings] == ["c", "a"]
    run.assert_released()
    assert mappings.fetchone() is None
    assert run().mappings().all()[3] == {"id": 4, "name": "a", "count": 40}
    assert run().mappings().first() == {"id": 1, "name": "a", "count": 10}
    assert run("SELECT id FROM t WHERE id = 2").mappings().one() == {"id": 2}
    assert next(run().mappings()) == {"id": 1, "name": "a", "count": 10}


def test_mappings_columns(run: Runner) -> None:
    mappings = run().mappings()
    assert mappings.columns("count", "id") is mappings
    assert mappings.keys() == ["count", "id"]
    assert mappings.first() == {"count": 10, "id": 1}


def test_mappings_close(run: Runner) -> None:
    result = run()
    mappings = result.mappings()
    mappings.close()
    assert mappings.closed and result.closed
    run.assert_released()


# --- columns() -----------------------------------------------------------------------


def test_columns(run: Runner) -> None:
    result = run()
    assert result.columns("count", 0) is result
    assert result.keys() == ["count", "id"]
    row = result.fetchone()
    assert row == (10, 1)
    assert row is not None and row.count == 10 and row.id == 1
    assert row._mapping == {"count": 10, "id": 1}
    assert result.fetchmany(1) == [(20, 2)]
    assert result.all() == [(30, 3), (40, 4)]


def test_columns_single_and_none(run: Runner) -> None:
    assert run().columns("name").all() == [("a",), ("b",), ("c",), ("a",)]
    assert run().columns().first() == ()


def test_columns_twice_and_then_scalars(run: Runner) -> None:
    result = run().columns("name", "count").columns(1)
    assert result.keys() == ["count"]
    assert result.scalars().all() == [10, 20, 30, 40]


def test_columns_bad_key(run: Runner) -> None:
    with pytest.raises(NoSuchColumnError, match="column 'nope'"):
        run().columns("nope")
    with pytest.raises(IndexError):
        run().columns(7)


def test_columns_by_extra_key(run: Runner) -> None:
    marker = object()
    result = run(extra_keys=[(), (), (marker,)])
    assert result.columns(marker).scalar() == 10


def test_columns_cached_per_metadata(run: Runner) -> None:
    one = run().columns("name", "id").fetchone()
    two = run().columns("name", "id").fetchone()
    assert type(one) is type(two)


# --- unique() ------------------------------------------------------------------------


def test_unique_rows(run: Runner) -> None:
    result = run("SELECT name FROM t ORDER BY id")
    assert result.unique() is result
    assert result.all() == [("a",), ("b",), ("c",)]


def test_unique_strategy(run: Runner) -> None:
    result = run("SELECT name, count FROM t ORDER BY id").unique(lambda row: row.name)
    assert result.all() == [("a", 10), ("b", 20), ("c", 30)]


def test_unique_fetchone_fetchmany_iteration(run: Runner) -> None:
    sql = "SELECT name FROM t ORDER BY name"  # a, a, b, c
    assert run(sql).unique().fetchmany(2) == [("a",), ("b",)]
    result = run(sql).unique()
    assert result.fetchone() == ("a",)
    assert result.fetchone() == ("b",)
    assert list(result) == [("c",)]
    assert list(run(sql).unique()) == [("a",), ("b",), ("c",)]
    assert list(run(sql).unique().partitions(2)) == [[("a",), ("b",)], [("c",)]]


def test_unique_fetchmany_default_size(run: Runner) -> None:
    result = run("SELECT name FROM t ORDER BY name").unique()  # a, a, b, c
    assert result.fetchmany() == [("a",)]
    assert result.fetchmany() == [("b",)]  # skipped the second "a" and fetched again


def test_unique_one(run: Runner) -> None:
    assert run("SELECT name FROM t WHERE name = 'a'").unique().one() == ("a",)
    with pytest.raises(MultipleResultsFound):
        run("SELECT name FROM t").unique().one()


def test_unique_scalars(run: Runner) -> None:
    assert run().scalars(1).unique().all() == ["a", "b", "c"]
    # the strategy is given the scalar value
    assert run().scalars(2).unique(lambda v: v // 20).all() == [10, 20, 40]
    assert run().unique().scalars(1).all() == ["a", "b", "c"]  # carried over


def test_unique_mappings(run: Runner) -> None:
    sql = "SELECT name FROM t ORDER BY id"
    assert run(sql).mappings().unique().all() == [{"name": "a"}, {"name": "b"}, {"name": "c"}]
    by_name = run().mappings().unique(lambda m: m["name"]).all()
    assert [m["id"] for m in by_name] == [1, 2, 3]
    carried = run().unique(lambda row: row.name).mappings().all()
    assert [m["id"] for m in carried] == [1, 2, 3]
    plain = run("SELECT name FROM t ORDER BY id").unique().mappings().all()
    assert plain == [{"name": "a"}, {"name": "b"}, {"name": "c"}]


# --- partitions() and yield_per() ----------------------------------------------------


def test_partitions(run: Runner) -> None:
    assert list(run().partitions(3)) == [ROWS[:3], ROWS[3:]]
    run.assert_released()
    assert list(run().partitions()) == [[row] for row in ROWS]  # arraysize is 1


def test_yield_per(run: Runner) -> None:
    result = run()
    assert result.yield_per(3) is result
    assert list(result.partitions()) == [ROWS[:3], ROWS[3:]]
    run.assert_released()
    assert run.cursor is not None
    assert run.cursor.fetchmany_sizes == [3, 3]


def test_yield_per_fetches(run: Runner) -> None:
    result = run().yield_per(2)
    assert result.fetchone() == ROWS[0]
    assert result.fetchmany() == ROWS[1:3]
    run.assert_open()
    assert result.fetchall() == ROWS[3:]
    run.assert_released()
    assert result.fetchone() is None


def test_yield_per_iteration_reads_in_batches(run: Runner) -> None:
    result = run().yield_per(2)
    # iteration and fetchone() share the buffer
    seen = [(row, result.fetchone()) for row in result]
    assert seen == [(ROWS[0], ROWS[1]), (ROWS[2], ROWS[3])]
    assert run.cursor is not None
    assert run.cursor.fetchmany_sizes == [2, 2, 2]
    run.assert_released()


def test_yield_per_all_and_close(run: Runner) -> None:
    assert run().yield_per(3).all() == ROWS
    run.assert_released()
    result = run().yield_per(2)
    result.fetchone()
    result.close()
    run.assert_released()
    with pytest.raises(ResourceClosedError, match=CLOSED):
        result.fetchone()
    result = run().yield_per(2)
    with pytest.raises(ResourceClosedError, match=CLOSED):
        for _ in result:
            result.close()


def test_yield_per_first(run: Runner) -> None:
    result = run().yield_per(2)
    assert result.first() == ROWS[0]
    assert result.closed
    run.assert_released()


# --- buffer= (rows the engine already fetched) ----------------------------------------


def prefetched(run: Runner, count: int) -> CursorResult[Any]:
    cursor = run.con.cursor(factory=TrackingCursor)
    cursor.execute("SELECT id, name, count FROM t ORDER BY id")
    run.cursor = cursor
    run.closer = Closer()
    buffer = cursor.fetchmany(count)
    metadata = ResultMetaData.for_keys([d[0] for d in cursor.description])
    return CursorResult(cursor, metadata, buffer=buffer, on_close=run.closer)


def test_buffer_then_cursor(run: Runner) -> None:
    result = prefetched(run, 2)
    assert result.fetchone() == ROWS[0]
    assert result.fetchmany(2) == ROWS[1:3]
    assert result.fetchone() == ROWS[3]
    assert result.fetchone() is None
    run.assert_released()
    assert prefetched(run, 2).all() == ROWS
    run.assert_released()
    assert list(prefetched(run, 1)) == ROWS
    run.assert_released()
    assert prefetched(run, 4).all() == ROWS
    run.assert_released()


def test_buffer_fetchmany_edges(run: Runner) -> None:
    result = prefetched(run, 3)
    assert result.fetchmany(0) == []
    assert result.fetchmany() == ROWS[:1]  # the cursor's arraysize
    assert result.fetchmany(5) == ROWS[1:]
    run.assert_released()


def test_buffer_close(run: Runner) -> None:
    result = prefetched(run, 4)
    assert result.first() == ROWS[0]
    run.assert_released()
    with pytest.raises(ResourceClosedError, match=CLOSED):
        result.fetchone()


# --- freeze(), merge(), tuples() -----------------------------------------------------


def test_freeze(run: Runner) -> None:
    result = run()
    result.fetchone()
    frozen = result.freeze()
    assert isinstance(frozen, FrozenResult)
    assert result.closed is False
    assert result.fetchone() is None
    run.assert_released()
    first = frozen()
    assert isinstance(first, Result)
    assert first.all() == ROWS[1:]
    again = frozen()
    assert again.keys() == ["id", "name", "count"]
    assert [row.name for row in again] == ["b", "c", "a"]
    assert frozen().scalars(1).all() == ["b", "c", "a"]
    assert frozen.rewrite_rows() == [list(row) for row in ROWS[1:]]
    replaced = frozen.with_new_rows([(7, "x", 70)])
    assert replaced().one().name == "x"
    assert frozen().columns("count").all() == [(20,), (30,), (40,)]


def test_freeze_does_not_reapply_processors(run: Runner) -> None:
    frozen = run(processors=[None, lambda v: v + "!", None]).freeze()
    assert frozen().scalars(1).all() == ["a!", "b!", "c!", "a!"]
    assert frozen().scalars(1).all() == ["a!", "b!", "c!", "a!"]


def test_freeze_pickles(run: Runner) -> None:
    frozen = pickle.loads(pickle.dumps(run().freeze()))
    assert frozen().all() == ROWS
    assert frozen().first().name == "a"


def test_freeze_after_columns(run: Runner) -> None:
    frozen = run().columns("name").freeze()
    assert frozen().all() == [("a",), ("b",), ("c",), ("a",)]
    assert frozen().keys() == ["name"]


def test_merge(run: Runner) -> None:
    first = run("SELECT id, name FROM t WHERE id <= 2 ORDER BY id")
    second = run("SELECT id, name FROM t WHERE id > 2 ORDER BY id")
    merged = first.merge(second)
    assert isinstance(merged, MergedResult)
    assert merged.keys() == ["id", "name"]
    assert [row.name for row in merged] == ["a", "b", "c", "a"]
    run.assert_released()


def test_merge_close_closes_all(run: Runner) -> None:
    first = run()
    second = run()
    merged = first.merge(second)
    merged.close()
    assert merged.closed and first.closed and second.closed


def test_tuples(run: Runner) -> None:
    result = run()
    assert result.tuples() is result
    assert result.t is result


# --- IteratorResult / ChunkedIteratorResult ------------------------------------------


def test_iterator_result() -> None:
    md = ResultMetaData(["a", "b"])
    result = IteratorResult(md, iter([(1, 2), (3, 4), (5, 6)]))
    assert result.returns_rows
    assert result.fetchone() == (1, 2)
    assert result.fetchmany() == [(3, 4), (5, 6)]  # no driver default: the rest
    assert result.fetchone() is None
    assert result.closed is False
    result.close()
    with pytest.raises(ResourceClosedError, match=CLOSED):
        result.fetchone()
    result = IteratorResult(md, iter([(1, 2), (3, 4)]))
    assert result.mappings().all() == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    result = IteratorResult(md, iter([(1, 2), (3, 4)]))
    assert [row.b for row in result] == [2, 4]
    assert IteratorResult(md, iter([(1, 2), (3, 4)])).scalars(1).all() == [2, 4]
    assert list(IteratorResult(md, iter([(1, 2), (3, 4)])).partitions()) == [[(1, 2), (3, 4)]]
    assert IteratorResult(md, iter([])).first() is None


def test_iterator_result_states() -> None:
    md = ResultMetaData(["a"])
    result = IteratorResult(md, iter([(1,), (2,), (3,)])).yield_per(2)
    assert result.fetchmany() == [(1,), (2,)]
    assert result.fetchmany() == [(3,)]
    assert result.fetchall() == [] and result.all() == [] and list(result) == []
    result.close()
    for fetch in (result.fetchall, result.all, result.fetchmany, lambda: list(result)):
        with pytest.raises(ResourceClosedError, match=CLOSED):
            fetch()
    result = IteratorResult(md, iter([(1,), (2,)]))
    with pytest.raises(ResourceClosedError, match=CLOSED):
        for _ in result:
            result.close()


def test_iterator_result_closes_raw(run: Runner) -> None:
    raw = run()
    result = IteratorResult(ResultMetaData(["a"]), iter([(1,)]), raw=raw)
    result.close()
    assert raw.closed
    run.assert_released()


def test_chunked_iterator_result() -> None:
    data = [(i, i * 10) for i in range(5)]
    sizes: list[int | None] = []

    def chunks(size: int | None) -> Iterator[list[tuple[int, int]]]:
        sizes.append(size)
        step = size or 2
        for start in range(0, len(data), step):
            yield data[start : start + step]

    md = ResultMetaData(["a", "b"])
    assert ChunkedIteratorResult(md, chunks).all() == data
    result = ChunkedIteratorResult(md, chunks).yield_per(3)
    assert list(result.partitions()) == [data[:3], data[3:]]
    assert sizes[-1] == 3
    dynamic = ChunkedIteratorResult(md, chunks, dynamic_yield_per=True)
    assert dynamic.fetchmany(4) == data[:4]
    assert sizes[-1] == 4


def test_result_is_generic_at_runtime() -> None:
    assert Result[tuple[int, str]] is not None
    assert Row[tuple[int]] is not None
    assert ScalarResult[int] is not None
    assert CursorResult[tuple[int]] is not None
