"""Helpers the test modules share (fixtures live in tests/conftest.py: ``emu``, ``client``).

A module that needs its account seeded adds an autouse ``seed_account(emu)`` fixture over the
shared ``emu``; a module that needs its own emulator (rate limits on, a database file) gives
that fixture its own name (``limited_emu``), never ``emu``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

#: Import/sync keyword arguments for tests: no bar, and short polls (the back-off logic is
#: the same, only faster against the emulator's instant jobs).
FAST: dict[str, Any] = {"progress": False, "poll_interval": 0.02, "max_poll_interval": 0.1}

#: The installed console script of the venv running the tests.
EXE = Path(sys.executable).parent / "mailtrap-pandas"


def run_cli(emu: Any, *args: str, ok: int | None = 0) -> subprocess.CompletedProcess[str]:
    """Run the installed console script against ``emu`` (settings in its environment only).

    ``ok`` is the exit code expected (None: any). The token must never be printed.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTRAP_")}
    env |= {
        "MAILTRAP_API_TOKEN": emu.token,
        "MAILTRAP_BASE_URL": emu.url,
        "MAILTRAP_ACCOUNT_ID": str(emu.account_id),
    }
    done = subprocess.run(
        [str(EXE), "--no-progress", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    if ok is not None:
        assert done.returncode == ok, (done.returncode, done.stdout, done.stderr)
    assert emu.token not in done.stdout + done.stderr
    return done


def contacts(n: int, start: int = 0) -> pd.DataFrame:
    """``n`` contacts ``user{i}@example.com``, labels ``start..start+n-1``, age ``i``, city Riga."""
    idx = pd.RangeIndex(start, start + n)
    return pd.DataFrame(
        {"email": [f"user{i}@example.com" for i in idx], "age": list(idx), "city": "Riga"},
        index=idx,
    )


def wait_for(
    fetch: Callable[[], dict[str, Any]], status: str = "finished", timeout: float = 10.0
) -> dict[str, Any]:
    """Poll ``fetch()`` until the job reaches ``status`` or fails (or ``timeout`` passes)."""
    deadline = time.monotonic() + timeout
    while True:
        job = fetch()
        if job["status"] in (status, "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)
