"""``mailtrap-pandas demo``: the main job end to end on a built-in emulator.

It never touches a real account: the emulator runs in this process on
127.0.0.1 with its own throwaway token.
"""

from __future__ import annotations

import tempfile
import textwrap
import time
from importlib import resources
from pathlib import Path
from typing import Any

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


WIDTH = 78


def _section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, WIDTH - 4 - len(title)))


def _note(text: str) -> None:
    print(textwrap.fill(text, WIDTH, initial_indent="   ", subsequent_indent="   "))


def _indent(text: str) -> str:
    return textwrap.indent(text, "   ")


def _clip(value: Any, width: int = 28) -> str:
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _failures_table(failures: pd.DataFrame) -> str:
    """The failures with a CSV line number (header = line 1) an analyst can jump to."""
    rows = failures.assign(
        line=[int(r) + 2 if r is not None and not pd.isna(r) else "" for r in failures["row"]],
        email=failures["email"].map(lambda v: _clip(v, 28)),
        value=failures["value"].map(lambda v: repr(_clip(v, 20))),
    )
    return _text_table(rows, ["line", "email", "column", "value", "message"])


def _text_table(df: pd.DataFrame, columns: list[str], max_width: int = 60) -> str:
    """A left-aligned plain-text table (pandas right-aligns text, hard to scan)."""
    cells = [[_clip(v, max_width) for v in df[c]] for c in columns]
    widths = [max([len(c), *map(len, col)]) for c, col in zip(columns, cells, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in zip(*cells, strict=True):
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _jobs_table(jobs: pd.DataFrame) -> str:
    shown = jobs[["chunk", "rows", "import_id", "status", "created", "updated", "seconds"]]
    columns = [str(c) for c in shown.columns]
    return _text_table(shown.assign(seconds=shown["seconds"].map("{:.3f}".format)), columns)


def run_demo(*, progress: bool = True) -> None:
    """Create fields and lists, validate a messy CSV, import it, export it back, summarize.

    Everything goes to stdout except the progress bars, which go to stderr.
    """
    from mailtrap_pandas.emulator import Emulator
    from mailtrap_pandas.jobs.exports import read_export
    from mailtrap_pandas.jobs.validation import validate

    started = time.monotonic()
    with (
        pd.option_context("display.width", 160, "display.max_columns", 20),
        Emulator() as emu,
        emu.client() as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        print("mailtrap-pandas demo: a messy contacts CSV into Mailtrap and back, typed.")

        _section("1. An emulated Mailtrap account")
        _note(
            f"An emulator runs in this process at {emu.url} (account {emu.account_id}), "
            "with the API's documented rate limits; no real account is used."
        )
        for name, data_type, tag in DEMO_FIELDS:
            client.fields.create(name, data_type, tag)  # type: ignore[arg-type]
        newsletter = client.lists.create("Newsletter")
        fields = pd.DataFrame(DEMO_FIELDS, columns=["field", "data_type", "merge_tag"])
        print(_indent(fields.to_string(index=False)))
        _note(f"and the list {newsletter['name']!r} (id {newsletter['id']}).")

        _section("2. A messy contacts file")
        df = demo_frame()
        _note(
            f"demo_contacts.csv: {len(df)} rows x {len(df.columns)} columns, read as text "
            "(dtype=str) so that zip 00501 keeps its leading zero. Typos in emails, "
            "duplicates differing in case, blanks, 'N/A', dates in several formats, "
            "numbers as text. The first rows, numbered by CSV line:"
        )
        head = df.head(8).map(_clip)
        print(_indent(head.set_axis(pd.RangeIndex(2, 2 + len(head))).to_string()))

        _section("3. Validate against the account's live fields (nothing is sent)")
        report = validate(df, client)
        print(_indent(repr(report)))
        print("\n   column map (file column -> merge tag):")
        width = max(len(str(c)) for c in report.column_map)
        for col, tag in report.column_map.items():
            kind = report.fields.get(tag, "email")
            print(f"     {str(col):<{width}}  ->  {tag} ({kind})")
        if len(report.failures):
            print(
                f"\n   {len(report.failures)} failures (line = line in the CSV file; "
                "report.failures has them all, with a reason code):"
            )
            print(_indent(_failures_table(report.failures)))
        if len(report.duplicates):
            print(
                "\n   duplicates dropped (emails are case-insensitive; the last occurrence wins):"
            )
            dups = report.duplicates.assign(
                line=report.duplicates["row"].astype(int) + 2,
                kept_line=report.duplicates["kept_row"].astype(int) + 2,
            )
            print(_indent(_text_table(dups, ["line", "email", "kept_line"])))

        _section("4. Import the valid rows (chunked, paced, journaled)")
        _note(
            "Chunks of 20 rows here (50,000 in real use); the progress bar is on stderr. "
            "Rows that fail validation are never sent."
        )
        result = df.mailtrap.import_contacts(
            client,
            list_ids=[newsletter["id"]],
            chunk_size=20,
            progress=progress,
            journal=Path(tmp) / "journal.sqlite",
        )
        print(_indent(repr(result)))
        print()
        print(_indent(_jobs_table(result.jobs)))
        retry = result.retry_frame()
        _note(
            f"result.retry_frame() holds the {len(retry)} rejected rows with their original "
            "columns and values, ready to fix and import again."
        )

        _section("5. Export back into a typed frame")
        contacts = read_export(client, list_ids=[newsletter["id"]], progress=progress)
        shown = [c for c in contacts.columns if c not in ("id", "created_at", "updated_at")]
        picked = contacts.sort_values("email").set_index("email")[shown[1:]]
        interesting = picked.loc[
            picked.index.str.contains(
                "chloe|mia.garcia|noor.muller|sven.rossi|ann.smith", case=False
            )
        ]
        _note("A few rows: the email normalized, the leading zero kept, 'N/A' and blanks as <NA>:")
        print(_indent(interesting.to_string()))
        print("\n   dtypes (from the account's field types):")
        print(_indent(contacts.dtypes.to_string()))

        _section("Summary")
        summary = [
            ("input rows", len(df)),
            ("valid after checks", report.n_valid),
            ("rejected locally", report.n_failed_rows),
            ("duplicates merged", report.n_duplicates),
            ("created / updated", f"{result.created} / {result.updated}"),
            ("rejected by the server", int((result.rejected["stage"] == "server").sum())),
            ("contacts in the list", len(contacts)),
            ("HTTP requests", client.stats["requests"]),
            ("seconds", f"{time.monotonic() - started:.1f}"),
        ]
        for label, value in summary:
            print(f"   {label:<24}{value:>8}")
        print(
            "\nNext: export MAILTRAP_API_TOKEN=... and run "
            "`mailtrap-pandas validate your.csv` on your own file."
        )
