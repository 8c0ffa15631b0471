"""The real CLI in a child process against a database URL (importable as ``cli_runner``)."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(args: list[str], url: str, *, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``rongxin ARGS…`` with ``RONGXIN_DATABASE_URL=url``; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "rongxin.cli_main", *args],
        capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "RONGXIN_DATABASE_URL": url},
    )  # fmt: skip
