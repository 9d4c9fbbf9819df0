"""The emulator's HTTP layer: a werkzeug WSGI app that only parses and serialises.

The routes are in :mod:`mailtrap_pandas.emulator.routes`, one handler per API
endpoint in :mod:`mailtrap_pandas.emulator.responses`, and the ``/_emulator/``
control API in :mod:`mailtrap_pandas.emulator.control`.

Order of processing for an API request: injected fault → token (401) → route
(404) → account in the path (403) → rate limit (429) → the rule → response.
The token is checked before anything is looked up, so a caller without the
right token learns nothing (not even which routes or ids exist), as with the
real API.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from mailtrap_pandas.emulator.control import Control, Traffic
from mailtrap_pandas.emulator.errors import EmulatorError, Forbidden, NotFound, RateLimited
from mailtrap_pandas.emulator.errors import body_for_status as fault_error
from mailtrap_pandas.emulator.faults import Fault, FaultBook
from mailtrap_pandas.emulator.jobs import JobRunner
from mailtrap_pandas.emulator.ratelimit import RateLimiter, Verdict
from mailtrap_pandas.emulator.responses import HANDLERS, Call, json_response, parse_body
from mailtrap_pandas.emulator.routes import match, route_map
from mailtrap_pandas.emulator.state import Backend

__all__ = ["EmulatorApp"]

log = logging.getLogger("mailtrap_pandas.emulator")

_AUTH_HEADERS = ("Authorization", "Api-Token")


class _Dropped(ConnectionAbortedError):
    """Raised after shutting the socket down: werkzeug treats it as a dropped connection."""


def _token(request: Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    api_token = request.headers.get("Api-Token")
    return api_token.strip() if api_token else None


def _drop(environ: dict[str, Any]) -> None:
    """Close the connection without an answer (the client sees a connection error)."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise _Dropped("connection dropped by an injected fault")


class EmulatorApp:
    """WSGI application: the API (token, limits, faults) and the control API.

    Parameters
    ----------
    backend
        State and rules.
    jobs
        The job runner (for ``POST /_emulator/jobs/advance``).
    limiter
        Rate limiting for API requests.
    """

    def __init__(self, backend: Backend, jobs: JobRunner, limiter: RateLimiter) -> None:
        self.backend = backend
        self.limiter = limiter
        self.faults = FaultBook()
        self.traffic = Traffic()
        self.control = Control(backend, jobs, limiter, self.faults, self.traffic)
        self.url_map = route_map()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path.startswith("/_emulator/"):
            response = self.control.handle(self.url_map, request)
        else:
            response = self._api(request, environ)
        return response(environ, start_response)

    def _api(self, request: Request, environ: dict[str, Any]) -> Response:
        """An API request, with whatever fault was scripted for it."""
        self.traffic.count(None)
        fault = self.faults.take(request.method, request.path)
        if fault is not None and fault.drop == "before":
            request.get_data()  # read the body so the client is not mid-send
            _drop(environ)
        if fault is not None and fault.before is not None:
            self._interleave(request, fault.before)
        response = self._answer(request, fault)
        self.traffic.count(response.status_code)
        if fault is not None and fault.drop == "after":
            _drop(environ)
        return response

    def _interleave(self, request: Request, spec: dict[str, Any]) -> None:
        """Process another client's request (``spec``) now, as if it had landed first.

        It carries the same token, is counted and rate limited like any request,
        but never meets a fault (it cannot consume or trigger one meant for ours).
        """
        headers = [(k, v) for k, v in request.headers.items() if k in _AUTH_HEADERS]
        builder = EnvironBuilder(
            path=spec.get("path") or request.path,
            method=str(spec.get("method", "GET")).upper(),
            headers=headers,
            json=spec.get("json"),
        )
        try:
            other = Request(builder.get_environ())
        finally:
            builder.close()
        self.traffic.count(None)
        # Its answer goes to that other client: only its effect on the state matters.
        self.traffic.count(self._answer(other, None).status_code)

    def _answer(self, request: Request, fault: Fault | None) -> Response:
        token = _token(request)
        verdict: Verdict | None = None
        try:
            if fault is not None and fault.status is not None:
                raise fault_error(fault.status, fault.retry_after)
            acct = self.backend.accounts.authenticate(token)  # before any lookup
            endpoint, args = match(self.url_map, request)
            path_acct = args.pop("account_id", None)
            if path_acct is not None:
                if path_acct != acct and not self.backend.accounts.can_access(
                    token or "", path_acct
                ):
                    raise Forbidden()
                acct = path_acct
            verdict = self.limiter.check(acct, token or "")
            if not verdict.allowed:
                raise RateLimited()
            response = self._dispatch(endpoint, request, acct, args)
        except EmulatorError as exc:
            response = json_response(exc.body, exc.status)
            for k, val in exc.headers.items():
                response.headers[k] = val
        except Exception:  # never let a bug look like a dropped connection
            log.exception("emulator error on %s %s", request.method, request.path)
            response = json_response({"errors": "Unexpected error"}, 500)
        self._common_headers(response, verdict, token)
        return response

    def _dispatch(
        self, endpoint: str, request: Request, acct: int, args: dict[str, Any]
    ) -> Response:
        handler = HANDLERS.get(endpoint)
        if handler is None:  # a control route reached through an API path: impossible today
            raise NotFound()
        body = parse_body(request, endpoint) if request.method in ("POST", "PATCH") else None
        return handler(Call(self.backend, request, acct, args, body))

    def _common_headers(
        self, response: Response, verdict: Verdict | None, token: str | None
    ) -> None:
        response.headers["X-Mailtrap-Version"] = "v2"
        if self.limiter.limits:
            if verdict is None:  # answered before the limiter: report without counting
                verdict = self.limiter.check(self.backend.account_id, token or "", record=False)
            response.headers["X-Ratelimit-Limit"] = str(verdict.limit)
            response.headers["X-Ratelimit-Remaining"] = str(verdict.remaining)
        response.headers["Cache-Control"] = (
            "max-age=0, private, must-revalidate" if response.status_code < 400 else "no-cache"
        )
