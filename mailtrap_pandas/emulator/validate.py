"""Pure validators shared by the rules: emails, field values, list ids, names.

Each function appends Rails-style messages to an ``errors`` dict
(``{"attr": ["msg", ...]}``) instead of raising, so one request reports every
problem at once, as the real API does.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "DATA_TYPES",
    "Errors",
    "add",
    "check_email",
    "check_field_values",
    "check_list_ids",
    "check_name",
    "to_sentence",
]

Errors = dict[str, list[str]]

DATA_TYPES = ("text", "integer", "float", "boolean", "date")
TEXT_MAX = 255
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
# Simple and predictable: one @, no whitespace, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.][^@\s]*\.[^@\s.]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def add(errors: Errors, attr: str, msg: str) -> None:
    """Append ``msg`` under ``attr`` unless it is already there."""
    bucket = errors.setdefault(attr, [])
    if msg not in bucket:
        bucket.append(msg)


def to_sentence(items: Iterable[object]) -> str:
    """Join like Rails' ``to_sentence``: ``1``, ``1 and 2``, ``1, 2 and 3``."""
    words = [str(i) for i in items]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def check_email(value: Any, errors: Errors) -> str | None:
    """Validate an email; return it stripped of surrounding whitespace, or None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        add(errors, "email", "can't be blank")
        return None
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        add(errors, "email", "is invalid")
        return None
    return value.strip()


def check_name(value: Any, attr: str, max_len: int, errors: Errors) -> str | None:
    """Validate a required string (list/field name, merge tag, event name)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        add(errors, attr, "can't be blank")
        if value is None:
            add(errors, attr, "must be a string")
        return None
    if not isinstance(value, str):
        add(errors, attr, "must be a string")
        return None
    if len(value) > max_len:
        add(errors, attr, f"is too long (maximum is {max_len} characters)")
        return None
    return value


@functools.lru_cache(maxsize=65536)
def _is_date(value: str) -> bool:
    """``yyyy-mm-dd`` and a real calendar day (cached: imports repeat dates a lot)."""
    if not _DATE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_value(data_type: str, value: Any) -> tuple[bool, str, Any]:
    """Type-check one field value; return (ok, message, normalised value).

    ``type(x) is int`` (not isinstance) keeps ``True``/``False`` out of numbers.
    """
    kind = type(value)
    if data_type == "text":
        if kind is not str:
            return False, "is invalid", None
        if len(value) > TEXT_MAX:
            return False, f"is too long (maximum is {TEXT_MAX} characters)", None
        return True, "", value
    if data_type == "integer":
        ok = kind is int and INT_MIN <= value <= INT_MAX
        return ok, "is invalid", value
    if data_type == "float":
        if kind is int:
            return True, "", float(value)
        ok = kind is float and math.isfinite(value)
        return ok, "is invalid", value
    if data_type == "boolean":
        return kind is bool, "is invalid", value
    if kind is str and _is_date(value):
        return True, "", value
    return False, "is invalid", None


def check_field_values(
    raw: Any, by_tag: Mapping[str, tuple[str, str]], errors: Errors
) -> dict[str, Any]:
    """Validate ``fields`` (merge tag -> value) against the account's fields.

    ``by_tag`` maps merge tag -> (field id as a string, data type). Returns a
    dict keyed by the field id as a string; a ``None`` value means
    "clear this field".
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        add(errors, "fields", "must be a hash")
        return {}
    unknown = raw.keys() - by_tag.keys()
    if unknown:
        listed = ", ".join(str(tag) for tag in raw if tag in unknown)
        add(errors, "fields", "contains invalid values: " + listed)
    out: dict[str, Any] = {}
    for tag, value in raw.items():
        spec = by_tag.get(tag)
        if spec is None:
            continue
        if value is None:
            out[spec[0]] = None
            continue
        ok, msg, norm = _check_value(spec[1], value)
        if ok:
            out[spec[0]] = norm
        else:
            add(errors, tag, msg)
    return out


def check_list_ids(raw: Any, attr: str, known: set[int], errors: Errors) -> list[int]:
    """Validate an array of list ids: integers that name existing lists."""
    if raw is None:
        return []
    if type(raw) is not list or any(type(i) is not int for i in raw):
        add(errors, attr, "contains invalid data")
        return []
    unknown = sorted(set(raw) - known)
    if unknown:
        add(errors, attr, "contains invalid values: " + ", ".join(map(str, unknown)))
    return sorted(set(raw))


def check_overlap(included: list[int], excluded: list[int], errors: Errors) -> None:
    """Reject a list id that is both included and excluded."""
    both = sorted(set(included) & set(excluded))
    if both:
        add(
            errors,
            "base",
            f"same list_ids {to_sentence(both)} are specified both as included and excluded",
        )
