"""Generated code stays in step with its generator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_async_facade_passthroughs_are_current() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools/gen_async_proxies.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
