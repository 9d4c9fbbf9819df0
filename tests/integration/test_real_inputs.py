"""Issue 10 over real HTTP: real dates, wrong input types, dry runs without a token.

Every test talks to the package's emulator on 127.0.0.1 (the ``emu`` fixture);
the CLI tests run the installed ``mailtrap-pandas`` command.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest

import mailtrap_pandas as mtp
from mailtrap_pandas.errors import ConfigurationError, InputError

BIN = Path(sys.executable).parent
FIELDS = [
    {"name": "Optin time", "data_type": "date", "merge_tag": "optin_time"},
    {"name": "Rating", "data_type": "integer", "merge_tag": "rating"},
]
FAST: dict[str, Any] = {"progress": False, "journal": False, "poll_interval": 0.05}

# The shape of a Mailchimp audience export: every opt-in carries a time of day.
MAILCHIMP = pd.DataFrame(
    {
        "Email Address": ["ann@example.com", "bob@example.com", "cy@example.com"],
        "OPTIN_TIME": ["2024-11-01 13:45:00+02:00", "01 Nov 2024", "Nov 2, 2024 23:59"],
    }
)


@pytest.fixture
def account(emu: Any) -> Any:
    emu.seed(fields=FIELDS, lists=[{"name": "Newsletter"}])
    return emu


def stored(client: Any) -> dict[str, Any]:
    """email -> the typed optin_time the account holds, read back by an export."""
    df = mtp.read_export(client, progress=False)
    return dict(zip(df["email"], df["optin_time"], strict=True))


# -- 4. real dates -------------------------------------------------------------------------


def test_mailchimp_datetimes_import_with_truncate_time(account: Any, client: Any) -> None:
    failing = mtp.import_contacts(MAILCHIMP, client, **FAST)
    assert len(failing.rejected) == 2 and set(failing.rejected["reason"]) == {"not_lossless"}
    assert failing.rejected["message"].str.contains("truncate_time=True").all()
    result = mtp.import_contacts(MAILCHIMP, client, truncate_time=True, **FAST)
    assert result.ok, result.rejected
    assert stored(client) == {
        "ann@example.com": dt.date(2024, 11, 1),  # the date as written, in its own offset
        "bob@example.com": dt.date(2024, 11, 1),
        "cy@example.com": dt.date(2024, 11, 2),
    }


def test_dayfirst_and_date_format_on_import_payloads_and_plan(account: Any, client: Any) -> None:
    df = pd.DataFrame({"email": ["ann@example.com"], "Optin time": ["03/04/2024"]})
    assert not mtp.validate(df, client).ok
    body = b"".join(mtp.to_import_payloads(df, client, dayfirst=True))
    assert orjson.loads(body)["contacts"][0]["fields"] == {"optin_time": "2024-04-03"}
    body = b"".join(df.mailtrap.to_import_payloads(client, dayfirst=False))
    assert orjson.loads(body)["contacts"][0]["fields"] == {"optin_time": "2024-03-04"}
    the_plan = mtp.plan(df, client, date_format="%d/%m/%Y", progress=False)
    assert the_plan.counts()["create"] == 1 and the_plan.counts()["rejected"] == 0
    result = the_plan.apply(progress=False, journal=False)  # apply keeps the plan's date options
    assert result.ok, result.rejected
    assert stored(client) == {"ann@example.com": dt.date(2024, 4, 3)}


def test_cli_date_options(account: Any, tmp_path: Path) -> None:
    path = tmp_path / "audience.csv"
    MAILCHIMP.to_csv(path, index=False)
    env = {
        **os.environ,
        "MAILTRAP_API_TOKEN": account.token,
        "MAILTRAP_BASE_URL": account.url,
        "MAILTRAP_ACCOUNT_ID": str(account.account_id),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        exe = [str(BIN / "mailtrap-pandas"), "--json", "--no-progress", *args]
        return subprocess.run(exe, env=env, capture_output=True, text=True, timeout=120)

    out = cli("validate", str(path))
    assert out.returncode == 3 and json.loads(out.stdout)["failed_rows"] == 2
    out = cli("validate", str(path), "--truncate-time")
    assert out.returncode == 0, out.stderr
    day_first = tmp_path / "eu.csv"
    pd.DataFrame({"email": ["dee@example.com"], "Optin time": ["03/04/2024"]}).to_csv(
        day_first, index=False
    )
    assert cli("plan", str(day_first)).returncode == 3
    assert cli("plan", str(day_first), "--dayfirst").returncode == 0
    out = cli("import", str(day_first), "--date-format", "%d/%m/%Y", "--no-journal")
    assert out.returncode == 0, out.stderr
    assert cli("import", str(path), "--truncate-time", "--no-journal").returncode == 0
    assert account.client().contacts.get("dee@example.com")["fields"]["optin_time"] == (
        "2024-04-03"
    )


# -- 11. wrong input types -----------------------------------------------------------------


def test_a_series_says_to_frame(account: Any, client: Any) -> None:
    emails = pd.Series(["ann@example.com"], name="email")
    calls = [
        lambda: mtp.validate(emails, client),  # type: ignore[arg-type]
        lambda: mtp.import_contacts(emails, client, **FAST),
        lambda: list(mtp.to_import_payloads(emails, client)),
        lambda: mtp.plan(emails, client, progress=False),  # type: ignore[arg-type]
        lambda: mtp.sync_list(emails, 1, client, progress=False),  # type: ignore[arg-type]
        lambda: mtp.send_events(emails, client, name="x", journal=False),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(InputError, match=r"series\.to_frame\(name='email'\)"):
            call()
    assert account.state()["imports"] == 0


def test_a_scalar_list_id_is_one_list_everywhere(account: Any, client: Any) -> None:
    list_id = int(client.lists.list()[0]["id"])
    df = pd.DataFrame({"email": ["ann@example.com"]})
    body = b"".join(mtp.to_import_payloads(df, client, list_ids=list_id))
    assert orjson.loads(body)["contacts"][0]["list_ids_included"] == [list_id]
    assert mtp.plan(df, client, list_ids=list_id, progress=False).list_ids == [list_id]
    result = mtp.import_contacts(df, client, list_ids=list_id, **FAST)
    assert result.ok and client.contacts.get("ann@example.com")["list_ids"] == [list_id]
    with pytest.raises(InputError, match="list_ids must be integers"):
        mtp.import_contacts(df, client, list_ids="3", **FAST)


def test_events_find_the_email_column_like_validate(account: Any, client: Any) -> None:
    account.seed(contacts=[{"email": "ann@example.com"}])
    df = pd.DataFrame({"E-mail": ["ann@example.com"], "amount": [5]})
    result = mtp.send_events(df, client, name="Purchase", params=["amount"], journal=False)
    assert result.sent == 1 and result.ok
    with pytest.raises(InputError, match=r"no email column.*pass email="):
        mtp.send_events(df.rename(columns={"E-mail": "who"}), client, name="x", journal=False)
    with pytest.raises(InputError, match=r"email='mail' is not a column"):
        mtp.send_events(df, client, name="x", email="mail", journal=False)
    two = df.assign(email_address="b@example.com")
    with pytest.raises(InputError, match=r"all look like the email; pass email="):
        mtp.send_events(two, client, name="x", journal=False)


# -- 14. a dry run with fields= needs no token ---------------------------------------------


def test_payloads_with_fields_need_no_token(account: Any) -> None:
    before = account.state()["requests"]
    df = pd.DataFrame({"email": ["ann@example.com"], "rating": ["5"]})
    with pytest.raises(ConfigurationError):
        list(mtp.to_import_payloads(df))  # no fields and no token: it must ask the API
    bodies = list(mtp.to_import_payloads(df, fields=FIELDS))
    assert orjson.loads(bodies[0]) == {
        "contacts": [{"email": "ann@example.com", "fields": {"rating": 5}}]
    }
    assert list(df.mailtrap.to_import_payloads(fields=FIELDS)) == bodies
    assert account.state()["requests"] == before  # nothing asked of any server


# -- 6. dedupe picks the winning row first -------------------------------------------------

STALE = pd.DataFrame({"email": ["ann@example.com", "ANN@example.com"], "rating": ["5", "five"]})


def test_an_invalid_last_row_keeps_the_stale_row_out(account: Any, client: Any) -> None:
    result = mtp.import_contacts(STALE, client, **FAST)
    result.check_invariant(STALE.index)
    assert result.imported_index.empty and account.state()["imports"] == 0
    assert result.rejected.index.tolist() == [1]
    assert result.duplicates.to_dict("records") == [
        {"row": 0, "email": "ann@example.com", "kept_row": 1}
    ]
    assert mtp.read_export(client, progress=False).empty


@pytest.mark.parametrize("kind", ["list", "csv"])
def test_streams_never_import_a_superseded_row(
    account: Any, client: Any, tmp_path: Path, kind: str
) -> None:
    first = pd.DataFrame({"email": ["ann@example.com", "bob@example.com"], "rating": ["5", "1"]})
    second = pd.DataFrame(
        {"email": ["ANN@example.com", "bob@example.com"], "rating": ["five", "2"]}, index=[2, 3]
    )
    source: Any = [first, second]
    if kind == "csv":
        source = tmp_path / "stream.csv"
        pd.concat([first, second]).to_csv(source, index=False)
    result = mtp.import_contacts(source, client, chunk_size=1, **FAST)
    result.check_invariant(pd.RangeIndex(4))
    assert result.imported_index.tolist() == [3]  # bob's last row; ann's last row failed
    assert result.rejected.index.tolist() == [2]
    dups = result.duplicates.sort_values("row")
    assert dups[["row", "kept_row"]].values.tolist() == [[0, 2], [1, 3]]
    assert stored_ratings(client) == {"bob@example.com": 2}
    bodies = list(mtp.to_import_payloads(source, client, chunk_size=1))
    assert [orjson.loads(b)["contacts"][0]["email"] for b in bodies] == ["bob@example.com"]


def test_streams_first_a_failed_first_row_claims_its_email(account: Any, client: Any) -> None:
    first = pd.DataFrame({"email": ["ann@example.com"], "rating": ["five"]})
    second = pd.DataFrame({"email": ["ANN@example.com"], "rating": ["5"]}, index=[1])
    result = mtp.import_contacts([first, second], client, dedupe="first", **FAST)
    result.check_invariant(pd.RangeIndex(2))
    assert result.imported_index.empty and result.rejected.index.tolist() == [0]
    assert result.duplicates[["row", "kept_row"]].values.tolist() == [[1, 0]]


def stored_ratings(client: Any) -> dict[str, Any]:
    df = mtp.read_export(client, progress=False)
    return dict(zip(df["email"], df["rating"], strict=True))


# -- 7. missing values are <NA>; one reason dtype --------------------------------------------


@pytest.mark.parametrize("n", [3, 1_200])
def test_missing_emails_are_na_in_rejected(account: Any, client: Any, n: int) -> None:
    emails: list[Any] = [f"user{i}@example.com" for i in range(n)]
    emails[0], emails[1], emails[2] = None, "", float("nan")
    df = pd.DataFrame({"email": emails, "rating": "1"})
    result = mtp.import_contacts(df, client, **FAST)
    result.check_invariant(df.index)
    assert result.rejected.loc[[0, 1, 2], "email"].isna().all()
    assert not result.rejected["email"].isin(["nan", "", "None"]).any()
    report = mtp.validate(df, client)
    assert report.failures["email"].isna().all() and report.failures["email"].dtype == "string"


def test_reason_columns_share_one_dtype(account: Any, client: Any) -> None:
    account.seed(contacts=[{"email": "ann@example.com"}])
    df = pd.DataFrame({"email": ["ann@example.com", "bad", "nobody@example.com"], "rating": "x"})
    report = mtp.validate(df, client)
    result = mtp.import_contacts(df, client, **FAST)
    events = mtp.send_events(df, client, name="Visit", journal=False, progress=False)
    dtypes = {str(report.failures["reason"].dtype), str(result.rejected["reason"].dtype)}
    dtypes.add(str(events.failed["reason"].dtype))
    assert dtypes == {"string"}
    assert set(events.failed["reason"]) == {"invalid_email", "contact_not_found"}
    assert set(events.failed["reason"]) <= {r.value for r in mtp.Reason}
    assert events.failed["email"].dtype == "string"
