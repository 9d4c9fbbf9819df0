"""``mailtrap-pandas sync-list``: the installed command against the emulator (issue 10, point 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mailtrap_pandas import Client, read_export
from tests.helpers import run_cli


@pytest.fixture
def listed(emu: Any) -> Any:
    """List 1 with ten members m0..m9."""
    emu.seed(
        lists=[{"name": "Newsletter"}],
        contacts=[{"email": f"m{i}@example.com", "list_ids": [1]} for i in range(10)],
    )
    return emu


def members(client: Client) -> list[str]:
    return sorted(read_export(client, list_ids=[1], progress=False)["email"])


def test_sync_list_shows_then_applies(listed: Any, client: Client, tmp_path: Path) -> None:
    f = tmp_path / "members.csv"
    emails = [f"m{i}@example.com" for i in range(6)] + ["new@example.com", "not-an-email"]
    pd.DataFrame({"Email": emails}).to_csv(f, index=False)
    shown = run_cli(listed, "sync-list", str(f), "--list-id", "1", "--remove-missing", ok=3)
    assert "SyncPlan(list_id=1, members=10, add=1, remove=4, unchanged=6, rejected=1)" in (
        shown.stdout
    )
    assert "run again with --apply" in shown.stdout and "not-an-email" in shown.stdout
    assert listed.state()["imports"] == 0  # showing sends nothing
    done = run_cli(
        listed, "--json", "sync-list", str(f), "--list-id", "1", "--remove-missing", ok=3
    )
    data = json.loads(done.stdout)
    assert (data["add"], data["remove"], data["members"], data["rejected"]) == (1, 4, 10, 1)
    applied = run_cli(
        listed, "--json", "sync-list", str(f), "--list-id", "1", "--remove-missing", "--apply", ok=3
    )
    result = json.loads(applied.stdout)["applied"]
    assert result["adds"]["imported"] == 1 and result["removes"]["imported"] == 4
    assert members(client) == sorted(emails[:7])
    again = run_cli(
        listed, "sync-list", str(f), "--list-id", "1", "--remove-missing", "--apply", ok=3
    )
    assert "nothing to apply" in again.stdout  # exit 3 still: the invalid email


def test_sync_list_refuses_to_empty_a_list(listed: Any, client: Client, tmp_path: Path) -> None:
    f = tmp_path / "empty.csv"
    f.write_text("email\n")
    done = run_cli(
        listed, "sync-list", str(f), "--list-id", "1", "--remove-missing", "--apply", ok=1
    )
    assert "remove=10" in done.stdout  # the plan is shown before the refusal
    assert done.stderr.startswith("Error: refusing to remove 10 of the 10 members of list 1")
    assert "--max-remove-fraction 1 or more" in done.stderr
    assert listed.state()["imports"] == 0
    assert len(members(client)) == 10
    two = tmp_path / "two.csv"
    two.write_text("email\nm0@example.com\nm1@example.com\n")
    args = ("sync-list", str(two), "--list-id", "1", "--remove-missing", "--apply")
    assert "--max-remove-fraction 0.8 or more" in run_cli(listed, *args, ok=1).stderr
    run_cli(listed, *args, "--max-remove-fraction", "0.8")
    assert members(client) == ["m0@example.com", "m1@example.com"]


def test_sync_list_without_remove_missing_only_adds(
    listed: Any, client: Client, tmp_path: Path
) -> None:
    f = tmp_path / "one.parquet"
    pd.DataFrame({"email": ["new@example.com"]}).to_parquet(f, index=False)
    run_cli(listed, "sync-list", str(f), "--list-id", "1", "--apply")
    assert len(members(client)) == 11
    bad = run_cli(listed, "sync-list", str(f), "--list-id", "1", "--max-remove-fraction", "2", ok=2)
    assert "--max-remove-fraction" in bad.stderr
