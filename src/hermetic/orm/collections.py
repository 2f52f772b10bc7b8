"""Instrumented collections: list, set and keyed-dict subclasses that tell their
relationship about every added and removed member (for back-references, cascades and
the flush).

A collection refers to its owner through a weak reference (the owner holds the
collection in its ``__dict__``; a strong reference back would be a cycle). Loading a
collection builds it without events.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex


class _Tracked:
    """The link from a collection to its owner and relationship implementation."""

    _sa_owner: weakref.ref[Any] | None
    _sa_impl: Any

    def _sa_link(self, owner: Any, impl: Any) -> None:
        self._sa_owner = weakref.ref(owner)
        self._sa_impl = impl

    def _sa_added(self, item: Any) -> Any:
        ref = getattr(self, "_sa_owner", None)
        owner = ref() if ref is not None else None
        if owner is not None:
            return self._sa_impl.fire_append(owner, item)
        return item

    def _sa_removed(self, item: Any) -> None:
        ref = getattr(self, "_sa_owner", None)
        owner = ref() if ref is not None else None
        if owner is not None:
            self._sa_impl.fire_remove(owner, item)

    def _sa_before_change(self) -> None:
        ref = getattr(self, "_sa_owner", None)
        owner = ref() if ref is not None else None
        if owner is not None:
            self._sa_impl.before_change(owner, self)


class InstrumentedList(list[Any], _Tracked):
    """A ``list`` collection."""

    def append(self, item: Any) -> None:
        self._sa_before_change()
        item = self._sa_added(item)
        list.append(self, item)

    def _append_quiet(self, item: Any) -> None:
        list.append(self, item)

    def _remove_quiet(self, item: Any) -> None:
        for i, x in enumerate(self):
            if x is item:
                list.__delitem__(self, i)
                return

    def extend(self, items: Iterable[Any]) -> None:
        for item in list(items):
            self.append(item)

    def __iadd__(self, items: Iterable[Any]) -> InstrumentedList:  # type: ignore[misc]
        self.extend(items)
        return self

    def insert(self, index: SupportsIndex, item: Any) -> None:
        self._sa_before_change()
        item = self._sa_added(item)
        list.insert(self, index, item)

    def remove(self, item: Any) -> None:
        self._sa_before_change()
        list.remove(self, item)
        self._sa_removed(item)

    def pop(self, index: SupportsIndex = -1) -> Any:
        self._sa_before_change()
        item = list.pop(self, index)
        self._sa_removed(item)
        return item

    def clear(self) -> None:
        self._sa_before_change()
        items = list(self)
        list.clear(self)
        for item in items:
            self._sa_removed(item)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._sa_before_change()
        if isinstance(index, slice):
            old = list.__getitem__(self, index)
            new = [self._sa_added(v) for v in value]
            list.__setitem__(self, index, new)
            for item in old:
                self._sa_removed(item)
        else:
            old_item = list.__getitem__(self, index)
            value = self._sa_added(value)
            list.__setitem__(self, index, value)
            self._sa_removed(old_item)

    def __delitem__(self, index: Any) -> None:
        self._sa_before_change()
        old = list.__getitem__(self, index)
        list.__delitem__(self, index)
        for item in old if isinstance(index, slice) else [old]:
            self._sa_removed(item)

    def __reduce__(self) -> Any:
        return (list, (list(self),))


class InstrumentedSet(set[Any], _Tracked):
    """A ``set`` collection."""

    def add(self, item: Any) -> None:
        if item in self:
            return
        self._sa_before_change()
        item = self._sa_added(item)
        set.add(self, item)

    def _append_quiet(self, item: Any) -> None:
        set.add(self, item)

    def _remove_quiet(self, item: Any) -> None:
        set.discard(self, item)

    append = add

    def update(self, *others: Iterable[Any]) -> None:
        for other in others:
            for item in list(other):
                self.add(item)

    def discard(self, item: Any) -> None:
        if item in self:
            self.remove(item)

    def remove(self, item: Any) -> None:
        self._sa_before_change()
        set.remove(self, item)
        self._sa_removed(item)

    def pop(self) -> Any:
        self._sa_before_change()
        item = set.pop(self)
        self._sa_removed(item)
        return item

    def clear(self) -> None:
        self._sa_before_change()
        items = list(self)
        set.clear(self)
        for item in items:
            self._sa_removed(item)

    def __reduce__(self) -> Any:
        return (set, (set(self),))


class InstrumentedDict(dict[Any, Any], _Tracked):
    """A dict collection keyed by an attribute of its members
    (``attribute_keyed_dict("name")``)."""

    _sa_keyfunc: Callable[[Any], Any]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._sa_before_change()
        old = self.get(key)
        value = self._sa_added(value)
        dict.__setitem__(self, key, value)
        if old is not None and old is not value:
            self._sa_removed(old)

    def _append_quiet(self, item: Any) -> None:
        dict.__setitem__(self, self._sa_keyfunc(item), item)

    def _remove_quiet(self, item: Any) -> None:
        for k, v in list(self.items()):
            if v is item:
                dict.__delitem__(self, k)

    def append(self, item: Any) -> None:
        self[self._sa_keyfunc(item)] = item

    def remove(self, item: Any) -> None:
        for k, v in list(self.items()):
            if v is item:
                del self[k]
                return
        raise ValueError(f"{item!r} is not in the collection")

    def __delitem__(self, key: Any) -> None:
        self._sa_before_change()
        old = dict.__getitem__(self, key)
        dict.__delitem__(self, key)
        self._sa_removed(old)

    def pop(self, key: Any, *default: Any) -> Any:
        if key not in self and default:
            return default[0]
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        for k in list(self):
            del self[k]

    def update(self, *args: Any, **kw: Any) -> None:
        for k, v in dict(*args, **kw).items():
            self[k] = v

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))


def attribute_keyed_dict(attr_name: str, *, ignore_unpopulated_attribute: bool = False) -> Any:
    """A dict collection keyed by ``member.<attr_name>``."""
    return _keyed_factory(lambda obj: getattr(obj, attr_name))


def column_keyed_dict(column: Any, *, ignore_unpopulated_attribute: bool = False) -> Any:
    key = column.key
    return _keyed_factory(lambda obj: getattr(obj, key))


def keyfunc_mapping(
    keyfunc: Callable[[Any], Any], *, ignore_unpopulated_attribute: bool = False
) -> Any:
    return _keyed_factory(keyfunc)


def _keyed_factory(keyfunc: Callable[[Any], Any]) -> type[InstrumentedDict]:
    return type("KeyedDict", (InstrumentedDict,), {"_sa_keyfunc": staticmethod(keyfunc)})


attribute_mapped_collection = attribute_keyed_dict
column_mapped_collection = column_keyed_dict
mapped_collection = keyfunc_mapping


def collection_class_for(spec: Any) -> type:
    """The instrumented class for a relationship's ``collection_class``."""
    if spec is None or spec is list:
        return InstrumentedList
    if spec is set:
        return InstrumentedSet
    if isinstance(spec, type) and issubclass(spec, _Tracked):
        return spec
    if isinstance(spec, type) and issubclass(spec, list):
        return type(spec.__name__, (InstrumentedList, spec), {})
    if isinstance(spec, type) and issubclass(spec, set):
        return type(spec.__name__, (InstrumentedSet, spec), {})
    if callable(spec):
        made = spec()
        if isinstance(made, _Tracked):
            return type(made)
    raise TypeError(
        f"Unsupported collection_class {spec!r}: use list, set, or attribute_keyed_dict(...)"
    )


def members(coll: Any) -> list[Any]:
    if isinstance(coll, dict):
        return list(coll.values())
    return list(coll)


def new_collection(cls: type, owner: Any, impl: Any, items: Iterable[Any] = ()) -> Any:
    coll = cls()
    for item in items:
        coll._append_quiet(item)
    coll._sa_link(owner, impl)
    return coll
