"""validate_stream: a stream of frames validated piece by piece adds up like one frame.

No request: the field definitions are given. Duplicates across pieces are resolved as in one
frame: the same counts, failures and duplicates (``kept_row`` the final winner).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mailtrap_pandas.frames.validate import Reason
from mailtrap_pandas.jobs.validate_stream import StreamedReport, validate_stream
from mailtrap_pandas.jobs.validation import validate

FIELDS = [{"name": "Age", "data_type": "integer", "merge_tag": "age"}]


def messy(n: int = 400, seed: int = 1) -> pd.DataFrame:
    """Emails drawn from a small pool (many repeats, mixed case), some invalid, some bad ages."""
    rng = np.random.default_rng(seed)
    pool = [f"user{i}@example.com" for i in range(60)] + ["not-an-email", ""]
    emails = [pool[i] for i in rng.integers(0, len(pool), n)]
    emails = [e.upper() if k % 7 == 0 else e for k, e in enumerate(emails)]
    ages = [str(v) if v % 11 else "eleven" for v in rng.integers(1, 99, n)]
    return pd.DataFrame({"Email": emails, "Age": ages})


def pieces(df: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [df.iloc[i : i + size] for i in range(0, len(df), size)]


@pytest.mark.parametrize("dedupe", ["first", "last", "error"])
@pytest.mark.parametrize("size", [1, 7, 64, 400])
def test_pieces_add_up_like_one_frame(dedupe: str, size: int) -> None:
    df = messy()
    whole = validate(df, fields=FIELDS, dedupe=dedupe)  # type: ignore[arg-type]
    streamed = validate_stream(pieces(df, size), fields=FIELDS, dedupe=dedupe)  # type: ignore[arg-type]
    assert isinstance(streamed, StreamedReport)
    counts = (streamed.n_rows, streamed.n_valid, streamed.n_failed_rows, streamed.n_duplicates)
    assert counts == (whole.n_rows, whole.n_valid, whole.n_failed_rows, whole.n_duplicates)
    assert streamed.n_valid + streamed.n_failed_rows + streamed.n_duplicates == len(df)
    assert streamed.valid.empty and list(streamed.valid.columns) == list(whole.valid.columns)

    def rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
        return sorted(map(tuple, frame.astype(str).to_numpy().tolist()))

    shown = ["row", "column", "reason"] if dedupe == "error" else list(whole.failures.columns)
    assert rows(streamed.failures[shown]) == rows(whole.failures[shown])
    # The same rows are dropped, each pointing at the row that wins in the end. (A row
    # dropped for a later one is shown with the later row's spelling of the address.)
    lowered = streamed.duplicates.assign(email=streamed.duplicates["email"].str.lower())
    assert rows(lowered) == rows(
        whole.duplicates.assign(email=whole.duplicates["email"].str.lower())
    )
    assert streamed.column_map == whole.column_map and streamed.fields == whole.fields


def test_error_fails_every_occurrence_across_pieces() -> None:
    emails = ["a@x.io", "b@x.io", "A@x.io", "c@x.io", "b@x.io", "b@x.io", "a@x.io", "d@x.io"]
    report = validate_stream(pieces(pd.DataFrame({"email": emails}), 2), fields=[], dedupe="error")
    failed = report.failures.set_index("row")
    # a: rows 0, 2, 6 (across pieces); b: rows 1, 4, 5 (4 and 5 also clash within a piece).
    assert sorted(failed.index) == [0, 1, 2, 4, 5, 6]
    assert set(failed["reason"]) == {Reason.DUPLICATE_EMAIL}
    assert (report.n_valid, report.n_failed_rows, report.n_duplicates) == (2, 6, 0)
    assert sorted(report.duplicates["row"]) == [0, 1, 2, 4, 5, 6]
    assert report.duplicates["kept_row"].isna().all()


def test_a_path_and_an_empty_stream(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "c.csv"
    messy(50).to_csv(path, index=False)
    report = validate_stream(path, fields=FIELDS, batch_rows=8)
    assert report.n_rows == 50 and "50 rows" in repr(report)
    nothing = validate_stream(iter([]), fields=FIELDS)
    assert (nothing.n_rows, nothing.n_valid) == (0, 0) and nothing.ok
