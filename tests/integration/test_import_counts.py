"""Streamed import counts add up: rows and the server's counts are labelled apart (issue 10, 12).

A stream with ``dedupe="last"`` sends a repeated email in each job that carries it, so the
server counts that contact more than once: "3 imported (2 created, 2 updated)" would not add
up. Reprs, summaries and the HTML repr keep row counts and server counts apart.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from mailtrap_pandas.jobs.imports.result import ImportResult
from mailtrap_pandas.jobs.imports.run import import_contacts


def test_streamed_repeats_rows_and_server_counts_apart(emu: Any, client: Any) -> None:
    pieces = [
        pd.DataFrame({"email": ["ann@example.com", "bob@example.com"]}, index=[0, 1]),
        pd.DataFrame({"email": ["ann@example.com", "not-an-email"]}, index=[2, 3]),
        pd.DataFrame({"email": ["ANN@example.com"]}, index=[4]),
    ]
    result = import_contacts(
        iter(pieces), client, dedupe="last", progress=False, journal=False, poll_interval=0.02
    )
    result.check_invariant(pd.RangeIndex(5))
    # Rows: 2 imported (bob, the last ann), 1 rejected, 2 superseded: 5 in all.
    # Server: ann was sent in three jobs: created once, updated twice.
    assert (len(result.imported_index), result.created, result.updated) == (2, 2, 2)
    summary = result.counts()
    assert summary["rows"] == 5 == sum(summary[k] for k in ("imported", "rejected", "duplicates"))
    assert summary["server"] == {"created": 2, "updated": 2, "over_limit": 0}
    assert "created" not in summary and "updated" not in summary  # never beside the rows
    text = repr(result)
    assert re.search(r"rows: 2 imported, 1 rejected, 2 duplicates dropped \(of 5 rows\)", text)
    assert "server counts, contacts per job: 2 created, 2 updated, 0 over the limit" in text
    page = result._repr_html_()
    assert page.index("Your rows") < page.index("Server counts (contacts, per job)")


def test_thousands_separators_and_plurals() -> None:
    result = ImportResult(created=30_000, imported_index=pd.RangeIndex(30_000))
    assert "rows: 30,000 imported" in repr(result) and "(of 30,000 rows)" in repr(result)
    assert "(of 1 row)" in repr(ImportResult(imported_index=pd.RangeIndex(1)))
