"""A streamed import's labels: one run of positions costs no memory per row."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
