"""Fixtures: the session emulator over real HTTP (reset per test) and a factory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mailtrap_pandas.emulator import Emulator


class Api:
    """Tiny ``requests`` wrapper bound to an emulator and one path style."""

    def __init__(self, emu: Emulator, style: str = "account") -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {emu.token}"
        self.prefix = (
            f"{emu.url}/api/accounts/{emu.account_id}/contacts"
            if style == "account"
            else f"{emu.url}/api/contacts"
        )

    def url(self, path: str = "") -> str:
        return self.prefix + path

    def request(self, method: str, path: str = "", **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 30)
        return self.session.request(method, self.url(path), **kw)

    def get(self, path: str = "", **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str = "", **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str = "", **kw: Any) -> requests.Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str = "", **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def control(self, method: str, path: str, **kw: Any) -> requests.Response:
        return requests.request(method, f"{self.emu.url}/_emulator/{path}", timeout=30, **kw)


@pytest.fixture
def emulator(emulator_session: Emulator) -> Emulator:
    """The session's running emulator (rate limits off, see tests/conftest.py), wiped."""
    emulator_session.reset()
    return emulator_session


@pytest.fixture
def make_emulator() -> Iterator[Any]:
    """Factory for extra emulators with their own settings; all stopped afterwards."""
    started: list[Emulator] = []

    def make(**kw: Any) -> Emulator:
        emu = Emulator(**kw).start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


@pytest.fixture(params=["account", "token"])
def api(request: pytest.FixtureRequest, emulator: Emulator) -> Api:
    """An :class:`Api` for each path style."""
    return Api(emulator, request.param)


@pytest.fixture
def acct_api(emulator: Emulator) -> Api:
    """An :class:`Api` using the account-scoped paths only."""
    return Api(emulator, "account")
