"""Lossless coercion of any pandas column to a Mailtrap ``data_type``: :func:`coerce`.

Every function here takes a column and returns arrays aligned to it by position; none
touches the network or knows about reports. The rules are the ones the README's
"Validation rules" section states; :mod:`mailtrap_pandas.frames.validate` assembles them
into a :class:`~mailtrap_pandas.frames.validate.ValidationReport`.

Strings are handled with Arrow compute kernels (RE2 regular expressions), numbers with
NumPy, so a million-row column costs tens of milliseconds. Only object columns that mix
several Python types take a slower per-kind path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mailtrap_pandas.frames.columns import (
    INT64_MAX,
    Mask,
    as_mask,
    as_strings,
    kinds_of,
    missing_strings,
    null_where,
    to_arrow,
)
from mailtrap_pandas.frames.dates import DateOptions, parse_dates
from mailtrap_pandas.frames.dtypes import MAX_TEXT_LENGTH, TYPE_TABLE, field_type
from mailtrap_pandas.frames.reasons import Problem, Reason

__all__ = ["FALSE_TOKENS", "TRUE_TOKENS", "Coerced", "coerce"]

TRUE_TOKENS: frozenset[str] = frozenset({"true", "t", "yes", "y", "1"})
FALSE_TOKENS: frozenset[str] = frozenset({"false", "f", "no", "n", "0"})

_EXACT_FLOAT_INT = 2**53  # integers beyond this are not all representable as float64


# -- number and date syntax ------------------------------------------------------------------
_INT_RE = r"^[+-]?[0-9]+$"
_FLOAT_RE = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_THOUSANDS_RE = r"^[+-]?[0-9]{1,3}(?:[, '_][0-9]{3})+(?:\.[0-9]*)?$"
_INF_RE = r"(?i)^[+-]?inf(?:inity)?$"
_THOUSANDS_HINT = (
    "has thousands separators; remove them first, e.g. s.str.replace(',', '') "
    "(we do not guess which character is the decimal point)"
)


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


def _problem(mask: Mask, reason: Reason, message: str) -> list[Problem]:
    return [Problem(mask, reason, message)] if mask.any() else []


# -- per data_type coercion of a typed Arrow array -----------------------------------------


def _from_strings(arr: pa.Array, data_type: str, opts: DateOptions) -> Coerced:
    raw = as_strings(arr)
    trimmed = pc.utf8_trim_whitespace(raw)
    missing = missing_strings(trimmed)
    present = pa.array(~missing)
    if data_type == "text":
        # Text keeps its spaces: only blanks and the missing tokens are not text.
        # Only a value of more than 255 bytes can have more than 255 characters.
        too_long = as_mask(pc.greater(pc.binary_length(raw), MAX_TEXT_LENGTH)) & ~missing
        if too_long.any():
            pos = np.flatnonzero(too_long)
            chars = pc.utf8_length(raw.take(pa.array(pos)))
            too_long[pos] = as_mask(pc.greater(chars, MAX_TEXT_LENGTH))
        values = null_where(raw, missing | too_long)
        msg = f"longer than {MAX_TEXT_LENGTH} characters"
        return Coerced(values, missing, _problem(too_long, Reason.TEXT_TOO_LONG, msg))
    body = pc.if_else(present, trimmed, pa.nulls(len(trimmed), pa.string()))
    if data_type == "date":
        return _string_dates(body, missing, opts)
    return _STRING_RULES[data_type](body, missing)


def _string_integers(s: pa.Array, missing: Mask) -> Coerced:
    is_int = as_mask(pc.match_substring_regex(s, _INT_RE))
    is_float = as_mask(pc.match_substring_regex(s, _FLOAT_RE)) & ~is_int
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
            fits = np.array([-INT64_MAX - 1 <= v <= INT64_MAX for v in big], dtype=bool)
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
    thousands = as_mask(pc.match_substring_regex(s, _THOUSANDS_RE)) & rest
    infinite = as_mask(pc.match_substring_regex(s, _INF_RE)) & rest
    other = rest & ~thousands & ~infinite
    return (
        _problem(thousands, Reason.WRONG_TYPE, _THOUSANDS_HINT)
        + _problem(infinite, Reason.NOT_FINITE, "infinity cannot be sent (JSON has no inf)")
        + _problem(other, Reason.WRONG_TYPE, f"not {what}")
    )


def _string_floats(s: pa.Array, missing: Mask) -> Coerced:
    is_num = as_mask(pc.match_substring_regex(s, _FLOAT_RE))
    out = np.zeros(len(s), dtype=np.float64)
    if is_num.any():
        out[is_num] = pc.cast(pc.filter(s, pa.array(is_num)), pa.float64()).to_numpy()
    overflow = is_num & ~np.isfinite(out)  # "1e999"
    problems = _problem(overflow, Reason.NOT_FINITE, "too large for a 64-bit float")
    problems += _non_numeric(s, ~(missing | is_num), "a number")
    return Coerced(pa.array(out, mask=~(is_num & ~overflow)), missing, problems)


def _string_booleans(s: pa.Array, missing: Mask) -> Coerced:
    lowered = pc.utf8_lower(s)
    true = as_mask(pc.is_in(lowered, value_set=pa.array(TRUE_TOKENS)))
    false = as_mask(pc.is_in(lowered, value_set=pa.array(FALSE_TOKENS)))
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
    missing = as_mask(pc.is_null(x, nan_is_null=True)) if is_float else as_mask(pc.is_null(x))
    if data_type == "integer":
        if not is_float:
            too_big = _above_int64(arr)
            values = null_where(pc.cast(arr, pa.int64(), safe=False), too_big)
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
        return Coerced(null_where(values, missing | infinite), missing, problems)
    if data_type == "boolean":
        one = as_mask(pc.equal(x, 1))
        zero = as_mask(pc.equal(x, 0))
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
    return np.asarray(pc.fill_null(arr, 0).to_numpy(zero_copy_only=False) > INT64_MAX, dtype=bool)


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
    missing = as_mask(pc.is_null(arr))
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
    missing = as_mask(pc.is_null(arr))
    if data_type == "date":
        return Coerced(pc.cast(arr, pa.date32()), missing)
    return _reject(arr, missing, data_type, f"a date is not {_ARTICLE[data_type]}")


def _from_timestamps(arr: pa.Array, data_type: str, opts: DateOptions) -> Coerced:
    missing = as_mask(pc.is_null(arr))
    if data_type != "date":
        return _reject(arr, missing, data_type, f"a datetime is not {_ARTICLE[data_type]}")
    # A tz-aware timestamp is judged by its own wall clock: midnight in Paris is that date.
    local = pc.local_timestamp(arr) if arr.type.tz is not None else arr
    days = pc.cast(pc.floor_temporal(local, unit="day"), pa.date32())
    midnight = as_mask(pc.equal(pc.floor_temporal(local, unit="day"), local))
    has_time = ~missing & ~midnight
    if opts.truncate_time:
        return Coerced(days, missing)
    msg = _TIME_HINT
    return Coerced(
        null_where(days, has_time), missing, _problem(has_time, Reason.NOT_LOSSLESS, msg)
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
    missing = as_mask(pc.is_null(arr))
    return _reject(arr, missing, data_type, f"values of type {t} cannot be {_ARTICLE[data_type]}")


# -- object columns mixing Python types --------------------------------------------------------


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
    kinds = kinds_of(objects)
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
