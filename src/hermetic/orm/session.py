"""The Session: identity map, unit of work and transaction scope.

A Session starts a transaction on first use ("autobegin") and takes a connection from
the engine's pool only when it first needs one; ``commit()``, ``rollback()`` and
``close()`` give the connection back. Objects move through the documented states
(transient, pending, persistent, deleted, detached); ``inspect(obj)`` reports them.

A flush that fails leaves the objects as they were before it and the database as it was
at the start of the transaction; the Session then refuses work with
PendingRollbackError until ``rollback()``.
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from hermetic import exc
from hermetic.engine.base import Connection, Engine
from hermetic.orm import exc as orm_exc
from hermetic.orm import loading, persistence, strategies
from hermetic.orm.events import _SessionEventFinder, has_session_listeners, session_listeners
from hermetic.orm.mapper import Mapper
from hermetic.orm.state import (
    STATE_ATTR,
    IdentityKey,
    IdentityMap,
    InstanceState,
    instance_state,
)
from hermetic.pool import sites

_session_ids = itertools.count(1)
_sessions: weakref.WeakValueDictionary[int, Session] = weakref.WeakValueDictionary()

ACTIVE = "active"
DEACTIVE = "deactive"  # a flush failed: rollback() required
CLOSED = "closed"
COMMITTED = "committed"


class IdentitySet:
    """A set of objects compared by identity (``session.new`` / ``dirty`` / ``deleted``)."""

    def __init__(self, objects: Iterable[Any] = ()) -> None:
        self._members: dict[int, Any] = {id(o): o for o in objects}

    def __contains__(self, obj: object) -> bool:
        return id(obj) in self._members

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._members.values()))

    def __len__(self) -> int:
        return len(self._members)

    def __bool__(self) -> bool:
        return bool(self._members)

    def __repr__(self) -> str:
        return f"IdentitySet({list(self._members.values())!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IdentitySet):
            return set(self._members) == set(other._members)
        if isinstance(other, (set, frozenset, list)):
            return set(self._members) == {id(o) for o in other}
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class SessionTransaction:
    """One level of a Session's transaction: the root, or a SAVEPOINT (``nested``)."""

    def __init__(
        self, session: Session, parent: SessionTransaction | None = None, nested: bool = False
    ) -> None:
        # weak: a Session and its transaction form no reference cycle, so a Session
        # dropped while holding a connection is finalized at once (see __del__)
        self._session_ref = session._wref
        self._parent = parent
        self.nested = nested
        self._state = ACTIVE
        self._error: BaseException | None = None
        # bind -> (connection, transaction or None, close the connection at the end)
        self._connections: dict[Any, tuple[Connection, Any, bool]] = {}
        self._new: dict[InstanceState, Any] = {}  # made persistent in this transaction
        self._deleted: dict[InstanceState, Any] = {}  # deleted (flushed) in this transaction
        session._dispatch("after_transaction_create", session, self)

    @property
    def session(self) -> Session:
        session = self._session_ref()
        if session is None:
            raise exc.InvalidRequestError("This transaction's Session has been garbage collected")
        return session

    @property
    def parent(self) -> SessionTransaction | None:
        return self._parent

    @property
    def is_active(self) -> bool:
        return self._state == ACTIVE

    @property
    def origin(self) -> SessionTransaction:
        t = self
        while t._parent is not None:
            t = t._parent
        return t

    def _connection_for_bind(self, bind: Any, execution_options: Any = None) -> Connection:
        found = self._connections.get(bind)
        if found is not None:
            return found[0]
        if self._parent is not None:
            conn = self._parent._connection_for_bind(bind, execution_options)
            trans = conn.begin_nested() if self.nested else None
            self._connections[bind] = (conn, trans, False)
            return conn
        session = self.session
        if isinstance(bind, Connection):
            conn = bind
            if conn.in_transaction():
                # join the caller's transaction: commit leaves it to the caller; use a
                # savepoint when the caller is inside one
                if session.join_transaction_mode == "create_savepoint" or (
                    session.join_transaction_mode == "conservative_savepoint"
                    and conn.in_nested_transaction()
                ):
                    trans = conn.begin_nested()
                    self._connections[bind] = (conn, trans, False)
                else:
                    self._connections[bind] = (
                        conn,
                        _Joined(conn, session.join_transaction_mode),
                        False,
                    )
                return conn
            self._connections[bind] = (conn, conn.begin(), False)
        else:
            conn = bind.connect()
            if execution_options:
                conn = conn.execution_options(**execution_options)
            try:
                trans = conn.begin()
            except BaseException:
                conn.close()
                raise
            self._connections[bind] = (conn, trans, True)
            conn._session_site = session._created_at
        session._dispatch("after_begin", session, self, conn)
        return conn

    def _check_active(self) -> None:
        if self._state == DEACTIVE:
            raise exc.PendingRollbackError(
                "This Session's transaction has been rolled back due to a previous exception "
                f"during flush ({type(self._error).__name__}: {self._error}). Call "
                "session.rollback() before using the Session again (a `with Session(...)` "
                "block or sessionmaker.begin() does that for you)",
                code="7s2a",
            )
        if self._state != ACTIVE:
            raise exc.InvalidRequestError(f"This transaction is {self._state}")

    # -- end ------------------------------------------------------------------------------
    def commit(self, _to_root: bool = False) -> None:
        session = self.session
        self._check_active()
        session.flush()
        if not self.nested:
            session._dispatch("before_commit", session)
            session.flush()  # before_commit may change objects
        for _conn, trans, _ in self._connections.values():
            if trans is not None:
                trans.commit()
        self._state = COMMITTED
        if self.nested:
            parent = self._parent
            assert parent is not None
            parent._new.update(self._new)
            parent._deleted.update(self._deleted)
        else:
            session._after_commit(self)
        self._close_connections()
        session._transaction = self._parent
        session._dispatch("after_transaction_end", session, self)
        if not self.nested:
            session._dispatch("after_commit", session)

    def rollback(self, _capture: bool = False, _orm: bool = True) -> None:
        session = self.session
        errors: list[BaseException] = []
        for _conn, trans, _ in self._connections.values():
            if trans is not None:
                try:
                    trans.rollback()
                except BaseException as e:  # still give the connection back
                    errors.append(e)
        self._state = CLOSED
        if _orm:
            session._after_rollback(self)
        self._close_connections()
        session._transaction = self._parent
        session._dispatch("after_transaction_end", session, self)
        session._dispatch("after_rollback", session)
        session._dispatch("after_soft_rollback", session, self)
        if errors:
            raise errors[0]

    def close(self) -> None:
        if self._state in (ACTIVE, DEACTIVE):
            self.rollback()

    def _close_connections(self) -> None:
        first: BaseException | None = None
        for conn, _trans, autoclose in self._connections.values():
            if autoclose:
                try:
                    conn.close()
                except BaseException as e:
                    first = first or e
        self._connections.clear()
        if first is not None:
            raise first

    def _fail(self, error: BaseException) -> None:
        """A flush failed: roll the database back now; the session waits for rollback()."""
        for _conn, trans, _ in self._connections.values():
            if trans is not None and getattr(trans, "is_active", True):
                try:
                    trans.rollback()
                except BaseException:
                    pass
        t: SessionTransaction | None = self
        while t is not None:
            t._state = DEACTIVE
            t._error = error
            if t.nested:
                break
            t = t._parent

    # context manager: commit on success, rollback on error
    def __enter__(self) -> SessionTransaction:
        return self

    def __exit__(self, type_: Any, value: Any, tb: Any) -> None:
        if self.session._transaction is None or self._state not in (ACTIVE, DEACTIVE):
            return
        if type_ is None:
            try:
                # inner transactions end with this one
                while (
                    self.session._transaction is not None and self.session._transaction is not self
                ):
                    self.session._transaction.commit()
                self.commit()
            except BaseException:
                if self.session._transaction is not None:
                    with contextlib.suppress(Exception):
                        self.session._transaction.rollback()
                raise
        else:
            while self.session._transaction is not None and self.session._transaction is not self:
                self.session._transaction.rollback()
            self.rollback()

    def __repr__(self) -> str:
        return f"<SessionTransaction {self._state}{' nested' if self.nested else ''}>"


class _Joined:
    """Stand-in transaction when a Session joins a Connection's transaction: commit is
    the caller's business; rollback rolls the caller's transaction back
    ("rollback_only"), except in "create_savepoint" mode."""

    def __init__(self, conn: Connection, mode: str) -> None:
        self.conn = conn
        self.mode = mode
        self.is_active = True

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        if self.mode in ("rollback_only", "conservative_savepoint"):
            trans = self.conn.get_transaction()
            if trans is not None:
                trans.rollback()


class Session:
    """Manages persistence operations for ORM-mapped objects (SQLAlchemy 2.0 API)."""

    _is_session = True
    _event_dispatch = _SessionEventFinder()

    def __init__(
        self,
        bind: Engine | Connection | None = None,
        *,
        autoflush: bool = True,
        future: bool = True,
        expire_on_commit: bool = True,
        autobegin: bool = True,
        twophase: bool = False,
        binds: Mapping[Any, Any] | None = None,
        enable_baked_queries: bool = True,
        info: dict[Any, Any] | None = None,
        query_cls: type | None = None,
        autocommit: bool = False,
        join_transaction_mode: str = "conservative_savepoint",
        close_resets_only: Any = True,
        n_plus_one: str | None = None,
        n_plus_one_threshold: int | None = None,
        fetch_peers: bool | None = None,
    ) -> None:
        if autocommit:
            raise exc.ArgumentError(
                "autocommit=True is not supported (removed in SQLAlchemy 2.0); use "
                "`with session.begin():` or call session.commit()"
            )
        # N+1 detection ("warn", "raise", "off"; default: the engine's execution option
        # n_plus_one, else "warn") and peer loading (see hermetic.orm.strategies)
        if n_plus_one not in (None, "warn", "raise", "off"):
            raise exc.ArgumentError(
                f"n_plus_one must be 'warn', 'raise' or 'off', got {n_plus_one!r}"
            )
        self.n_plus_one = n_plus_one
        self.n_plus_one_threshold = n_plus_one_threshold
        self.fetch_peers = fetch_peers
        self.bind = bind
        self.binds: dict[Any, Any] = dict(binds or {})
        self.autoflush = autoflush
        self.expire_on_commit = expire_on_commit
        self.autobegin = autobegin
        self.twophase = twophase
        self.join_transaction_mode = join_transaction_mode
        self._query_cls = query_cls
        self.identity_map = IdentityMap()
        self._new: dict[InstanceState, Any] = {}
        self._deleted: dict[InstanceState, Any] = {}  # marked, not yet flushed
        self._deleted_flushed: dict[InstanceState, Any] = {}
        self._modified: dict[InstanceState, Any] = {}
        self._transaction: SessionTransaction | None = None
        self._flushing = False
        self._no_autoflush = 0
        self._insert_counter = itertools.count()
        self.hash_key = next(_session_ids)
        _sessions[self.hash_key] = self
        self._wref = weakref.ref(self)
        self._info = info
        self._created_at = sites.user_site()
        self._warn_on_gc = True
        self.dispatch_target: Any = None

    # -- events -------------------------------------------------------------------------
    def _dispatch(self, name: str, *args: Any) -> None:
        for fn in session_listeners(self, name):
            fn(*args)

    # -- info ---------------------------------------------------------------------------
    @property
    def info(self) -> dict[Any, Any]:
        if self._info is None:
            self._info = {}
        return self._info

    def __repr__(self) -> str:
        return f"<hermetic.orm.Session object at {hex(id(self))}>"

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> Session:
        return self

    def __exit__(self, type_: Any, value: Any, tb: Any) -> None:
        self.close()

    # -- transactions ------------------------------------------------------------------------
    def _autobegin_t(self) -> SessionTransaction:
        t = self._transaction
        if t is None:
            if not self.autobegin:
                raise exc.InvalidRequestError(
                    "Autobegin is disabled on this Session (autobegin=False); call "
                    "session.begin() before using it"
                )
            t = self._transaction = SessionTransaction(self)
        return t

    def begin(self, nested: bool = False) -> SessionTransaction:
        """Begin a transaction (or a SAVEPOINT with ``nested=True``); use it as a context
        manager to commit on success and roll back on error."""
        if nested:
            return self.begin_nested()
        if self._transaction is not None:
            raise exc.InvalidRequestError(
                "A transaction is already begun on this Session (it begins on first use). "
                "Call commit() or rollback() first, or use begin_nested() for a SAVEPOINT"
            )
        t = self._transaction = SessionTransaction(self)
        return t

    def begin_nested(self) -> SessionTransaction:
        """A SAVEPOINT: ``with session.begin_nested():`` rolls back only its own work."""
        parent = self._autobegin_t()
        parent._check_active()
        self.flush()
        t = self._transaction = SessionTransaction(self, parent, nested=True)
        return t

    def in_transaction(self) -> bool:
        return self._transaction is not None

    def in_nested_transaction(self) -> bool:
        t = self._transaction
        while t is not None:
            if t.nested:
                return True
            t = t._parent
        return False

    def get_transaction(self) -> SessionTransaction | None:
        t = self._transaction
        return t.origin if t is not None else None

    def get_nested_transaction(self) -> SessionTransaction | None:
        t = self._transaction
        while t is not None:
            if t.nested:
                return t
            t = t._parent
        return None

    @property
    def is_active(self) -> bool:
        t = self._transaction
        return t is None or t._state == ACTIVE

    def commit(self) -> None:
        """Flush, then commit the transaction (starting one first if none is open)."""
        t = self._transaction
        if t is None:
            t = self._autobegin_t()
        t._check_active()
        while self._transaction is not None:
            self._transaction.commit()
            if self._transaction is t._parent:
                if t.nested:
                    continue
                break

    def rollback(self) -> None:
        """Roll back the whole transaction (every SAVEPOINT too)."""
        while self._transaction is not None:
            self._transaction.rollback()

    def close(self) -> None:
        """Give back the connection (rolling back) and detach every object; loaded
        attributes stay readable on the detached objects."""
        try:
            while self._transaction is not None:
                self._transaction.rollback(_orm=False)
        finally:
            self.expunge_all()

    def reset(self) -> None:
        self.close()

    def invalidate(self) -> None:
        t = self._transaction
        conns: list[Connection] = []
        while t is not None:
            conns.extend(c for c, _, _ in t._connections.values())
            t = t._parent
        for c in conns:
            with contextlib.suppress(Exception):
                c.invalidate()
        self.close()

    # -- binds and connections ----------------------------------------------------------
    def get_bind(self, mapper: Any = None, *, clause: Any = None, **kw: Any) -> Any:
        if self.binds and mapper is not None:
            m = mapper if isinstance(mapper, Mapper) else getattr(mapper, "__mapper__", None)
            if m is not None:
                for cls_ in m.class_.__mro__:
                    if cls_ in self.binds:
                        return self.binds[cls_]
                for t in m.tables:
                    if t in self.binds:
                        return self.binds[t]
        if self.bind is None:
            if self.binds:
                return next(iter(self.binds.values()))
            raise exc.UnboundExecutionError(
                "This Session is not bound to an engine or connection; create it with "
                "Session(engine) or sessionmaker(bind=engine)"
            )
        return self.bind

    def connection(self, bind_arguments: Any = None, execution_options: Any = None) -> Connection:
        t = self._autobegin_t()
        t._check_active()
        mapper = (bind_arguments or {}).get("mapper")
        return t._connection_for_bind(self.get_bind(mapper), execution_options)

    def _conn(self, mapper: Any = None) -> Connection:
        t = self._transaction
        if t is None:
            t = self._autobegin_t()
        t._check_active()
        bind = self.bind if (self.bind is not None and not self.binds) else self.get_bind(mapper)
        found = t._connections.get(bind)
        if found is not None:
            return found[0]
        return t._connection_for_bind(bind)

    # -- object membership ------------------------------------------------------------------
    def _holds(self, state: InstanceState) -> bool:
        if state.key is None:
            return state in self._new
        return self.identity_map._dict.get(state.key) is state or state in self._deleted_flushed

    def __contains__(self, obj: object) -> bool:
        try:
            state = instance_state(obj)
        except orm_exc.UnmappedInstanceError:
            raise
        # an object whose DELETE was flushed is no longer "in" the session
        return state.session_ref is self._wref and self._holds(state) and not state.deleted_flushed

    def __iter__(self) -> Iterator[Any]:
        return iter([*self._new.values(), *self.identity_map.values()])

    def add(self, instance: Any, _warn: bool = True) -> None:
        """Place an object in the Session: a new one is INSERTed at the next flush; a
        detached one becomes persistent again."""
        state = instance_state(instance)
        self._save_or_update(state, instance)
        self._cascade_add(state, instance)

    def _cascade_add(self, state: InstanceState, obj: Any) -> None:
        if not state.mapper._has_relationships():
            return  # only relationships cascade
        for prop in state.mapper._props.values():
            cascade = getattr(prop, "_cascade_objects", None)
            if cascade is not None:
                for child in cascade(obj, "save-update"):
                    cstate = instance_state(child)
                    if not self._owns(cstate):
                        self._save_or_update(cstate, child)
                        self._cascade_add(cstate, child)

    def _owns(self, state: InstanceState) -> bool:
        return state.session_ref is self._wref and self._holds(state)

    def _save_or_update(self, state: InstanceState, obj: Any) -> None:
        other = state.session
        if other is not None and other is not self:
            raise exc.InvalidRequestError(
                f"Object {orm_exc.object_description(obj)} is already attached to session "
                f"'{other.hash_key}' (this is '{self.hash_key}'); expunge it from the other "
                "session first, or use session.merge(obj) to copy it into this one"
            )
        if state.key is None:
            if state in self._new:
                return
            self._autobegin_t()
            state.session_ref = self._wref
            state.insert_order = next(self._insert_counter)
            self._new[state] = obj
            self._dispatch("transient_to_pending", self, obj)
        else:
            if self._holds(state) and state.session_ref is self._wref:
                if state in self._deleted:
                    return
                return
            if state.deleted_flushed or state.was_deleted:
                raise exc.InvalidRequestError(
                    f"Instance {orm_exc.object_description(obj)} has been deleted; use "
                    "make_transient(obj) to insert it again as a new row"
                )
            existing = self.identity_map._get_state(state.key)
            if existing is not None and existing is not state:
                raise exc.InvalidRequestError(
                    f"Can't attach instance {orm_exc.object_description(obj)}; another instance "
                    f"with key {state.key} is already present in this session. Use "
                    "session.merge(obj) to copy its state onto the one in the session"
                )
            self._autobegin_t()
            state.session_ref = self._wref
            self.identity_map._add(state.key, state)
            if state.modified:
                self._modified[state] = obj
            self._dispatch("detached_to_persistent", self, obj)

    def add_all(self, instances: Iterable[Any]) -> None:
        if session_listeners(self, "transient_to_pending"):
            for obj in instances:
                self.add(obj)
            return
        # What add() does, inline for the common case of a transient object of a class
        # without relationships (nothing to cascade); every other object goes to add().
        related: dict[Mapper, bool] = {}
        for obj in instances:
            d = getattr(obj, "__dict__", None)
            state = d.get(STATE_ATTR) if d is not None else None
            if state is None or state.key is not None or state.session_ref is not None:
                self.add(obj)
                continue
            mapper = state.mapper
            rel = related.get(mapper)
            if rel is None:
                rel = related[mapper] = mapper._has_relationships()
            if rel:
                self.add(obj)
                continue
            if state in self._new:
                continue
            if self._transaction is None:
                self._autobegin_t()
            state.session_ref = self._wref
            state.insert_order = next(self._insert_counter)
            self._new[state] = obj

    def delete(self, instance: Any) -> None:
        """Mark a persistent object for DELETE at the next flush."""
        state = instance_state(instance)
        if state.key is None:
            raise exc.InvalidRequestError(
                f"Instance {orm_exc.object_description(instance)} is not persisted (it has no "
                "row yet); use session.expunge(obj) to drop a pending object instead"
            )
        if state.session_ref is not self._wref or not self._holds(state):
            if state.session is not None:
                raise exc.InvalidRequestError(
                    f"Object {orm_exc.object_description(instance)} is attached to another session"
                )
            self._save_or_update(state, instance)
        if state in self._deleted or state.deleted_flushed:
            return
        self._deleted[state] = instance
        for prop in state.mapper._props.values():
            cascade = getattr(prop, "_cascade_objects", None)
            if cascade is not None:
                for child in list(cascade(instance, "delete")):
                    cstate = instance_state(child)
                    if cstate.key is not None and cstate not in self._deleted:
                        self.delete(child)

    def expunge(self, instance: Any) -> None:
        """Remove an object from the Session (it becomes transient or detached)."""
        state = instance_state(instance)
        if state.session_ref is not self._wref or not self._holds(state):
            raise exc.InvalidRequestError(
                f"Instance {orm_exc.object_description(instance)} is not present in this Session"
            )
        self._expunge_state(state)
        for prop in state.mapper._props.values():
            cascade = getattr(prop, "_cascade_objects", None)
            if cascade is not None:
                for child in list(cascade(instance, "expunge")):
                    cstate = instance_state(child)
                    if cstate.session_ref is self._wref and self._holds(cstate):
                        self.expunge(child)

    def _expunge_state(self, state: InstanceState) -> None:
        self._new.pop(state, None)
        self._deleted.pop(state, None)
        self._modified.pop(state, None)
        self._deleted_flushed.pop(state, None)
        if state.key is not None:
            self.identity_map._discard(state.key, state)
        state.session_ref = None

    def expunge_all(self) -> None:
        for state in list(self.identity_map._dict.values()):
            state.session_ref = None
        for state in itertools.chain(self._new, self._deleted_flushed):
            state.session_ref = None
        self.identity_map = IdentityMap()
        self._new = {}
        self._deleted = {}
        self._deleted_flushed = {}
        self._modified = {}

    # -- state bookkeeping used by the flush --------------------------------------------
    def _register_persistent_all(
        self, items: Iterable[tuple[InstanceState, Any, IdentityKey]]
    ) -> None:
        """:meth:`_register_persistent` for each item; inline when no listener waits."""
        if session_listeners(self, "pending_to_persistent"):
            for state, obj, key in items:
                self._register_persistent(state, obj, key)
            return
        new = self._new
        identity_map = self.identity_map
        states = identity_map._dict
        t = self._transaction
        for state, obj, key in items:
            new.pop(state, None)
            state.key = key
            state.committed = None
            state.modified = False
            states[key] = state
            if len(states) >= identity_map._prune_at:
                identity_map._prune()
            if t is not None:
                t._new[state] = obj

    def _register_persistent(self, state: InstanceState, obj: Any, key: IdentityKey) -> None:
        self._new.pop(state, None)
        state.key = key
        state.committed = None
        state.modified = False
        self.identity_map._add(key, state)
        t = self._transaction
        if t is not None:
            t._new[state] = obj
        self._dispatch("pending_to_persistent", self, obj)

    def _register_deleted(self, state: InstanceState, obj: Any) -> None:
        self._deleted.pop(state, None)
        self._modified.pop(state, None)
        if state.key is not None:
            self.identity_map._discard(state.key, state)
        state.deleted_flushed = True
        self._deleted_flushed[state] = obj
        t = self._transaction
        if t is not None:
            t._deleted[state] = obj
        self._dispatch("persistent_to_deleted", self, obj)

    def _after_commit(self, t: SessionTransaction) -> None:
        for state, _obj in list(self._deleted_flushed.items()):
            state.deleted_flushed = False
            state.was_deleted = True
            state.session_ref = None
        self._deleted_flushed.clear()
        if self.expire_on_commit:
            self._expire_all_states()

    def _after_rollback(self, t: SessionTransaction) -> None:
        # objects INSERTed in this transaction become transient again
        for state, obj in t._new.items():
            if state.key is not None:
                self.identity_map._discard(state.key, state)
            state.key = None
            state.session_ref = None
            state.committed = None
            state.modified = False
            self._dispatch("pending_to_transient", self, obj)
        # objects DELETEd in it are persistent again
        for state in t._deleted:
            self._deleted_flushed.pop(state, None)
            state.deleted_flushed = False
            if state.key is not None:
                self.identity_map._add(state.key, state)
                state.session_ref = self._wref
        # pending objects never flushed are expunged and deletions not flushed are
        # forgotten, by a SAVEPOINT's rollback too (begin_nested() flushed the ones
        # from before it)
        for state in list(self._new):
            state.session_ref = None
        self._new.clear()
        self._deleted.clear()
        if not t.nested:
            for state in list(self._deleted_flushed):
                state.deleted_flushed = False
                state.session_ref = None
            self._deleted_flushed.clear()
        self._modified.clear()
        self._expire_all_states()

    def _expire_all_states(self) -> None:
        # _expire_state(state, d, None) for each, inline: after a commit this runs for
        # every object of the session
        props_of: dict[Mapper, tuple[str, ...]] = {}
        for state in self.identity_map._dict.values():
            obj = state()
            if obj is not None:
                d = obj.__dict__
                mapper = state.mapper
                props = props_of.get(mapper)
                if props is None:
                    props = props_of[mapper] = tuple(mapper._props)
                for k in props:
                    d.pop(k, None)
                state.committed = None
                state.modified = False
                state.expired = True

    # -- flush --------------------------------------------------------------------------------
    def flush(self, objects: Sequence[Any] | None = None) -> None:
        """Write pending changes (INSERT/UPDATE/DELETE) in the current transaction."""
        if self._flushing:
            raise exc.InvalidRequestError(
                "Session is already flushing; don't call flush() (or run queries that "
                "autoflush) from inside flush event handlers - use session.no_autoflush"
            )
        if not (self._new or self._modified or self._deleted):
            return
        self._flushing = True
        try:
            self._flush(objects)
        finally:
            self._flushing = False

    def _flush(self, objects: Sequence[Any] | None) -> None:
        t = self._autobegin_t()
        t._check_active()
        self._dispatch("before_flush", self, None, objects)
        # handlers may add objects; cascades of new objects' relationships too
        related: dict[Mapper, bool] = {}  # only relationships cascade: asked per mapper
        for pending in (self._new, self._modified):
            for state, obj in list(pending.items()):
                mapper = state.mapper
                rel = related.get(mapper)
                if rel is None:
                    rel = related[mapper] = mapper._has_relationships()
                if rel:
                    self._cascade_add(state, obj)
        conn = self._conn()
        try:
            # relationships first: foreign keys from related objects, cascades, orphans
            # (they may add objects to the flush)
            hooks = _relationship_hooks(self)
            for hook in hooks:
                hook.before(self, conn)
            only: set[int] | None = None
            if objects is not None:
                only = {id(instance_state(o)) for o in objects}
            new = sorted(
                ((s, o) for s, o in self._new.items() if only is None or id(s) in only),
                key=lambda so: so[0].insert_order,
            )
            deleted = [(s, o) for s, o in self._deleted.items() if only is None or id(s) in only]
            deleted_ids = {id(s) for s, _ in deleted}
            modified = [
                (s, o)
                for s, o in self._modified.items()
                if (only is None or id(s) in only) and id(s) not in deleted_ids
            ]
            finish = persistence.flush(self, new, modified, deleted, conn)
            for hook in hooks:
                hook.after(self, conn)
        except BaseException as e:
            t._fail(e)
            raise
        finish()
        self._dispatch("after_flush", self, None)
        self._dispatch("after_flush_postexec", self, None)

    def _autoflush(self) -> None:
        if (
            self.autoflush
            and not self._no_autoflush
            and not self._flushing
            and (self._new or self._modified or self._deleted)
        ):
            try:
                self.flush()
            except exc.StatementError as e:
                e.add_detail(
                    "raised as a result of Query-invoked autoflush; consider using a "
                    "session.no_autoflush block if this flush is occurring prematurely"
                )
                raise

    @property
    @contextlib.contextmanager
    def no_autoflush(self) -> Iterator[Session]:
        """``with session.no_autoflush:`` queries inside do not flush first."""
        self._no_autoflush += 1
        try:
            yield self
        finally:
            self._no_autoflush -= 1

    # -- what changed -----------------------------------------------------------------------
    @property
    def new(self) -> IdentitySet:
        return IdentitySet(self._new.values())

    @property
    def dirty(self) -> IdentitySet:
        return IdentitySet(
            o for s, o in self._modified.items() if s.key is not None and s not in self._deleted
        )

    @property
    def deleted(self) -> IdentitySet:
        return IdentitySet(self._deleted.values())

    def is_modified(self, instance: Any, include_collections: bool = True) -> bool:
        state = instance_state(instance)
        if state.key is None:
            return False
        d = instance.__dict__
        if persistence._changed_values(state, d):
            return True
        if include_collections:
            for prop in state.mapper._props.values():
                changed = getattr(prop, "_has_changes", None)
                if changed is not None and changed(state, instance):
                    return True
        return False

    # -- expire / refresh ---------------------------------------------------------------
    def expire(self, instance: Any, attribute_names: Iterable[str] | None = None) -> None:
        """Forget loaded values; the next access reloads them from the database."""
        state = instance_state(instance)
        if state.key is None or not self._owns(state):
            raise exc.InvalidRequestError(
                f"Instance {orm_exc.object_description(instance)} is not persistent within "
                "this Session"
            )
        _expire_state(state, instance.__dict__, attribute_names)
        if attribute_names is None:
            self._modified.pop(state, None)

    def expire_all(self) -> None:
        self._expire_all_states()
        self._modified.clear()

    def refresh(
        self,
        instance: Any,
        attribute_names: Iterable[str] | None = None,
        with_for_update: Any = None,
    ) -> None:
        """Reload an object's attributes from the database now."""
        state = instance_state(instance)
        if state.key is None or not self._owns(state):
            raise exc.InvalidRequestError(
                f"Instance {orm_exc.object_description(instance)} is not persistent within "
                "this Session; add it (session.add) or merge it first"
            )
        self._autoflush()
        keys = list(attribute_names) if attribute_names is not None else None
        if keys is None:
            _expire_state(state, instance.__dict__, None)
        else:
            _expire_state(state, instance.__dict__, keys)
        self._load_unloaded(
            state, instance, None, keys=keys, for_update=with_for_update, refresh=True
        )
        for key in keys or ():
            prop = state.mapper._props.get(key)
            load_for = getattr(prop, "_load_for", None)
            if prop is not None and prop._is_relationship and load_for is not None:
                load_for(self, state, instance)  # a named relationship loads now

    def _load_unloaded(
        self,
        state: InstanceState,
        obj: Any,
        key: str | None,
        keys: Sequence[str] | None = None,
        for_update: Any = None,
        refresh: bool = False,
    ) -> None:
        """Load an object's missing column attributes (expired ones, or one deferred
        column); relationships load through their own loaders."""
        mapper = state.mapper
        d = obj.__dict__
        if key is not None:
            prop = mapper._props.get(key)
            loader = getattr(prop, "_load_for", None)
            if loader is not None:
                loader(self, state, obj)
                return
        if keys is None:
            if key is not None and mapper._props[key].deferred:  # type: ignore[attr-defined]
                group = mapper._props[key].group  # type: ignore[attr-defined]
                keys = [
                    p.key
                    for p in mapper._column_props
                    if p.key not in d and (p.key == key or (group is not None and p.group == group))
                ]
            else:
                keys = [p.key for p in mapper._loaded_props if p.key not in d]
                if key is not None and key not in keys and key in mapper._props:
                    keys.append(key)
        else:
            keys = [k for k in keys if k in mapper._props and mapper._props[k]._is_column]
        if state.key is None:
            return
        if not keys:
            if refresh or state.expired:
                keys = list(mapper._pk_keys)
            else:
                return
        if state.deleted_flushed:
            raise orm_exc.ObjectDeletedError(state)
        stmt = loading.load_on_pk(self, mapper, state.key[1], keys)
        if for_update:
            stmt = stmt.with_for_update(**(for_update if isinstance(for_update, dict) else {}))
        conn = self._conn(mapper)
        row = conn.execute(stmt).first()
        if row is None:
            raise orm_exc.ObjectDeletedError(state)
        committed = state.committed
        for k, v in zip(keys, row, strict=False):
            if committed and k in committed:
                continue
            d[k] = v
        state.expired = False
        if refresh:
            self._dispatch_mapper("refresh", obj, None, keys)
        for prop in mapper._props.values():
            reset = getattr(prop, "_reset_on_refresh", None)
            if reset is not None and refresh and (key is None):
                reset(state, obj)

    def _load_subclass_columns(self, state: InstanceState, obj: Any) -> None:
        """A row of a base-class query turned out to be a subclass: its own table's
        columns load on first access (they are simply left unloaded)."""
        return None

    def _dispatch_mapper(self, name: str, obj: Any, *args: Any) -> None:
        from hermetic.orm.events import mapper_listeners

        for fn in mapper_listeners(instance_state(obj).mapper, name):
            fn(obj, *args)

    # -- queries ---------------------------------------------------------------------------
    def execute(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
        bind_arguments: Mapping[str, Any] | None = None,
        _parent_execute_state: Any = None,
        _add_event: Any = None,
    ) -> Any:
        """Run a statement in the Session's transaction; ``select(User)`` rows hold
        objects (from the identity map when already loaded)."""
        if has_session_listeners(self, "do_orm_execute"):
            from hermetic.orm.events import ORMExecuteState

            state = ORMExecuteState(
                self, statement, params, dict(execution_options or {}), bind_arguments
            )
            result = state._run_hooks()
            if result is not None:
                return result
            statement, params, execution_options = (
                state.statement,
                state.parameters,
                state.execution_options,
            )
        return self._execute(statement, params, execution_options, bind_arguments)

    def _execute(
        self,
        statement: Any,
        params: Any,
        execution_options: Mapping[str, Any] | None,
        bind_arguments: Mapping[str, Any] | None,
    ) -> Any:
        stmt_opts = getattr(statement, "_execution_options", None)
        opts: dict[str, Any] = dict(stmt_opts) if stmt_opts else {}
        if execution_options:
            opts.update(execution_options)
        ents = getattr(statement, "_raw_entities", None)
        first = loading._entity_mapper(ents[0][0]) if ents else None
        orm_select = first is not None or (bool(ents) and loading.has_orm_entities(statement))
        is_dml = getattr(statement, "is_dml", False)
        if not getattr(statement, "_is_textual", False) and opts.get("autoflush", True):
            self._autoflush()
        mapper = None
        if bind_arguments and "mapper" in bind_arguments:
            mapper = bind_arguments["mapper"]
        elif orm_select:
            mapper = first
        if is_dml:
            from hermetic.orm.bulk import execute_orm_dml

            handled = execute_orm_dml(self, statement, params, opts)
            if handled is not None:
                return handled
        if bind_arguments and "bind" in bind_arguments:
            bind = bind_arguments["bind"]
            t = self._autobegin_t()
            t._check_active()
            conn = t._connection_for_bind(bind)
        else:
            conn = self._conn(mapper)
        if orm_select:
            statement = _prepare_orm_select(self, statement, opts, first)
            core_opts = {k: v for k, v in opts.items() if k not in _ORM_ONLY_OPTIONS}
            result = conn.execute(statement, params, execution_options=core_opts or None)
            return loading.orm_result(self, statement, result, opts)
        core_opts = {k: v for k, v in opts.items() if k not in _ORM_ONLY_OPTIONS}
        return conn.execute(statement, params, execution_options=core_opts or None)

    def _post_load_hooks(self, stmt: Any, plan: Any, options: Any) -> Any:
        from hermetic.orm.strategies import post_load_wrapper

        return post_load_wrapper(self, stmt, plan, options)

    def scalars(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        return self.execute(statement, params, **kw).scalars()

    def scalar(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        return self.execute(statement, params, **kw).scalar()

    def get(
        self,
        entity: Any,
        ident: Any,
        *,
        options: Sequence[Any] | None = None,
        populate_existing: bool = False,
        with_for_update: Any = None,
        identity_token: Any = None,
        execution_options: Mapping[str, Any] | None = None,
        bind_arguments: Any = None,
    ) -> Any:
        """The object with this primary key: from the identity map without SQL when
        present, else loaded (None when there is no such row)."""
        mapper = _mapper_for(entity)
        pk = _normalize_ident(mapper, ident)
        key = (mapper.identity_class, pk, identity_token)
        if not populate_existing and not with_for_update and not options:
            state = self.identity_map._dict.get(key)
            if state is not None:
                obj = state()
                if obj is not None:
                    if state in self._deleted or state.deleted_flushed:
                        return None
                    if not isinstance(obj, mapper.class_):
                        return None
                    if state.expired:
                        try:
                            self._load_unloaded(state, obj, None)
                        except orm_exc.ObjectDeletedError:
                            return None
                    return obj
        stmt, names = _get_statement(mapper)
        if options:
            stmt = stmt.options(*options)
        if with_for_update:
            stmt = stmt.with_for_update(
                **(with_for_update if isinstance(with_for_update, dict) else {})
            )
        params = dict(zip(names, pk, strict=True))
        if not (
            options
            or with_for_update
            or execution_options
            or populate_existing
            or strategies._prepare_hooks
            or strategies._post_hooks
            or mapper.polymorphic_on is not None
            or mapper._dependents
            or mapper._has_relationships()
            or has_session_listeners(self, "do_orm_execute")
        ):
            # nothing to prepare or post-load and nobody to see the execution: what
            # execute(stmt, params).scalars().first() does, without the Result layers
            return loading.load_by_key(self, mapper, stmt, params)
        opts = dict(execution_options or {})
        if populate_existing:
            opts["populate_existing"] = True
        return self.execute(stmt, params, execution_options=opts).scalars().first()

    def get_one(self, entity: Any, ident: Any, **kw: Any) -> Any:
        obj = self.get(entity, ident, **kw)
        if obj is None:
            raise exc.NoResultFound(
                f"No row was found for {_mapper_for(entity).class_.__name__} with primary key "
                f"{ident!r}"
            )
        return obj

    def merge(self, instance: Any, *, load: bool = True, options: Any = None) -> Any:
        """Copy the state of ``instance`` onto the persistent object with the same
        primary key (loaded or created), and return that object."""
        return _merge(self, instance, load, {})

    def query(self, *entities: Any, **kw: Any) -> Any:
        from hermetic.orm.query import Query

        cls = self._query_cls or Query
        return cls(entities, self)

    def enable_relationship_loading(self, obj: Any) -> None:
        instance_state(obj).session_ref = self._wref

    # -- legacy bulk API ------------------------------------------------------------------
    def bulk_save_objects(
        self,
        objects: Iterable[Any],
        return_defaults: bool = False,
        update_changed_only: bool = True,
        preserve_order: bool = True,
    ) -> None:
        self.add_all(objects)
        self.flush()

    def bulk_insert_mappings(
        self,
        mapper: Any,
        mappings: Iterable[Mapping[str, Any]],
        return_defaults: bool = False,
        render_nulls: bool = False,
    ) -> None:
        from hermetic.sql.dml import insert as _insert

        m = _mapper_for(mapper)
        rows = [dict(r) for r in mappings]
        if rows:
            self.execute(_insert(m.class_), rows)

    def bulk_update_mappings(self, mapper: Any, mappings: Iterable[Mapping[str, Any]]) -> None:
        from hermetic.sql.dml import update as _update

        m = _mapper_for(mapper)
        rows = [dict(r) for r in mappings]
        if rows:
            self.execute(_update(m.class_), rows)

    # -- garbage collection of a session holding a connection -----------------------------
    def __del__(self) -> None:
        t = self.__dict__.get("_transaction")
        if t is None:
            return
        holding = False
        tt = t
        while tt is not None:
            if any(autoclose for _, _, autoclose in tt._connections.values()):
                holding = True
            tt = tt._parent
        if not holding:
            return
        site = self.__dict__.get("_created_at") or "an unknown place"
        try:
            warnings.warn(
                f"A Session created at {site} was garbage collected while holding a "
                "database connection; the connection was rolled back and returned to the "
                "pool. Close sessions when done: `with Session(engine) as session:` or "
                "session.close() in a finally block",
                exc.ConnectionLeakWarning,
                stacklevel=2,
            )
        except Exception:
            pass
        try:
            root = t.origin
            for conn, _trans, autoclose in root._connections.values():
                if autoclose:
                    with contextlib.suppress(BaseException):
                        conn.close()
        except BaseException:
            pass


_ORM_ONLY_OPTIONS = frozenset(
    {
        "populate_existing",
        "autoflush",
        "synchronize_session",
        "identity_token",
        "dml_strategy",
        "is_delete_using",
        "is_update_from",
        "render_nulls",
        "_sa_orm_load_options",
    }
)


def _prepare_orm_select(
    session: Session, stmt: Any, opts: dict[str, Any], mapper: Mapper | None = None
) -> Any:
    """``mapper``: that of the statement's first entity, when known."""
    if not strategies._prepare_hooks and not getattr(stmt, "_with_options", None):
        # nothing to prepare (no hooks, no options, no relationship to join eagerly)
        if mapper is None:
            ents = stmt._raw_entities
            mapper = loading._entity_mapper(ents[0][0]) if ents else None
        if mapper is None:
            return stmt
        mapper._check_configure()
        if not mapper._has_relationships():
            return stmt
    return strategies.prepare_select(session, stmt, opts)


def _get_statement(mapper: Mapper) -> tuple[Any, tuple[str, ...]]:
    """``session.get()``'s SELECT of a mapper by primary key, with one bound parameter
    per key column (and their names): built once per mapper, so a get compiles once."""
    cached = mapper.__dict__.get("_get_stmt")
    if cached is not None and cached[0] == len(mapper._props):
        return cached[1]  # type: ignore[no-any-return]
    from hermetic.sql.elements import bindparam
    from hermetic.sql.selectable import Select

    names = tuple(f"pk_{i + 1}" for i in range(len(mapper.primary_key)))
    stmt = Select([mapper.class_])
    for col, name in zip(mapper.primary_key, names, strict=True):
        stmt = stmt.where(col == bindparam(name, type_=col.type))
    mapper.__dict__["_get_stmt"] = (len(mapper._props), (stmt, names))
    return stmt, names


def _relationship_hooks(session: Session) -> list[Any]:
    from hermetic.orm.dependency import flush_hooks

    return flush_hooks(session)


def _expire_state(state: InstanceState, d: dict[str, Any], keys: Iterable[str] | None) -> None:
    mapper = state.mapper
    if keys is None:
        for k in mapper._props:
            d.pop(k, None)
        state.committed = None
        state.modified = False
        state.expired = True
    else:
        for k in keys:
            d.pop(k, None)
            if state.committed:
                state.committed.pop(k, None)


def _mapper_for(entity: Any) -> Mapper:
    if isinstance(entity, Mapper):
        return entity
    m = loading._entity_mapper(entity)
    if m is None:
        if isinstance(entity, type):
            raise orm_exc.UnmappedClassError(entity)
        raise exc.ArgumentError(f"Expected a mapped class or mapper, got {entity!r}")
    return m


def _normalize_ident(mapper: Mapper, ident: Any) -> tuple[Any, ...]:
    kind = type(ident)
    if kind is int or kind is str:  # the usual single-column key, before the ABC checks
        if len(mapper._pk_keys) == 1:
            return (ident,)
    elif kind is tuple and len(ident) == len(mapper._pk_keys):
        return ident  # type: ignore[no-any-return]
    if isinstance(ident, Mapping):
        try:
            return tuple(ident[k] for k in mapper._pk_keys)
        except KeyError as e:
            raise exc.InvalidRequestError(
                f"Incorrect names of values in identifier: expected keys "
                f"{list(mapper._pk_keys)}, got {list(ident)}"
            ) from e
    if not isinstance(ident, (tuple, list)):
        ident = (ident,)
    if len(ident) != len(mapper.primary_key):
        raise exc.InvalidRequestError(
            f"Incorrect number of values in identifier formulation: {mapper.class_.__name__} "
            f"has a primary key of {len(mapper.primary_key)} column(s) "
            f"({', '.join(mapper._pk_keys)}), got {len(ident)} value(s)"
        )
    return tuple(ident)


def _merge(session: Session, instance: Any, load: bool, memo: dict[int, Any]) -> Any:
    if id(instance) in memo:
        return memo[id(instance)]
    state = instance_state(instance)
    mapper = state.mapper
    if state.session_ref is session._wref and session._holds(state):
        return instance
    d = instance.__dict__
    key = state.key
    if key is None:
        pk = tuple(d.get(k) for k in mapper._pk_keys)
        if all(v is not None for v in pk):
            key = (mapper.identity_class, pk, None)
    merged = None
    if key is not None:
        existing = session.identity_map._get_state(key)
        if existing is not None:
            merged = existing()
        elif load:
            merged = session.get(mapper.class_, key[1])
        elif not load and state.key is None:
            raise exc.InvalidRequestError(
                "merge() with load=False requires a persistent or detached object"
            )
    if merged is None:
        merged = object.__new__(mapper.class_)
        if not load and key is not None:
            mstate = instance_state(merged)
            for k in mapper._attr_keys:
                if k in d:
                    merged.__dict__[k] = d[k]
            mstate.key = key
            session._save_or_update(mstate, merged)
            memo[id(instance)] = merged
            return merged
        session.add(merged)
    memo[id(instance)] = merged
    for prop in mapper._props.values():
        k = prop.key
        if prop._is_column:
            if k in d:
                if load:
                    setattr(merged, k, d[k])
                else:
                    merged.__dict__[k] = d[k]
        else:
            merger = getattr(prop, "_merge", None)
            if merger is not None:
                merger(session, instance, merged, load, memo)
    return merged


class sessionmaker:
    """A factory of Sessions with fixed arguments: ``SessionLocal = sessionmaker(engine)``."""

    def __init__(
        self,
        bind: Any = None,
        *,
        class_: type = Session,
        autoflush: bool = True,
        expire_on_commit: bool = True,
        info: dict[Any, Any] | None = None,
        **kw: Any,
    ) -> None:
        kw["bind"] = bind
        kw["autoflush"] = autoflush
        kw["expire_on_commit"] = expire_on_commit
        if info is not None:
            kw["info"] = info
        self.kw = kw
        # a subclass per sessionmaker, so events on the maker reach only its sessions
        self.class_ = type(class_.__name__, (class_,), {})

    def _event_dispatch(self, identifier: str) -> Any:
        return self.class_._event_dispatch(identifier)  # type: ignore[attr-defined]

    def __call__(self, **local_kw: Any) -> Any:
        for k, v in self.kw.items():
            if k == "info" and "info" in local_kw:
                local_kw["info"] = {**v, **local_kw["info"]}
            else:
                local_kw.setdefault(k, v)
        return self.class_(**local_kw)

    @contextlib.contextmanager
    def begin(self) -> Iterator[Any]:
        """``with SessionLocal.begin() as session:`` a Session in a transaction that
        commits at the end of the block (rolls back on error) and then closes."""
        with self() as session, session.begin():
            yield session

    def configure(self, **new_kw: Any) -> None:
        self.kw.update(new_kw)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kw.items())
        return f"{type(self).__name__}(class_={self.class_.__name__!r}, {args})"


def object_session(instance: Any) -> Session | None:
    return instance_state(instance).session


def close_all_sessions() -> None:
    for s in list(_sessions.values()):
        s.close()


def make_transient(instance: Any) -> None:
    """Make an object transient: no session, no identity (its values stay)."""
    state = instance_state(instance)
    session = state.session
    if session is not None:
        session._expunge_state(state)
    state.key = None
    state.session_ref = None
    state.deleted_flushed = False
    state.was_deleted = False
    state.committed = None
    state.modified = False
    state.expired = False


def make_transient_to_detached(instance: Any) -> None:
    state = instance_state(instance)
    if state.session is not None or state.key is not None:
        raise exc.InvalidRequestError(f"Given object must be transient: {instance!r}")
    mapper = state.mapper
    state.key = (mapper.identity_class, mapper.primary_key_from_instance(instance), None)
