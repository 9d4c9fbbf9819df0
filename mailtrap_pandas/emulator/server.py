"""Run the emulator: :class:`Emulator` (threaded, in-process) and :func:`serve` (CLI)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mailtrap_pandas.emulator.app import EmulatorApp
from mailtrap_pandas.emulator.errors import EmulatorError
from mailtrap_pandas.emulator.jobs import JobPolicy, JobRunner
from mailtrap_pandas.emulator.ratelimit import DEFAULT_RATE_LIMIT, Limit, RateLimiter
from mailtrap_pandas.emulator.state import Backend
from mailtrap_pandas.emulator.store import Store

if TYPE_CHECKING:
    from mailtrap_pandas.api.client import Client

__all__ = ["DEFAULT", "Emulator", "serve"]


class _Default:
    """Sentinel type: "use the documented rate limits"."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the emulator runs inside tests and notebooks."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _limits(rate_limit: Any) -> tuple[Limit, ...] | None:
    if rate_limit is DEFAULT:
        return DEFAULT_RATE_LIMIT
    if rate_limit is None:
        return None
    out: list[Limit] = []
    for item in rate_limit:
        # Accept (limit, period[, scope]) tuples and mailtrap_pandas.api.ratelimit.Window.
        if hasattr(item, "limit"):
            out.append((int(item.limit), float(item.period), str(item.scope)))
        else:
            limit, period, *rest = item
            out.append((int(limit), float(period), str(rest[0]) if rest else "account"))
    return tuple(out) or None


class Emulator:
    """A local Mailtrap Contacts API on a free port, for tests, demos and notebooks.

    Parameters
    ----------
    host, port
        Where to listen; ``port=0`` picks a free port.
    db
        SQLite file to persist state in; ``None`` keeps it in memory.
    token
        The API token the emulator accepts (default ``"emulator-token"``).
    account_id
        The one account the token opens.
    rate_limit
        ``DEFAULT`` (200 / 60 s per account and 150 / 10 s per token), ``None``
        (off), or ``(limit, period_s, scope)`` tuples, scope ``"account"`` or
        ``"token"``.
    max_contacts
        Account contact quota (``None``: unlimited).
    job_delay_s
        Seconds each import/export job stage takes.
    job_policy
        ``"auto"`` (a worker thread) or ``"manual"`` (jobs move only on
        :meth:`advance_jobs`).

    Examples
    --------
    >>> with Emulator(rate_limit=None) as emu:
    ...     client = emu.client()
    ...     client.lists.create("Newsletter")["name"]
    'Newsletter'
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str | Path | None = None,
        token: str = "emulator-token",
        account_id: int = 1000001,
        rate_limit: Any = DEFAULT,
        max_contacts: int | None = None,
        job_delay_s: float = 0.0,
        job_policy: JobPolicy = "auto",
    ) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.account_id = int(account_id)
        self.rate_limit = _limits(rate_limit)
        self.store = Store(db)
        self.backend = Backend(
            self.store,
            account_id=self.account_id,
            token=token,
            max_contacts=max_contacts,
            job_delay_s=job_delay_s,
        )
        self.jobs = JobRunner(self.backend, job_policy)
        self.app = EmulatorApp(self.backend, self.jobs, RateLimiter(self.rate_limit))
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # --------------------------------------------------------------- lifecycle
    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:53211`` (valid once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Emulator:
        """Start serving in a daemon thread; returns ``self``."""
        if self._server is not None:
            return self
        server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler
        )
        # Request threads must not keep the interpreter alive (ThreadingMixIn attribute).
        server.daemon_threads = True  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever, name="mailtrap-emulator-http", daemon=True
        )
        self._thread.start()
        self.jobs.start()
        return self

    def stop(self) -> None:
        """Stop the server and the job worker and close the database."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.jobs.stop()
        self.store.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r}, account_id={self.account_id})"

    # ----------------------------------------------------------------- control
    def reset(self) -> None:
        """Wipe contacts, lists, fields, jobs, faults and counters."""
        self.app.control.reset()

    def seed(
        self,
        *,
        fields: Sequence[dict[str, Any]] = (),
        lists: Sequence[dict[str, Any]] = (),
        contacts: Sequence[dict[str, Any]] = (),
    ) -> dict[str, Any]:
        """Create fields, lists and contacts directly (no HTTP, no rate limit).

        Parameters
        ----------
        fields
            ``{"name", "data_type", "merge_tag"}`` dicts.
        lists
            ``{"name"}`` dicts.
        contacts
            ``{"email", "fields": {merge_tag: value}, "list_ids": [...]}`` dicts
            (optionally ``"unsubscribed": True``).

        Returns
        -------
        dict
            ``{"fields": [...], "lists": [...], "contacts": [{"id", "email"}, ...]}``.

        Raises
        ------
        ValueError
            When the seed data break a rule (message = the API error body).
        """
        body = {"fields": list(fields), "lists": list(lists), "contacts": list(contacts)}
        try:
            return self.backend.seed(body)
        except EmulatorError as exc:
            raise ValueError(f"seed rejected ({exc.status}): {exc.body}") from exc

    def state(self) -> dict[str, Any]:
        """Counts of objects, requests served and responses by status."""
        return self.app.control.state()

    def add_fault(self, **spec: Any) -> None:
        """Inject a fault, e.g. ``add_fault(method="POST", path="imports$", status=500, times=2)``.

        See :mod:`mailtrap_pandas.emulator.faults` for every kind.
        """
        try:
            self.app.control.add_fault(spec)
        except EmulatorError as exc:
            raise ValueError(f"bad fault spec: {exc.body}") from exc

    def clear_faults(self) -> None:
        """Remove every pending fault, import failure and job delay."""
        self.app.control.clear_faults()

    def add_account(self, account_id: int, name: str = "Second account") -> None:
        """Let the token see another account (``GET /api/accounts`` then lists several).

        The token-scoped paths keep acting on :attr:`account_id`; the new account
        is reachable through ``/api/accounts/{account_id}/contacts…`` and starts
        empty. :meth:`reset` removes it.
        """
        self.backend.accounts.add(account_id, name)

    def advance_jobs(self) -> int:
        """Move every unfinished job one stage now (for ``job_policy="manual"``)."""
        return self.jobs.advance()

    def client(self, **kwargs: Any) -> Client:
        """A :class:`mailtrap_pandas.api.client.Client` bound to this emulator.

        Its rate budget matches the emulator's windows (or is off when the
        emulator's is). Keyword arguments are passed on to ``Client``.
        """
        from mailtrap_pandas.api.client import Client
        from mailtrap_pandas.api.ratelimit import Window

        windows = (
            None
            if self.rate_limit is None
            else tuple(Window(lim, per, scope) for lim, per, scope in self.rate_limit)
        )
        params: dict[str, Any] = {
            "token": self.token,
            "account_id": self.account_id,
            "base_url": self.url,
            "rate_limit": windows,
        }
        params.update(kwargs)
        return Client(**params)


def serve(
    host: str = "127.0.0.1",
    port: int = 8025,
    db: str | Path | None = None,
    token: str | None = None,
    account_id: int = 1000001,
    rate_limit: Any = DEFAULT,
    max_contacts: int | None = None,
    job_delay_s: float = 0.0,
) -> None:
    """Run an emulator in the foreground until interrupted (the CLI's ``emulator``).

    Parameters
    ----------
    host, port, db, account_id, rate_limit, max_contacts, job_delay_s
        As for :class:`Emulator`.
    token
        The token to accept; ``None`` generates a random one, printed at start.
    """
    token = token or "emu-" + secrets.token_urlsafe(16)
    emu = Emulator(
        host=host,
        port=port,
        db=db,
        token=token,
        account_id=account_id,
        rate_limit=rate_limit,
        max_contacts=max_contacts,
        job_delay_s=job_delay_s,
    )
    emu.start()
    limits = (
        "off"
        if emu.rate_limit is None
        else ", ".join(f"{lim}/{per:g}s per {scope}" for lim, per, scope in emu.rate_limit)
    )
    print(f"Mailtrap emulator listening on {emu.url}", flush=True)
    print(f"  token:      {emu.token}", flush=True)
    print(f"  account id: {emu.account_id}", flush=True)
    print(f"  database:   {db or 'in memory'}", flush=True)
    print(f"  rate limit: {limits}", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    stopped = threading.Event()
    try:
        while not stopped.wait(3600):
            pass
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        emu.stop()
