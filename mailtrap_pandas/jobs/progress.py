"""The one progress bar of the package: ``tqdm``, aware of the rate budget, silent when off.

Imports count rows and jobs with a paced ETA, events count rows, an export says what it waits
for. All three are this class; nothing else in the package creates a tqdm bar.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from mailtrap_pandas.api.ratelimit import RateBudget

__all__ = ["Progress"]

log = logging.getLogger(__name__)


def _make_bar(**kwargs: Any) -> Any:
    """A tqdm bar: the notebook widget when ipywidgets is there, else plain text on stderr.

    ``tqdm.auto`` without ipywidgets warns in every notebook cell, so choose here.
    """
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm.std import tqdm
    # Fractional counts ("0.00/50.0") read badly: scale units only for big totals.
    total = kwargs.get("total")
    kwargs.setdefault("unit_scale", total is None or total >= 10_000)
    return tqdm(**kwargs)


class Progress:
    """Rows done, jobs finished, an ETA from the request budget, or a status line.

    Parameters
    ----------
    enabled : bool
        ``False`` prints nothing at all (no bar object is created).
    total : int, optional
        Rows expected (unknown for some streams).
    budget : RateBudget, optional
        Used for the ETA: the pacing makes the remaining requests take at least
        ``budget.seconds_for(n)`` seconds.
    desc : str
        Label of the bar (never contains the token: it is fixed text).
    unit : str
        What is counted.
    spinner : bool
        No count at all: a label and the elapsed time (:meth:`say` changes the label).
    logger : logging.Logger, optional
        Where :meth:`say` logs (at INFO); the caller's module logger, so that
        messages are filed under the job that says them.
    """

    def __init__(
        self,
        enabled: bool,
        total: int | None,
        budget: RateBudget | None = None,
        desc: str = "import",
        *,
        unit: str = "row",
        spinner: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        self._budget = budget
        self._log = logger or log
        self._bar: Any = None
        self.jobs_done = 0
        self.jobs_total = 0
        if enabled:
            extra: dict[str, Any] = (
                {"bar_format": "{desc} [{elapsed}]", "leave": False}
                if spinner
                else {"unit": unit, "leave": True}
            )
            self._bar = _make_bar(total=total, desc=desc, **extra)

    def update(self, rows: int = 1) -> None:
        """``rows`` more rows are done."""
        if self._bar is not None:
            self._bar.update(rows)

    def submitted(self, rows: int) -> None:
        """``rows`` more rows were sent in a new job."""
        self.jobs_total += 1
        self.update(rows)
        self._postfix()

    def skipped(self, rows: int) -> None:
        """``rows`` rows will never be sent (rejected, duplicates, match mode): count them done."""
        self.update(rows)

    def finished(self, n: int = 1) -> None:
        """``n`` more jobs reached a final status."""
        self.jobs_done += n
        self._postfix()

    def waiting(self, requests_left: int) -> None:
        """Show the budget's lower bound on the time the remaining requests take."""
        self._postfix(requests_left)

    def announce(self, text: str) -> None:
        """Print a line above the bar that stays (and log it): what is about to happen."""
        self._log.info(text)
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)

    def say(self, text: str) -> None:
        """Show (and log) what is happening now."""
        self._log.info(text)
        if self._bar is not None:
            self._bar.set_description_str(text, refresh=True)

    def set_postfix(self, info: dict[str, Any]) -> None:
        """Show ``key=value`` pairs after the bar."""
        if self._bar is not None:
            self._bar.set_postfix(info)

    def _postfix(self, requests_left: int | None = None) -> None:
        if self._bar is None:
            return
        info = {"jobs": f"{self.jobs_done}/{self.jobs_total}"} if self.jobs_total else {}
        if requests_left and self._budget is not None:
            info["paced_eta"] = f"{self._budget.seconds_for(requests_left):.0f}s"
        self._bar.set_postfix(info, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        """Finish the bar (no-op when disabled)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
