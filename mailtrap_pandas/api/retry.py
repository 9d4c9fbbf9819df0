"""The one retry policy, as small pure functions (no I/O, randomness injected).

Three policies say what may be repeated:

``"idempotent"``
    GET, PATCH upserts, DELETE: repeating changes nothing, so 429, 5xx and any
    connection failure are retried.
``"answered"``
    POSTs that create jobs or objects (imports, exports, lists, fields,
    contacts): retried after 429 and 5xx *answers* (the server answered that it
    did not do it) and after connection failures that happened before
    anything was sent; never after a connection dropped mid-exchange, where
    the server may have acted.
``"unsent"``
    Custom events, which the API cannot de-duplicate: retried after 429 and
    before-send connection failures only. A 5xx may mean the event was
    recorded, so it is not repeated.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

__all__ = ["Policy", "backoff", "retry_after_seconds", "should_retry"]

Policy = Literal["idempotent", "answered", "unsent"]

BASE_DELAY = 0.5
MAX_DELAY = 30.0


def should_retry(
    policy: Policy, status: int | None, *, sent: bool, attempt: int, max_retries: int
) -> bool:
    """Whether to repeat a request that got ``status`` (``None``: no response).

    Examples
    --------
    >>> should_retry("unsent", 500, sent=True, attempt=0, max_retries=3)
    False
    >>> should_retry("answered", 503, sent=True, attempt=0, max_retries=3)
    True
    >>> should_retry("answered", None, sent=True, attempt=0, max_retries=3)
    False
    """
    if attempt >= max_retries:
        return False
    if status == 429:
        return True
    if status is None:
        return policy == "idempotent" or not sent
    if status >= 500:
        return policy in ("idempotent", "answered")
    return False


def backoff(attempt: int, *, rng: random.Random, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): full jitter, capped.

    A server's ``Retry-After`` is honoured as a floor.
    """
    ceiling = min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1))
    delay = rng.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header (delay-seconds or an HTTP date).

    Examples
    --------
    >>> retry_after_seconds("2")
    2.0
    >>> retry_after_seconds(None) is None
    True
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
