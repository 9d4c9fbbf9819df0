"""``delete``, ``unsubscribe`` and ``resubscribe``: one paced request per contact of a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import click

from mailtrap_pandas.cli.options import EXIT_REJECTED, F, Settings, output_option, pass_settings
from mailtrap_pandas.cli.output import emit, lead, problems_text, summary_records


def removal_options(func: F) -> F:
    """FILE and the options shared by ``delete``, ``unsubscribe`` and ``resubscribe``."""
    command: Any = func
    for decorator in reversed(
        [
            click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
            click.option(
                "--email",
                "email_column",
                help="Column of emails (default: the id column if there is one, else email).",
            ),
            click.option("--dry-run", is_flag=True, help="List what would be sent; send nothing."),
            click.option(
                "--max-delete",
                type=click.IntRange(min=0),
                default=1000,
                show_default=True,
                help="Refuse, before any request, more contacts than this.",
            ),
            click.option("--journal", type=click.Path(dir_okay=False), help="Ledger file."),
            output_option("--output", "Write every row's outcome here (.csv, .parquet, .xlsx)."),
        ]
    ):
        command = decorator(command)
    return cast(F, command)


def _run_removal(
    ctx: click.Context,
    settings: Settings,
    verb: str,
    *,
    file: Path,
    email_column: str | None,
    dry_run: bool,
    max_delete: int,
    journal: str | None,
    output: Path | None,
) -> None:
    import pandas as pd

    from mailtrap_pandas.frames.files import read_frame, write_frame
    from mailtrap_pandas.jobs import removal

    run = {
        "delete": removal.delete_contacts,
        "unsubscribe": removal.unsubscribe,
        "resubscribe": removal.resubscribe,
    }[verb]
    result = run(
        read_frame(file),
        settings.client(),
        email=email_column,
        dry_run=dry_run,
        max_delete=max_delete,
        journal=journal if journal else True,
        progress=settings.progress,
    )
    text = repr(result) + lead(result.summary())
    if dry_run:
        text += problems_text(result.planned, "would be sent")
    text += problems_text(result.failed, "failed rows")
    text += problems_text(result.uncertain, "uncertain rows (run again to settle them)")
    if output is not None:
        kinds = ("planned", "done", "not_found", "failed", "uncertain")
        parts = [getattr(result, k).assign(outcome=k) for k in kinds]
        outcomes = pd.concat([p for p in parts if len(p)] or parts[:1])
        write_frame(outcomes.reset_index(), output)
        text += f"\n\nwrote {len(outcomes):,} row outcomes to {output}"
    emit(settings, {"summary": summary_records(result.summary()), **result.counts()}, text)
    if len(result.failed) or len(result.uncertain):
        ctx.exit(EXIT_REJECTED)


def removal_command(verb: str, doc: str) -> click.Command:
    """The command ``verb`` over the contacts of FILE, with ``doc`` as its help text.

    ``delete``, ``unsubscribe`` and ``resubscribe`` differ only by the job they run and
    their help: one definition, so their options and output cannot drift apart.
    """

    @click.command(name=verb, help=doc)
    @removal_options
    @pass_settings
    @click.pass_context
    def command(ctx: click.Context, settings: Settings, /, **options: Any) -> None:
        _run_removal(ctx, settings, verb, **options)

    return command


delete = removal_command(
    "delete",
    """Delete the contacts of a file, one paced request each; a re-run resumes.

    Matched by the id column (an export) or by email. Exit code 3 when some rows
    failed or are uncertain; a 404 is "not found", not a failure.

    \b
    Example:
      mailtrap-pandas delete bounced.csv --dry-run
      mailtrap-pandas delete bounced.csv --max-delete 5000 -o outcomes.csv
    """,
)

unsubscribe = removal_command(
    "unsubscribe",
    """Unsubscribe the contacts of a file (creating none); a re-run resumes.

    \b
    Example:
      mailtrap-pandas unsubscribe partner-optouts.csv --dry-run
    """,
)

resubscribe = removal_command(
    "resubscribe",
    """Resubscribe the contacts of a file (creating none); a re-run resumes.

    \b
    Example:
      mailtrap-pandas resubscribe opted-back-in.csv
    """,
)
