"""A bounded cache whose hit path is a plain ``dict.get``.

Eviction is approximate: when the cache outgrows ``capacity`` the oldest-inserted half is
dropped. Hits cost nothing extra (no recency bookkeeping), which matters on the
compiled-statement path where every execution looks up the cache; statements that are hot
are re-inserted right after an eviction and stay.
"""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    __slots__ = ("_data", "capacity", "get", "hits", "misses")

    def __init__(self, capacity: int = 500) -> None:
        self.capacity = capacity
        self._data: dict[K, V] = {}
        self.get = self._data.get

    def __setitem__(self, key: K, value: V) -> None:
        data = self._data
        data[key] = value
        if len(data) > self.capacity:
            for k in list(data)[: len(data) // 2]:
                del data[k]

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def clear(self) -> None:
        self._data.clear()
