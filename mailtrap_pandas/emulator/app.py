"""The emulator's HTTP layer: a werkzeug WSGI app that only parses and serialises.

Routes exist twice, once per path style: ``/api/accounts/<account_id>/contacts…``
(account-scoped) and ``/api/contacts…`` (token-scoped, acting on the token's
account), plus ``GET /api/accounts``. The control API lives under
``/_emulator/`` and needs no token.

Order of processing for an API request: injected fault → route → token (401)
→ account in the path (403) → rate limit (429) → the rule → response.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from mailtrap_pandas.emulator.errors import (
    EmulatorError,
    Forbidden,
    ImportUnprocessable,
    NotFound,
    RateLimited,
    Unprocessable,
)
from mailtrap_pandas.emulator.errors import body_for_status as fault_error
from mailtrap_pandas.emulator.faults import FaultBook, parse_fault
from mailtrap_pandas.emulator.jobs import JobRunner
from mailtrap_pandas.emulator.ratelimit import RateLimiter, Verdict
from mailtrap_pandas.emulator.state import Backend

__all__ = ["EmulatorApp"]

log = logging.getLogger("mailtrap_pandas.emulator")

JSON_TYPE = "application/json; charset=utf-8"
INT64_MAX = 2**63 - 1
Handler = Callable[..., Response]


class _Dropped(ConnectionAbortedError):
    """Raised after shutting the socket down: werkzeug treats it as a dropped connection."""


def _routes() -> Map:
    sub = [
        ("", "contacts.create", ["POST"]),
        ("/exports", "exports.create", ["POST"]),
        ("/exports/<int:export_id>", "exports.get", ["GET"]),
        ("/imports", "imports.create", ["POST"]),
        ("/imports/<int:import_id>", "imports.get", ["GET"]),
        ("/lists", "lists.index", ["GET"]),
        ("/lists", "lists.create", ["POST"]),
        ("/lists/<int:list_id>", "lists.get", ["GET"]),
        ("/lists/<int:list_id>", "lists.update", ["PATCH"]),
        ("/lists/<int:list_id>", "lists.delete", ["DELETE"]),
        ("/fields", "fields.index", ["GET"]),
        ("/fields", "fields.create", ["POST"]),
        ("/fields/<int:field_id>", "fields.get", ["GET"]),
        ("/fields/<int:field_id>", "fields.update", ["PATCH"]),
        ("/fields/<int:field_id>", "fields.delete", ["DELETE"]),
        # Static segments above win over this variable one (werkzeug sorts them first).
        ("/<ident>", "contacts.get", ["GET"]),
        ("/<ident>", "contacts.update", ["PATCH"]),
        ("/<ident>", "contacts.delete", ["DELETE"]),
        ("/<ident>/events", "events.create", ["POST"]),
    ]
    rules = [Rule("/api/accounts", endpoint="accounts.index", methods=["GET"])]
    for prefix in ("/api/accounts/<int:account_id>/contacts", "/api/contacts"):
        rules += [Rule(prefix + path, endpoint=ep, methods=m) for path, ep, m in sub]
    control = [
        ("/_emulator/reset", "reset", ["POST"]),
        ("/_emulator/seed", "seed", ["POST"]),
        ("/_emulator/state", "state", ["GET"]),
        ("/_emulator/faults", "faults.add", ["POST"]),
        ("/_emulator/faults", "faults.clear", ["DELETE"]),
        ("/_emulator/faults", "faults.list", ["GET"]),
        ("/_emulator/jobs/advance", "jobs.advance", ["POST"]),
        ("/_emulator/files/<name>", "files.get", ["GET"]),
    ]
    rules += [Rule(path, endpoint="control." + ep, methods=m) for path, ep, m in control]
    # merge_slashes/strict_slashes off: never answer an API call with a redirect.
    return Map(rules, merge_slashes=False, strict_slashes=False)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, content_type=JSON_TYPE)


def _empty(status: int = 204) -> Response:
    resp = Response(b"", status=status)
    resp.headers["Content-Type"] = JSON_TYPE
    return resp


def _token(request: Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    api_token = request.headers.get("Api-Token")
    return api_token.strip() if api_token else None


class EmulatorApp:
    """WSGI application plus the control operations behind ``/_emulator/``.

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
        self.jobs = jobs
        self.limiter = limiter
        self.faults = FaultBook()
        self.url_map = _routes()
        self._stats_lock = threading.Lock()
        self.requests = 0
        self.responses: Counter[int] = Counter()

    # ------------------------------------------------------------ control ops
    def reset(self) -> None:
        """Wipe data, jobs, faults and counters."""
        self.backend.reset()
        self.faults.clear()
        self.limiter.reset()
        with self._stats_lock:
            self.requests = 0
            self.responses.clear()

    def state(self) -> dict[str, Any]:
        """Counts and counters (``GET /_emulator/state``)."""
        faults = self.faults.pending()
        with self._stats_lock:
            responses = {str(k): n for k, n in sorted(self.responses.items())}
            requests = self.requests
        return {
            **self.backend.counts(),
            "imports_accepted": self.backend.imports_accepted,
            "requests": requests,
            "responses": responses,
            "faults_pending": sum(int(f["times"]) for f in faults)
            + self.backend.import_failures_pending,
            "faults": faults,
            "import_failures_pending": self.backend.import_failures_pending,
            "job_delay_s": self.backend.job_delay_s,
        }

    def add_fault(self, spec: Any) -> dict[str, Any]:
        """Register a fault spec (see :mod:`mailtrap_pandas.emulator.faults`)."""
        if not isinstance(spec, dict) or not spec:
            raise Unprocessable({"fault": ["must be a JSON object"]})
        if "job_delay_s" in spec:
            delay = spec["job_delay_s"]
            if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
                raise Unprocessable({"job_delay_s": ["must be a non-negative number"]})
            with self.backend.jobs_changed:
                self.backend.job_delay_s = float(delay)
                self.backend.jobs_changed.notify_all()
        elif "import" in spec:
            times = spec.get("times", 1)
            if spec["import"] != "fail" or not isinstance(times, int) or times < 1:
                raise Unprocessable({"import": ['must be "fail" with a positive "times"']})
            with self.backend.jobs_changed:
                self.backend.import_failures_pending += times
        else:
            self.faults.add(parse_fault(spec))
        return self.state()

    def clear_faults(self) -> None:
        """Forget request faults, pending import failures and the job delay."""
        self.faults.clear()
        with self.backend.jobs_changed:
            self.backend.import_failures_pending = 0
            self.backend.job_delay_s = 0.0
            self.backend.jobs_changed.notify_all()

    def _count(self, status: int | None) -> None:
        with self._stats_lock:
            if status is None:
                self.requests += 1
            else:
                self.responses[status] += 1

    # ------------------------------------------------------------------- WSGI
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path.startswith("/_emulator/"):
            response = self._control(request)
        else:
            response = self._api(request, environ)
        return response(environ, start_response)

    @staticmethod
    def _drop(request: Request, environ: dict[str, Any]) -> None:
        """Close the connection without an answer (the client sees a connection error)."""
        sock = environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise _Dropped("connection dropped by an injected fault")

    def _api(self, request: Request, environ: dict[str, Any]) -> Response:
        self._count(None)
        fault = self.faults.take(request.method, request.path)
        if fault is not None and fault.drop == "before":
            request.get_data()  # read the body so the client is not mid-send
            self._drop(request, environ)
        verdict: Verdict | None = None
        token = _token(request)
        try:
            if fault is not None and fault.status is not None:
                raise fault_error(fault.status, fault.retry_after)
            endpoint, args = self._match(request)
            acct = self.backend.authenticate(token)
            path_acct = args.pop("account_id", None)
            if path_acct is not None:
                if path_acct != acct and not self.backend.can_access(token or "", path_acct):
                    raise Forbidden()
                acct = path_acct
            verdict = self.limiter.check(acct, token or "")
            if not verdict.allowed:
                raise RateLimited()
            response = self._dispatch(endpoint, request, acct, args)
        except EmulatorError as exc:
            response = _json(exc.body, exc.status)
            for k, val in exc.headers.items():
                response.headers[k] = val
        except Exception:  # never let a bug look like a dropped connection
            log.exception("emulator error on %s %s", request.method, request.path)
            response = _json({"errors": "Unexpected error"}, 500)
        response.headers["X-Mailtrap-Version"] = "v2"
        if self.limiter.limits:
            if verdict is None:  # answered before the limiter: report without counting
                verdict = self.limiter.check(self.backend.account_id, token or "", record=False)
            response.headers["X-Ratelimit-Limit"] = str(verdict.limit)
            response.headers["X-Ratelimit-Remaining"] = str(verdict.remaining)
        response.headers["Cache-Control"] = (
            "max-age=0, private, must-revalidate" if response.status_code < 400 else "no-cache"
        )
        self._count(response.status_code)
        if fault is not None and fault.drop == "after":
            self._drop(request, environ)
        return response

    def _match(self, request: Request) -> tuple[str, dict[str, Any]]:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException as exc:
            raise NotFound() from exc
        for key in ("list_id", "field_id", "import_id", "export_id"):
            # Ids beyond int64 cannot exist (and would overflow SQLite).
            if key in args and args[key] > INT64_MAX:
                raise NotFound()
        return str(endpoint), dict(args)

    @staticmethod
    def _body(request: Request, endpoint: str) -> Any:
        raw = request.get_data()
        if not raw.strip():
            return None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            msg = "request body is not valid JSON"
            if endpoint == "imports.create":
                raise ImportUnprocessable([{"email": "", "errors": {"base": [msg]}}]) from exc
            raise Unprocessable({"base": [msg]}) from exc

    def _dispatch(
        self, endpoint: str, request: Request, acct: int, args: dict[str, Any]
    ) -> Response:
        b = self.backend
        if endpoint == "accounts.index":
            return _json(b.list_accounts(acct))
        body = self._body(request, endpoint) if request.method in ("POST", "PATCH") else None
        ident = args.get("ident", "")
        if endpoint == "contacts.create":
            return _json({"data": b.create_contact(acct, body)}, 201)
        if endpoint == "contacts.get":
            return _json({"data": b.get_contact(acct, ident)})
        if endpoint == "contacts.update":
            action, data = b.upsert_contact(acct, ident, body)
            return _json({"action": action, "data": data})
        if endpoint == "contacts.delete":
            b.delete_contact(acct, ident)
            return _empty()
        if endpoint == "events.create":
            return _json(b.create_event(acct, ident, body), 201)
        if endpoint == "imports.create":
            return _json(b.create_import(acct, body), 201)
        if endpoint == "imports.get":
            return _json(b.get_import(acct, args["import_id"]))
        if endpoint in ("exports.create", "exports.get"):
            if endpoint == "exports.create":
                export = b.create_export(acct, body)
                status = 201
            else:
                export = b.get_export(acct, args["export_id"])
                status = 200
            if export["url"]:
                export["url"] = request.host_url.rstrip("/") + export["url"]
            return _json(export, status)
        if endpoint == "lists.index":
            return _json(b.list_lists(acct, request.args.get("search")))
        if endpoint == "lists.create":
            return _json(b.create_list(acct, body), 200)  # 200, sic (SPEC)
        if endpoint == "lists.get":
            return _json(b.get_list(acct, args["list_id"]))
        if endpoint == "lists.update":
            return _json(b.update_list(acct, args["list_id"], body))
        if endpoint == "lists.delete":
            b.delete_list(acct, args["list_id"])
            return _empty()
        if endpoint == "fields.index":
            return _json(b.list_fields(acct))
        if endpoint == "fields.create":
            return _json(b.create_field(acct, body), 201)
        if endpoint == "fields.get":
            return _json(b.get_field(acct, args["field_id"]))
        if endpoint == "fields.update":
            return _json(b.update_field(acct, args["field_id"], body))
        if endpoint == "fields.delete":
            b.delete_field(acct, args["field_id"])
            return _empty()
        raise NotFound()

    # ---------------------------------------------------------------- control
    def _control(self, request: Request) -> Response:
        try:
            endpoint, args = self._match(request)
            body = self._body(request, endpoint) if request.method == "POST" else None
            if endpoint == "control.files.get":
                data = self.backend.get_file(args["name"])
                resp = Response(data, content_type="application/gzip")
                resp.headers["Content-Disposition"] = f'attachment; filename="{args["name"]}"'
                return resp
            if endpoint == "control.reset":
                self.reset()
                return _json(self.state())
            if endpoint == "control.seed":
                return _json(self.backend.seed(body), 201)
            if endpoint == "control.state":
                return _json(self.state())
            if endpoint == "control.faults.add":
                return _json(self.add_fault(body), 201)
            if endpoint == "control.faults.clear":
                self.clear_faults()
                return _json(self.state())
            if endpoint == "control.faults.list":
                return _json(self.faults.pending())
            if endpoint == "control.jobs.advance":
                return _json({"advanced": self.jobs.advance()})
            raise NotFound()
        except EmulatorError as exc:
            return _json(exc.body, exc.status)
        except Exception:
            log.exception("emulator control error on %s %s", request.method, request.path)
            return _json({"errors": "Unexpected error"}, 500)
