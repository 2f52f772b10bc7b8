"""The pool under gevent (in a subprocess, since monkey-patching must come first):
``gevent.Timeout`` firing during checkout, use and return leaves the counters true and
the capacity intact. See tests/gevent_pool_script.py."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import pg_url, require_pg

SCRIPT = Path(__file__).with_name("gevent_pool_script.py")


@pytest.mark.postgresql
@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_pool_under_gevent_timeouts(driver: str) -> None:
    pytest.importorskip("gevent")
    require_pg()
    tag = f"hermetic-gevent-{uuid.uuid4().hex[:12]}"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), driver, pg_url(driver), tag],
        capture_output=True,
        text=True,
        timeout=90,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert proc.stdout.startswith("OK"), out
