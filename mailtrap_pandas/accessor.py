"""``df.mailtrap``: a thin, stateless facade over the package's functions.

Nothing is cached on the accessor or in ``df.attrs``; each method forwards to
a module function that is tested on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandera.pandas as pa

    from mailtrap_pandas.api.client import Client
    from mailtrap_pandas.frames.validate import ValidationReport
    from mailtrap_pandas.jobs.events import EventsResult
    from mailtrap_pandas.jobs.imports.run import ImportResult
    from mailtrap_pandas.jobs.list_sync import SyncPlan
    from mailtrap_pandas.jobs.plans import Plan
    from mailtrap_pandas.jobs.removal import RemovalResult
    from mailtrap_pandas.jobs.sync.result import SyncResult


@pd.api.extensions.register_dataframe_accessor("mailtrap")
class MailtrapAccessor:
    """Mailtrap operations on a frame of contacts (one row per contact, an ``email`` column)."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    def schema(self, client: Client | None = None, **kwargs: Any) -> pa.DataFrameSchema:
        """The pandera schema of the account's live custom fields; see :func:`build_schema`."""
        from mailtrap_pandas.api.client import ensure_client
        from mailtrap_pandas.jobs.validation import build_schema

        return build_schema(ensure_client(client), **kwargs)

    def validate(self, client: Client | None = None, **kwargs: Any) -> ValidationReport:
        """Check every row against the account's fields; see :func:`mailtrap_pandas.validate`."""
        from mailtrap_pandas.jobs.validation import validate

        return validate(self._df, client, **kwargs)

    def import_contacts(self, client: Client | None = None, **kwargs: Any) -> ImportResult:
        """Validate, chunk and bulk-import; see :func:`mailtrap_pandas.import_contacts`."""
        from mailtrap_pandas.jobs.imports.run import import_contacts

        return import_contacts(self._df, client, **kwargs)

    def sync(self, client: Client | None = None, **kwargs: Any) -> SyncResult:
        """Send only the rows the account does not hold yet; see :func:`mailtrap_pandas.sync`."""
        from mailtrap_pandas.jobs.sync.run import sync

        return sync(self._df, client, **kwargs)

    def to_import_payloads(self, client: Client | None = None, **kwargs: Any) -> Iterator[bytes]:
        """The exact import request bodies, sending nothing; see :func:`to_import_payloads`."""
        from mailtrap_pandas.jobs.imports.run import to_import_payloads

        return to_import_payloads(self._df, client, **kwargs)

    def send_events(self, client: Client | None = None, **kwargs: Any) -> EventsResult:
        """Fire one custom event per row, never twice; see :func:`send_events`."""
        from mailtrap_pandas.jobs.events import send_events

        return send_events(self._df, client, **kwargs)

    def plan(self, client: Client | None = None, **kwargs: Any) -> Plan:
        """Diff the frame against one export of the account; see :func:`plan`."""
        from mailtrap_pandas.jobs.plans import plan

        return plan(self._df, client, **kwargs)

    def sync_list(self, list_id: int, client: Client | None = None, **kwargs: Any) -> SyncPlan:
        """Make a list's membership match the frame; see :func:`sync_list`."""
        from mailtrap_pandas.jobs.list_sync import sync_list

        return sync_list(self._df, list_id, client, **kwargs)

    def delete_contacts(self, client: Client | None = None, **kwargs: Any) -> RemovalResult:
        """Delete the frame's contacts, paced and resumable; see :func:`delete_contacts`."""
        from mailtrap_pandas.jobs.removal import delete_contacts

        return delete_contacts(self._df, client, **kwargs)

    def unsubscribe(self, client: Client | None = None, **kwargs: Any) -> RemovalResult:
        """Unsubscribe the frame's contacts, creating none; see :func:`unsubscribe`."""
        from mailtrap_pandas.jobs.removal import unsubscribe

        return unsubscribe(self._df, client, **kwargs)

    def resubscribe(self, client: Client | None = None, **kwargs: Any) -> RemovalResult:
        """Resubscribe the frame's contacts, creating none; see :func:`resubscribe`."""
        from mailtrap_pandas.jobs.removal import resubscribe

        return resubscribe(self._df, client, **kwargs)


def _borrow_help() -> None:
    """Give each method the parameters and docs of the function it forwards to.

    ``help(df.mailtrap.import_contacts)`` and notebook tab completion then show
    the real keyword arguments, with one definition of them: the function's.
    """
    import inspect

    from mailtrap_pandas.jobs.events import send_events
    from mailtrap_pandas.jobs.imports.run import import_contacts, to_import_payloads
    from mailtrap_pandas.jobs.list_sync import sync_list
    from mailtrap_pandas.jobs.plans import plan
    from mailtrap_pandas.jobs.removal import delete_contacts, resubscribe, unsubscribe
    from mailtrap_pandas.jobs.sync.run import sync
    from mailtrap_pandas.jobs.validation import build_schema, validate

    targets: dict[str, Any] = {
        "schema": build_schema,
        "validate": validate,
        "import_contacts": import_contacts,
        "sync": sync,
        "to_import_payloads": to_import_payloads,
        "send_events": send_events,
        "plan": plan,
        "sync_list": sync_list,
        "delete_contacts": delete_contacts,
        "unsubscribe": unsubscribe,
        "resubscribe": resubscribe,
    }
    for name, target in targets.items():
        method = getattr(MailtrapAccessor, name)
        params = list(inspect.signature(target).parameters.values())
        if name == "schema":  # build_schema takes fields or a client; the accessor a client
            client = inspect.Parameter(
                "client", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None
            )
            rest = [client, *params[1:]]
        else:
            rest = params[1:]  # the frame is the accessor's own
        this = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        method.__signature__ = inspect.signature(target).replace(parameters=[this, *rest])
        intro = (method.__doc__ or "").strip()
        # Without the Examples section: they run as the target's doctests, not as ours.
        body = (inspect.getdoc(target) or "").split("\nExamples\n--------")[0].rstrip()
        method.__doc__ = f"{intro}\n\n{body}"


_borrow_help()
