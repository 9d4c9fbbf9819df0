"""Exceptions raised by mailtrap-pandas.

The tree::

    MailtrapError
    ├── ConfigurationError      bad or missing settings (token, account, URL)
    ├── TransportError          no response came (connection refused, dropped, timed out)
    ├── APIError                the API answered with an error status
    │   ├── AuthenticationError     401
    │   ├── PermissionDeniedError   403
    │   ├── NotFoundError           404
    │   ├── ValidationError         422 (per-attribute or per-email import errors)
    │   ├── RateLimitError          429
    │   └── ServerError             5xx
    └── InputError              the caller's frame or arguments cannot be used

Defined beside the code that raises them: ``StalePlanError`` (snapshot),
``TooManyRemovalsError`` (an ``InputError``; list_sync),
``ExportParseError`` (an ``InputError``) and ``ExportTimeoutError`` (export),
``RemovalLimitError`` (an ``InputError``: more rows than ``max_delete``; removal),
``InvariantError`` (results; a bug if ever seen).

No message, repr or attribute of these exceptions ever holds the API token:
requests are described by method and URL only, and URLs never carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "FieldError",
    "InputError",
    "MailtrapError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "error_from_response",
]


class MailtrapError(Exception):
    """Base class of every error this package raises."""


class ConfigurationError(MailtrapError):
    """Settings are missing or unusable (no token, several accounts, plain http...)."""


class InputError(MailtrapError, ValueError):
    """The caller's data or arguments cannot be used as given."""


class TransportError(MailtrapError):
    """No HTTP response was received.

    Attributes
    ----------
    method, url : str
        The request that failed.
    sent : bool
        False when the request certainly never reached the server (connection
        refused); True when it may have (connection dropped mid-exchange, read
        timeout), so repeating a non-idempotent call could apply it twice.
    """

    def __init__(self, message: str, *, method: str, url: str, sent: bool) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.sent = sent


@dataclass(frozen=True)
class FieldError:
    """One server-side complaint: which contact (for imports), which attribute, what."""

    attribute: str
    message: str
    email: str | None = None


class APIError(MailtrapError):
    """The API answered with a non-success status.

    Attributes
    ----------
    status : int
        HTTP status code.
    method, url : str
        The request that failed (the URL never contains the token).
    body : Any
        The parsed JSON body, or the raw text when it was not JSON.
    errors : list of FieldError
        The body's error messages, parsed (never flattened into one string).
    earlier_attempt_sent : bool
        True when an earlier attempt of the same call was retried after a 5xx other than
        503 (which says the request was not handled) or a connection lost after sending:
        that attempt may have been acted on (a 404 on the retry of a DELETE then means the
        contact is gone, perhaps by that attempt).
    """

    earlier_attempt_sent: bool = False

    def __init__(self, status: int, method: str, url: str, body: Any) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.body = body
        self.errors = parse_errors(body)
        super().__init__(self._message())

    @property
    def status_code(self) -> int:
        """Alias of :attr:`status`, as in requests and httpx."""
        return self.status

    def _message(self) -> str:
        head = f"{self.status} {_REASONS.get(self.status, 'Error')} for {self.method} {self.url}"
        if not self.errors:
            return head
        shown = "; ".join(_describe(e) for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        return f"{head}: {shown}{more}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.status, self.method, self.url, self.body))


class AuthenticationError(APIError):
    """401: the token is wrong or missing."""


class PermissionDeniedError(APIError):
    """403: the token may not act on this account or resource."""


class NotFoundError(APIError):
    """404: no such contact, list, field, import or export."""


class ValidationError(APIError):
    """422: the request was understood but its content was rejected.

    For bulk imports the body lists errors per email; :attr:`errors` holds them
    with :attr:`FieldError.email` set, and :attr:`by_email` groups them.
    """

    @property
    def by_email(self) -> dict[str, list[FieldError]]:
        """Errors of an import rejection grouped by the contact's email."""
        grouped: dict[str, list[FieldError]] = {}
        for err in self.errors:
            if err.email is not None:
                grouped.setdefault(err.email, []).append(err)
        return grouped


class RateLimitError(APIError):
    """429: too many requests. ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(
        self, status: int, method: str, url: str, body: Any, retry_after: float | None = None
    ) -> None:
        super().__init__(status, method, url, body)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed."""


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _describe(err: FieldError) -> str:
    who = f"{err.email}: " if err.email else ""
    what = "" if err.attribute in ("base", "error", "errors") else f"{err.attribute} "
    return f"{who}{what}{err.message}"


def _messages(value: Any) -> list[str]:
    """Flatten one attribute's messages; the API nests them 0, 1 or 2 lists deep."""
    if value is None:
        return []
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_messages(item))
        return out
    return [str(value)]


def _attribute_errors(obj: Any, email: str | None = None) -> list[FieldError]:
    if isinstance(obj, dict):
        return [
            FieldError(attribute=str(attr), message=msg, email=email)
            for attr, value in obj.items()
            for msg in _messages(value)
        ]
    return [FieldError(attribute="base", message=msg, email=email) for msg in _messages(obj)]


def parse_errors(body: Any) -> list[FieldError]:
    """Parse every error body shape of the API (FACTS.md §2) into ``FieldError`` s.

    Examples
    --------
    >>> parse_errors({"error": "Incorrect API token"})
    [FieldError(attribute='error', message='Incorrect API token', email=None)]
    >>> parse_errors({"errors": [{"email": "a@x.io", "errors": {"email": ["is invalid"]}}]})
    [FieldError(attribute='email', message='is invalid', email='a@x.io')]
    """
    if isinstance(body, str):
        return [FieldError(attribute="error", message=body)] if body.strip() else []
    if not isinstance(body, dict):
        return []
    out: list[FieldError] = []
    if "error" in body:
        out.extend(FieldError(attribute="error", message=m) for m in _messages(body["error"]))
    errors = body.get("errors")
    if isinstance(errors, list) and all(isinstance(e, dict) and "email" in e for e in errors):
        for entry in errors:
            out.extend(_attribute_errors(entry.get("errors"), email=str(entry["email"])))
    elif isinstance(errors, dict):
        out.extend(_attribute_errors(errors))
    elif errors is not None:
        out.extend(FieldError(attribute="errors", message=m) for m in _messages(errors))
    return out


_STATUS_CLASSES: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: ValidationError,
}


def error_from_response(
    status: int, method: str, url: str, body: Any, retry_after: float | None = None
) -> APIError:
    """The one map from an HTTP status to the exception class raised for it."""
    if status == 429:
        return RateLimitError(status, method, url, body, retry_after)
    if status >= 500:
        return ServerError(status, method, url, body)
    return _STATUS_CLASSES.get(status, APIError)(status, method, url, body)
