"""``mailtrap-pandas sync`` through the installed executable, against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

BIN = Path(sys.executable).parent
FIELDS = [{"name": "Age", "data_type": "integer", "merge_tag": "age"}]


def sync(emu: Any, *args: str, journal: Path, ok: int = 0) -> Any:
    env = {
        **os.environ,
        "MAILTRAP_API_TOKEN": emu.token,
        "MAILTRAP_BASE_URL": emu.url,
        "MAILTRAP_ACCOUNT_ID": str(emu.account_id),
        "MAILTRAP_PANDAS_JOURNAL": str(journal),
    }
    done = subprocess.run(
        [str(BIN / "mailtrap-pandas"), "--json", "--no-progress", "sync", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == ok, (done.returncode, done.stdout, done.stderr)
    return json.loads(done.stdout)


def test_nightly_sync_from_the_command_line(emu: Any, tmp_path: Path) -> None:
    emu.seed(fields=FIELDS, lists=[{"name": "Newsletter"}])
    journal = tmp_path / "state.sqlite"
    df = pd.DataFrame({"email": [f"u{i}@example.com" for i in range(40)], "age": range(40)})
    path = tmp_path / "crm.csv"
    df.to_csv(path, index=False)
    first = sync(emu, str(path), "--list-id", "1", journal=journal)
    assert (first["sent"], first["unchanged"], first["reconciled"]) == (40, 0, True)
    assert first["summary"] == []

    df.loc[3, "age"] = 300
    df.iloc[:35].to_csv(path, index=False)  # row 3 changed, rows 35..39 gone
    second = sync(
        emu, str(path), "--list-id", "1", "--missing", "remove-from-lists", journal=journal
    )
    assert (second["sent"], second["unchanged"], second["missing"]) == (1, 34, 5)
    assert second["removed"] == 5 and not second["reconciled"]

    df.iloc[:35].assign(age="x").to_csv(path, index=False)
    bad = sync(emu, str(path), "--list-id", "1", "--reconcile", "never", journal=journal, ok=3)
    assert bad["rejected"] == 35 and bad["sent"] == 0
    # The summary leads, as for import: the failures grouped by column and reason.
    assert list(bad)[0] == "summary"
    assert bad["summary"] == [{"column": "age", "reason": "wrong_type", "rows": 35}]
