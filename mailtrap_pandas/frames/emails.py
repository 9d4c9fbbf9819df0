"""Emails: the syntax accepted, normalization, and THE email key (:func:`email_key`).

Every comparison of emails in the package goes through :func:`email_key` (pandas) or
:attr:`Emails.key` (the same rule on Arrow arrays, during validation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mailtrap_pandas.frames.columns import (
    Mask,
    as_mask,
    as_strings,
    kinds_of,
    missing_strings,
    null_where,
    to_arrow,
)

__all__ = ["EMAIL_PATTERN", "Emails", "email_key", "normalize_emails"]

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


@dataclass
class Emails:
    """An email column: normalized values (null unless valid) and what went wrong."""

    normalized: pa.Array
    key: pa.Array  # case-insensitive comparison key, used for duplicates
    missing: Mask
    invalid: Mask


def _email_syntax(trimmed: pa.Array) -> Mask:
    """Which addresses are well formed (RE2 on Arrow strings).

    The ASCII spelling of the pattern runs first because RE2's Unicode classes
    are ~30x slower; only what it rejects is tried again with the Unicode one.
    """
    ok = as_mask(pc.match_substring_regex(trimmed, _EMAIL_ASCII_RE2))
    retry = ~ok & ~as_mask(pc.string_is_ascii(trimmed))
    if retry.any():
        pos = np.flatnonzero(retry)
        sub = pc.filter(trimmed, pa.array(retry))
        ok[pos] = as_mask(pc.match_substring_regex(sub, _EMAIL_RE2))
    # The length limits (64 before the "@", 254 in all) can only fail an address longer
    # than 64 bytes: check those alone.
    long = np.flatnonzero(ok & as_mask(pc.greater(pc.binary_length(trimmed), 64)))
    if len(long):
        sub = trimmed.take(pa.array(long))
        ok[long] = as_mask(pc.match_substring_regex(sub, r"^[^@]{1,64}@")) & as_mask(
            pc.less_equal(pc.utf8_length(sub), _MAX_EMAIL_LENGTH)
        )
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
        kinds = kinds_of(objects)
        text = np.array([isinstance(v, str) for v in objects], dtype=bool)
        wrong = ~text & (kinds != "missing") & ~pd.isna(objects)
        arr = pa.array([v if t else None for v, t in zip(objects, text, strict=True)], pa.string())
    else:
        wrong = np.zeros(len(arr), bool)
        arr = as_strings(arr)
    trimmed = pc.utf8_trim_whitespace(arr)
    missing = missing_strings(trimmed) & ~wrong
    syntax = _email_syntax(trimmed)
    invalid = ~missing & ~syntax
    # The key is the whole address lower-cased (per character, so lower-casing the
    # domain first changes nothing); ASCII, the common case, lower-cases 30x faster.
    ascii_only = pc.all(pc.string_is_ascii(trimmed)).as_py() is not False
    lowered = pc.ascii_lower(trimmed) if ascii_only else pc.utf8_lower(trimmed)
    # Most addresses are lower case already: only the others are split at the (single,
    # checked) "@" to lower-case the domain alone.
    mixed = np.flatnonzero(syntax & ~as_mask(pc.equal(trimmed, lowered)))
    normalized = trimmed
    if len(mixed):
        halves = pc.split_pattern(trimmed.take(pa.array(mixed)), "@", max_splits=1)
        local, domain = pc.list_element(halves, 0), pc.list_element(halves, 1)
        fixed = pc.binary_join_element_wise(local, pc.utf8_lower(domain), "@")
        mask = np.zeros(len(trimmed), bool)
        mask[mixed] = True
        normalized = pc.replace_with_mask(trimmed, pa.array(mask), fixed)
    return Emails(null_where(normalized, ~syntax), null_where(lowered, ~syntax), missing, invalid)


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
