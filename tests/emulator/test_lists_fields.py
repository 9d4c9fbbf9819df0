"""Lists and fields: CRUD statuses, limits and validation messages."""

from __future__ import annotations

from mailtrap_pandas.emulator import Emulator

from .conftest import Api


def test_list_crud(api: Api) -> None:
    r = api.post("/lists", json={"name": "Customers"})
    assert r.status_code == 200  # sic: the API answers 200 on create
    lst = r.json()
    assert lst == {"id": 1, "name": "Customers"}
    api.post("/lists", json={"name": "Partners"})
    assert api.get("/lists").json() == [lst, {"id": 2, "name": "Partners"}]
    assert api.get("/lists", params={"search": "cust"}).json() == [lst]
    assert api.get("/lists/1").json() == lst
    r = api.patch("/lists/1", json={"name": "Clients"})
    assert r.status_code == 200 and r.json() == {"id": 1, "name": "Clients"}
    r = api.delete("/lists/1")
    assert r.status_code == 204 and r.content == b""
    assert api.get("/lists/1").status_code == 404


def test_list_rules(api: Api) -> None:
    api.post("/lists", json={"name": "A"})
    assert api.post("/lists", json={"name": "a"}).json() == {
        "errors": {"name": ["has already been taken"]}
    }
    assert api.post("/lists", json={"name": "x" * 256}).json() == {
        "errors": {"name": ["is too long (maximum is 255 characters)"]}
    }
    assert api.post("/lists", json={"name": "x" * 255}).status_code == 200
    assert api.post("/lists", json={}).status_code == 422
    for i in range(48):
        assert api.post("/lists", json={"name": f"L{i}"}).status_code == 200
    r = api.post("/lists", json={"name": "one too many"})
    assert r.status_code == 422
    assert r.json() == {"errors": {"base": ["cannot have more than 50 lists"]}}


def test_deleting_a_list_keeps_contacts(api: Api) -> None:
    api.post("/lists", json={"name": "A"})
    api.post("", json={"contact": {"email": "k@x.io", "list_ids": [1]}})
    api.delete("/lists/1")
    assert api.get("/k@x.io").json()["data"]["list_ids"] == []


def test_field_crud(api: Api) -> None:
    r = api.post("/fields", json={"name": "Company", "data_type": "text", "merge_tag": "company"})
    assert r.status_code == 201
    field = r.json()
    assert field == {"id": 1, "name": "Company", "data_type": "text", "merge_tag": "company"}
    assert api.get("/fields").json() == [field]
    assert api.get("/fields/1").json() == field
    r = api.patch("/fields/1", json={"name": "Firm", "merge_tag": "firm"})
    assert r.status_code == 200
    assert r.json() == {**field, "name": "Firm", "merge_tag": "firm"}
    r = api.patch("/fields/1", json={"data_type": "integer"})
    assert r.status_code == 422
    assert r.json() == {"errors": {"data_type": ["can't be changed"]}}
    assert api.delete("/fields/1").status_code == 204
    assert api.get("/fields").json() == []


def test_field_rename_keeps_values(api: Api) -> None:
    api.post("/fields", json={"name": "Company", "data_type": "text", "merge_tag": "company"})
    api.post("", json={"contact": {"email": "c@x.io", "fields": {"company": "ACME"}}})
    api.patch("/fields/1", json={"merge_tag": "org"})
    assert api.get("/c@x.io").json()["data"]["fields"] == {"org": "ACME"}


def test_field_rules(api: Api) -> None:
    ok = {"name": "N", "data_type": "text", "merge_tag": "n"}
    assert api.post("/fields", json=ok).status_code == 201
    r = api.post("/fields", json=ok)
    assert r.json() == {
        "errors": {"name": ["has already been taken"], "merge_tag": ["has already been taken"]}
    }
    r = api.post("/fields", json={"name": "x" * 81, "data_type": "text", "merge_tag": "y" * 81})
    assert r.json() == {
        "errors": {
            "name": ["is too long (maximum is 80 characters)"],
            "merge_tag": ["is too long (maximum is 80 characters)"],
        }
    }
    good80 = {"name": "x" * 80, "data_type": "date", "merge_tag": "y" * 80}
    assert api.post("/fields", json=good80).status_code == 201
    r = api.post("/fields", json={"name": "Z", "data_type": "number", "merge_tag": "1bad"})
    assert r.json() == {
        "errors": {"merge_tag": ["is invalid"], "data_type": ["is not included in the list"]}
    }
    r = api.post("/fields", json={"name": "E", "data_type": "text", "merge_tag": "email"})
    assert r.json() == {"errors": {"merge_tag": ["is reserved"]}}
    for i in range(38):
        body = {"name": f"F{i}", "data_type": "integer", "merge_tag": f"f{i}"}
        assert api.post("/fields", json=body).status_code == 201
    r = api.post("/fields", json={"name": "last", "data_type": "text", "merge_tag": "last"})
    assert r.status_code == 422
    assert r.json() == {"errors": {"base": ["cannot have more than 40 fields"]}}


def test_both_styles_share_state(emulator: Emulator) -> None:
    a, t = Api(emulator, "account"), Api(emulator, "token")
    a.post("/lists", json={"name": "Shared"})
    assert t.get("/lists").json() == [{"id": 1, "name": "Shared"}]
