from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from mailtrap_pandas.api.retry import MAX_DELAY, backoff, retry_after_seconds, should_retry


@pytest.mark.parametrize(
    ("policy", "status", "sent", "expected"),
    [
        ("idempotent", 429, True, True),
        ("idempotent", 500, True, True),
        ("idempotent", None, True, True),
        ("idempotent", 404, True, False),
        ("idempotent", 422, True, False),
        ("answered", 429, True, True),
        ("answered", 502, True, True),
        ("answered", None, False, True),
        ("answered", None, True, False),  # dropped mid-exchange: the server may have acted
        ("unsent", 429, True, True),
        ("unsent", 500, True, False),  # an event may have been recorded
        ("unsent", None, True, False),
        ("unsent", None, False, True),
    ],
)
def test_policy_table(policy: str, status: int | None, sent: bool, expected: bool) -> None:
    assert should_retry(policy, status, sent=sent, attempt=0, max_retries=3) is expected  # type: ignore[arg-type]


def test_no_retry_once_attempts_are_spent() -> None:
    assert not should_retry("idempotent", 429, sent=True, attempt=3, max_retries=3)


def test_backoff_is_jittered_growing_and_capped() -> None:
    rng = random.Random(7)
    delays = [backoff(a, rng=rng) for a in range(1, 12)]
    assert all(0 < d <= MAX_DELAY for d in delays)
    assert delays[0] <= 0.5 < delays[4]
    assert len(set(delays)) == len(delays)


def test_retry_after_is_a_floor() -> None:
    assert backoff(1, rng=random.Random(0), retry_after=7.0) == 7.0


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds("soon") is None
    future = datetime.now(UTC) + timedelta(seconds=30)
    parsed = retry_after_seconds(format_datetime(future, usegmt=True))
    assert parsed is not None and 25 < parsed <= 30
