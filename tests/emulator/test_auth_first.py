"""A wrong or missing token is a 401 on every API path, before any lookup (issue 15).

The cases come from the emulator's own route table, so a route added later is
covered without touching this file. An unauthenticated caller must learn
nothing: not whether an id exists, not whether a route exists, and nothing it
sends changes the account.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from mailtrap_pandas.emulator import Emulator
from mailtrap_pandas.emulator.routes import route_map

BAD_HEADERS = [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic d3Jvbmc="},
    {"Api-Token": "wrong-token"},
]
# A body that would succeed on most writes with the right token (creates a list,
# a contact, an import, an export...): with a wrong one nothing may happen.
BODY = {
    "name": "x",
    "contact": {"email": "a@example.com"},
    "contacts": [{"email": "a@example.com"}],
}
MISSING_ID = "987654"


def _api_routes() -> list[Any]:
    cases = []
    for rule in route_map().iter_rules():
        if rule.rule.startswith("/_emulator/"):
            continue  # the control API needs no token by design
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for account in ("own", "other") if "<int:account_id>" in rule.rule else ("none",):
                cases.append(
                    pytest.param(method, rule.rule, account, id=f"{method} {rule.rule} {account}")
                )
    return cases


def _path(rule: str, emu: Emulator, account: str) -> str:
    acct = emu.account_id if account == "own" else emu.account_id + 1
    path = rule.replace("<int:account_id>", str(acct))
    path = path.replace("<ident>", "nobody%40example.com")
    return re.sub(r"<int:\w+>", MISSING_ID, path)


def _assert_401(r: requests.Response) -> None:
    assert r.status_code == 401, (r.request.method, r.request.url, r.status_code, r.text)
    assert r.json() == {"error": "Incorrect API token"}
    assert r.headers["Www-Authenticate"] == 'Token realm="Application"'
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"


def test_the_table_has_every_api_route() -> None:
    # Both path styles of the 19 contacts routes, plus GET /api/accounts.
    assert len(_api_routes()) == 19 * 3 + 1


@pytest.mark.parametrize(("method", "rule", "account"), _api_routes())
def test_every_route_answers_401_without_the_right_token(
    emulator: Emulator, method: str, rule: str, account: str
) -> None:
    url = emulator.url + _path(rule, emulator, account)
    body = BODY if method in ("POST", "PATCH") else None
    for headers in BAD_HEADERS:
        _assert_401(requests.request(method, url, headers=headers, json=body, timeout=10))
    state = emulator.state()
    assert state["responses"] == {"401": len(BAD_HEADERS)}
    assert {
        k: state[k] for k in ("contacts", "lists", "fields", "imports", "exports", "events")
    } == {
        "contacts": 0,
        "lists": 0,
        "fields": 0,
        "imports": 0,
        "exports": 0,
        "events": 0,
    }
    # The same request with the right token reaches the route (whatever it answers).
    good = {"Authorization": f"Bearer {emulator.token}"}
    r = requests.request(method, url, headers=good, json=body, timeout=10)
    assert r.status_code != 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/contacts/exports/-1",
        "/api/accounts/{acct}/contacts/exports/-1",
        "/api/contacts/lists/99999999999999999999999",
        "/api/contacts/no/such/route",
        "/api/nothing",
        "/",
    ],
)
def test_unknown_routes_and_ids_are_401_too(emulator: Emulator, path: str) -> None:
    url = emulator.url + path.format(acct=emulator.account_id)
    for headers in BAD_HEADERS:
        _assert_401(requests.get(url, headers=headers, timeout=10))
    good = {"Api-Token": emulator.token}
    assert requests.get(url, headers=good, timeout=10).status_code == 404


def test_existing_and_missing_ids_look_the_same(emulator: Emulator) -> None:
    seeded = emulator.seed(lists=[{"name": "News"}], contacts=[{"email": "known@example.com"}])
    list_id = seeded["lists"][0]["id"]
    base = f"{emulator.url}/api/contacts"
    pairs = [
        (f"{base}/lists/{list_id}", f"{base}/lists/{list_id + 1}"),
        (f"{base}/known%40example.com", f"{base}/unknown%40example.com"),
        (f"{base}/{seeded['contacts'][0]['id']}", f"{base}/0190b2c4-0000-7000-8000-000000000000"),
    ]
    for headers in BAD_HEADERS:
        for known, missing in pairs:
            a = requests.get(known, headers=headers, timeout=10)
            b = requests.get(missing, headers=headers, timeout=10)
            assert (
                (a.status_code, a.content)
                == (b.status_code, b.content)
                == (
                    401,
                    b'{"error":"Incorrect API token"}',
                )
            )


def test_export_file_urls_stay_presigned(emulator: Emulator) -> None:
    # Like the real API's pre-signed download URL: the URL alone opens the file.
    good = {"Api-Token": emulator.token}
    r = requests.post(f"{emulator.url}/api/contacts/exports", headers=good, json={}, timeout=10)
    export_url = f"{emulator.url}/api/contacts/exports/{r.json()['id']}"
    emulator.advance_jobs()
    for _ in range(200):
        url = requests.get(export_url, headers=good, timeout=10).json()["url"]
        if url:
            break
        emulator.advance_jobs()
    assert url
    assert requests.get(url, timeout=10).status_code == 200
    assert requests.get(url + "x", timeout=10).status_code == 404
