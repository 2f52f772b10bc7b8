"""Small collection types shared across hermetic.

``immutabledict`` is a ``dict`` that refuses every in-place change: ``__setitem__``,
``__delitem__``, ``update``, ``|=`` and the rest raise ``TypeError``. New mappings are
built with ``union()``, ``merge_with()`` or ``|``. It hashes by its items, so it can sit
inside tuples (such as ``URL``) that must be hashable; ``copy()`` returns a plain dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn, TypeVar

__all__ = ["immutabledict", "EMPTY_DICT"]

_KT = TypeVar("_KT")
_VT = TypeVar("_VT")
_T = TypeVar("_T")


class immutabledict(dict[_KT, _VT]):
    """A read-only ``dict``; derive changed copies with ``union`` or ``merge_with``."""

    __slots__ = ()

    def _refuse(self, operation: str) -> NoReturn:
        raise TypeError(
            f"{type(self).__name__} is immutable and does not support {operation}; "
            "build a new one with union() or merge_with()"
        )

    def __setitem__(self, key: _KT, value: _VT) -> NoReturn:
        self._refuse("item assignment")

    def __delitem__(self, key: _KT) -> NoReturn:
        self._refuse("item deletion")

    def __ior__(self, other: Any) -> NoReturn:
        self._refuse("'|='")

    def clear(self) -> NoReturn:
        self._refuse("clear()")

    def pop(self, *args: Any) -> NoReturn:
        self._refuse("pop()")

    def popitem(self) -> NoReturn:
        self._refuse("popitem()")

    def setdefault(self, *args: Any) -> NoReturn:
        self._refuse("setdefault()")

    def update(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse("update()")

    @classmethod
    def fromkeys(cls, iterable: Iterable[_T], value: Any = None) -> immutabledict[_T, Any]:
        return immutabledict(dict.fromkeys(iterable, value))

    def union(self, other: Mapping[_KT, _VT]) -> immutabledict[_KT, _VT]:
        """Return a new immutabledict with ``other``'s items added (``other`` wins)."""
        if not other:
            return self
        merged = dict(self)
        merged.update(other)
        return immutabledict(merged)

    def merge_with(self, *others: Mapping[_KT, _VT] | None) -> immutabledict[_KT, _VT]:
        """Return a new immutabledict with every mapping's items added, later ones winning.

        ``None`` and empty mappings are skipped; when nothing is added, ``self`` is returned.
        """
        merged: dict[_KT, _VT] | None = None
        for other in others:
            if not other:
                continue
            if merged is None:
                merged = dict(self)
            merged.update(other)
        return self if merged is None else immutabledict(merged)

    def __or__(self, other: Any) -> Any:
        if not isinstance(other, Mapping):
            return NotImplemented
        return self.union(other)

    def __ror__(self, other: Any) -> Any:
        if not isinstance(other, Mapping):
            return NotImplemented
        merged = dict(other)
        merged.update(self)
        return immutabledict(merged)

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"


EMPTY_DICT: immutabledict[Any, Any] = immutabledict()
