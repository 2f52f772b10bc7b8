"""Result rows: :class:`Row` (a tuple with named access) and :class:`RowMapping`.

``Row`` subclasses ``tuple`` so that equality with tuples, hashing, unpacking, indexing
and slicing are the interpreter's own. Each result metadata makes one subclass of
``Row`` that carries the column names; named attribute access on it is a
``property(operator.itemgetter(i))``, so reading ``row.name`` costs no Python frame.
"""

from __future__ import annotations

import operator
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from hermetic.exc import InvalidRequestError, NoSuchColumnError

if TYPE_CHECKING:
    from hermetic.engine.result import ResultMetaData

__all__ = ["Row", "RowMapping", "RMKeyView"]

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
    from hermetic.engine.result import ResultMetaData

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
