"""Why a row was not sent: the one :class:`Reason` family and the dtype of ``reason`` columns.

Validation failures, import rejections, event and removal outcomes all speak these values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["REASON_DTYPE", "Problem", "Reason", "reason_column"]


class Reason(enum.StrEnum):
    """Why a row (or a column) was not sent: the values of every ``reason`` column.

    One family for validation failures (``report.failures``, and
    ``result.rejected`` with stage ``local``), import rejections (stage
    ``server``) and event failures (``EventsResult.failed`` / ``.uncertain``).
    The columns hold the plain values in the pandas ``string`` dtype
    (:data:`REASON_DTYPE`), so ``df.reason == Reason.INVALID_EMAIL`` and
    ``df.reason == "invalid_email"`` both work.
    """

    MISSING_EMAIL = "missing_email"
    INVALID_EMAIL = "invalid_email"
    DUPLICATE_EMAIL = "duplicate_email"
    WRONG_TYPE = "wrong_type"
    NOT_LOSSLESS = "not_lossless"
    OUT_OF_RANGE = "out_of_range"
    NOT_FINITE = "not_finite"
    TEXT_TOO_LONG = "text_too_long"
    INVALID_DATE = "invalid_date"
    AMBIGUOUS_BOOLEAN = "ambiguous_boolean"
    MISSING_VALUE = "missing_value"
    UNKNOWN_COLUMN = "unknown_column"
    # import: the API refused rows (422), a job failed, a submit failed, an outcome stayed unknown
    SERVER_REJECTED = "server_rejected"
    IMPORT_FAILED = "import_failed"
    SUBMIT_FAILED = "submit_failed"
    UNCERTAIN = "uncertain"
    # events
    INVALID_NAME = "invalid_name"
    CONTACT_NOT_FOUND = "contact_not_found"
    NOT_SENT = "not_sent"
    OUTCOME_UNKNOWN = "outcome_unknown"


#: The dtype of every ``reason`` column: pandas' nullable ``string`` of :class:`Reason` values.
REASON_DTYPE = pd.StringDtype()
_REASON_VALUES = frozenset(r.value for r in Reason)


def reason_column(values: Any, index: pd.Index | None = None) -> pd.Series:
    """Reasons as a column of :data:`REASON_DTYPE`; anything not a :class:`Reason` is a bug.

    Examples
    --------
    >>> reason_column([Reason.INVALID_EMAIL, "not_lossless"]).tolist()
    ['invalid_email', 'not_lossless']
    """
    items = [str(v.value) if isinstance(v, Reason) else v for v in values]
    strange = {v for v in items if v is not None and v not in _REASON_VALUES}
    if strange:
        raise ValueError(f"not Reason values: {sorted(map(str, strange))}")
    return pd.Series(items, index=index, dtype=REASON_DTYPE)


@dataclass(frozen=True)
class Problem:
    """Rows (a boolean mask over the column) that fail for one reason."""

    mask: npt.NDArray[np.bool_]
    reason: Reason
    message: str
