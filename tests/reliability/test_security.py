"""The token never leaks; plain http is refused; the emulator binds loopback and wants its token;
files a spreadsheet may open cannot run formulas."""

from __future__ import annotations

import logging
import sqlite3
import traceback
import zipfile
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest
import requests
from click.testing import CliRunner

from mailtrap_pandas import Client, ConfigurationError, MailtrapError
from mailtrap_pandas.cli import cli
from mailtrap_pandas.emulator import Emulator
from mailtrap_pandas.frames.files import neutralize_formulas, write_frame

SECRET = "SECRET-token-0123456789abcdef"


@pytest.fixture
def secret_emu() -> Emulator:
    with Emulator(token=SECRET, rate_limit=None) as emu:
        yield emu  # type: ignore[misc]


def all_text_of(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(getattr(exc, "body", ""))


def test_token_absent_from_reprs(secret_emu: Emulator) -> None:
    client = secret_emu.client()
    things = [client, client.budget, client.lists, client.session.adapters]
    assert all(SECRET not in repr(t) for t in things)


def test_token_absent_from_exceptions_and_tracebacks(secret_emu: Emulator) -> None:
    bad = Client(
        SECRET + "x", account_id=secret_emu.account_id, base_url=secret_emu.url, rate_limit=None
    )
    with pytest.raises(MailtrapError) as info:
        bad.lists.list()
    assert SECRET not in all_text_of(info.value)
    good = secret_emu.client(max_retries=0)
    secret_emu.add_fault(method="GET", path="fields", drop=True, times=1)
    with pytest.raises(MailtrapError) as info:
        good.fields.list()
    assert SECRET not in all_text_of(info.value)


def test_token_absent_from_logs_at_every_level(
    secret_emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = secret_emu.client()
    client.lists.create("L")
    secret_emu.add_fault(method="GET", path="lists", status=503, times=1)
    client.lists.list()
    assert caplog.records
    assert SECRET not in caplog.text


def test_token_absent_from_cli_output_even_with_debug(secret_emu: Emulator) -> None:
    runner = CliRunner()
    env = {
        "MAILTRAP_API_TOKEN": SECRET,
        "MAILTRAP_BASE_URL": secret_emu.url,
        "MAILTRAP_ACCOUNT_ID": str(secret_emu.account_id),
    }
    ok = runner.invoke(cli, ["--debug", "lists", "list"], env=env)
    assert ok.exit_code == 0, ok.output
    wrong = runner.invoke(cli, ["--debug", "--account-id", "1", "fields", "list"], env=env)
    assert wrong.exit_code == 1
    assert "403" in wrong.output
    helped = runner.invoke(cli, ["--help"], env=env)
    for result in (ok, wrong, helped):
        assert SECRET not in result.output
        assert SECRET not in (result.stderr if result.stderr_bytes is not None else "")


def test_token_absent_from_files_we_write(secret_emu: Emulator, tmp_path: Path) -> None:
    from mailtrap_pandas.jobs.events import send_events

    client = secret_emu.client()
    client.contacts.create("a@example.com")
    journal = tmp_path / "journal.sqlite"
    df = pd.DataFrame({"email": ["a@example.com"]})
    df.mailtrap.import_contacts(client, journal=journal, progress=False, fields=[])
    send_events(df, client, name="Login", journal=journal, progress=False)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    with closing(sqlite3.connect(journal)) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            assert SECRET not in repr(db.execute(f"select * from {table}").fetchall())


@pytest.mark.parametrize("url", ["http://mailtrap.io", "http://192.168.1.10:8025"])
def test_plain_http_refused_except_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError, match="http"):
        Client(SECRET, base_url=url)


def test_emulator_binds_loopback_and_requires_its_token() -> None:
    with Emulator() as emu:
        assert emu.host == "127.0.0.1"
        assert emu.url.startswith("http://127.0.0.1:")
        path = f"{emu.url}/api/accounts/{emu.account_id}/contacts/lists"
        assert requests.get(path, timeout=5).status_code == 401
        wrong = requests.get(path, headers={"Api-Token": "nope"}, timeout=5)
        assert wrong.status_code == 401
        assert wrong.json() == {"error": "Incorrect API token"}
        right = requests.get(path, headers={"Api-Token": emu.token}, timeout=5)
        assert right.status_code == 200


@pytest.mark.parametrize("payload", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "=HYPERLINK(1)"])
def test_formula_injection_opt_in_for_csv_and_never_a_formula_in_excel(
    payload: str, tmp_path: Path
) -> None:
    df = pd.DataFrame({"email": ["a@example.com"], "note": [payload], "n": [-5]})
    # By default a CSV is data: the value round-trips unchanged.
    plain = pd.read_csv(write_frame(df, tmp_path / "out.csv"), dtype=str, keep_default_na=False)
    assert plain.loc[0, "note"] == payload
    # --escape-formulas / escape_formulas=True: a file meant for a spreadsheet.
    path = write_frame(df, tmp_path / "escaped.csv", escape_formulas=True)
    back = pd.read_csv(path, dtype=str)
    assert back.loc[0, "note"] == "'" + payload
    assert back.loc[0, "n"] == "-5"  # numbers are not text: left alone
    # Excel is safe by construction: the cell is text (never a formula) and keeps its value.
    import openpyxl

    xlsx = write_frame(df, tmp_path / "out.xlsx")
    cell = openpyxl.load_workbook(xlsx).active["B2"]
    assert (cell.data_type, cell.value) == ("s", payload)
    assert "<f>" not in zipfile.ZipFile(xlsx).read("xl/worksheets/sheet1.xml").decode()
    parquet = pd.read_parquet(write_frame(df, tmp_path / "out.parquet"))
    assert parquet.loc[0, "note"] == payload  # not a spreadsheet format: untouched


def test_neutralize_keeps_missing_values() -> None:
    df = pd.DataFrame({"a": pd.array(["=x", None, "ok"], dtype="string")})
    out = neutralize_formulas(df)["a"].tolist()
    assert out[0] == "'=x" and out[2] == "ok" and pd.isna(out[1])
