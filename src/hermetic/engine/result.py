"""Statement results: :class:`Result`, its scalar and mapping views, :class:`CursorResult`.

The API and closing rules are SQLAlchemy 2.0's. The speed comes from
:class:`~hermetic.engine.row.ResultMetaData`, built once per statement: it makes the row
class and a row-building plan up front, so that turning driver tuples into rows is a
single C call per row when no column needs a processor.
"""

from __future__ import annotations

import itertools
import logging
import operator
import types
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, Literal, TypeVar, cast, overload

from typing_extensions import Self

from hermetic._util import gcpause
from hermetic.engine.row import ResultMetaData, RMKeyView, Row, RowMapping
from hermetic.exc import (
    InvalidRequestError,
    MultipleResultsFound,
    NoResultFound,
    ResourceClosedError,
)

__all__ = [
    "ResultMetaData",
    "SimpleResultMetaData",
    "Result",
    "ScalarResult",
    "MappingResult",
    "CursorResult",
    "IteratorResult",
    "ChunkedIteratorResult",
    "MergedResult",
    "FrozenResult",
    "Row",
    "RowMapping",
    "RMKeyView",
]

_log = logging.getLogger(__name__)

_T = TypeVar("_T")
_R = TypeVar("_R")
_TP = TypeVar("_TP", bound="tuple[Any, ...]")

_RawRow = tuple[Any, ...]

_CLOSED = "This result object is closed."
_NO_ROWS = "This result object does not return rows. It has been closed automatically."
_MULTIPLE_ONE = "Multiple rows were found when exactly one was required"
_MULTIPLE_ONE_OR_NONE = "Multiple rows were found when one or none was required"
_NO_ROW_FOUND = "No row was found when one was required"

_NO_ROW: Any = object()  # "no more rows"; a scalar may itself be None
_EMPTY_ITER: Iterator[Any] = iter(())
_row_of = operator.attrgetter("_row")

SimpleResultMetaData = ResultMetaData


def _raise_no_rows(_: object) -> Any:
    raise ResourceClosedError(_NO_ROWS)


# ---------------------------------------------------------------------------------------
# Shared fetch logic


class _ResultCore(Generic[_R]):
    """Fetching, uniquing and closing shared by Result and its filtered views.

    Subclasses supply the driver-row hooks and ``_one`` / ``_many``, which turn driver
    rows into the values this object returns (rows, scalars or mappings).
    """

    _one: Callable[[_RawRow], _R]
    _many: Callable[[Iterable[_RawRow]], list[_R]]
    # unique(): keys already returned, and the key function (None: the value itself)
    _seen: set[Any] | None = None
    _ukey: Callable[[Any], Any] | None = None

    # -- hooks ----------------------------------------------------------------------

    def _fetchone_impl(self) -> _RawRow | None:
        raise NotImplementedError()

    def _fetchmany_impl(self, size: int | None) -> list[_RawRow]:
        raise NotImplementedError()

    def _fetchall_impl(self) -> list[_RawRow]:
        raise NotImplementedError()

    def _soft_close(self, hard: bool = False) -> None:
        raise NotImplementedError()

    def _is_soft_closed(self) -> bool:
        raise NotImplementedError()

    def _consume_all(self, convert: Callable[[Iterable[_RawRow]], list[_T]]) -> list[_T]:
        """Convert every remaining driver row; a source may stream them to ``convert``."""
        return convert(self._fetchall_impl())

    def _raw_iter(self) -> Iterator[_RawRow]:
        """Iterate the remaining driver rows, sharing position with fetchone()."""
        return _fetchone_iter(self._fetchone_impl)

    # -- internals ------------------------------------------------------------------

    def _next_value(self) -> Any:
        raw = self._fetchone_impl()
        if raw is None:
            return _NO_ROW
        value = self._one(raw)
        seen = self._seen
        if seen is None:
            return value
        key = self._ukey
        while True:
            marker = value if key is None else key(value)
            if marker not in seen:
                seen.add(marker)
                return value
            raw = self._fetchone_impl()
            if raw is None:
                return _NO_ROW
            value = self._one(raw)

    def _dedupe(self, values: Iterable[_R]) -> list[_R]:
        seen = cast("set[Any]", self._seen)
        key = self._ukey
        add = seen.add
        out: list[_R] = []
        append = out.append
        if key is None:
            for value in values:
                if value not in seen:
                    add(value)
                    append(value)
        else:
            for value in values:
                marker = key(value)
                if marker not in seen:
                    add(marker)
                    append(value)
        return out

    def _unique_iter(self, values: Iterator[_R]) -> Iterator[_R]:
        seen = cast("set[Any]", self._seen)
        key = self._ukey
        for value in values:
            marker = value if key is None else key(value)
            if marker not in seen:
                seen.add(marker)
                yield value

    def _fetchmany_values(self, size: int | None) -> list[_R]:
        if self._seen is None:
            return self._many(self._fetchmany_impl(size))
        out: list[_R] = []
        want = size
        while True:
            raws = self._fetchmany_impl(want)
            if not raws:
                return out
            out.extend(self._dedupe(self._many(raws)))
            if size is None:
                if out:
                    return out
            elif len(out) >= size:
                return out
            else:
                want = size - len(out)

    def _only_one(self, raise_for_second: bool, raise_for_none: bool) -> Any:
        # SQLAlchemy's rule: these calls close the result, except that on a result
        # already exhausted (soft-closed) finding no row leaves ``closed`` as it was.
        was_soft_closed = self._is_soft_closed()
        value = self._next_value()
        if value is _NO_ROW:
            if not was_soft_closed:
                self._soft_close(hard=True)
            if raise_for_none:
                raise NoResultFound(_NO_ROW_FOUND)
            return None
        if raise_for_second:
            another = self._next_value() is not _NO_ROW
            self._soft_close(hard=True)
            if another:
                raise MultipleResultsFound(
                    _MULTIPLE_ONE if raise_for_none else _MULTIPLE_ONE_OR_NONE
                )
        else:
            self._soft_close(hard=True)
        return value

    # -- public API -----------------------------------------------------------------

    def __iter__(self) -> Iterator[_R]:
        values = map(self._one, self._raw_iter())
        if self._seen is None:
            return values
        return self._unique_iter(values)

    def __next__(self) -> _R:
        value = self._next_value()
        if value is _NO_ROW:
            raise StopIteration()
        return cast(_R, value)

    def all(self) -> Sequence[_R]:
        """Every remaining row; the result is then exhausted (not closed)."""
        values = self._consume_all(self._many)
        return values if self._seen is None else self._dedupe(values)

    def fetchall(self) -> Sequence[_R]:
        """Same as :meth:`all`."""
        values = self._consume_all(self._many)
        return values if self._seen is None else self._dedupe(values)

    def fetchmany(self, size: int | None = None) -> Sequence[_R]:
        """Up to ``size`` rows (default: the yield_per size, else the driver's)."""
        return self._fetchmany_values(size)

    def first(self) -> _R | None:
        """The first row or None; closes the result."""
        return cast("_R | None", self._only_one(False, False))

    def one(self) -> _R:
        """Exactly one row, else NoResultFound / MultipleResultsFound; closes."""
        return cast(_R, self._only_one(True, True))

    def one_or_none(self) -> _R | None:
        """One row or None; MultipleResultsFound if more; closes."""
        return cast("_R | None", self._only_one(True, False))

    def partitions(self, size: int | None = None) -> Iterator[Sequence[_R]]:
        """Iterate lists of up to ``size`` rows (default as :meth:`fetchmany`)."""
        while True:
            partition = self._fetchmany_values(size)
            if not partition:
                return
            yield partition

    def unique(self, strategy: Callable[[Any], Any] | None = None) -> Self:
        """Skip values equal to (or, with ``strategy``, keyed like) one already returned."""
        self._seen = set()
        self._ukey = strategy
        return self

    def close(self) -> None:
        """Release the cursor; later fetches raise ResourceClosedError."""
        self._soft_close(hard=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _fetchone_iter(fetchone: Callable[[], _RawRow | None]) -> Iterator[_RawRow]:
    while True:
        raw = fetchone()
        if raw is None:
            return
        yield raw


# ---------------------------------------------------------------------------------------
# Result


class Result(_ResultCore[Row[_TP]]):
    """Rows of one statement execution.

    Fetching past the last row releases the source ("soft close"): later fetches
    return None / []. :meth:`close`, :meth:`first`, :meth:`one`, :meth:`scalar` and
    friends close the result: later fetches raise ResourceClosedError.
    """

    _metadata: ResultMetaData | None
    _soft_closed: bool = False
    _hard_closed: bool = False
    _yield_per: int | None = None

    def __init__(self, cursor_metadata: ResultMetaData | None) -> None:
        self._metadata = cursor_metadata
        if cursor_metadata is None:
            self._one = self._many = _raise_no_rows
        else:
            self._one = cursor_metadata.make_row
            self._many = cursor_metadata.make_rows

    # -- state ----------------------------------------------------------------------

    def _no_more(self, default: _T) -> _T:
        """What a fetch returns once the source is released: ``default``, or raise."""
        if self._metadata is None:
            raise ResourceClosedError(_NO_ROWS)
        if self._hard_closed:
            raise ResourceClosedError(_CLOSED)
        return default

    def _md(self) -> ResultMetaData:
        metadata = self._metadata
        if metadata is None:
            raise ResourceClosedError(_NO_ROWS)
        return metadata

    def _soft_close(self, hard: bool = False) -> None:
        if hard:
            self._hard_closed = True
        self._soft_closed = True

    def _is_soft_closed(self) -> bool:
        return self._soft_closed

    @property
    def closed(self) -> bool:
        """True once :meth:`close` (or first/one/scalar...) closed the result."""
        return self._hard_closed

    @property
    def returns_rows(self) -> bool:
        """False for statements without a result set (e.g. plain INSERT/UPDATE)."""
        return self._metadata is not None

    # -- API ------------------------------------------------------------------------

    def keys(self) -> RMKeyView:
        """The column names, as a view comparable with lists."""
        metadata = self._md()
        return RMKeyView(metadata.keys, metadata._key_to_index)

    def fetchone(self) -> Row[_TP] | None:
        """The next row, or None when there are no more."""
        if self._seen is None:
            raw = self._fetchone_impl()
            return None if raw is None else self._one(raw)
        value = self._next_value()
        return None if value is _NO_ROW else cast("Row[_TP]", value)

    # The shared logic without unique() handling: first()/one() run once per typical
    # execute(), so the Python calls saved here show.
    def _only_one(self, raise_for_second: bool, raise_for_none: bool) -> Any:
        if self._seen is not None:
            return super()._only_one(raise_for_second, raise_for_none)
        was_soft_closed = self._soft_closed
        raw = self._fetchone_impl()
        if raw is None:
            if not was_soft_closed:
                self._soft_close(True)
            if raise_for_none:
                raise NoResultFound(_NO_ROW_FOUND)
            return None
        if raise_for_second:
            another = self._fetchone_impl() is not None
            self._soft_close(True)
            if another:
                raise MultipleResultsFound(
                    _MULTIPLE_ONE if raise_for_none else _MULTIPLE_ONE_OR_NONE
                )
        else:
            self._soft_close(True)
        return self._one(raw)

    def yield_per(self, num: int) -> Self:
        """Fetch ``num`` rows at a time from the source; the default fetchmany size."""
        self._yield_per = num
        return self

    def columns(self, *col_expressions: Any) -> Self:
        """Keep only these columns (names, positions or extra keys), in this order."""
        metadata = self._md()
        reduced = metadata._reduce(tuple(metadata._index_for(key) for key in col_expressions))
        self._metadata = reduced
        self._one = reduced.make_row
        self._many = reduced.make_rows
        return self

    @overload
    def scalars(self: Result[tuple[_T]], index: Literal[0]) -> ScalarResult[_T]: ...

    @overload
    def scalars(self: Result[tuple[_T]]) -> ScalarResult[_T]: ...

    @overload
    def scalars(self, index: Any = 0) -> ScalarResult[Any]: ...

    def scalars(self, index: Any = 0) -> ScalarResult[Any]:
        """A view returning the value of one column (default the first) per row."""
        return ScalarResult(self, self._md()._index_for(index))

    def mappings(self) -> MappingResult:
        """A view returning a RowMapping per row."""
        return MappingResult(self)

    @overload
    def scalar(self: Result[tuple[_T]]) -> _T | None: ...

    @overload
    def scalar(self) -> Any: ...

    def scalar(self) -> Any:
        """The first column of the first row, or None; closes the result."""
        was_soft_closed = self._soft_closed
        raw = self._fetchone_impl()
        if raw is None:
            if not was_soft_closed:
                self._soft_close(True)
            return None
        self._soft_close(True)
        return self._md()._scalar_getters(0)[0](raw)

    @overload
    def scalar_one(self: Result[tuple[_T]]) -> _T: ...

    @overload
    def scalar_one(self) -> Any: ...

    def scalar_one(self) -> Any:
        """The only row's first column; NoResultFound / MultipleResultsFound; closes."""
        return self.scalars().one()

    @overload
    def scalar_one_or_none(self: Result[tuple[_T]]) -> _T | None: ...

    @overload
    def scalar_one_or_none(self) -> Any: ...

    def scalar_one_or_none(self) -> Any:
        """The only row's first column or None; MultipleResultsFound; closes."""
        return self.scalars().one_or_none()

    def tuples(self) -> Result[_TP]:
        """This result, typed as returning tuples."""
        return self

    @property
    def t(self) -> Result[_TP]:
        """This result, typed as returning tuples."""
        return self

    def freeze(self) -> FrozenResult[_TP]:
        """Fetch the remaining rows into a FrozenResult; calling it replays them."""
        return FrozenResult(self)

    def merge(self, *others: Result[Any]) -> MergedResult[_TP]:
        """A result yielding this result's rows, then each of ``others``'."""
        return MergedResult(self._md(), (self, *others))


# ---------------------------------------------------------------------------------------
# Filtered views


class _FilterResult(_ResultCore[_R]):
    """A view over a Result that returns something other than rows."""

    _real: Result[Any]

    def _fetchone_impl(self) -> _RawRow | None:
        return self._real._fetchone_impl()

    def _fetchmany_impl(self, size: int | None) -> list[_RawRow]:
        return self._real._fetchmany_impl(size)

    def _fetchall_impl(self) -> list[_RawRow]:
        return self._real._fetchall_impl()

    def _consume_all(self, convert: Callable[[Iterable[_RawRow]], list[_T]]) -> list[_T]:
        return self._real._consume_all(convert)

    def _raw_iter(self) -> Iterator[_RawRow]:
        return self._real._raw_iter()

    def _soft_close(self, hard: bool = False) -> None:
        self._real._soft_close(hard)

    def _is_soft_closed(self) -> bool:
        return self._real._soft_closed

    @property
    def closed(self) -> bool:
        """True once the underlying result is closed."""
        return self._real.closed

    def yield_per(self, num: int) -> Self:
        """Set the underlying result's batch size; returns this view."""
        self._real.yield_per(num)
        return self


class ScalarResult(_FilterResult[_R]):
    """Returns one column's value per row (see :meth:`Result.scalars`).

    With unique(), values are compared themselves (or by ``strategy(value)``).
    """

    def __init__(self, real_result: Result[Any], index: int) -> None:
        self._real = real_result
        self._one, self._many = real_result._md()._scalar_getters(index)
        if real_result._seen is not None:
            self._seen = set()


class MappingResult(_FilterResult[RowMapping]):
    """Returns a RowMapping per row (see :meth:`Result.mappings`).

    With unique(), mappings are compared by their values; a ``strategy`` is given
    the RowMapping.
    """

    _metadata: ResultMetaData

    def __init__(self, result: Result[Any]) -> None:
        self._real = result
        self._set_metadata(result._md())
        if result._seen is not None:
            self._seen = set()
            strategy = result._ukey
            if strategy is None:
                self._ukey = _row_of
            else:
                row_strategy = strategy  # written for rows: give it the row

                def by_row(mapping: RowMapping) -> Any:
                    return row_strategy(mapping._row)

                self._ukey = by_row

    def _set_metadata(self, metadata: ResultMetaData) -> None:
        self._metadata = metadata
        make_row = metadata.make_row
        make_rows = metadata.make_rows

        def one(raw: _RawRow) -> RowMapping:
            return RowMapping(make_row(raw))

        def many(raws: Iterable[_RawRow]) -> list[RowMapping]:
            return list(map(RowMapping, make_rows(raws)))

        self._one = one
        self._many = many

    def unique(self, strategy: Callable[[Any], Any] | None = None) -> Self:
        self._seen = set()
        # RowMapping compares like a dict; the row underneath is the cheap hashable key
        self._ukey = _row_of if strategy is None else strategy
        return self

    def keys(self) -> RMKeyView:
        """The column names."""
        return RMKeyView(self._metadata.keys, self._metadata._key_to_index)

    def columns(self, *col_expressions: Any) -> Self:
        """Keep only these columns, in this order."""
        metadata = self._metadata
        self._set_metadata(
            metadata._reduce(tuple(metadata._index_for(key) for key in col_expressions))
        )
        return self

    def fetchone(self) -> RowMapping | None:
        """The next mapping, or None when there are no more."""
        value = self._next_value()
        return None if value is _NO_ROW else cast(RowMapping, value)


# ---------------------------------------------------------------------------------------
# Sources


_C_ITERATION: dict[type, bool] = {}


def _iterates_in_c(cls: type) -> bool:
    """Whether a cursor class iterates in C (then iterating beats fetchall + list)."""
    known = _C_ITERATION.get(cls)
    if known is None:
        known = isinstance(getattr(cls, "__iter__", None), types.WrapperDescriptorType) and (
            isinstance(getattr(cls, "__next__", None), types.WrapperDescriptorType)
        )
        _C_ITERATION[cls] = known
    return known


class CursorResult(Result[_TP]):
    """The result of executing a statement on a DBAPI cursor.

    ``metadata=None`` means the statement returned no rows: the cursor is released
    at once and fetches raise ResourceClosedError; ``rowcount`` and ``lastrowid``
    stay available. Otherwise rows are read from ``cursor`` (after any rows in
    ``buffer``); when they run out, or on close(), the cursor is closed and
    ``on_close`` called, each exactly once.
    """

    rowcount: int
    lastrowid: Any
    is_insert: bool = False
    cursor: Any
    _inserted_primary_key: tuple[Any, ...] | None = None
    _on_close: Callable[[], None] | None = None
    # Given by the engine to take the cursor back for reuse instead of closing it.
    _release_cursor: Callable[[Any], None] | None = None
    _buffer: deque[_RawRow] | None = None
    # Given by the engine when the driver can build the rows itself (fetchall_rows).
    _fetch_rows: Callable[[Any, Callable[[Any], Any]], list[Any]] | None = None

    def __init__(
        self,
        cursor: Any,
        metadata: ResultMetaData | None,
        *,
        rowcount: int = -1,
        lastrowid: Any = None,
        on_close: Callable[[], None] | None = None,
        buffer: list[_RawRow] | None = None,
        is_insert: bool = False,
        inserted_primary_key: tuple[Any, ...] | None = None,
        release_cursor: Callable[[Any], None] | None = None,
    ) -> None:
        # Result.__init__ inlined: this runs once per execute().
        self.cursor = cursor
        if release_cursor is not None:
            self._release_cursor = release_cursor
        self._metadata = metadata
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        if on_close is not None:
            self._on_close = on_close
        if is_insert:
            self.is_insert = True
            self._inserted_primary_key = inserted_primary_key
        if metadata is None:
            self._one = self._many = _raise_no_rows
            self._soft_close()
        else:
            self._one = metadata.make_row
            self._many = metadata.make_rows
            if buffer:
                self._buffer = deque(buffer)

    @classmethod
    def _of_rows(
        cls,
        cursor: Any,
        metadata: ResultMetaData,
        rowcount: int,
        release_cursor: Callable[[Any], None],
    ) -> CursorResult[Any]:
        """``CursorResult(cursor, metadata, rowcount=..., release_cursor=...)`` for the
        engine's usual path: the same object, without the keyword handling."""
        self: CursorResult[Any] = object.__new__(cls)
        self.cursor = cursor
        self._release_cursor = release_cursor
        self._metadata = metadata
        self.rowcount = rowcount
        self.lastrowid = None
        self._one = metadata.make_row
        self._many = metadata.make_rows
        return self

    def _prefetch(self, rows: list[_RawRow]) -> None:
        """Hold ``rows``, every row of the result, and give the cursor back now (the
        engine does this for small client-side results, so that the connection's next
        execute reuses the cursor even when this result is not read to the end)."""
        self._buffer = deque(rows)
        cursor, self.cursor = self.cursor, None
        release, self._release_cursor = self._release_cursor, None
        if cursor is not None:
            if release is not None:
                release(cursor)
            else:
                cursor.close()

    def _no_more(self, default: _T) -> _T:
        if not self._soft_closed:
            self._soft_close()  # the rows of a prefetched result are used up
        return super()._no_more(default)

    @property
    def inserted_primary_key(self) -> tuple[Any, ...] | None:
        """The primary key of the row an insert() created."""
        if not self.is_insert:
            raise InvalidRequestError("Statement is not an insert() expression construct.")
        return self._inserted_primary_key

    def yield_per(self, num: int) -> Self:
        self._yield_per = num
        if self._buffer is None and self._metadata is not None and not self._hard_closed:
            self._buffer = deque()
        return self

    # -- hooks ----------------------------------------------------------------------

    def _soft_close(self, hard: bool = False) -> None:
        if hard:
            self._hard_closed = True
            buffer = self._buffer
            if buffer is not None:
                buffer.clear()  # also stops an iteration over it that is under way
                self._buffer = None
        if self._soft_closed:
            return
        self._soft_closed = True
        cursor = self.cursor
        self.cursor = None
        try:
            if cursor is not None:
                release = self._release_cursor
                if release is not None:
                    self._release_cursor = None
                    release(cursor)
                else:
                    cursor.close()
        except Exception:
            # The rows are already read; a cursor that cannot close is the
            # connection's problem, which its own cleanup reports.
            _log.warning("Error closing cursor", exc_info=True)
        finally:
            on_close = self._on_close
            if on_close is not None:
                self._on_close = None
                on_close()

    def _refill(self) -> bool:
        """Top up the yield_per buffer; False when nothing more came."""
        size = self._yield_per
        cursor = self.cursor
        if size is None or cursor is None:
            if size is None:
                self._buffer = None  # the engine's rows are used up: read the cursor
            return False
        rows = cursor.fetchmany(size)
        if len(rows) < size:
            self._soft_close()
        buffer = self._buffer
        if rows and buffer is not None:
            buffer.extend(rows)
            return True
        return False

    def _fetchone_impl(self) -> _RawRow | None:
        buffer = self._buffer
        if buffer is not None and (buffer or self._refill()):
            return buffer.popleft()
        cursor = self.cursor
        if cursor is None:
            return self._no_more(None)
        raw: _RawRow | None = cursor.fetchone()
        if raw is None:
            self._soft_close()
        return raw

    def _fetchmany_impl(self, size: int | None) -> list[_RawRow]:
        if self._buffer is not None:
            return self._buffered_fetchmany(size)
        cursor = self.cursor
        if cursor is None:
            return self._no_more([])
        if size is None:
            rows: list[_RawRow] = cursor.fetchmany()
            size = cursor.arraysize
        else:
            rows = cursor.fetchmany(size)
        if size > 0 and len(rows) < size:
            self._soft_close()
        return rows

    def _buffered_fetchmany(self, size: int | None) -> list[_RawRow]:
        buffer = cast("deque[_RawRow]", self._buffer)
        if size is None:
            cursor = self.cursor
            size = self._yield_per or (cursor.arraysize if cursor is not None else 1)
        if size <= 0:
            return []
        while len(buffer) < size and self._refill():
            pass
        popleft = buffer.popleft
        rows = [popleft() for _ in range(min(size, len(buffer)))]
        if len(rows) < size and self._buffer is None:
            rows.extend(self._fetchmany_impl(size - len(rows)))
        return rows

    def _fetchall_impl(self) -> list[_RawRow]:
        buffer = self._buffer
        cursor = self.cursor
        if buffer is not None:
            rows = list(buffer)
            buffer.clear()
            if cursor is not None:
                rows.extend(cursor.fetchall())
            if not self._soft_closed:
                self._soft_close()
            return rows
        if cursor is None:
            return self._no_more([])
        rows = cursor.fetchall()
        self._soft_close()
        return cast("list[_RawRow]", rows)

    def _consume_all(self, convert: Callable[[Iterable[_RawRow]], list[_T]]) -> list[_T]:
        cursor = self.cursor
        fetch_rows = self._fetch_rows
        if (
            fetch_rows is not None
            and convert is self._many
            and self._buffer is None
            and cursor is not None
            and self._metadata is not None
        ):
            # The driver calls the row maker as it decodes each row (psycopg). Rows are
            # tracked by the collector: pause it for a big build (see engine/row.py).
            make_row = self._metadata.make_row
            count = cursor.rowcount
            if not 0 <= count < gcpause.MIN_OBJECTS:
                with gcpause.paused(keep=True):
                    rows = fetch_rows(cursor, make_row)
            else:
                rows = fetch_rows(cursor, make_row)
            self._soft_close()
            return rows
        if self._buffer is None and cursor is not None and _iterates_in_c(type(cursor)):
            # Streaming the cursor into the row builder skips the driver's list of
            # 100k tuples: measured ~6% faster than fetchall() on sqlite3.
            values = convert(cursor)
            self._soft_close()
            return values
        return convert(self._fetchall_impl())

    def _raw_iter(self) -> Iterator[_RawRow]:
        if self._buffer is not None:
            return self._buffered_iter()
        cursor = self.cursor
        if cursor is None:
            self._no_more(None)
            return _EMPTY_ITER
        if getattr(type(cursor), "__iter__", None) is None:  # iteration is optional in PEP 249
            return _fetchone_iter(self._fetchone_impl)
        return self._cursor_iter(cursor)

    def _cursor_iter(self, cursor: Any) -> Iterator[_RawRow]:
        for raw in cursor:
            yield raw
            if self.cursor is not cursor:
                # closed, or drained by a fetch call, while the caller was iterating
                self._no_more(None)
                return
        self._soft_close()

    def _buffered_iter(self) -> Iterator[_RawRow]:
        while True:
            buffer = self._buffer
            if buffer is None:
                break
            while buffer:
                yield buffer.popleft()
            if not self._refill():
                break
        # The engine's buffer is used up (or the cursor is): carry on row by row.
        yield from _fetchone_iter(self._fetchone_impl)


class IteratorResult(Result[_TP]):
    """A Result over an iterator of tuples (rows not read from a cursor).

    ``raw``, if given, is a Result closed along with this one.
    """

    def __init__(
        self,
        cursor_metadata: ResultMetaData,
        iterator: Iterator[_RawRow],
        raw: Result[Any] | None = None,
    ) -> None:
        super().__init__(cursor_metadata)
        self._iterator = iterator
        self.raw = raw

    def _soft_close(self, hard: bool = False) -> None:
        if hard:
            self._hard_closed = True
        self._soft_closed = True
        self._iterator = _EMPTY_ITER
        if self.raw is not None:
            self.raw._soft_close(hard)

    def _fetchone_impl(self) -> _RawRow | None:
        if self._soft_closed:
            return self._no_more(None)
        raw: _RawRow | None = next(self._iterator, None)
        if raw is None:
            self._soft_close()
        return raw

    def _fetchmany_impl(self, size: int | None) -> list[_RawRow]:
        if self._soft_closed:
            return self._no_more([])
        if size is None:
            size = self._yield_per
        if size is None:
            return self._fetchall_impl()
        rows = list(itertools.islice(self._iterator, size))
        if len(rows) < size:
            self._soft_close()
        return rows

    def _fetchall_impl(self) -> list[_RawRow]:
        if self._soft_closed:
            return self._no_more([])
        rows = list(self._iterator)
        self._soft_close()
        return rows

    def _consume_all(self, convert: Callable[[Iterable[_RawRow]], list[_T]]) -> list[_T]:
        if self._soft_closed:
            return convert(self._no_more([]))
        values = convert(self._iterator)
        self._soft_close()
        return values

    def _raw_iter(self) -> Iterator[_RawRow]:
        if self._soft_closed:
            self._no_more(None)
            return _EMPTY_ITER
        return self._iter_source(self._iterator)

    def _iter_source(self, iterator: Iterator[_RawRow]) -> Iterator[_RawRow]:
        for raw in iterator:
            yield raw
            if self._iterator is not iterator:
                self._no_more(None)
                return
        self._soft_close()


class ChunkedIteratorResult(IteratorResult[_TP]):
    """An IteratorResult over ``chunks(size)``, an iterator of lists of tuples.

    ``chunks`` is called with the yield_per size (None until yield_per() is used);
    yield_per() restarts it with the new size. With ``dynamic_yield_per`` each
    fetchmany() restarts it with that call's size.
    """

    def __init__(
        self,
        cursor_metadata: ResultMetaData,
        chunks: Callable[[int | None], Iterable[Sequence[_RawRow]]],
        *,
        raw: Result[Any] | None = None,
        dynamic_yield_per: bool = False,
    ) -> None:
        self.chunks = chunks
        self.dynamic_yield_per = dynamic_yield_per
        super().__init__(cursor_metadata, itertools.chain.from_iterable(chunks(None)), raw)

    def yield_per(self, num: int) -> Self:
        self._yield_per = num
        if not self._soft_closed:
            self._iterator = itertools.chain.from_iterable(self.chunks(num))
        return self

    def _fetchmany_impl(self, size: int | None) -> list[_RawRow]:
        if self.dynamic_yield_per and not self._soft_closed:
            self._iterator = itertools.chain.from_iterable(self.chunks(size))
        return super()._fetchmany_impl(size)


class MergedResult(IteratorResult[_TP]):
    """The rows of several results one after another (see :meth:`Result.merge`).

    Closing it closes them all.
    """

    def __init__(self, cursor_metadata: ResultMetaData, results: Sequence[Result[Any]]) -> None:
        self._results = tuple(results)
        # The results deliver finished rows; only re-label them with our keys.
        super().__init__(cursor_metadata._plain(), itertools.chain.from_iterable(self._results))

    def _soft_close(self, hard: bool = False) -> None:
        for result in self._results:
            result._soft_close(hard)
        super()._soft_close(hard)


class FrozenResult(Generic[_TP]):
    """The rows of a result, stored; ``frozen()`` returns a fresh Result over them."""

    metadata: ResultMetaData
    data: Sequence[_RawRow]

    def __init__(self, result: Result[_TP]) -> None:
        metadata = result._md()
        self.metadata = metadata._plain()
        self.data = result._consume_all(metadata.make_rows)

    def rewrite_rows(self) -> list[list[Any]]:
        """The rows as lists, for editing and passing to :meth:`with_new_rows`."""
        return [list(row) for row in self.data]

    def with_new_rows(self, tuple_data: Sequence[_RawRow]) -> FrozenResult[_TP]:
        """A FrozenResult with the same columns over ``tuple_data``."""
        frozen = cast("FrozenResult[_TP]", object.__new__(FrozenResult))
        frozen.metadata = self.metadata
        frozen.data = tuple_data
        return frozen

    def __call__(self) -> Result[_TP]:
        return IteratorResult(self.metadata, iter(self.data))
