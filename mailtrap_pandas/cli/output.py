"""How the commands speak: the library's words turned into the CLI's, the human text or the
``--json`` summary, and the tables printed on the terminal."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from mailtrap_pandas.cli.options import Settings


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


def summary_records(frame: Any) -> list[dict[str, Any]]:
    """A summary() frame as JSON-ready records (reasons and labels as text)."""
    return [
        {"column": None if c is None else str(c), "reason": str(r), "rows": int(n)}
        for c, r, n in zip(frame["column"], frame["reason"], frame["rows"], strict=True)
    ]


def not_sent_records(frame: Any) -> list[dict[str, Any]]:
    return [
        {"column": str(c), "reason": str(r), "message": to_cli(str(m))}
        for c, r, m in zip(frame["column"], frame["reason"], frame["message"], strict=True)
    ]


def redact(text: str, token: str | None) -> str:
    """``text`` with the token (if any) replaced, so no output ever shows it."""
    return text.replace(token, "***") if token and len(token) >= 4 else text


def json_error(kind: str, message: str, token: str | None) -> None:
    """``{"error": {"type", "message"}}`` on stdout, for ``--json`` (never the token)."""
    error = {"type": kind, "message": redact(message, token)}
    click.echo(json.dumps({"error": error}, indent=2))


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    import pandas as pd

    if not rows:
        return "(none)"
    return pd.DataFrame(rows, columns=columns).to_string(index=False)


def import_summary(result: Any) -> dict[str, Any]:
    """The summary and counts of an ImportResult, for ``--json`` (the summary first)."""
    lead = {
        "summary": summary_records(result.summary()),
        "not_sent": not_sent_records(result.not_sent),
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


def lead(summary: Any) -> str:
    """The failure summary under a result's first line ("" when nothing failed)."""
    from mailtrap_pandas.reprs import summary_text

    text = summary_text(summary, "failures by reason (result.summary())")
    return "\n" + text if text else ""


def problems_text(df: Any, title: str, limit: int = 50) -> str:
    """The first rows of a problems frame as an aligned table, for the terminal."""
    if not len(df):
        return ""
    shown = df.head(limit).astype(object).where(df.head(limit).notna(), "")
    more = len(df) - len(shown)
    tail = f"\n... and {more:,} more" if more > 0 else ""
    title = f"{title} (first {len(shown):,} of {len(df):,})" if more > 0 else title
    body = shown.to_string(max_colwidth=48)
    return f"\n\n{title}:\n{body}{tail}"
