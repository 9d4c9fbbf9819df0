"""``mailtrap-pandas demo``: the main job end to end on a built-in emulator.

It never touches a real account: the emulator runs in this process on
127.0.0.1 with its own throwaway token.
"""

from __future__ import annotations

import tempfile
from importlib import resources
from pathlib import Path

import pandas as pd

DEMO_FIELDS = [
    ("First name", "text", "first_name"),
    ("Last name", "text", "last_name"),
    ("Zip code", "text", "zip"),
    ("Age", "integer", "age"),
    ("Lifetime value", "float", "lifetime_value"),
    ("VIP", "boolean", "vip"),
    ("Signup date", "date", "signup_date"),
]


def demo_frame() -> pd.DataFrame:
    """The messy contacts CSV kept in the package, read as an analyst would (all text)."""
    with resources.files("mailtrap_pandas.data").joinpath("demo_contacts.csv").open("rb") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def _section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


def run_demo(*, progress: bool = True) -> None:
    """Create fields and lists, validate a messy CSV, import it, export it back, summarize."""
    from .emulator import Emulator
    from .export import read_export
    from .validate import validate

    with pd.option_context("display.width", 140, "display.max_columns", 12):
        with Emulator() as emu, emu.client() as client, tempfile.TemporaryDirectory() as tmp:
            _section("1. An emulated Mailtrap account")
            print(f"emulator at {emu.url} (account {emu.account_id}); no real account is used")
            for name, data_type, tag in DEMO_FIELDS:
                client.fields.create(name, data_type, tag)  # type: ignore[arg-type]
            newsletter = client.lists.create("Newsletter")
            print(
                f"created {len(DEMO_FIELDS)} custom fields and list {newsletter['id']} "
                f"({newsletter['name']})"
            )

            _section("2. A messy contacts file")
            df = demo_frame()
            print(f"{len(df)} rows x {len(df.columns)} columns: {', '.join(df.columns)}")
            print(df.head(6).to_string())

            _section("3. Validate against the account's live fields")
            report = validate(df, client)
            print(repr(report))
            print("column map:", report.column_map)
            if len(report.failures):
                print(report.failures.to_string(index=False, max_colwidth=40))

            _section("4. Import the valid rows (chunked, paced, journaled)")
            result = df.mailtrap.import_contacts(
                client,
                list_ids=[newsletter["id"]],
                chunk_size=20,
                progress=progress,
                journal=Path(tmp) / "journal.sqlite",
            )
            print(repr(result))
            print(result.jobs.to_string(index=False))

            _section("5. Export back into a typed frame")
            contacts = read_export(client, list_ids=[newsletter["id"]], progress=progress)
            print(contacts.head(8).to_string(index=False, max_colwidth=30))
            print("\ndtypes:")
            print(contacts.dtypes.to_string())

            _section("Summary")
            print(f"input rows           {len(df)}")
            print(f"valid after checks   {report.n_valid}")
            print(f"rejected locally     {report.n_failed_rows}")
            print(f"duplicates merged    {report.n_duplicates}")
            print(f"created / updated    {result.created} / {result.updated}")
            print(f"contacts in the list {len(contacts)}")
            print(f"requests sent        {client.stats['requests']}")
