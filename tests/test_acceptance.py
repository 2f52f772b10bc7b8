"""The shared acceptance programs (written for SQLAlchemy 2.x) run unchanged against
hermetic through the import alias: ``alias.py --map sqlalchemy=hermetic PROGRAM``.

A program passes when it exits 0 and its last stdout line is ``OK <name>``. The
acceptance directory comes from HERMETIC_ACCEPTANCE_DIR, else ``shared/acceptance`` two
levels above the repository root; without it these tests skip (it is not a server).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import require_pg

# Programs (seeds/<name>.py) hermetic must pass; later issues extend this tuple.
PROGRAMS: tuple[str, ...] = (
    "s000_pool_sanity",
    "s000_gevent_pool_threads",
    "s000_json_cross_db",
    "s000_threaded_benchmark",
    "s000_sqlite_reflection",
    "s001_session_leak_pool",
    "s001_transactions",
    "s001_session_orm_basics",
    "s001_detached_merge",
    "s001_n_plus_one_eager",
    "s001_engine_logging",
    "s002_database_module",
    "s002_env_async_engine",
    "s003_async_models_crud",
    "s003_bulk_update_flush",
    "s003_detached_after_commit",
    "s003_eager_loading",
    "s003_fastapi_routes",
    "s003_pool_tuning",
    "s003_pytest_fixture",
    "s003_text_reflection",
)


def _find_acceptance() -> Path:
    """HERMETIC_ACCEPTANCE_DIR, else the first ``shared/acceptance`` beside the checkout
    or one of its parents (the workplace keeps it at ../shared from the checkout)."""
    if os.environ.get("HERMETIC_ACCEPTANCE_DIR"):
        return Path(os.environ["HERMETIC_ACCEPTANCE_DIR"])
    here = Path(__file__).resolve()
    for parent in here.parents[1:]:
        candidate = parent / "shared" / "acceptance"
        if (candidate / "alias.py").is_file():
            return candidate
    return here.parents[2] / "shared" / "acceptance"


ACCEPTANCE_DIR = _find_acceptance()
TIMEOUT = 120  # seconds per program, as run_all.sh
# run_all.sh holds this lock while it runs: the programs share fixed table names and
# count their own sessions in pg_stat_activity, so two runs must not overlap.
LOCK_FILE = Path("/tmp/acceptance-run_all.lock")
_USES_PG = re.compile(r"\bPG_\w+|\bpg_query\b|\braw_pg\b|\bpg_drop\b|postgresql")


def _program(name: str) -> Path:
    if not (ACCEPTANCE_DIR / "alias.py").is_file():
        pytest.skip(f"acceptance suite not found at {ACCEPTANCE_DIR} (set HERMETIC_ACCEPTANCE_DIR)")
    path = ACCEPTANCE_DIR / "seeds" / f"{name}.py"
    if not path.is_file():
        pytest.fail(f"acceptance program {path} is missing", pytrace=False)
    return path


@contextlib.contextmanager
def _run_all_lock(wait: float = 1800) -> Iterator[None]:
    with open(LOCK_FILE, "a") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"could not lock {LOCK_FILE} within {wait:.0f}s", pytrace=False)
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def test_program_list_is_well_formed() -> None:
    assert len(PROGRAMS) == len(set(PROGRAMS))
    assert all(re.fullmatch(r"s\d{3}_\w+", name) for name in PROGRAMS)


@pytest.mark.parametrize("name", PROGRAMS)
def test_acceptance_program(name: str) -> None:
    program = _program(name)
    if _USES_PG.search(program.read_text()):
        require_pg()
    env = {k: v for k, v in os.environ.items() if k != "ACCEPT_MAP"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    command = [
        sys.executable,
        str(ACCEPTANCE_DIR / "alias.py"),
        "--map",
        "sqlalchemy=hermetic",
        str(program),
    ]
    with _run_all_lock():
        proc = subprocess.run(
            command, capture_output=True, text=True, cwd="/tmp", env=env, timeout=TIMEOUT
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    last = lines[-1] if lines else "<no output>"
    detail = (
        f"{name}: exit {proc.returncode}, last line {last!r}\n"
        f"--- stdout (tail)\n{os.linesep.join(proc.stdout.splitlines()[-25:])}\n"
        f"--- stderr (tail)\n{os.linesep.join(proc.stderr.splitlines()[-25:])}"
    )
    assert proc.returncode == 0, detail
    assert last == f"OK {name}", detail
