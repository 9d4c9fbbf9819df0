"""A streamed import's labels: runs of consecutive positions cost no memory per row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mailtrap_pandas.jobs.imports.job import Job, Runs
from mailtrap_pandas.jobs.imports.result import _int_labels


def test_consecutive_positions_are_a_range() -> None:
    parts = [pd.RangeIndex(0, 3), pd.Index(np.array([3, 4, 5])), pd.RangeIndex(6, 6)]
    parts.append(pd.RangeIndex(6, 9))
    labels = _int_labels(parts)
    assert isinstance(labels, pd.RangeIndex) and labels.equals(pd.RangeIndex(9))
    assert labels.dtype == "int64"
    assert _int_labels([]).equals(pd.RangeIndex(0))


def test_gaps_give_the_exact_positions_in_order() -> None:
    for parts, want in [
        ([pd.RangeIndex(0, 3), pd.RangeIndex(4, 6)], [0, 1, 2, 4, 5]),
        ([pd.Index(np.array([0, 2, 3])), pd.RangeIndex(4, 5)], [0, 2, 3, 4]),
        ([pd.RangeIndex(5, 7), pd.RangeIndex(0, 2)], [5, 6, 0, 1]),
        ([pd.Index(np.array([1, 2, 4]))], [1, 2, 4]),
        ([pd.Index(np.array([3, 2, 1, 4]))], [3, 2, 1, 4]),  # right span, wrong order
    ]:
        labels = _int_labels(parts)
        assert labels.tolist() == want and labels.dtype == "int64"
        assert not isinstance(labels, pd.RangeIndex)


def test_a_job_keeps_gapped_positions_as_runs_and_gives_them_back() -> None:
    # A frame that lost a few rows to validation: an int64 Index, 8 bytes per row held for
    # every job through the import; as runs, 16 bytes per gap.
    values = np.delete(np.arange(1000, 51_000), [5, 6, 700, 40_000])
    labels = pd.Index(values, name="row")
    job = Job(0, "sha", labels, pd.Series([], dtype="string"))
    assert isinstance(job.labels, Runs) and job.labels.starts.nbytes < 100
    assert job.rows == len(values) and job.index.equals(labels)
    assert job.index.dtype == "int64" and job.index.name == "row"
    # The result's labels: the same positions, in order.
    other = pd.RangeIndex(60_000, 60_010)
    assert _int_labels([job.labels, other]).tolist() == [*values, *range(60_000, 60_010)]


def test_labels_that_runs_would_not_shrink_stay_as_they_are() -> None:
    for labels in (
        pd.RangeIndex(5, 50),
        pd.Index(np.arange(0, 2000, 2)),  # every other row
        pd.Index(["a", "b", "c"]),
        pd.Index(np.array([3], dtype=np.int64)),
    ):
        job = Job(0, "sha", labels, pd.Series([], dtype="string"))
        assert job.labels is labels and job.index is labels and job.rows == len(labels)
    single = Runs.of(pd.Index(np.arange(10, 90, dtype=np.int64)))
    assert single is not None and _int_labels([single]).equals(pd.RangeIndex(10, 90))


def test_runs_are_kept_from_4x_smaller_on() -> None:
    # 16 labels in 2 runs: 32 bytes for 128, exactly 4x smaller; in 3 runs, not.
    two = pd.Index(np.delete(np.arange(17), 8))
    three = pd.Index(np.delete(np.arange(18), [5, 11]))
    kept = Runs.of(two)
    assert kept is not None and kept.index().equals(two) and len(kept) == 16
    assert Runs.of(three) is None
    assert Runs.of(pd.Index(np.array([], dtype=np.int64))) is None
