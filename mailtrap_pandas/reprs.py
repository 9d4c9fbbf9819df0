"""Building blocks of the notebook (HTML) reprs of reports, results and plans.

Inline styles only, so the look is the same in Jupyter, VS Code and a static
HTML export; every value is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

__all__ = [
    "SUMMARY_COLUMNS",
    "counts",
    "failure_summary",
    "heading",
    "note",
    "plural",
    "section",
    "not_sent_frame",
    "not_sent_text",
    "outcome_summary",
    "summary_text",
    "table",
]

#: The columns of every ``summary()`` frame: failures grouped by column and reason.
SUMMARY_COLUMNS = ["column", "reason", "rows"]

SHOWN = 20
GOOD, BAD, PLAIN, MUTED, WARN = "#1b5e20", "#b71c1c", "#212121", "#666", "#e65100"
_CELL = "padding:3px 10px;text-align:left;vertical-align:top;"
_HEAD = _CELL + "border-bottom:1px solid #999;font-weight:600;"
_NUM = "padding:3px 10px;text-align:right;font-variant-numeric:tabular-nums;"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 row"``, ``"2 rows"``, with thousands separators.

    Examples
    --------
    >>> plural(1, "row"), plural(1200, "duplicate"), plural(2, "entry", "entries")
    ('1 row', '1,200 duplicates', '2 entries')
    """
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def heading(name: str, ok: bool, verdict: str) -> str:
    """The first line: the object's name and a ✓/✗ verdict in green or red."""
    colour, mark = (GOOD, "&#10003;") if ok else (BAD, "&#10007;")
    return (
        f'<div style="font-weight:600;margin-bottom:6px">{html.escape(name)} '
        f'<span style="color:{colour}">{mark} {html.escape(verdict)}</span></div>'
    )


def counts(items: Sequence[tuple[str, int, str]], *, hide_zero: Iterable[str] = ()) -> str:
    """A strip of big numbers with labels: ``(label, value, colour)``."""
    hidden = set(hide_zero)
    shown = [(label, v, c) for label, v, c in items if not (label in hidden and v == 0)]
    return (
        '<table style="border-collapse:collapse;margin:2px 0 4px 0"><tr>'
        + "".join(f'<th style="{_HEAD}">{html.escape(label)}</th>' for label, _, _ in shown)
        + "</tr><tr>"
        + "".join(f'<td style="{_NUM}font-size:1.3em;color:{c}">{v:,}</td>' for _, v, c in shown)
        + "</tr></table>"
    )


def note(text: str) -> str:
    """A grey line of explanation (HTML allowed: the caller escapes values)."""
    return f'<div style="color:{MUTED};font-size:0.9em">{text}</div>'


def section(title: str) -> str:
    """A bold caption above a table (HTML allowed)."""
    return f'<div style="margin-top:10px;font-weight:600">{title}</div>'


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str | list | tuple) and _isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, pd.Timestamp):
        return value.strftime("%H:%M:%S")
    return str(value)


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def table(
    df: pd.DataFrame,
    *,
    index: str | None = None,
    code: Iterable[str] = (),
    bad: Iterable[str] = (),
    numeric: Iterable[str] = (),
    limit: int = SHOWN,
    what: str = "rows",
    where: str = "",
) -> str:
    """A left-aligned table of the first ``limit`` rows, with a caption when cut.

    Parameters
    ----------
    df : DataFrame
        What to show.
    index : str, optional
        Show the index as a first column under this name.
    code, bad, numeric : column names
        Shown as code (values visible, blanks included), in red, right-aligned.
    what, where : str
        Caption words: "First 20 of 315 <what> (all in <where>)".
    """
    code, bad, numeric = set(code), set(bad), set(numeric)
    shown = df.head(limit)
    if index is not None:
        shown = shown.reset_index(names=index)
        numeric.add(index)
    header = "".join(f'<th style="{_HEAD}">{html.escape(str(c))}</th>' for c in shown.columns)
    rows = []
    for record in shown.itertuples(index=False):
        cells = []
        for name, value in zip(shown.columns, record, strict=True):
            text = html.escape(_text(value))
            if name in code:
                text = text if len(text) <= 40 else text[:39] + "&hellip;"
                cells.append(
                    f'<td style="{_CELL}"><code style="white-space:pre;background:#fff3e0">'
                    f"{text}</code></td>"
                )
            elif name in numeric:
                cells.append(f'<td style="{_NUM}">{text}</td>')
            elif name in bad:
                cells.append(f'<td style="{_CELL}color:{BAD}">{text}</td>')
            else:
                cells.append(f'<td style="{_CELL}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = ""
    if len(df) > len(shown):
        place = f" (all in <code>{html.escape(where)}</code>)" if where else ""
        caption = note(f"first {len(shown)} of {len(df):,} {html.escape(what)}{place}")
    return (
        f'<table style="border-collapse:collapse"><tr>{header}</tr>{"".join(rows)}</table>'
        + caption
    )


def failure_summary(problems: pd.DataFrame) -> pd.DataFrame:
    """Problems grouped by ``column`` and ``reason``: ``column, reason, rows``, most rows first.

    ``rows`` sums to ``len(problems)``; a problem of no column (``None``) is a group too.

    Examples
    --------
    >>> problems = pd.DataFrame({"column": ["a", "b", "b"], "reason": ["x", "y", "y"]})
    >>> failure_summary(problems).values.tolist()
    [['b', 'y', 2], ['a', 'x', 1]]
    """
    if problems.empty:
        return pd.DataFrame(
            {
                "column": pd.Series([], dtype=object),
                "reason": pd.Series([], dtype=object),
                "rows": pd.Series([], dtype="int64"),
            }
        )
    keys = pd.DataFrame(
        {
            "column": problems["column"].astype(object).to_numpy(),
            "reason": problems["reason"].astype(object).to_numpy(),
        }
    )
    grouped = keys.groupby(["column", "reason"], dropna=False, sort=False).size()
    out = grouped.rename("rows").reset_index()
    # Most rows first; ties keep the order in which the problems first appear.
    out = out.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)
    out["rows"] = out["rows"].astype("int64")
    # groupby turns a None key into NaN: give "no column" back as None.
    column = out["column"].astype(object)
    out["column"] = column.where(column.notna(), None)
    return out[SUMMARY_COLUMNS]


def outcome_summary(*frames: pd.DataFrame) -> pd.DataFrame:
    """The rows of outcome frames (``failed``, ``uncertain``) grouped by reason, as a summary frame.

    Events and removals fail a whole row, not one column's value: ``column`` is ``None``.

    Examples
    --------
    >>> failed = pd.DataFrame({"reason": ["not_sent", "invalid_email", "not_sent"]})
    >>> outcome_summary(failed).values.tolist()
    [[None, 'not_sent', 2], [None, 'invalid_email', 1]]
    """
    reasons = [str(r) for f in frames for r in f["reason"]]
    return failure_summary(pd.DataFrame({"column": [None] * len(reasons), "reason": reasons}))


def summary_text(summary: pd.DataFrame, title: str, limit: int = 20) -> str:
    """The summary frame as aligned lines under a title ("" when empty), for print() and the CLI."""
    if summary.empty:
        return ""
    shown = summary.head(limit)
    columns = ["" if _isna(c) else str(c) for c in shown["column"]]
    reasons = [str(r) for r in shown["reason"]]
    rows = [f"{n:,}" for n in shown["rows"]]
    wc = max(len("column"), *map(len, columns))
    wr = max(len("reason"), *map(len, reasons))
    wn = max(len("rows"), *map(len, rows))
    lines = [f"{title}:", f"  {'column':<{wc}}  {'reason':<{wr}}  {'rows':>{wn}}"]
    lines += [
        f"  {c:<{wc}}  {r:<{wr}}  {n:>{wn}}" for c, r, n in zip(columns, reasons, rows, strict=True)
    ]
    if len(summary) > limit:
        lines.append(f"  ... and {plural(len(summary) - limit, 'more group')}")
    return "\n".join(lines)


def not_sent_text(not_sent: pd.DataFrame) -> str:
    """The columns that will not be sent, one line each with why ("" when none)."""
    if not_sent.empty:
        return ""
    lines = [f"{plural(len(not_sent), 'column')} not sent:"]
    lines += [
        f"  {str(c)!r}: {m}" for c, m in zip(not_sent["column"], not_sent["message"], strict=True)
    ]
    return "\n".join(lines)


def not_sent_frame(
    unknown: dict[Any, str] | None = None, ignored: Sequence[Any] = ()
) -> pd.DataFrame:
    """``column, reason, message`` of the columns left out: unknown (with a hint) or ignored."""
    unknown = unknown or {}
    rows = [(c, "unknown", m) for c, m in unknown.items()]
    rows += [(c, "ignored", "ignored on request (None in columns=)") for c in ignored]
    return pd.DataFrame(
        {
            "column": pd.Series([r[0] for r in rows], dtype=object),
            "reason": pd.Series([r[1] for r in rows], dtype=object),
            "message": pd.Series([r[2] for r in rows], dtype=object),
        }
    )
