"""The ``mailtrap-pandas`` group: global options, errors as one line, and every command."""

from __future__ import annotations

import traceback
from typing import Any, get_args

import click

from mailtrap_pandas.api.client import PathStyle
from mailtrap_pandas.cli import contacts, events, lists, removal, sync
from mailtrap_pandas.cli.options import EXIT_ERROR, Settings, pass_settings
from mailtrap_pandas.cli.output import json_error, redact, to_cli
from mailtrap_pandas.errors import MailtrapError


class Group(click.Group):
    """Turns library errors into one line and exit code 1 (a traceback with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.ClickException as exc:
            settings = ctx.find_object(Settings)
            if settings is not None and settings.as_json:
                # Usage errors too: a script reading stdout gets JSON, and the same exit code.
                json_error(type(exc).__name__, exc.format_message(), settings.token)
            raise
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            settings = ctx.find_object(Settings)
            token = settings.token if settings is not None else None
            if settings is not None and settings.debug:
                click.echo(redact(traceback.format_exc(), token), err=True, nl=False)
            message = to_cli(" ".join((str(exc) or type(exc).__name__).split()))  # one line
            if not isinstance(exc, (MailtrapError, OSError, ValueError)):
                message = f"{type(exc).__name__}: {message}"
                if settings is None or not settings.debug:
                    message += " (run with --debug for the traceback)"
            if settings is not None and settings.as_json:
                json_error(type(exc).__name__, message, token)
            click.echo(f"Error: {redact(message, token)}", err=True)
            ctx.exit(EXIT_ERROR)
        finally:
            settings = ctx.find_object(Settings)
            if settings is not None:
                settings.close()


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--token", envvar="MAILTRAP_API_TOKEN", help="API token [env MAILTRAP_API_TOKEN].")
@click.option(
    "--account-id", envvar="MAILTRAP_ACCOUNT_ID", help="Account id [env MAILTRAP_ACCOUNT_ID]."
)
@click.option("--base-url", envvar="MAILTRAP_BASE_URL", help="API base URL.")
@click.option(
    "--path-style",
    type=click.Choice(get_args(PathStyle)),
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


for _command in (
    contacts.validate,
    contacts.import_,
    contacts.export,
    contacts.plan,
    events.events,
    lists.accounts,
    lists.fields,
    lists.lists,
    sync.sync,
    sync.sync_list_command,
    removal.delete,
    removal.unsubscribe,
    removal.resubscribe,
):
    cli.add_command(_command)
