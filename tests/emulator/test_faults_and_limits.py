"""Fault injection (status, drop before, drop after, failed/slow jobs) and rate limits."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from mailtrap_pandas.emulator import Emulator
from mailtrap_pandas.emulator.ratelimit import RateLimiter

from .conftest import Api


def test_status_fault_in_api_shape(api: Api) -> None:
    r = api.control(
        "POST", "faults", json={"method": "GET", "path": "/lists$", "status": 500, "times": 2}
    )
    assert r.status_code == 201
    assert api.emu.state()["faults_pending"] == 2
    for _ in range(2):
        r = api.get("/lists")
        assert r.status_code == 500
        assert r.json() == {"errors": "Unexpected error"}
    assert api.get("/lists").status_code == 200
    assert api.post("/lists", json={"name": "x"}).status_code == 200  # method did not match


@pytest.mark.parametrize("status", [502, 503])
def test_5xx_shapes(api: Api, status: int) -> None:
    api.emu.add_fault(path="fields", status=status)
    r = api.get("/fields")
    assert (r.status_code, r.json()) == (status, {"errors": "Unexpected error"})


def test_429_fault_with_and_without_retry_after(api: Api) -> None:
    api.emu.add_fault(method="GET", path="lists", status=429)
    r = api.get("/lists")
    assert (r.status_code, r.json()) == (429, {"errors": "Rate limit exceeded"})
    assert "Retry-After" not in r.headers
    api.emu.add_fault(method="GET", path="lists", status=429, retry_after=2)
    assert api.get("/lists").headers["Retry-After"] == "2"


def test_drop_before_processing(api: Api) -> None:
    api.emu.add_fault(method="POST", path="/lists$", drop=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post("/lists", json={"name": "never"})
    assert api.get("/lists").json() == []  # not processed
    assert api.post("/lists", json={"name": "now"}).status_code == 200


def test_drop_after_processing_the_import(api: Api) -> None:
    api.control("POST", "faults", json={"method": "POST", "path": "imports$", "drop": "after"})
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post("/imports", json={"contacts": [{"email": "d@x.io"}]})
    state = api.emu.state()
    assert state["imports_accepted"] == 1
    assert state["faults_pending"] == 0
    deadline = time.monotonic() + 5
    while api.get("/d@x.io").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_before_processes_another_request_first(api: Api) -> None:
    other = {"method": "POST", "json": {"name": "theirs"}}
    r = api.control("POST", "faults", json={"method": "POST", "path": "/lists$", "before": other})
    assert r.status_code == 201
    assert r.json()["faults"][0]["before"] == other
    r = api.post("/lists", json={"name": "Theirs"})  # the other client's create landed first
    assert r.status_code == 422
    assert r.json() == {"errors": {"name": ["has already been taken"]}}
    assert [x["name"] for x in api.get("/lists").json()] == ["theirs"]
    bad = api.control("POST", "faults", json={"before": {"method": "POST"}, "status": 500})
    assert bad.status_code == 422
    assert api.control("POST", "faults", json={"before": "POST"}).status_code == 422


def test_bad_fault_spec_and_clear(api: Api) -> None:
    r = api.control("POST", "faults", json={"path": "(", "status": 500})
    assert r.status_code == 422
    r = api.control("POST", "faults", json={"path": "x"})
    assert r.status_code == 422
    with pytest.raises(ValueError):
        api.emu.add_fault(status=200)
    api.emu.add_fault(status=500, times=3)
    api.emu.add_fault(**{"import": "fail", "times": 2})
    api.emu.add_fault(job_delay_s=1.5)
    state = api.emu.state()
    assert state["faults_pending"] == 5 and state["job_delay_s"] == 1.5
    assert api.control("DELETE", "faults").status_code == 200
    state = api.emu.state()
    assert state["faults_pending"] == 0 and state["job_delay_s"] == 0.0


def test_rate_limit_small_window(make_emulator: Any) -> None:
    emu = make_emulator(rate_limit=[(5, 1.0, "token")])
    now = [0.0]  # the limiter's clock, moved by hand instead of sleeping out the window
    emu.app.limiter = RateLimiter(emu.rate_limit, clock=lambda: now[0])
    api = Api(emu)
    seen = [api.get("/lists") for _ in range(6)]
    assert [r.status_code for r in seen] == [200] * 5 + [429]
    assert [r.headers["X-Ratelimit-Remaining"] for r in seen[:5]] == ["4", "3", "2", "1", "0"]
    assert seen[0].headers["X-Ratelimit-Limit"] == "5"
    assert seen[-1].json() == {"errors": "Rate limit exceeded"}
    assert "Retry-After" not in seen[-1].headers
    # Control endpoints are not limited.
    assert api.control("GET", "state").status_code == 200
    now[0] = 0.99
    assert api.get("/lists").status_code == 429
    now[0] = 1.01
    assert api.get("/lists").status_code == 200


def test_rate_limit_account_window_spans_tokens_styles(make_emulator: Any) -> None:
    emu = make_emulator(rate_limit=[(3, 5.0, "account"), (100, 10.0, "token")])
    a, t = Api(emu, "account"), Api(emu, "token")
    codes = [
        a.get("/lists").status_code,
        t.get("/lists").status_code,
        a.get("/fields").status_code,
        t.get("/fields").status_code,
    ]
    assert codes == [200, 200, 200, 429]
    assert a.get("/fields").headers["X-Ratelimit-Limit"] == "100"  # headers: token window


def test_default_rate_limit_headers(make_emulator: Any) -> None:
    emu = make_emulator()
    r = Api(emu).get("/lists")
    assert r.headers["X-Ratelimit-Limit"] == "150"
    assert r.headers["X-Ratelimit-Remaining"] == "149"


def test_counters(emulator: Emulator) -> None:
    api = Api(emulator)
    api.get("/lists")
    api.get("/lists/5")
    requests.get(emulator.url + "/api/contacts/lists", timeout=5)
    state = emulator.state()
    assert state["requests"] == 3
    assert state["responses"] == {"200": 1, "401": 1, "404": 1}


def test_rate_headers_on_errors_too(make_emulator: Any) -> None:
    emu = make_emulator(rate_limit=[(5, 10.0, "token")])
    r = requests.get(emu.url + "/api/contacts/lists", headers={"Api-Token": "bad"}, timeout=5)
    assert r.status_code == 401
    assert r.headers["X-Ratelimit-Limit"] == "5"
    assert r.headers["X-Mailtrap-Version"] == "v2"


def test_no_rate_headers_when_off(emulator: Emulator) -> None:
    r = Api(emulator).get("/lists")
    assert "X-Ratelimit-Limit" not in r.headers


def test_before_fires_once_per_matching_request(api: Api) -> None:
    # Two firings: each of our two creates races with one other create, and the
    # other client's request never consumes a firing meant for ours.
    fault = {
        "method": "POST",
        "path": "/fields$",
        "times": 2,
        "before": {"method": "POST", "json": {"name": "Other", "data_type": "text"}},
    }
    assert api.control("POST", "faults", json=fault).status_code == 201
    mine = {"name": "Mine", "data_type": "text", "merge_tag": "mine"}
    r = api.post("/fields", json=mine)
    assert r.status_code == 201  # the other create lacked a merge tag: only ours made a field
    r = api.post("/fields", json=mine)
    assert r.status_code == 422
    assert r.json() == {
        "errors": {"name": ["has already been taken"], "merge_tag": ["has already been taken"]}
    }
    state = api.emu.state()
    assert state["faults"] == []
    assert state["fields"] == 1
    assert state["requests"] == 4  # ours and the two others are all served and counted
    assert state["responses"] == {"201": 1, "422": 3}


def test_before_can_name_another_path(api: Api) -> None:
    other = {"method": "POST", "path": api.url("/lists"), "json": {"name": "News"}}
    other["path"] = other["path"].removeprefix(api.emu.url)
    fault = {"method": "GET", "path": "/lists$", "before": other}
    assert api.control("POST", "faults", json=fault).status_code == 201
    assert [x["name"] for x in api.get("/lists").json()] == ["News"]
