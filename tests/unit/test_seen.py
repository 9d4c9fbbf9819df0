"""The compact email memory of streamed imports behaves like a dict of emails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtrap_pandas.jobs.imports import seen as seen_module
from mailtrap_pandas.jobs.imports.seen import SeenEmails, email_hashes


def test_case_insensitive_and_newest_value_wins() -> None:
    seen = SeenEmails()
    seen.insert(email_hashes(["A@x.io", "b@x.io"]), np.array([1, 2], dtype=np.int64))
    seen.insert(email_hashes(["a@X.IO"]), np.array([7], dtype=np.int64))
    found, values = seen.lookup(email_hashes(["a@x.io", "B@x.io", "c@x.io"]))
    assert found.tolist() == [True, True, False]
    assert values[:2].tolist() == [7, 2]
    assert len(seen) == 2


def test_labels_round_trip_for_any_hashable() -> None:
    seen = SeenEmails()
    for labels in (pd.RangeIndex(3, 6), pd.Index(["x", ("a", 1), -4], dtype=object)):
        assert seen.decode_labels(seen.encode_labels(labels)) == list(labels)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 400), max_size=60), max_size=25),
    st.sampled_from([seen_module._MAPPED_FROM, 0]),
)
def test_matches_a_plain_dict(batches: list[list[int]], mapped_from: int) -> None:
    # mapped_from=0: every run in its own memory mapping, as large runs are.
    seen_module._MAPPED_FROM, default = mapped_from, seen_module._MAPPED_FROM
    try:
        _matches_a_plain_dict(batches)
    finally:
        seen_module._MAPPED_FROM = default


def _matches_a_plain_dict(batches: list[list[int]]) -> None:
    seen, model = SeenEmails(), {}
    for number, batch in enumerate(batches):
        emails = [f"user{i}@example.com" for i in dict.fromkeys(batch)]
        keys = email_hashes(emails)
        found, values = seen.lookup(keys)
        assert found.tolist() == [e in model for e in emails]
        assert [int(v) for v, f in zip(values, found, strict=True) if f] == [
            model[e] for e in emails if e in model
        ]
        seen.insert(keys, np.full(len(keys), number, dtype=np.int64))
        model.update(dict.fromkeys(emails, number))
    assert len(seen) == len(model)


def test_runs_stop_growing_at_max_run_and_still_match(monkeypatch: pytest.MonkeyPatch) -> None:
    # Memory grows by the 16 bytes per email only: no merge builds a run past MAX_RUN.
    monkeypatch.setattr(seen_module, "MAX_RUN", 64)
    seen, model = SeenEmails(), {}
    for number in range(40):
        emails = [f"user{(number * 7 + i) % 500}@example.com" for i in range(20)]
        keys = email_hashes(emails)
        found, values = seen.lookup(keys)
        assert found.tolist() == [e in model for e in emails]
        assert [int(v) for v, f in zip(values, found, strict=True) if f] == [
            model[e] for e in emails if e in model
        ]
        seen.insert(keys, np.full(len(keys), number, dtype=np.int64))
        model.update(dict.fromkeys(emails, number))
    assert max(len(keys) for keys, _ in seen._runs) <= 64 and len(seen._runs) > 3
    assert len(seen) == len(model)
