"""The contacts-file commands: ``validate``, ``import``, ``export`` and ``plan``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import click

from mailtrap_pandas.cli import options
from mailtrap_pandas.cli.options import (
    EXIT_REJECTED,
    FrameInput,
    Settings,
    choice_option,
    escape_option,
    frame_options,
    output_option,
    pass_settings,
)
from mailtrap_pandas.cli.output import (
    emit,
    import_summary,
    not_sent_records,
    problems_text,
    summary_records,
)
from mailtrap_pandas.limits import MAX_CONTACTS_PER_IMPORT
from mailtrap_pandas.modes import Mode, Status
from mailtrap_pandas.reprs import plural


@click.command()
@frame_options
@output_option("--output", "Write the failures table here (.csv, .parquet, .xlsx).")
@escape_option
@pass_settings
@click.pass_context
def validate(
    ctx: click.Context,
    settings: Settings,
    frame: FrameInput,
    output: Path | None,
    escape_formulas: bool,
) -> None:
    """Check a contacts file against the account's custom fields; send nothing.

    CSV and Parquet are read 50,000 rows at a time, so memory stays bounded
    whatever the file's size. Exit code 3 when some rows would be rejected.

    \b
    Example:
      mailtrap-pandas validate contacts.csv --map "First Name=first_name" -o failures.csv
    """
    from mailtrap_pandas.frames.files import write_frame

    report = frame.validate(settings.client())
    if output is not None:
        write_frame(report.failures, output, escape_formulas=escape_formulas)
    summary = {
        "summary": summary_records(report.summary()),
        "not_sent": not_sent_records(report.not_sent),
        "rows": report.n_rows,
        "valid": report.n_valid,
        "failed_rows": report.n_failed_rows,
        "duplicates": report.n_duplicates,
        "problems": len(report.failures),
        "unknown_columns": report.unknown_columns,
        "ignored_columns": report.ignored_columns,
        "column_map": report.column_map,
    }
    text = repr(report) + problems_text(
        report.failures.set_index("row"), "failures (row = the file's data row, from 0)"
    )
    if output is not None:
        text += f"\n\nwrote {plural(len(report.failures), 'failure')} to {output}"
    emit(settings, summary, text)
    if report.n_failed_rows:
        ctx.exit(EXIT_REJECTED)


@click.command("import")
@frame_options
@click.option("--list-id", "list_ids", type=int, multiple=True, help="Add to this list.")
@click.option(
    "--exclude-list-id", "exclude_list_ids", type=int, multiple=True, help="Remove from this list."
)
@choice_option(
    "--mode", Mode, "upsert", "update_only/create_only take one export of the account first."
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1, MAX_CONTACTS_PER_IMPORT),
    default=MAX_CONTACTS_PER_IMPORT,
    show_default=True,
)
@click.option("--journal", type=click.Path(dir_okay=False), help="Journal file (resume).")
@click.option("--no-journal", is_flag=True, help="Do not keep a journal.")
@click.option("--no-wait", is_flag=True, help="Return once every chunk is submitted.")
@click.option(
    "--retry-failed-jobs",
    type=click.IntRange(0),
    default=1,
    show_default=True,
    help="Send a chunk whose import job failed again, up to N times (0: never).",
)
@click.option("--dry-run", is_flag=True, help="Print the request bodies' sizes; send nothing.")
@output_option("--rejected", "Write the rejected input rows here, ready to fix and re-import.")
@escape_option
@pass_settings
@click.pass_context
def import_(
    ctx: click.Context,
    settings: Settings,
    frame: FrameInput,
    list_ids: tuple[int, ...],
    exclude_list_ids: tuple[int, ...],
    mode: Mode,
    chunk_size: int,
    journal: str | None,
    no_journal: bool,
    no_wait: bool,
    retry_failed_jobs: int,
    dry_run: bool,
    rejected: Path | None,
    escape_formulas: bool,
) -> None:
    """Bulk-import a contacts file: validate, chunk, pace, poll, resume.

    CSV and Parquet are streamed, memory bounded by the chunk size; the
    rejected-rows file is made by reading the file once more. Exit code 3 when
    some rows were rejected (locally or by the server).

    \b
    Example:
      mailtrap-pandas import contacts.parquet --list-id 3 -o rejected.csv
    """
    from mailtrap_pandas.frames.files import write_frame
    from mailtrap_pandas.jobs.imports.run import import_contacts, to_import_payloads
    from mailtrap_pandas.jobs.sources import read_rows

    source = str(frame.file)  # streamed by import_contacts, as in the library
    common: dict[str, Any] = {
        "list_ids": list(list_ids) or None,
        "exclude_list_ids": list(exclude_list_ids) or None,
        "chunk_size": chunk_size,
        **frame.policies,
    }
    client = settings.client()
    if dry_run:
        # Two GETs of the field definitions and two reads of the file; nothing is sent.
        report = frame.validate(client)
        sizes = [len(body) for body in to_import_payloads(source, client, **common)]
        if rejected is not None:
            failed_rows = report.failures["row"].dropna().unique()
            write_frame(
                read_rows(source, failed_rows, options.BATCH_ROWS),
                rejected,
                escape_formulas=escape_formulas,
            )
        emit(
            settings,
            {
                "summary": summary_records(report.summary()),
                "not_sent": not_sent_records(report.not_sent),
                "dry_run": True,
                "rows": report.n_rows,
                "would_send": report.n_valid,
                "rejected": report.n_failed_rows,
                "duplicates": report.n_duplicates,
                "requests": len(sizes),
                "bytes": sizes,
            },
            f"dry run: {report.n_valid:,} of {plural(report.n_rows, 'row')} would be sent in "
            f"{plural(len(sizes), 'import request')}, {plural(sum(sizes), 'byte')}; "
            f"{plural(report.n_failed_rows, 'row')} rejected, "
            f"{plural(report.n_duplicates, 'duplicate')} dropped; nothing sent\n"
            + repr(report)
            + problems_text(report.failures.set_index("row"), "failures"),
        )
        if report.n_failed_rows:
            ctx.exit(EXIT_REJECTED)
        return
    journal_arg: Any = False if no_journal else (journal if journal else True)
    common["mode"] = mode  # click checked the choice
    result = import_contacts(
        source,
        client,
        journal=journal_arg,
        progress=settings.progress,
        wait=not no_wait,
        retry_failed_jobs=retry_failed_jobs,
        **common,
    )
    text = repr(result) + problems_text(result.rejected, "rejected rows")
    if rejected is not None:
        retry = result.retry_frame()
        write_frame(retry, rejected, escape_formulas=escape_formulas)
        text += (
            f"\n\nwrote {plural(len(retry), 'rejected row')} to {rejected}; "
            "fix them and import again"
        )
    emit(settings, import_summary(result), text)
    if len(result.rejected):
        ctx.exit(EXIT_REJECTED)


@click.command()
@output_option("--output", "Where to write the contacts (.csv, .parquet, .xlsx).", required=True)
@click.option("--list-id", "list_ids", type=int, multiple=True, help="Only these lists.")
@click.option("--status", type=click.Choice(get_args(Status)))
@escape_option
@pass_settings
def export(
    settings: Settings,
    output: Path,
    list_ids: tuple[int, ...],
    status: Status | None,
    escape_formulas: bool,
) -> None:
    """Export contacts into a typed file.

    \b
    Example:
      mailtrap-pandas export -o contacts.parquet --list-id 3 --status subscribed
    """
    from mailtrap_pandas.frames.files import write_frame
    from mailtrap_pandas.jobs.exports import read_export

    filters: dict[str, Any] = {"list_ids": list(list_ids) or None, "status": status}
    df = read_export(settings.client(), progress=settings.progress, **filters)
    # Spreadsheets get list_ids as "3;7", like the export file.
    write_frame(df, output, escape_formulas=escape_formulas)
    emit(
        settings,
        {"rows": len(df), "output": str(output)},
        f"wrote {plural(len(df), 'contact')} to {output}",
    )


@click.command()
@frame_options
@choice_option("--mode", Mode, "upsert")
@output_option("--output", "Write the per-row plan here (.csv, .parquet, .xlsx).")
@click.option("--apply", "do_apply", is_flag=True, help="Apply the plan after showing it.")
@escape_option
@pass_settings
@click.pass_context
def plan(
    ctx: click.Context,
    settings: Settings,
    frame: FrameInput,
    mode: Mode,
    output: Path | None,
    do_apply: bool,
    escape_formulas: bool,
) -> None:
    """Diff a contacts file against the account (one export): creates, updates, unchanged.

    Reads the whole file into memory: a plan holds every row's action, and
    --apply imports exactly the rows it showed.

    \b
    Example:
      mailtrap-pandas plan contacts.csv -o plan.csv --apply
    """
    from mailtrap_pandas.frames.files import write_frame
    from mailtrap_pandas.jobs.plans import plan as make_plan

    options: dict[str, Any] = {"mode": mode, **frame.policies}  # click checked the choices
    the_plan = make_plan(frame.read(), settings.client(), progress=settings.progress, **options)
    if output is not None:
        write_frame(the_plan.rows, output, escape_formulas=escape_formulas)
    summary: dict[str, Any] = {
        "summary": summary_records(the_plan.summary()),
        "not_sent": not_sent_records(the_plan.report.not_sent),
        "mode": the_plan.mode,
        "rows": len(the_plan.rows),
        **the_plan.counts(),
    }
    text = repr(the_plan)
    if output is not None:
        text += f"\nwrote the plan of {plural(len(the_plan.rows), 'row')} to {output}"
    rejected = the_plan.counts().get("rejected", 0)
    if do_apply:
        result = the_plan.apply(progress=settings.progress)
        summary["applied"] = import_summary(result)
        text += "\n" + repr(result) + problems_text(result.rejected, "rejected rows")
        rejected += len(result.rejected)
    emit(settings, summary, text)
    if rejected:
        ctx.exit(EXIT_REJECTED)
