"""Bad-input corpus: every malformed or unusual input ends in a clear, named outcome.

Each case ends in exactly one of:

- ``Raises``: a :class:`~mailtrap_pandas.errors.MailtrapError` (``InputError`` unless
  said otherwise) whose message names the offending column, argument or value;
- ``Rejected``: the row is in ``validate(...).failures`` and in
  ``import_contacts(...).rejected`` under the caller's own index label, naming the column
  (and the reason), while the other rows go through;
- ``Accepted``: a valid-but-unusual value is accepted *and normalized*, and the emulator
  stores the normalized value.

Never an internal exception (KeyError, TypeError, AttributeError, a plain ValueError,
pandas or pyarrow errors), and nothing is sent that the server rejects whole: after
every import the emulator has answered no 422.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest

from mailtrap_pandas.errors import InputError, MailtrapError
from mailtrap_pandas.jobs.imports.result import InvariantError
from mailtrap_pandas.jobs.imports.run import import_contacts
from mailtrap_pandas.jobs.validation import validate

FIELDS = [
    {"name": "City", "data_type": "text", "merge_tag": "city"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Joined", "data_type": "date", "merge_tag": "joined"},
]
# A value of each field that is valid, for the control row "ok" of every frame.
OK_VALUES: dict[str, Any] = {
    "city": "Riga",
    "age": 30,
    "score": 1.5,
    "vip": True,
    "joined": "2024-01-31",
}
OK_EMAIL = "ok@example.com"
CASE_EMAIL = "case@example.com"
LIST_ID = -1  # placeholder: replaced by the id of the seeded list (see `resolve`)
FAST: dict[str, Any] = {
    "journal": False,
    "progress": False,
    "poll_interval": 0.01,
    "max_poll_interval": 0.05,
}
# Keyword arguments validate() also takes; the others are import-only.
VALIDATE_KW = {"columns", "dedupe", "nulls", "unknown", "fields"}


# -- expectations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raises:
    names: tuple[str, ...]  # substrings the message must contain
    error: type[BaseException] = InputError


@dataclass(frozen=True)
class Rejected:
    cells: dict[Any, str]  # row label -> column the failure names
    reason: str | None = None


@dataclass(frozen=True)
class Accepted:
    label: Any = "case"
    email: str = CASE_EMAIL  # as normalized and stored
    values: dict[str, Any] = field(default_factory=dict)  # merge tag -> stored value


@dataclass(frozen=True)
class Nothing:
    """An empty frame: an empty result, nothing submitted."""


Expect = Raises | Rejected | Accepted | Nothing


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], Any]
    expect: Expect
    kw: dict[str, Any] = field(default_factory=dict)
    entries: tuple[str, ...] = ("validate", "import")
    marks: tuple[Any, ...] = ()


# -- frames --------------------------------------------------------------------------------------


def two_rows(email: Any = CASE_EMAIL, **values: Any) -> Callable[[], pd.DataFrame]:
    """A control row "ok" and the row under test "case" (object columns: values as given)."""

    def build() -> pd.DataFrame:
        index = ["ok", "case"]
        data: dict[str, pd.Series] = {
            "email": pd.Series([OK_EMAIL, email], index=index, dtype=object)
        }
        for column, value in values.items():
            data[column] = pd.Series([OK_VALUES[column], value], index=index, dtype=object)
        return pd.DataFrame(data, index=index)

    return build


def frame(data: dict[Any, list[Any]], index: Any = None) -> Callable[[], pd.DataFrame]:
    return lambda: pd.DataFrame(data, index=index)


def bad_email(case_id: str, email: Any, reason: str = "invalid_email") -> Case:
    return Case(f"email-{case_id}", two_rows(email), Rejected({"case": "email"}, reason))


def good_email(case_id: str, email: str, stored: str) -> Case:
    return Case(f"email-{case_id}", two_rows(email), Accepted(email=stored))


def bad_value(case_id: str, column: str, value: Any, reason: str) -> Case:
    return Case(
        f"{column}-{case_id}", two_rows(**{column: value}), Rejected({"case": column}, reason)
    )


def good_value(case_id: str, column: str, value: Any, stored: Any) -> Case:
    return Case(
        f"{column}-{case_id}", two_rows(**{column: value}), Accepted(values={column: stored})
    )


def dup_index() -> pd.DataFrame:
    return pd.DataFrame({"email": ["a@example.com", "b@example.com", "bad"]}, index=[0, 0, 1])


def multiindex_columns() -> pd.DataFrame:
    columns = pd.MultiIndex.from_tuples([("contact", "email"), ("contact", "city")])
    return pd.DataFrame([["a@example.com", "Riga"]], columns=columns)


def multiindex_rows() -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples([("lv", 1), ("lv", 2)])
    return pd.DataFrame({"email": [OK_EMAIL, "not an email"], "age": [1, 2]}, index=index)


def many_rows(n: int) -> Callable[[], pd.DataFrame]:
    return lambda: pd.DataFrame({"email": [f"u{i}@example.com" for i in range(n)]})


# -- the corpus ----------------------------------------------------------------------------------


CASES: list[Case] = [
    # Malformed emails: rejected, naming the row and the email column.
    bad_email("no-at", "plainaddress"),
    bad_email("double-at", "a@b@example.com"),
    bad_email("space-inside", "us er@example.com"),
    bad_email("missing-tld", "user@example"),
    bad_email("one-letter-tld", "user@example.c"),
    bad_email("numeric-tld", "user@example.123"),
    bad_email("trailing-dot-local", "user.@example.com"),
    bad_email("trailing-dot-domain", "user@example.com."),
    bad_email("leading-dot", ".user@example.com"),
    bad_email("consecutive-dots", "us..er@example.com"),
    bad_email("quoted-local-space", '"john doe"@example.com'),
    bad_email("quoted-local", '"john"@example.com'),
    bad_email("overlong-local", "a" * 65 + "@example.com"),
    bad_email("overlong-address", "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63),
    bad_email("empty-local", "@example.com"),
    bad_email("empty-domain", "user@"),
    bad_email("hyphen-label", "user@-example.com"),
    bad_email("ip-literal", "user@[127.0.0.1]"),
    bad_email("zero-width-space", "user\u200b@example.com"),
    bad_email("emoji-local", "\U0001f600@example.com"),
    bad_email("nul-char", "user\x00@example.com"),
    bad_email("comma", "user,name@example.com"),
    bad_email("inner-newline", "user\n@example.com"),
    bad_email("integer", 12345),
    bad_email("none", None, "missing_email"),
    bad_email("blank", "   ", "missing_email"),
    bad_email("nan", float("nan"), "missing_email"),
    bad_email("null-token", "NULL", "missing_email"),
    # Valid-but-unusual emails: accepted, trimmed, domain lower-cased (local part kept).
    good_email("plus-addressing", "user+tag@example.com", "user+tag@example.com"),
    good_email("upper-case", "User@EXAMPLE.COM", "User@example.com"),
    good_email("surrounding-whitespace", "  case@example.com\t", CASE_EMAIL),
    good_email("trailing-newline", "case@example.com\n", CASE_EMAIL),
    good_email("nbsp-around", "\u00a0case@example.com\u00a0", CASE_EMAIL),
    good_email("idn", "user@bücher.de", "user@bücher.de"),
    good_email("idn-upper", "user@BÜCHER.DE", "user@bücher.de"),
    good_email("punycode", "user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
    good_email("unicode-local", "josé@example.com", "josé@example.com"),
    good_email("apostrophe", "o'brien@example.com", "o'brien@example.com"),
    good_email("subdomains", "user@mail.example.co.uk", "user@mail.example.co.uk"),
    good_email("local-64-chars", "a" * 64 + "@example.com", "a" * 64 + "@example.com"),
    # A wrong-typed value for each data_type: rejected, naming the row and the column.
    bad_value("float", "city", 501.0, "wrong_type"),
    bad_value("bool", "city", True, "wrong_type"),
    bad_value("list", "city", ["a"], "wrong_type"),
    bad_value("date", "city", dt.date(2024, 1, 1), "wrong_type"),
    bad_value("256-chars", "city", "x" * 256, "text_too_long"),
    bad_value("word", "age", "old", "wrong_type"),
    bad_value("thousands", "age", "1,000", "wrong_type"),
    bad_value("eu-decimal", "age", "1.000,5", "wrong_type"),
    bad_value("fraction", "age", 4.5, "not_lossless"),
    bad_value("fraction-text", "age", "4.5", "not_lossless"),
    bad_value("overflow", "age", 2**63, "out_of_range"),
    bad_value("overflow-text", "age", "9223372036854775808", "out_of_range"),
    bad_value("bool", "age", True, "wrong_type"),
    bad_value("inf", "age", float("inf"), "not_finite"),
    bad_value("hex", "age", "0x1A", "wrong_type"),
    bad_value("dict", "age", {"a": 1}, "wrong_type"),
    bad_value("word", "score", "abc", "wrong_type"),
    bad_value("thousands", "score", "1,000.5", "wrong_type"),
    bad_value("eu-decimal", "score", "1.000,5", "wrong_type"),
    bad_value("inf-text", "score", "inf", "not_finite"),
    bad_value("overflow", "score", "1e999", "not_finite"),
    bad_value("inexact-int", "score", 2**60 + 1, "not_lossless"),
    Case(
        "score-bool",
        two_rows(score=True),
        Rejected({"case": "score"}, "wrong_type"),
    ),
    bad_value("maybe", "vip", "maybe", "ambiguous_boolean"),
    bad_value("si", "vip", "si", "ambiguous_boolean"),
    bad_value("two", "vip", 2, "ambiguous_boolean"),
    bad_value("half", "vip", 0.5, "ambiguous_boolean"),
    bad_value("date", "vip", dt.date(2024, 1, 1), "wrong_type"),
    bad_value("ambiguous", "joined", "01/02/03", "invalid_date"),
    bad_value("month-13", "joined", "2024-13-01", "invalid_date"),
    bad_value("feb-30", "joined", "2024-02-30", "invalid_date"),
    bad_value("year-0", "joined", "0000-01-01", "invalid_date"),
    bad_value("not-leap", "joined", "2023-02-29", "invalid_date"),
    bad_value("day-first", "joined", "31.12.2024", "invalid_date"),
    bad_value("word", "joined", "yesterday", "invalid_date"),
    bad_value("time-of-day", "joined", "2024-01-01T10:00", "not_lossless"),
    bad_value("timestamp", "joined", pd.Timestamp("2024-01-01 10:00"), "not_lossless"),
    bad_value("integer", "joined", 20240101, "wrong_type"),
    # Lossless coercions: accepted and stored normalized.
    good_value("padded", "age", " 42 ", 42),
    good_value("whole-float", "age", 42.0, 42),
    good_value("exponent", "age", "1e3", 1000),
    good_value("text", "score", "3.25", 3.25),
    good_value("yes", "vip", "YES", True),
    good_value("zero", "vip", 0, False),
    good_value("slashes", "joined", "2024/03/01", "2024-03-01"),
    good_value("compact", "joined", "20240301", "2024-03-01"),
    good_value("leap-day", "joined", "2024-02-29", "2024-02-29"),
    good_value("iso-midnight", "joined", "2024-03-01T00:00:00", "2024-03-01"),
    good_value("255-chars", "city", "x" * 255, "x" * 255),
    good_value("integer", "city", 42, "42"),
    # Missing values and duplicates.
    Case(
        "nulls-error",
        two_rows(age=None),
        Rejected({"case": "age"}, "missing_value"),
        kw={"nulls": "error"},
    ),
    Case(
        "dedupe-error",
        frame({"email": [OK_EMAIL, "A@example.com", "a@EXAMPLE.com"]}, ["ok", "x", "y"]),
        Rejected({"x": "email", "y": "email"}, "duplicate_email"),
        kw={"dedupe": "error"},
        entries=("validate",),
    ),
    Case(
        "dedupe-error-import",
        frame({"email": [OK_EMAIL, "A@example.com", "a@EXAMPLE.com"]}, ["ok", "x", "y"]),
        Rejected({"x": "email", "y": "email"}, "duplicate_email"),
        kw={"dedupe": "error"},
        entries=("import",),
    ),
    Case(
        "all-emails-missing",
        frame({"email": [None, None]}, ["a", "b"]),
        Rejected({"a": "email", "b": "email"}, "missing_email"),
    ),
    # Frame shapes.
    Case(
        "duplicated-column-names",
        lambda: pd.DataFrame([["a@example.com", "b@example.com"]], columns=["email", "email"]),
        Raises(("duplicated column names", "email")),
    ),
    Case(
        "two-columns-one-field",
        frame({"email": ["a@example.com"], "Age": [1], "age": [2]}),
        Raises(("Age", "age")),
    ),
    Case(
        "two-email-columns",
        frame({"email": ["a@example.com"], "E-mail": ["b@example.com"]}),
        Raises(("email", "E-mail")),
    ),
    Case("empty-frame", frame({"email": []}), Nothing()),
    Case("no-columns-at-all", lambda: pd.DataFrame(), Raises(("no email column",))),
    Case(
        "no-email-column",
        frame({"mail_addr": ["a@example.com"], "city": ["Riga"]}),
        Raises(("no email column", "mail_addr")),
    ),
    Case(
        "non-string-column-names",
        frame({0: ["a@example.com"], 1: ["Riga"]}),
        Raises(("no email column", "[0, 1]")),
    ),
    Case(
        "non-string-column-names-mapped",
        frame({0: [CASE_EMAIL], 1: ["Tartu"]}, ["case"]),
        Accepted(values={"city": "Tartu"}),
        kw={"columns": {0: "email", 1: "city"}},
    ),
    Case(
        "non-string-unknown-column",
        frame({"email": [CASE_EMAIL], 42: ["never sent"]}, ["case"]),
        Accepted(),
    ),
    Case("multiindex-columns", multiindex_columns, Raises(("MultiIndex",))),
    Case(
        "multiindex-rows",
        multiindex_rows,
        Rejected({("lv", 2): "email"}, "invalid_email"),
    ),
    Case(
        "columns-map-missing-column",
        frame({"email": ["a@example.com"]}),
        Raises(("nope",)),
        kw={"columns": {"nope": "email"}},
    ),
    Case(
        "columns-map-unknown-field",
        frame({"email": ["a@example.com"], "town": ["Riga"]}),
        Raises(("town", "not a field merge tag")),
        kw={"columns": {"town": "town"}},
    ),
    Case(
        "field-with-unknown-data-type",
        frame({"email": ["a@example.com"]}),
        Raises(("datetime",)),
        kw={"fields": [{"name": "X", "data_type": "datetime", "merge_tag": "x"}]},
    ),
    Case(
        "unknown-column-with-unknown-error",
        frame({"email": ["a@example.com"], "shoe_size": [42]}),
        Raises(("shoe_size",)),
        kw={"unknown": "error"},
        entries=("import",),
    ),
    Case(
        "duplicate-index-labels",
        dup_index,
        Raises(("duplicate", "0")),
    ),
    # Arguments.
    Case(
        "chunk-size-50001",
        frame({"email": ["a@example.com"]}),
        Raises(("chunk_size", "50,000")),
        kw={"chunk_size": 50_001},
        entries=("import",),
    ),
    Case(
        "chunk-size-0",
        frame({"email": ["a@example.com"]}),
        Raises(("chunk_size",)),
        kw={"chunk_size": 0},
        entries=("import",),
    ),
    Case(
        "chunk-size-text",
        frame({"email": ["a@example.com"]}),
        Raises(("chunk_size",)),
        kw={"chunk_size": "100"},
        entries=("import",),
    ),
    Case(
        "chunk-size-bool",
        frame({"email": ["a@example.com"]}),
        Raises(("chunk_size",)),
        kw={"chunk_size": True},
        entries=("import",),
    ),
    Case(
        "list-ids-not-integers",
        frame({"email": ["a@example.com"]}),
        Raises(("list_ids", "news")),
        kw={"list_ids": ["news"]},
        entries=("import",),
    ),
    Case(
        "list-ids-float",
        frame({"email": ["a@example.com"]}),
        Raises(("list_ids", "1.5")),
        kw={"list_ids": [1.5]},
        entries=("import",),
    ),
    Case(
        "list-included-and-excluded",
        frame({"email": ["a@example.com"]}),
        Raises(("both included and excluded",)),
        kw={"list_ids": [LIST_ID], "exclude_list_ids": [LIST_ID]},
        entries=("import",),
    ),
    Case(
        "list-ids-existing",
        frame({"email": [CASE_EMAIL]}, ["case"]),
        Accepted(values={"list_ids": [LIST_ID]}),
        kw={"list_ids": [LIST_ID]},
        entries=("import",),
    ),
    *(
        Case(
            f"{name}-do-not-exist",
            frame({"email": ["a@example.com", "b@example.com"]}),
            Raises(("999",)),
            kw={name: [999]},
            entries=("import",),
        )
        for name in ("list_ids", "exclude_list_ids")
    ),
    Case(
        "dedupe-policy",
        frame({"email": ["a@example.com"]}),
        Raises(("dedupe", "sometimes")),
        kw={"dedupe": "sometimes"},
    ),
    Case(
        "nulls-policy",
        frame({"email": ["a@example.com"]}),
        Raises(("nulls", "zero")),
        kw={"nulls": "zero"},
    ),
    Case(
        "unknown-policy",
        frame({"email": ["a@example.com"]}),
        Raises(("unknown", "shout")),
        kw={"unknown": "shout"},
    ),
    # Column dtypes other than object.
    Case(
        "arrow-string-emails",
        lambda: pd.DataFrame(
            {"email": pd.array([OK_EMAIL, "not an email"], dtype="string[pyarrow]")},
            index=["ok", "case"],
        ),
        Rejected({"case": "email"}, "invalid_email"),
    ),
    Case(
        "categorical-booleans",
        lambda: pd.DataFrame(
            {"email": [OK_EMAIL, CASE_EMAIL], "vip": pd.Categorical(["yes", "maybe"])},
            index=["ok", "case"],
        ),
        Rejected({"case": "vip"}, "ambiguous_boolean"),
    ),
    Case(
        "nullable-integer-missing",
        lambda: pd.DataFrame(
            {"email": [OK_EMAIL, CASE_EMAIL], "age": pd.array([30, None], dtype="Int64")},
            index=["ok", "case"],
        ),
        # nulls="skip": a missing value is left out, so nothing is stored for it.
        Accepted(values={"age": None}),
    ),
    # Sources.
    Case("source-none", lambda: None, Raises(("NoneType",))),
    Case(
        "stream-of-dicts",
        lambda: iter([{"email": "a@example.com"}]),
        Raises(("DataFrames", "dict")),
        entries=("import",),
    ),
    Case(
        "source-dict",
        lambda: {"email": ["a@example.com"]},
        Raises(("DataFrame",)),
        entries=("import",),
    ),
    Case(
        "source-docx-path",  # .xlsx is read (whole) since the CLI and the library share a reader
        lambda: "contacts.docx",
        Raises(("contacts.docx", "unsupported file type", ".parquet")),
        entries=("import",),
    ),
    Case(
        # The OS's own error names the path; a MailtrapError wrapper would add nothing.
        "source-missing-csv",
        lambda: "/nonexistent/contacts.csv",
        Raises(("/nonexistent/contacts.csv",), FileNotFoundError),
        entries=("import",),
    ),
]


# -- running a case ------------------------------------------------------------------------------


@pytest.fixture
def lists(emu: Any) -> dict[str, int]:
    """Seed the fields and one list into the (reset) session emulator; rate limits off."""
    seeded = emu.seed(fields=FIELDS, lists=[{"name": "Newsletter"}])
    return {"Newsletter": int(seeded["lists"][0]["id"])}


def resolve(value: Any, list_id: int) -> Any:
    """Put the seeded list's id where a case says LIST_ID."""
    if isinstance(value, list):
        return [list_id if v == LIST_ID else v for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, list_id) for k, v in value.items()}
    return value


def attempt(call: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """Run an entry point; an internal exception fails the test on the spot."""
    try:
        return call(), None
    except InvariantError as exc:  # a MailtrapError, but a broken promise, not a clear error
        pytest.fail(f"broken invariant: {exc}")
    except (MailtrapError, FileNotFoundError) as exc:
        return None, exc
    except Exception as exc:  # noqa: BLE001 - the point: nothing else may escape
        pytest.fail(f"internal exception {type(exc).__name__}: {exc}")


def labels_of(index: pd.Index) -> list[Any]:
    return list(index)


def rows_named(frame: pd.DataFrame, labels: list[Any], wanted: Any) -> pd.DataFrame:
    """The rows of ``frame`` whose label (given as ``labels``, tuples allowed) is ``wanted``."""
    mask = pd.Series([r == wanted for r in labels], index=frame.index, dtype=bool)
    return frame[mask]


def check_validate(case: Case, source: Any, client: Any, kw: dict[str, Any]) -> None:
    report, error = attempt(
        lambda: validate(source, client, **{k: v for k, v in kw.items() if k in VALIDATE_KW})
    )
    expect = case.expect
    if isinstance(expect, Raises):
        assert error is not None, f"validate() did not raise: {report!r}"
        assert isinstance(error, expect.error), repr(error)
        for name in expect.names:
            assert name in str(error), f"{name!r} not named in: {error}"
        return
    assert error is None, f"validate() raised {error!r}"
    if isinstance(expect, Rejected):
        failures = report.failures
        for row_label, column in expect.cells.items():
            mine = rows_named(failures, list(failures["row"]), row_label)
            assert column in set(mine["column"]), failures.to_string()
            if expect.reason is not None:
                assert expect.reason in set(mine["reason"]), failures.to_string()
        # Only the rows under test fail; the control rows pass.
        assert set(failures["row"]) <= set(expect.cells), failures.to_string()
        return
    assert report.ok, report.failures.to_string()
    if isinstance(expect, Accepted):
        assert report.valid.loc[expect.label, "email"] == expect.email
    else:
        assert report.n_rows == 0 and report.valid.empty


def check_import(case: Case, source: Any, emu: Any, kw: dict[str, Any]) -> None:
    client = emu.client()
    result, error = attempt(lambda: import_contacts(source, client, **FAST, **kw))
    state = emu.state()
    # Nothing the server rejects whole was ever sent.
    assert state["responses"].get("422", 0) == 0, state["responses"]
    expect = case.expect
    if isinstance(expect, Raises):
        assert error is not None, f"import_contacts did not raise: {result!r}"
        assert isinstance(error, expect.error), repr(error)
        for name in expect.names:
            assert name in str(error), f"{name!r} not named in: {error}"
        assert state["imports_accepted"] == 0
        return
    assert error is None, f"import_contacts raised {error!r}"
    result.check_invariant(source.index)
    rejected = result.rejected
    if isinstance(expect, Rejected):
        for row_label, column in expect.cells.items():
            mine = rows_named(rejected, labels_of(rejected.index), row_label)
            assert column in set(mine["column"]), rejected.to_string()
            assert set(mine["stage"]) == {"local"}
            if expect.reason is not None:
                assert expect.reason in set(mine["reason"]), rejected.to_string()
        # The rest of the frame went through.
        others = [r for r in source.index if r not in expect.cells]
        assert sorted(map(str, result.imported_index)) == sorted(map(str, others))
        return
    assert rejected.empty, rejected.to_string()
    if isinstance(expect, Nothing):
        assert len(result.imported_index) == 0 and state["imports_accepted"] == 0
        return
    assert expect.label in labels_of(result.imported_index)
    stored = client.contacts.get(expect.email)
    assert stored["email"] == expect.email
    for tag, value in expect.values.items():
        got = stored["list_ids"] if tag == "list_ids" else stored["fields"].get(tag)
        assert got == value, stored


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.id, marks=c.marks) for c in CASES],
)
def test_bad_input(case: Case, emu: Any, lists: dict[str, int]) -> None:
    kw = resolve(case.kw, lists["Newsletter"])
    expect = case.expect
    if isinstance(expect, Accepted):
        expect = Accepted(expect.label, expect.email, resolve(expect.values, lists["Newsletter"]))
    case = Case(case.id, case.build, expect, kw, case.entries)
    if "validate" in case.entries:
        check_validate(case, case.build(), emu.client(), kw)
    if "import" in case.entries:
        check_import(case, case.build(), emu, kw)


def test_50001_rows_import_as_two_chunks(emu: Any, lists: dict[str, int]) -> None:
    """More than one request's worth: split under the API's limit, never a 422."""
    df = many_rows(50_001)()
    result = import_contacts(df, emu.client(), **FAST)
    result.check_invariant(df.index)
    assert result.ok and len(result.imported_index) == 50_001
    assert list(result.jobs["rows"]) == [50_000, 1]
    state = emu.state()
    assert state["imports_accepted"] == 2 and state["contacts"] == 50_001
    assert state["responses"].get("422", 0) == 0


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_file_source_names_rows_by_position(
    kind: str, emu: Any, lists: dict[str, int], tmp_path: Any
) -> None:
    """Streamed files: a bad row is named by its 0-based row number, the rest imports."""
    df = pd.DataFrame(
        {
            "email": ["a@example.com", "b@example.com", "bad@", "c@example.com"],
            "age": ["1", "2", "3", "old"],
        }
    )
    path = tmp_path / f"contacts.{kind}"
    if kind == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    result, error = attempt(lambda: import_contacts(path, emu.client(), chunk_size=2, **FAST))
    assert error is None, repr(error)
    result.check_invariant(pd.RangeIndex(4))
    assert sorted(result.imported_index) == [0, 1]
    assert set(zip(result.rejected.index, result.rejected["column"], strict=True)) == {
        (2, "email"),
        (3, "age"),
    }
    assert emu.state()["responses"].get("422", 0) == 0


def test_corpus_size() -> None:
    assert len(CASES) + 1 >= 60
