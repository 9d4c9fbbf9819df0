"""The client against the emulator over real HTTP: every endpoint and every error class."""

from __future__ import annotations

import gzip
import logging
import socket
import time
from pathlib import Path

import pytest

from mailtrap_pandas import (
    AuthenticationError,
    Client,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
    Window,
)
from mailtrap_pandas.emulator import Emulator
from tests.helpers import wait_for


@pytest.fixture(params=["account", "token"])
def styled(request: pytest.FixtureRequest, emu: Emulator) -> Client:
    return emu.client(path_style=request.param)


def test_accounts_and_account_resolution(emu: Emulator) -> None:
    client = Client(emu.token, base_url=emu.url, rate_limit=None)
    accounts = client.accounts.list()
    assert [a["id"] for a in accounts] == [emu.account_id]
    assert client.account_id == str(emu.account_id)  # resolved with GET /api/accounts


def test_lists_crud(styled: Client) -> None:
    created = styled.lists.create("Newsletter")
    assert created["name"] == "Newsletter" and isinstance(created["id"], int)
    assert styled.lists.get(created["id"]) == created
    assert styled.lists.update(created["id"], "Weekly")["name"] == "Weekly"
    assert [x["name"] for x in styled.lists.list()] == ["Weekly"]
    styled.lists.delete(created["id"])
    assert styled.lists.list() == []
    with pytest.raises(NotFoundError):
        styled.lists.get(created["id"])


def test_fields_crud(styled: Client) -> None:
    field = styled.fields.create("First name", "text", "first_name")
    assert field["data_type"] == "text" and field["merge_tag"] == "first_name"
    assert styled.fields.get(field["id"]) == field
    renamed = styled.fields.update(field["id"], name="Given name")
    assert renamed["name"] == "Given name" and renamed["data_type"] == "text"
    assert len(styled.fields.list()) == 1
    styled.fields.delete(field["id"])
    assert styled.fields.list() == []


def test_contacts_create_get_upsert_delete(styled: Client) -> None:
    styled.fields.create("Age", "integer", "age")
    news = styled.lists.create("News")
    contact = styled.contacts.create("a+b@example.com", fields={"age": 30}, list_ids=[news["id"]])
    assert contact["email"] == "a+b@example.com"
    assert contact["fields"] == {"age": 30}
    assert contact["list_ids"] == [news["id"]]
    assert contact["status"] == "subscribed"
    assert isinstance(contact["created_at"], int) and contact["created_at"] > 1_600_000_000_000
    assert styled.contacts.get(contact["id"])["email"] == "a+b@example.com"
    assert styled.contacts.get("a+b@example.com")["id"] == contact["id"]  # plus stays a plus

    updated = styled.contacts.upsert(
        "a+b@example.com", fields={"age": 31}, list_ids_excluded=[news["id"]], unsubscribed=True
    )
    assert updated.action == "updated"
    assert updated.contact["fields"] == {"age": 31}
    assert updated.contact["list_ids"] == []
    assert updated.contact["status"] == "unsubscribed"
    created = styled.contacts.upsert("new@example.com")
    assert created.action == "created"
    assert "age" not in created.contact["fields"]  # unset fields are left out, never null

    styled.contacts.delete(contact["id"])
    with pytest.raises(NotFoundError) as info:
        styled.contacts.get("a+b@example.com")
    assert info.value.body == {"error": "Not Found"}
    with pytest.raises(NotFoundError) as info:
        styled.contacts.delete("a+b@example.com")
    assert info.value.body == {"errors": "Contact(s) not found"}


def test_events(styled: Client) -> None:
    styled.contacts.create("ev@example.com")
    event = styled.events.create("ev@example.com", "Purchase", {"amount": 9.5, "vip": True})
    assert event["contact_email"] == "ev@example.com"
    assert event["name"] == "Purchase"
    assert event["params"] == {"amount": 9.5, "vip": True}
    with pytest.raises(NotFoundError):
        styled.events.create("nobody@example.com", "Purchase")


def test_import_job_lifecycle(styled: Client) -> None:
    styled.fields.create("Zip", "text", "zip")
    job = styled.imports.create(
        [{"email": f"u{i}@example.com", "fields": {"zip": "00501"}} for i in range(10)]
    )
    assert job["status"] in ("created", "started")
    assert "created_contacts_count" not in job  # counts only once finished
    done = wait_for(lambda: styled.imports.get(job["id"]))
    assert done["status"] == "finished"
    assert done["created_contacts_count"] == 10
    assert done["updated_contacts_count"] == 0
    # the same body again updates instead of creating
    again = styled.imports.create(b'{"contacts":[{"email":"u1@example.com"}]}')
    assert wait_for(lambda: styled.imports.get(again["id"]))["updated_contacts_count"] == 1


def test_import_422_is_per_email(client: Client) -> None:
    client.fields.create("Age", "integer", "age")
    with pytest.raises(ValidationError) as info:
        client.imports.create(
            [
                {"email": "ok@example.com", "fields": {"age": 3}},
                {"email": "bad@example.com", "fields": {"age": "three"}},
                {"email": "worse@example.com", "fields": {"nope": 1}},
            ]
        )
    by_email = info.value.by_email
    assert set(by_email) == {"bad@example.com", "worse@example.com"}
    assert any("nope" in e.message for e in by_email["worse@example.com"])
    assert client.imports is not None


def test_export_create_poll_download(styled: Client, tmp_path: Path) -> None:
    styled.contacts.create("x@example.com")
    export = styled.exports.create()
    assert export["status"] in ("created", "started") and export["url"] is None
    done = wait_for(lambda: styled.exports.get(export["id"]))
    assert done["status"] == "finished" and done["url"].startswith("http://127.0.0.1")
    path = styled.exports.download(done, tmp_path / "export.csv.gz")
    text = gzip.decompress(path.read_bytes()).decode()
    assert text.splitlines()[0].startswith("id,email,status,list_ids,created_at,updated_at")
    assert "x@example.com" in text


def test_second_export_in_flight_is_422(client: Client, emu: Emulator) -> None:
    emu.add_fault(job_delay_s=1.0)
    client.exports.create()
    with pytest.raises(ValidationError) as info:
        client.exports.create()
    assert "previous export" in str(info.value)


def test_401_wrong_token_never_shows_it(emu: Emulator) -> None:
    secret = "wrong-SECRET-token-98765"
    client = Client(secret, account_id=emu.account_id, base_url=emu.url, rate_limit=None)
    with pytest.raises(AuthenticationError) as info:
        client.lists.list()
    assert info.value.status == 401
    assert info.value.body == {"error": "Incorrect API token"}
    assert secret not in str(info.value) and secret not in repr(info.value)


def test_403_other_account(emu: Emulator) -> None:
    client = Client(emu.token, account_id=emu.account_id + 1, base_url=emu.url, rate_limit=None)
    with pytest.raises(PermissionDeniedError) as info:
        client.fields.list()
    assert info.value.body == {"errors": "Account access forbidden"}


def test_422_per_attribute(client: Client) -> None:
    with pytest.raises(ValidationError) as info:
        client.fields.create("x" * 81, "text", "long_one")
    assert info.value.errors[0].attribute == "name"
    assert "too long" in info.value.errors[0].message


def test_429_raised_when_retries_are_off(emu: Emulator) -> None:
    emu.add_fault(method="GET", path="lists", status=429, times=1)
    client = emu.client(max_retries=0)
    with pytest.raises(RateLimitError) as info:
        client.lists.list()
    assert info.value.body == {"errors": "Rate limit exceeded"}


def test_429_retry_after_is_honoured(emu: Emulator) -> None:
    emu.add_fault(method="GET", path="lists", status=429, times=2, retry_after=1)
    client = emu.client()
    start = time.monotonic()
    assert client.lists.list() == []
    assert time.monotonic() - start >= 2.0  # two Retry-After: 1 waits
    assert client.stats["rate_limited"] == 2


def test_5xx_retried_for_idempotent_calls(emu: Emulator) -> None:
    emu.add_fault(method="GET", path="fields", status=503, times=2)
    client = emu.client()
    assert client.fields.list() == []
    assert client.stats["retries"] == 2


def test_5xx_on_event_is_not_repeated(emu: Emulator, client: Client) -> None:
    client.contacts.create("ev@example.com")
    emu.add_fault(method="POST", path="events", status=500, times=1)
    with pytest.raises(ServerError) as info:
        client.events.create("ev@example.com", "Login")
    assert info.value.body == {"errors": "Unexpected error"}
    assert client.stats["retries"] == 0


def test_dropped_connection_retried_when_idempotent(emu: Emulator, client: Client) -> None:
    emu.add_fault(method="GET", path="lists", drop=True, times=1)
    assert client.lists.list() == []
    assert client.stats["retries"] == 1


def test_dropped_connection_after_accept_is_not_repeated(emu: Emulator, client: Client) -> None:
    emu.add_fault(method="POST", path="imports", drop="after", times=1)
    with pytest.raises(TransportError) as info:
        client.imports.create([{"email": "a@example.com"}])
    assert info.value.sent is True
    assert emu.state()["imports_accepted"] == 1  # accepted once, never re-sent


def test_connection_refused_is_unsent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = Client("t", account_id=1, base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(TransportError) as info:
        client.lists.list()
    assert info.value.sent is False


def test_client_paces_and_never_draws_a_429() -> None:
    limits = [(6, 1.0, "account")]
    with Emulator(rate_limit=limits) as emu:
        client = emu.client()
        assert client.budget.windows == (Window(6, 1.0, "account"),)
        start = time.monotonic()
        for _ in range(15):
            client.lists.list()
        assert time.monotonic() - start >= 1.5
        assert emu.state()["responses"].get("429", 0) == 0


def test_token_never_logged(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = emu.client()
    client.lists.create("Logged")
    client.lists.list()
    assert caplog.records  # urllib3 did log the requests
    assert emu.token not in caplog.text


def test_several_accounts_need_a_choice(emu: Emulator) -> None:
    emu.add_account(2000002, "Second")  # type: ignore[attr-defined]
    client = Client(emu.token, base_url=emu.url, rate_limit=None)
    with pytest.raises(ConfigurationError, match="2000002"):
        _ = client.account_id
