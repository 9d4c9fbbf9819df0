"""In-memory job controls shared by the import/export rules, the job runner and the faults."""

from __future__ import annotations

import threading

__all__ = ["JobBoard"]


class JobBoard:
    """What jobs need beyond the store: a wake-up signal and the scripted job faults.

    Every attribute is read and written under :attr:`changed` (a condition the
    job runner waits on), so a new job, a new delay or a reset wakes it at once.

    Parameters
    ----------
    delay_s
        Seconds each job stage takes.
    """

    def __init__(self, delay_s: float = 0.0) -> None:
        self.changed = threading.Condition()
        self.delay_s = float(delay_s)
        #: The next N import jobs end ``failed`` (the ``{"import": "fail"}`` fault).
        self.failures_pending = 0
        #: Import requests accepted since the last reset (``GET /_emulator/state``).
        self.imports_accepted = 0

    def set_delay(self, delay_s: float) -> None:
        """Make every job stage take ``delay_s`` seconds from now on."""
        with self.changed:
            self.delay_s = float(delay_s)
            self.changed.notify_all()

    def add_failures(self, times: int) -> None:
        """Let the next ``times`` import jobs fail."""
        with self.changed:
            self.failures_pending += times

    def take_failure(self) -> bool:
        """Consume one pending import failure, if any (call while holding :attr:`changed`)."""
        if self.failures_pending > 0:
            self.failures_pending -= 1
            return True
        return False

    def clear_faults(self) -> None:
        """Forget pending import failures and the job delay."""
        with self.changed:
            self.failures_pending = 0
            self.delay_s = 0.0
            self.changed.notify_all()

    def reset(self) -> None:
        """Job faults and counters back to a fresh emulator's (the delay too)."""
        with self.changed:
            self.failures_pending = 0
            self.delay_s = 0.0
            self.imports_accepted = 0
            self.changed.notify_all()

    def notify(self) -> None:
        """Wake the job runner (a job was created, or it should stop)."""
        with self.changed:
            self.changed.notify_all()
