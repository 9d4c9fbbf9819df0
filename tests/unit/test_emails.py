"""frames/emails.py: email syntax, normalization and the one email key."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mailtrap_pandas.frames.emails import normalize_emails


def test_emails() -> None:
    raw = [
        " Ann@Example.COM ",
        "a@b",
        "a b@x.io",
        None,
        "NULL",
        5,
        "José@Bücher.DE",
        "a@xn--bcher-kva.ch",
        '"q"@x.io',
        "a..b@x.io",
        "a@x..io",
        "a@@x.io",
        "x" * 65 + "@x.io",
        "first.o'neil+tag@sub.example.co.uk",
        "a@-x.io",
    ]
    e = normalize_emails(pd.Series(raw, dtype=object))
    assert e.normalized.to_pylist() == [
        "Ann@example.com",
        None,
        None,
        None,
        None,
        None,
        "José@bücher.de",
        "a@xn--bcher-kva.ch",
        None,
        None,
        None,
        None,
        None,
        "first.o'neil+tag@sub.example.co.uk",
        None,
    ]
    assert np.flatnonzero(e.missing).tolist() == [3, 4]
    assert np.flatnonzero(e.invalid).tolist() == [1, 2, 5, 8, 9, 10, 11, 12, 14]
    assert e.key.to_pylist()[0] == "ann@example.com"
