from __future__ import annotations

import gc
import hashlib
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from mailtrap_pandas import Client
from mailtrap_pandas.api.ratelimit import (
    DEFAULT_LIMITS,
    RateBudget,
    SharedSlots,
    Window,
    _close_rate_files,
    parse_rate_limit,
)


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


# -- what each window is keyed by --------------------------------------------------------


def test_two_tokens_of_one_account_share_the_account_window_only() -> None:
    clock = FakeClock()
    windows = [Window(2, 10.0, "account"), Window(1, 10.0, "token")]
    kw = {"base_url": "u-two-tokens", "account_id": "7", "clock": clock, "sleep": clock.sleep}
    a = RateBudget(windows, token="token-a", **kw)  # type: ignore[arg-type]
    b = RateBudget(windows, token="token-b", **kw)  # type: ignore[arg-type]
    c = RateBudget(windows, token="token-c", **kw)  # type: ignore[arg-type]
    assert a.acquire() == 0.0
    assert b.acquire() == 0.0  # its own token window is empty; the account has room for 2
    assert c.acquire() == pytest.approx(10.0)  # the account window is full


def test_one_token_on_two_accounts_shares_the_token_window_only() -> None:
    clock = FakeClock()
    windows = [Window(1, 10.0, "account"), Window(1, 10.0, "token")]
    kw = {"base_url": "u-two-accounts", "clock": clock, "sleep": clock.sleep}
    a = RateBudget(windows, token="t", account_id="1", **kw)  # type: ignore[arg-type]
    b = RateBudget(windows, token="t", account_id="2", **kw)  # type: ignore[arg-type]
    c = RateBudget(windows, token="u", account_id="3", **kw)  # type: ignore[arg-type]
    assert a.acquire() == 0.0
    assert c.acquire() == 0.0  # another token, another account: nothing shared
    assert b.acquire() == pytest.approx(10.0)  # the token's window holds a's request


def test_budgets_with_different_windows_or_keys_stay_apart() -> None:
    clock = FakeClock()
    kw = {"clock": clock, "sleep": clock.sleep, "token": "t"}
    budgets = [
        RateBudget([Window(1, 10.0)], base_url="u-apart", account_id="1", **kw),  # type: ignore[arg-type]
        RateBudget([Window(1, 20.0)], base_url="u-apart", account_id="1", **kw),  # type: ignore[arg-type]
        RateBudget([Window(2, 10.0)], base_url="u-apart", account_id="1", **kw),  # type: ignore[arg-type]
        RateBudget([Window(1, 10.0)], base_url="u-apart", account_id="2", **kw),  # type: ignore[arg-type]
        RateBudget([Window(1, 10.0)], base_url="u-apart-2", account_id="1", **kw),  # type: ignore[arg-type]
        RateBudget([Window(1, 10.0, "token")], base_url="u-apart", account_id="1", **kw),  # type: ignore[arg-type]
    ]
    assert [b.acquire() for b in budgets] == [0.0] * len(budgets)
    assert clock.slept == []


def test_unshared_budgets_never_meet_in_the_registry() -> None:
    clock = FakeClock()
    kw = {"base_url": "u-unshared", "account_id": "1", "clock": clock, "sleep": clock.sleep}
    a = RateBudget([Window(1, 10.0)], shared=False, **kw)  # type: ignore[arg-type]
    b = RateBudget([Window(1, 10.0)], shared=False, **kw)  # type: ignore[arg-type]
    assert (a.acquire(), b.acquire()) == (0.0, 0.0)


# -- waiting -------------------------------------------------------------------------------


def test_settle_counts_a_request_from_its_response() -> None:
    clock = FakeClock()
    b = budget(clock, Window(1, 10.0))
    slot, waited = b.reserve()
    assert waited == 0.0
    clock.now += 4.0  # the answer arrives 4 s after sending
    b.settle(slot)
    assert b.acquire() == pytest.approx(10.0)  # 10 s from the answer, not from the send
    assert clock.now == pytest.approx(1014.0)


def test_settle_never_moves_a_slot_back() -> None:
    clock = FakeClock()
    b = budget(clock, Window(1, 10.0))
    slot, _ = b.reserve()
    clock.now -= 3.0  # a clock read before the send (another thread's stale reading)
    b.settle(slot)
    clock.now += 3.0
    assert b.acquire() == pytest.approx(10.0)


def test_waits_add_up_when_another_client_takes_the_freed_slot() -> None:
    clock = FakeClock()
    kw = {"base_url": "u-race", "account_id": "1", "clock": clock}
    first = RateBudget([Window(1, 10.0)], sleep=clock.sleep, **kw)  # type: ignore[arg-type]
    stolen = []

    def sleep_then_lose_the_race(seconds: float) -> None:
        clock.sleep(seconds)
        if not stolen:  # while this one slept, the other client took the slot
            stolen.append(first.acquire())

    second = RateBudget([Window(1, 10.0)], sleep=sleep_then_lose_the_race, **kw)  # type: ignore[arg-type]
    first.acquire()
    assert second.acquire() == pytest.approx(20.0)
    assert stolen == [0.0]
    assert (second.waited, second.requests) == (pytest.approx(20.0), 1)
    assert (first.waited, first.requests) == (0.0, 2)


def test_waited_is_the_total_of_every_acquire() -> None:
    clock = FakeClock()
    b = budget(clock, Window(1, 10.0))
    for _ in range(3):
        b.acquire()
    assert b.waited == pytest.approx(20.0) and b.requests == 3


def test_a_429_pause_holds_even_with_pacing_off_and_never_shrinks() -> None:
    clock = FakeClock()
    b = budget(clock)
    b.penalize(5.0)
    b.penalize(2.0)  # a shorter pause later does not shorten the first
    assert b.acquire() == pytest.approx(5.0)
    assert b.acquire() == 0.0


def test_the_window_frees_exactly_one_period_after_the_oldest_request() -> None:
    clock = FakeClock()
    b = budget(clock, Window(2, 10.0))
    b.acquire()
    clock.now += 4.0
    b.acquire()
    assert b.acquire() == pytest.approx(6.0)  # the first leaves at 1010
    assert b.acquire() == pytest.approx(4.0)  # the second at 1014


# -- the rate file, in one process ---------------------------------------------------------


def test_rate_file_budget_waits_out_a_429_pause(tmp_path: Path) -> None:
    # Wall-clock time: the rate file is shared between processes, which share no clock.
    b = RateBudget(
        [Window(100, 60.0)], base_url="u-file-pause", account_id="1", shared_file=tmp_path / "r"
    )
    b.penalize(0.2)
    slot, waited = b.reserve()
    assert waited > 0.1  # it slept the pause out rather than sending during it
    assert slot[0] == "file" and len(slot[1]) == 1
    b.settle(slot)
    assert (b.requests, b.waited) == (1, waited)


def test_rate_file_budget_waits_for_room_in_the_file(tmp_path: Path) -> None:
    kw = {"base_url": "u-file-room", "account_id": "1", "shared_file": tmp_path / "r"}
    a = RateBudget([Window(1, 0.3)], **kw)  # type: ignore[arg-type]
    b = RateBudget([Window(1, 0.3)], shared=False, **kw)  # type: ignore[arg-type]
    assert a.acquire() == 0.0
    assert b.acquire() > 0.0  # the file's slot of the other budget held it back
    assert b.requests == 1 and b.waited > 0.0


# -- arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "period"), [(0, 1.0), (-1, 1.0), (1, 0.0), (1, -2.0)])
def test_window_refuses_a_limit_below_one_or_a_period_not_above_zero(
    limit: int, period: float
) -> None:
    with pytest.raises(ValueError, match=r"limit >= 1 and period > 0"):
        Window(limit, period)


def test_smallest_window_is_allowed() -> None:
    assert Window(1, 0.001).limit == 1


def test_parse_every_spelling_of_off_and_the_error() -> None:
    for off in ("off", " None ", "0", "FALSE"):
        assert parse_rate_limit(off) is None
    assert parse_rate_limit(" 5/1 ") == (Window(5, 1.0),)
    with pytest.raises(ValueError) as info:
        parse_rate_limit("5/1,10")
    assert str(info.value) == "rate limit '10' is not of the form N/SECONDS or 'off'"
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(ValueError, match="'0/5'"):
        parse_rate_limit("0/5")


def test_repr_names_every_window() -> None:
    b = RateBudget(DEFAULT_LIMITS, shared=False)
    assert repr(b) == "RateBudget(200/60s per account, 150/10s per token)"
    assert repr(RateBudget((), shared=False)) == "RateBudget(off)"


def test_eta_is_the_slowest_window() -> None:
    b = RateBudget([Window(10, 1.0), Window(100, 60.0)], shared=False)
    assert b.seconds_for(0) == 0.0 and b.seconds_for(-5) == 0.0
    assert b.seconds_for(10) == 0.0
    assert b.seconds_for(30) == pytest.approx(2.0)
    assert b.seconds_for(300) == pytest.approx(120.0)


def test_settle_re_stamps_every_window_of_a_request_in_the_file(tmp_path: Path) -> None:
    with SharedSlots(tmp_path / "r.sqlite") as slots:
        windows = [("account", Window(1, 10.0)), ("token", Window(1, 10.0))]
        wait, ids = slots.take(windows, 100.0)
        assert wait == 0.0 and len(ids) == 2
        slots.settle(ids, 105.0)
        for key, window in windows:  # both slots now count from 105: they leave at 115
            assert slots.take([(key, window)], 112.0) == (3.0, [])
        assert slots.take(windows, 115.0)[0] == 0.0


def test_the_rate_file_is_the_given_file_in_wal_mode_with_a_minute_for_locks(
    tmp_path: Path,
) -> None:
    with SharedSlots(tmp_path / "r.sqlite") as slots:
        slots.take([("k", Window(1, 10.0))], 100.0)
        # The slot is in the given file (what another process opens), not somewhere else.
        other = sqlite3.connect(tmp_path / "r.sqlite")
        try:
            assert other.execute("SELECT key, t FROM slots").fetchall() == [("k", 100.0)]
        finally:
            other.close()
        assert slots._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # Many processes queue on the file's lock: SQLite's default 5 s would fail them at once.
        assert slots._db.execute("PRAGMA busy_timeout").fetchone()[0] == 60_000


def test_a_rate_file_budget_is_usable_from_other_threads(tmp_path: Path) -> None:
    b = RateBudget([Window(100, 60.0)], base_url="u-file-threads", shared_file=tmp_path / "r")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            b.settle(b.reserve()[0])
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and b.requests == 3


def test_a_rate_file_budget_never_sleeps_a_zero_pause(tmp_path: Path) -> None:
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        assert seconds > 0, "slept 0 s: with this clock, that would loop for ever"
        clock.sleep(seconds)

    b = RateBudget(
        [Window(100, 60.0)],
        base_url="u-file-zero",
        clock=clock,
        sleep=sleep,
        shared_file=tmp_path / "r",
    )
    b.penalize(0.0)
    assert b.acquire() == 0.0 and clock.slept == []


def test_a_second_429_during_the_pause_adds_to_the_wait(tmp_path: Path) -> None:
    second: list[float] = []

    def sleep(seconds: float) -> None:
        time.sleep(seconds)
        if not second:  # another request of this client met a 429 meanwhile
            second.append(seconds)
            b.penalize(0.2)

    b = RateBudget(
        [Window(100, 60.0)], base_url="u-file-twice", sleep=sleep, shared_file=tmp_path / "r"
    )
    b.penalize(0.2)
    waited = b.acquire()
    assert waited > 0.3  # both pauses, one after the other
    assert b.waited == waited


def test_a_failed_take_rolls_back_and_leaves_the_file_usable(tmp_path: Path) -> None:
    with SharedSlots(tmp_path / "r.sqlite") as slots:
        with pytest.raises(ValueError):
            slots.take([], 100.0)  # no window: fails inside the transaction
        assert slots.take([("k", Window(1, 10.0))], 100.0)[0] == 0.0  # no transaction left open


def test_a_rate_file_budget_adds_up_its_waits(tmp_path: Path) -> None:
    kw = {"base_url": "u-file-sum", "account_id": "1", "shared_file": tmp_path / "r"}
    other = RateBudget([Window(1, 1.0)], **kw)  # type: ignore[arg-type]
    taken: list[float] = []

    def sleep_then_lose_the_race(seconds: float) -> None:
        time.sleep(seconds)
        if not taken:  # the other client takes the slot that just came free
            taken.append(other.acquire())

    b = RateBudget([Window(1, 1.0)], shared=False, sleep=sleep_then_lose_the_race, **kw)  # type: ignore[arg-type]
    other.acquire()
    waited = b.acquire()
    assert waited > 1.5  # two waits of about a second each
    assert b.acquire() > 0.5  # and a third: b.waited is the total of both calls
    assert b.waited > waited + 0.5 and b.requests == 2


def test_a_rate_file_budget_sleeps_its_own_pause_by_its_own_clock(tmp_path: Path) -> None:
    clock = FakeClock()

    def sleep(seconds: float) -> None:  # the wall clock must move too: the file uses it
        time.sleep(seconds)
        clock.sleep(seconds)

    b = RateBudget(
        [Window(100, 60.0)],
        base_url="u-file-own",
        clock=clock,
        sleep=sleep,
        shared_file=tmp_path / "r",
    )
    b.penalize(0.3)
    b.acquire()
    # One sleep of exactly the pause, measured by the budget's clock; the file's copy of the
    # pause (wall-clock) has passed by then, so it adds no second sleep.
    assert clock.slept == [pytest.approx(0.3, abs=1e-9)]


def closed(slots: SharedSlots) -> bool:
    try:
        slots.take([("probe", Window(1_000, 1.0))], 0.0)
    except sqlite3.ProgrammingError:  # "Cannot operate on a closed database."
        return True
    return False


def test_budgets_on_one_rate_file_share_a_connection_the_last_one_closes(tmp_path: Path) -> None:
    path = tmp_path / "rate.sqlite"
    a = RateBudget([Window(5, 1.0)], shared_file=path)
    b = RateBudget([Window(5, 1.0)], shared_file=path)
    slots = a._file
    assert slots is not None and b._file is slots  # one connection per file and process
    a.close()
    a.close()  # twice is harmless and does not count b out
    assert not closed(slots)
    b.acquire()
    b.close()
    assert closed(slots)
    b.acquire()  # a closed budget opens the file again when it is used
    b.close()


def test_a_budget_nobody_closes_gives_its_connection_back_when_collected(tmp_path: Path) -> None:
    lost = RateBudget([Window(5, 1.0)], shared_file=tmp_path / "lost.sqlite")
    slots = lost._file
    assert slots is not None
    del lost
    gc.collect()
    # The collector only notes it (it may run while the registry is locked); the next
    # open settles it, and closes the file: no unclosed connection left for Python 3.13.
    RateBudget([Window(5, 1.0)], shared_file=tmp_path / "other.sqlite").close()
    assert closed(slots)


def test_closing_a_client_closes_its_rate_file(tmp_path: Path) -> None:
    client = Client(
        "t", account_id=1, base_url="http://127.0.0.1:9", rate_limit_file=tmp_path / "r.sqlite"
    )
    slots = client.budget._file
    assert slots is not None
    with client:
        pass
    assert closed(slots)


def test_pacing_off_with_a_rate_file_opens_no_file_and_closes_cleanly(tmp_path: Path) -> None:
    b = RateBudget((), base_url="u-off-file", shared_file=tmp_path / "r")
    assert b.acquire() == 0.0 and b.requests == 1
    assert not (tmp_path / "r").exists()  # no window to share: nothing to write
    b.close()
    RateBudget([Window(1, 1.0)], shared=False).close()  # no file at all: nothing to close


def test_a_new_budget_holds_no_pause_even_when_its_clock_starts_at_zero() -> None:
    clock = FakeClock()
    clock.now = 0.0  # an injected clock may start anywhere: nothing is blocked before a 429
    b = RateBudget((), clock=clock, sleep=clock.sleep, shared=False)
    assert b.acquire() == 0.0 and clock.slept == []


def test_the_rate_file_keys_are_url_scope_account_or_token_digest_limit_and_period(
    tmp_path: Path,
) -> None:
    # Processes (of any version of the package) find each other's slots and pauses in the
    # file by these keys; the token appears only as the first 16 hex digits of its SHA-256.
    path = tmp_path / "r.sqlite"
    b = RateBudget(
        DEFAULT_LIMITS, base_url="https://x", account_id="7", token="tok", shared_file=path
    )
    b.acquire()
    b.penalize(5.0)
    b.close()
    digest = hashlib.sha256(b"tok").hexdigest()[:16]
    other = sqlite3.connect(path)
    try:
        slots = sorted(key for (key,) in other.execute("SELECT key FROM slots"))
        pauses = sorted(key for (key,) in other.execute("SELECT key FROM pauses"))
    finally:
        other.close()
    assert slots == ["https://x|account|7|200|60.0", f"https://x|token|{digest}|150|10.0"]
    assert pauses == ["https://x|account|7", f"https://x|token|{digest}"]


def test_a_budget_collected_after_the_exit_handler_does_not_keep_others_open(
    tmp_path: Path,
) -> None:
    # The exit handler closes every rate file; a budget collected after it leaves a key
    # nobody holds any more. Settling skips it, and still closes what was collected with it.
    early = RateBudget([Window(5, 1.0)], shared_file=tmp_path / "early.sqlite")
    _close_rate_files()
    late = RateBudget([Window(5, 1.0)], shared_file=tmp_path / "late.sqlite")
    slots = late._file
    assert slots is not None
    del late
    gc.collect()
    del early  # collected last, so settled first
    gc.collect()
    following = RateBudget([Window(5, 1.0)], shared_file=tmp_path / "next.sqlite")  # settles
    assert closed(slots)
    following.close()
