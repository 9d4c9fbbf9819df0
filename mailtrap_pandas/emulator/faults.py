"""Fault injection: answer, drop or fail the next N matching requests or jobs.

Faults are consulted before any other processing (even authentication), so a
test can script an outage precisely. Specs (``POST /_emulator/faults``):

- ``{"method": "POST", "path": "<regex>", "status": 500, "times": 3}`` answer
  with that status in the API's body shape (``"retry_after": S`` adds a
  ``Retry-After`` header, for 429s);
- ``{"method": ..., "path": ..., "drop": true, "times": N}`` close the
  connection without answering, before processing;
- ``{"method": ..., "path": ..., "drop": "after", "times": N}`` process the
  request, then close the connection without answering;
- ``{"method": ..., "path": ..., "before": {"method": "POST", "json": {...}}}``
  another client's request lands just before the matching one: the emulator
  processes the ``before`` request first (same token; its ``path`` defaults to
  the matching request's path), then the matching request as usual. This
  scripts a race between two processes deterministically (e.g. a list created
  by someone else between our ``GET`` of the lists and our ``POST``);
- ``{"import": "fail", "times": N}`` the next N import jobs end ``failed``;
- ``{"job_delay_s": S}`` every job stage takes S seconds.

``method`` and ``path`` are optional (missing = any); ``path`` is a regular
expression searched in the request path; ``times`` defaults to 1.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Literal

from mailtrap_pandas.emulator.errors import Unprocessable

__all__ = ["Fault", "FaultBook", "parse_fault"]

DropMode = Literal["before", "after"] | None


@dataclass
class Fault:
    """One scripted misbehaviour for requests matching ``method`` and ``path``."""

    method: str | None
    path: re.Pattern[str] | None
    times: int
    status: int | None = None
    drop: DropMode = None
    retry_after: float | None = None
    #: Another client's request processed first: ``{"method", "path", "json"}``.
    before: dict[str, Any] | None = None

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is targeted by this fault."""
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or self.path.search(path) is not None

    def describe(self) -> dict[str, Any]:
        """JSON view for ``GET /_emulator/state``."""
        out: dict[str, Any] = {
            "method": self.method,
            "path": None if self.path is None else self.path.pattern,
            "times": self.times,
        }
        if self.status is not None:
            out["status"] = self.status
        if self.drop is not None:
            out["drop"] = True if self.drop == "before" else "after"
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        if self.before is not None:
            out["before"] = self.before
        return out


def _bad(msg: str) -> Unprocessable:
    return Unprocessable({"fault": [msg]})


def parse_fault(spec: dict[str, Any]) -> Fault:
    """Turn a request-fault spec into a :class:`Fault` (422 on nonsense)."""
    method = spec.get("method")
    if method is not None and not isinstance(method, str):
        raise _bad("method must be a string")
    path = spec.get("path")
    try:
        pattern = re.compile(path) if isinstance(path, str) else None
    except re.error as exc:
        raise _bad(f"path is not a valid regular expression: {exc}") from exc
    times = spec.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise _bad("times must be a positive integer")
    drop_raw = spec.get("drop")
    drop: DropMode = None
    if drop_raw is True or drop_raw == "before":
        drop = "before"
    elif drop_raw == "after":
        drop = "after"
    elif drop_raw not in (None, False):
        raise _bad('drop must be true, "before" or "after"')
    before = spec.get("before")
    if before is not None:
        if drop is not None or spec.get("status") is not None:
            raise _bad("before cannot be combined with status or drop")
        if not isinstance(before, dict) or not isinstance(before.get("method", "GET"), str):
            raise _bad('before must be an object like {"method": "POST", "json": {...}}')
        if not isinstance(before.get("path", ""), str):
            raise _bad("before.path must be a string")
    status = spec.get("status")
    if drop is None and before is None:
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise _bad("status must be an integer 400..599 (or use drop)")
    retry_after = spec.get("retry_after")
    if retry_after is not None and (
        not isinstance(retry_after, int | float) or isinstance(retry_after, bool) or retry_after < 0
    ):
        raise _bad("retry_after must be a non-negative number")
    return Fault(
        method=method.upper() if method else None,
        path=pattern,
        times=times,
        status=status if drop is None and before is None else None,
        drop=drop,
        retry_after=None if retry_after is None else float(retry_after),
        before=None if before is None else dict(before),
    )


class FaultBook:
    """Thread-safe list of pending request faults, consumed first-added first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one firing of the first fault matching this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        """The pending faults as JSON."""
        with self._lock:
            return [f.describe() for f in self._faults]
