"""``pl_df.mailtrap``: the ``df.mailtrap`` verbs on polars frames, polars in and polars out.

``import mailtrap_pandas.polars`` registers the namespace (so does ``import mailtrap_pandas``
when polars is already imported)::

    import polars as pl
    import mailtrap_pandas.polars  # noqa: F401
    report = pl_df.mailtrap.validate(client)
    report.failures            # a polars DataFrame

A polars user never touches pandas: every frame a result hands back (``report.valid``,
``report.failures``, ``result.rejected``, ``plan.rows``...) is a polars frame with the type
table's polars dtypes, and frames indexed by the caller's rows keep those labels as a first
``row`` column (polars has no index). Rows are numbered by position, 0 for the first.

No verb makes a pandas copy of the frame: each works on pandas columns over the frame's
Arrow export (:func:`mailtrap_pandas.jobs.sources.polars_to_pandas`; only text is copied,
once, inside Arrow), and a LazyFrame given to ``mtp.import_contacts`` is streamed by
polars' engine one chunk at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd
import polars as pl

from mailtrap_pandas.frames.kinds import to_polars
from mailtrap_pandas.jobs.sources import polars_to_pandas

if TYPE_CHECKING:
    from mailtrap_pandas.api.client import Client

__all__ = ["PolarsMailtrap", "PolarsResult"]

#: Result frames (and methods returning frames) indexed by the caller's row labels.
_ROW_INDEXED = frozenset(
    {
        "valid",
        "rejected",
        "skipped",
        "failed",
        "uncertain",
        "rows",
        "adds",
        "retry_frame",
        "done",
        "not_found",
        "planned",
    }
)


def _convert(name: str, value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        keep = name in _ROW_INDEXED
        return to_polars(value, index=str(value.index.name or "row") if keep else None)
    if isinstance(value, pd.Index):
        return pl.Series(name, value.tolist())
    return value


class PolarsResult:
    """A package result whose frames come back as polars frames.

    Every attribute and method is the wrapped pandas result's (``ok``, ``wait()``,
    ``apply()``, ``check_invariant()``, the notebook display...); frames, indexes and
    nested results are converted on the way out.
    """

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "_inner", inner)

    @property
    def pandas(self) -> Any:
        """The same result with pandas frames."""
        return self._inner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if callable(value) and not isinstance(value, type):

            @functools.wraps(value)
            def call(*args: Any, **kwargs: Any) -> Any:
                return _wrap(name, value(*args, **kwargs))

            return call
        return _wrap(name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)

    def __dir__(self) -> list[str]:
        return sorted({*dir(type(self._inner)), *vars(self._inner), "pandas"})

    def __repr__(self) -> str:
        return repr(self._inner)

    def _repr_html_(self) -> str:
        html: str = self._inner._repr_html_()
        return html


def _wrap(name: str, value: Any) -> Any:
    module = type(value).__module__
    if module.startswith("mailtrap_pandas.") and hasattr(value, "__dataclass_fields__"):
        return PolarsResult(value)
    return _convert(name, value)


@pl.api.register_dataframe_namespace("mailtrap")
class PolarsMailtrap:
    """Mailtrap operations on a polars frame of contacts (one row per contact, an email column)."""

    def __init__(self, df: pl.DataFrame) -> None:
        self._df = df

    def _pandas(self) -> pd.DataFrame:
        # A view over the frame's Arrow buffers, labelled 0..n-1, as the import sees it.
        return polars_to_pandas(self._df)

    def validate(self, client: Client | None = None, **kwargs: Any) -> Any:
        """Check every row against the account's fields; see :func:`mailtrap_pandas.validate`."""
        from mailtrap_pandas.jobs.validation import validate

        return PolarsResult(validate(self._pandas(), client, **kwargs))

    def import_contacts(self, client: Client | None = None, **kwargs: Any) -> Any:
        """Validate, chunk and bulk-import, streaming the frame; see :func:`import_contacts`."""
        from mailtrap_pandas.jobs.imports.run import import_contacts

        return PolarsResult(import_contacts(self._df, client, **kwargs))

    def to_import_payloads(self, client: Client | None = None, **kwargs: Any) -> Iterator[bytes]:
        """The exact import request bodies, sending nothing; see :func:`to_import_payloads`."""
        from mailtrap_pandas.jobs.imports.run import to_import_payloads

        return to_import_payloads(self._df, client, **kwargs)

    def send_events(self, client: Client | None = None, **kwargs: Any) -> Any:
        """Fire one custom event per row, never twice; see :func:`send_events`."""
        from mailtrap_pandas.jobs.events import send_events

        return PolarsResult(send_events(self._pandas(), client, **kwargs))

    def plan(self, client: Client | None = None, **kwargs: Any) -> Any:
        """Diff the frame against one export of the account; see :func:`plan`."""
        from mailtrap_pandas.jobs.plans import plan

        return PolarsResult(plan(self._pandas(), client, **kwargs))

    def sync_list(self, list_id: int, client: Client | None = None, **kwargs: Any) -> Any:
        """Make a list's membership match the frame; see :func:`sync_list`."""
        from mailtrap_pandas.jobs.list_sync import sync_list

        return PolarsResult(sync_list(self._pandas(), list_id, client, **kwargs))

    def delete_contacts(self, client: Client | None = None, **kwargs: Any) -> Any:
        """Delete the frame's contacts (streamed), paced, resumable; see :func:`delete_contacts`."""
        from mailtrap_pandas.jobs.removal import delete_contacts

        return PolarsResult(delete_contacts(self._df, client, **kwargs))

    def unsubscribe(self, client: Client | None = None, **kwargs: Any) -> Any:
        """Unsubscribe the frame's contacts, creating none; see :func:`unsubscribe`."""
        from mailtrap_pandas.jobs.removal import unsubscribe

        return PolarsResult(unsubscribe(self._df, client, **kwargs))

    def resubscribe(self, client: Client | None = None, **kwargs: Any) -> Any:
        """Resubscribe the frame's contacts, creating none; see :func:`resubscribe`."""
        from mailtrap_pandas.jobs.removal import resubscribe

        return PolarsResult(resubscribe(self._df, client, **kwargs))

    def sync(self, client: Client | None = None, **kwargs: Any) -> Any:
        """Send only the rows the account does not hold yet; see :func:`mailtrap_pandas.sync`."""
        from mailtrap_pandas.jobs.sync.run import sync

        return PolarsResult(sync(self._df, client, **kwargs))
