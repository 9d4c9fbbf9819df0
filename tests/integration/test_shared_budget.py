"""Two processes with one rate file pace as one client: the emulator never answers 429."""

from __future__ import annotations

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


def test_slots_wait_when_full_and_free_up(tmp_path: Path) -> None:
    slots = SharedSlots(tmp_path / "r.sqlite")
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
