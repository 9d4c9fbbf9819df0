"""``lists.ensure()`` and ``fields.ensure()`` converge when two processes race (issue 10, point 9).

The race is scripted with the emulator's ``before`` fault: another client's
create lands between our read of the lists (or fields) and our own create, so
our create gets ``422 ... has already been taken``, over real HTTP.
"""

from __future__ import annotations

import threading

import pytest

from mailtrap_pandas import Client, InputError, ValidationError
from mailtrap_pandas.emulator import Emulator


def test_list_ensure_rereads_after_taken(emu: Emulator, client: Client) -> None:
    emu.add_fault(method="POST", path="lists$", before={"method": "POST", "json": {"name": "News"}})
    got = client.lists.ensure("News")
    lists = client.lists.list()
    assert [x["name"] for x in lists] == ["News"]  # one list, made by the "other process"
    assert got == lists[0]
    assert emu.state()["responses"]["422"] == 1  # our create lost the race, then re-read


def test_list_ensure_other_422_still_raises(client: Client) -> None:
    with pytest.raises(ValidationError, match="too long"):
        client.lists.ensure("x" * 300)


def test_field_ensure_rereads_after_taken(emu: Emulator, client: Client) -> None:
    other = {"name": "Zip code", "data_type": "text", "merge_tag": "zip"}
    emu.add_fault(method="POST", path="fields$", before={"method": "POST", "json": other})
    got = client.fields.ensure("Zip code", "text", "zip")
    fields = client.fields.list()
    assert len(fields) == 1
    assert got == fields[0]


def test_field_ensure_race_with_another_type_says_so(emu: Emulator, client: Client) -> None:
    other = {"name": "Zip code", "data_type": "integer", "merge_tag": "zip"}
    emu.add_fault(method="POST", path="fields$", before={"method": "POST", "json": other})
    with pytest.raises(InputError, match="exists as integer, not text"):
        client.fields.ensure("Zip code", "text", "zip")


def test_threads_running_the_same_setup_converge(emu: Emulator) -> None:
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def setup() -> None:
        try:
            with emu.client() as c:
                start.wait()
                lst = c.lists.ensure("Spring webinar")
                fld = c.fields.ensure("Signup", "date", "signup")
                results.append((lst["id"], fld["id"]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=setup) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1
    with emu.client() as c:
        assert len(c.lists.list()) == 1
        assert len(c.fields.list()) == 1
