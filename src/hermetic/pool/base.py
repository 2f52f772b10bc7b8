"""The sealed pool: bookkeeping shared by every pool class.

Contract (DESIGN.md §5):

* Every checkout is recorded on its :class:`ConnectionRecord` with its owner (thread or
  greenlet ident), the time and the first frame outside hermetic that asked for it (the
  full stack with ``pool_debug=True``). :meth:`Pool.holders` lists them.
* Any ``BaseException`` at any point of checkout, use or return leaves the counters true:
  the connection goes back or is invalidated, never stranded. Three mechanisms make this
  hold even for asynchronous exceptions (``PyThreadState_SetAsyncExc``, gevent timeouts)
  that can land between any two bytecodes:

  1. the user-facing :class:`PoolProxiedConnection` is created *before* a record is
     claimed, and the claim (under the pool lock) points the record at it through a
     weak reference; if the proxy dies without being returned, the weak reference's
     callback queues the record for reclaim;
  2. every claim and release happens inside ``try`` blocks whose handlers give the
     record back or invalidate it;
  3. counters are derived from the set of records (``len(records) - len(idle)``), never
     kept separately, and :meth:`Pool._sweep` (under the lock) finds any record left
     claimed by nobody, so a window no handler covers still cannot lose a slot. It runs
     when a checkout times out and before every report (``checkedout()``, ``stats()``
     ...); for it to be right, every unclaim happens in the same critical section as
     the record's return to the idle queue, hand-over to a waiter or retirement.

* A connection dropped without being returned is closed (it may be mid-transaction) and
  its slot freed, with a :class:`~hermetic.exc.ConnectionLeakWarning` naming where it was
  checked out.
* Subclasses differ only in how they find a record for a request (``_take``) and what they
  do with a returned one (``_put``). The asyncio pool of a later layer differs only in how
  it waits.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import warnings
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, ClassVar

from hermetic import exc
from hermetic._util.echo import echo_log
from hermetic.drivers.base import GenericDriver
from hermetic.event.base import Dispatch, EventSpec
from hermetic.pool import policy, sites

_monotonic = time.monotonic
_get_ident = threading.get_ident
_getframe = sys._getframe
_internal_codes = sites.internal_codes

log = logging.getLogger("hermetic.pool")


class _EchoLog:
    """The pool's messages under the ``echo_pool`` rule (:func:`echo_log`)."""

    __slots__ = ("_echo",)

    def __init__(self, echo: bool | str | None) -> None:
        self._echo = echo

    def debug(self, msg: str, *args: Any) -> None:
        echo_log(log, self._echo, logging.DEBUG, msg, args)

    def info(self, msg: str, *args: Any) -> None:
        echo_log(log, self._echo, logging.INFO, msg, args)


# record states
IDLE = 0  # in the idle queue
OUT = 1  # claimed by a proxy (checked out)
CONNECTING = 2  # a reserved slot whose connection is being opened
CLOSED = 3  # removed from the pool

DBAPIConnection = Any

POOL_EVENTS = EventSpec(
    {
        "connect": ("dbapi_connection", "connection_record"),
        "first_connect": ("dbapi_connection", "connection_record"),
        "checkout": ("dbapi_connection", "connection_record", "connection_proxy"),
        "checkin": ("dbapi_connection", "connection_record"),
        "reset": ("dbapi_connection", "connection_record", "reset_state"),
        "invalidate": ("dbapi_connection", "connection_record", "exception"),
        "soft_invalidate": ("dbapi_connection", "connection_record", "exception"),
        "close": ("dbapi_connection", "connection_record"),
        "detach": ("dbapi_connection", "connection_record"),
        "close_detached": ("dbapi_connection",),
    }
)


@dataclass(frozen=True)
class ResetState:
    """What the ``reset`` event is told about a return."""

    transaction_was_reset: bool = False
    terminate_only: bool = False
    asyncio_safe: bool = True


@dataclass(frozen=True)
class Holder:
    """One checked-out connection: who holds it, since when, from where."""

    owner: str
    owner_ident: int | None
    held_for: float
    site: str
    stack: list[str] | None = field(default=None, repr=False)
    connection_id: int = 0

    def describe(self) -> str:
        return f"{self.owner} has held it for {self.held_for:.1f}s, checked out at {self.site}"


class _ProxyRef(weakref.ref):
    """Weak reference from a record to the proxy that holds it."""

    __slots__ = ("record",)
    record: ConnectionRecord


class ConnectionRecord:
    """A pool slot and the DBAPI connection in it (SQLAlchemy's ``ConnectionPoolEntry``)."""

    __slots__ = (
        "__weakref__",
        "_pool",
        "checkout_code",
        "checkout_line",
        "checkout_stack",
        "checkout_time",
        "dbapi_connection",
        "deadline",
        "fresh",
        "info",
        "leak_warned",
        "opened_at",
        "owner_ident",
        "owner_task",
        "proxy_ref",
        "record_info",
        "state",
    )

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self.dbapi_connection: DBAPIConnection = None
        self.state = CONNECTING
        self.info: dict[Any, Any] = {}
        self.record_info: dict[Any, Any] = {}
        self.opened_at = 0.0
        self.deadline = float("inf")
        self.fresh = False
        self.proxy_ref: _ProxyRef | None = None
        self.owner_ident: int | None = None
        self.owner_task: str | None = None
        self.checkout_time = 0.0
        self.checkout_code: CodeType | None = None
        self.checkout_line = 0
        self.checkout_stack: list[str] | None = None
        self.leak_warned = False

    @property
    def driver_connection(self) -> DBAPIConnection | None:
        return self.dbapi_connection

    @property
    def in_use(self) -> bool:
        return self.state == OUT

    @property
    def site(self) -> str:
        return sites.format_site(self.checkout_code, self.checkout_line)

    def invalidate(self, e: BaseException | None = None, soft: bool = False) -> None:
        """Mark the DBAPI connection dead: it is closed now (or, ``soft``, replaced at its
        next checkout)."""
        self._pool._invalidate_record(self, e, soft=soft)

    def close(self) -> None:
        self._pool._close_connection(self)

    def __repr__(self) -> str:
        state = {IDLE: "idle", OUT: "checked out", CONNECTING: "connecting", CLOSED: "closed"}
        return f"<ConnectionRecord {state.get(self.state, '?')} {self.dbapi_connection!r}>"


ConnectionPoolEntry = ConnectionRecord


class PoolProxiedConnection:
    """What a checkout hands out: the DBAPI connection plus the promise to give it back.

    ``close()`` returns it to the pool (rolling back what was left open). Attribute access
    falls through to the DBAPI connection, so ``cursor()``, ``commit()`` ... work.
    """

    __slots__ = ("__weakref__", "_counter", "_detached_info", "_pool", "_rec", "dbapi_connection")

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._rec: ConnectionRecord | None = None
        self.dbapi_connection: DBAPIConnection = None
        self._counter = 1  # nesting count, used by SingletonThreadPool

    @property
    def info(self) -> dict[Any, Any]:
        """Per-DBAPI-connection storage (the record's ``info``; survives checkouts)."""
        rec = self._rec
        if rec is not None:
            return rec.info
        try:
            return self._detached_info
        except AttributeError:
            self._detached_info: dict[Any, Any] = {}
            return self._detached_info

    @property
    def driver_connection(self) -> DBAPIConnection | None:
        return self.dbapi_connection

    @property
    def record_info(self) -> dict[Any, Any] | None:
        return self._rec.record_info if self._rec is not None else None

    @property
    def _connection_record(self) -> ConnectionRecord | None:
        return self._rec

    @property
    def is_valid(self) -> bool:
        return self.dbapi_connection is not None

    @property
    def is_detached(self) -> bool:
        return self._rec is None and self.dbapi_connection is not None

    def cursor(self, *args: Any, **kw: Any) -> Any:
        if self.dbapi_connection is None:
            raise exc.InvalidRequestError(
                "This connection is closed or invalidated; check out a new one from the pool"
            )
        return self.dbapi_connection.cursor(*args, **kw)

    def __getattr__(self, key: str) -> Any:
        conn = object.__getattribute__(self, "dbapi_connection")
        if conn is None:
            raise AttributeError(key)
        return getattr(conn, key)

    def invalidate(self, e: BaseException | None = None, soft: bool = False) -> None:
        rec = self._rec
        if rec is None:
            if self.dbapi_connection is not None and not soft:
                conn, self.dbapi_connection = self.dbapi_connection, None
                self._pool._close_quietly(conn)
            return
        self._pool._invalidate_record(rec, e, soft=soft)
        if not soft:
            self.dbapi_connection = None
            self._pool._return(self)

    def detach(self) -> None:
        """Take the DBAPI connection out of the pool for good; its slot is freed and
        ``close()`` will really close it."""
        self._pool._detach(self)

    def close(self) -> None:
        self._counter -= 1
        if self._counter > 0:
            return
        if self._rec is not None:
            self._pool._return(self)
        elif self.dbapi_connection is not None:  # detached
            conn, self.dbapi_connection = self.dbapi_connection, None
            self._pool._close_quietly(conn)
            self._pool.dispatch_close_detached(conn)

    def __enter__(self) -> PoolProxiedConnection:
        return self

    def __exit__(self, *a: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<PoolProxiedConnection {self.dbapi_connection!r}>"


_ConnectionFairy = PoolProxiedConnection


class _PoolDispatchFinder:
    """``Pool._event_dispatch(identifier)`` for :func:`hermetic.event.listen`: the
    class-level Dispatch when looked up on a pool class, the pool's own on an instance."""

    def __get__(self, obj: Pool | None, cls: type[Pool]) -> Callable[[str], Dispatch]:
        def find(identifier: str) -> Dispatch:
            if identifier not in POOL_EVENTS.events:
                raise exc.InvalidRequestError(
                    f"Unknown pool event {identifier!r}; pool events are "
                    f"{', '.join(sorted(POOL_EVENTS.events))}"
                )
            return cls._event_dispatch_cls() if obj is None else obj.dispatch

        return find


class Pool:
    """Base of the pools: shared bookkeeping, events, reset, pre-ping, recycle, reclaim."""

    _class_dispatch: ClassVar[Dispatch] = Dispatch(POOL_EVENTS)
    _pool_kind: ClassVar[str] = "Pool"

    def __init__(
        self,
        creator: Callable[..., DBAPIConnection],
        recycle: float = -1,
        echo: bool | str | None = None,
        logging_name: str | None = None,
        reset_on_return: bool | str | None = True,
        events: list[tuple[Callable[..., Any], str]] | None = None,
        dialect: Any = None,
        pre_ping: bool = False,
        *,
        driver: Any = None,
        pool_debug: bool = False,
        leak_threshold: float | None = None,
        on_connect: Callable[[DBAPIConnection, ConnectionRecord], None] | None = None,
        on_first_connect: Callable[[DBAPIConnection, ConnectionRecord], None] | None = None,
        _dispatch: Dispatch | None = None,
    ) -> None:
        self._creator_arg = creator
        self._creator = _adapt_creator(creator)
        self._recycle = recycle
        self._echo = echo
        self.logging_name = logging_name
        self._reset_on_return = _reset_mode(reset_on_return)
        self._pre_ping = pre_ping
        self._ops: Any = driver if driver is not None else GenericDriver()
        self._dialect = dialect
        self._pool_debug = pool_debug
        self._leak_threshold = leak_threshold
        self._on_connect = on_connect
        self._on_first_connect = on_first_connect
        self._first_connect_done = False
        self.dispatch = Dispatch(POOL_EVENTS, parent=type(self)._event_dispatch_cls())
        if _dispatch is not None:  # recreate(): carry the instance listeners over
            for name in POOL_EVENTS.events:
                for w in _dispatch._own[name]:
                    self.dispatch._own[name].append(w)
                self.dispatch._rebuild(name)
        for fn, target in events or ():
            self.dispatch.add(target, fn)
        self._lock = threading.Lock()
        self._records: set[ConnectionRecord] = set()
        self._idle: deque[ConnectionRecord] = deque()
        self._reclaim: deque[_ProxyRef] = deque()
        self._invalidated_before = -1.0
        # Blocked checkouts, oldest first (only pools that wait have any), and how many
        # returned connections the idle queue keeps before _put() must decide (0: always
        # ask _put()).
        self._waiters: deque[Any] = deque()
        self._idle_cap = 0
        self._claim_extras_needed = bool(pool_debug or leak_threshold)
        self._async_bridge = False  # set by the asyncio pools
        # Whether checkouts must look at the connection (pre-ping, recycle, or a
        # server restart was seen); decided once so the common checkout skips it.
        self._health_checks = bool(pre_ping) or recycle >= 0
        self._disposed = False
        self._log_debug = echo == "debug" or log.isEnabledFor(logging.DEBUG)
        self._log_info = bool(echo) or log.isEnabledFor(logging.INFO)
        self._echo_log = _EchoLog(echo)
        self._watchdog: threading.Thread | None = None
        # counters (see PoolStats)
        self._n_requests = 0
        self._n_waits = 0
        self._wait_time = 0.0
        self._n_timeouts = 0
        self._use_time = 0.0
        self._n_returns = 0
        self._n_opened = 0
        self._n_closed = 0
        self._n_connect_errors = 0
        self._n_lost = 0
        self._n_reclaimed = 0
        self._n_returns_bad = 0
        self._n_leaks = 0
        # repr() only: the exception's traceback would keep the frames of the failed
        # checkout alive, and with them whatever those frames hold (checked-out
        # connections included, which then could never be reclaimed).
        self._last_connect_error: str | None = None

    # ------------------------------------------------------------------ events
    @classmethod
    def _event_dispatch_cls(cls) -> Dispatch:
        # Each pool class gets its own class-level Dispatch, chained to its base's, so a
        # listener on QueuePool reaches every QueuePool (existing ones included) and one
        # on Pool reaches every pool.
        if "_class_dispatch" not in cls.__dict__:
            base = next(b for b in cls.__mro__[1:] if issubclass(b, Pool))
            cls._class_dispatch = Dispatch(POOL_EVENTS, parent=base._event_dispatch_cls())
        return cls._class_dispatch

    _event_dispatch = _PoolDispatchFinder()

    def dispatch_close_detached(self, conn: DBAPIConnection) -> None:
        for fn in self.dispatch.close_detached:  # type: ignore[attr-defined]
            fn(conn)

    # ------------------------------------------------------------------ public API
    def connect(self) -> PoolProxiedConnection:
        """Check out a connection."""
        return self._checkout(2)

    def _checkout(self, depth: int) -> PoolProxiedConnection:
        proxy = PoolProxiedConnection(self)
        # The checkout site (inlined for speed): the first frame at or above ``depth``
        # whose code is not hermetic's; the line is computed from f_lasti only when a
        # report needs it.
        try:
            f: Any = _getframe(depth)
        except ValueError:  # called from a shallower stack than the entry point assumes
            f = _getframe(1)
        internal = _internal_codes
        while f is not None:
            code = f.f_code
            known = internal.get(code)
            if known is None:
                known = sites.is_internal(code)
            if not known:
                break
            f = f.f_back
            if f is None and self._async_bridge:
                # under asyncio the caller's frames are those of the coroutine that
                # awaits this greenlet
                from hermetic._concurrency import awaiting_frame

                f = awaiting_frame()
        if f is None:
            code, line = None, 0
        else:
            line = f.f_lasti
        del f
        try:
            self._take(proxy, code, line, depth)
            rec = proxy._rec
            assert rec is not None
            if rec.dbapi_connection is None:
                self._open(rec)
                rec.state = OUT
            elif self._health_checks:
                self._check_health(rec)
            proxy.dbapi_connection = rec.dbapi_connection
            if self.dispatch.checkout:  # type: ignore[attr-defined]
                self._fire_checkout(proxy, rec)
            if self._log_debug:
                self._echo_log.debug("Connection %r checked out from pool", rec.dbapi_connection)
            return proxy
        except BaseException as e:
            self._abort_checkout(proxy, e)
            raise

    def _invalidate_older(self, opened_before: float) -> None:
        """Mark every connection opened before this time as dead (a server restart)."""
        self._invalidated_before = opened_before
        self._health_checks = True

    def _fire_checkout(self, proxy: PoolProxiedConnection, rec: ConnectionRecord) -> None:
        attempts = 3
        while True:
            try:
                for fn in self.dispatch.checkout:  # type: ignore[attr-defined]
                    fn(rec.dbapi_connection, rec, proxy)
                return
            except exc.DisconnectionError as e:
                attempts -= 1
                if e.invalidate_pool:
                    self._invalidate_older(_monotonic())
                self._close_connection(rec, e)
                if attempts <= 0:
                    raise exc.InvalidRequestError(
                        "A checkout listener reported the connection dead (DisconnectionError)"
                        " three times in a row; giving up"
                    ) from e
                self._open(rec)
                proxy.dbapi_connection = rec.dbapi_connection

    def status(self) -> str:
        self._maintain()
        return (
            f"Pool size: {self.size()}  Connections in pool: {self.checkedin()} "
            f"Current Overflow: {self.overflow()} Current Checked out connections: "
            f"{self.checkedout()}"
        )

    @property
    def echo(self) -> bool | str | None:
        """The ``echo_pool`` setting (``True``, ``"debug"`` or off)."""
        return self._echo

    def size(self) -> int:
        return 0

    def timeout(self) -> float:
        return 0.0

    def overflow(self) -> int:
        return 0

    def checkedin(self) -> int:
        self._maintain()
        return len(self._idle)

    def checkedout(self) -> int:
        self._maintain()
        return len(self._records) - len(self._idle)

    def holders(self) -> list[Holder]:
        """Every checked-out connection, oldest first, with its owner and checkout site."""
        self._maintain()
        now = _monotonic()
        with self._lock:
            recs = [r for r in self._records if r.state != IDLE and r.owner_ident is not None]
            snapshot = [
                (
                    r.owner_ident,
                    r.owner_task,
                    r.checkout_time,
                    r.checkout_code,
                    r.checkout_line,
                    r.checkout_stack,
                    id(r.dbapi_connection),
                )
                for r in recs
            ]
        snapshot.sort(key=lambda s: s[2])
        return [
            Holder(
                owner=sites.owner_name(ident, task),
                owner_ident=ident,
                held_for=now - t,
                site=sites.format_site(code, line),
                stack=stack,
                connection_id=cid,
            )
            for ident, task, t, code, line, stack, cid in snapshot
        ]

    def stats(self) -> policy.PoolStats:
        self._maintain()
        with self._lock:
            idle = len(self._idle)
            total = len(self._records)
            pending = self._pending()
        return policy.PoolStats(
            pool_name=self.logging_name or f"{type(self).__name__}@{id(self):x}",
            size=total,
            idle=idle,
            used=total - idle,
            pending_requests=pending,
            max=self._max_connections(),
            idle_max=self.size(),
            requests=self._n_requests,
            waits=self._n_waits,
            wait_time=self._wait_time,
            timeouts=self._n_timeouts,
            use_time=self._use_time,
            returns=self._n_returns,
            connections_opened=self._n_opened,
            connections_closed=self._n_closed,
            connections_errors=self._n_connect_errors,
            connections_lost=self._n_lost,
            reclaimed=self._n_reclaimed,
            returns_bad=self._n_returns_bad,
            leaks_suspected=self._n_leaks,
        )

    def dispose(self) -> None:
        """Close every idle connection. Checked-out connections are closed when they come
        back (they are not interrupted)."""
        with self._lock:
            idle = list(self._idle)
            self._idle.clear()
            for rec in idle:
                rec.state = CLOSED
                self._records.discard(rec)
            self._disposed = True
        for rec in idle:
            self._close_connection(rec)
        if self._log_info:
            self._echo_log.info("Pool disposed. %s", self.status())

    def recreate(self) -> Pool:
        """A new pool of the same class and configuration (listeners included)."""
        raise NotImplementedError

    def _common_kw(self) -> dict[str, Any]:
        return {
            "recycle": self._recycle,
            "echo": self._echo,
            "logging_name": self.logging_name,
            "reset_on_return": self._reset_on_return,
            "pre_ping": self._pre_ping,
            "dialect": self._dialect,
            "driver": self._ops,
            "pool_debug": self._pool_debug,
            "leak_threshold": self._leak_threshold,
            "on_connect": self._on_connect,
            "on_first_connect": self._on_first_connect if not self._first_connect_done else None,
            "_dispatch": self.dispatch,
        }

    # ------------------------------------------------------------------ subclass hooks
    def _take(
        self, proxy: PoolProxiedConnection, code: CodeType | None, line: int, depth: int
    ) -> None:
        """Find a record for ``proxy`` and claim it (sets ``proxy._rec``); may block."""
        raise NotImplementedError

    def _put(self, rec: ConnectionRecord) -> bool:
        """Under the lock: take back a healthy returned record. Return False when the
        connection should be closed instead (overflow, disposed pool)."""
        raise NotImplementedError

    def _slot_freed(self) -> None:
        """Under the lock: a slot was freed (record closed); wake a waiter if any."""

    def _pending(self) -> int:
        return 0

    def _max_connections(self) -> int:
        return -1

    # ------------------------------------------------------------------ claiming
    def _claim(
        self,
        rec: ConnectionRecord,
        proxy: PoolProxiedConnection,
        code: CodeType | None,
        line: int,
        depth: int,
    ) -> None:
        """Under the lock: hand ``rec`` to ``proxy`` and record the holder."""
        rec.owner_ident = _get_ident()
        rec.checkout_time = _monotonic()
        rec.checkout_code = code
        rec.checkout_line = line
        ref = _ProxyRef(proxy, self._on_proxy_gone)
        ref.record = rec
        rec.proxy_ref = ref
        proxy._rec = rec
        if self._claim_extras_needed:
            self._claim_extras(rec, depth)

    def _claim_extras(self, rec: ConnectionRecord, depth: int) -> None:
        if self._pool_debug:
            rec.checkout_stack = sites.caller_stack(depth + 2)
        if self._leak_threshold and self._watchdog is None:
            self._start_watchdog()

    def _new_record(self) -> ConnectionRecord:
        """Under the lock: reserve a slot for a connection still to be opened."""
        rec = ConnectionRecord(self)
        self._records.add(rec)
        return rec

    def _on_proxy_gone(self, ref: _ProxyRef) -> None:
        # Runs inside the garbage collector, possibly in the middle of pool code holding
        # the lock: only queue the record; the next pool operation reclaims it.
        self._reclaim.append(ref)

    def _maintain(self) -> None:
        """Before reporting on the pool: reclaim dropped connections and free slots that
        an interrupt left claimed by nobody, so that the counters are true."""
        self._sweep()

    def _process_reclaims(self) -> None:
        while True:
            try:
                ref = self._reclaim.popleft()
            except IndexError:
                return
            rec = ref.record
            with self._lock:
                if rec.proxy_ref is not ref or rec.state == CLOSED:
                    continue  # returned normally in the meantime
                self._retire(rec)
            self._n_reclaimed += 1
            self._n_lost += 1
            age = _monotonic() - rec.checkout_time
            msg = (
                f"A pooled connection was dropped without being returned: it was checked "
                f"out {age:.1f}s ago by {sites.owner_name(rec.owner_ident, rec.owner_task)} "
                f"at {rec.site}. hermetic closed it (it may have been mid-transaction) and "
                "freed its slot. Return connections with `with engine.connect() as conn:` "
                "(or `with Session(engine) as session:`), or call .close() in a finally block."
            )
            try:
                _warn_leak(msg, rec)
            finally:
                self._discard(rec)

    def _sweep(self) -> int:
        """Find records that nobody holds (a claim or release interrupted between two
        bytecodes) and free them; queue those whose holder was dropped for
        :meth:`_process_reclaims` (which warns). Returns how many were found. Called on
        the slow paths and by the reporting methods, not on the checkout path.

        Every transition that unclaims a record also puts it back in the idle queue,
        hands it to a waiter or retires it, in one critical section; so, under the
        lock, a record that is claimed by no proxy is lost, never in transit."""
        lost: list[ConnectionRecord] = []
        dropped: list[_ProxyRef] = []
        with self._lock:
            if self._records:
                idle_ids = {id(r) for r in self._idle}
                for rec in self._records:
                    if rec.state == IDLE:
                        if id(rec) not in idle_ids:
                            lost.append(rec)
                    elif rec.state in (OUT, CONNECTING):
                        ref = rec.proxy_ref
                        if ref is None:
                            lost.append(rec)
                        elif ref() is None:
                            dropped.append(ref)  # its weakref callback may not have run
                for rec in lost:
                    self._retire(rec)
        if dropped:
            self._reclaim.extend(dropped)  # duplicates are skipped by _process_reclaims
        for rec in lost:
            self._n_lost += 1
            log.warning("Recovered a pool slot left unclaimed by an interrupted checkout")
            self._discard(rec)
        if self._reclaim:
            self._process_reclaims()
        return len(lost) + len(dropped)

    # ------------------------------------------------------------------ opening
    def _open(self, rec: ConnectionRecord) -> None:
        """Open the DBAPI connection of a reserved record, running connect events. On any
        failure the new connection is closed and the exception propagates (the caller
        frees the slot)."""
        try:
            conn = self._creator(rec)
        except BaseException as e:
            self._n_connect_errors += 1
            self._last_connect_error = repr(e)
            raise
        rec.dbapi_connection = conn
        rec.opened_at = now = _monotonic()
        rec.deadline = policy.recycle_deadline(now, self._recycle)
        rec.fresh = True
        rec.info.clear()
        self._n_opened += 1
        try:
            if self._on_connect is not None:
                self._on_connect(conn, rec)
            if not self._first_connect_done:
                if self._on_first_connect is not None:
                    self._on_first_connect(conn, rec)
                for fn in self.dispatch.first_connect:  # type: ignore[attr-defined]
                    fn(conn, rec)
                self._first_connect_done = True
            for fn in self.dispatch.connect:  # type: ignore[attr-defined]
                fn(conn, rec)
        except BaseException:
            rec.dbapi_connection = None
            self._close_quietly(conn)
            self._n_closed += 1
            raise
        if self._log_info:
            self._echo_log.info("Created new connection %r", conn)

    def _check_health(self, rec: ConnectionRecord) -> None:
        now = _monotonic()
        if policy.needs_replacement(rec.opened_at, rec.deadline, self._invalidated_before, now):
            if self._log_info:
                self._echo_log.info(
                    "Connection %r exceeded its recycle time; replacing it", rec.dbapi_connection
                )
            self._close_connection(rec)
            self._open(rec)
            return
        if not self._pre_ping or rec.fresh:
            return
        try:
            self._ops.ping(rec.dbapi_connection)
        except Exception as e:
            if not self._ops.is_disconnect(e, rec.dbapi_connection):
                # not a dead connection: let the caller see the error
                raise
            if self._log_info:
                self._echo_log.info(
                    "Pre-ping found connection %r dead (%s); reconnecting", rec.dbapi_connection, e
                )
            # Everything opened before this one is suspect too (a server restart).
            self._invalidate_older(rec.opened_at)
            self._n_lost += 1
            self._invalidate_record(rec, e, soft=False, return_slot=False)
            self._open(rec)

    def _abort_checkout(self, proxy: PoolProxiedConnection, e: BaseException) -> None:
        rec = proxy._rec
        if rec is None:
            return
        proxy._rec = None
        proxy.dbapi_connection = None
        with self._lock:
            if not self._retire(rec):
                return
        if rec.dbapi_connection is not None:
            self._fire_invalidate(rec, e)
        self._discard(rec)

    # ------------------------------------------------------------------ returning
    def _return(self, proxy: PoolProxiedConnection) -> None:
        rec = proxy._rec
        if rec is None:
            return
        conn = proxy.dbapi_connection
        healthy = conn is not None and rec.dbapi_connection is conn
        try:
            if healthy:
                d = self.dispatch
                if d.checkin or d.reset or self._reset_on_return != "rollback":  # type: ignore[attr-defined]
                    healthy = self._reset(rec, conn)
                else:
                    # The common case: no listeners, rollback on return, and nothing to
                    # roll back when the driver says the connection is idle. One that
                    # cannot even answer (closed behind our back) goes through _reset,
                    # which invalidates it.
                    try:
                        dirty = self._ops.needs_reset(conn)
                    except Exception:
                        dirty = True
                    if dirty:
                        healthy = self._reset(rec, conn)
            elif self.dispatch.checkin:  # type: ignore[attr-defined]
                # invalidated: SQLAlchemy reports the checkin with no DBAPI connection
                for fn in self.dispatch.checkin:  # type: ignore[attr-defined]
                    fn(None, rec)
        finally:
            # The slot is freed whatever happened above, including an interrupt.
            proxy.dbapi_connection = None
            proxy._rec = None
            self._release(rec, healthy)

    def _reset(self, rec: ConnectionRecord, conn: DBAPIConnection) -> bool:
        """Give the connection back clean; on failure invalidate it. Returns health."""
        try:
            mode = self._reset_on_return
            if self.dispatch.reset:  # type: ignore[attr-defined]
                state = ResetState(transaction_was_reset=False)
                for fn in self.dispatch.reset:  # type: ignore[attr-defined]
                    fn(conn, rec, state)
            if mode is not None and self._ops.needs_reset(conn):
                if mode == "rollback":
                    if self._log_debug:
                        self._echo_log.debug("Connection %r being returned to pool; rollback", conn)
                    self._ops.rollback(conn)
                else:
                    self._ops.commit(conn)
            # As in SQLAlchemy: reset, then checkin (which sees the clean connection).
            if self.dispatch.checkin:  # type: ignore[attr-defined]
                for fn in self.dispatch.checkin:  # type: ignore[attr-defined]
                    fn(conn, rec)
            return True
        except BaseException as e:
            self._n_returns_bad += 1
            self._n_lost += 1
            log.warning(
                "Resetting connection %r on return failed (%s: %s); it was invalidated and "
                "its slot freed",
                conn,
                type(e).__name__,
                e,
            )
            self._fire_invalidate(rec, e)
            self._close_connection(rec)
            if not isinstance(e, Exception):
                raise
            return False

    def _release(self, rec: ConnectionRecord, healthy: bool) -> None:
        now = _monotonic()
        close = not healthy or rec.dbapi_connection is None
        lock = self._lock
        # `with`, not acquire() + try: an asynchronous exception delivered as
        # acquire() returns would otherwise leave the lock held for good.
        with lock:
            if rec.state == CLOSED:
                return
            rec.proxy_ref = None
            self._use_time += now - rec.checkout_time
            self._n_returns += 1
            warned = rec.leak_warned
            rec.owner_ident = None
            if rec.checkout_stack is not None or rec.owner_task is not None or warned:
                rec.leak_warned = False
                rec.owner_task = None
                rec.checkout_stack = None
            rec.fresh = False
            if not close:
                if self._disposed:
                    close = True
                elif not self._waiters and len(self._idle) < self._idle_cap:
                    # fast path of _put(): nobody waiting, room in the idle queue
                    rec.state = IDLE
                    self._idle.append(rec)
                else:
                    close = not self._put(rec)
            if close:
                self._retire(rec)
        if warned:
            log.warning(
                "Connection checked out at %s came back after %.1fs (it was "
                "reported as a possible leak)",
                rec.site,
                now - rec.checkout_time,
            )
        if close:
            self._discard(rec)
        if self._reclaim:
            self._process_reclaims()

    def _retire(self, rec: ConnectionRecord) -> bool:
        """Under the lock: take ``rec`` out of the pool and free its slot, in the same
        critical section that unclaims it, so that no interrupt can leave a record
        claimed by nobody. Its connection is closed afterwards, outside the lock
        (:meth:`_discard`). False when it was already out."""
        if rec.state == CLOSED:
            return False
        rec.state = CLOSED
        rec.proxy_ref = None
        self._records.discard(rec)
        self._slot_freed()
        return True

    def _discard(self, rec: ConnectionRecord) -> None:
        """Free a record's slot (if not done yet) and close its connection (if any)."""
        with self._lock:
            self._retire(rec)
        if rec.dbapi_connection is not None:
            self._close_connection(rec)

    def _close_connection(self, rec: ConnectionRecord, e: BaseException | None = None) -> None:
        conn = rec.dbapi_connection
        if conn is None:
            return
        rec.dbapi_connection = None
        try:
            for fn in self.dispatch.close:  # type: ignore[attr-defined]
                fn(conn, rec)
        finally:
            self._close_quietly(conn)
            self._n_closed += 1
            if self._log_debug:
                self._echo_log.debug("Closed connection %r", conn)

    def _close_quietly(self, conn: DBAPIConnection) -> None:
        try:
            self._ops.close(conn)
        except Exception as e:
            log.debug("Exception closing connection %r: %s", conn, e)

    def _fire_invalidate(self, rec: ConnectionRecord, e: BaseException | None) -> None:
        for fn in self.dispatch.invalidate:  # type: ignore[attr-defined]
            try:
                fn(rec.dbapi_connection, rec, e)
            except Exception as err:
                log.warning("invalidate listener failed: %s", err)

    def _invalidate_record(
        self,
        rec: ConnectionRecord,
        e: BaseException | None,
        soft: bool = False,
        return_slot: bool = False,
    ) -> None:
        if soft:
            for fn in self.dispatch.soft_invalidate:  # type: ignore[attr-defined]
                fn(rec.dbapi_connection, rec, e)
            rec.deadline = 0.0
            return
        if rec.dbapi_connection is None:
            return
        if self._log_info:
            self._echo_log.info(
                "Invalidating connection %r (reason: %s: %s)",
                rec.dbapi_connection,
                type(e).__name__ if e else None,
                e,
            )
        self._fire_invalidate(rec, e)
        self._close_connection(rec, e)

    def _detach(self, proxy: PoolProxiedConnection) -> None:
        rec = proxy._rec
        if rec is None:
            return
        for fn in self.dispatch.detach:  # type: ignore[attr-defined]
            fn(rec.dbapi_connection, rec)
        proxy._detached_info = dict(rec.info)
        proxy._rec = None
        rec.dbapi_connection = None
        with self._lock:
            self._retire(rec)

    # ------------------------------------------------------------------ leak watchdog
    def _start_watchdog(self) -> None:
        # Called under the lock. One daemon thread per pool, only when a threshold is set;
        # it holds the pool weakly so an abandoned pool still goes away.
        pool_ref = weakref.ref(self)
        threshold = float(self._leak_threshold or 0)
        interval = max(0.05, min(threshold / 4, 1.0))

        def watch() -> None:
            while True:
                time.sleep(interval)
                pool = pool_ref()
                if pool is None or (pool._disposed and not pool._records):
                    return
                try:
                    pool._check_leaks()
                except Exception as e:  # never let the watchdog die silently
                    log.warning("leak watchdog: %s", e)
                del pool

        t = threading.Thread(target=watch, name=f"hermetic-leak-watchdog-{id(self):x}", daemon=True)
        self._watchdog = t
        t.start()

    def _check_leaks(self) -> None:
        now = _monotonic()
        with self._lock:
            suspects = [
                r
                for r in self._records
                if r.state == OUT
                and not r.leak_warned
                and policy.is_suspected_leak(r.checkout_time, self._leak_threshold, now)
            ]
            for r in suspects:
                r.leak_warned = True
        for r in suspects:
            self._n_leaks += 1
            msg = (
                f"Connection held for {now - r.checkout_time:.1f}s, longer than "
                f"pool_leak_threshold={self._leak_threshold}s, by "
                f"{sites.owner_name(r.owner_ident, r.owner_task)}; checked out at {r.site}. "
                "If this is not a long transaction on purpose, the code there does not "
                "return its connection (use `with engine.connect() as conn:`)."
            )
            try:
                _warn_leak(msg, r)
            except Exception as e:  # warnings turned into errors must not kill the thread
                log.debug("leak warning raised: %s", e)

    # ------------------------------------------------------------------ timeout text
    def _timeout_report(self, limit: int = 5) -> str:
        holders = self.holders()
        lines = [
            f"Pool state: {len(self._records) - len(self._idle)} checked out, "
            f"{len(self._idle)} idle, {self._pending()} waiting; "
            f"{self._n_timeouts} timeouts so far."
        ]
        if holders:
            lines.append(f"Oldest holders ({min(limit, len(holders))} of {len(holders)}):")
            lines.extend(f"  - {h.describe()}" for h in holders[:limit])
        if self._last_connect_error is not None:
            lines.append(f"Last connect error: {self._last_connect_error}")
        lines.append(
            "Each holder above keeps a connection until it closes its Connection/Session. "
            "Return connections promptly (with-blocks), or raise pool_size/max_overflow "
            "if this load is expected; pool.holders() lists them at any time."
        )
        return "\n".join(lines)


def _warn_leak(msg: str, rec: ConnectionRecord) -> None:
    """Report a leaked or long-held connection: a log record on ``hermetic.pool`` and a
    ConnectionLeakWarning, with the checkout stack when ``pool_debug`` recorded one."""
    if rec.checkout_stack:
        msg += "\nCheckout stack:\n" + "".join(rec.checkout_stack)
    log.warning(msg)
    warnings.warn(msg, exc.ConnectionLeakWarning, stacklevel=3)


def _adapt_creator(creator: Callable[..., DBAPIConnection]) -> Callable[[Any], DBAPIConnection]:
    """Accept creators taking no argument or the connection record (as SQLAlchemy does)."""
    import inspect

    try:
        sig = inspect.signature(creator)
    except (TypeError, ValueError):
        return lambda rec: creator()
    positional = [
        p
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if positional:
        return creator
    return lambda rec: creator()


def _reset_mode(value: bool | str | None) -> str | None:
    if value in (True, "rollback"):
        return "rollback"
    if value == "commit":
        return "commit"
    if value in (None, False, "none"):
        return None
    raise exc.ArgumentError(
        f"Invalid pool_reset_on_return value {value!r}; use 'rollback' (default), 'commit' or None"
    )
