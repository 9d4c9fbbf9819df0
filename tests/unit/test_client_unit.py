"""Client behaviour that needs no server: configuration, paths, secrets."""

from __future__ import annotations

import pytest

from mailtrap_pandas import Client, ConfigurationError

SECRET = "tok-SECRET-123456"


def test_token_from_argument_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="MAILTRAP_API_TOKEN") as info:
        Client()
    assert "Emulator" in str(info.value)
    monkeypatch.setenv("MAILTRAP_API_TOKEN", SECRET)
    monkeypatch.setenv("MAILTRAP_ACCOUNT_ID", "42")
    client = Client()
    assert client.account_id == "42"


@pytest.mark.parametrize(
    "url",
    ["http://mailtrap.io", "http://10.0.0.5:8025", "ftp://127.0.0.1", "mailtrap.io"],
)
def test_plain_http_refused_except_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError):
        Client(SECRET, base_url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8025", "http://localhost:1", "http://[::1]:9", "https://x.test"]
)
def test_loopback_and_https_accepted(url: str) -> None:
    assert Client(SECRET, base_url=url, account_id=1).base_url == url


def test_paths_in_both_styles_quote_every_segment() -> None:
    acct = Client(SECRET, account_id=7)
    assert acct.contacts_path() == "/api/accounts/7/contacts"
    assert (
        acct.contacts_path("a+b@x.io", "events") == "/api/accounts/7/contacts/a%2Bb%40x.io/events"
    )
    assert acct.contacts_path("../x") == "/api/accounts/7/contacts/..%2Fx"
    token = Client(SECRET, path_style="token")
    assert token.contacts_path("lists", 3) == "/api/contacts/lists/3"
    with pytest.raises(ConfigurationError):
        Client(SECRET, path_style="nope")  # type: ignore[arg-type]


def test_token_never_in_repr_or_pickle() -> None:
    client = Client(SECRET, account_id=9, base_url="https://mailtrap.io")
    assert SECRET not in repr(client)
    assert "account_id=9" in repr(client)
    assert SECRET not in repr(client.contacts) and SECRET not in repr(client.budget)
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(client)


def test_no_urllib3_retries_underneath() -> None:
    client = Client(SECRET, account_id=1)
    for adapter in client.session.adapters.values():
        assert adapter.max_retries.total == 0  # type: ignore[attr-defined]
