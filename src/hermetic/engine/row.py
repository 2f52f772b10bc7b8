"""Result rows: :class:`Row`, :class:`RowMapping`, and the :class:`ResultMetaData` that
builds them.

``Row`` subclasses ``tuple`` so that equality with tuples, hashing, unpacking, indexing
and slicing are the interpreter's own. Each ResultMetaData (one per statement) makes one
subclass of ``Row`` that carries the column names; named attribute access on it is a
``property(operator.itemgetter(i))``, so reading ``row.name`` costs no Python frame.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import (
    Callable,
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    Sequence,
    ValuesView,
)
from typing import Any, ClassVar, Generic, TypeVar, cast

from hermetic._util import gcpause
from hermetic.exc import InvalidRequestError, NoSuchColumnError

__all__ = ["Row", "RowMapping", "RMKeyView", "ResultMetaData"]

_RawRow = tuple[Any, ...]
_Processor = Callable[[Any], Any]
_RowMaker = Callable[[_RawRow], Any]
_RowsMaker = Callable[[Iterable[_RawRow]], list[Any]]

_TP = TypeVar("_TP", bound="tuple[Any, ...]")

# Names a per-metadata subclass never turns into column properties: ``t`` and ``tuple``
# are kept free for the (deprecated in SQLAlchemy) tuple accessors. Such columns, and
# those named ``_x`` or not valid identifiers, are still reached through __getattr__.
# ``count`` and ``index`` do become properties when a column has that name, as in
# SQLAlchemy 2.0, where ``row.count`` is the column when there is one.
_RESERVED = frozenset({"t", "tuple"})


def _ambiguous(key: object) -> InvalidRequestError:
    return InvalidRequestError(
        f"Ambiguous column name {key!r} in result set; "
        "use a label to give the columns distinct names"
    )


def _no_such_column(key: object, fields: tuple[str, ...]) -> NoSuchColumnError:
    return NoSuchColumnError(
        f"Could not locate column in row for column {_key_str(key)!r}; "
        f"the row has columns: {', '.join(fields)}"
    )


def _key_str(key: object) -> str:
    return key if isinstance(key, str) else str(key)


class Row(tuple[Any, ...], Generic[_TP]):
    """A result row: a tuple that also answers to its column names.

    ``row.name`` and ``row._mapping["name"]`` read a column by name, ``row[i]`` by
    position. Rows compare, hash and unpack like plain tuples.
    """

    __slots__ = ()

    # Set on each per-metadata subclass; the base values describe a row with no names.
    _metadata: ClassVar[ResultMetaData | None] = None
    _fields: ClassVar[tuple[str, ...]] = ()
    # name or extra key -> position; None marks a name that two columns share.
    _key_to_index: ClassVar[dict[Any, int | None]] = {}

    def __getattr__(self, name: str) -> Any:
        # Only reached for names without a property: underscored, reserved,
        # non-identifier and ambiguous names, and unknown ones.
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            index = self._key_to_index[name]
        except KeyError:
            raise AttributeError(
                f"Could not locate column in row for column {name!r}; "
                f"the row has columns: {', '.join(self._fields)}"
            ) from None
        if index is None:
            raise _ambiguous(name)
        return self[index]

    @property
    def _mapping(self) -> RowMapping:
        """A read-only mapping view of the row, keyed by column name."""
        return RowMapping(self)

    def _asdict(self) -> dict[str, Any]:
        """A new dict of column name to value (the last column wins a shared name)."""
        return dict(zip(self._fields, self, strict=False))

    def _tuple(self) -> _TP:
        """The row as a plain tuple."""
        return cast(_TP, tuple(self))

    @property
    def _t(self) -> _TP:
        """The row as a plain tuple."""
        return cast(_TP, tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        # The class is made at run time and cannot be found by name, so a row pickles
        # as its keys and values and is rebuilt on the metadata cached for those keys.
        return _rebuild_row, (self._fields, tuple(self))

    def __copy__(self) -> Row[_TP]:
        return self  # immutable


def _rebuild_row(keys: tuple[str, ...], values: tuple[Any, ...]) -> Row[Any]:
    return ResultMetaData.for_keys(keys).row_class(values)


def _make_row_class(
    metadata: ResultMetaData,
    keys: tuple[str, ...],
    key_to_index: dict[Any, int | None],
) -> type[Row[Any]]:
    """Build the Row subclass for one metadata (called once per metadata)."""
    namespace: dict[str, Any] = {
        "__slots__": (),
        "_metadata": metadata,
        "_fields": keys,
        "_key_to_index": key_to_index,
    }
    for index, key in enumerate(keys):
        if (
            key.isidentifier()
            and not key.startswith("_")
            and key not in _RESERVED
            and key_to_index.get(key) == index  # skips ambiguous names
        ):
            namespace[key] = property(operator.itemgetter(index))
    return cast("type[Row[Any]]", type("Row", (Row,), namespace))


class RowMapping(Mapping[Any, Any]):
    """A read-only mapping over one :class:`Row`: column name (or extra key) to value.

    Iteration yields the column names; an unknown key raises
    :class:`~hermetic.exc.NoSuchColumnError`, a name two columns share raises
    :class:`~hermetic.exc.InvalidRequestError`.
    """

    __slots__ = ("_row",)

    _row: Row[Any]

    def __init__(self, row: Row[Any]) -> None:
        self._row = row

    def __getitem__(self, key: Any) -> Any:
        row = self._row
        try:
            index = row._key_to_index[key]
        except KeyError:
            raise _no_such_column(key, row._fields) from None
        if index is None:
            raise _ambiguous(key)
        return row[index]

    def __contains__(self, key: object) -> bool:
        return key in self._row._key_to_index

    def __iter__(self) -> Iterator[str]:
        return iter(self._row._fields)

    def __len__(self) -> int:
        return len(self._row)

    def __eq__(self, other: object) -> bool:
        row = self._row
        if isinstance(other, RowMapping):
            orow = other._row
            if row._fields == orow._fields:
                return tuple.__eq__(row, orow)
            return row._asdict() == orow._asdict()
        if isinstance(other, Mapping):
            return row._asdict() == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        # Consistent with __eq__, which compares as a dict: equal items, equal hash.
        return hash(frozenset(zip(self._row._fields, self._row, strict=False)))

    def __repr__(self) -> str:
        return repr(self._row._asdict())

    def keys(self) -> RMKeyView:
        return RMKeyView(self._row._fields, self._row._key_to_index)

    def values(self) -> _RowValuesView:
        return _RowValuesView(self)

    def items(self) -> _RowItemsView:
        return _RowItemsView(self)


class _RowValuesView(ValuesView[Any]):
    __slots__ = ()
    _mapping: RowMapping

    def __iter__(self) -> Iterator[Any]:
        return iter(self._mapping._row)

    def __contains__(self, value: object) -> bool:
        return value in self._mapping._row

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


class _RowItemsView(ItemsView[Any, Any]):
    __slots__ = ()
    _mapping: RowMapping

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        row = self._mapping._row
        return zip(row._fields, row, strict=False)

    def __contains__(self, item: object) -> bool:
        return item in list(iter(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


class RMKeyView(KeysView[str]):
    """The column names of a result or row, in order.

    Compares equal to any sequence holding the same names in the same order;
    ``in`` also accepts the extra keys (e.g. column objects) the result knows.
    """

    __slots__ = ("_keymap", "_keys")

    def __init__(self, keys: tuple[str, ...], keymap: Mapping[Any, Any]) -> None:
        self._keys = keys
        self._keymap = keymap

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, item: object) -> bool:
        try:
            return item in self._keymap
        except TypeError:  # unhashable
            return False

    def __eq__(self, other: object) -> bool:
        try:
            items: list[Any] = list(cast("Iterable[Any]", other))
        except TypeError:
            return NotImplemented
        return items == list(self._keys)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._keys)!r})"


# ---------------------------------------------------------------------------------------
# Metadata


class ResultMetaData:
    """Keys, key lookup and the row-building plan for one statement's results.

    ``keys`` are the column names; ``processors`` (one per column, ``None`` for none)
    convert driver values; ``extra_keys[i]`` are further objects (e.g. column objects)
    that also name column ``i`` in ``row._mapping``. Build it once per statement.
    """

    __slots__ = (
        "__weakref__",
        "_extra_keys",
        "_key_to_index",
        "_keymap",
        "_plain_md",
        "_processors",
        "_reduced",
        "_scalars",
        "_sources",
        "keys",
        "make_row",
        "make_rows",
        "row_class",
    )

    keys: tuple[str, ...]
    row_class: type[Row[Any]]
    make_row: _RowMaker
    make_rows: _RowsMaker

    def __init__(
        self,
        keys: Sequence[str],
        processors: Sequence[_Processor | None] | None = None,
        extra_keys: Sequence[Sequence[object]] | None = None,
        *,
        _sources: Sequence[int] | None = None,
    ) -> None:
        keys = tuple(keys)
        width = len(keys)
        self.keys = keys
        procs: tuple[_Processor | None, ...] | None = None
        if processors is not None:
            if len(processors) > width:
                raise ValueError(f"{len(processors)} processors given for {width} columns")
            if any(p is not None for p in processors):
                procs = tuple(processors) + (None,) * (width - len(processors))
        self._processors = procs
        extras = tuple(tuple(objs) for objs in extra_keys) if extra_keys else None
        self._extra_keys = extras
        # _sources: for a reduced metadata (Result.columns()), the driver-row position
        # of each of our columns; None means column i is driver position i.
        self._sources = tuple(_sources) if _sources is not None else None
        self._reduced: dict[tuple[int, ...], ResultMetaData] = {}
        self._scalars: dict[int, tuple[_RowMaker, _RowsMaker]] = {}
        self._plain_md: ResultMetaData | None = None

        # Names first; a name two columns share maps to None ("ambiguous").
        by_key: dict[Any, int | None] = {}
        for index, key in enumerate(keys):
            by_key[key] = None if key in by_key else index
        if extras:
            by_extra: dict[Any, int | None] = {}
            for index, objs in enumerate(extras):
                for obj in objs:
                    prev = by_extra.get(obj, -1)
                    by_extra[obj] = index if prev == -1 or prev == index else None
            for obj, index_or_none in by_extra.items():
                by_key.setdefault(obj, index_or_none)  # a column's own name wins
        self._key_to_index = by_key
        keymap = dict(by_key)
        keymap.update({i: i for i in range(width)})  # positions win over extra ints
        self._keymap: dict[Any, int | None] = keymap

        cls = _make_row_class(self, keys, by_key)
        self.row_class = cls
        make_row, make_rows = _row_makers(cls, self._sources, procs)
        self.make_row, self.make_rows = make_row, _gc_paused(make_rows)

    @classmethod
    def for_keys(cls, keys: Sequence[str]) -> ResultMetaData:
        """The shared, processor-free metadata for ``keys`` (a bounded LRU cache)."""
        return _metadata_for_keys(tuple(keys))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.keys)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Processors and row makers are functions; a pickled metadata keeps its keys
        # and those extra keys that are plain strings or ints.
        extras = None
        if self._extra_keys:
            extras = [
                tuple(o for o in objs if isinstance(o, (str, int))) for objs in self._extra_keys
            ]
        return ResultMetaData, (self.keys, None, extras)

    def _index_for(self, key: Any) -> int:
        """The position of ``key`` (name, extra key or int position)."""
        if isinstance(key, int) and not isinstance(key, bool):
            width = len(self.keys)
            position = key + width if key < 0 else key
            if not 0 <= position < width:
                raise IndexError(f"column index {key} out of range ({width} columns)")
            return position
        try:
            index = self._keymap[key]
        except (KeyError, TypeError):
            raise _no_such_column(key, self.keys) from None
        if index is None:
            raise _ambiguous(key)
        return index

    def _reduce(self, indexes: tuple[int, ...]) -> ResultMetaData:
        """Metadata for the columns at ``indexes`` (cached per index tuple)."""
        reduced = self._reduced.get(indexes)
        if reduced is None:
            procs = self._processors
            extras = self._extra_keys
            sources = self._sources
            reduced = ResultMetaData(
                [self.keys[i] for i in indexes],
                [procs[i] for i in indexes] if procs else None,
                [extras[i] for i in indexes] if extras else None,
                _sources=[sources[i] if sources else i for i in indexes],
            )
            self._reduced[indexes] = reduced
        return reduced

    def _plain(self) -> ResultMetaData:
        """Same keys, no processors and no reduction: for rows already built."""
        plain = self._plain_md
        if plain is None:
            if self._processors is None and self._sources is None:
                plain = self
            else:
                plain = ResultMetaData(self.keys, None, self._extra_keys)
            self._plain_md = plain
        return plain

    def _scalar_getters(self, index: int) -> tuple[_RowMaker, _RowsMaker]:
        """(one, many) functions that take driver rows to the value of column ``index``."""
        getters = self._scalars.get(index)
        if getters is None:
            source = self._sources[index] if self._sources else index
            proc = self._processors[index] if self._processors else None
            get = operator.itemgetter(source)
            if proc is None:

                def many(raws: Iterable[_RawRow]) -> list[Any]:
                    return list(map(get, raws))

                getters = (get, many)
            else:
                process = proc

                def one(raw: _RawRow) -> Any:
                    return process(raw[source])

                def many_processed(raws: Iterable[_RawRow]) -> list[Any]:
                    return list(map(process, map(get, raws)))

                getters = (one, many_processed)
            self._scalars[index] = getters
        return getters


# Rows are instances of a tuple subclass, which the garbage collector keeps tracking
# (plain tuples of atoms get untracked at their first collection). Building 100,000 of
# them with the collector on triggers several full-heap collections mid-build: it is
# paused for the build (hermetic/_util/gcpause.py).


def _gc_paused(make_rows: _RowsMaker) -> _RowsMaker:
    def make_rows_gc_paused(raws: Iterable[_RawRow]) -> list[Any]:
        # (a cursor streamed into the builder has no length: assume it is big)
        if isinstance(raws, list) and len(raws) < gcpause.MIN_OBJECTS:
            return make_rows(raws)
        with gcpause.paused(keep=True):
            return make_rows(raws)

    return make_rows_gc_paused


@functools.lru_cache(maxsize=256)
def _metadata_for_keys(keys: tuple[str, ...]) -> ResultMetaData:
    return ResultMetaData(keys)


def _row_makers(
    cls: type[Row[Any]],
    sources: tuple[int, ...] | None,
    procs: tuple[_Processor | None, ...] | None,
) -> tuple[_RowMaker, _RowsMaker]:
    """Choose how driver rows become rows, cheapest first."""
    if procs is None:
        if sources is None:
            # The row class is a tuple subclass: building a row is one C call.
            def make_rows(raws: Iterable[_RawRow]) -> list[Any]:
                return list(map(cls, raws))

            return cls, make_rows
        if len(sources) >= 2:
            pick = operator.itemgetter(*sources)

            def make_picked(raw: _RawRow) -> Any:
                return cls(pick(raw))

            def make_picked_rows(raws: Iterable[_RawRow]) -> list[Any]:
                return list(map(cls, map(pick, raws)))

            return make_picked, make_picked_rows
    return _compile_row_makers(cls, sources, procs)


def _compile_row_makers(
    cls: type[Row[Any]],
    sources: tuple[int, ...] | None,
    procs: tuple[_Processor | None, ...] | None,
) -> tuple[_RowMaker, _RowsMaker]:
    # Generated code builds each row as one tuple display, e.g.
    # ``_cls((raw[0], _p1(raw[1]), raw[2]))``: no per-column loop, no per-row call for
    # the rows variant. Only integer positions and fixed names reach the source text.
    width = len(sources) if sources is not None else len(procs or ())
    namespace: dict[str, Any] = {"_cls": cls}
    parts = []
    for position in range(width):
        source = sources[position] if sources is not None else position
        proc = procs[position] if procs is not None else None
        if proc is None:
            parts.append(f"raw[{source}]")
        else:
            namespace[f"_p{position}"] = proc
            parts.append(f"_p{position}(raw[{source}])")
    display = "(" + ", ".join(parts) + ("," if width == 1 else "") + ")"
    code = (
        f"def make_row(raw):\n    return _cls({display})\n"
        f"def make_rows(raws):\n    return [_cls({display}) for raw in raws]\n"
    )
    exec(compile(code, "<hermetic row maker>", "exec"), namespace)
    return namespace["make_row"], namespace["make_rows"]
