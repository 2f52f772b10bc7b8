"""Run by tests/test_pool_gevent.py in a subprocess: the pool under gevent, with
``gevent.Timeout`` firing during checkout (pool exhausted, timeouts shorter than
pool_timeout), during use (mid-query), during return and while holding.

Usage: python gevent_pool_script.py DRIVER URL TAG
  DRIVER: psycopg (cooperates natively) or psycopg2 (made cooperative with a wait
  callback, as psycogreen does). TAG is the application_name of the pool's connections.
Prints OK (and exits 0) when the pool's counters are true and its capacity intact.
"""

from gevent import monkey

monkey.patch_all()

import gc  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import gevent.socket  # noqa: E402

from hermetic import create_engine, exc, make_url, text  # noqa: E402

POOL_SIZE = 3
MAX_OVERFLOW = 2
POOL_TIMEOUT = 0.5
GREENLETS = 40
DURATION = 2.0


def make_psycopg2_green() -> None:
    import psycopg2
    import psycopg2.extensions

    def wait(conn: Any, timeout: float | None = None) -> None:
        while True:
            state = conn.poll()
            if state == psycopg2.extensions.POLL_OK:
                return
            if state == psycopg2.extensions.POLL_READ:
                gevent.socket.wait_read(conn.fileno(), timeout=timeout)
            elif state == psycopg2.extensions.POLL_WRITE:
                gevent.socket.wait_write(conn.fileno(), timeout=timeout)
            else:
                raise psycopg2.OperationalError(f"Bad result from poll: {state!r}")

    psycopg2.extensions.set_wait_callback(wait)


def server_connections(url: str, tag: str) -> int:
    import psycopg

    u = make_url(url)
    with psycopg.connect(
        host=u.host, port=u.port or 5432, user=u.username, dbname=u.database, autocommit=True
    ) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (tag,)
        ).fetchone()
        assert row is not None
        return int(row[0])


def check(cond: bool, what: str) -> None:
    if not cond:
        print(f"FAILED: {what}", flush=True)
        sys.exit(1)


def main() -> None:
    driver, url, tag = sys.argv[1:4]
    if driver == "psycopg2":
        make_psycopg2_green()
    eng = create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT,
        connect_args={"application_name": tag},
    )
    pool = eng.pool
    counts: Counter[str] = Counter()
    unexpected: list[BaseException] = []

    # Cooperation check: two greenlets hold connections at once, under their own idents.
    def hold(seconds: float) -> None:
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
            gevent.sleep(seconds)

    holders = [gevent.spawn(hold, 0.3) for _ in range(2)]
    gevent.sleep(0.1)
    owners = {h.owner_ident for h in pool.holders()}
    check(len(owners) == 2, f"two greenlet holders, got {pool.holders()}")
    gevent.joinall(holders, raise_error=True)
    check(pool.checkedout() == 0, "holders returned")

    end = time.monotonic() + DURATION

    def worker(idx: int) -> None:
        rng = random.Random(idx)
        while time.monotonic() < end:
            r = rng.random()
            try:
                if r < 0.3:
                    # shorter than pool_timeout: fires while waiting for a checkout
                    # (the pool is usually exhausted), or mid-query
                    with gevent.Timeout(rng.uniform(0.005, 0.2)), eng.connect() as c:
                        c.execute(text("SELECT pg_sleep(:s)"), {"s": rng.uniform(0, 0.1)})
                    counts["ok"] += 1
                elif r < 0.5:
                    # fires mid-query inside a transaction (rollback on the way out)
                    with gevent.Timeout(rng.uniform(0.005, 0.05)), eng.begin() as c:
                        c.execute(text("SELECT 1"))
                        c.execute(text("SELECT pg_sleep(0.1)"))
                    counts["ok"] += 1
                elif r < 0.7:
                    # fires while a raw connection is held (returned on the way out)
                    with gevent.Timeout(rng.uniform(0.005, 0.1)):
                        raw = eng.raw_connection()
                        try:
                            cur = raw.cursor()
                            cur.execute("SELECT 1")
                            cur.close()
                            gevent.sleep(rng.uniform(0, 0.2))
                        finally:
                            raw.close()
                    counts["ok"] += 1
                else:
                    with eng.connect() as c:  # plain work, exhausting the pool
                        c.execute(text("SELECT pg_sleep(:s)"), {"s": rng.uniform(0, 0.05)})
                        c.commit()
                    counts["ok"] += 1
            except gevent.Timeout:
                counts["gevent.Timeout"] += 1
            except exc.TimeoutError:
                counts["pool TimeoutError"] += 1
            except Exception as e:  # anything else is a bug
                unexpected.append(e)

    with warnings.catch_warnings(record=True) as leaks:
        warnings.simplefilter("always")
        greenlets = [gevent.spawn(worker, i) for i in range(GREENLETS)]
        gevent.joinall(greenlets, timeout=DURATION + 30)
        check(all(g.dead for g in greenlets), "greenlets finished")
        gc.collect()
        check(not unexpected, f"unexpected errors: {unexpected[:5]!r}")
        check(counts["gevent.Timeout"] > 20, f"timeouts fired: {counts}")
        check(counts["ok"] > 20, f"work done: {counts}")
        check(pool.checkedout() == 0, f"checkedout()==0: {pool.status()} {pool.holders()}")
        check(pool.holders() == [], "no holders")
        stats = pool.stats()
        check(stats.pending_requests == 0, "no waiters left")
        check(stats.waits > 10, f"the pool was exhausted: {stats}")
        check(stats.timeouts == counts["pool TimeoutError"], f"timeouts counted: {stats}")
        check(stats.size == pool.checkedin() <= POOL_SIZE, f"size {stats}")
    dropped = [w for w in leaks if issubclass(w.category, exc.ConnectionLeakWarning)]
    check(len(dropped) <= stats.reclaimed, f"{len(dropped)} warnings, {stats}")

    # The server sees exactly the pool's idle connections.
    deadline = time.monotonic() + 10
    while server_connections(url, tag) != pool.checkedin() and time.monotonic() < deadline:
        gevent.sleep(0.05)
    check(server_connections(url, tag) == pool.checkedin(), "server connections == idle")

    # Capacity intact: exactly pool_size + max_overflow checkouts, the next one times out.
    conns = [eng.connect() for _ in range(POOL_SIZE + MAX_OVERFLOW)]
    for c in conns:
        check(c.execute(text("SELECT 1")).scalar() == 1, "usable")
    start = time.monotonic()
    try:
        eng.connect()
    except exc.TimeoutError:
        check(time.monotonic() - start >= POOL_TIMEOUT, "waited pool_timeout")
    else:
        check(False, "checkout beyond capacity must time out")
    # A gevent.Timeout shorter than pool_timeout interrupts the wait and takes nothing.
    try:
        with gevent.Timeout(0.05):
            eng.connect()
    except gevent.Timeout:
        pass
    check(pool.checkedout() == POOL_SIZE + MAX_OVERFLOW, "interrupted wait took nothing")
    for c in conns:
        c.close()
    check(pool.checkedout() == 0, "all returned")
    eng.dispose()
    print("OK", dict(counts), f"reclaimed={stats.reclaimed}", flush=True)


if __name__ == "__main__":
    main()
