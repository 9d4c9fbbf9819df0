"""Building blocks of the notebook (HTML) reprs of reports, results and plans.

Inline styles only, so the look is the same in Jupyter, VS Code and a static
HTML export; every value is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

__all__ = ["counts", "heading", "note", "plural", "section", "table"]

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
