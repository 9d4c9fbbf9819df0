"""mailtrap-pandas: a Mailtrap contacts database that feels like a DataFrame.

>>> import mailtrap_pandas as mtp
>>> client = mtp.Client()                                    # doctest: +SKIP
>>> report = df.mailtrap.validate(client)                    # doctest: +SKIP
>>> result = df.mailtrap.import_contacts(client, list_ids=[3])  # doctest: +SKIP
>>> contacts = mtp.read_export(client, list_ids=[3])         # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from .client import Client
from .errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ImportFailedError,
    InputError,
    MailtrapError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from .ratelimit import RateBudget, Window

if TYPE_CHECKING:
    from .emulator import Emulator

__all__ = [
    "APIError",
    "AuthenticationError",
    "Client",
    "ConfigurationError",
    "Emulator",
    "ImportFailedError",
    "InputError",
    "MailtrapError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateBudget",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "Window",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # The emulator is imported only when asked for: the library never needs it.
    if name == "Emulator":
        from .emulator import Emulator

        return Emulator
    raise AttributeError(f"module 'mailtrap_pandas' has no attribute {name!r}")
