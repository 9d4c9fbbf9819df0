"""dedupe="last" over a stream read twice: the read-ahead keeps only the emails that repeat."""

from __future__ import annotations

import pandas as pd

from mailtrap_pandas.jobs.imports.seen import email_hashes
from mailtrap_pandas.jobs.imports.supersede import last_rows

FIELDS = [{"name": "Age", "data_type": "integer", "merge_tag": "age"}]


def test_only_repeated_emails_are_kept_with_their_last_position() -> None:
    frames = [
        pd.DataFrame({"email": ["a@x.io", "b@x.io", "A@x.io", "c@x.io"], "age": [1, 2, 3, 4]}),
        pd.DataFrame({"email": ["d@x.io", "not an email", "C@X.io"], "age": [5, 6, 7]}),
        pd.DataFrame({"email": ["e@x.io", "c@x.io"], "age": [8, 9]}),
    ]
    last = last_rows(iter(frames), FIELDS, None)
    # An email seen once is its own last row: no entry, so no memory for it in the import.
    assert len(last) == 2
    found, position = last.lookup(email_hashes(["a@x.io", "c@x.io", "b@x.io", "e@x.io"]))
    assert found.tolist() == [True, True, False, False]
    assert position[:2].tolist() == [2, 8]  # stream positions: within a frame, across frames


def test_no_repeats_keep_nothing() -> None:
    frame = pd.DataFrame({"email": [f"u{i}@x.io" for i in range(1000)], "age": range(1000)})
    assert len(last_rows(iter([frame[:600], frame[600:]]), FIELDS, None)) == 0
