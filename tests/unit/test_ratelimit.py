from __future__ import annotations

import threading

import pytest

from mailtrap_pandas.api.ratelimit import RateBudget, Window, parse_rate_limit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def budget(clock: FakeClock, *windows: Window) -> RateBudget:
    return RateBudget(windows, clock=clock, sleep=clock.sleep, shared=False)


def test_paces_before_the_limit() -> None:
    clock = FakeClock()
    b = budget(clock, Window(3, 10.0))
    for _ in range(3):
        assert b.acquire() == 0.0
    assert b.acquire() == pytest.approx(10.0)
    assert clock.now == pytest.approx(1010.0)


def test_every_window_is_respected() -> None:
    clock = FakeClock()
    b = budget(clock, Window(200, 60.0), Window(5, 1.0, "token"))
    for _ in range(20):
        b.acquire()
    # 20 requests at 5 per second: at least 3 seconds of waiting
    assert clock.now - 1000.0 >= 3.0
    assert b.requests == 20


def test_sliding_window_never_exceeds_limit() -> None:
    clock = FakeClock()
    b = budget(clock, Window(10, 5.0))
    stamps = []
    for i in range(55):
        b.acquire()
        stamps.append(clock.now)
        clock.now += 0.13 * (i % 3)
    for t in stamps:
        assert sum(1 for s in stamps if t <= s < t + 5.0) <= 10


def test_penalize_blocks_everyone() -> None:
    clock = FakeClock()
    b = budget(clock, Window(100, 60.0))
    b.penalize(4.0)
    assert b.acquire() == pytest.approx(4.0)


def test_off_means_no_waiting_and_eta() -> None:
    clock = FakeClock()
    b = budget(clock)
    for _ in range(1000):
        b.acquire()
    assert clock.slept == []
    assert b.seconds_for(500) == 0.0
    paced = budget(clock, Window(200, 60.0))
    assert paced.seconds_for(100) == 0.0
    assert paced.seconds_for(600) == pytest.approx(120.0)


def test_shared_between_budgets_with_same_key() -> None:
    clock = FakeClock()
    kw = {"base_url": "u-shared-test", "account_id": "1", "clock": clock, "sleep": clock.sleep}
    a = RateBudget([Window(2, 10.0)], **kw)  # type: ignore[arg-type]
    b = RateBudget([Window(2, 10.0)], **kw)  # type: ignore[arg-type]
    a.acquire()
    b.acquire()
    assert a.acquire() == pytest.approx(10.0)


def test_thread_safety_counts_every_request() -> None:
    b = RateBudget([Window(100_000, 60.0)], shared=False)
    threads = [threading.Thread(target=lambda: [b.acquire() for _ in range(500)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.requests == 4000


def test_parse() -> None:
    assert parse_rate_limit("200/60") == (Window(200, 60.0),)
    assert parse_rate_limit("OFF") is None
    assert parse_rate_limit("5/1,100/60") == (Window(5, 1.0), Window(100, 60.0))
    with pytest.raises(ValueError, match="N/SECONDS"):
        parse_rate_limit("fast")
