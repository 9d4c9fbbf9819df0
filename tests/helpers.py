"""Helpers the test modules share (fixtures live in tests/conftest.py: ``emu``, ``client``)."""

from __future__ import annotations

from typing import Any

#: Import/sync keyword arguments for tests: no bar, and short polls (the back-off logic is
#: the same, only faster against the emulator's instant jobs).
FAST: dict[str, Any] = {"progress": False, "poll_interval": 0.02, "max_poll_interval": 0.1}
