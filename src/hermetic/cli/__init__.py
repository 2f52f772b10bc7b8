"""The ``hermetic`` command: ``demo``, ``ping`` and ``inspect``.

Errors a user can cause (a bad URL, an unreachable server) print one line and exit 1;
a traceback means a bug in hermetic.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence

from hermetic import exc


def _first_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None)
    text = str(orig if orig is not None else e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def cmd_ping(url: str) -> int:
    from hermetic import create_engine, text
    from hermetic.pool import NullPool

    try:
        engine = create_engine(url, poolclass=NullPool)
    except exc.HermeticError as e:
        print(f"hermetic ping: {_first_line(e)}", file=sys.stderr)
        return 1
    masked = engine.url.render_as_string(hide_password=True)
    try:
        t0 = time.perf_counter()
        with engine.connect() as conn:
            t1 = time.perf_counter()
            conn.execute(text("SELECT 1")).scalar()
            t2 = time.perf_counter()
            conn.execute(text("SELECT 1")).scalar()
            t3 = time.perf_counter()
            version = ".".join(map(str, engine.dialect.server_version_info or ()))
    except exc.HermeticError as e:
        print(f"hermetic ping: cannot reach {masked}: {_first_line(e)}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(
        f"ok {masked}: {engine.dialect.name} {version} via {engine.driver}; "
        f"connect {(t1 - t0) * 1e3:.1f} ms, first query {(t2 - t1) * 1e3:.2f} ms, "
        f"round trip {(t3 - t2) * 1e3:.2f} ms"
    )
    return 0


def _say(title: str) -> None:
    print(f"\n== {title}")


def cmd_demo() -> int:
    """Connect, transactions, the pool at work and a deliberate pool timeout, on SQLite."""
    from hermetic import create_engine, text

    tmp = tempfile.mkdtemp(prefix="hermetic-demo-")
    path = os.path.join(tmp, "demo.db")
    engine = create_engine(f"sqlite:///{path}", pool_size=2, max_overflow=1, pool_timeout=1.0)
    print(f"hermetic demo on embedded SQLite ({path})")
    print(
        f"engine: {engine!r}, pool: {type(engine.pool).__name__} "
        f"(size {engine.pool.size()}, overflow {engine.pool._max_overflow}, "  # type: ignore[attr-defined]
        f"timeout {engine.pool.timeout()}s)"
    )

    _say("connect and create a table")
    with engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE account (id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER)")
        )
        conn.execute(
            text("INSERT INTO account (owner, balance) VALUES (:owner, :balance)"),
            [{"owner": "ada", "balance": 100}, {"owner": "grace", "balance": 50}],
        )
    with engine.connect() as conn:
        for row in conn.execute(text("SELECT id, owner, balance FROM account ORDER BY id")):
            print(f"  {row.id}  {row.owner:<6} {row.balance:>4}")

    _say("a transaction that fails rolls back")
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE account SET balance = balance - 70 WHERE owner = 'ada'"))
            raise RuntimeError("payment service unavailable")
    except RuntimeError as e:
        print(f"  raised {e!r}; the update was rolled back")
    with engine.connect() as conn:
        ada = conn.execute(text("SELECT balance FROM account WHERE owner = 'ada'")).scalar_one()
        print(f"  ada's balance is still {ada}")

    _say("a SAVEPOINT rolled back keeps the outer transaction")
    with engine.begin() as conn:
        conn.execute(text("UPDATE account SET balance = balance + 1 WHERE owner = 'grace'"))
        nested = conn.begin_nested()
        conn.execute(text("DELETE FROM account"))
        nested.rollback()
        count = conn.execute(text("SELECT count(*) FROM account")).scalar_one()
        print(f"  after ROLLBACK TO SAVEPOINT: {count} accounts, grace +1 still pending")
    with engine.connect() as conn:
        grace = conn.execute(text("SELECT balance FROM account WHERE owner = 'grace'")).scalar()
        print(f"  committed: grace has {grace}")

    _say("the pool at work")
    print(f"  {engine.pool.status()}")

    _say("a deliberate pool timeout: who holds the connections?")
    held: list[object] = []
    release = threading.Event()

    def handle_request() -> None:
        conn = engine.connect()  # forgotten: never closed until release
        held.append(conn)
        release.wait()
        conn.close()

    def nightly_report() -> None:
        with engine.connect() as conn:
            held.append(conn)
            release.wait()

    workers = [
        threading.Thread(target=handle_request, name="web-request-1"),
        threading.Thread(target=handle_request, name="web-request-2"),
        threading.Thread(target=nightly_report, name="report-job"),
    ]
    for w in workers:
        w.start()
    while len(held) < 3:
        time.sleep(0.01)
    time.sleep(0.2)
    try:
        engine.connect()
    except exc.TimeoutError as e:
        print("  " + str(e).replace("\n", "\n  "))
    release.set()
    for w in workers:
        w.join()
    print(f"\n  after the holders finish: {engine.pool.status()}")

    _say("pool stats")
    stats = engine.pool.stats()
    for key in (
        "requests",
        "waits",
        "timeouts",
        "connections_opened",
        "connections_closed",
        "reclaimed",
        "returns_bad",
    ):
        print(f"  {key:<20} {getattr(stats, key)}")
    engine.dispose()
    print("\nDone. `hermetic ping URL` checks a server; see README.md for more.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hermetic", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="show hermetic at work on embedded SQLite")
    ping = sub.add_parser("ping", help="connect to a database and report latency/version")
    ping.add_argument("url", help="database URL, e.g. postgresql://user@host/db")
    insp = sub.add_parser("inspect", help="show a database's tables, keys and indexes")
    insp.add_argument("url", help="database URL, e.g. sqlite:///app.db")
    insp.add_argument("tables", nargs="*", metavar="TABLE", help="only these tables or views")
    insp.add_argument("--schema", help="the schema to read (default: the database's default)")
    insp.add_argument("--json", action="store_true", help="machine-readable output")
    args, extra = parser.parse_known_args(argv)
    # argparse stops filling TABLE once an option follows the URL: take the rest here
    if args.command == "inspect" and not any(e.startswith("-") for e in extra):
        args.tables += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "ping":
            return cmd_ping(args.url)
        if args.command == "inspect":
            from hermetic.cli.inspect import cmd_inspect

            return cmd_inspect(args.url, args.tables, args.schema, args.json)
        return cmd_demo()
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
