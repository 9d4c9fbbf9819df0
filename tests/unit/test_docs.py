"""The README keeps step with the code."""

from __future__ import annotations

from pathlib import Path

from mailtrap_pandas.frames.dtypes import readme_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_type_table_equals_the_code() -> None:
    assert readme_table() in README.read_text(encoding="utf-8")
