"""The public names of ``mailtrap_pandas``: the list itself, and each one importable from the root.

A restructuring may move any module; these names stay where users import them from. Adding a
name means adding it here too, on purpose.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

import mailtrap_pandas

PUBLIC = [
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
    "REASON_DTYPE",
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


def test_all_is_exactly_the_public_list() -> None:
    names = list(mailtrap_pandas.__all__)
    assert len(names) == len(set(names)), "a name is listed twice in __all__"
    assert sorted(names) == sorted(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_imports_from_the_root(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from mailtrap_pandas import {name}", namespace)  # the way users write it
    assert namespace[name] is getattr(mailtrap_pandas, name)
    assert namespace[name] is not None


def test_star_import_gives_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from mailtrap_pandas import *", namespace)
    assert set(PUBLIC) <= set(namespace)


def test_every_public_exception_is_a_mailtrap_error() -> None:
    # Warnings are not errors: ExportFormatWarning is a UserWarning, so filters work on it.
    errors = [
        name
        for name in PUBLIC
        if isinstance(obj := getattr(mailtrap_pandas, name), type)
        and issubclass(obj, BaseException)
        and not issubclass(obj, Warning)
    ]
    assert errors, "no exception found: the check would prove nothing"
    base = mailtrap_pandas.MailtrapError
    assert [n for n in errors if not issubclass(getattr(mailtrap_pandas, n), base)] == []


def test_version_is_the_installed_distribution() -> None:
    assert mailtrap_pandas.__version__ == importlib.metadata.version("mailtrap-pandas")


def test_the_root_loads_no_emulator_until_asked() -> None:
    # Emulator is in __all__ but loaded lazily: the library never needs the HTTP server.
    code = (
        "import sys, mailtrap_pandas as m\n"
        "assert 'mailtrap_pandas.emulator' not in sys.modules, 'emulator loaded eagerly'\n"
        "assert m.Emulator.__name__ == 'Emulator'\n"
        "assert 'mailtrap_pandas.emulator' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
