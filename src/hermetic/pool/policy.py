"""Pure pool policy: decisions that depend only on numbers and time.

Nothing here does I/O or reads a clock; callers pass ``now``. That keeps the rules (when a
connection is too old, when a holder is a suspected leak, how a timeout is reported)
unit-testable without a database or a sleeping test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Recycle deadlines are spread over the last 5% of the recycle interval so that
# connections opened together (at startup, after a failover) are not all replaced in the
# same second.
RECYCLE_JITTER = 0.05


def recycle_deadline(opened_at: float, recycle: float, rnd: random.Random | None = None) -> float:
    """When a connection opened at ``opened_at`` should be replaced (``inf`` = never)."""
    if recycle is None or recycle < 0:
        return float("inf")
    r = (rnd or random).random()
    return opened_at + recycle * (1.0 - RECYCLE_JITTER * r)


def needs_replacement(
    opened_at: float, deadline: float, invalidated_before: float, now: float
) -> bool:
    """A pooled connection must be replaced at checkout when past its recycle deadline or
    older than the pool's last "everything before this is dead" mark (set when a pre-ping
    or an error found the server gone)."""
    return now >= deadline or opened_at <= invalidated_before


def is_suspected_leak(checkout_time: float, threshold: float | None, now: float) -> bool:
    return threshold is not None and threshold > 0 and now - checkout_time >= threshold


def capacity_left(count: int, pool_size: int, max_overflow: int) -> bool:
    """Whether one more connection may be opened; ``max_overflow == -1`` or
    ``pool_size == 0`` means no limit (as in SQLAlchemy)."""
    if max_overflow < 0 or pool_size == 0:
        return True
    return count < pool_size + max_overflow


def wait_slice(remaining: float) -> float:
    """How long a blocked checkout sleeps before re-checking for reclaimed connections.

    Waiters are woken directly by returns; the slice only bounds how long a connection
    freed by the garbage collector can sit unnoticed."""
    return max(0.0, min(remaining, 0.25))


@dataclass(frozen=True)
class PoolStats:
    """Counters and gauges of one pool.

    Counters grow for the life of the pool; gauges are the state at the moment of the
    call. :meth:`as_otel` maps them onto OpenTelemetry's ``db.client.connection.*``
    metric names.
    """

    pool_name: str
    # gauges
    size: int  # connections open (idle + used)
    idle: int
    used: int
    pending_requests: int  # checkouts waiting right now
    max: int  # pool_size + max_overflow (-1: unbounded)
    idle_max: int  # pool_size
    # counters
    requests: int  # checkout requests
    waits: int  # requests that had to wait
    wait_time: float  # seconds spent waiting, summed
    timeouts: int
    use_time: float  # seconds connections were held, summed over returns
    returns: int
    connections_opened: int
    connections_closed: int
    connections_errors: int  # failed attempts to open a connection
    connections_lost: int  # invalidated: disconnects, failed resets, reclaimed
    reclaimed: int  # dropped without being returned; reclaimed by the pool
    returns_bad: int  # returned in a state that needed more than a rollback
    leaks_suspected: int  # held past pool_leak_threshold

    def as_otel(self) -> dict[str, float | int]:
        """The stats under OpenTelemetry semantic-convention names."""
        return {
            "db.client.connection.count{state=idle}": self.idle,
            "db.client.connection.count{state=used}": self.used,
            "db.client.connection.idle.max": self.idle_max,
            "db.client.connection.max": self.max,
            "db.client.connection.pending_requests": self.pending_requests,
            "db.client.connection.timeouts": self.timeouts,
            "db.client.connection.wait_time.sum": self.wait_time,
            "db.client.connection.use_time.sum": self.use_time,
            "db.client.connection.create.count": self.connections_opened,
        }
