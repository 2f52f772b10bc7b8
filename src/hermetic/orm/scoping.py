"""``scoped_session``: one Session per scope (thread by default), proxied."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from hermetic import exc


class scoped_session:
    """``Session = scoped_session(sessionmaker(engine))``; ``Session()`` returns the
    current scope's session, ``Session.add(...)`` and friends act on it, and
    ``Session.remove()`` closes and forgets it."""

    def __init__(
        self, session_factory: Callable[..., Any], scopefunc: Callable[[], Any] | None = None
    ) -> None:
        self.session_factory = session_factory
        self._scopefunc = scopefunc
        self._local = threading.local()
        self._by_scope: dict[Any, Any] = {}

    def __call__(self, **kw: Any) -> Any:
        existing = self._current()
        if kw:
            if existing is not None:
                raise exc.InvalidRequestError(
                    "Scoped session is already present; no new arguments may be specified"
                )
            session = self.session_factory(**kw)
            self._set(session)
            return session
        if existing is None:
            existing = self.session_factory()
            self._set(existing)
        return existing

    def _current(self) -> Any:
        if self._scopefunc is not None:
            return self._by_scope.get(self._scopefunc())
        return getattr(self._local, "session", None)

    def _set(self, session: Any) -> None:
        if self._scopefunc is not None:
            self._by_scope[self._scopefunc()] = session
        else:
            self._local.session = session

    def has(self) -> bool:
        return self._current() is not None

    def remove(self) -> None:
        session = self._current()
        if session is not None:
            session.close()
        if self._scopefunc is not None:
            self._by_scope.pop(self._scopefunc(), None)
        else:
            self._local.session = None

    def configure(self, **kw: Any) -> None:
        self.session_factory.configure(**kw)  # type: ignore[attr-defined]

    @property
    def registry(self) -> Any:
        return self

    def _event_dispatch(self, identifier: str) -> Any:
        return self.session_factory._event_dispatch(identifier)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self(), name)
