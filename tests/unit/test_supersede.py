"""dedupe="last" over a stream read twice: the read-ahead keeps only the emails that repeat."""

from __future__ import annotations

import numpy as np
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


def test_same_answer_as_a_dict_of_last_positions() -> None:
    rng = np.random.default_rng(7)
    emails = [f"u{i}@x.io" for i in rng.integers(0, 400, 3000)]
    frames = [
        pd.DataFrame({"email": emails[i : i + 250], "age": 1}, index=range(i, min(i + 250, 3000)))
        for i in range(0, 3000, 250)
    ]
    want: dict[str, int] = {}
    for position, email in enumerate(emails):
        want[email] = position
    counts = pd.Series(emails).value_counts()
    repeated = sorted(counts.index[counts > 1])
    last = last_rows(iter(frames), FIELDS, None)
    assert len(last) == len(repeated)
    found, position = last.lookup(email_hashes(repeated))
    assert found.all() and position.tolist() == [want[e] for e in repeated]
