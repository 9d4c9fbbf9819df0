"""Auth headers, path styles, exact error bodies and common headers."""

from __future__ import annotations

import requests

from mailtrap_pandas.emulator import Emulator

from .conftest import Api


def test_bearer_and_api_token_headers_both_work(emulator: Emulator) -> None:
    for headers in ({"Authorization": f"Bearer {emulator.token}"}, {"Api-Token": emulator.token}):
        for path in (f"/api/accounts/{emulator.account_id}/contacts/lists", "/api/contacts/lists"):
            r = requests.get(emulator.url + path, headers=headers, timeout=10)
            assert r.status_code == 200, (headers, path)
            assert r.json() == []


def test_wrong_or_missing_token_is_401_with_exact_body(emulator: Emulator) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Api-Token": "nope"}):
        r = requests.get(emulator.url + "/api/contacts/fields", headers=headers, timeout=10)
        assert r.status_code == 401
        assert r.json() == {"error": "Incorrect API token"}
        assert r.headers["Www-Authenticate"] == 'Token realm="Application"'
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"


def test_other_account_in_path_is_403(emulator: Emulator) -> None:
    r = requests.get(
        f"{emulator.url}/api/accounts/{emulator.account_id + 1}/contacts/lists",
        headers={"Api-Token": emulator.token},
        timeout=10,
    )
    assert r.status_code == 403
    assert r.json() == {"errors": "Account access forbidden"}


def test_accounts_endpoint(emulator: Emulator) -> None:
    r = requests.get(
        emulator.url + "/api/accounts", headers={"Api-Token": emulator.token}, timeout=10
    )
    assert r.status_code == 200
    assert r.json() == [
        {"id": emulator.account_id, "name": "Emulator account", "access_levels": [1000]}
    ]


def test_common_headers(api: Api) -> None:
    r = api.get("/lists")
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["X-Mailtrap-Version"] == "v2"


def test_404_bodies(api: Api) -> None:
    assert api.get("/nobody@example.com").json() == {"error": "Not Found"}
    assert api.get("/lists/99").status_code == 404
    assert api.get("/lists/99").json() == {"error": "Not Found"}
    assert api.get("/fields/99").json() == {"error": "Not Found"}
    assert api.get("/imports/99").json() == {"error": "Not Found"}
    assert api.get("/exports/-1").json() == {"error": "Not Found"}
    r = api.delete("/nobody@example.com")
    assert r.status_code == 404
    assert r.json() == {"errors": "Contact(s) not found"}
    r = api.post("/nobody@example.com/events", json={"name": "x"})
    assert r.status_code == 404
    assert r.json() == {"error": "Not Found"}
    assert api.get("/lists/99999999999999999999999").status_code == 404


def test_bad_json_is_422_not_500(api: Api) -> None:
    r = api.post("", data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json() == {"errors": {"base": ["request body is not valid JSON"]}}
    r = api.post("/imports", data=b"[", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["errors"]["base"] == ["request body is not valid JSON"]
    r = api.post("", json=[1, 2])
    assert r.status_code == 422


def test_second_account(emulator: Emulator) -> None:
    emulator.add_account(2000002, "Second")
    h = {"Api-Token": emulator.token}
    r = requests.get(emulator.url + "/api/accounts", headers=h, timeout=10)
    assert [a["id"] for a in r.json()] == [emulator.account_id, 2000002]
    second = f"{emulator.url}/api/accounts/2000002/contacts/lists"
    assert requests.post(second, json={"name": "S"}, headers=h, timeout=10).status_code == 200
    assert requests.get(second, headers=h, timeout=10).json() == [{"id": 1, "name": "S"}]
    # token-scoped paths stay on the first account
    first = requests.get(emulator.url + "/api/contacts/lists", headers=h, timeout=10)
    assert first.json() == []
    emulator.reset()
    assert requests.get(second, headers=h, timeout=10).status_code == 403
