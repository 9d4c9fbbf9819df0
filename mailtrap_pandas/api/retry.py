"""The one retry policy, as small pure functions, and the one wait loop of the package.

Waiting is done in exactly one place: :func:`wait_until` (polling import and export jobs,
waiting for an export slot, retrying a download) sleeps between the calls of a step, with the
delays of :func:`delays` and an optional deadline. ``Client.request`` is the one *retry*
authority for API requests: it asks :func:`should_retry` and sleeps :func:`backoff`.

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
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal, TypeVar

__all__ = [
    "Policy",
    "backoff",
    "delays",
    "retry_after_seconds",
    "should_retry",
    "wait_until",
]

T = TypeVar("T")

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


def delays(
    first: float, *, factor: float, cap: float, rng: random.Random | None = None
) -> Iterator[float]:
    """Waits that grow: ``first``, x``factor``, ... capped at ``cap``.

    With an ``rng`` each wait is jittered by +-10 % so that clients drift apart.

    Examples
    --------
    >>> from itertools import islice
    >>> list(islice(delays(1.0, factor=2, cap=5.0), 5))
    [1.0, 2.0, 4.0, 5.0, 5.0]
    """
    delay = first
    while True:
        yield delay * rng.uniform(0.9, 1.1) if rng is not None else delay
        delay = min(delay * factor, cap)


def wait_until(
    step: Callable[[], T | None],
    *,
    waits: Iterator[float],
    sleep: Callable[[float], None] = time.sleep,
    deadline: float | None = None,
    on_timeout: Callable[[], Exception] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """THE wait loop: call ``step`` until it returns a value, sleeping the next wait between.

    Parameters
    ----------
    step : callable
        Does one round of work (a poll, an attempt); ``None`` means "not yet".
    waits : iterator of float
        Seconds to sleep after each ``None`` (e.g. :func:`delays`).
    sleep, clock : callable
        Injectable for tests.
    deadline : float, optional
        A ``clock()`` time after which no more sleeping happens: ``on_timeout()`` is raised.

    Examples
    --------
    >>> answers = iter([None, None, "done"])
    >>> slept = []
    >>> wait_until(lambda: next(answers), waits=iter([1.0, 2.0]), sleep=slept.append)
    'done'
    >>> slept
    [1.0, 2.0]
    """
    while True:
        value = step()
        if value is not None:
            return value
        pause = next(waits)
        if deadline is not None:
            left = deadline - clock()
            if left <= 0:
                raise (on_timeout or TimeoutError)()
            pause = min(pause, left)
        sleep(pause)
