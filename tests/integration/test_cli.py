"""The ``mailtrap-pandas`` command line against the emulator.

Most tests drive the click group in process (CliRunner) with the environment
pointing at the session's emulator; a few run the real executables.
"""

from __future__ import annotations

import inspect
import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import click
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from mailtrap_pandas.cli import cli

BIN = Path(sys.executable).parent
# click < 8.2 folds stderr into stdout unless asked not to; 8.2 always keeps them apart.
_SEPARATE = {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner).parameters else {}
FIELDS = [
    {"name": "First name", "data_type": "text", "merge_tag": "first_name"},
    {"name": "Zip code", "data_type": "text", "merge_tag": "zip"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
]
GOOD = pd.DataFrame(
    {
        "Email": ["ann@example.com", "bob@example.com", "cy@example.com"],
        "First Name": ["Ann", "Bob", "Cy"],
        "Zip": ["00501", "02134", "94105"],
        "Age": ["34", "51", ""],
    }
)
BAD = pd.DataFrame(
    {
        "Email": ["ann@example.com", "not-an-email", "cy@example.com", "dee@example.com"],
        "First Name": ["Ann", "Bob", "=HYPERLINK(1)", "Dee"],
        "Zip": ["00501", "02134", "94105", "10001"],
        "Age": ["34", "51", "forty", "29"],
    }
)


@pytest.fixture
def env(emu: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point the CLI at the emulator (with two fields), the way a user's shell would."""
    monkeypatch.setenv("MAILTRAP_API_TOKEN", emu.token)
    monkeypatch.setenv("MAILTRAP_BASE_URL", emu.url)
    monkeypatch.setenv("MAILTRAP_ACCOUNT_ID", str(emu.account_id))
    emu.seed(fields=FIELDS, lists=[{"name": "Newsletter"}])
    return emu


def run(*args: str, ok: int | None = 0) -> Result:
    result = CliRunner(**_SEPARATE).invoke(cli, ["--no-progress", *args], catch_exceptions=False)
    if ok is not None:
        assert result.exit_code == ok, (result.exit_code, result.stdout, result.stderr)
    return result


def as_json(*args: str, ok: int | None = 0) -> Any:
    result = CliRunner(**_SEPARATE).invoke(cli, ["--json", *args], catch_exceptions=False)
    if ok is not None:
        assert result.exit_code == ok, (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout)


def write(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path


def imports_accepted(emu: Any) -> int:
    """Import jobs the emulator accepted (a dry run or a plan must leave this at 0)."""
    st = emu.state()
    assert st["imports"] == st["imports_accepted"]
    return int(st["imports_accepted"])


# -- help ----------------------------------------------------------------------------------


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


ALL_COMMANDS = _commands(cli)


def test_every_command_is_there() -> None:
    names = {" ".join(c) for c in ALL_COMMANDS}
    expected = {
        "",
        "emulator",
        "demo",
        "accounts",
        "fields",
        "fields list",
        "fields create",
        "fields delete",
        "lists",
        "lists list",
        "lists create",
        "lists rename",
        "lists delete",
        "validate",
        "import",
        "export",
        "events",
        "plan",
        "sync-list",
    }
    assert expected <= names


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=lambda c: " ".join(c) or "(group)")
def test_every_help_ends_with_an_example(command: tuple[str, ...]) -> None:
    result = CliRunner(**_SEPARATE).invoke(cli, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0
    text = result.stdout.rstrip()
    # The docstring's last paragraph is the example, just before the options list.
    doc = text.split("\nOptions:")[0].rstrip()
    last = doc.split("\n\n")[-1]
    assert last.lstrip().startswith("Example:"), last
    assert "mailtrap-pandas" in last
    assert "mailtrap-pandas " + " ".join(command) in last.replace("  ", " ") or not command


def test_version() -> None:
    result = run("--version")
    assert "mailtrap-pandas" in result.stdout


# -- exit codes and errors -----------------------------------------------------------------


def test_usage_errors_exit_2(env: Any, tmp_path: Path) -> None:
    assert run("no-such-command", ok=2).stderr.startswith("Usage:")
    assert "Error" in run("validate", ok=2).stderr  # missing FILE
    assert "does not exist" in run("validate", str(tmp_path / "nope.csv"), ok=2).stderr
    assert "'maybe'" in run("fields", "create", "X", "maybe", "x", ok=2).stderr
    f = write(GOOD, tmp_path / "c.csv")
    both = run("events", str(f), "--name", "A", "--name-column", "Email", ok=2)
    assert "exactly one of --name and --name-column" in both.stderr
    assert "unsupported output type" in run("export", "-o", str(tmp_path / "x.txt"), ok=2).stderr
    assert "COLUMN=MERGE_TAG" in run("validate", str(f), "--map", "nope", ok=2).stderr


def test_library_error_is_one_line_and_exit_1(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILTRAP_API_TOKEN", "wrong-token-value")
    result = run("lists", "list", ok=1)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr and "wrong-token-value" not in result.stderr


def test_debug_shows_a_traceback_without_the_token(
    env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILTRAP_API_TOKEN", "wrong-token-value")
    result = run("--debug", "lists", "list", ok=1)
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert "wrong-token-value" not in result.stderr + result.stdout


def test_missing_token_is_a_clear_error() -> None:
    result = run("lists", "list", ok=1)
    assert result.stderr.startswith("Error: ") and "token" in result.stderr.lower()


def test_unexpected_exception_is_one_line(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from mailtrap_pandas.api.client import Client

    def boom(self: Any) -> Any:
        raise KeyError("surprise")

    monkeypatch.setattr(type(Client(env.token, base_url=env.url).lists), "list", boom)
    result = run("lists", "list", ok=1)
    assert result.stderr.strip() == (
        "Error: KeyError: 'surprise' (run with --debug for the traceback)"
    )


# -- accounts, fields, lists ---------------------------------------------------------------


def test_accounts(env: Any) -> None:
    assert str(env.account_id) in run("accounts").stdout
    data = as_json("accounts")
    assert any(str(a["id"]) == str(env.account_id) for a in data["accounts"])


def test_fields_list_create_delete(env: Any) -> None:
    assert "first_name" in run("fields", "list").stdout
    created = as_json("fields", "create", "Signup date", "date", "signup_date")["field"]
    assert created["merge_tag"] == "signup_date" and created["data_type"] == "date"
    tags = [f["merge_tag"] for f in as_json("fields", "list")["fields"]]
    assert "signup_date" in tags
    assert f"deleted field {created['id']}" in run("fields", "delete", str(created["id"])).stdout
    tags = [f["merge_tag"] for f in as_json("fields", "list")["fields"]]
    assert "signup_date" not in tags


def test_lists_list_create_rename_delete(env: Any) -> None:
    assert "Newsletter" in run("lists", "list").stdout
    made = as_json("lists", "create", "Spring webinar")["list"]
    renamed = as_json("lists", "rename", str(made["id"]), "Spring webinar 2027")["list"]
    assert renamed["name"] == "Spring webinar 2027"
    assert "Spring webinar 2027" in run("lists", "list").stdout
    run("lists", "delete", str(made["id"]))
    names = [row["name"] for row in as_json("lists", "list")["lists"]]
    assert names == ["Newsletter"]
    assert run("lists", "delete", "999999", ok=1).stderr.startswith("Error: ")


# -- validate ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_validate_clean_file_exits_0(env: Any, tmp_path: Path, suffix: str) -> None:
    f = write(GOOD, tmp_path / f"contacts{suffix}")
    data = as_json("validate", str(f))
    assert data["rows"] == 3 and data["valid"] == 3 and data["failed_rows"] == 0
    assert data["column_map"]["Zip"] == "zip"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_validate_bad_rows_exit_3_with_failures(env: Any, tmp_path: Path, suffix: str) -> None:
    f = write(BAD, tmp_path / f"contacts{suffix}")
    result = run("validate", str(f), ok=3)
    assert "2 failed" in result.stdout and "invalid_email" in result.stdout
    assert "forty" in result.stdout
    data = as_json("validate", str(f), ok=3)
    assert data["failed_rows"] == 2 and data["valid"] == 2


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_validate_output_follows_suffix(env: Any, tmp_path: Path, suffix: str) -> None:
    f = write(BAD, tmp_path / "contacts.csv")
    out = tmp_path / f"failures{suffix}"
    run("validate", str(f), "-o", str(out), ok=3)
    if suffix == ".csv":
        failures = pd.read_csv(out, dtype=str)
    elif suffix == ".parquet":
        failures = pd.read_parquet(out)
    else:
        failures = pd.read_json(out, lines=True)
    assert set(failures["reason"].astype(str)) == {"invalid_email", "wrong_type"}


def test_validate_with_column_map(env: Any, tmp_path: Path) -> None:
    f = write(GOOD.rename(columns={"Zip": "Postcode"}), tmp_path / "c.csv")
    data = as_json("validate", str(f))
    assert "Postcode" in data["unknown_columns"]
    data = as_json("validate", str(f), "--map", "Postcode=zip")
    assert data["column_map"]["Postcode"] == "zip" and not data["unknown_columns"]


def test_json_output_is_stdout_only_progress_on_stderr(env: Any, tmp_path: Path) -> None:
    f = write(GOOD, tmp_path / "c.csv")
    result = CliRunner(**_SEPARATE).invoke(cli, ["--json", "import", str(f), "--no-journal"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)  # nothing but the JSON document
    assert data["server"]["created"] == 3
    assert "import" in result.stderr  # the progress bar went to stderr


# -- import --------------------------------------------------------------------------------


def test_import_dry_run_sends_nothing(env: Any, tmp_path: Path) -> None:
    f = write(BAD, tmp_path / "c.csv")
    data = as_json("import", str(f), "--dry-run", ok=3)
    assert data["dry_run"] is True and data["requests"] == 1 and data["would_send"] == 2
    assert data["rejected"] == 2
    text = run("import", str(f), "--dry-run", ok=3).stdout
    assert "nothing sent" in text and "invalid_email" in text
    assert imports_accepted(env) == 0
    assert run("lists", "list").exit_code == 0
    good = write(GOOD, tmp_path / "good.csv")
    assert "3 of 3 rows would be sent" in run("import", str(good), "--dry-run").stdout
    assert imports_accepted(env) == 0


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_import_clean_file(env: Any, tmp_path: Path, suffix: str) -> None:
    f = write(GOOD, tmp_path / f"c{suffix}")
    data = as_json("--no-progress", "import", str(f), "--list-id", "1", "--no-journal")
    assert data["server"]["created"] == 3 and data["rejected"] == 0 and data["ok"] is True
    assert imports_accepted(env) == 1
    exported = as_json("--no-progress", "export", "-o", str(tmp_path / "back.parquet"))
    assert exported["rows"] == 3


def test_import_rejected_rows_exit_3_and_retry_file(env: Any, tmp_path: Path) -> None:
    f = write(BAD, tmp_path / "c.csv")
    out = tmp_path / "rejected.csv"
    result = run("import", str(f), "--no-journal", "-o", str(out), ok=3)
    assert "rejected rows" in result.stdout and f"wrote 2 rejected rows to {out}" in result.stdout
    retry = pd.read_csv(out, dtype=str, keep_default_na=False)
    # The caller's own columns and values, exactly as given, ready to fix.
    assert list(retry.columns) == list(BAD.columns)
    assert retry["Email"].tolist() == ["not-an-email", "cy@example.com"]
    assert retry["First Name"].tolist() == ["Bob", "=HYPERLINK(1)"]
    # Fix and re-import: exit 0.
    fixed = retry.assign(
        Email=["bob@example.com", "cy@example.com"], Age=["51", "40"], **{"First Name": "X"}
    )
    g = write(fixed, tmp_path / "fixed.csv")
    assert as_json("--no-progress", "import", str(g), "--no-journal")["server"]["created"] == 2


def test_import_mode_and_journal(env: Any, tmp_path: Path) -> None:
    f = write(GOOD, tmp_path / "c.csv")
    journal = tmp_path / "j.sqlite"
    as_json("--no-progress", "import", str(f), "--journal", str(journal))
    assert journal.exists()
    again = as_json("--no-progress", "import", str(f), "--journal", str(journal))
    assert imports_accepted(env) == 1 and again["server"]["created"] == 3  # resumed, not resent
    updated = as_json("--no-progress", "import", str(f), "--mode", "update_only", "--no-journal")
    assert updated["rejected"] == 0


def test_import_retry_failed_jobs(env: Any, tmp_path: Path) -> None:
    f = write(GOOD, tmp_path / "c.csv")
    env.add_fault(**{"import": "fail", "times": 1})
    data = as_json("--no-progress", "import", str(f), "--no-journal")
    assert data["server"]["created"] == 3 and data["rejected"] == 0  # resubmitted once by default
    assert imports_accepted(env) == 2
    env.add_fault(**{"import": "fail", "times": 1})
    result = run("import", str(f), "--no-journal", "--retry-failed-jobs", "0", ok=3)
    assert "import_failed" in result.stdout


def test_excel_without_openpyxl_is_a_clear_error(
    env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # as if it were not installed
    book = tmp_path / "contacts.xlsx"
    with zipfile.ZipFile(book, "w") as z:  # enough for pandas to pick the openpyxl engine
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    result = run("validate", str(book), ok=1)
    assert "needs openpyxl" in result.stderr and "pip install openpyxl" in result.stderr
    result = run("export", "-o", str(tmp_path / "out.xlsx"), ok=2)
    assert "needs openpyxl" in result.stderr


def test_excel_round_trip(env: Any, tmp_path: Path) -> None:
    book = tmp_path / "contacts.xlsx"
    GOOD.to_excel(book, index=False)
    assert as_json("validate", str(book))["valid"] == 3
    as_json("--no-progress", "import", str(book), "--no-journal")
    run("export", "-o", str(tmp_path / "out.xlsx"))
    assert len(pd.read_excel(tmp_path / "out.xlsx")) == 3


def test_unsupported_and_broken_input_files(env: Any, tmp_path: Path) -> None:
    odd = tmp_path / "contacts.json"
    odd.write_text("{}")
    assert "unsupported file type" in run("validate", str(odd), ok=1).stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "is empty" in run("validate", str(empty), ok=1).stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Email,First Name\nann@example.com,Ren\xe9e\n".encode("latin-1"))
    assert "not UTF-8" in run("validate", str(latin), ok=1).stderr
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffEmail,Zip\nann@example.com,00501\n".encode())
    assert as_json("validate", str(bom))["column_map"] == {"Email": "email", "Zip": "zip"}


# -- export --------------------------------------------------------------------------------


def _seed_contacts(emu: Any) -> None:
    emu.seed(
        contacts=[
            {"email": "ann@example.com", "fields": {"first_name": "=cmd()", "zip": "00501"}},
            {"email": "bob@example.com", "fields": {"first_name": "Bob", "age": 51}},
        ]
    )


def test_export_csv_and_parquet(env: Any, tmp_path: Path) -> None:
    _seed_contacts(env)
    out = tmp_path / "contacts.csv"
    result = run("export", "-o", str(out))
    assert f"wrote 2 contacts to {out}" in result.stdout
    text = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("email")
    assert text.loc["ann@example.com", "zip"] == "00501"  # leading zero kept
    assert text.loc["ann@example.com", "first_name"] == "=cmd()"  # data, as stored
    escaped = tmp_path / "for-a-spreadsheet.csv"
    run("export", "-o", str(escaped), "--escape-formulas")
    text = pd.read_csv(escaped, dtype=str, keep_default_na=False).set_index("email")
    assert text.loc["ann@example.com", "first_name"] == "'=cmd()"  # opted in
    pq = tmp_path / "contacts.parquet"
    assert as_json("--no-progress", "export", "-o", str(pq)) == {"rows": 2, "output": str(pq)}
    typed = pd.read_parquet(pq).set_index("email")  # plain pandas can read it back
    assert list(typed.loc["ann@example.com", "list_ids"]) == []
    assert typed.loc["bob@example.com", "age"] == 51
    assert typed.loc["ann@example.com", "first_name"] == "=cmd()"  # parquet is not a sheet
    # An exported file can be imported again as it is.
    assert as_json("validate", str(pq))["valid"] == 2


def test_export_filters(env: Any, tmp_path: Path) -> None:
    _seed_contacts(env)
    data = as_json("--no-progress", "export", "-o", str(tmp_path / "x.csv"), "--list-id", "1")
    assert data["rows"] == 0
    data = as_json(
        "--no-progress", "export", "-o", str(tmp_path / "y.csv"), "--status", "subscribed"
    )
    assert data["rows"] == 2


# -- events --------------------------------------------------------------------------------


def test_events_by_name_and_ledger(env: Any, tmp_path: Path) -> None:
    _seed_contacts(env)
    purchases = pd.DataFrame(
        {
            "email": ["ann@example.com", "bob@example.com"],
            "amount": ["12.5", "40"],
            "order_id": ["A1", "A2"],
        }
    )
    f = write(purchases, tmp_path / "purchases.csv")
    ledger = tmp_path / "ledger.sqlite"
    args = ["events", str(f), "--name", "Purchase", "--param", "amount", "--key", "order_id"]
    preview = run(*args, "--journal", str(ledger), "--dry-run")
    assert "would_send=2" in preview.stdout and 'ann@example.com Purchase {"amount": "12.5"}' in (
        preview.stdout
    )
    first = as_json("--no-progress", *args, "--journal", str(ledger))
    assert first["sent"] == 2 and first["failed"] == 0
    again = as_json("--no-progress", *args, "--journal", str(ledger))
    assert again["sent"] == 0 and again["skipped"] == 2  # never fired twice
    assert "EventsResult" in run(*args, "--journal", str(ledger)).stdout


def test_events_name_column_and_failures(env: Any, tmp_path: Path) -> None:
    _seed_contacts(env)
    df = pd.DataFrame({"email": ["ann@example.com", "not-an-email"], "what": ["Signup", "Login"]})
    f = write(df, tmp_path / "e.parquet")
    data = as_json("--no-progress", "events", str(f), "--name-column", "what", ok=3)
    assert data["sent"] == 1 and data["failed"] == 1
    assert data["summary"] == [{"column": None, "reason": "invalid_email", "rows": 1}]
    # The text names the failed row, its email and why, after the summary.
    text = run("events", str(f), "--name-column", "what", ok=3).stdout
    summary, rows = text.index("failures by reason"), text.index("failed rows:")
    assert summary < rows and "not-an-email" in text[rows:] and "invalid_email" in text[rows:]


# -- plan ----------------------------------------------------------------------------------


def test_plan_writes_the_plan_and_applies(env: Any, tmp_path: Path) -> None:
    _seed_contacts(env)
    df = pd.DataFrame(
        {
            "email": ["ann@example.com", "bob@example.com", "new@example.com"],
            "first_name": ["Ann", "Bob", "New"],
        }
    )
    f = write(df, tmp_path / "c.csv")
    out = tmp_path / "plan.csv"
    data = as_json("--no-progress", "plan", str(f), "-o", str(out))
    assert (data["create"], data["update"], data["unchanged"]) == (1, 1, 1)
    rows = pd.read_csv(out, dtype=str)
    assert sorted(rows["action"]) == ["create", "unchanged", "update"]
    assert imports_accepted(env) == 0  # a plan sends nothing
    text = run("plan", str(f), "--apply").stdout
    assert "ImportResult" in text
    assert as_json("--no-progress", "plan", str(f))["unchanged"] == 3


def test_plan_with_rejected_rows_exits_3(env: Any, tmp_path: Path) -> None:
    f = write(BAD, tmp_path / "c.parquet")
    data = as_json("--no-progress", "plan", str(f), "-o", str(tmp_path / "plan.parquet"), ok=3)
    assert data["rejected"] == 2
    assert len(pd.read_parquet(tmp_path / "plan.parquet")) == 4


def test_plan_apply_json_is_one_document(env: Any, tmp_path: Path) -> None:
    f = write(GOOD, tmp_path / "c.csv")
    data = as_json("--no-progress", "plan", str(f), "--apply")
    assert data["create"] == 3 and data["applied"]["server"]["created"] == 3


# -- the in-process emulator, the demo, the real executables --------------------------------


def test_emulator_flag_uses_a_fresh_emulator(tmp_path: Path) -> None:
    assert as_json("--emulator", "lists", "list") == {"lists": []}
    f = write(GOOD, tmp_path / "c.csv")
    # No fields on a fresh account: every column but Email is unknown, nothing is rejected.
    data = as_json("--emulator", "validate", str(f))
    assert data["valid"] == 3 and sorted(data["unknown_columns"]) == ["Age", "First Name", "Zip"]


def test_demo_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    from mailtrap_pandas.demo import run_demo

    run_demo(progress=False)  # no wall-clock bound: the test timeout catches a hang
    out = capsys.readouterr().out
    for line in [
        "no real account is used",
        "Validate against the account's live fields",
        "10 failures (line = line in the CSV file",
        "not a valid email address",
        "not a clear boolean",
        "duplicates dropped",
        "Import the valid rows",
        "Export back into a typed frame",
        "dtypes",
        "Summary",
    ]:
        assert line in out, line
    assert "zip" in out and "00501" in out  # leading zero survives the round trip


def test_demo_command(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("demo")
    assert "Summary" in result.stdout


def _subprocess_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MAILTRAP_")}


def test_python_dash_m_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mailtrap_pandas", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_subprocess_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Validate, import, export" in done.stdout
    assert "Example:" in done.stdout and "validate" in done.stdout


def test_console_script_with_emulator_flag() -> None:
    exe = BIN / "mailtrap-pandas"
    if not exe.exists():
        pytest.skip("the console script is not installed in this environment")
    done = subprocess.run(
        [str(exe), "--emulator", "lists", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_subprocess_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(none)"
    done = subprocess.run(
        [str(exe), "--emulator", "--json", "lists", "create", "Newsletter"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_subprocess_env(),
        check=False,
    )
    assert done.returncode == 0 and json.loads(done.stdout)["list"]["name"] == "Newsletter"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_emulator_command_serves_until_interrupted(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtrap_pandas", "emulator", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_subprocess_env(),
    )
    try:
        env = {
            **_subprocess_env(),
            "MAILTRAP_API_TOKEN": "emulator-token",
            "MAILTRAP_BASE_URL": f"http://127.0.0.1:{port}",
            "MAILTRAP_ACCOUNT_ID": "1000001",
        }
        assert proc.stdout is not None and proc.stderr is not None
        # The first line is printed once the socket is bound: no polling needed.
        ready = proc.stdout.readline().decode()
        assert ready.startswith("Mailtrap emulator listening on "), proc.stderr.read().decode()
        done = subprocess.run(
            [sys.executable, "-m", "mailtrap_pandas", "--json", "lists", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"lists": []}
    finally:
        proc.terminate()  # only the process this test started
        proc.communicate(timeout=10)  # waits and closes both pipes
