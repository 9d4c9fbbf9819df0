"""Pure validators shared by the rules: emails, field values, list ids, names.

Each function appends Rails-style messages to an ``errors`` dict
(``{"attr": ["msg", ...]}``) instead of raising, so one request reports every
problem at once, as the real API does.
"""

from __future__ import annotations

import datetime as dt
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


def _check_value(data_type: str, value: Any) -> tuple[bool, str, Any]:
    """Type-check one field value; return (ok, message, normalised value)."""
    if data_type == "text":
        if not isinstance(value, str):
            return False, "is invalid", None
        if len(value) > TEXT_MAX:
            return False, f"is too long (maximum is {TEXT_MAX} characters)", None
        return True, "", value
    if data_type == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool) and INT_MIN <= value <= INT_MAX
        return ok, "is invalid", value
    if data_type == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            ok = False
        return ok, "is invalid", float(value) if ok else None
    if data_type == "boolean":
        return isinstance(value, bool), "is invalid", value
    # date: strictly yyyy-mm-dd and a real calendar day.
    if isinstance(value, str) and _DATE.match(value):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False, "is invalid", None
        return True, "", value
    return False, "is invalid", None


def check_field_values(
    raw: Any, by_tag: Mapping[str, tuple[int, str]], errors: Errors
) -> dict[str, Any]:
    """Validate ``fields`` (merge tag -> value) against the account's fields.

    Returns a dict keyed by the field id as a string; a ``None`` value means
    "clear this field".
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        add(errors, "fields", "must be a hash")
        return {}
    unknown = [str(tag) for tag in raw if tag not in by_tag]
    if unknown:
        add(errors, "fields", "contains invalid values: " + ", ".join(unknown))
    out: dict[str, Any] = {}
    for tag, value in raw.items():
        if tag not in by_tag:
            continue
        fid, data_type = by_tag[tag]
        if value is None:
            out[str(fid)] = None
            continue
        ok, msg, norm = _check_value(data_type, value)
        if ok:
            out[str(fid)] = norm
        else:
            add(errors, tag, msg)
    return out


def check_list_ids(raw: Any, attr: str, known: set[int], errors: Errors) -> list[int]:
    """Validate an array of list ids: integers that name existing lists."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in raw
    ):
        add(errors, attr, "contains invalid data")
        return []
    unknown = sorted({i for i in raw if i not in known})
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
