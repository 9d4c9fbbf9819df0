"""Shared fixtures: a clean environment for every test, and the emulator over real HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's real credentials, and journals go to a temp dir."""
    for name in list(os.environ):
        if name.startswith("MAILTRAP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[object]:
    from mailtrap_pandas.emulator import Emulator

    try:
        emu = Emulator(rate_limit=None)
        emu.start()
    except Exception as exc:  # fail fast with a clear message rather than 100 errors
        pytest.exit(f"the emulator did not start: {exc!r}", returncode=1)
    yield emu
    emu.stop()


@pytest.fixture
def emu(emulator_session: object) -> object:
    """The session's emulator, reset to an empty account for this test."""
    emulator_session.reset()  # type: ignore[attr-defined]
    return emulator_session


@pytest.fixture
def client(emu: object) -> Iterator[object]:
    """A Client bound to the emulator (rate limits off on both sides)."""
    with emu.client() as c:  # type: ignore[attr-defined]
        yield c
