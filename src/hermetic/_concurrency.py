"""The bridge between asyncio and hermetic's synchronous core (the only module that
imports greenlet).

``await greenlet_spawn(fn, *args)`` runs ``fn`` — ordinary synchronous hermetic code —
in a new greenlet. Where that code reaches the database, the async driver adapter calls
``await_only(coroutine)``: the greenlet switches back to ``greenlet_spawn``, which
awaits the coroutine on the event loop and switches back in with its result (or throws
its exception in). So one implementation (pool, engine, ORM) serves both APIs, and
every ``await`` happens in exactly one place.

Cancellation: a ``CancelledError`` (``task.cancel()``, ``asyncio.timeout``,
``wait_for``) raised while ``greenlet_spawn`` awaits is thrown into the greenlet at the
``await_only`` it is suspended in, so the synchronous ``try``/``finally`` blocks of the
core run as they would for any exception: connections are returned or invalidated.
Their own awaits (a rollback) then run normally; if those are cancelled again (anyio's
level-triggered cancel scopes), the core invalidates the connection instead.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from hermetic import exc

try:
    import greenlet as _greenlet_mod
except ImportError:  # pragma: no cover - the asyncio extra installs it
    _greenlet_mod = None

_T = TypeVar("_T")

HAS_GREENLET = _greenlet_mod is not None


def _require_greenlet() -> Any:
    if _greenlet_mod is None:
        raise exc.NoSuchModuleError(
            "hermetic's asyncio support needs the 'greenlet' package, which is not "
            "installed; install it with: pip install 'hermetic[asyncio]'"
        )
    return _greenlet_mod


if _greenlet_mod is not None:

    class _BridgeGreenlet(_greenlet_mod.greenlet):  # type: ignore[misc]
        """A greenlet running synchronous code for ``greenlet_spawn``; ``driver`` is the
        greenlet of the coroutine that awaits on its behalf."""

        def __init__(self, fn: Callable[..., Any], driver: Any) -> None:
            super().__init__(fn, driver)
            self.driver = driver
            # contextvars set by the caller stay visible inside
            self.gr_context = driver.gr_context

else:  # pragma: no cover
    _BridgeGreenlet = None  # type: ignore[assignment,misc]


def in_greenlet() -> bool:
    """True when running inside ``greenlet_spawn`` (async I/O can be awaited)."""
    if _greenlet_mod is None:
        return False
    return isinstance(_greenlet_mod.getcurrent(), _BridgeGreenlet)


def awaiting_frame() -> Any:
    """The frame of the coroutine awaiting the current bridge greenlet (where user code
    called an async hermetic method), or None outside the bridge."""
    if _greenlet_mod is None:
        return None
    current = _greenlet_mod.getcurrent()
    if not isinstance(current, _BridgeGreenlet):
        return None
    return current.driver.gr_frame


def await_only(awaitable: Awaitable[_T]) -> _T:
    """Await ``awaitable`` from synchronous code running under ``greenlet_spawn``."""
    gl = _require_greenlet()
    current = gl.getcurrent()
    if not isinstance(current, _BridgeGreenlet):
        if hasattr(awaitable, "close"):
            awaitable.close()
        raise exc.MissingGreenlet(
            "An async database operation was attempted where it cannot be awaited: "
            "synchronous code touched I/O outside of an awaited hermetic call, so "
            "greenlet_spawn has not been called here (typically a "
            "lazy relationship or an expired attribute read from async code). Load it in the "
            "query (selectinload(...)), use `await obj.awaitable_attrs.<name>`, keep "
            "objects loaded with expire_on_commit=False, or run the code with "
            "`await session.run_sync(fn)`"
        )
    return current.driver.switch(awaitable)  # type: ignore[no-any-return]


async def greenlet_spawn(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run synchronous ``fn`` so that its ``await_only`` calls are awaited here."""
    gl = _require_greenlet()
    context = _BridgeGreenlet(fn, gl.getcurrent())
    result: Any = context.switch(*args, **kwargs)
    while not context.dead:
        try:
            value = await result
        except BaseException:
            result = context.throw(*sys.exc_info())
        else:
            result = context.switch(value)
    return result  # type: ignore[no-any-return]


def run_coroutine_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """``await_only`` when inside the bridge; otherwise an error naming the fix."""
    return await_only(coro)
