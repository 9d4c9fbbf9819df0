"""jobs/snapshot.py: the change test, list-id cells and the export fingerprint."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mailtrap_pandas.jobs.snapshot import _differs, fingerprint, id_set


def test_differs_same_dtype() -> None:
    new = pd.Series([1, None, 3, 4], dtype="Int64")
    old = pd.Series([1, 2, None, 5], dtype="Int64")
    # equal; missing new (never a change); nothing stored; different
    assert _differs(new, old).tolist() == [False, False, True, True]


def test_differs_mixed_dtypes_falls_back_to_value_equality() -> None:
    new = pd.Series(["a", None, "c"], dtype="string")
    old = pd.Series(["a", "b", "x"], dtype=object)
    assert _differs(new, old).tolist() == [False, False, True]


def test_id_set_accepts_the_shapes_an_export_cell_takes() -> None:
    assert id_set([2, 1]) == {1, 2}
    assert id_set(np.array([3])) == {3}
    assert id_set(None) == id_set(pd.NA) == id_set(float("nan")) == frozenset()


def test_fingerprint_sees_text_in_object_columns_and_list_order_not() -> None:
    a = pd.DataFrame(
        {"email": ["a@x.io", "b@x.io"], "city": ["Riga", None], "list_ids": [[1, 2], []]}
    )
    b = a.copy()
    b["city"] = ["Oslo", None]
    assert fingerprint(a) != fingerprint(b)
    c = a.copy()
    c["list_ids"] = [[2, 1], []]
    assert fingerprint(a) == fingerprint(c)
    d = a.copy()
    d["list_ids"] = [[1], []]
    assert fingerprint(a) != fingerprint(d)
    assert fingerprint(a.iloc[0:0]) == fingerprint(a.iloc[0:0])
