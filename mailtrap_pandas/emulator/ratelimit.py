"""Sliding-window rate limits as Mailtrap documents them (FACTS.md §4).

By default 200 requests per 60 s per account and 150 per 10 s per token.
Requests rejected with 429 are not counted, so a client that backs off
recovers after one window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["DEFAULT_RATE_LIMIT", "Limit", "RateLimiter", "Verdict"]

Limit = tuple[int, float, str]  # (limit, period seconds, scope "account" | "token")
DEFAULT_RATE_LIMIT: tuple[Limit, ...] = ((200, 60.0, "account"), (150, 10.0, "token"))


@dataclass(frozen=True)
class Verdict:
    """Outcome of one check: allowed or not, and what the headers should say."""

    allowed: bool
    limit: int
    remaining: int


class RateLimiter:
    """Count requests per (scope, key) in sliding windows.

    Parameters
    ----------
    limits
        ``(limit, period_s, scope)`` tuples; empty or ``None`` disables limiting.
    clock
        Monotonic clock (injectable for tests).
    """

    def __init__(
        self, limits: Sequence[Limit] | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits: tuple[Limit, ...] = tuple(limits or ())
        for limit, period, scope in self.limits:
            if limit < 1 or period <= 0 or scope not in ("account", "token"):
                raise ValueError(f"bad rate limit window {(limit, period, scope)!r}")
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[tuple[int, str], deque[float]] = {}

    def reset(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._hits.clear()

    def _header_index(self) -> int:
        # The real headers reflect the per-token window (FACTS.md §4).
        for i, (_, _, scope) in enumerate(self.limits):
            if scope == "token":
                return i
        return 0

    def check(self, account_id: int, token: str, *, record: bool = True) -> Verdict:
        """Record a request if every window has room; report the header values.

        With ``record=False`` nothing is recorded (for the headers of a response
        that never reached the limiter, e.g. a 401).
        """
        if not self.limits:
            return Verdict(True, 0, 0)
        now = self._clock()
        with self._lock:
            logs: list[deque[float]] = []
            for i, (_, period, scope) in enumerate(self.limits):
                key = (i, str(account_id) if scope == "account" else token)
                log = self._hits.setdefault(key, deque())
                while log and log[0] <= now - period:
                    log.popleft()
                logs.append(log)
            allowed = all(
                len(log) < lim for log, (lim, _, _) in zip(logs, self.limits, strict=True)
            )
            if allowed and record:
                for log in logs:
                    log.append(now)
            h = self._header_index()
            lim = self.limits[h][0]
            return Verdict(allowed, lim, max(0, lim - len(logs[h])))
