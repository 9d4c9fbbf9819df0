"""Control API (reset, seed, state) and SQLite file persistence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mailtrap_pandas.emulator import Emulator

from .conftest import Api


def test_seed_state_reset_over_http(api: Api) -> None:
    body = {
        "fields": [{"name": "Age", "data_type": "integer", "merge_tag": "age"}],
        "lists": [{"name": "A"}],
        "contacts": [
            {"email": "s@x.io", "fields": {"age": 5}, "list_ids": [1]},
            {"email": "t@x.io"},
        ],
    }
    r = api.control("POST", "seed", json=body)
    assert r.status_code == 201
    out = r.json()
    assert out["fields"] == [{"id": 1, "name": "Age", "data_type": "integer", "merge_tag": "age"}]
    assert out["lists"] == [{"id": 1, "name": "A"}]
    assert [c["email"] for c in out["contacts"]] == ["s@x.io", "t@x.io"]
    got = api.get("/s@x.io").json()["data"]
    assert got["fields"] == {"age": 5} and got["list_ids"] == [1]
    state = api.control("GET", "state").json()
    assert {k: state[k] for k in ("contacts", "lists", "fields", "imports", "exports")} == {
        "contacts": 2,
        "lists": 1,
        "fields": 1,
        "imports": 0,
        "exports": 0,
    }
    assert state["requests"] == 1 and state["responses"] == {"200": 1}
    r = api.control("POST", "reset")
    assert r.status_code == 200
    state = r.json()
    assert state["contacts"] == 0 and state["fields"] == 0 and state["requests"] == 0
    # ids restart after a reset
    assert api.post("/lists", json={"name": "B"}).json()["id"] == 1


def test_seed_rejects_bad_data(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="is invalid"):
        emulator.seed(contacts=[{"email": "nope"}])


def test_file_persistence_across_instances(tmp_path: Path, make_emulator: Any) -> None:
    db = tmp_path / "emu.sqlite"
    first = make_emulator(db=db, rate_limit=None)
    api = Api(first)
    api.post("/fields", json={"name": "Age", "data_type": "integer", "merge_tag": "age"})
    api.post("/lists", json={"name": "A"})
    created = api.post(
        "", json={"contact": {"email": "p@x.io", "fields": {"age": 9}, "list_ids": [1]}}
    ).json()["data"]
    first.stop()
    second = make_emulator(db=db, rate_limit=None, token="other-token")
    again = Api(second)
    assert again.get("/p@x.io").json()["data"] == created
    assert again.get("/lists").json() == [{"id": 1, "name": "A"}]
    assert second.state()["fields"] == 1
