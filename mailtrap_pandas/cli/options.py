"""What every command shares: the global settings, the exit codes, and the options of the
commands that read a contacts file or write one."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast, get_args

import click

from mailtrap_pandas.errors import MailtrapError
from mailtrap_pandas.modes import Dedupe, Nulls, Unknown

EXIT_ERROR = 1
EXIT_REJECTED = 3
#: Rows read at a time by the commands that stream a file (validate, import, events).
#: Read as ``options.BATCH_ROWS`` at call time, so a test can make the batches small.
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

    def close(self) -> None:
        """Close the clients and emulators :meth:`client` opened for this command."""
        self._stack.close()

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


def column_map(pairs: tuple[str, ...]) -> dict[str, str] | None:
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


def choice_option(name: str, kind: Any, default: str, help: str | None = None) -> Callable[[F], F]:
    """An option taking one value of the ``Literal`` ``kind`` (:mod:`mailtrap_pandas.modes`),
    its default shown in ``--help``."""
    return click.option(
        name, type=click.Choice(get_args(kind)), default=default, show_default=True, help=help
    )


def output_option(name: str, help: str, *, required: bool = False) -> Callable[[F], F]:
    """``-o``/``name``: a file the command writes, its format checked before any work."""
    return click.option(
        "-o",
        name,
        required=required,
        type=click.Path(dir_okay=False, path_type=Path),
        callback=output_path,
        help=help,
    )


def max_remove_fraction_option(help: str) -> Callable[[F], F]:
    """``--max-remove-fraction``: the guard of the commands that take members off lists."""
    return click.option(
        "--max-remove-fraction",
        type=click.FloatRange(0, 1),
        default=0.5,
        show_default=True,
        help=help,
    )


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
        dedupe: Dedupe,
        nulls: Nulls,
        unknown: Unknown,
        truncate_time: bool,
        dayfirst: bool | None,
        date_format: str | None,
        **kwargs: Any,
    ) -> Any:
        columns: dict[str, str | None] = dict(column_map(mapping) or {})
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
            choice_option("--dedupe", Dedupe, "last"),
            choice_option("--nulls", Nulls, "skip"),
            choice_option("--unknown", Unknown, "report"),
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


def output_path(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
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
