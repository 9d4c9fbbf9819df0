"""The HTTP client: credentials, base URL, path style, one session, one ``request()`` path.

Every call of every resource goes through :meth:`Client.request`, which
draws from the client's :class:`~mailtrap_pandas.api.ratelimit.RateBudget`, sends,
and applies the one retry policy of :mod:`mailtrap_pandas.api.retry`. No urllib3
retries run underneath (the session's adapters are mounted with
``max_retries=0``), so one 429 never turns into many requests.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from mailtrap_pandas._version import __version__
from mailtrap_pandas.api.ratelimit import DEFAULT_LIMITS, RateBudget, Window
from mailtrap_pandas.api.retry import (
    Policy,
    backoff,
    retry_after_seconds,
    should_retry,
    wait_until,
)
from mailtrap_pandas.errors import (
    ConfigurationError,
    RateLimitError,
    TransportError,
    error_from_response,
)
from mailtrap_pandas.private import private_file

if TYPE_CHECKING:
    from mailtrap_pandas.api.resources.accounts import Accounts
    from mailtrap_pandas.api.resources.contacts import Contacts
    from mailtrap_pandas.api.resources.events import Events
    from mailtrap_pandas.api.resources.exports import Exports
    from mailtrap_pandas.api.resources.fields import Fields
    from mailtrap_pandas.api.resources.imports import Imports
    from mailtrap_pandas.api.resources.lists import Lists

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "Client", "download"]

DEFAULT_BASE_URL = "https://mailtrap.io"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 6
TOKEN_ENV = "MAILTRAP_API_TOKEN"
ACCOUNT_ENV = "MAILTRAP_ACCOUNT_ID"
BASE_URL_ENV = "MAILTRAP_BASE_URL"
RATE_FILE_ENV = "MAILTRAP_PANDAS_RATE_FILE"

PathStyle = Literal["account", "token"]
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}

_TOKEN_HINT = (
    "no Mailtrap API token: pass Client(token=...) or set the MAILTRAP_API_TOKEN environment "
    "variable (Settings > API Tokens in Mailtrap). To try the package without an account, use "
    "the built-in emulator: `with mailtrap_pandas.Emulator() as emu: client = emu.client()`."
)


def _is_loopback(host: str) -> bool:
    return host in _LOOPBACK or host.startswith("127.")


class Client:
    """A connection to one Mailtrap account's Contacts API.

    Parameters
    ----------
    token : str, optional
        API token; defaults to the ``MAILTRAP_API_TOKEN`` environment variable.
        It is sent in the ``Authorization`` header only and never shown.
    account_id : int or str, optional
        Defaults to ``MAILTRAP_ACCOUNT_ID``, else resolved once with
        ``GET /api/accounts`` (an error lists the accounts if the token sees several).
    base_url : str
        ``https://mailtrap.io`` by default (``MAILTRAP_BASE_URL`` overrides).
        Plain ``http://`` is refused except for loopback hosts (the emulator).
    path_style : {"account", "token"}
        ``"account"`` sends ``/api/accounts/{id}/contacts...`` (what the product
        docs and SDKs use); ``"token"`` sends ``/api/contacts...`` (newest spec).
    timeout : float
        Seconds to wait for the server on each request.
    max_retries : int
        Retries of one request after a 429, a 5xx or a connection failure,
        where repeating is safe (see :mod:`mailtrap_pandas.api.retry`).
    rate_limit : sequence of Window, or None
        The request budget; defaults to 200 requests / 60 s per account and
        150 / 10 s per token. ``None`` or ``()`` turns pacing off.
    rate_limit_file : path, optional
        A file through which several *processes* share the budget (threads
        and clients of one process always share it). Defaults to the
        ``MAILTRAP_PANDAS_RATE_FILE`` environment variable; unset, no file.
    session : requests.Session, optional
        A session to use instead of a new one (it is not closed by :meth:`close`).

    Examples
    --------
    >>> from mailtrap_pandas import Emulator
    >>> with Emulator() as emu, emu.client() as client:
    ...     client.lists.create("Newsletter")["name"]
    'Newsletter'
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        account_id: int | str | None = None,
        base_url: str | None = None,
        path_style: PathStyle = "account",
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        rate_limit: Sequence[Window] | None = DEFAULT_LIMITS,
        rate_limit_file: str | os.PathLike[str] | None = None,
        session: requests.Session | None = None,
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        if not token:
            raise ConfigurationError(_TOKEN_HINT)
        self._token = token
        base = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"base_url must be an http(s) URL, got {base!r}")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ConfigurationError(
                f"refusing plain http:// to {parts.hostname}: the token would travel in clear "
                "text. Use https://, or http:// only for a loopback emulator."
            )
        if path_style not in ("account", "token"):
            raise ConfigurationError(f"path_style must be 'account' or 'token', not {path_style!r}")
        self.base_url = base
        self.path_style: PathStyle = path_style
        self.timeout = timeout
        self.max_retries = max_retries
        self._sleep = sleep
        self._rng = rng or random.Random()
        env_account = os.environ.get(ACCOUNT_ENV)
        raw_account = account_id if account_id is not None else env_account
        self._account_id: str | None = str(raw_account) if raw_account not in (None, "") else None
        self._windows = tuple(rate_limit or ())
        self._rate_file = rate_limit_file or os.environ.get(RATE_FILE_ENV) or None
        self._budget: RateBudget | None = None
        self._own_session = session is None
        self.session = session or requests.Session()
        # One retry authority: ours. urllib3 must not retry underneath.
        adapter = HTTPAdapter(max_retries=0, pool_maxsize=16)
        if self._own_session:
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = user_agent or f"mailtrap-pandas/{__version__}"
        self.session.headers["Accept"] = "application/json"
        self.stats: dict[str, int] = {"requests": 0, "retries": 0, "rate_limited": 0}

    # -- identity -----------------------------------------------------------------------

    def __repr__(self) -> str:
        account = self._account_id if self._account_id is not None else "unresolved"
        return (
            f"Client(base_url={self.base_url!r}, account_id={account}, "
            f"path_style={self.path_style!r})"
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session (unless it was passed in by the caller) and the rate file.

        The rate file's connection is shared by every client of the process on that file;
        it closes with the last of them (a client never closed lets go of it when
        collected, or at exit).
        """
        if self._own_session:
            self.session.close()
        if self._budget is not None:
            self._budget.close()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("Client objects hold a secret and are not picklable")

    @property
    def account_id(self) -> str:
        """The account this client acts on, resolved with ``GET /api/accounts`` if needed."""
        if self._account_id is None:
            accounts = self.accounts.list()
            if len(accounts) == 1:
                self._account_id = str(accounts[0]["id"])
            elif not accounts:
                raise ConfigurationError("the token sees no Mailtrap account")
            else:
                listing = ", ".join(f"{a['id']} ({a.get('name', '')})" for a in accounts)
                raise ConfigurationError(
                    "the token sees several accounts; pass Client(account_id=...) or set "
                    f"MAILTRAP_ACCOUNT_ID to one of: {listing}"
                )
        return self._account_id

    @property
    def budget(self) -> RateBudget:
        """The request budget every request of this client draws from."""
        if self._budget is None:
            account = self._account_id if self._account_id is not None else ""
            self._budget = RateBudget(
                self._windows,
                base_url=self.base_url,
                account_id=account,
                token=self._token,
                shared_file=self._rate_file,
            )
        return self._budget

    # -- paths --------------------------------------------------------------------------

    def contacts_path(self, *segments: object) -> str:
        """Path of a Contacts API resource in this client's path style.

        Each segment is percent-encoded whole (``a+b@x.io`` -> ``a%2Bb%40x.io``).

        Examples
        --------
        >>> c = Client("t", account_id=7)
        >>> c.contacts_path("imports", 12)
        '/api/accounts/7/contacts/imports/12'
        >>> Client("t", path_style="token").contacts_path("a+b@x.io")
        '/api/contacts/a%2Bb%40x.io'
        """
        root = (
            "/api/contacts"
            if self.path_style == "token"
            else f"/api/accounts/{quote(self.account_id, safe='')}/contacts"
        )
        tail = "".join("/" + quote(str(s), safe="") for s in segments)
        return root + tail

    # -- the one request path ------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        params: dict[str, Any] | None = None,
        policy: Policy = "idempotent",
    ) -> Any:
        """Send one API request under the budget and the retry policy; return parsed JSON.

        Parameters
        ----------
        method : str
            HTTP method.
        path : str
            Path under the base URL, e.g. from :meth:`contacts_path`.
        json : object, optional
            Body to send as JSON.
        data : bytes, optional
            A body already encoded as JSON (bulk imports encode their own).
        params : dict, optional
            Query parameters.
        policy : {"idempotent", "answered", "unsent"}
            What may be repeated: see :func:`mailtrap_pandas.api.retry.should_retry`.

        Returns
        -------
        object
            The decoded JSON body, or ``None`` for an empty body (204).

        Raises
        ------
        APIError
            A subclass by status, once retries are spent or not allowed.
        TransportError
            When no response came.
        """
        url = self.base_url + path
        headers = {"Authorization": f"Bearer {self._token}"}
        if json is not None or data is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        # Whether an earlier attempt may have been acted on (no answer, or a 5xx but 503): a 404 on
        # the retry of a DELETE then means "gone, perhaps by us", not "never there".
        maybe_applied = False
        while True:
            slot, _ = self.budget.reserve()
            self.stats["requests"] += 1
            try:
                response = self.session.request(
                    method,
                    url,
                    json=json,
                    data=data,
                    params=params,
                    headers=headers,
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                self.budget.settle(slot)
                sent = not isinstance(exc, requests.ConnectTimeout) and not _refused(exc)
                error: Exception = TransportError(
                    f"no response to {method} {url}: {type(exc).__name__}"
                    + ("" if sent else " (the request was not sent)"),
                    method=method,
                    url=url,
                    sent=sent,
                )
                if should_retry(
                    policy, None, sent=sent, attempt=attempt, max_retries=self.max_retries
                ):
                    maybe_applied = maybe_applied or sent
                    attempt += 1
                    self.stats["retries"] += 1
                    self._sleep(backoff(attempt, rng=self._rng))
                    continue
                raise error from None
            self.budget.settle(slot)
            if response.status_code < 400:
                return _decode(response)
            body = _decode(response, strict=False)
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            err = error_from_response(response.status_code, method, url, body, retry_after)
            if isinstance(err, RateLimitError):
                self.stats["rate_limited"] += 1
            if should_retry(
                policy,
                response.status_code,
                sent=True,
                attempt=attempt,
                max_retries=self.max_retries,
            ):
                # 503 says "not handled"; other 5xx (a gateway timeout...) may follow the work.
                maybe_applied = maybe_applied or (
                    response.status_code >= 500 and response.status_code != 503
                )
                attempt += 1
                self.stats["retries"] += 1
                delay = backoff(attempt, rng=self._rng, retry_after=retry_after)
                if response.status_code == 429:
                    # Everyone sharing this budget waits, not just this thread.
                    self.budget.penalize(delay)
                else:
                    self._sleep(delay)
                continue
            err.earlier_attempt_sent = maybe_applied
            raise err

    def download(
        self, url: str, dest: str | os.PathLike[str], *, chunk_size: int = 1 << 20
    ) -> Path:
        """Stream a file (an export's ``url``) to ``dest`` without holding it in memory.

        Export URLs are pre-signed, so the token is not sent with them.
        """
        return download(
            url,
            dest,
            timeout=self.timeout,
            max_retries=self.max_retries,
            sleep=self._sleep,
            rng=self._rng,
            chunk_size=chunk_size,
        )

    # -- resources ----------------------------------------------------------------------

    @property
    def contacts(self) -> Contacts:
        """Single contacts: create, get, upsert, delete."""
        from mailtrap_pandas.api.resources.contacts import Contacts

        return Contacts(self)

    @property
    def events(self) -> Events:
        """Custom events on a contact."""
        from mailtrap_pandas.api.resources.events import Events

        return Events(self)

    @property
    def lists(self) -> Lists:
        """Contact lists: list, get, create, update, delete."""
        from mailtrap_pandas.api.resources.lists import Lists

        return Lists(self)

    @property
    def fields(self) -> Fields:
        """Custom fields: list, get, create, update, delete."""
        from mailtrap_pandas.api.resources.fields import Fields

        return Fields(self)

    @property
    def imports(self) -> Imports:
        """Bulk import jobs: create, get."""
        from mailtrap_pandas.api.resources.imports import Imports

        return Imports(self)

    @property
    def exports(self) -> Exports:
        """Export jobs: create, get, download."""
        from mailtrap_pandas.api.resources.exports import Exports

        return Exports(self)

    @property
    def accounts(self) -> Accounts:
        """Accounts the token can see."""
        from mailtrap_pandas.api.resources.accounts import Accounts

        return Accounts(self)


def _refused(exc: requests.RequestException) -> bool:
    """True when the connection was never established, so nothing reached the server."""
    text = repr(exc.args[0]) if exc.args else ""
    return isinstance(exc, requests.ConnectionError) and (
        "NewConnectionError" in text or "Connection refused" in text or "NameResolution" in text
    )


def _decode(response: requests.Response, *, strict: bool = True) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        if strict:
            raise TransportError(
                f"{response.request.method} {response.url} answered {response.status_code} "
                "with a body that is not JSON",
                method=str(response.request.method),
                url=str(response.url),
                sent=True,
            ) from None
        return response.text


def ensure_client(client: Client | None) -> Client:
    """``client`` itself, or a :class:`Client` built from the environment.

    Raises
    ------
    ConfigurationError
        When no token is set, with a hint on how to set one or use the emulator.
    """
    return client if client is not None else Client()


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    chunk_size: int = 1 << 20,
) -> Path:
    """Stream a file to ``dest`` without holding it in memory; the package's one downloader.

    Plain ``http`` is refused except on loopback; failed connections are retried with
    :func:`~mailtrap_pandas.api.retry.backoff` (a download is idempotent).
    """
    parts = urlsplit(url)
    if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
        raise ConfigurationError(f"refusing to download over plain http from {parts.hostname}")
    dest = Path(dest)
    attempts = itertools.count(1)
    rng = rng or random.Random()

    def attempt() -> Path | None:
        try:
            with requests.get(url, stream=True, timeout=timeout) as response:
                if response.status_code >= 400:
                    raise error_from_response(
                        response.status_code, "GET", url, _decode(response, strict=False)
                    )
                # A contact list: 0600 before the first byte, whatever the umask.
                with private_file(dest).open("wb") as out:
                    for block in response.iter_content(chunk_size):
                        out.write(block)
            return dest
        except requests.RequestException as exc:
            if next(attempts) > max_retries:
                raise TransportError(
                    f"download of the export failed: {type(exc).__name__}",
                    method="GET",
                    url=url,
                    sent=True,
                ) from None
            return None

    waits = (backoff(n, rng=rng) for n in itertools.count(1))
    return wait_until(attempt, waits=waits, sleep=sleep)
