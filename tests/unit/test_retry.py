from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import islice

import pytest

from mailtrap_pandas.api.retry import (
    MAX_DELAY,
    backoff,
    delays,
    retry_after_seconds,
    should_retry,
    wait_until,
)


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


class _Bounds(random.Random):
    """A Random that records the range each draw was asked for and returns its top."""

    def __init__(self) -> None:
        super().__init__(0)
        self.asked: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.asked.append((a, b))
        return b


def test_backoff_doubles_from_half_a_second_with_the_lower_half_cut_off() -> None:
    rng = _Bounds()
    assert [backoff(a, rng=rng) for a in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert rng.asked == [(0.25, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, 4.0)]
    backoff(20, rng=rng)
    assert rng.asked[-1] == (MAX_DELAY / 2, MAX_DELAY)


def test_retry_after_http_date_without_a_zone_is_taken_as_utc() -> None:
    # RFC 5322's "-0000" zone parses to a naive datetime: it must be read as UTC, not crash.
    future = datetime.now(UTC) + timedelta(seconds=30)
    naive = future.strftime("%a, %d %b %Y %H:%M:%S -0000")
    parsed = retry_after_seconds(naive)
    assert parsed is not None and 25 < parsed <= 30


def test_retry_after_http_date_in_the_past_means_now() -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    assert retry_after_seconds(format_datetime(past, usegmt=True)) == 0.0
    assert retry_after_seconds("0") == 0.0
    assert retry_after_seconds("  ") is None


def test_delays_grow_by_the_factor_up_to_the_cap() -> None:
    assert list(islice(delays(0.5, factor=3, cap=10.0), 5)) == [0.5, 1.5, 4.5, 10.0, 10.0]


def test_delays_are_jittered_within_ten_percent() -> None:
    rng = _Bounds()
    assert list(islice(delays(2.0, factor=2, cap=4.0, rng=rng), 3)) == [2.2, 4.4, 4.4]
    assert rng.asked == [(0.9, 1.1)] * 3


def test_wait_until_returns_the_first_value_without_sleeping() -> None:
    slept: list[float] = []
    assert wait_until(lambda: 0, waits=iter([]), sleep=slept.append) == 0
    assert slept == []


def test_wait_until_stops_at_the_deadline_and_never_oversleeps_it() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    class Late(Exception):
        pass

    with pytest.raises(Late):
        wait_until(
            lambda: None,
            waits=iter([2.0, 2.0, 2.0]),
            sleep=sleep,
            deadline=103.0,
            on_timeout=Late,
            clock=lambda: now[0],
        )
    assert slept == [2.0, 1.0]  # the second wait is cut to what is left before the deadline


def test_wait_until_raises_timeout_error_by_default() -> None:
    with pytest.raises(TimeoutError):
        wait_until(
            lambda: None, waits=iter([1.0]), sleep=lambda s: None, deadline=0.0, clock=lambda: 5.0
        )
