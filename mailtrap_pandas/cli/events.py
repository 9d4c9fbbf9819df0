"""``events``: one custom event per row of a file, a ledger against firing twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mailtrap_pandas.cli import options
from mailtrap_pandas.cli.options import EXIT_REJECTED, Settings, pass_settings
from mailtrap_pandas.cli.output import emit, lead, problems_text, summary_records


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="Event name for every row.")
@click.option("--name-column", help="Column holding each row's event name.")
@click.option(
    "--email",
    "email_column",
    help="The email column (default: found as validate finds it: email, Email, E-mail...).",
)
@click.option("--param", "params", multiple=True, help="Column to send as a param (repeatable).")
@click.option("--key", help="Column that makes an event unique beyond its name and params.")
@click.option("--journal", type=click.Path(dir_okay=False), help="Ledger file.")
@click.option("--dry-run", is_flag=True, help="Show the events that would be sent; send nothing.")
@pass_settings
@click.pass_context
def events(
    ctx: click.Context,
    settings: Settings,
    file: Path,
    name: str | None,
    name_column: str | None,
    email_column: str | None,
    params: tuple[str, ...],
    key: str | None,
    journal: str | None,
    dry_run: bool,
) -> None:
    """Fire one custom event per row; a ledger makes re-runs never fire twice.

    CSV and Parquet are read 50,000 rows at a time (a progress bar for each).

    \b
    Example:
      mailtrap-pandas events purchases.csv --name Purchase --param amount --key order_id
    """
    from mailtrap_pandas.jobs.events import send_events
    from mailtrap_pandas.jobs.sources import open_source

    if (name is None) == (name_column is None):
        raise click.UsageError("give exactly one of --name and --name-column")
    client = settings.client()
    frames, _total, _stream = open_source(str(file), options.BATCH_ROWS)
    # One call per batch: the ledger, not memory, keeps an event from firing twice,
    # across batches as across runs.
    result = _merge_events(
        [
            send_events(
                df,
                client,
                name=name,
                name_column=name_column,
                email=email_column,
                params=list(params),
                key=key,
                journal=journal if journal else True,
                progress=settings.progress,
                dry_run=dry_run,
            )
            for df in frames
        ]
    )
    text = repr(result)
    if result.payloads:
        shown = result.payloads[:5]
        text += "\n" + "\n".join(
            f"  row {p['row']}: {p['email']} {p['name']} {json.dumps(p['params'], default=str)}"
            for p in shown
        )
        if len(result.payloads) > len(shown):
            text += f"\n  ... and {len(result.payloads) - len(shown):,} more; nothing was sent"
    text += lead(result.summary())
    text += problems_text(result.failed, "failed rows")
    text += problems_text(result.uncertain, "uncertain rows (may be recorded: not sent again)")
    emit(settings, {"summary": summary_records(result.summary()), **result.counts()}, text)
    if len(result.failed):
        ctx.exit(EXIT_REJECTED)


def _merge_events(results: list[Any]) -> Any:
    """One EventsResult for the batches of a file (rows keep their file labels)."""
    import pandas as pd

    from mailtrap_pandas.jobs.events import EventsResult

    if len(results) == 1:
        return results[0]
    merged = EventsResult()
    for part in results:
        merged.rows += part.rows
        merged.sent += part.sent
        merged.skipped += part.skipped
        merged.payloads += part.payloads
    if results:
        # Empty parts are left out: pandas 2.2 warns when they take part in the dtype.
        for name in ("failed", "uncertain"):
            parts = [getattr(r, name) for r in results]
            full = [f for f in parts if len(f)]
            setattr(merged, name, pd.concat(full) if full else parts[0])
    return merged
