"""Imports and exports: validation, lifecycles, counts, the export file."""

from __future__ import annotations

import csv
import gzip
import io
import time
from typing import Any

import requests

from mailtrap_pandas.emulator import Emulator

from .conftest import Api


def wait_status(api: Api, path: str, status: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = api.get(path).json()
        if body["status"] == status or time.monotonic() > deadline:
            return body
        time.sleep(0.01)


def seed(emu: Emulator) -> None:
    emu.seed(
        fields=[
            {"name": "Age", "data_type": "integer", "merge_tag": "age"},
            {"name": "Nick", "data_type": "text", "merge_tag": "nick"},
            {"name": "Score", "data_type": "float", "merge_tag": "score"},
            {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
            {"name": "Born", "data_type": "date", "merge_tag": "born"},
        ],
        lists=[{"name": "A"}, {"name": "B"}],
    )


def test_import_lifecycle_and_counts(api: Api) -> None:
    seed(api.emu)
    api.post("", json={"contact": {"email": "old@x.io", "fields": {"nick": "o"}, "list_ids": [2]}})
    api.emu.add_fault(job_delay_s=0.3)
    body = {
        "contacts": [
            {"email": "new@x.io", "fields": {"age": 1}, "list_ids_included": [1]},
            {
                "email": "OLD@x.io",
                "fields": {"age": 2},
                "list_ids_included": [1],
                "list_ids_excluded": [2],
            },
            {"email": "new@x.io", "fields": {"age": 3}},  # duplicate: last one wins
        ]
    }
    r = api.post("/imports", json=body)
    assert r.status_code == 201
    job = r.json()
    assert job == {"id": 1, "status": "created"}
    seen = {api.get("/imports/1").json()["status"]}
    started = wait_status(api, "/imports/1", "started")
    assert started == {"id": 1, "status": "started"}  # no counts before finished
    done = wait_status(api, "/imports/1", "finished")
    seen |= {"started", done["status"]}
    assert done == {
        "id": 1,
        "status": "finished",
        "created_contacts_count": 1,
        "updated_contacts_count": 1,
        "contacts_over_limit_count": 0,
    }
    assert api.get("/new@x.io").json()["data"]["fields"] == {"age": 3}
    old = api.get("/old@x.io").json()["data"]
    assert old["fields"] == {"age": 2, "nick": "o"}
    assert old["list_ids"] == [1]
    assert old["email"] == "old@x.io"


def test_import_failed_via_fault(api: Api) -> None:
    api.emu.add_fault(**{"import": "fail", "times": 1})
    r = api.post("/imports", json={"contacts": [{"email": "f@x.io"}]})
    assert r.status_code == 201
    assert wait_status(api, f"/imports/{r.json()['id']}", "failed") == {"id": 1, "status": "failed"}
    assert api.get("/f@x.io").status_code == 404
    r = api.post("/imports", json={"contacts": [{"email": "f@x.io"}]})
    assert wait_status(api, f"/imports/{r.json()['id']}", "finished")["status"] == "finished"


def test_import_rejects_whole_batch_per_email(api: Api) -> None:
    seed(api.emu)
    body = {
        "contacts": [
            {"email": "good@x.io"},
            {"email": "bad", "fields": {"age": "x"}},
            {
                "email": "u@x.io",
                "fields": {"zzz": 1},
                "list_ids_included": [1],
                "list_ids_excluded": [1],
            },
        ]
    }
    r = api.post("/imports", json=body)
    assert r.status_code == 422
    assert r.json() == {
        "errors": [
            {"email": "bad", "errors": {"email": ["is invalid"], "age": ["is invalid"]}},
            {
                "email": "u@x.io",
                "errors": {
                    "fields": ["contains invalid values: zzz"],
                    "base": ["same list_ids 1 are specified both as included and excluded"],
                },
            },
        ]
    }
    assert api.emu.state()["imports"] == 0
    assert api.get("/good@x.io").status_code == 404


def test_import_cap(acct_api: Api) -> None:
    contacts = [{"email": f"u{i}@x.io"} for i in range(50_001)]
    r = acct_api.post("/imports", json={"contacts": contacts})
    assert r.status_code == 422
    assert r.json() == {
        "errors": [
            {
                "email": "u0@x.io",
                "errors": {"base": ["cannot import more than 50000 contacts at once"]},
            }
        ]
    }
    assert acct_api.post("/imports", json={"contacts": []}).status_code == 422


def test_import_50k_in_one_job(acct_api: Api) -> None:
    # Speed is measured in benchmarks/bench_emulator.py: a wall-clock bound here flakes when
    # make test's three runs share the cores.
    contacts = [{"email": f"u{i}@x.io", "fields": {}} for i in range(50_000)]
    r = acct_api.post("/imports", json={"contacts": contacts})
    assert r.status_code == 201
    done = wait_status(acct_api, f"/imports/{r.json()['id']}", "finished", timeout=60)
    assert done["created_contacts_count"] == 50_000
    assert acct_api.emu.state()["contacts"] == 50_000


def test_max_contacts_quota(make_emulator: Any) -> None:
    emu = make_emulator(rate_limit=None, max_contacts=2)
    api = Api(emu)
    r = api.post("/imports", json={"contacts": [{"email": f"q{i}@x.io"} for i in range(5)]})
    done = wait_status(api, f"/imports/{r.json()['id']}", "finished")
    assert done["created_contacts_count"] == 2
    assert done["contacts_over_limit_count"] == 3
    assert emu.state()["contacts"] == 2


def read_csv(url: str) -> list[dict[str, str]]:
    r = requests.get(url, timeout=10)  # no token: a pre-signed-like URL
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/gzip"
    text = gzip.decompress(r.content).decode("utf-8")
    assert "\r\n" not in text
    return list(csv.DictReader(io.StringIO(text)))


def test_export_lifecycle_file_and_single_flight(api: Api) -> None:
    seed(api.emu)
    api.emu.seed(
        contacts=[
            {
                "email": "a@x.io",
                "fields": {
                    "age": 7,
                    "nick": 'He said "hi", ok',
                    "score": 0.1,
                    "vip": True,
                    "born": "2000-01-31",
                },
                "list_ids": [1, 2],
            },
            {"email": "b@x.io", "list_ids": [2], "unsubscribed": True},
            {"email": "c@x.io"},
        ]
    )
    api.emu.add_fault(job_delay_s=0.3)
    r = api.post("/exports", json={})
    assert r.status_code == 201
    exp = r.json()
    assert set(exp) == {"id", "status", "created_at", "updated_at", "url"}
    assert exp["status"] == "created" and exp["url"] is None
    assert exp["created_at"].endswith("Z") and len(exp["created_at"]) == 24
    busy = api.post("/exports", json={})
    assert busy.status_code == 422
    assert busy.json() == {
        "errors": {
            "base": [
                "There is a previous export initiated. You will be notified by email once it is "
                "completed."
            ]
        }
    }
    assert wait_status(api, "/exports/1", "started")["url"] is None
    done = wait_status(api, "/exports/1", "finished")
    assert done["url"].startswith(api.emu.url + "/_emulator/files/export-1-")
    assert done["url"].endswith(".csv.gz")
    rows = read_csv(done["url"])
    assert list(rows[0]) == [
        "id",
        "email",
        "status",
        "list_ids",
        "created_at",
        "updated_at",
        "age",
        "nick",
        "score",
        "vip",
        "born",
    ]
    a, b, c = rows
    assert a["email"] == "a@x.io" and a["list_ids"] == "1;2" and a["age"] == "7"
    assert a["nick"] == 'He said "hi", ok' and a["score"] == "0.1" and a["vip"] == "true"
    assert a["born"] == "2000-01-31" and a["created_at"].endswith("Z")
    assert b["status"] == "unsubscribed" and b["age"] == "" and c["list_ids"] == ""
    api.emu.clear_faults()
    r = api.post(
        "/exports",
        json={
            "filters": [
                {"name": "list_id", "operator": "equal", "value": [2]},
                {"name": "subscription_status", "operator": "equal", "value": "subscribed"},
            ]
        },
    )
    assert r.status_code == 201
    done = wait_status(api, f"/exports/{r.json()['id']}", "finished")
    assert [row["email"] for row in read_csv(done["url"])] == ["a@x.io"]


def test_export_bad_filters(api: Api) -> None:
    for filters in (
        "x",
        [{"name": "list_id", "operator": "equal", "value": "1"}],
        [{"name": "email", "operator": "equal", "value": "a"}],
        [{"name": "subscription_status", "operator": "equal", "value": "maybe"}],
    ):
        r = api.post("/exports", json={"filters": filters})
        assert r.status_code == 422
        assert r.json() == {"errors": {"filters": "invalid"}}


def test_unknown_file_is_404(emulator: Emulator) -> None:
    r = requests.get(emulator.url + "/_emulator/files/nope.csv.gz", timeout=10)
    assert r.status_code == 404


def test_manual_job_policy(make_emulator: Any) -> None:
    emu = make_emulator(rate_limit=None, job_policy="manual")
    api = Api(emu)
    r = api.post("/imports", json={"contacts": [{"email": "m@x.io"}]})
    assert api.get("/imports/1").json()["status"] == "created"
    assert emu.advance_jobs() == 1
    assert api.get("/imports/1").json()["status"] == "started"
    r = api.control("POST", "jobs/advance")
    assert r.json() == {"advanced": 1}
    assert api.get("/imports/1").json()["status"] == "finished"


def test_worker_survives_a_crashing_job(api: Api, monkeypatch: Any) -> None:
    from mailtrap_pandas.emulator import jobs

    def boom(*_: Any) -> bytes:
        raise RuntimeError("bug")

    monkeypatch.setattr(jobs, "build_export", boom)
    r = api.post("/exports", json={})
    assert wait_status(api, f"/exports/{r.json()['id']}", "failed")["status"] == "failed"
    monkeypatch.undo()
    r = api.post("/exports", json={})  # a failed export does not block the next one
    assert r.status_code == 201
    assert wait_status(api, f"/exports/{r.json()['id']}", "finished")["status"] == "finished"


def test_export_quotes_bare_carriage_return(api: Api) -> None:
    api.emu.seed(
        fields=[{"name": "Note", "data_type": "text", "merge_tag": "note"}],
        contacts=[{"email": "cr@x.io", "fields": {"note": "a\rb"}}, {"email": "n@x.io"}],
    )
    r = api.post("/exports", json={})
    done = wait_status(api, f"/exports/{r.json()['id']}", "finished")
    rows = read_csv(done["url"])
    assert [(row["email"], row["note"]) for row in rows] == [("cr@x.io", "a\rb"), ("n@x.io", "")]
