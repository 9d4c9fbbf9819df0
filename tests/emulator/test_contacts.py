"""Contacts CRUD, identifiers, field type checks and events."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from mailtrap_pandas.emulator import Emulator

from .conftest import Api

FIELDS = [
    {"name": "Name", "data_type": "text", "merge_tag": "name"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Born", "data_type": "date", "merge_tag": "born"},
]


@pytest.fixture
def seeded(emulator: Emulator) -> Emulator:
    emulator.seed(fields=FIELDS, lists=[{"name": "A"}, {"name": "B"}])
    return emulator


def test_create_get_shape(api: Api, seeded: Emulator) -> None:
    body = {
        "contact": {
            "email": "Ann@Example.com",
            "fields": {"name": "Ann", "age": 3},
            "list_ids": [2, 1],
        }
    }
    r = api.post("", json=body)
    assert r.status_code == 201
    data = r.json()["data"]
    assert set(data) == {"id", "email", "status", "fields", "list_ids", "created_at", "updated_at"}
    assert data["email"] == "Ann@Example.com"
    assert data["status"] == "subscribed"
    assert data["fields"] == {"name": "Ann", "age": 3}  # unset fields left out, never null
    assert data["list_ids"] == [1, 2]
    assert isinstance(data["created_at"], int) and data["created_at"] > 1_600_000_000_000
    assert len(data["id"]) == 36 and data["id"][14] == "7"
    for ident in (data["id"], "ann@example.com", "ANN@EXAMPLE.COM"):
        got = api.get("/" + ident)
        assert got.status_code == 200
        assert got.json() == {"data": data}


def test_create_existing_email_is_422(api: Api, seeded: Emulator) -> None:
    assert api.post("", json={"contact": {"email": "a@b.co"}}).status_code == 201
    r = api.post("", json={"contact": {"email": "A@B.co"}})
    assert r.status_code == 422
    assert r.json() == {"errors": {"email": ["has already been taken"]}}


@pytest.mark.parametrize("email", ["", "plain", "a@b", "a b@c.com", "@c.com", "a@@c.com", 5])
def test_invalid_email(api: Api, seeded: Emulator, email: object) -> None:
    r = api.post("", json={"contact": {"email": email}})
    assert r.status_code == 422
    msgs = r.json()["errors"]["email"]
    assert msgs in (["is invalid"], ["can't be blank"])


@pytest.mark.parametrize(
    ("tag", "value", "ok"),
    [
        ("name", "x" * 255, True),
        ("name", "x" * 256, False),
        ("name", 5, False),
        ("age", 42, True),
        ("age", True, False),
        ("age", 1.5, False),
        ("age", "42", False),
        ("age", 2**63, False),
        ("score", 1, True),
        ("score", 1.25, True),
        ("score", False, False),
        ("vip", True, True),
        ("vip", "true", False),
        ("vip", 1, False),
        ("born", "2024-02-29", True),
        ("born", "2023-02-29", False),
        ("born", "2024-1-02", False),
        ("born", "02/01/2024", False),
    ],
)
def test_field_type_checks(api: Api, seeded: Emulator, tag: str, value: object, ok: bool) -> None:
    r = api.post("", json={"contact": {"email": "t@x.io", "fields": {tag: value}}})
    if ok:
        assert r.status_code == 201, r.text
        got = r.json()["data"]["fields"][tag]
        assert got == value and type(got) is (float if tag == "score" else type(value))
    else:
        assert r.status_code == 422
        expected = (
            "is too long (maximum is 255 characters)"
            if tag == "name" and isinstance(value, str)
            else "is invalid"
        )
        assert r.json() == {"errors": {tag: [expected]}}


def test_unknown_merge_tag_and_list(api: Api, seeded: Emulator) -> None:
    r = api.post(
        "", json={"contact": {"email": "t@x.io", "fields": {"nope": 1}, "list_ids": [1, 99]}}
    )
    assert r.status_code == 422
    assert r.json() == {
        "errors": {
            "fields": ["contains invalid values: nope"],
            "list_ids": ["contains invalid values: 99"],
        }
    }


def test_patch_upsert_and_update(api: Api, seeded: Emulator) -> None:
    r = api.patch(
        "/new@x.io",
        json={"contact": {"email": "new@x.io", "fields": {"age": 1}, "list_ids_included": [1]}},
    )
    assert r.status_code == 200
    assert r.json()["action"] == "created"
    cid = r.json()["data"]["id"]
    r = api.patch(
        "/" + cid,
        json={
            "contact": {
                "fields": {"age": None, "vip": True},
                "list_ids_included": [2],
                "list_ids_excluded": [1],
                "unsubscribed": True,
            }
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["action"] == "updated"
    assert body["data"]["fields"] == {"vip": True}  # null cleared age
    assert body["data"]["list_ids"] == [2]
    assert body["data"]["status"] == "unsubscribed"
    r = api.patch("/" + cid, json={"contact": {"unsubscribed": False}})
    assert r.json()["data"]["status"] == "subscribed"


def test_patch_overlap_and_unknown_uuid(api: Api, seeded: Emulator) -> None:
    r = api.patch(
        "/o@x.io",
        json={
            "contact": {"email": "o@x.io", "list_ids_included": [1, 2], "list_ids_excluded": [2, 1]}
        },
    )
    assert r.status_code == 422
    assert r.json() == {
        "errors": {"base": ["same list_ids 1 and 2 are specified both as included and excluded"]}
    }
    r = api.patch("/0199090c-b5ec-7be8-b18f-1a7c8a64f9fb", json={"contact": {"email": "z@x.io"}})
    assert r.status_code == 404


@pytest.mark.parametrize("encode", [False, True])
def test_email_paths_raw_encoded_and_plus(api: Api, seeded: Emulator, encode: bool) -> None:
    email = "first.last+tag@example.com"
    assert api.post("", json={"contact": {"email": email}}).status_code == 201
    path = "/" + (quote(email, safe="") if encode else email)
    assert api.get(path).json()["data"]["email"] == email
    ev = api.post(
        path + "/events",
        json={"name": "Login", "params": {"n": 1, "ok": True, "s": "x", "z": None}},
    )
    assert ev.status_code == 201
    assert ev.json()["contact_email"] == email
    assert api.patch(path, json={"contact": {"fields": {"age": 4}}}).json()["action"] == "updated"
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    # "first.last tag@..." (a + decoded as space) must not exist either way.
    assert api.get("/first.last%20tag@example.com").status_code == 404


def test_delete_is_204_empty(api: Api, seeded: Emulator) -> None:
    api.post("", json={"contact": {"email": "d@x.io"}})
    r = api.delete("/d@x.io")
    assert r.status_code == 204
    assert r.content == b""


def test_events(api: Api, seeded: Emulator) -> None:
    cid = api.post("", json={"contact": {"email": "e@x.io"}}).json()["data"]["id"]
    r = api.post(f"/{cid}/events", json={"name": "UserLogin", "params": {"user_id": 101}})
    assert r.status_code == 201
    assert r.json() == {
        "contact_id": cid,
        "contact_email": "e@x.io",
        "name": "UserLogin",
        "params": {"user_id": 101},
    }
    r = api.post(f"/{cid}/events", json={"params": {}})
    assert r.status_code == 422
    assert r.json() == {"errors": {"name": ["can't be blank", "must be a string"]}}
    r = api.post(f"/{cid}/events", json={"name": "n" * 256})
    assert r.json() == {"errors": {"name": ["is too long (maximum is 255 characters)"]}}
    r = api.post(f"/{cid}/events", json={"name": "x", "params": {"k" * 256: 1, "v": [1]}})
    assert r.status_code == 422
    assert r.json()["errors"]["params"] == [
        f"key '{'k' * 256}' is too long",
        "value for 'v' is invalid",
    ]
    assert api.post(f"/{cid}/events", json={"name": "x", "params": 3}).json() == {
        "errors": {"params": ["must be a hash"]}
    }
    assert api.emu.state()["events"] == 1
