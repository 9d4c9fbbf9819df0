"""The control API under ``/_emulator/``: reset, seed, state, faults, jobs, export files.

It needs no token and is never rate limited, faulted or counted. Export files
are served here because their URLs stand for the real API's pre-signed
download links: whoever holds the URL may download, without a token.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from mailtrap_pandas.emulator.errors import EmulatorError, NotFound, Unprocessable
from mailtrap_pandas.emulator.faults import FaultBook, parse_fault
from mailtrap_pandas.emulator.jobs import JobRunner
from mailtrap_pandas.emulator.ratelimit import RateLimiter
from mailtrap_pandas.emulator.responses import json_response, parse_body
from mailtrap_pandas.emulator.routes import match
from mailtrap_pandas.emulator.state import Backend

__all__ = ["Control", "Traffic"]

log = logging.getLogger("mailtrap_pandas.emulator")


class Traffic:
    """Thread-safe counters of API requests served and responses by status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.responses: Counter[int] = Counter()

    def count(self, status: int | None) -> None:
        """Count a request as it arrives (``None``) or its response's status."""
        with self._lock:
            if status is None:
                self.requests += 1
            else:
                self.responses[status] += 1

    def snapshot(self) -> tuple[int, dict[str, int]]:
        """``(requests, {status: count})`` for ``GET /_emulator/state``."""
        with self._lock:
            return self.requests, {str(k): n for k, n in sorted(self.responses.items())}

    def clear(self) -> None:
        """Back to zero."""
        with self._lock:
            self.requests = 0
            self.responses.clear()


class Control:
    """The control operations, over HTTP (:meth:`handle`) and as Python methods.

    Parameters
    ----------
    backend, jobs, limiter, faults, traffic
        The pieces of the running emulator that the control API reads and resets.
    """

    def __init__(
        self,
        backend: Backend,
        jobs: JobRunner,
        limiter: RateLimiter,
        faults: FaultBook,
        traffic: Traffic,
    ) -> None:
        self.backend = backend
        self.jobs = jobs
        self.limiter = limiter
        self.faults = faults
        self.traffic = traffic

    def reset(self) -> None:
        """Wipe data, jobs, faults and counters."""
        self.backend.reset()
        self.faults.clear()
        self.limiter.reset()
        self.traffic.clear()

    def state(self) -> dict[str, Any]:
        """Counts and counters (``GET /_emulator/state``)."""
        faults = self.faults.pending()
        requests, responses = self.traffic.snapshot()
        board = self.backend.board
        return {
            **self.backend.counts(),
            "imports_accepted": board.imports_accepted,
            "requests": requests,
            "responses": responses,
            "faults_pending": sum(int(f["times"]) for f in faults) + board.failures_pending,
            "faults": faults,
            "import_failures_pending": board.failures_pending,
            "job_delay_s": board.delay_s,
        }

    def add_fault(self, spec: Any) -> dict[str, Any]:
        """Register a fault spec (see :mod:`mailtrap_pandas.emulator.faults`)."""
        if not isinstance(spec, dict) or not spec:
            raise Unprocessable({"fault": ["must be a JSON object"]})
        if "job_delay_s" in spec:
            delay = spec["job_delay_s"]
            if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
                raise Unprocessable({"job_delay_s": ["must be a non-negative number"]})
            self.backend.board.set_delay(float(delay))
        elif "import" in spec:
            times = spec.get("times", 1)
            if spec["import"] != "fail" or not isinstance(times, int) or times < 1:
                raise Unprocessable({"import": ['must be "fail" with a positive "times"']})
            self.backend.board.add_failures(times)
        else:
            self.faults.add(parse_fault(spec))
        return self.state()

    def clear_faults(self) -> None:
        """Forget request faults, pending import failures and the job delay."""
        self.faults.clear()
        self.backend.board.clear_faults()

    def handle(self, url_map: Map, request: Request) -> Response:
        """Answer a request under ``/_emulator/``."""
        try:
            endpoint, args = match(url_map, request)
            body = parse_body(request, endpoint) if request.method == "POST" else None
            return self._dispatch(endpoint, args, body)
        except EmulatorError as exc:
            return json_response(exc.body, exc.status)
        except Exception:
            log.exception("emulator control error on %s %s", request.method, request.path)
            return json_response({"errors": "Unexpected error"}, 500)

    def _dispatch(self, endpoint: str, args: dict[str, Any], body: Any) -> Response:
        if endpoint == "control.files.get":
            resp = Response(
                self.backend.exports.file(args["name"]), content_type="application/gzip"
            )
            resp.headers["Content-Disposition"] = f'attachment; filename="{args["name"]}"'
            return resp
        if endpoint == "control.reset":
            self.reset()
            return json_response(self.state())
        if endpoint == "control.seed":
            return json_response(self.backend.seed(body), 201)
        if endpoint == "control.state":
            return json_response(self.state())
        if endpoint == "control.faults.add":
            return json_response(self.add_fault(body), 201)
        if endpoint == "control.faults.clear":
            self.clear_faults()
            return json_response(self.state())
        if endpoint == "control.faults.list":
            return json_response(self.faults.pending())
        if endpoint == "control.jobs.advance":
            return json_response({"advanced": self.jobs.advance()})
        raise NotFound()
