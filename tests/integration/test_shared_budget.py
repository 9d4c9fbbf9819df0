"""Two processes with one rate file pace as one client: the emulator never answers 429."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from mailtrap_pandas.api.ratelimit import SharedSlots, Window
from mailtrap_pandas.emulator import Emulator

CHILD = """
import sys
from mailtrap_pandas import Client, Window
url, token, account, path = sys.argv[1:5]
client = Client(token, account_id=account, base_url=url, rate_limit=[Window(8, 2.0)],
                rate_limit_file=path, max_retries=0)  # a 429 would raise: exit code 1
for _ in range(12):
    client.lists.list()
"""


def test_two_processes_share_one_budget(tmp_path: Path) -> None:
    rate_file = tmp_path / "rate.sqlite"
    with Emulator(rate_limit=[(8, 2.0, "account")]) as emu:
        args = [emu.url, emu.token, str(emu.account_id), str(rate_file)]
        start = time.monotonic()
        children = [subprocess.Popen([sys.executable, "-c", CHILD, *args]) for _ in range(2)]
        assert [child.wait(timeout=120) for child in children] == [0, 0]
        elapsed = time.monotonic() - start
        assert emu.state()["responses"].get("429", 0) == 0
        assert emu.state()["responses"]["200"] == 24
    assert elapsed >= 3.5  # 24 requests at 8 per 2 s, between both processes


# The process that meets the 429 storm: it retries after the server's Retry-After.
HIT = """
import sys
from mailtrap_pandas import Client, Window
url, token, account, path = sys.argv[1:5]
client = Client(token, account_id=account, base_url=url, rate_limit=[Window(100, 10.0)],
                rate_limit_file=path, max_retries=5)
client.lists.list()
"""
# The other process: it starts sending only once the storm has begun (the go file), on
# another endpoint the storm does not target, and reports how long its budget held it back.
OTHER = """
import json, os, sys, time
from mailtrap_pandas import Client, Window
url, token, account, path, go = sys.argv[1:6]
client = Client(token, account_id=account, base_url=url, rate_limit=[Window(100, 10.0)],
                rate_limit_file=path, max_retries=0)  # a 429 would raise: exit code 1
while not os.path.exists(go):
    time.sleep(0.02)
client.fields.list()
print(json.dumps({"waited": client.budget.waited}))
"""


def test_a_429_pauses_every_process_sharing_the_rate_file(tmp_path: Path) -> None:
    rate_file, go = tmp_path / "rate.sqlite", tmp_path / "go"
    with Emulator(rate_limit=None) as emu:
        # The storm: two 429s in a row on the lists, each asking for 3 s of quiet.
        emu.add_fault(method="GET", path="/lists", status=429, retry_after=3, times=2)
        args = [emu.url, emu.token, str(emu.account_id), str(rate_file)]
        other = subprocess.Popen(
            [sys.executable, "-c", OTHER, *args, str(go)], stdout=subprocess.PIPE, text=True
        )
        hit = subprocess.Popen([sys.executable, "-c", HIT, *args])
        while emu.state()["responses"].get("429", 0) == 0:
            assert hit.poll() is None, "the first process ended before the storm"
            time.sleep(0.02)
        go.touch()  # the storm has begun: the pause is in the rate file
        assert hit.wait(timeout=120) == 0
        out, _ = other.communicate(timeout=120)
        assert other.returncode == 0  # no 429 for the process the storm never touched
        responses = emu.state()["responses"]
    assert responses.get("429", 0) == 2 and responses["200"] == 2
    # It sent nothing while the pause held; per-process pauses would have let it go at once.
    assert json.loads(out)["waited"] >= 1.0


def test_pause_is_shared_through_the_file(tmp_path: Path) -> None:
    with SharedSlots(tmp_path / "r.sqlite") as one, SharedSlots(tmp_path / "r.sqlite") as two:
        pause_through_file(one, two)


def pause_through_file(one: SharedSlots, two: SharedSlots) -> None:
    window = [("k", Window(100, 10.0))]
    two.pause(["acct"], 105.0)
    assert one.take(window, 100.0, ["acct"]) == (5.0, [])
    assert one.take(window, 100.0, ["other"])[0] == 0.0  # another account is not paused
    one.pause(["acct"], 103.0)  # a shorter pause never shortens a longer one
    assert one.take(window, 104.0, ["acct"]) == (1.0, [])
    assert two.take(window, 105.0, ["acct"])[0] == 0.0


def test_slots_wait_when_full_and_free_up(tmp_path: Path) -> None:
    with SharedSlots(tmp_path / "r.sqlite") as slots:
        wait_and_free_up(slots)


def wait_and_free_up(slots: SharedSlots) -> None:
    window = [("k", Window(2, 10.0))]
    wait, first = slots.take(window, 100.0)
    assert wait == 0.0 and first
    assert slots.take(window, 101.0)[0] == 0.0
    wait, none = slots.take(window, 102.0)
    assert none == [] and wait == 8.0  # the first slot leaves the window at 110
    slots.settle(first, 105.0)  # its answer came at 105: it now counts until 115
    assert slots.take(window, 112.0)[0] == 0.0  # the 101 slot has left the window
    # Full again (105 and 112): without the settle, 100 would have left at 110.
    assert slots.take(window, 113.0) == (2.0, [])
    assert slots.take(window, 115.5)[0] == 0.0
