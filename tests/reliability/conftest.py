"""Outcome tables: reliability tests record one row per case; the tables print at the end.

Printed in the terminal summary (not with ``print``) so they show without ``-s``
and after the progress dots, one table per name, rows in the order run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

_TABLES = pytest.StashKey[dict[str, list[dict[str, Any]]]]()

Record = Callable[[str, dict[str, Any]], None]


@pytest.fixture
def outcome_table(request: pytest.FixtureRequest) -> Record:
    """``record(table_name, row)``: add a row to a table printed in the terminal summary."""
    tables = request.config.stash.setdefault(_TABLES, {})

    def record(name: str, row: dict[str, Any]) -> None:
        tables.setdefault(name, []).append(row)

    return record


def _render(rows: list[dict[str, Any]]) -> list[str]:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return [line, rule, *body]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    tables = config.stash.get(_TABLES, {})
    for name, rows in tables.items():
        if not rows:
            continue
        terminalreporter.section(name)
        for text in _render(rows):
            terminalreporter.write_line(text)
