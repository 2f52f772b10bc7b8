"""``hermetic inspect URL [TABLE ...]``, run as a user runs it (``python -m hermetic.cli``):
readable tables, ``--json``, and one-line errors with exit status 1."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from conftest import PG_URL, pg_url, require_pg
from hermetic import make_url

CLI = [sys.executable, "-m", "hermetic.cli", "inspect"]

DDL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(80) NOT NULL UNIQUE);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    status VARCHAR(20) DEFAULT 'pending',
    created_at DATETIME,
    CONSTRAINT
      fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
      DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT ck_status CHECK (status <> '')
);
CREATE INDEX idx_orders_active ON orders (customer_id, created_at)
    WHERE status IN ('pending', 'processing');
CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as con:
        con.executescript(DDL)
    con.close()
    return f"sqlite:///{path}"


def test_inspect_tables(db: str, tmp_path: Path) -> None:
    proc = _run(db, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = proc.stdout
    assert out.index("customers (table, 2 columns)") < out.index("orders (table, 4 columns)")
    lines = [line.strip() for line in out.splitlines()]
    assert any(line.split()[:3] == ["status", "VARCHAR(20)", "yes"] for line in lines), out
    assert "'pending'" in out
    assert (
        "foreign key  fk_customer (customer_id) -> customers (id) "
        "DEFERRABLE INITIALLY DEFERRED" in out
    )
    assert (
        "index        idx_orders_active (customer_id, created_at) "
        "WHERE status IN ('pending', 'processing')" in out
    )
    assert "check        ck_status (status <> '')" in out
    assert "unique       (email)" in out
    assert "option       sqlite_with_rowid=False" in out


def test_inspect_named_tables_in_order(db: str, tmp_path: Path) -> None:
    proc = _run(db, "orders", "customers", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.index("orders (") < proc.stdout.index("customers (")
    assert "kv (" not in proc.stdout


def test_inspect_json(db: str, tmp_path: Path) -> None:
    proc = _run(db, "--json", "orders", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["dialect"] == "sqlite"
    (orders,) = doc["tables"]
    assert orders["name"] == "orders" and orders["kind"] == "table"
    assert [c["name"] for c in orders["columns"]] == ["id", "customer_id", "status", "created_at"]
    status = orders["columns"][2]
    assert status == {
        "name": "status",
        "type": "VARCHAR(20)",
        "nullable": True,
        "default": "'pending'",
        "autoincrement": False,
        "comment": None,
    }
    assert orders["primary_key"] == {"name": None, "columns": ["id"]}
    assert orders["foreign_keys"] == [
        {
            "name": "fk_customer",
            "columns": ["customer_id"],
            "referred_schema": None,
            "referred_table": "customers",
            "referred_columns": ["id"],
            "options": {"deferrable": True, "initially": "DEFERRED"},
        }
    ]
    (ix,) = orders["indexes"]
    assert ix["name"] == "idx_orders_active"
    assert ix["columns"] == ["customer_id", "created_at"]
    assert " ".join(ix["where"].split()) == "status IN ('pending', 'processing')"
    assert orders["check_constraints"] == [{"name": "ck_status", "sqltext": "status <> ''"}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "hermetic inspect: no table 'nope' (tables and views: customers, kv, orders)"),
        (["orders", "a", "b"], "hermetic inspect: no tables 'a', 'b'"),
        (["--schema", "nowhere"], "hermetic inspect: no schema 'nowhere' (schemas: main)"),
    ],
)
def test_inspect_missing_table_or_schema(
    db: str, tmp_path: Path, args: list[str], message: str
) -> None:
    proc = _run(db, *args, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(message), proc.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "hermetic inspect: Could not parse a database URL"),
        ("mysqlx://h/db", "hermetic inspect: "),
        ("postgresql://root@127.0.0.1:1/test", "hermetic inspect: cannot inspect postgresql://"),
    ],
)
def test_inspect_bad_url(tmp_path: Path, url: str, message: str) -> None:
    proc = _run(url, cwd=tmp_path)
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(message), proc.stderr
    assert "Traceback" not in proc.stderr


def test_inspect_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    proc = _run(f"sqlite:///{tmp_path / 'typo.db'}", cwd=tmp_path)
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        == f"hermetic inspect: no such SQLite database file: {tmp_path / 'typo.db'}"
    )
    assert not (tmp_path / "typo.db").exists()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    require_pg()
    u = make_url(PG_URL)
    admin = dict(
        host=u.host, port=u.port or 5432, user=u.username, dbname=u.database, password=u.password
    )
    schema = f"r_{uuid.uuid4().hex}"
    with psycopg.connect(**admin, autocommit=True) as c:  # type: ignore[arg-type]
        c.execute(f'CREATE SCHEMA "{schema}"')
        c.execute(f'SET search_path = "{schema}"')
        c.execute(
            "CREATE TABLE parent (id SERIAL PRIMARY KEY, name TEXT NOT NULL);"
            "COMMENT ON TABLE parent IS 'the parents';"
            "CREATE TABLE child (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
            "parent_id INTEGER REFERENCES parent ON DELETE CASCADE, tags TEXT[]);"
            "CREATE INDEX ix_child_tags ON child USING gin (tags);"
            "CREATE INDEX ix_child_open ON child (parent_id DESC) WHERE parent_id > 0;"
        )
    try:
        yield schema
    finally:
        with psycopg.connect(**admin, autocommit=True) as c:  # type: ignore[arg-type]
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_inspect_postgresql(pg_schema: str, tmp_path: Path) -> None:
    proc = _run(pg_url(), "--schema", pg_schema, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"{pg_schema}.parent (table, 2 columns) -- the parents" in out
    assert "[autoincrement]" in out
    assert f"(parent_id) -> {pg_schema}.parent (id) ON DELETE CASCADE" in out
    assert "index        ix_child_tags USING gin (tags)" in out
    assert "index        ix_child_open (parent_id DESC) WHERE (parent_id > 0)" in out

    proc = _run(pg_url(), "--json", "--schema", pg_schema, "child", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (child,) = json.loads(proc.stdout)["tables"]
    cols = {c["name"]: c for c in child["columns"]}
    assert cols["id"]["autoincrement"] is True
    assert cols["id"]["identity"]["always"] is False
    assert cols["tags"]["type"] == "TEXT[]"
