"""The ``hermetic`` command, run as a user runs it: ``python -m hermetic.cli`` and the
installed console script. Errors a user can cause print one line and exit 1."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import pg_url, require_pg
from hermetic import make_url

SCRIPT = Path(sys.executable).with_name("hermetic")


def _commands() -> list[list[str]]:
    commands = [[sys.executable, "-m", "hermetic.cli"]]
    if SCRIPT.exists():
        commands.append([str(SCRIPT)])
    elif shutil.which("hermetic"):
        commands.append([str(shutil.which("hermetic"))])
    return commands


COMMANDS = _commands()
IDS = ["module", "script"][: len(COMMANDS)]


def _run(command: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_ping_postgresql(command: list[str], driver: str, tmp_path: Path) -> None:
    require_pg()
    url = make_url(pg_url(driver)).set(password="s3cr3t")  # trust auth ignores it
    proc = _run(command, "ping", url.render_as_string(hide_password=False), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = proc.stdout.strip()
    assert len(out.splitlines()) == 1
    assert out.startswith("ok ")
    assert "s3cr3t" not in out
    assert "***" in out
    assert f"via {driver}" in out
    assert re.search(r"postgresql \d+\.\d+", out), out  # the server version
    assert re.search(r"connect \d+(\.\d+)? ms", out), out  # latency
    assert re.search(r"round trip \d+(\.\d+)? ms", out), out


def test_ping_sqlite(tmp_path: Path) -> None:
    proc = _run(COMMANDS[0], "ping", f"sqlite:///{tmp_path / 'ping.db'}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"sqlite \d+\.\d+", proc.stdout), proc.stdout


def _assert_one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "Traceback" not in proc.stdout
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("hermetic ping:")
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
@pytest.mark.parametrize(
    "url", ["not-a-url", "nosuchdb://localhost/x", "postgresql+nodriver://h/d"]
)
def test_ping_bad_url(command: list[str], url: str, tmp_path: Path) -> None:
    line = _assert_one_line_error(_run(command, "ping", url, cwd=tmp_path))
    assert url.split(":")[0].split("+")[-1] in line


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_ping_unreachable(command: list[str], driver: str, tmp_path: Path) -> None:
    url = f"postgresql+{driver}://root:s3cr3t@127.0.0.1:1/test"
    line = _assert_one_line_error(_run(command, "ping", url, cwd=tmp_path))
    assert "127.0.0.1" in line
    assert "refused" in line.lower()
    assert "s3cr3t" not in line


def test_ping_unopenable_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    line = _assert_one_line_error(_run(COMMANDS[0], "ping", url, cwd=tmp_path))
    assert "unable to open database file" in line


def test_demo(tmp_path: Path) -> None:
    proc = _run(COMMANDS[-1], "demo", cwd=tmp_path)  # the console script when installed
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "QueuePool limit of size" in out
    holders = [line for line in out.splitlines() if "handle_request" in line]
    assert holders, out
    assert any("has held it for" in line for line in holders), out


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    proc = _run(COMMANDS[0], cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr
    assert "Traceback" not in proc.stderr
