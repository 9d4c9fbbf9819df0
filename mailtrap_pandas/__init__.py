"""mailtrap-pandas: a Mailtrap contacts database that feels like a DataFrame.

Importing the package registers the ``df.mailtrap`` accessor::

    import mailtrap_pandas as mtp
    client = mtp.Client()                        # token and account from the environment
    report = df.mailtrap.validate(client)        # every problem, row by row
    result = df.mailtrap.import_contacts(client, list_ids=[3])
    contacts = mtp.read_export(client, list_ids=[3])
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from . import accessor as _accessor  # noqa: F401  (registers df.mailtrap)
from .bulk import import_contacts, to_import_payloads
from .client import Client
from .errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    InputError,
    MailtrapError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from .events_bulk import EventsResult, send_events
from .export import ExportTimeoutError, read_export, read_export_file
from .export_file import ExportFormatWarning, ExportParseError
from .hygiene import Plan, StalePlanError, SyncPlan, plan, sync_list
from .ratelimit import RateBudget, Window
from .results import ImportResult
from .schema import build_schema
from .validate import Reason, ValidationReport, validate

if TYPE_CHECKING:
    from .emulator import Emulator

__all__ = [
    "APIError",
    "AuthenticationError",
    "Client",
    "ConfigurationError",
    "Emulator",
    "EventsResult",
    "ExportFormatWarning",
    "ExportParseError",
    "ExportTimeoutError",
    "ImportResult",
    "InputError",
    "MailtrapError",
    "NotFoundError",
    "PermissionDeniedError",
    "Plan",
    "RateBudget",
    "RateLimitError",
    "Reason",
    "ServerError",
    "StalePlanError",
    "SyncPlan",
    "TransportError",
    "ValidationError",
    "ValidationReport",
    "Window",
    "__version__",
    "build_schema",
    "import_contacts",
    "plan",
    "read_export",
    "read_export_file",
    "send_events",
    "sync_list",
    "to_import_payloads",
    "validate",
]


def __getattr__(name: str) -> Any:
    # The emulator is imported only when asked for: the library never needs it.
    if name == "Emulator":
        from .emulator import Emulator

        return Emulator
    raise AttributeError(f"module 'mailtrap_pandas' has no attribute {name!r}")
