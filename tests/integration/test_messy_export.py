"""Issue 10's "done when": a messy real-world export through the installed CLI, nothing altered.

The generator below writes a newsletter audience export the way such tools
write them (a byte-order mark, CRLF line ends, padded mixed-case emails, "N/A",
dates with times in several spellings, CJK and emoji names, negative
coordinates, phone numbers like ``+48 601 200 300``, text that a spreadsheet
would take for a formula) and a small CRM ``.xlsx`` with native cells. It also
returns the truth: what each contact should hold once imported.

The tests run the installed ``mailtrap-pandas`` executable against the
emulator: ``validate -> import -o rejected.csv -> fix -> import`` and
``export -o out.csv -> import out.csv``, and compare the account with the
truth after each step.

Run as a script to write the files for a manual look::

    python tests/integration/test_messy_export.py /tmp/messy 30000
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

BIN = Path(sys.executable).parent
FIELDS = [
    {"name": "First Name", "data_type": "text", "merge_tag": "first_name"},
    {"name": "Last Name", "data_type": "text", "merge_tag": "last_name"},
    {"name": "Phone Number", "data_type": "text", "merge_tag": "phone"},
    {"name": "Notes", "data_type": "text", "merge_tag": "notes"},
    {"name": "Latitude", "data_type": "float", "merge_tag": "latitude"},
    {"name": "Longitude", "data_type": "float", "merge_tag": "longitude"},
    {"name": "GMT offset", "data_type": "integer", "merge_tag": "gmtoff"},
    {"name": "Member rating", "data_type": "integer", "merge_tag": "member_rating"},
    {"name": "Opt-in time", "data_type": "date", "merge_tag": "optin_time"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
]
TAGS = [f["merge_tag"] for f in FIELDS]

_FIRST = ["Ann", "王小明", "José", "Zoë 🎉", "Łukasz", "محمد", "Ólafur", "さくら", "Bob", "-"]
_LAST = ["Lee", "NA", "O'Brien", "Nguyễn", "=1+1", "@handle", "+Plus", "Smith-Jones", "李", ""]
_NOTES = ["", "-", "=SUM(A1:A2)", "+1 (from fair)", "@ann", "likes 🐱, dogs", "line\ttab", "ok"]
_PHONES = ["+48 601 200 300", "+1 (555) 010-2000", "-", "0049 30 1234", "+44 20 7946 0958"]


def _date_text(day: dt.date, rng: random.Random) -> tuple[str, bool]:
    """A spelling of ``day`` and whether it carries a time of day (as real exports do)."""
    hh, mm, ss = rng.randrange(24), rng.randrange(60), rng.randrange(60)
    forms = [
        (f"{day:%Y-%m-%d} {hh:02}:{mm:02}:{ss:02}", True),  # Mailchimp OPTIN_TIME
        (f"{day:%Y-%m-%d}T{hh:02}:{mm:02}:{ss:02}+01:00", True),
        (f"{day:%d %b %Y}", False),  # 01 Nov 2024
        (f"{day:%b} {day.day}, {day:%Y}", False),  # Nov 2, 2024
        (f"{day:%Y-%m-%d}", False),
        (f"{day:%Y/%m/%d}", False),
    ]
    return forms[rng.randrange(len(forms))]


def make_messy(n: int, seed: int = 10) -> tuple[bytes, pd.DataFrame]:
    """The CSV bytes of an ``n``-row newsletter export and the truth, one row per email.

    The truth is indexed by the lower-cased email and holds the values (typed:
    str, float, int, datetime.date, bool or None) the account should store.
    """
    rng = random.Random(seed)
    header = [
        "Email Address",
        "First Name",
        "Last Name",
        "Phone Number",
        "Notes",
        "LATITUDE",
        "LONGITUDE",
        "GMTOFF",
        "MEMBER_RATING",
        "OPTIN_TIME",
        "VIP",
        "CONFIRM_IP",
        "LEID",
    ]
    lines = [",".join(header)]
    truth: dict[str, dict[str, Any]] = {}
    for i in range(n):
        local = f"{rng.choice(['ann', 'Bob', 'ZOE', 'jo.se'])}.{i}"
        domain = rng.choice(["Example.COM", "example.org", "MAIL.example.net"])
        email = f"{local}@{domain.lower()}"
        shown_email = f"{' ' * rng.randrange(2)}{local}@{domain}{' ' * rng.randrange(2)}"
        lat = round(rng.uniform(-60, 70), 4) if rng.random() > 0.1 else None
        lon = round(rng.uniform(-170, 170), 4) if rng.random() > 0.1 else None
        gmt = rng.choice([-8, -5, 0, 1, 2, 9]) if rng.random() > 0.05 else None
        rating = rng.randrange(1, 6)
        spelled = rng.random() < 0.03  # a rating typed as a word: the one real mistake
        day = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(1800))
        day_text, has_time = _date_text(day, rng)
        vip = rng.random() < 0.2
        first = rng.choice(_FIRST)
        last = rng.choice(_LAST)
        phone = rng.choice(_PHONES) if rng.random() > 0.2 else ""
        notes = rng.choice(_NOTES)
        cells = [
            shown_email,
            first,
            last,
            phone,
            notes,
            "N/A" if lat is None else repr(lat),
            "N/A" if lon is None else repr(lon),
            "" if gmt is None else (f"+{gmt}" if gmt > 0 else str(gmt)),
            "five" if spelled and rating == 5 else str(rating),
            day_text,
            rng.choice(["yes", "TRUE", "Y"]) if vip else rng.choice(["no", "FALSE", "N"]),
            f"203.0.113.{i % 250}",
            str(100000 + i),
        ]
        lines.append(",".join(_csv_cell(c) for c in cells))
        truth[email.lower()] = {
            "email": email,
            "first_name": first or None,
            "last_name": last or None,
            "phone": phone or None,
            "notes": notes or None,
            "latitude": lat,
            "longitude": lon,
            "gmtoff": gmt,
            "member_rating": rating,
            "optin_time": day,
            "vip": vip,
            "_has_time": has_time,
            "_spelled": spelled and rating == 5,
        }
    body = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    return b"\xef\xbb\xbf" + body, pd.DataFrame.from_dict(truth, orient="index")


def _csv_cell(text: str) -> str:
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def make_crm_xlsx(path: Path, n: int = 200, seed: int = 11) -> pd.DataFrame:
    """A CRM sheet with native cells (numbers, datetimes, booleans); returns its truth."""
    rng = random.Random(seed)
    rows, truth = [], {}
    for i in range(n):
        email = f"crm.{i}@example.com"
        day = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(1000))
        row = {
            "E-mail": f"  CRM.{i}@Example.com" if i % 3 == 0 else email,
            "First name": rng.choice(_FIRST),
            "Phone": rng.choice(_PHONES),
            "Latitude": round(rng.uniform(-60, 70), 4),
            "Member Rating": rng.randrange(1, 6),
            "Opt-in time": dt.datetime(day.year, day.month, day.day),
            "VIP": rng.random() < 0.3,
        }
        rows.append(row)
        key = email if i % 3 else f"CRM.{i}@example.com"
        truth[key.lower()] = {
            "email": key,
            "first_name": row["First name"] if row["First name"] else None,
            "phone": row["Phone"],
            "latitude": row["Latitude"],
            "member_rating": row["Member Rating"],
            "optin_time": day,
            "vip": row["VIP"],
        }
    pd.DataFrame(rows).to_excel(path, index=False)
    return pd.DataFrame.from_dict(truth, orient="index")


# -- driving the installed command -------------------------------------------------------------


def mtp(*args: str, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> Any:
    """Run the installed executable with ``--json``; return its parsed stdout."""
    proc = subprocess.run(
        [str(BIN / "mailtrap-pandas"), "--json", "--no-progress", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode in ok, (args, proc.returncode, proc.stdout[-2000:], proc.stderr)
    return json.loads(proc.stdout)


def account(env: dict[str, str], tmp: Path) -> pd.DataFrame:
    """The account's contacts, through ``export -o x.parquet``, indexed by lower-cased email."""
    out = tmp / "account.parquet"
    mtp("export", "-o", str(out), env=env)
    df = pd.read_parquet(out)
    return df.set_index(df["email"].str.lower())


def assert_matches(stored: pd.DataFrame, truth: pd.DataFrame) -> None:
    """Every truth row is stored with exactly its values (missing stays missing)."""
    assert sorted(stored.index) == sorted(truth.index)
    stored = stored.loc[truth.index]
    for tag in [c for c in truth.columns if not c.startswith("_")]:
        for key, want, got in zip(truth.index, truth[tag], stored[tag], strict=True):
            if want is None or (isinstance(want, float) and pd.isna(want)):
                assert pd.isna(got), (key, tag, got)
            else:
                if isinstance(got, pd.Timestamp):
                    got = got.date()
                assert not pd.isna(got) and got == want, (key, tag, want, got)


@pytest.fixture
def env(emu: Any) -> dict[str, str]:
    emu.seed(fields=FIELDS)
    out = {k: v for k, v in os.environ.items() if not k.startswith("MAILTRAP_")}
    out |= {
        "MAILTRAP_API_TOKEN": emu.token,
        "MAILTRAP_BASE_URL": emu.url,
        "MAILTRAP_ACCOUNT_ID": str(emu.account_id),
    }
    return out


def _fix(rejected: Path, truth: pd.DataFrame) -> None:
    """What a user does to rejected.csv: retype the refused ratings ("five" -> "5")."""
    df = pd.read_csv(rejected, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    keys = df["Email Address"].str.strip().str.lower()
    df["MEMBER_RATING"] = [str(truth.at[k, "member_rating"]) for k in keys]
    df.to_csv(rejected, index=False)


def test_messy_export_validate_import_fix_import(env: dict[str, str], tmp_path: Path) -> None:
    data, truth = make_messy(400)
    src = tmp_path / "audience.csv"
    src.write_bytes(data)
    failures = tmp_path / "failures.csv"
    dates = "--truncate-time"  # OPTIN_TIME carries a time of day; the field keeps the date
    report = mtp("validate", str(src), dates, "-o", str(failures), env=env, ok=(3,))
    found = pd.read_csv(failures, dtype=str, keep_default_na=False)
    # The ratings typed as words are the only mistakes: every date spelling is read.
    assert set(found["column"]) == {"MEMBER_RATING"}
    assert len(found) == report["failed_rows"] == truth["_spelled"].sum() > 0
    assert report["summary"] == [
        {"column": "MEMBER_RATING", "reason": "wrong_type", "rows": len(found)}
    ]
    assert {c["column"] for c in report["not_sent"]} == {"CONFIRM_IP", "LEID"}
    rejected = tmp_path / "rejected.csv"
    first = mtp("import", str(src), dates, "-o", str(rejected), env=env, ok=(3,))
    assert first["rejected"] == report["failed_rows"]
    again = pd.read_csv(rejected, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    original = pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    # The file to fix holds the input rows exactly as given: nothing escaped, nothing retyped.
    by_email = original.set_index("Email Address")
    assert (
        by_email.loc[again["Email Address"]].to_numpy()
        == again.drop(columns="Email Address").to_numpy()
    ).all()
    before_fix = mtp("validate", str(rejected), dates, env=env, ok=(3,))
    assert before_fix["summary"] == report["summary"]  # the same failures, no new ones
    _fix(rejected, truth)
    mtp("validate", str(rejected), dates, env=env)
    second = mtp("import", str(rejected), dates, env=env)
    assert second["rejected"] == 0
    assert_matches(account(env, tmp_path), truth)


def test_messy_export_round_trips_through_csv_and_xlsx(env: dict[str, str], tmp_path: Path) -> None:
    data, truth = make_messy(300, seed=3)
    src = tmp_path / "audience.csv"
    src.write_bytes(data)
    mtp("import", str(src), "--truncate-time", env=env, ok=(3,))
    crm = make_crm_xlsx(tmp_path / "crm.xlsx", 60)
    mtp("import", str(tmp_path / "crm.xlsx"), env=env)
    stored = account(env, tmp_path)
    assert_matches(stored.loc[crm.index], crm)
    for suffix in (".csv", ".xlsx"):
        out = tmp_path / f"out{suffix}"
        mtp("export", "-o", str(out), env=env)
        result = mtp("import", str(out), env=env)
        assert result["rejected"] == 0, suffix
        after = account(env, tmp_path)
        assert after.drop(columns=["updated_at"]).equals(stored.drop(columns=["updated_at"]))
    audience = truth.drop(columns=["_has_time", "_spelled"])
    kept = audience[~truth["_spelled"]]  # the misspelled ratings were rejected, not altered
    assert_matches(stored.drop(crm.index).loc[kept.index], kept)


if __name__ == "__main__":
    where = Path(sys.argv[1])
    where.mkdir(parents=True, exist_ok=True)
    raw, _ = make_messy(int(sys.argv[2]) if len(sys.argv) > 2 else 30_000)
    (where / "audience.csv").write_bytes(raw)
    make_crm_xlsx(where / "crm.xlsx")
    (where / "fields.json").write_text(json.dumps(FIELDS))
    print(f"wrote {where / 'audience.csv'} and {where / 'crm.xlsx'}")
