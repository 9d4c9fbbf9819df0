"""pytest fixtures for testing your own scripts against the emulator (what moto is to AWS).

Installed with the package and loaded by pytest on its own (entry point ``pytest11``), so a
test needs no conftest and no import::

    def test_my_cleanup(mailtrap_client):
        mailtrap_client.lists.create("Newsletter")
        my_cleanup(mailtrap_client)
        ...

Fixtures
--------
``mailtrap_emulator``
    One :class:`~mailtrap_pandas.emulator.Emulator` for the whole session, served over real
    HTTP on 127.0.0.1 with rate limits off, and reset to an empty account before each test.
``mailtrap_client``
    A :class:`~mailtrap_pandas.Client` aimed at it (closed after the test).
``mailtrap_env``
    ``MAILTRAP_API_TOKEN``, ``MAILTRAP_ACCOUNT_ID`` and ``MAILTRAP_BASE_URL`` set for the
    test, so code that builds ``Client()`` from the environment reaches the emulator.

Markers
-------
``@pytest.mark.mailtrap_fault(method="POST", path="imports$", status=500, times=2)``
    Inject a fault before the test (any spec :meth:`Emulator.add_fault` takes; stack several
    markers for several faults).
``@pytest.mark.mailtrap_seed(fields=[...], lists=[...], contacts=[...])``
    Create fields, lists and contacts before the test (:meth:`Emulator.seed`).

The emulator only starts when a test asks for one of the fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mailtrap_pandas.api.client import Client
    from mailtrap_pandas.emulator import Emulator

__all__ = ["mailtrap_client", "mailtrap_emulator", "mailtrap_env"]


def pytest_configure(config: pytest.Config) -> None:
    """Declare the markers (``--strict-markers`` accepts them)."""
    config.addinivalue_line(
        "markers",
        "mailtrap_fault(**spec): inject an emulator fault before the test "
        "(method, path, status, times, drop, retry_after, import, job_delay_s)",
    )
    config.addinivalue_line(
        "markers",
        "mailtrap_seed(fields=, lists=, contacts=): create them in the emulator before the test",
    )


@pytest.fixture(scope="session")
def _mailtrap_emulator_session() -> Iterator[Emulator]:
    from mailtrap_pandas.emulator import Emulator

    with Emulator(rate_limit=None) as emu:
        yield emu


@pytest.fixture
def mailtrap_emulator(
    _mailtrap_emulator_session: Emulator, request: pytest.FixtureRequest
) -> Emulator:
    """The session's emulator, reset to an empty account, with this test's seeds and faults."""
    emu = _mailtrap_emulator_session
    emu.reset()
    # Outermost marker first: a module-level seed comes before a test's own.
    for mark in reversed(list(request.node.iter_markers("mailtrap_seed"))):
        emu.seed(**mark.kwargs)
    for mark in request.node.iter_markers("mailtrap_fault"):
        emu.add_fault(**mark.kwargs)
    return emu


@pytest.fixture
def mailtrap_client(mailtrap_emulator: Emulator) -> Iterator[Client]:
    """A Client aimed at ``mailtrap_emulator`` (rate limits off on both sides)."""
    with mailtrap_emulator.client() as client:
        yield client


@pytest.fixture
def mailtrap_env(mailtrap_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Point ``Client()`` built from the environment at ``mailtrap_emulator``."""
    monkeypatch.setenv("MAILTRAP_API_TOKEN", mailtrap_emulator.token)
    monkeypatch.setenv("MAILTRAP_ACCOUNT_ID", str(mailtrap_emulator.account_id))
    monkeypatch.setenv("MAILTRAP_BASE_URL", mailtrap_emulator.url)
    return mailtrap_emulator
