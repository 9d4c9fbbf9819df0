"""``sync-list`` (a list's members match a file) and ``sync`` (what changed since last time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import click

from mailtrap_pandas.cli.options import (
    EXIT_REJECTED,
    FrameInput,
    Settings,
    choice_option,
    frame_options,
    max_remove_fraction_option,
    pass_settings,
)
from mailtrap_pandas.cli.output import emit, import_summary, problems_text, summary_records
from mailtrap_pandas.modes import Missing, Reconcile


@click.command("sync-list")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list-id", required=True, type=int, help="The list to make match the file.")
@click.option(
    "--remove-missing", is_flag=True, help="Also take off the list its members not in the file."
)
@max_remove_fraction_option(
    "Refuse to apply when removals exceed this share of the list's members."
)
@click.option("--apply", "do_apply", is_flag=True, help="Apply the changes after showing them.")
@pass_settings
@click.pass_context
def sync_list_command(
    ctx: click.Context,
    settings: Settings,
    file: Path,
    list_id: int,
    remove_missing: bool,
    max_remove_fraction: float,
    do_apply: bool,
) -> None:
    """Make a list's members match the emails of a file (one export of the account).

    Shows the adds and removes; --apply sends them (memberships only, never field
    values). With --remove-missing, applying refuses (exit 1, nothing sent) to remove
    more than --max-remove-fraction of the list's members, so an empty or truncated
    file never empties a list. Reads the whole file: the sync needs every email at once.
    Exit code 3 when some emails are invalid or rejected.

    \b
    Example:
      mailtrap-pandas sync-list members.csv --list-id 3 --remove-missing --apply
    """
    from mailtrap_pandas.jobs.list_sync import TooManyRemovalsError, sync_list

    sync = sync_list(
        FrameInput(file, {}).read(),
        list_id,
        settings.client(),
        remove_missing=remove_missing,
        progress=settings.progress,
    )
    summary: dict[str, Any] = {
        "list_id": sync.list_id,
        "members": sync.members,
        "add": len(sync.adds),
        "remove": len(sync.removes),
        "unchanged": sync.unchanged,
        "rejected": len(sync.rejected),
    }
    text = repr(sync)
    text += problems_text(sync.adds.set_index("email")[["exists"]], "adds", limit=10)
    text += problems_text(sync.removes, "removes", limit=10)
    text += problems_text(sync.rejected.set_index("row"), "invalid emails (not synced)")
    rejected = len(sync.rejected)
    if do_apply:
        if not settings.as_json:  # the plan first, even if applying is then refused
            click.echo(text)
            text = ""
        try:
            done = sync.apply(progress=settings.progress, max_remove_fraction=max_remove_fraction)
        except TooManyRemovalsError as exc:
            raise TooManyRemovalsError(
                exc.list_id,
                exc.removes,
                exc.members,
                exc.max_remove_fraction,
                option="--max-remove-fraction ",
            ) from None
        summary["applied"] = {k: import_summary(v) for k, v in done.items()}
        lines = []
        for direction, result in done.items():
            rejected += len(result.rejected)
            lines.append(
                f"{direction}: {result!r}" + problems_text(result.rejected, f"{direction} rejected")
            )
        text = "\n".join(lines) or "nothing to apply: the list already matches"
    elif not sync.empty:
        text += "\nnothing was sent; run again with --apply to apply"
    emit(settings, summary, text)
    if rejected:
        ctx.exit(EXIT_REJECTED)


@click.command()
@frame_options
@click.option("--list-id", "list_ids", type=int, multiple=True, help="Add every row to list N.")
@choice_option(
    "--reconcile",
    Reconcile,
    "auto",
    "Compare with one export first (auto: first sync, then every 7 days).",
)
@click.option(
    "--missing",
    type=click.Choice(["keep", "remove-from-lists"]),
    default="keep",
    show_default=True,
    help="Rows gone from FILE since the last sync: keep, or take them off the --list-id lists.",
)
@max_remove_fraction_option("Refuse to take more than this share of a list's members off it.")
@click.option("--journal", type=click.Path(dir_okay=False), help="State and journal file.")
@pass_settings
@click.pass_context
def sync(
    ctx: click.Context,
    settings: Settings,
    frame: FrameInput,
    list_ids: tuple[int, ...],
    reconcile: Reconcile,
    missing: str,
    max_remove_fraction: float,
    journal: str | None,
) -> None:
    """Send only the rows that changed since the last sync (a nightly job).

    CSV and Parquet files are streamed. Exit code 3 when some rows were rejected.

    \b
    Example:
      mailtrap-pandas sync crm.parquet --list-id 3 --missing remove-from-lists
    """
    from mailtrap_pandas.jobs.sync.run import sync as run_sync

    streamable = frame.file.name.lower().endswith((".parquet", ".pq", ".csv", ".csv.gz", ".tsv"))
    source: Any = frame.file if streamable else frame.read()
    result = run_sync(
        source,
        settings.client(),
        list_ids=list(list_ids) or None,
        reconcile=reconcile,  # click checked the choice
        missing=cast(Missing, missing.replace("-", "_")),  # the CLI spells it with "-"
        max_remove_fraction=max_remove_fraction,
        journal=journal if journal else None,
        progress=settings.progress,
        **frame.policies,
    )
    text = repr(result) + problems_text(result.rejected, "rejected rows")
    emit(settings, {"summary": summary_records(result.summary()), **result.counts()}, text)
    if len(result.rejected):
        ctx.exit(EXIT_REJECTED)
