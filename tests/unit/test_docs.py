"""The README keeps step with the code."""

from __future__ import annotations

from pathlib import Path

from mailtrap_pandas.frames.dtypes import readme_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_type_table_equals_the_code() -> None:
    lines = README.read_text(encoding="utf-8").split("\n")
    header = readme_table().split("\n")[0]
    start = lines.index(header)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    # The whole table, not just a part of it: no row missing, none extra.
    assert "\n".join(lines[start:end]) == readme_table()
