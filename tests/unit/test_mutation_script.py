"""make mutation counts as equivalent only the survivors that provably change nothing."""

from __future__ import annotations

import pytest

from scripts.mutation import _row, equivalent

HEAD = "--- a.py\n+++ a.py\n@@ -1,3 +1,3 @@\n"


def test_a_sql_statement_in_another_letter_case_is_equivalent() -> None:
    diff = HEAD + '-    "INSERT INTO pauses (key, until) VALUES (?, ?) "\n'
    diff += '+    "insert into pauses (key, until) values (?, ?) "\n'
    assert equivalent(diff) is not None


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # A quoted literal unchanged: only the keywords around it changed case.
        (
            "\"SELECT value FROM meta WHERE key='schema_version'\"",
            "\"select value from meta where key='schema_version'\"",
        ),
        # Pieces of a statement split over lines.
        ('"VALUES (?, ?, ?, ?)"', '"values (?, ?, ?, ?)"'),
        ('" contact_id=excluded.contact_id"', '" CONTACT_ID=EXCLUDED.CONTACT_ID"'),
        ('"scope=? AND list_id=? AND bucket=?"', '"SCOPE=? AND LIST_ID=? AND BUCKET=?"'),
    ],
)
def test_sql_with_its_literals_unchanged_is_equivalent(old: str, new: str) -> None:
    assert equivalent(f"{HEAD}-    {old}\n+    {new}\n") is not None


def test_anything_else_is_not() -> None:
    quoted = (
        HEAD + "-    \"UPDATE t SET status='sending'\"\n+    \"UPDATE t SET status='SENDING'\"\n"
    )
    not_sql = HEAD + '-    "Hello there"\n+    "hello there"\n'
    and_text = HEAD + '-    "this and that"\n+    "THIS AND THAT"\n'
    other = HEAD + '-    "SELECT a FROM t"\n+    "XXSELECT a FROM tXX"\n'
    two_changes = HEAD + "-    x = 1\n-    'SELECT'\n+    x = 2\n+    'select'\n"
    for diff in (quoted, not_sql, and_text, other, two_changes, HEAD):
        assert equivalent(diff) is None


def test_the_score_leaves_equivalent_mutants_out() -> None:
    counts = {"killed": 80, "timeout": 10, "survived": 5, "equivalent": 5}
    assert _row(counts)[:5] == (100, 90, 5, 5, 0)
    assert _row(counts)[5] == pytest.approx(100 * 90 / 95)
    assert _row({"no tests": 2})[5] == 0.0
