"""Issue 10, points 2, 3, 5 and 10: nothing silent, a summary first, and a CLI that speaks CLI.

Library calls go to the emulator over HTTP; CLI tests run the installed
``mailtrap-pandas`` executable against it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mailtrap_pandas as mtp
from mailtrap_pandas.errors import InputError

BIN = Path(sys.executable).parent
FIELDS = [
    {"name": "First name", "data_type": "text", "merge_tag": "first_name"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
]
MESSY = pd.DataFrame(
    {
        "Email": ["ann@example.com", "bob@example.com", "bad", "cy@example.com", "worse"],
        "Frist Name": ["Ann", "Bob", "C", "Cy", "D"],
        "Age": ["34", "x", "y", "z", "40"],
        "OPTIN_TIME": ["2024-01-01 10:00"] * 5,
    }
)


@pytest.fixture
def seeded(emu: Any, client: Any) -> Any:
    emu.seed(fields=FIELDS)
    return client


def test_unknown_columns_are_said_with_a_suggestion(seeded: Any) -> None:
    report = mtp.validate(MESSY, seeded, columns={"OPTIN_TIME": None})
    assert report.unknown_columns == ["Frist Name"]
    assert report.ignored_columns == ["OPTIN_TIME"]  # ignored, not unknown
    not_sent = report.not_sent.set_index("column")
    assert not_sent.loc["Frist Name", "reason"] == "unknown"
    assert not_sent.loc["Frist Name", "message"] == "no field matches; did you mean first_name?"
    assert not_sent.loc["OPTIN_TIME", "reason"] == "ignored"
    text = str(report)
    assert "'Frist Name': no field matches; did you mean first_name?" in text
    assert "'OPTIN_TIME': ignored" in text
    assert "did you mean first_name?" in report._repr_html_()


def test_columns_none_ignores_a_column_in_import_and_plan(seeded: Any) -> None:
    df = MESSY.assign(Age="1")
    result = mtp.import_contacts(df, seeded, columns={"OPTIN_TIME": None}, progress=False)
    assert list(result.not_sent["column"]) == ["Frist Name", "OPTIN_TIME"]
    assert list(result.not_sent["reason"]) == ["unknown", "ignored"]
    assert "did you mean first_name?" in repr(result)
    assert "not sent" in result._repr_html_()
    the_plan = mtp.plan(df, seeded, columns={"OPTIN_TIME": None}, progress=False)
    assert the_plan.report.ignored_columns == ["OPTIN_TIME"]
    assert "'OPTIN_TIME': ignored" in repr(the_plan)
    with pytest.raises(InputError, match="'Nope', which is not a column"):
        mtp.validate(df, seeded, columns={"Nope": None})


def test_summary_groups_failures_most_rows_first(seeded: Any) -> None:
    report = mtp.validate(MESSY, seeded)
    summary = report.summary()
    assert list(summary.columns) == ["column", "reason", "rows"]
    assert summary["rows"].sum() == len(report.failures)
    assert summary["rows"].is_monotonic_decreasing
    assert summary.values.tolist()[0] == ["Age", "wrong_type", 3]
    text = str(report)
    # print(report) leads with the summary, before any row.
    assert text.splitlines()[1].startswith("failures by column and reason")
    html = report._repr_html_()
    assert html.index("report.summary()") < html.index("report.failures")
    ok = mtp.validate(MESSY.iloc[:1], seeded)
    assert ok.summary().empty and list(ok.summary().columns) == ["column", "reason", "rows"]


def test_import_result_and_plan_summaries(seeded: Any) -> None:
    result = mtp.import_contacts(MESSY, seeded, progress=False)
    summary = result.summary()
    assert summary["rows"].sum() == len(result.rejected)
    assert summary.iloc[0]["rows"] >= summary.iloc[-1]["rows"]
    assert "rejected by column and reason" in repr(result)
    assert result.counts()["rejected"] == result.rejected.index.nunique()
    the_plan = mtp.plan(MESSY, seeded, progress=False)
    assert the_plan.summary()["rows"].sum() == len(the_plan.report.failures)
    assert "rejected by column and reason" in repr(the_plan)


def test_reprs_use_thousands_separators_and_plurals(seeded: Any) -> None:
    big = pd.DataFrame(
        {"email": [f"u{i}@example.com" for i in range(1200)], "age": ["1"] * 1199 + ["x"]}
    )
    report = mtp.validate(big, seeded)
    assert "1,200 rows, 1,199 valid, 1 failed" in repr(report) and "1 failure:" in repr(report)
    one = mtp.validate(big.iloc[:1], seeded)
    assert "1 row," in repr(one)
    with pytest.raises(InputError, match="^1 validation failure in 1 row"):
        report.raise_for_failures()


# -- the installed command -----------------------------------------------------------------------


@pytest.fixture
def env(emu: Any) -> dict[str, str]:
    emu.seed(fields=FIELDS, lists=[{"name": "Newsletter"}])
    out = {k: v for k, v in os.environ.items() if not k.startswith("MAILTRAP_")}
    out |= {
        "MAILTRAP_API_TOKEN": emu.token,
        "MAILTRAP_BASE_URL": emu.url,
        "MAILTRAP_ACCOUNT_ID": str(emu.account_id),
    }
    return out


def cli(*args: str, env: dict[str, str], code: int = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(BIN / "mailtrap-pandas"), "--no-progress", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == code, (args, proc.returncode, proc.stdout, proc.stderr)
    return proc


def test_cli_says_unknown_and_ignored_columns(env: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    MESSY.assign(Age="1").iloc[[0, 1, 3]].to_csv(f, index=False)
    out = cli("validate", str(f), "--ignore", "OPTIN_TIME", env=env).stdout
    assert "'Frist Name': no field matches; did you mean first_name?" in out
    assert "'OPTIN_TIME': ignored on request (--ignore)" in out
    out = cli("import", str(f), "--ignore", "OPTIN_TIME", "--no-journal", env=env).stdout
    assert "did you mean first_name?" in out and "rows: 3 imported" in out
    data = json.loads(cli("--json", "validate", str(f), env=env).stdout)
    assert list(data)[:2] == ["summary", "not_sent"]
    assert {c["column"] for c in data["not_sent"]} == {"Frist Name", "OPTIN_TIME"}
    bad = cli("validate", str(f), "--map", "Age=age", "--ignore", "Age", env=env, code=2)
    assert "--ignore" in bad.stderr


def test_cli_leads_with_the_summary(env: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    MESSY.to_csv(f, index=False)
    out = cli("validate", str(f), env=env, code=3).stdout
    lines = out.splitlines()
    assert lines[1].startswith("failures by column and reason")
    assert "report.summary()" not in out  # a Python spelling
    assert out.index("failures by column") < out.index("failures (row")
    data = json.loads(cli("--json", "import", str(f), "--no-journal", env=env, code=3).stdout)
    assert list(data)[0] == "summary"
    assert sum(g["rows"] for g in data["summary"]) == 5  # 4 rows, one with two problems
    assert data["summary"][0] == {"column": "Age", "reason": "wrong_type", "rows": 3}
    data = json.loads(cli("--json", "plan", str(f), env=env, code=3).stdout)
    assert list(data)[0] == "summary" and data["rejected"] == 4


def test_cli_speaks_cli_and_json_errors(env: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    pd.DataFrame({"mail": ["a@example.com"]}).to_csv(f, index=False)
    err = cli("validate", str(f), env=env, code=1).stderr
    assert "--map '<name>=email'" in err and "columns=" not in err
    proc = cli("--json", "validate", str(f), env=env, code=1)
    error = json.loads(proc.stdout)["error"]
    assert error["type"] == "InputError" and "--map '<name>=email'" in error["message"]
    g = tmp_path / "g.csv"
    MESSY.iloc[:1].to_csv(g, index=False)
    err = cli("import", str(g), "--list-id", "99", "--no-journal", env=env, code=1).stderr
    assert "mailtrap-pandas lists list" in err and "client." not in err
    # The token never shows, even when the server refuses it.
    wrong = env | {"MAILTRAP_API_TOKEN": "wrong-token-1234567890"}
    proc = cli("--json", "lists", "list", env=wrong, code=1)
    assert json.loads(proc.stdout)["error"]["type"] == "AuthenticationError"
    assert "wrong-token-1234567890" not in proc.stdout + proc.stderr
    # A usage error keeps its exit code (2) and still prints JSON.
    proc = cli("--json", "validate", str(f), "--dedupe", "sometimes", env=env, code=2)
    assert json.loads(proc.stdout)["error"]["type"] == "BadParameter"


def test_cli_counts_have_separators_and_plurals(env: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "big.csv"
    pd.DataFrame({"email": [f"u{i}@example.com" for i in range(1001)], "age": "7"}).to_csv(
        f, index=False
    )
    out = cli("validate", str(f), env=env).stdout
    assert "1,001 rows, 1,001 valid" in out
    out = cli("import", str(f), "--dry-run", env=env).stdout
    assert "1,001 of 1,001 rows would be sent in 1 import request," in out
    assert "0 rows rejected, 0 duplicates dropped" in out
    one = tmp_path / "one.csv"
    pd.DataFrame({"email": ["a@example.com"]}).to_csv(one, index=False)
    out = cli("import", str(one), "--no-journal", env=env).stdout
    assert "rows: 1 imported" in out and "(of 1 row)" in out
    out = cli("export", "-o", str(tmp_path / "o.csv"), env=env).stdout
    assert "wrote 1 contact to" in out
