"""Listener registries.

Each class that emits events declares its event names and argument names once, as an
:class:`EventSpec`. A class gets a class-level :class:`Dispatch` (listeners for every
instance) and each instance its own, whose lists include the class-level listeners, so
firing an event is iterating one list and checking for "no listeners" is a truth test of
that list: free when nobody listens.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

Listener = Callable[..., Any]


class EventSpec:
    """Names and positional argument names of one family of events."""

    def __init__(self, events: dict[str, tuple[str, ...]], retval: Iterable[str] = ()) -> None:
        self.events = events
        self.retval = frozenset(retval)


class _Wrapped:
    """A listener with the options it was registered with."""

    __slots__ = ("__weakref__", "fn", "original", "retval")

    def __init__(self, fn: Listener, original: Listener, retval: bool) -> None:
        self.fn = fn
        self.original = original
        self.retval = retval

    def __call__(self, *args: Any, **kw: Any) -> Any:
        return self.fn(*args, **kw)


class Dispatch:
    """Listener lists for one target (a class or an instance)."""

    def __init__(self, spec: EventSpec, parent: Dispatch | None = None) -> None:
        self._spec = spec
        self._parent = parent
        self._children: weakref.WeakSet[Dispatch] = weakref.WeakSet()
        self._own: dict[str, list[_Wrapped]] = {name: [] for name in spec.events}
        for name in spec.events:
            inherited = list(parent._lists(name)) if parent is not None else []
            setattr(self, name, inherited)
        if parent is not None:
            parent._children.add(self)

    def _lists(self, name: str) -> list[_Wrapped]:
        lst: list[_Wrapped] = getattr(self, name)
        return lst

    def _rebuild(self, name: str) -> None:
        merged = list(self._parent._lists(name)) if self._parent is not None else []
        merged.extend(self._own[name])
        # mutate in place: fast paths may hold a reference to the list
        lst = self._lists(name)
        lst[:] = merged
        for child in list(self._children):
            child._rebuild(name)

    def add(
        self,
        name: str,
        fn: Listener,
        *,
        once: bool = False,
        retval: bool = False,
        named: bool = False,
        insert: bool = False,
    ) -> None:
        argnames = self._spec.events[name]
        call: Listener = fn
        if named:
            user_fn = fn

            def call(*args: Any, **kw: Any) -> Any:
                kw.update(zip(argnames, args, strict=False))
                return user_fn(**kw)

        if once:
            inner = call
            fired: list[bool] = []

            def call(*args: Any, **kw: Any) -> Any:
                if fired:
                    return None
                fired.append(True)
                return inner(*args, **kw)

        wrapped = _Wrapped(call, fn, retval)
        if insert:
            self._own[name].insert(0, wrapped)
        else:
            self._own[name].append(wrapped)
        self._rebuild(name)

    def remove(self, name: str, fn: Listener) -> bool:
        own = self._own[name]
        for i, w in enumerate(own):
            if _same_listener(w.original, fn):
                del own[i]
                self._rebuild(name)
                return True
        return False

    def contains(self, name: str, fn: Listener) -> bool:
        return any(_same_listener(w.original, fn) for w in self._lists(name))

    def clear(self) -> None:
        for name in self._spec.events:
            self._own[name].clear()
            self._rebuild(name)


def _same_listener(registered: Any, fn: Any) -> bool:
    """The same function, or the same bound method (``obj.method`` makes a new bound
    method object on every access, equal to the others)."""
    return registered is fn or (getattr(fn, "__self__", None) is not None and registered == fn)
