"""``hermetic.event``: ``listen``, ``listens_for``, ``remove``, ``contains``.

A target is anything with a ``_event_dispatch(identifier)`` method (instances) or
class method (classes) returning the :class:`Dispatch` that holds that event, e.g. an
Engine forwards pool event names to its pool.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from hermetic import exc
from hermetic.event.base import Dispatch, EventSpec

__all__ = ["Dispatch", "EventSpec", "contains", "listen", "listens_for", "remove"]


def _dispatch_for(target: Any, identifier: str) -> Dispatch:
    finder = getattr(target, "_event_dispatch", None)
    if finder is None and "hermetic.orm" in sys.modules:
        from hermetic.orm.events import orm_event_dispatch

        found = orm_event_dispatch(target, identifier)
        if found is not None:
            return found  # type: ignore[no-any-return]
    if finder is None:
        raise exc.InvalidRequestError(
            f"No events are available for {target!r}. Events can be listened for on an "
            "Engine, a Connection's engine, a Pool or their classes, a Session, sessionmaker, "
            "mapped class, Mapper or mapped attribute."
        )
    dispatch: Dispatch = finder(identifier)
    return dispatch


def listen(target: Any, identifier: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> None:
    """Register ``fn`` for event ``identifier`` on ``target``.

    Keyword options: ``once``, ``retval``, ``named``, ``insert``, ``active_history``
    (attribute events: load the old value for the listener); ``propagate`` is accepted
    for compatibility.
    """
    kw.pop("propagate", None)
    unknown = set(kw) - {"once", "retval", "named", "insert", "active_history"}
    if unknown or args:
        raise exc.ArgumentError(
            f"Unknown listen() options {sorted(unknown) or list(args)}; "
            "supported: once, retval, named, insert, propagate"
        )
    _dispatch_for(target, identifier).add(identifier, fn, **kw)


def listens_for(
    target: Any, identifier: str, *args: Any, **kw: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator form of :func:`listen`."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        listen(target, identifier, fn, *args, **kw)
        return fn

    return decorate


def remove(target: Any, identifier: str, fn: Callable[..., Any]) -> None:
    if not _dispatch_for(target, identifier).remove(identifier, fn):
        raise exc.InvalidRequestError(
            f"No listener {fn!r} is registered for event {identifier!r} on {target!r}"
        )


def contains(target: Any, identifier: str, fn: Callable[..., Any]) -> bool:
    return _dispatch_for(target, identifier).contains(identifier, fn)
