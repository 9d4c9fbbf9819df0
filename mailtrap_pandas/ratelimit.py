"""The request budget: pace requests *before* the API answers 429.

Mailtrap documents two limits (FACTS.md §4): 200 requests per 60 s per account
for the Contacts API and 150 requests per 10 s per token for everything. No
``Retry-After`` header is documented, so pacing has to happen on our side.

A :class:`RateBudget` holds sliding windows; :meth:`RateBudget.acquire` blocks
until every window has room and then records the request. Budgets are shared
through a process-wide registry keyed by (base URL, account) and (base URL,
token digest), so two ``Client`` objects in one notebook draw from the same
pool, as the server counts them.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["DEFAULT_LIMITS", "RateBudget", "Window", "parse_rate_limit"]


@dataclass(frozen=True)
class Window:
    """At most ``limit`` requests in any ``period`` seconds."""

    limit: int
    period: float
    scope: str = "account"  # "account" or "token": which key the window is shared by

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0:
            raise ValueError(f"a rate window needs limit >= 1 and period > 0, got {self}")


DEFAULT_LIMITS: tuple[Window, ...] = (
    Window(200, 60.0, "account"),
    Window(150, 10.0, "token"),
)


def parse_rate_limit(text: str) -> tuple[Window, ...] | None:
    """Parse ``"200/60"`` (requests/seconds, comma-separated for several) or ``"off"``.

    Examples
    --------
    >>> parse_rate_limit("200/60")
    (Window(limit=200, period=60.0, scope='account'),)
    >>> parse_rate_limit("off") is None
    True
    """
    text = text.strip().lower()
    if text in ("off", "none", "0", "false"):
        return None
    windows = []
    for part in text.split(","):
        try:
            limit, period = part.split("/")
            windows.append(Window(int(limit), float(period)))
        except ValueError as exc:
            raise ValueError(f"rate limit {part!r} is not of the form N/SECONDS or 'off'") from exc
    return tuple(windows)


@dataclass
class _Log:
    """Timestamps of recent requests in one window, guarded by the budget's lock."""

    window: Window
    times: deque[list[float]] = field(default_factory=deque)
    blocked_until: float = 0.0

    def wait_time(self, now: float) -> float:
        cutoff = now - self.window.period
        # Slots are re-stamped when their response arrives, so they are only
        # roughly ordered: prune and rank by value, not by position.
        if self.times and min(slot[0] for slot in self.times) <= cutoff:
            self.times = deque(slot for slot in self.times if slot[0] > cutoff)
        wait = max(0.0, self.blocked_until - now)
        if len(self.times) >= self.window.limit:
            stamps = sorted(slot[0] for slot in self.times)
            wait = max(wait, stamps[len(stamps) - self.window.limit] + self.window.period - now)
        return wait


_REGISTRY: dict[tuple[str, ...], _Log] = {}
_REGISTRY_LOCK = threading.Lock()


class RateBudget:
    """A thread-safe request budget made of one or more sliding windows.

    Parameters
    ----------
    windows : sequence of Window
        The limits to respect; ``()`` means no pacing at all.
    base_url, account_id, token : str
        Keys under which windows are shared process-wide. The token is hashed
        before use and never stored.
    clock, sleep : callables
        Injected for tests.
    """

    def __init__(
        self,
        windows: Sequence[Window] = DEFAULT_LIMITS,
        *,
        base_url: str = "",
        account_id: str = "",
        token: str = "",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        shared: bool = True,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.windows = tuple(windows)
        digest = hashlib.sha256(token.encode()).hexdigest()[:16]
        self._logs: list[_Log] = []
        for w in self.windows:
            key = (
                base_url,
                w.scope,
                account_id if w.scope == "account" else digest,
                str(w.limit),
                str(w.period),
            )
            if not shared:
                self._logs.append(_Log(w))
                continue
            with _REGISTRY_LOCK:
                self._logs.append(_REGISTRY.setdefault(key, _Log(w)))
        # A 429 pause must hold even when no window is configured (pacing off).
        self._blocked_until = 0.0
        self.requests = 0
        self.waited = 0.0

    def __repr__(self) -> str:
        spec = ", ".join(f"{w.limit}/{w.period:g}s per {w.scope}" for w in self.windows)
        return f"RateBudget({spec or 'off'})"

    def acquire(self) -> float:
        """Block until a request may be sent, record it, and return the seconds waited."""
        return self.reserve()[1]

    def reserve(self) -> tuple[list[float], float]:
        """Like :meth:`acquire`, and also return the request's slot for :meth:`settle`."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = max([self._blocked_until - now] + [log.wait_time(now) for log in self._logs])
                if wait <= 0:
                    slot = [now]
                    for log in self._logs:
                        log.times.append(slot)
                    self.requests += 1
                    self.waited += waited
                    return slot, waited
            self._sleep(wait)
            waited += wait

    def settle(self, slot: list[float]) -> None:
        """Re-stamp a request's slot when its response arrives.

        The server counts a request when it arrives, which is after we sent it;
        counting from the response (which comes later still) keeps our windows
        at least as conservative as the server's, even when latencies vary.
        """
        with self._lock:
            slot[0] = max(slot[0], self._clock())

    def penalize(self, seconds: float) -> None:
        """After a 429: send nothing more on any window for ``seconds``."""
        with self._lock:
            until = self._clock() + seconds
            self._blocked_until = max(self._blocked_until, until)
            for log in self._logs:
                log.blocked_until = max(log.blocked_until, until)

    def seconds_for(self, n_requests: int) -> float:
        """Lower bound of the time ``n_requests`` more requests need under this budget.

        Used by progress bars to give an ETA that knows the pacing.
        """
        if n_requests <= 0 or not self.windows:
            return 0.0
        return max(max(0, (n_requests - w.limit)) / w.limit * w.period for w in self.windows)
