"""Errors that render exactly as the Mailtrap API renders them (FACTS.md §2).

The rules layer raises these; the HTTP layer turns them into responses
without knowing anything about their content.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EmulatorError",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "ContactNotFound",
    "Unprocessable",
    "ImportUnprocessable",
    "RateLimited",
    "ServerError",
    "BadRequest",
    "body_for_status",
]

JSONBody = Any


class EmulatorError(Exception):
    """An API error with the exact status, JSON body and extra headers to send."""

    status: int = 500

    def __init__(
        self, body: JSONBody, *, status: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(body)
        if status is not None:
            self.status = status
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})


class Unauthorized(EmulatorError):
    """401 for a missing or wrong token."""

    status = 401

    def __init__(self) -> None:
        super().__init__(
            {"error": "Incorrect API token"},
            headers={"Www-Authenticate": 'Token realm="Application"'},
        )


class Forbidden(EmulatorError):
    """403 for an account id in the path that the token cannot see."""

    status = 403

    def __init__(self, message: str = "Account access forbidden") -> None:
        super().__init__({"errors": message})


class NotFound(EmulatorError):
    """The generic 404."""

    status = 404

    def __init__(self) -> None:
        super().__init__({"error": "Not Found"})


class ContactNotFound(EmulatorError):
    """The 404 of ``DELETE …/contacts/{id}`` only (plural ``errors`` key)."""

    status = 404

    def __init__(self) -> None:
        super().__init__({"errors": "Contact(s) not found"})


class Unprocessable(EmulatorError):
    """422 with per-attribute messages: ``{"errors": {"attr": ["msg", ...]}}``.

    The arrays are flat, as in recorded real traffic (FACTS.md §2), not nested
    as in some spec examples. A value may also be a bare string (the export
    ``{"filters": "invalid"}`` case).
    """

    status = 422

    def __init__(self, errors: dict[str, list[str] | str]) -> None:
        super().__init__({"errors": errors})
        self.errors = errors


class ImportUnprocessable(EmulatorError):
    """422 of the bulk import: one entry per failing email."""

    status = 422

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        super().__init__({"errors": entries})
        self.entries = entries


class RateLimited(EmulatorError):
    """429; no ``Retry-After`` unless a fault asks for one (the real API sends none)."""

    status = 429

    def __init__(self, retry_after: float | None = None) -> None:
        headers = {} if retry_after is None else {"Retry-After": _seconds(retry_after)}
        super().__init__({"errors": "Rate limit exceeded"}, headers=headers)


class ServerError(EmulatorError):
    """5xx in the API's shape ``{"errors": "Unexpected error"}``."""

    def __init__(self, status: int = 500) -> None:
        super().__init__({"errors": "Unexpected error"}, status=status)


class BadRequest(EmulatorError):
    """400 for a request body that is not JSON at all (never a 500)."""

    status = 400

    def __init__(self, message: str = "Bad Request") -> None:
        super().__init__({"errors": message})


def _seconds(value: float) -> str:
    # Retry-After takes whole seconds; round up so a client never retries early.
    whole = int(value)
    return str(whole if whole == value else whole + 1)


def body_for_status(status: int, retry_after: float | None = None) -> EmulatorError:
    """Build the error an injected fault answers with, in the API's own shape.

    Parameters
    ----------
    status
        HTTP status to answer with.
    retry_after
        Seconds for a ``Retry-After`` header (429 only).

    Returns
    -------
    EmulatorError
        The error to render.
    """
    if status == 401:
        return Unauthorized()
    if status == 403:
        return Forbidden()
    if status == 404:
        return NotFound()
    if status == 422:
        return Unprocessable({"base": ["injected fault"]})
    if status == 429:
        return RateLimited(retry_after)
    if status == 400:
        return BadRequest()
    return ServerError(status)
