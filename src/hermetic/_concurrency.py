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

import asyncio
import contextvars
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


# -- greenlet_spawn on reused greenlets -----------------------------------------------
#
# Starting a greenlet and running it to its end costs ~9 us on CPython 3.11 with
# greenlet 3 (each new greenlet gets a Python data stack of its own), where switching
# into a live one costs ~0.5 us: more than a pooled ``engine.connect()`` itself. So a
# greenlet whose call has returned waits, suspended, for the next call of the same
# driver (the greenlet running the event loop); a few are kept per driver. For the code
# running inside nothing changes: ``await_only`` switches to the worker's ``driver``, the
# worker runs in the caller's context, an exception ends the worker and propagates to
# the caller, and a call is over when the worker hands back a :class:`_Done`.

_MAX_IDLE = 8  # idle workers kept per driver greenlet


class _Done:
    """A worker's call returned ``value``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


if _greenlet_mod is not None:

    class _Worker(_BridgeGreenlet):
        """A bridge greenlet that runs one call after another for the same driver."""

        def __init__(self, driver: Any) -> None:
            super().__init__(self._serve, driver)

        def _serve(self, fn: Any, args: Any, kwargs: Any) -> None:
            driver = self.driver
            while True:
                # an exception ends this greenlet and is raised in the driver's switch()
                done = _Done(fn(*args, **kwargs))
                fn = args = kwargs = None  # hold nothing of the call while idle
                fn, args, kwargs = driver.switch(done)


def _start(
    fn: Callable[..., Any], args: Any, kwargs: Any, context: contextvars.Context | None
) -> tuple[Any, Any, list[Any]]:
    """Run ``fn`` on an idle worker (or a new one) until it awaits or returns."""
    driver = _require_greenlet().getcurrent()
    idle: list[Any] | None = getattr(driver, "_hermetic_idle", None)
    if idle is None:
        idle = []
        try:
            driver._hermetic_idle = idle
        except (AttributeError, TypeError):  # a greenlet class without a __dict__
            pass
    worker = idle.pop() if idle else _Worker(driver)
    worker.gr_context = driver.gr_context if context is None else context
    return worker, worker.switch(fn, args, kwargs), idle


def _finish(worker: Any, done: _Done, idle: list[Any]) -> Any:
    value = done.value
    done.value = None
    worker.gr_context = None
    if len(idle) < _MAX_IDLE:
        idle.append(worker)
    return value


async def _drive(worker: Any, pending: Any, idle: list[Any]) -> Any:
    """Await what the worker asks for and switch back in with the result (or throw
    the exception in), until its call returns."""
    while type(pending) is not _Done:
        try:
            value = await pending
        except BaseException:
            pending = worker.throw(*sys.exc_info())
        else:
            pending = worker.switch(value)
    return _finish(worker, pending, idle)


async def greenlet_spawn(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run synchronous ``fn`` so that its ``await_only`` calls are awaited here."""
    worker, pending, idle = _start(fn, args, kwargs, None)
    if type(pending) is _Done:
        return _finish(worker, pending, idle)  # type: ignore[no-any-return]
    return await _drive(worker, pending, idle)  # type: ignore[no-any-return]


async def shielded_spawn(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` through the bridge so that cancelling the caller does not cancel it.

    ``fn`` starts here, in a copy of the caller's context (as in a task of its own):
    most releases need no I/O (a pooled connection with nothing to roll back) and end
    without awaiting, so nothing could cancel them, and no task is needed. At its first
    await, the rest moves to a task of its own, shielded from the caller's cancellation.
    """
    worker, pending, idle = _start(fn, args, {}, contextvars.copy_context())
    if type(pending) is _Done:
        return _finish(worker, pending, idle)
    task = asyncio.ensure_future(_drive(worker, pending, idle))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # the caller was cancelled: let the release finish, then re-raise
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=10)
        except BaseException:
            pass
        raise


def run_coroutine_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """``await_only`` when inside the bridge; otherwise an error naming the fix."""
    return await_only(coro)
