"""Logging, as SQLAlchemy does it: ``echo=True`` prints statements and parameters to
stdout through the ``hermetic.engine`` logger, ``echo="debug"`` adds result rows, the
logging configuration alone (a level set after the engine exists) also works, and
``echo_pool`` logs the pool's work to ``hermetic.pool``.

The echo tests run in a subprocess: echo installs a stdout handler on a process-wide
logger, which must not leak into other tests.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hermetic import create_engine, text
from hermetic.engine import Engine


def _run(code: str, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-c", code, url],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


ECHO_PROGRAM = """
import sys
import hermetic as sa

engine = sa.create_engine(sys.argv[1], echo={echo!r})
with engine.connect() as conn:
    rows = conn.execute(
        sa.text("SELECT :x AS marker_col, 'lit' AS other_col"), {{"x": 4242}}
    ).all()
    assert [tuple(r) for r in rows] == [(4242, "lit")], rows
    conn.commit()
engine.dispose()
print("program done")
"""


def _lines(out: str, needle: str) -> list[str]:
    return [line for line in out.splitlines() if needle in line]


def test_echo_true_prints_statements_and_parameters(backend_url: str, tmp_path: Path) -> None:
    proc = _run(ECHO_PROGRAM.format(echo=True), backend_url, tmp_path)
    out = proc.stdout
    statements = _lines(out, "marker_col")
    assert len(statements) == 1, out
    assert "INFO hermetic.engine" in statements[0]
    assert "SELECT" in statements[0]
    # the parameters follow on their own line
    assert any("4242" in line and "hermetic.engine" in line for line in out.splitlines()), out
    assert _lines(out, "COMMIT"), out
    assert "Row (" not in out  # rows only with echo="debug"
    assert "hermetic.pool" not in out
    assert out.rstrip().endswith("program done")
    assert "marker_col" not in proc.stderr


def test_echo_debug_logs_rows(backend_url: str, tmp_path: Path) -> None:
    out = _run(ECHO_PROGRAM.format(echo="debug"), backend_url, tmp_path).stdout
    rows = _lines(out, "Row (")
    assert len(rows) == 1, out
    assert "DEBUG hermetic.engine" in rows[0]
    assert "(4242, 'lit')" in rows[0]
    assert len(_lines(out, "marker_col")) == 1


def test_echo_false_prints_nothing(backend_url: str, tmp_path: Path) -> None:
    out = _run(ECHO_PROGRAM.format(echo=False), backend_url, tmp_path).stdout
    assert out.strip() == "program done"


def test_hide_parameters_in_echo(sqlite_url: str, tmp_path: Path) -> None:
    code = """
import sys
import hermetic as sa
engine = sa.create_engine(sys.argv[1], echo=True, hide_parameters=True)
with engine.connect() as conn:
    conn.execute(sa.text("SELECT :x AS marker_col"), {"x": "s3cr3t-value"}).all()
"""
    out = _run(code, sqlite_url, tmp_path).stdout
    assert len(_lines(out, "marker_col")) == 1
    assert "s3cr3t-value" not in out
    assert "[SQL parameters hidden due to hide_parameters=True]" in out


POOL_PROGRAM = """
import sys
import hermetic as sa

engine = sa.create_engine(sys.argv[1], echo_pool={echo!r})
with engine.connect() as conn:
    conn.execute(sa.text("SELECT 1 AS marker_col")).all()
engine.dispose()
print("program done")
"""


def test_echo_pool_true(backend_url: str, tmp_path: Path) -> None:
    out = _run(POOL_PROGRAM.format(echo=True), backend_url, tmp_path).stdout
    pool_lines = _lines(out, "hermetic.pool")
    assert pool_lines, out
    assert all(" INFO " in line or " WARNING " in line for line in pool_lines), out
    assert any("disposed" in line.lower() for line in pool_lines), out
    assert "checked out" not in out  # DEBUG detail only with echo_pool="debug"
    assert "marker_col" not in out  # the engine itself does not echo


def test_echo_pool_debug(backend_url: str, tmp_path: Path) -> None:
    out = _run(POOL_PROGRAM.format(echo="debug"), backend_url, tmp_path).stdout
    pool_lines = _lines(out, "hermetic.pool")
    assert any("DEBUG" in line and "checked out" in line for line in pool_lines), out
    assert any(" INFO " in line for line in pool_lines), out
    assert "marker_col" not in out


# --------------------------------------------------------------------------- in-process


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def engine_log() -> Iterator[_Collect]:
    """A handler on ``hermetic.engine``; the logger's level is restored afterwards."""
    logger = logging.getLogger("hermetic.engine")
    handler = _Collect()
    old_level = logger.level
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def test_level_set_after_engine_creation(engine: Engine, engine_log: _Collect) -> None:
    marker = f"m_{uuid.uuid4().hex[:10]}"
    with engine.connect() as conn:  # the engine exists and has been used without logging
        conn.execute(text("SELECT 0"))
    assert engine_log.records == []
    logging.getLogger("hermetic.engine").setLevel(logging.INFO)
    with engine.connect() as conn:
        for i in range(3):
            conn.execute(text(f"SELECT :v AS {marker}_{i}"), {"v": i}).all()
        conn.commit()
    messages = [r.getMessage() for r in engine_log.records]
    statement_records = [r for r in engine_log.records if marker in r.getMessage()]
    assert len(statement_records) == 3, messages  # one record per statement
    assert all(r.name.startswith("hermetic.engine") for r in statement_records)
    assert all(r.levelno == logging.INFO for r in statement_records)
    assert any(m.startswith("COMMIT") for m in messages), messages
    assert not [r for r in engine_log.records if r.levelno < logging.INFO]  # no rows

    # back to WARNING: silent again
    engine_log.records.clear()
    logging.getLogger("hermetic.engine").setLevel(logging.WARNING)
    with engine.connect() as conn:
        conn.execute(text(f"SELECT 1 AS {marker}"))
    assert engine_log.records == []


def test_debug_level_logs_rows(engine: Engine, engine_log: _Collect) -> None:
    logging.getLogger("hermetic.engine").setLevel(logging.DEBUG)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT 7 AS a, 'x' AS b")).all()
    assert [tuple(r) for r in rows] == [(7, "x")]
    row_records = [r for r in engine_log.records if r.getMessage().startswith("Row ")]
    assert len(row_records) == 1
    assert row_records[0].levelno == logging.DEBUG
    assert "(7, 'x')" in row_records[0].getMessage()


def test_engine_without_echo_has_no_stdout_handler(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    eng = create_engine(sqlite_url)
    with eng.connect() as conn:
        conn.execute(text("SELECT 1"))
    eng.dispose()
    assert "SELECT 1" not in capsys.readouterr().out
