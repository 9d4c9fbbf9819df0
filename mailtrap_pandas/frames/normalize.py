"""Pure, vectorized value rules: missing values, emails, column names, lossless coercion.

Every function here takes a column and returns arrays aligned to it by
position; none touches the network or knows about reports. The rules are the
ones the README's "Validation rules" section states; :mod:`mailtrap_pandas.frames.validate`
assembles them into a :class:`~mailtrap_pandas.frames.validate.ValidationReport`.

Strings are handled with Arrow compute kernels (RE2 regular expressions), numbers
with NumPy, so a million-row column costs tens of milliseconds. Only object
columns that mix several Python types take a slower per-kind path.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mailtrap_pandas.frames.dates import DateOptions, parse_dates
from mailtrap_pandas.frames.dtypes import MAX_TEXT_LENGTH, TYPE_TABLE, field_type

__all__ = [
    "EMAIL_PATTERN",
    "FALSE_TOKENS",
    "MISSING_TOKENS",
    "TRUE_TOKENS",
    "Coerced",
    "Emails",
    "Problem",
    "REASON_DTYPE",
    "Reason",
    "coerce",
    "column_key",
    "normalize_emails",
    "reason_column",
    "to_pandas",
]

Mask = npt.NDArray[np.bool_]


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


#: Strings that mean "no value" (compared after trimming, case-insensitively).
#: "NA" is deliberately absent: it is Namibia's country code and a common abbreviation.
MISSING_TOKENS: frozenset[str] = frozenset(
    {"", "nan", "none", "null", "<na>", "n/a", "#n/a", "nat"}
)
TRUE_TOKENS: frozenset[str] = frozenset({"true", "t", "yes", "y", "1"})
FALSE_TOKENS: frozenset[str] = frozenset({"false", "f", "no", "n", "0"})

_INT64_MAX = 2**63 - 1
# pyarrow < 16 has no string_view type at all, so nothing can be one there.
_is_string_view: Callable[[pa.DataType], bool] = getattr(
    pa.types, "is_string_view", lambda _t: False
)
_EXACT_FLOAT_INT = 2**53  # integers beyond this are not all representable as float64

# -- email syntax -------------------------------------------------------------------------
# One pattern, two spellings: RE2 (Arrow kernels) needs \p{..} classes, Python's ``re``
# (pandera's str_matches) spells "Unicode letter or digit" as [^\W_].
_ATOM_RE2 = r"[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+"
_LABEL_RE2 = r"[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?"
_TLD_RE2 = r"(?:\p{L}{2,63}|[xX][nN]--[a-zA-Z0-9-]{1,59})"
_EMAIL_RE2 = rf"^{_ATOM_RE2}(?:\.{_ATOM_RE2})*@(?:{_LABEL_RE2}\.)+{_TLD_RE2}$"
_AA = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_AL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_ASCII_RE2 = (
    rf"^{_AA}(?:\.{_AA})*@(?:{_AL}\.)+(?:[A-Za-z]{{2,63}}|[xX][nN]--[a-zA-Z0-9-]{{1,59}})$"
)
_ATOM_PY = r"(?:[^\W_]|[!#$%&'*+/=?^_`{|}~-])+"
_LABEL_PY = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"
_TLD_PY = r"(?:[^\W\d_]{2,63}|[xX][nN]--[a-zA-Z0-9-]{1,59})"
#: The email syntax accepted (Python ``re`` spelling), as used by the pandera schema.
EMAIL_PATTERN = rf"^(?=[^@]{{1,64}}@){_ATOM_PY}(?:\.{_ATOM_PY})*@(?:{_LABEL_PY}\.)+{_TLD_PY}$"
_MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit

# -- number and date syntax ------------------------------------------------------------------
_INT_RE = r"^[+-]?[0-9]+$"
_FLOAT_RE = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_THOUSANDS_RE = r"^[+-]?[0-9]{1,3}(?:[, '_][0-9]{3})+(?:\.[0-9]*)?$"
_INF_RE = r"(?i)^[+-]?inf(?:inity)?$"
_THOUSANDS_HINT = (
    "has thousands separators; remove them first, e.g. s.str.replace(',', '') "
    "(we do not guess which character is the decimal point)"
)


@dataclass(frozen=True)
class Problem:
    """Rows (a boolean mask over the column) that fail for one reason."""

    mask: Mask
    reason: Reason
    message: str


@dataclass
class Coerced:
    """A column coerced to one Mailtrap ``data_type``.

    ``values`` is an Arrow array of the type table's Arrow type, null where the
    input is missing or rejected; ``missing`` marks missing inputs; ``problems``
    lists the rejected rows by reason.
    """

    values: pa.Array
    missing: Mask
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Emails:
    """An email column: normalized values (null unless valid) and what went wrong."""

    normalized: pa.Array
    key: pa.Array  # case-insensitive comparison key, used for duplicates
    missing: Mask
    invalid: Mask


# -- small helpers ---------------------------------------------------------------------------


def _np(mask: Any) -> Mask:
    """An Arrow boolean array (nulls count as False) as a NumPy bool array."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _null_where(arr: pa.Array, mask: Mask) -> pa.Array:
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.nulls(len(arr), arr.type), arr)


def _problem(mask: Mask, reason: Reason, message: str) -> list[Problem]:
    return [Problem(mask, reason, message)] if mask.any() else []


def column_key(name: object) -> str:
    """The comparison key of a column name: case-folded, non-alphanumerics as one ``_``.

    Examples
    --------
    >>> column_key("First Name"), column_key("first-name "), column_key("FIRST_NAME")
    ('first_name', 'first_name', 'first_name')
    """
    return re.sub(r"[\W_]+", "_", str(name).casefold()).strip("_")


def _strings(arr: pa.Array) -> pa.Array:
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())


def _missing_strings(trimmed: pa.Array) -> Mask:
    lowered = pc.utf8_lower(trimmed)
    return _np(pc.is_null(trimmed)) | _np(pc.is_in(lowered, value_set=pa.array(MISSING_TOKENS)))


# -- turning any pandas column into one typed Arrow array ------------------------------------


def to_arrow(values: pd.Series) -> pa.Array | None:
    """The column as one Arrow array, or None when an object column mixes Python types.

    Missing values (NaN, None, NA, NaT) become nulls.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if (
        values.dtype == object
        and (pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type))
        and any(isinstance(v, bool | np.bool_) for v in values)
    ):
        # Arrow reads True as 1.0 next to floats; a boolean is not a number here.
        return None
    if values.dtype == object and pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
        # Arrow would move every value into the first value's time zone; dates are
        # judged in each value's own zone, so take the per-value path.
        return None
    if pa.types.is_large_string(arr.type) or _is_string_view(arr.type):
        arr = pc.cast(arr, pa.string())
    return arr


# -- per data_type coercion of a typed Arrow array -----------------------------------------


def _from_strings(arr: pa.Array, data_type: str, opts: DateOptions) -> Coerced:
    raw = _strings(arr)
    trimmed = pc.utf8_trim_whitespace(raw)
    missing = _missing_strings(trimmed)
    present = pa.array(~missing)
    if data_type == "text":
        # Text keeps its spaces: only blanks and the missing tokens are not text.
        too_long = _np(pc.greater(pc.utf8_length(raw), MAX_TEXT_LENGTH)) & ~missing
        values = _null_where(raw, missing | too_long)
        msg = f"longer than {MAX_TEXT_LENGTH} characters"
        return Coerced(values, missing, _problem(too_long, Reason.TEXT_TOO_LONG, msg))
    body = pc.if_else(present, trimmed, pa.nulls(len(trimmed), pa.string()))
    if data_type == "date":
        return _string_dates(body, missing, opts)
    return _STRING_RULES[data_type](body, missing)


def _string_integers(s: pa.Array, missing: Mask) -> Coerced:
    is_int = _np(pc.match_substring_regex(s, _INT_RE))
    is_float = _np(pc.match_substring_regex(s, _FLOAT_RE)) & ~is_int
    out = np.zeros(len(s), dtype=np.int64)
    ok = np.zeros(len(s), dtype=bool)
    range_bad = np.zeros(len(s), dtype=bool)
    if is_int.any():
        ints = pc.filter(s, pa.array(is_int))
        try:
            parsed = pc.cast(ints, pa.int64()).to_numpy(zero_copy_only=False)
            fits = np.ones(len(parsed), dtype=bool)
        except pa.ArrowInvalid:  # some value beyond int64: find which, one by one
            big = [int(v) for v in ints.to_pylist()]
            fits = np.array([-_INT64_MAX - 1 <= v <= _INT64_MAX for v in big], dtype=bool)
            parsed = np.array([v if f else 0 for v, f in zip(big, fits, strict=True)], np.int64)
        pos = np.flatnonzero(is_int)
        out[pos], ok[pos], range_bad[pos] = parsed, fits, ~fits
    problems: list[Problem] = []
    if is_float.any():
        pos = np.flatnonzero(is_float)
        floats = pc.cast(pc.filter(s, pa.array(is_float)), pa.float64()).to_numpy()
        sub = _float_values_to_int(floats)
        out[pos[sub.ok]] = sub.ints
        ok[pos] = sub.ok
        problems += _scatter(sub.problems, pos, len(s))
    rest = ~(missing | is_int | is_float)
    problems += _problem(range_bad, Reason.OUT_OF_RANGE, "outside the 64-bit integer range")
    problems += _non_numeric(s, rest, "an integer")
    values = pa.array(out, mask=~ok)
    return Coerced(values, missing, problems)


def _non_numeric(s: pa.Array, rest: Mask, what: str) -> list[Problem]:
    """Problems of strings that are not numbers: separators, infinities, anything else."""
    if not rest.any():
        return []
    thousands = _np(pc.match_substring_regex(s, _THOUSANDS_RE)) & rest
    infinite = _np(pc.match_substring_regex(s, _INF_RE)) & rest
    other = rest & ~thousands & ~infinite
    return (
        _problem(thousands, Reason.WRONG_TYPE, _THOUSANDS_HINT)
        + _problem(infinite, Reason.NOT_FINITE, "infinity cannot be sent (JSON has no inf)")
        + _problem(other, Reason.WRONG_TYPE, f"not {what}")
    )


def _string_floats(s: pa.Array, missing: Mask) -> Coerced:
    is_num = _np(pc.match_substring_regex(s, _FLOAT_RE))
    out = np.zeros(len(s), dtype=np.float64)
    if is_num.any():
        out[is_num] = pc.cast(pc.filter(s, pa.array(is_num)), pa.float64()).to_numpy()
    overflow = is_num & ~np.isfinite(out)  # "1e999"
    problems = _problem(overflow, Reason.NOT_FINITE, "too large for a 64-bit float")
    problems += _non_numeric(s, ~(missing | is_num), "a number")
    return Coerced(pa.array(out, mask=~(is_num & ~overflow)), missing, problems)


def _string_booleans(s: pa.Array, missing: Mask) -> Coerced:
    lowered = pc.utf8_lower(s)
    true = _np(pc.is_in(lowered, value_set=pa.array(TRUE_TOKENS)))
    false = _np(pc.is_in(lowered, value_set=pa.array(FALSE_TOKENS)))
    bad = ~(missing | true | false)
    msg = "not a clear boolean; use true/false, yes/no, y/n, t/f or 1/0"
    return Coerced(
        pa.array(true, mask=~(true | false)), missing, _problem(bad, Reason.AMBIGUOUS_BOOLEAN, msg)
    )


def _string_dates(s: pa.Array, missing: Mask, opts: DateOptions) -> Coerced:
    parsed = parse_dates(s, missing, opts)
    fmt = "use yyyy-mm-dd"
    if opts.date_format:
        fmt = f"it does not match date_format={opts.date_format!r}; {fmt}"
    problems = _problem(parsed.invalid, Reason.INVALID_DATE, "no such calendar date")
    problems += _problem(parsed.has_time, Reason.NOT_LOSSLESS, _TIME_HINT)
    problems += _problem(
        parsed.ambiguous,
        Reason.INVALID_DATE,
        "day-first or month-first? pass dayfirst=True (3 April for 03/04/2024) or "
        "dayfirst=False, or date_format=",
    )
    problems += _problem(parsed.unparsed, Reason.INVALID_DATE, f"not an unambiguous date; {fmt}")
    days = np.where(parsed.ok, parsed.days, 0).astype(np.int32)
    values = pa.array(days, type=pa.date32(), mask=~parsed.ok)
    return Coerced(values, missing, problems)


_TIME_HINT = (
    "has a time of day; a date field keeps only the date "
    "(pass truncate_time=True to keep the date as written)"
)


_STRING_RULES: dict[str, Callable[[pa.Array, Mask], Coerced]] = {
    "integer": _string_integers,
    "float": _string_floats,
    "boolean": _string_booleans,
}


@dataclass
class _IntResult:
    ints: npt.NDArray[np.int64]
    ok: Mask
    problems: list[Problem]


def _float_values_to_int(x: npt.NDArray[np.float64]) -> _IntResult:
    """Whole floats become integers; fractions, infinities and huge values are reported."""
    finite = np.isfinite(x)
    whole = finite & (np.floor(np.where(finite, x, 0)) == x)
    in_range = whole & (np.abs(np.where(whole, x, 0)) < 2.0**63)
    problems = _problem(
        finite & ~whole,
        Reason.NOT_LOSSLESS,
        "has a fractional part; an integer field would lose it",
    )
    problems += _problem(whole & ~in_range, Reason.OUT_OF_RANGE, "outside the 64-bit integer range")
    problems += _problem(
        ~finite & ~np.isnan(x), Reason.NOT_FINITE, "infinity cannot be sent (JSON has no inf)"
    )
    ints = x[in_range].astype(np.int64)
    return _IntResult(ints, in_range, problems)


def _scatter(problems: list[Problem], pos: npt.NDArray[np.intp], n: int) -> list[Problem]:
    """Problems found on a subset (rows ``pos``) as masks over the whole column."""
    out = []
    for p in problems:
        mask = np.zeros(n, dtype=bool)
        mask[pos[p.mask]] = True
        out.append(Problem(mask, p.reason, p.message))
    return out


def _from_numbers(arr: pa.Array, data_type: str) -> Coerced:
    n = len(arr)
    is_float = pa.types.is_floating(arr.type)
    x = pc.cast(arr, pa.float64(), safe=False) if is_float else arr
    missing = _np(pc.is_null(x, nan_is_null=True)) if is_float else _np(pc.is_null(x))
    if data_type == "integer":
        if not is_float:
            too_big = _above_int64(arr)
            values = _null_where(pc.cast(arr, pa.int64(), safe=False), too_big)
            return Coerced(
                values,
                missing,
                _problem(too_big, Reason.OUT_OF_RANGE, "outside the 64-bit integer range"),
            )
        present = ~missing
        sub = _float_values_to_int(x.filter(pa.array(present)).to_numpy(zero_copy_only=False))
        pos = np.flatnonzero(present)
        out = np.zeros(n, np.int64)
        ok = np.zeros(n, bool)
        out[pos[sub.ok]] = sub.ints
        ok[pos] = sub.ok
        return Coerced(pa.array(out, mask=~ok), missing, _scatter(sub.problems, pos, n))
    if data_type == "float":
        values = pc.cast(arr, pa.float64(), safe=False)
        f = values.to_numpy(zero_copy_only=False)
        infinite = ~missing & np.isinf(f)
        problems = _problem(
            infinite, Reason.NOT_FINITE, "infinity cannot be sent (JSON has no inf)"
        )
        if not is_float:
            inexact = ~missing & _inexact_as_float(arr)
            problems += _problem(
                inexact, Reason.NOT_LOSSLESS, "integer too large to store exactly as a float"
            )
            infinite |= inexact
        return Coerced(_null_where(values, missing | infinite), missing, problems)
    if data_type == "boolean":
        one = _np(pc.equal(x, 1))
        zero = _np(pc.equal(x, 0))
        bad = ~(missing | one | zero)
        msg = "only 1 and 0 are clear booleans"
        return Coerced(
            pa.array(one, mask=~(one | zero)), missing, _problem(bad, Reason.AMBIGUOUS_BOOLEAN, msg)
        )
    if data_type == "text" and not is_float:
        return Coerced(pc.cast(arr, pa.string()), missing)
    if data_type == "text":
        msg = (
            "a float in a text field (501.0 is not '501'); convert the column explicitly, "
            "e.g. .astype('Int64').astype('string')"
        )
        return _reject(arr, missing, data_type, msg)
    return _reject(
        arr, missing, data_type, "a number is not a date; use yyyy-mm-dd strings or dates"
    )


def _above_int64(arr: pa.Array) -> Mask:
    """Unsigned 64-bit values that do not fit a signed 64-bit integer."""
    if not pa.types.is_uint64(arr.type):
        return np.zeros(len(arr), bool)
    return np.asarray(pc.fill_null(arr, 0).to_numpy(zero_copy_only=False) > _INT64_MAX, dtype=bool)


def _inexact_as_float(arr: pa.Array) -> Mask:
    """Integers that a float64 cannot hold exactly (beyond 2**53 and not a multiple)."""
    ints = pc.fill_null(arr, 0).to_numpy(zero_copy_only=False)
    big: Mask = np.abs(ints.astype(np.float64)) >= _EXACT_FLOAT_INT
    if not big.any():
        return big
    with np.errstate(all="ignore"):
        back = ints.astype(np.float64).astype(np.int64) if ints.dtype != np.uint64 else ints
    inexact: Mask = np.asarray(big & ((back != ints) | (ints.dtype == np.uint64)), dtype=bool)
    return inexact


def _reject(arr: pa.Array, missing: Mask, data_type: str, message: str) -> Coerced:
    """Every present value is of the wrong type for ``data_type``."""
    target = TYPE_TABLE[data_type].arrow_type
    return Coerced(
        pa.nulls(len(arr), target), missing, _problem(~missing, Reason.WRONG_TYPE, message)
    )


def _from_booleans(arr: pa.Array, data_type: str) -> Coerced:
    missing = _np(pc.is_null(arr))
    if data_type == "boolean":
        return Coerced(arr, missing)
    return _reject(arr, missing, data_type, f"a boolean is not {_ARTICLE[data_type]}")


_ARTICLE = {
    "text": "text",
    "integer": "an integer",
    "float": "a number",
    "boolean": "a boolean",
    "date": "a date",
}


def _from_dates(arr: pa.Array, data_type: str) -> Coerced:
    missing = _np(pc.is_null(arr))
    if data_type == "date":
        return Coerced(pc.cast(arr, pa.date32()), missing)
    return _reject(arr, missing, data_type, f"a date is not {_ARTICLE[data_type]}")


def _from_timestamps(arr: pa.Array, data_type: str, opts: DateOptions) -> Coerced:
    missing = _np(pc.is_null(arr))
    if data_type != "date":
        return _reject(arr, missing, data_type, f"a datetime is not {_ARTICLE[data_type]}")
    # A tz-aware timestamp is judged by its own wall clock: midnight in Paris is that date.
    local = pc.local_timestamp(arr) if arr.type.tz is not None else arr
    days = pc.cast(pc.floor_temporal(local, unit="day"), pa.date32())
    midnight = _np(pc.equal(pc.floor_temporal(local, unit="day"), local))
    has_time = ~missing & ~midnight
    if opts.truncate_time:
        return Coerced(days, missing)
    msg = _TIME_HINT
    return Coerced(
        _null_where(days, has_time), missing, _problem(has_time, Reason.NOT_LOSSLESS, msg)
    )


def _from_arrow(arr: pa.Array, data_type: str, opts: DateOptions) -> Coerced:
    t = arr.type
    if pa.types.is_null(t):
        return Coerced(
            pa.nulls(len(arr), TYPE_TABLE[data_type].arrow_type), np.ones(len(arr), bool)
        )
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_decimal(t):
        return _from_strings(arr, data_type, opts)  # decimals as their exact digits
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return _from_numbers(arr, data_type)
    if pa.types.is_boolean(t):
        return _from_booleans(arr, data_type)
    if pa.types.is_date(t):
        return _from_dates(arr, data_type)
    if pa.types.is_timestamp(t):
        return _from_timestamps(arr, data_type, opts)
    missing = _np(pc.is_null(arr))
    return _reject(arr, missing, data_type, f"values of type {t} cannot be {_ARTICLE[data_type]}")


# -- object columns mixing Python types --------------------------------------------------------


def _kind_of_type(t: type) -> str:
    """The Arrow-friendly group of the values of one Python type in a mixed column."""
    if t is type(None) or t is type(pd.NA) or t is type(pd.NaT):
        return "missing"
    if issubclass(t, bool | np.bool_):
        return "bool"
    if issubclass(t, int | np.integer):
        return "int"
    if issubclass(t, float | np.floating):
        return "float"  # NaN becomes a null, hence missing, on the way to Arrow
    if issubclass(t, str | decimal.Decimal):
        return "str"
    if issubclass(t, dt.datetime | np.datetime64):
        return "datetime"
    if issubclass(t, dt.date):
        return "date"
    return "other"


_type_of = np.frompyfunc(type, 1, 1)


def _kinds(objects: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The kind of every value, classified once per distinct type (not once per value)."""
    types = _type_of(objects) if len(objects) else np.empty(0, object)
    codes, distinct = pd.factorize(types)
    kinds = np.array([_kind_of_type(t) for t in distinct] + ["other"], dtype=object)[codes]
    ints = np.flatnonzero(kinds == "int")
    if len(ints):
        try:
            pa.array(objects[ints], pa.int64())
        except (OverflowError, pa.ArrowInvalid):
            big = [not -(2**63) <= int(v) <= _INT64_MAX for v in objects[ints]]
            kinds[ints[np.array(big, dtype=bool)]] = "bigint"
    return kinds


def _mixed_to_arrow(kind: str, items: list[Any]) -> pa.Array:
    if kind == "str":
        return pa.array([str(v) for v in items], pa.string())
    if kind == "datetime":
        # Each value's own wall clock; the zone is dropped after judging midnight.
        stamps = [pd.Timestamp(v) for v in items]
        return pa.array(
            [s.tz_localize(None) if s.tzinfo else s for s in stamps], pa.timestamp("us")
        )
    if kind in ("bigint", "other", "missing"):
        return pa.nulls(len(items))
    types = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "date": pa.date32()}
    return pa.array(items, types[kind], from_pandas=True)


def _coerce_mixed(values: pd.Series, data_type: str, opts: DateOptions) -> Coerced:
    objects = np.asarray(values.astype(object).to_numpy(), dtype=object)
    kinds = _kinds(objects)
    n = len(objects)
    target = TYPE_TABLE[data_type].arrow_type
    pieces: list[pa.Array] = []
    order: list[npt.NDArray[np.intp]] = []
    missing = np.zeros(n, bool)
    problems: list[Problem] = []
    for kind in sorted(set(kinds.tolist())):
        pos = np.flatnonzero(kinds == kind)
        sub = _from_arrow(_mixed_to_arrow(kind, list(objects[pos])), data_type, opts)
        if kind == "missing":
            missing[pos] = True
        elif kind == "bigint":
            mask = np.zeros(n, bool)
            mask[pos] = True
            reason = Reason.OUT_OF_RANGE if data_type in ("integer", "float") else Reason.WRONG_TYPE
            problems.append(Problem(mask, reason, "outside the 64-bit integer range"))
        elif kind == "other":
            mask = np.zeros(n, bool)
            mask[pos] = True
            problems.append(Problem(mask, Reason.WRONG_TYPE, f"not {_ARTICLE[data_type]}"))
        else:
            missing[pos] = sub.missing
            problems += _scatter(sub.problems, pos, n)
        pieces.append(
            pc.cast(sub.values, target) if kind in ("bigint", "other", "missing") else sub.values
        )
        order.append(pos)
    if not pieces:
        return Coerced(pa.nulls(0, target), missing, problems)
    stacked = pa.concat_arrays([p.cast(target) for p in pieces])
    inverse = np.empty(n, np.intp)
    inverse[np.concatenate(order)] = np.arange(n)
    return Coerced(stacked.take(pa.array(inverse)), missing, problems)


def coerce(values: pd.Series, data_type: str, dates: DateOptions | None = None) -> Coerced:
    """Coerce a column to a Mailtrap ``data_type`` where that loses nothing.

    Parameters
    ----------
    values : pandas.Series
        Any dtype: object (even mixed), numpy, nullable, categorical or Arrow-backed.
    data_type : {"text", "integer", "float", "boolean", "date"}
    dates : DateOptions, optional
        How date strings and date-times are read (``truncate_time``,
        ``dayfirst``, ``date_format``); the strict defaults when omitted.

    Returns
    -------
    Coerced
        Values of the type table's Arrow type (null where missing or rejected),
        the missing mask, and the rejected rows grouped by :class:`Reason`.

    Examples
    --------
    >>> c = coerce(pd.Series(["42", 42.0, "4.5", "nan"], dtype=object), "integer")
    >>> c.values.to_pylist(), c.missing.tolist(), [p.reason.value for p in c.problems]
    ([42, 42, None, None], [False, False, False, True], ['not_lossless'])
    """
    field_type(data_type)  # a clear error for an unknown data_type
    arr = to_arrow(values)
    opts = dates or DateOptions()
    result = (
        _coerce_mixed(values, data_type, opts) if arr is None else _from_arrow(arr, data_type, opts)
    )
    result.values = result.values.cast(TYPE_TABLE[data_type].arrow_type)
    return result


def to_pandas(values: pa.Array, data_type: str) -> pd.api.extensions.ExtensionArray:
    """An Arrow array of the type table as a pandas array of the table's dtype."""
    dtype = field_type(data_type).dtype
    if data_type in ("integer", "float", "boolean"):
        mask = _np(pc.is_null(values))
        filler = {"integer": 0, "float": 0.0, "boolean": False}[data_type]
        raw = pc.fill_null(values, filler).to_numpy(zero_copy_only=False)
        cls = {"integer": pd.arrays.IntegerArray, "float": pd.arrays.FloatingArray}.get(
            data_type, pd.arrays.BooleanArray
        )
        out: pd.api.extensions.ExtensionArray = cls(raw, mask)
        return out
    if data_type == "text":
        return pd.array(values, dtype=dtype)
    return pd.arrays.ArrowExtensionArray(values)


# -- emails ----------------------------------------------------------------------------------


def _email_syntax(trimmed: pa.Array) -> Mask:
    """Which addresses are well formed (RE2 on Arrow strings).

    The ASCII spelling of the pattern runs first because RE2's Unicode classes
    are ~30x slower; only what it rejects is tried again with the Unicode one.
    """
    ok = _np(pc.match_substring_regex(trimmed, _EMAIL_ASCII_RE2))
    retry = ~ok & ~_np(pc.string_is_ascii(trimmed))
    if retry.any():
        pos = np.flatnonzero(retry)
        sub = pc.filter(trimmed, pa.array(retry))
        ok[pos] = _np(pc.match_substring_regex(sub, _EMAIL_RE2))
    ok &= _np(pc.match_substring_regex(trimmed, r"^[^@]{1,64}@"))
    ok &= _np(pc.less_equal(pc.utf8_length(trimmed), _MAX_EMAIL_LENGTH))
    return ok


def normalize_emails(values: pd.Series) -> Emails:
    """Trim, lower-case the domain and syntax-check an email column.

    The local part keeps its case (some servers honour it); duplicates are found
    on :attr:`Emails.key`, the whole address lower-cased. Quoted local parts
    (``"a b"@x.io``) and IP-literal domains are rejected; Unicode (IDN) domains
    are kept in Unicode and lower-cased, not converted to punycode.

    Examples
    --------
    >>> e = normalize_emails(pd.Series([" Ann@Example.COM ", "not-an-email", None]))
    >>> e.normalized.to_pylist(), e.invalid.tolist(), e.missing.tolist()
    (['Ann@example.com', None, None], [False, True, False], [False, False, True])
    """
    arr = to_arrow(values)
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_null(arr.type)):
        objects = np.asarray(values.astype(object).to_numpy(), dtype=object)
        kinds = _kinds(objects)
        text = np.array([isinstance(v, str) for v in objects], dtype=bool)
        wrong = ~text & (kinds != "missing") & ~pd.isna(objects)
        arr = pa.array([v if t else None for v, t in zip(objects, text, strict=True)], pa.string())
    else:
        wrong = np.zeros(len(arr), bool)
        arr = _strings(arr)
    trimmed = pc.utf8_trim_whitespace(arr)
    missing = _missing_strings(trimmed) & ~wrong
    syntax = _email_syntax(trimmed)
    invalid = ~missing & ~syntax
    # Split at the (single, checked) "@" and lower-case the domain only.
    halves = pc.split_pattern(trimmed, "@", max_splits=1)
    local = pc.list_element(
        pc.if_else(pa.array(syntax), halves, pa.scalar(["", ""], halves.type)), 0
    )
    domain = pc.list_element(
        pc.if_else(pa.array(syntax), halves, pa.scalar(["", ""], halves.type)), 1
    )
    normalized = pc.binary_join_element_wise(local, pc.utf8_lower(domain), "@")
    normalized = _null_where(normalized, ~syntax)
    return Emails(normalized, pc.utf8_lower(normalized), missing, invalid)


def email_key(emails: pd.Series | pd.Index) -> pd.Series:
    """Emails as the account compares them: trimmed and case-insensitive; THE email key.

    Every comparison of emails in the package (dedupe, match modes, plans, 422 rows,
    verification, the stream's hashes) goes through this, or :attr:`Emails.key` for the
    same rule on Arrow arrays during validation.

    Examples
    --------
    >>> email_key(pd.Series([" Ann@Example.COM"])).tolist()
    ['ann@example.com']
    """
    return pd.Series(emails, dtype="string").str.strip().str.lower()
