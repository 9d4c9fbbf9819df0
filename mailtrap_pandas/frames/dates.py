"""Date strings -> calendar dates, vectorized, with pandas' own options.

Accepted without options (unambiguous): year-first forms (``2024-03-01``,
``2024/03/01``, ``2024.03.01``, ``20240301``, ISO date-times) and English
textual months (``01 Nov 2024``, ``1-Nov-2024``, ``Nov 2, 2024``,
``November 2, 2024``). ``03/04/2024`` is day-first in Europe and month-first in
the US: it needs ``dayfirst=True|False`` or a ``date_format``; we never guess.

A value with a time of day is not a date: it is ``not_lossless`` unless
``truncate_time=True``, which keeps the date *as written*, in the value's own
offset (``2024-11-01 23:30:00-05:00`` is 2024-11-01, not the UTC date).

Every form is an RE2 pattern with named groups (``y``, ``m`` or ``mon``, ``d``
and the time parts ``H``, ``M``, ``S``, ``f``) run by Arrow on the rows no
earlier form matched, so a column of ISO dates costs one pass, as before.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mailtrap_pandas.errors import InputError

__all__ = ["DateOptions", "ParsedDates", "date_options", "parse_dates"]

Mask = npt.NDArray[np.bool_]

_TIME = (
    r"(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.(?P<f>[0-9]+))?)?"
    r" ?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_ISO = rf"^(?P<y>[0-9]{{4}})-(?P<m>[0-9]{{1,2}})-(?P<d>[0-9]{{1,2}})(?:[T ]{_TIME})?$"
_MON = r"(?P<mon>[A-Za-z]{3,9})\.?"
_TEXTUAL = (
    # 01 Nov 2024, 1-Nov-2024, 1 November 2024
    rf"^(?P<d>[0-9]{{1,2}})[ -]+{_MON}[ -]+(?P<y>[0-9]{{4}})(?:[T ,]+{_TIME})?$",
    # Nov 2, 2024, November 2 2024, Nov 2nd, 2024
    rf"^{_MON} +(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?,? +(?P<y>[0-9]{{4}})(?:[T ,]+{_TIME})?$",
)
_NUMERIC = rf"^(?P<a>[0-9]{{1,2}})[/.-](?P<b>[0-9]{{1,2}})[/.-](?P<y>[0-9]{{4}})(?:[T ]{_TIME})?$"

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_NAMES = pa.array([*_MONTHS, *(m[:3] for m in _MONTHS), "sept"])
_MONTH_NUMBER = np.array([*range(1, 13), *range(1, 13), 9], dtype=np.int64)

# strftime directive -> RE2 piece (the directives a date column can need).
_DIRECTIVES = {
    "Y": r"(?P<y>[0-9]{4})",
    "y": r"(?P<yy>[0-9]{2})",
    "m": r"(?P<m>[0-9]{1,2})",
    "d": r"(?P<d>[0-9]{1,2})",
    "b": _MON,
    "B": _MON,
    "H": r"(?P<H>[0-9]{1,2})",
    "M": r"(?P<M>[0-9]{2})",
    "S": r"(?P<S>[0-9]{2})",
    "f": r"(?P<f>[0-9]{1,9})",
    "z": r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)",
    "Z": r"[A-Za-z]{1,5}",
    "a": r"[A-Za-z]{2,9}\.?",
    "A": r"[A-Za-z]{2,9}\.?",
    "%": "%",
}
_META = set(".^$*+?()[]{}|\\")


@dataclass(frozen=True)
class DateOptions:
    """How date strings are read (the ``validate`` options of the same names).

    Attributes
    ----------
    truncate_time : bool
        Keep the date of a value that has a time of day (in its own offset)
        instead of rejecting it as ``not_lossless``.
    dayfirst : bool or None
        How to read ``03/04/2024``: ``True`` day first (3 April), ``False``
        month first (4 March), ``None`` (default) reject it as ambiguous.
    date_format : str or None
        A ``strftime`` format (``"%d.%m.%Y"``) tried before the built-in forms.
    """

    truncate_time: bool = False
    dayfirst: bool | None = None
    date_format: str | None = None


def date_options(
    truncate_time: bool = False, dayfirst: bool | None = None, date_format: str | None = None
) -> DateOptions:
    """Check the three date arguments and bundle them; a bad one is an :class:`InputError`.

    Examples
    --------
    >>> date_options(dayfirst=True)
    DateOptions(truncate_time=False, dayfirst=True, date_format=None)
    """
    if not isinstance(truncate_time, bool):
        raise InputError(f"truncate_time must be True or False, not {truncate_time!r}")
    if dayfirst is not None and not isinstance(dayfirst, bool):
        raise InputError(f"dayfirst must be True, False or None, not {dayfirst!r}")
    if date_format is not None:
        if not isinstance(date_format, str):
            raise InputError(f"date_format must be a strftime string, not {date_format!r}")
        _format_regex(date_format)  # a clear error now, not per column
    return DateOptions(truncate_time, dayfirst, date_format)


@functools.lru_cache(maxsize=32)
def _format_regex(fmt: str) -> str:
    """A ``strftime`` format as an anchored RE2 pattern with named groups."""
    out, seen, i = ["^"], set(), 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            code = fmt[i + 1 : i + 2]
            if code not in _DIRECTIVES:
                known = " ".join(f"%{c}" for c in _DIRECTIVES if c != "%")
                raise InputError(
                    f"date_format {fmt!r}: %{code} is not supported; use {known} and literal text"
                )
            group = {"B": "b", "A": "a"}.get(code, code)
            if group in seen and code != "%":
                raise InputError(f"date_format {fmt!r} has %{code} twice")
            seen.add(group)
            out.append(_DIRECTIVES[code])
            i += 2
            continue
        out.append(r"\s+" if ch.isspace() else ("\\" + ch if ch in _META else ch))
        i += 1
    if not ({"Y", "y"} & seen and {"m", "b"} & seen and "d" in seen):
        raise InputError(
            f"date_format {fmt!r} must give a year (%Y), a month (%m or %b) and a day (%d)"
        )
    return "".join(out) + "$"


@dataclass
class ParsedDates:
    """Date strings read: days since 1970-01-01 where ``ok``, and why the others failed.

    ``invalid`` rows look like dates but are not calendar dates; ``has_time``
    rows carry a time of day (kept only with ``truncate_time``);
    ``ambiguous`` rows are ``dd/mm/yyyy`` or ``mm/dd/yyyy`` with no
    ``dayfirst``; ``unparsed`` rows match no form at all.
    """

    days: npt.NDArray[np.int64]
    ok: Mask
    invalid: Mask
    has_time: Mask
    ambiguous: Mask
    unparsed: Mask


def _field(parts: pa.StructArray, name: str) -> pa.Array | None:
    try:
        return parts.field(name)
    except KeyError:
        return None


def _ints(text: pa.Array | None, n: int) -> npt.NDArray[np.int64]:
    if text is None:
        return np.zeros(n, np.int64)
    filled = pc.if_else(pc.equal(text, ""), pa.scalar("0"), text)
    return np.asarray(pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def _month_numbers(names: pa.Array) -> npt.NDArray[np.int64]:
    """English month names or abbreviations -> 1..12 (0 for an unknown name)."""
    idx = pc.index_in(pc.utf8_lower(names), value_set=_MONTH_NAMES)
    pos = np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), np.int64)
    return np.where(pos >= 0, _MONTH_NUMBER[pos], 0)


def _has_time(parts: pa.StructArray) -> Mask:
    """Rows whose time parts are not all zero (``00:00:00.000`` is no time of day)."""
    pieces = [p for p in (_field(parts, k) for k in ("H", "M", "S", "f")) if p is not None]
    if not pieces:
        return np.zeros(len(parts), bool)
    joined = pc.binary_join_element_wise(*pieces, "")
    return np.asarray(
        pc.fill_null(pc.match_substring_regex(joined, "[1-9]"), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )


def civil_days(
    y: npt.NDArray[np.int64], m: npt.NDArray[np.int64], d: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], Mask]:
    """Days since 1970-01-01 of (y, m, d), and whether that calendar date exists."""
    real = (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1)
    months = np.where(real, (y - 1970) * 12 + (m - 1), 0).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    # An explicit unit: numpy 2.5 deprecates adding a bare integer to datetime64.
    length = ((months + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64)
    real &= d <= length
    return first.astype(np.int64) + d - 1, real


def _forms(opts: DateOptions) -> list[tuple[str, str]]:
    """(kind, pattern) in the order they are tried."""
    forms = [("format", _format_regex(opts.date_format))] if opts.date_format else []
    forms += [("iso", _ISO)] + [("textual", p) for p in _TEXTUAL]
    if opts.dayfirst is not None:
        forms.append(("numeric", _NUMERIC))
    return forms


def _bools(arr: pa.Array) -> Mask:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _plain_iso(s: pa.Array, rows: Mask) -> tuple[npt.NDArray[np.int64], ...]:
    """(y, m, d) of the ``rows`` of ``s`` that are exactly ``yyyy-mm-dd``, read from the bytes.

    The common case of a whole column, without a regex extraction: the ten bytes of
    each value are gathered from Arrow's buffers at once.
    """
    offsets = np.frombuffer(s.buffers()[1], dtype=np.int32)[s.offset : s.offset + len(s)]
    data = np.frombuffer(s.buffers()[2], dtype=np.uint8)
    digits = data[offsets[rows][:, None] + np.arange(10)].astype(np.int64) - 48
    y = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    return y, digits[:, 5] * 10 + digits[:, 6], digits[:, 8] * 10 + digits[:, 9]


def parse_dates(s: pa.Array, missing: Mask, opts: DateOptions) -> ParsedDates:
    """Read trimmed date strings (null where missing) by ``opts``.

    Examples
    --------
    >>> s = pa.array(["2024-11-01 13:45:00+02:00", "Nov 2, 2024", "03/04/2024"])
    >>> p = parse_dates(s, np.zeros(3, bool), DateOptions(truncate_time=True))
    >>> p.ok.tolist(), p.ambiguous.tolist()
    ([True, True, False], [False, False, True])
    """
    n = len(s)
    y, m, d = (np.zeros(n, np.int64) for _ in range(3))
    has_time = np.zeros(n, bool)
    matched = np.zeros(n, bool)
    if not opts.date_format:  # a format comes first, even for yyyy-mm-dd
        plain = ~missing & _bools(pc.match_substring_regex(s, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
        if plain.any():
            y[plain], m[plain], d[plain] = _plain_iso(s, plain)
            matched |= plain
    rest = np.flatnonzero(~(matched | missing))
    sub = s.take(pa.array(rest)) if len(rest) else pa.array([], pa.string())
    # Year-first with other separators, and yyyymmdd, become yyyy-mm-dd first.
    sub = pc.replace_substring_regex(
        sub, r"^([0-9]{4})[/.]([0-9]{1,2})[/.]([0-9]{1,2})$", r"\1-\2-\3"
    )
    sub = pc.replace_substring_regex(sub, r"^([0-9]{4})([0-9]{2})([0-9]{2})$", r"\1-\2-\3")
    left = np.ones(len(sub), bool)  # rows of ``sub`` no form matched yet
    for kind, pattern in _forms(opts):
        if not left.any():
            break
        idx = np.flatnonzero(left)
        parts = pc.extract_regex(sub.take(pa.array(idx)), pattern)
        hit = np.asarray(pc.is_valid(parts).to_numpy(zero_copy_only=False), dtype=bool)
        if not hit.any():
            continue
        left[idx[hit]] = False
        at = rest[idx[hit]]
        parts = parts.filter(pa.array(hit))
        year = _field(parts, "y")
        if year is not None:
            y[at] = _ints(year, len(at))
        else:  # %y: two digits, the C library's pivot (69-99 -> 19xx)
            yy = _ints(_field(parts, "yy"), len(at))
            y[at] = np.where(yy < 69, 2000 + yy, 1900 + yy)
        if kind == "numeric":
            a, b = _ints(_field(parts, "a"), len(at)), _ints(_field(parts, "b"), len(at))
            d[at], m[at] = (a, b) if opts.dayfirst else (b, a)
        else:
            names = _field(parts, "mon")
            m[at] = (
                _month_numbers(names) if names is not None else _ints(_field(parts, "m"), len(at))
            )
            d[at] = _ints(_field(parts, "d"), len(at))
        has_time[at] = _has_time(parts)
        matched[at] = True
    days, real = civil_days(y, m, d)
    invalid = matched & ~real
    timed = matched & real & has_time
    ok = matched & real & (~has_time | opts.truncate_time)
    unmatched = ~(matched | missing)
    ambiguous = np.zeros(n, bool)
    if opts.dayfirst is None and left.any():
        idx = np.flatnonzero(left)
        looks = _bools(pc.match_substring_regex(sub.take(pa.array(idx)), _NUMERIC))
        ambiguous[rest[idx[looks]]] = True
    return ParsedDates(
        days=days,
        ok=ok,
        invalid=invalid,
        has_time=timed & ~ok,
        ambiguous=ambiguous,
        unparsed=unmatched & ~ambiguous,
    )
