"""mailtrap-pandas: a Mailtrap contacts database that feels like a DataFrame.

Importing the package registers the ``df.mailtrap`` accessor::

    import mailtrap_pandas as mtp
    client = mtp.Client()                        # token and account from the environment
    report = df.mailtrap.validate(client)        # every problem, row by row
    result = df.mailtrap.import_contacts(client, list_ids=[3])
    contacts = mtp.read_export(client, list_ids=[3])
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from mailtrap_pandas import accessor as _accessor  # noqa: F401  (registers df.mailtrap)
from mailtrap_pandas._version import __version__
from mailtrap_pandas.api.client import Client
from mailtrap_pandas.api.ratelimit import RateBudget, Window
from mailtrap_pandas.errors import (
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
from mailtrap_pandas.frames.reader import ExportFormatWarning, ExportParseError
from mailtrap_pandas.frames.reasons import REASON_DTYPE
from mailtrap_pandas.frames.validate import Reason, ValidationReport
from mailtrap_pandas.jobs.events import EventsResult, send_events
from mailtrap_pandas.jobs.exports import ExportTimeoutError, read_export, read_export_file
from mailtrap_pandas.jobs.imports.result import ImportResult
from mailtrap_pandas.jobs.imports.run import import_contacts, to_import_payloads
from mailtrap_pandas.jobs.list_sync import SyncPlan, TooManyRemovalsError, sync_list
from mailtrap_pandas.jobs.plans import Plan, plan
from mailtrap_pandas.jobs.removal import (
    RemovalLimitError,
    RemovalResult,
    delete_contacts,
    resubscribe,
    unsubscribe,
)
from mailtrap_pandas.jobs.snapshot import StalePlanError
from mailtrap_pandas.jobs.sync.result import SyncResult
from mailtrap_pandas.jobs.sync.run import sync
from mailtrap_pandas.jobs.validation import build_schema, validate

if "polars" in sys.modules:
    # The caller uses polars already: give pl.DataFrame its .mailtrap too. polars is
    # never imported by us otherwise (import mailtrap_pandas.polars does it on purpose).
    from mailtrap_pandas import polars as _polars  # noqa: F401

if TYPE_CHECKING:
    from mailtrap_pandas.emulator import Emulator

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
    "REASON_DTYPE",
    "PermissionDeniedError",
    "Plan",
    "RateBudget",
    "RateLimitError",
    "Reason",
    "RemovalLimitError",
    "RemovalResult",
    "ServerError",
    "StalePlanError",
    "SyncPlan",
    "SyncResult",
    "TooManyRemovalsError",
    "TransportError",
    "ValidationError",
    "ValidationReport",
    "Window",
    "__version__",
    "build_schema",
    "delete_contacts",
    "import_contacts",
    "plan",
    "read_export",
    "read_export_file",
    "resubscribe",
    "send_events",
    "sync",
    "sync_list",
    "to_import_payloads",
    "unsubscribe",
    "validate",
]


def __getattr__(name: str) -> Any:
    # The emulator is imported only when asked for: the library never needs it.
    if name == "Emulator":
        from mailtrap_pandas.emulator import Emulator

        return Emulator
    raise AttributeError(f"module 'mailtrap_pandas' has no attribute {name!r}")
