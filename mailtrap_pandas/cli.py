"""``mailtrap-pandas``: the command line, a thin shell over the library.

Exit codes: 0 success, 1 error (one line; a traceback only with ``--debug``),
2 usage, 3 when some rows were rejected.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from mailtrap_pandas.errors import MailtrapError
from mailtrap_pandas.limits import MAX_CONTACTS_PER_IMPORT
from mailtrap_pandas.reprs import plural

EXIT_ERROR = 1
EXIT_REJECTED = 3
#: Rows read at a time by the commands that stream a file (validate, import, events).
BATCH_ROWS = 50_000

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Settings:
    """Global options, shared by every command through the click context."""

    token: str | None = None
    account_id: str | None = None
    base_url: str | None = None
    path_style: str = "account"
    emulator: bool = False
    debug: bool = False
    as_json: bool = False
    progress: bool = True
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def client(self) -> Any:
        """A Client from the options and environment, or one bound to an in-process emulator."""
        from mailtrap_pandas.api.client import Client

        if self.emulator:
            from mailtrap_pandas.emulator import Emulator

            emu = self._stack.enter_context(Emulator())
            return self._stack.enter_context(emu.client())
        return self._stack.enter_context(
            Client(
                self.token,
                account_id=self.account_id,
                base_url=self.base_url,
                path_style=self.path_style,  # type: ignore[arg-type]
            )
        )


pass_settings = click.make_pass_decorator(Settings)


#: Python spellings in the library's messages, and what to say on the command line instead.
_CLI_WORDS: list[tuple[str, str]] = [
    (r"columns=\{'<name>': 'email'\}", "--map '<name>=email'"),
    (r"columns=\{\.\.\.\}", "--map COLUMN=MERGE_TAG"),
    (r"None in columns=", "--ignore"),
    (r"\bcolumns=", "--map"),
    (r"\b(unknown|dedupe|nulls|mode)='(\w+)'", r"--\1 \2"),
    (r"\btruncate_time=True\b", "--truncate-time"),
    (r"\bdayfirst=True\b", "--dayfirst"),
    (r"\bdayfirst=False\b", "--monthfirst"),
    (r"\bdate_format=(?![\w'\"])", "--date-format FORMAT"),
    (r"\bdate_format=", "--date-format "),
    (r"client\.lists\.list\(\)", "mailtrap-pandas lists list"),
    (r"client\.lists\.create\(name\)", "mailtrap-pandas lists create NAME"),
    (r"client\.fields\.list\(\)", "mailtrap-pandas fields list"),
    (r"df\.mailtrap\.plan\(\.\.\.\)", "mailtrap-pandas plan FILE"),
    (r"df\.mailtrap\.sync_list\(\.\.\.\)", "mailtrap-pandas sync-list FILE"),
    (r"; see report\.failures", "; -o failures.csv writes them all"),
    (r"result\.retry_frame\(\)", "-o rejected.csv"),
    (r"\(?(?:report|result|plan)\.summary\(\)\)?", ""),
    (r",? e\.g\. s\.str\.replace\(',', ''\)", ""),
    (r",? e\.g\. \.astype\('Int64'\)\.astype\('string'\)", ""),
]


def to_cli(text: str) -> str:
    """``text`` with the library's Python spellings replaced by the CLI's flags and commands.

    Examples
    --------
    >>> to_cli("pass columns={...} to choose one (unknown='error')")
    'pass --map COLUMN=MERGE_TAG to choose one (--unknown error)'
    >>> to_cli("see client.lists.list()")
    'see mailtrap-pandas lists list'
    >>> to_cli("pass dayfirst=True (3 April) or dayfirst=False, or date_format=")
    'pass --dayfirst (3 April) or --monthfirst, or --date-format FORMAT'
    """
    for pattern, replacement in _CLI_WORDS:
        text = re.sub(pattern, replacement, text)
    return text.replace(" :\n", ":\n")


def emit(settings: Settings, summary: dict[str, Any], text: str) -> None:
    """Print a machine-readable summary with ``--json``, else the human text."""
    if settings.as_json:
        click.echo(json.dumps(summary, default=str, indent=2))
    else:
        click.echo(to_cli(text))


def _summary_records(frame: Any) -> list[dict[str, Any]]:
    """A summary() frame as JSON-ready records (reasons and labels as text)."""
    return [
        {"column": None if c is None else str(c), "reason": str(r), "rows": int(n)}
        for c, r, n in zip(frame["column"], frame["reason"], frame["rows"], strict=True)
    ]


def _not_sent_records(frame: Any) -> list[dict[str, Any]]:
    return [
        {"column": str(c), "reason": str(r), "message": to_cli(str(m))}
        for c, r, m in zip(frame["column"], frame["reason"], frame["message"], strict=True)
    ]


def _redact(text: str, token: str | None) -> str:
    """``text`` with the token (if any) replaced, so no output ever shows it."""
    return text.replace(token, "***") if token and len(token) >= 4 else text


def _json_error(kind: str, message: str, token: str | None) -> None:
    """``{"error": {"type", "message"}}`` on stdout, for ``--json`` (never the token)."""
    error = {"type": kind, "message": _redact(message, token)}
    click.echo(json.dumps({"error": error}, indent=2))


class Group(click.Group):
    """Turns library errors into one line and exit code 1 (a traceback with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.ClickException as exc:
            settings = ctx.find_object(Settings)
            if settings is not None and settings.as_json:
                # Usage errors too: a script reading stdout gets JSON, and the same exit code.
                _json_error(type(exc).__name__, exc.format_message(), settings.token)
            raise
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            settings = ctx.find_object(Settings)
            token = settings.token if settings is not None else None
            if settings is not None and settings.debug:
                click.echo(_redact(traceback.format_exc(), token), err=True, nl=False)
            message = to_cli(" ".join((str(exc) or type(exc).__name__).split()))  # one line
            if not isinstance(exc, (MailtrapError, OSError, ValueError)):
                message = f"{type(exc).__name__}: {message}"
                if settings is None or not settings.debug:
                    message += " (run with --debug for the traceback)"
            if settings is not None and settings.as_json:
                _json_error(type(exc).__name__, message, token)
            click.echo(f"Error: {_redact(message, token)}", err=True)
            ctx.exit(EXIT_ERROR)
        finally:
            settings = ctx.find_object(Settings)
            if settings is not None:
                settings._stack.close()


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--token", envvar="MAILTRAP_API_TOKEN", help="API token [env MAILTRAP_API_TOKEN].")
@click.option(
    "--account-id", envvar="MAILTRAP_ACCOUNT_ID", help="Account id [env MAILTRAP_ACCOUNT_ID]."
)
@click.option("--base-url", envvar="MAILTRAP_BASE_URL", help="API base URL.")
@click.option(
    "--path-style",
    type=click.Choice(["account", "token"]),
    default="account",
    help="/api/accounts/{id}/contacts (default) or /api/contacts.",
)
@click.option("--emulator", is_flag=True, help="Run against a fresh in-process emulator.")
@click.option("--debug", is_flag=True, help="Show tracebacks (never the token).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
@click.version_option(package_name="mailtrap-pandas", prog_name="mailtrap-pandas")
@click.pass_context
def cli(
    ctx: click.Context,
    token: str | None,
    account_id: str | None,
    base_url: str | None,
    path_style: str,
    emulator: bool,
    debug: bool,
    as_json: bool,
    no_progress: bool,
) -> None:
    """Validate, import, export and tidy Mailtrap contacts from data files.

    \b
    Example:
      export MAILTRAP_API_TOKEN=...
      mailtrap-pandas validate contacts.csv
    """
    ctx.obj = Settings(
        token=token,
        account_id=account_id,
        base_url=base_url,
        path_style=path_style,
        emulator=emulator,
        debug=debug,
        as_json=as_json,
        progress=not no_progress,
    )


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    cli.main(args=argv, prog_name="mailtrap-pandas")


# -- emulator and demo -------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=int)
@click.option("--db", type=click.Path(dir_okay=False), help="SQLite file (default: in memory).")
@click.option("--token", "emu_token", default="emulator-token", show_default=True)
@click.option("--account-id", "emu_account", default=1000001, show_default=True, type=int)
@click.option("--rate-limit", default="200/60,150/10", show_default=True, help="N/SECONDS or off.")
def emulator(
    host: str, port: int, db: str | None, emu_token: str, emu_account: int, rate_limit: str
) -> None:
    """Run the local emulator of the Contacts API until interrupted.

    \b
    Example:
      mailtrap-pandas emulator --port 8025 --db contacts.sqlite
      MAILTRAP_BASE_URL=http://127.0.0.1:8025 MAILTRAP_API_TOKEN=emulator-token \\
        mailtrap-pandas lists list
    """
    from mailtrap_pandas.api.ratelimit import parse_rate_limit
    from mailtrap_pandas.emulator import serve

    windows = parse_rate_limit(rate_limit)
    scoped = None
    if windows is not None:
        # The first window is the per-account pool, the others per token (as documented).
        scoped = [
            (w.limit, w.period, "account" if i == 0 else "token") for i, w in enumerate(windows)
        ]
    serve(host=host, port=port, db=db, token=emu_token, account_id=emu_account, rate_limit=scoped)


@cli.command()
@pass_settings
def demo(settings: Settings) -> None:
    """Run the whole job end to end on a built-in emulator (no account needed).

    \b
    Example:
      mailtrap-pandas demo
    """
    from mailtrap_pandas.demo import run_demo

    run_demo(progress=settings.progress)


# -- accounts, fields, lists ---------------------------------------------------------------


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    import pandas as pd

    if not rows:
        return "(none)"
    return pd.DataFrame(rows, columns=columns).to_string(index=False)


@cli.command()
@pass_settings
def accounts(settings: Settings) -> None:
    """List the accounts the token can see.

    \b
    Example:
      mailtrap-pandas accounts
    """
    rows = settings.client().accounts.list()
    emit(settings, {"accounts": rows}, _table(rows, ["id", "name", "access_levels"]))


@cli.group()
def fields() -> None:
    """Custom fields: list, create, delete.

    \b
    Example:
      mailtrap-pandas fields create "Zip code" text zip
    """


@fields.command("list")
@pass_settings
def fields_list(settings: Settings) -> None:
    """List the account's custom fields.

    \b
    Example:
      mailtrap-pandas fields list
    """
    rows = settings.client().fields.list()
    emit(settings, {"fields": rows}, _table(rows, ["id", "name", "data_type", "merge_tag"]))


@fields.command("create")
@click.argument("name")
@click.argument("data_type", type=click.Choice(["text", "integer", "float", "boolean", "date"]))
@click.argument("merge_tag")
@pass_settings
def fields_create(settings: Settings, name: str, data_type: str, merge_tag: str) -> None:
    """Create a custom field.

    \b
    Example:
      mailtrap-pandas fields create "Signup date" date signup_date
    """
    row = settings.client().fields.create(name, data_type, merge_tag)  # type: ignore[arg-type]
    emit(settings, {"field": row}, f"created field {row['id']} ({row['merge_tag']})")


@fields.command("delete")
@click.argument("field_id", type=int)
@pass_settings
def fields_delete(settings: Settings, field_id: int) -> None:
    """Delete a custom field.

    \b
    Example:
      mailtrap-pandas fields delete 12
    """
    settings.client().fields.delete(field_id)
    emit(settings, {"deleted": field_id}, f"deleted field {field_id}")


@cli.group()
def lists() -> None:
    """Contact lists: list, create, rename, delete.

    \b
    Example:
      mailtrap-pandas lists create Newsletter
    """


@lists.command("list")
@pass_settings
def lists_list(settings: Settings) -> None:
    """List the account's contact lists.

    \b
    Example:
      mailtrap-pandas lists list
    """
    rows = settings.client().lists.list()
    emit(settings, {"lists": rows}, _table(rows, ["id", "name"]))


@lists.command("create")
@click.argument("name")
@pass_settings
def lists_create(settings: Settings, name: str) -> None:
    """Create a contact list.

    \b
    Example:
      mailtrap-pandas lists create "Spring webinar"
    """
    row = settings.client().lists.create(name)
    emit(settings, {"list": row}, f"created list {row['id']} ({row['name']})")


@lists.command("rename")
@click.argument("list_id", type=int)
@click.argument("name")
@pass_settings
def lists_rename(settings: Settings, list_id: int, name: str) -> None:
    """Rename a contact list.

    \b
    Example:
      mailtrap-pandas lists rename 3 "Spring webinar 2027"
    """
    row = settings.client().lists.update(list_id, name)
    emit(settings, {"list": row}, f"renamed list {row['id']} to {row['name']}")


@lists.command("delete")
@click.argument("list_id", type=int)
@pass_settings
def lists_delete(settings: Settings, list_id: int) -> None:
    """Delete a contact list (its contacts are kept).

    \b
    Example:
      mailtrap-pandas lists delete 3
    """
    settings.client().lists.delete(list_id)
    emit(settings, {"deleted": list_id}, f"deleted list {list_id}")


# -- frame commands ------------------------------------------------------------------------


def _column_map(pairs: tuple[str, ...]) -> dict[str, str] | None:
    if not pairs:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"{pair!r} is not COLUMN=MERGE_TAG", param_hint="--map")
        src, dst = pair.split("=", 1)
        out[src] = dst
    return out


@dataclass(frozen=True)
class FrameInput:
    """A contacts file and how to validate it: what ``frame_options`` hands a command."""

    file: Path
    policies: dict[str, Any]  # validate()'s keyword arguments (click checked the choices)

    def read(self) -> Any:
        """The whole file as a frame of raw values (for commands that need every row at once)."""
        from mailtrap_pandas.frames.files import read_frame

        return read_frame(self.file)

    def validate(self, client: Any) -> Any:
        """Validate the file batch by batch (memory bounded by the batch): a StreamedReport."""
        from mailtrap_pandas.jobs.validate_stream import validate_stream

        return validate_stream(str(self.file), client, batch_rows=BATCH_ROWS, **self.policies)


def frame_options(func: F) -> F:
    """FILE and the validation options shared by the commands that read a contacts file.

    The command receives them as one ``frame: FrameInput`` argument.
    """

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        file: Path,
        mapping: tuple[str, ...],
        ignore: tuple[str, ...],
        dedupe: str,
        nulls: str,
        unknown: str,
        truncate_time: bool,
        dayfirst: bool | None,
        date_format: str | None,
        **kwargs: Any,
    ) -> Any:
        columns: dict[str, str | None] = dict(_column_map(mapping) or {})
        both = sorted(set(ignore) & set(columns))
        if both:
            raise click.BadParameter(
                f"{both} both mapped with --map and left out with --ignore", param_hint="--ignore"
            )
        columns.update(dict.fromkeys(ignore))  # None: leave the column out
        policies = {
            "columns": columns or None,
            "dedupe": dedupe,
            "nulls": nulls,
            "unknown": unknown,
            "truncate_time": truncate_time,
            "dayfirst": dayfirst,
            "date_format": date_format,
        }
        return func(*args, frame=FrameInput(file, policies), **kwargs)

    command: Any = wrapper
    for decorator in reversed(
        [
            click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
            click.option("--map", "mapping", multiple=True, help="COLUMN=MERGE_TAG (repeatable)."),
            click.option(
                "--ignore", multiple=True, help="Leave this column out; send nothing (repeatable)."
            ),
            click.option(
                "--dedupe",
                type=click.Choice(["last", "first", "error"]),
                default="last",
                show_default=True,
            ),
            click.option(
                "--nulls", type=click.Choice(["skip", "error"]), default="skip", show_default=True
            ),
            click.option(
                "--unknown",
                type=click.Choice(["report", "error", "ignore"]),
                default="report",
                show_default=True,
            ),
            click.option(
                "--truncate-time",
                is_flag=True,
                help="Date fields: keep the date of a date-time (as written, in its own offset).",
            ),
            click.option(
                "--dayfirst/--monthfirst",
                default=None,
                help="Date fields: read 03/04/2024 as 3 April (--dayfirst) or 4 March; "
                "unset, such dates are rejected as ambiguous.",
            ),
            click.option(
                "--date-format",
                metavar="FORMAT",
                help='Date fields: a strftime format tried first, e.g. "%d.%m.%Y".',
            ),
        ]
    ):
        command = decorator(command)
    return cast(F, command)


def _output_path(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Check an output file's format before any work (a usage error, exit 2)."""
    from mailtrap_pandas.frames.files import check_output_path

    if value is None:
        return None
    try:
        return check_output_path(value)
    except MailtrapError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


escape_option = click.option(
    "--escape-formulas",
    is_flag=True,
    help="CSV/TSV output for a spreadsheet: prefix ' to text starting with = + - @ "
    "(alters values; off by default, so files round-trip unchanged).",
)


def _import_summary(result: Any) -> dict[str, Any]:
    """The summary and counts of an ImportResult, for ``--json`` (the summary first)."""
    lead = {
        "summary": _summary_records(result.summary()),
        "not_sent": _not_sent_records(result.not_sent),
    }
    if hasattr(result, "counts"):
        return {**lead, **result.counts()}
    return {
        **lead,
        "ok": bool(result.ok),
        "imported": len(result.imported_index),
        "created": int(result.created),
        "updated": int(result.updated),
        "over_limit": int(result.over_limit),
        "rejected": int(result.rejected.index.nunique()),
        "duplicates": len(result.duplicates),
        "jobs": len(result.jobs),
        "pending": int(result.pending),
        "requests": int(result.requests),
    }


def _problems_text(df: Any, title: str, limit: int = 50) -> str:
    """The first rows of a problems frame as an aligned table, for the terminal."""
    if not len(df):
        return ""
    shown = df.head(limit).astype(object).where(df.head(limit).notna(), "")
    more = len(df) - len(shown)
    tail = f"\n... and {more:,} more" if more > 0 else ""
    title = f"{title} (first {len(shown):,} of {len(df):,})" if more > 0 else title
    body = shown.to_string(max_colwidth=48)
    return f"\n\n{title}:\n{body}{tail}"


@cli.command()
@frame_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_output_path,
    help="Write the failures table here (.csv, .parquet, .xlsx).",
)
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
        "summary": _summary_records(report.summary()),
        "not_sent": _not_sent_records(report.not_sent),
        "rows": report.n_rows,
        "valid": report.n_valid,
        "failed_rows": report.n_failed_rows,
        "duplicates": report.n_duplicates,
        "problems": len(report.failures),
        "unknown_columns": report.unknown_columns,
        "ignored_columns": report.ignored_columns,
        "column_map": report.column_map,
    }
    text = repr(report) + _problems_text(
        report.failures.set_index("row"), "failures (row = the file's data row, from 0)"
    )
    if output is not None:
        text += f"\n\nwrote {plural(len(report.failures), 'failure')} to {output}"
    emit(settings, summary, text)
    if report.n_failed_rows:
        ctx.exit(EXIT_REJECTED)


@cli.command("import")
@frame_options
@click.option("--list-id", "list_ids", type=int, multiple=True, help="Add to this list.")
@click.option(
    "--exclude-list-id", "exclude_list_ids", type=int, multiple=True, help="Remove from this list."
)
@click.option(
    "--mode",
    type=click.Choice(["upsert", "update_only", "create_only"]),
    default="upsert",
    show_default=True,
    help="update_only/create_only take one export of the account first.",
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
@click.option(
    "-o",
    "--rejected",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_output_path,
    help="Write the rejected input rows here, ready to fix and re-import.",
)
@escape_option
@pass_settings
@click.pass_context
def import_(
    ctx: click.Context,
    settings: Settings,
    frame: FrameInput,
    list_ids: tuple[int, ...],
    exclude_list_ids: tuple[int, ...],
    mode: str,
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
                read_rows(source, failed_rows, BATCH_ROWS),
                rejected,
                escape_formulas=escape_formulas,
            )
        emit(
            settings,
            {
                "summary": _summary_records(report.summary()),
                "not_sent": _not_sent_records(report.not_sent),
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
            + _problems_text(report.failures.set_index("row"), "failures"),
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
    text = repr(result) + _problems_text(result.rejected, "rejected rows")
    if rejected is not None:
        retry = result.retry_frame()
        write_frame(retry, rejected, escape_formulas=escape_formulas)
        text += (
            f"\n\nwrote {plural(len(retry), 'rejected row')} to {rejected}; "
            "fix them and import again"
        )
    emit(settings, _import_summary(result), text)
    if len(result.rejected):
        ctx.exit(EXIT_REJECTED)


@cli.command()
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_output_path,
    help="Where to write the contacts (.csv, .parquet, .xlsx).",
)
@click.option("--list-id", "list_ids", type=int, multiple=True, help="Only these lists.")
@click.option("--status", type=click.Choice(["subscribed", "unsubscribed"]))
@escape_option
@pass_settings
def export(
    settings: Settings,
    output: Path,
    list_ids: tuple[int, ...],
    status: str | None,
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


@cli.command()
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
    frames, _total, _stream = open_source(str(file), BATCH_ROWS)
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
    emit(settings, result.summary(), text)
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


@cli.command()
@frame_options
@click.option(
    "--mode",
    type=click.Choice(["upsert", "update_only", "create_only"]),
    default="upsert",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_output_path,
    help="Write the per-row plan here (.csv, .parquet, .xlsx).",
)
@click.option("--apply", "do_apply", is_flag=True, help="Apply the plan after showing it.")
@escape_option
@pass_settings
@click.pass_context
def plan(
    ctx: click.Context,
    settings: Settings,
    frame: FrameInput,
    mode: str,
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
    from mailtrap_pandas.jobs.hygiene import plan as make_plan

    options: dict[str, Any] = {"mode": mode, **frame.policies}  # click checked the choices
    the_plan = make_plan(frame.read(), settings.client(), progress=settings.progress, **options)
    if output is not None:
        write_frame(the_plan.rows, output, escape_formulas=escape_formulas)
    summary: dict[str, Any] = {
        "summary": _summary_records(the_plan.summary()),
        "not_sent": _not_sent_records(the_plan.report.not_sent),
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
        summary["applied"] = _import_summary(result)
        text += "\n" + repr(result) + _problems_text(result.rejected, "rejected rows")
        rejected += len(result.rejected)
    emit(settings, summary, text)
    if rejected:
        ctx.exit(EXIT_REJECTED)


@cli.command("sync-list")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list-id", required=True, type=int, help="The list to make match the file.")
@click.option(
    "--remove-missing", is_flag=True, help="Also take off the list its members not in the file."
)
@click.option(
    "--max-remove-fraction",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Refuse to apply when removals exceed this share of the list's members.",
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
    from mailtrap_pandas.jobs.hygiene import TooManyRemovalsError, sync_list

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
    text += _problems_text(sync.adds.set_index("email")[["exists"]], "adds", limit=10)
    text += _problems_text(sync.removes, "removes", limit=10)
    text += _problems_text(sync.rejected.set_index("row"), "invalid emails (not synced)")
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
        summary["applied"] = {k: _import_summary(v) for k, v in done.items()}
        lines = []
        for direction, result in done.items():
            rejected += len(result.rejected)
            lines.append(
                f"{direction}: {result!r}"
                + _problems_text(result.rejected, f"{direction} rejected")
            )
        text = "\n".join(lines) or "nothing to apply: the list already matches"
    elif not sync.empty:
        text += "\nnothing was sent; run again with --apply to apply"
    emit(settings, summary, text)
    if rejected:
        ctx.exit(EXIT_REJECTED)


# -- removal: delete, unsubscribe, resubscribe (issue 16; keep this block together) -------


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
            click.option(
                "-o",
                "--output",
                type=click.Path(dir_okay=False, path_type=Path),
                callback=_output_path,
                help="Write every row's outcome here (.csv, .parquet, .xlsx).",
            ),
        ]
    ):
        command = decorator(command)
    return cast(F, command)


def _run_removal(
    ctx: click.Context,
    settings: Settings,
    verb: str,
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
    text = repr(result)
    if dry_run:
        text += _problems_text(result.planned, "would be sent")
    text += _problems_text(result.failed, "failed rows")
    text += _problems_text(result.uncertain, "uncertain rows (run again to settle them)")
    if output is not None:
        kinds = ("planned", "done", "not_found", "failed", "uncertain")
        parts = [getattr(result, k).assign(outcome=k) for k in kinds]
        outcomes = pd.concat([p for p in parts if len(p)] or parts[:1])
        write_frame(outcomes.reset_index(), output)
        text += f"\n\nwrote {len(outcomes):,} row outcomes to {output}"
    emit(settings, result.summary(), text)
    if len(result.failed) or len(result.uncertain):
        ctx.exit(EXIT_REJECTED)


@cli.command()
@removal_options
@pass_settings
@click.pass_context
def delete(
    ctx: click.Context,
    settings: Settings,
    file: Path,
    email_column: str | None,
    dry_run: bool,
    max_delete: int,
    journal: str | None,
    output: Path | None,
) -> None:
    """Delete the contacts of a file, one paced request each; a re-run resumes.

    Matched by the id column (an export) or by email. Exit code 3 when some rows
    failed or are uncertain; a 404 is "not found", not a failure.

    \b
    Example:
      mailtrap-pandas delete bounced.csv --dry-run
      mailtrap-pandas delete bounced.csv --max-delete 5000 -o outcomes.csv
    """
    _run_removal(ctx, settings, "delete", file, email_column, dry_run, max_delete, journal, output)


@cli.command()
@removal_options
@pass_settings
@click.pass_context
def unsubscribe(
    ctx: click.Context,
    settings: Settings,
    file: Path,
    email_column: str | None,
    dry_run: bool,
    max_delete: int,
    journal: str | None,
    output: Path | None,
) -> None:
    """Unsubscribe the contacts of a file (creating none); a re-run resumes.

    \b
    Example:
      mailtrap-pandas unsubscribe partner-optouts.csv --dry-run
    """
    _run_removal(
        ctx, settings, "unsubscribe", file, email_column, dry_run, max_delete, journal, output
    )


@cli.command()
@removal_options
@pass_settings
@click.pass_context
def resubscribe(
    ctx: click.Context,
    settings: Settings,
    file: Path,
    email_column: str | None,
    dry_run: bool,
    max_delete: int,
    journal: str | None,
    output: Path | None,
) -> None:
    """Resubscribe the contacts of a file (creating none); a re-run resumes.

    \b
    Example:
      mailtrap-pandas resubscribe opted-back-in.csv
    """
    _run_removal(
        ctx, settings, "resubscribe", file, email_column, dry_run, max_delete, journal, output
    )


# -- end of the removal block ---------------------------------------------------------------


# -- incremental sync (issue 13) ---------------------------------------------------------


@cli.command()
@frame_options
@click.option("--list-id", "list_ids", type=int, multiple=True, help="Add every row to list N.")
@click.option(
    "--reconcile",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Compare with one export first (auto: first sync, then every 7 days).",
)
@click.option(
    "--missing",
    type=click.Choice(["keep", "remove-from-lists"]),
    default="keep",
    show_default=True,
    help="Rows gone from FILE since the last sync: keep, or take them off the --list-id lists.",
)
@click.option(
    "--max-remove-fraction",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Refuse to take more than this share of a list's members off it.",
)
@click.option("--journal", type=click.Path(dir_okay=False), help="State and journal file.")
@pass_settings
@click.pass_context
def sync(
    ctx: click.Context,
    settings: Settings,
    frame: FrameInput,
    list_ids: tuple[int, ...],
    reconcile: str,
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
        reconcile=cast(Any, reconcile),  # click checked the choice
        missing=cast(Any, missing.replace("-", "_")),
        max_remove_fraction=max_remove_fraction,
        journal=journal if journal else None,
        progress=settings.progress,
        **frame.policies,
    )
    text = repr(result) + _problems_text(result.rejected, "rejected rows")
    emit(settings, result.summary(), text)
    if len(result.rejected):
        ctx.exit(EXIT_REJECTED)


if __name__ == "__main__":  # pragma: no cover
    main()
