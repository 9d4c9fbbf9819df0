"""Check a frame of contacts against the account's custom fields, every row at once.

:func:`validate` matches the frame's columns to field merge tags, coerces each
value where that loses nothing (:mod:`mailtrap_pandas.frames.coerce`), checks and
normalizes emails (:mod:`mailtrap_pandas.frames.emails`), drops duplicate emails, and returns a
:class:`ValidationReport`: what failed (one row per problem, by the caller's
own index labels), what is valid (typed by the type table) and what was matched
to what. Nothing here sends anything.
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.coerce import Coerced, coerce
from mailtrap_pandas.frames.columns import as_mask, column_key, to_pandas
from mailtrap_pandas.frames.dates import date_options
from mailtrap_pandas.frames.dtypes import CONTACT_COLUMNS
from mailtrap_pandas.frames.emails import Emails, email_key, normalize_emails
from mailtrap_pandas.frames.reasons import Problem, Reason, reason_column
from mailtrap_pandas.frames.schema import FieldSpec, fields_from_schema, normalize_fields
from mailtrap_pandas.modes import Dedupe, Nulls, Unknown
from mailtrap_pandas.reprs import (
    BAD,
    GOOD,
    PLAIN,
    counts,
    failure_summary,
    heading,
    not_sent_frame,
    not_sent_text,
    note,
    plural,
    section,
    summary_text,
    table,
)

if TYPE_CHECKING:
    import pandera.pandas as pda

__all__ = ["FAILURE_COLUMNS", "Reason", "ValidationReport", "gather", "validate"]

#: ``columns=``: frame column -> merge tag (or ``"email"``), or None to leave the column out.
ColumnMap = Mapping[Any, str | None]

#: The columns of :attr:`ValidationReport.failures`, in order.
FAILURE_COLUMNS = ["row", "email", "column", "value", "reason", "message"]
_EMAIL_ALIASES = ("email", "e_mail", "email_address")


@dataclass
class ValidationReport:
    """What :func:`validate` found. Nothing in it has been sent.

    Attributes
    ----------
    ok : bool
        True when there is no failure at all (duplicates dropped by
        ``dedupe="first"|"last"`` are not failures).
    failures : pandas.DataFrame
        One row per problem: ``row`` (the caller's index label; None for a
        problem of a whole column), ``email`` (``string``; ``<NA>`` when there
        is none), ``column`` (the caller's column name), ``value`` (as given),
        ``reason`` (a :class:`Reason` value, in :data:`REASON_DTYPE`), ``message``.
    valid : pandas.DataFrame
        The rows that pass and survive deduplication, indexed by the caller's
        labels: ``email`` (normalized) then one column per matched field, named
        by merge tag and typed by the type table. Missing values are ``<NA>``.
    duplicates : pandas.DataFrame
        ``row``, ``email``, ``kept_row``: rows dropped because another row has
        the same email (``kept_row`` is the winner; None with ``dedupe="error"``,
        where every occurrence fails instead). The winner is picked first: when
        it fails validation it is in ``failures`` and the rows it superseded
        are still here, never imported in its place.
    unknown_columns : list
        Frame columns that match no field (never sent).
    ignored_columns : list
        Frame columns left out on request (``None`` in ``columns=``; never sent).
    unknown_hints : dict
        Unknown column -> why it is not sent, with a did-you-mean suggestion
        when a field's name is close ("no field matches; did you mean
        first_name?").
    column_map : dict
        Frame column -> merge tag (or ``"email"``).
    fields : dict
        Merge tag -> ``data_type`` of the matched fields.
    """

    failures: pd.DataFrame
    valid: pd.DataFrame
    duplicates: pd.DataFrame
    unknown_columns: list[Any]
    column_map: dict[Any, str]
    fields: dict[str, str]
    dedupe: Dedupe
    nulls: Nulls
    unknown: Unknown
    n_rows: int
    n_failed_rows: int
    n_duplicates: int
    ignored_columns: list[Any] = field(default_factory=list)
    unknown_hints: dict[Any, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return self.failures.empty

    @property
    def n_valid(self) -> int:
        """Rows in :attr:`valid`; ``n_valid + n_failed_rows + n_duplicates == n_rows``."""
        return len(self.valid)

    @property
    def not_sent(self) -> pd.DataFrame:
        """The frame columns that will not be sent: ``column``, ``reason``, ``message``.

        ``reason`` is ``"unknown"`` (no field matches; the message may suggest
        one) or ``"ignored"`` (``None`` in ``columns=``).
        """
        hints = {c: self.unknown_hints.get(c, "no field matches") for c in self.unknown_columns}
        return not_sent_frame(hints, self.ignored_columns)

    def summary(self) -> pd.DataFrame:
        """The failures grouped by column and reason: ``column, reason, rows``, most rows first.

        ``rows`` sums to ``len(report.failures)``; read it before the rows
        themselves when thousands fail for the same reason.

        Examples
        --------
        >>> df = pd.DataFrame({"email": ["a@x.io", "bad", "worse"], "age": ["1", "x", "y"]})
        >>> age = {"name": "Age", "data_type": "integer", "merge_tag": "age"}
        >>> validate(df, fields=[age]).summary().values.tolist()
        [['email', 'invalid_email', 2], ['age', 'wrong_type', 2]]
        """
        return failure_summary(self.failures)

    def __repr__(self) -> str:
        state = "ok" if self.ok else plural(len(self.failures), "failure")
        head = (
            f"<ValidationReport {state}: {plural(self.n_rows, 'row')}, {self.n_valid:,} valid, "
            f"{self.n_failed_rows:,} failed, {plural(self.n_duplicates, 'duplicate')} dropped "
            f"(dedupe={self.dedupe!r}, nulls={self.nulls!r})>"
        )
        parts = [
            head,
            summary_text(self.summary(), "failures by column and reason (report.summary())"),
            not_sent_text(self.not_sent),
        ]
        return "\n".join(p for p in parts if p)

    def _repr_html_(self) -> str:
        bad = self.n_failed_rows > 0
        verdict = (
            f"{self.n_failed_rows:,} failed of {plural(self.n_rows, 'row')}; they would be rejected"
            if bad
            else f"all {plural(self.n_valid, 'row')} can be imported"
        )
        esc = html.escape
        parts = [
            heading("ValidationReport", not bad and self.ok, verdict),
            counts(
                [
                    ("rows", self.n_rows, PLAIN),
                    ("valid", self.n_valid, GOOD),
                    ("failed rows", self.n_failed_rows, BAD if bad else PLAIN),
                    ("duplicates dropped", self.n_duplicates, PLAIN),
                    ("failures", len(self.failures), BAD if len(self.failures) else PLAIN),
                ]
            ),
            note(
                f"dedupe={esc(self.dedupe)}, nulls={esc(self.nulls)}, "
                f"unknown={esc(self.unknown)}; nothing was sent"
            ),
        ]
        if not self.failures.empty:
            parts.append(section("Summary (<code>report.summary()</code>)"))
            parts.append(table(self.summary(), bad=["reason"], numeric=["rows"], what="groups"))
            parts.append(section("Failures (<code>report.failures</code>)"))
            parts.append(
                table(
                    self.failures,
                    code=["value"],
                    bad=["reason"],
                    numeric=["row"],
                    what="failures",
                    where="report.failures",
                )
            )
        if not self.duplicates.empty:
            parts.append(section("Duplicates dropped (<code>report.duplicates</code>)"))
            parts.append(table(self.duplicates, numeric=["row", "kept_row"], what="duplicates"))
        if not self.not_sent.empty:
            parts.append(section("Columns not sent (<code>report.not_sent</code>)"))
            parts.append(table(self.not_sent, what="columns", limit=len(self.not_sent)))
        mapping = pd.DataFrame(
            [(str(k), "\u2192", v, self.fields.get(v, "email")) for k, v in self.column_map.items()]
            + [
                (str(c), "\u2192", "(not sent)", r)
                for c, r in zip(self.not_sent["column"], self.not_sent["reason"], strict=True)
            ],
            columns=["file column", "", "merge tag", "type"],
        )
        parts.append(section("Column map"))
        parts.append(table(mapping, code=["merge tag"], limit=len(mapping)))
        return "<div>" + "\n".join(parts) + "</div>"

    def raise_for_failures(self) -> None:
        """Raise :class:`~mailtrap_pandas.errors.InputError` if anything failed.

        The message names the first few rows, columns and reasons.
        """
        if self.ok:
            return
        head = self.failures.head(5)
        shown = "; ".join(
            f"row {r!r}, column {c!r}: {m} ({v!r})"
            for r, c, m, v in zip(
                head["row"], head["column"], head["message"], head["value"], strict=True
            )
        )
        more = len(self.failures) - len(head)
        tail = f" (and {more:,} more; see report.failures)" if more > 0 else ""
        raise InputError(
            f"{plural(len(self.failures), 'validation failure')} in "
            f"{plural(self.n_failed_rows, 'row')}: {shown}{tail}"
        )


def check_frame(obj: object, func: str) -> None:
    """Raise a clear :class:`InputError` unless ``obj`` is a DataFrame (a Series says how)."""
    if isinstance(obj, pd.Series):
        name = f"name={obj.name!r}" if obj.name is not None else "name='email'"
        raise InputError(
            f"{func}() needs a DataFrame of contacts, got a Series; pass series.to_frame() "
            f"(a Series of emails: series.to_frame({name}))"
        )
    if not isinstance(obj, pd.DataFrame):
        raise InputError(f"{func}() needs a pandas DataFrame, got {type(obj).__name__}")


# -- column matching -------------------------------------------------------------------------


def _check_columns(df: pd.DataFrame) -> None:
    if not df.index.is_unique:
        # Failures, rejected rows and plans name rows by label: labels must be unique.
        repeated = df.index[df.index.duplicated()].unique().tolist()[:5]
        raise InputError(
            f"the frame's index has duplicate labels {repeated}; rows are reported by label, so "
            "give it a unique index first (df.reset_index(drop=True))"
        )
    dup = df.columns[df.columns.duplicated()].unique().tolist()
    if dup:
        raise InputError(f"the frame has duplicated column names {dup}; rename them first")
    if isinstance(df.columns, pd.MultiIndex):
        raise InputError(
            "the frame has MultiIndex columns; flatten them (one name per column) first"
        )


def match_columns(
    frame_columns: Sequence[Any], fields: list[FieldSpec], columns: ColumnMap | None
) -> tuple[dict[Any, str], list[Any]]:
    """Map frame columns to merge tags (or ``"email"``); return the map and the leftovers.

    Order of precedence: the explicit ``columns`` mapping, then an exact merge
    tag, then a name equal up to case, spaces and punctuation to a merge tag or
    a field's display name. A column mapped to ``None`` is left out: it is in
    neither the map nor the leftovers.
    """
    tags = {f.merge_tag for f in fields}
    explicit = dict(columns or {})
    for col, tag in explicit.items():
        if col not in frame_columns:
            raise InputError(f"columns= names {col!r}, which is not a column of the frame")
        if tag is not None and tag != "email" and tag not in tags:
            raise InputError(
                f"columns= maps {col!r} to {tag!r}, which is not a field merge tag; "
                f"known: {sorted(tags)}"
            )
    by_key: dict[str, str] = {}
    for f in fields:  # display names first so that merge tags win a tie
        by_key.setdefault(column_key(f.name), f.merge_tag)
    by_key.update({column_key(f.merge_tag): f.merge_tag for f in fields})
    by_key.update({alias: "email" for alias in _EMAIL_ALIASES})
    ignored = {col for col, tag in explicit.items() if tag is None}
    mapping = {col: tag for col in frame_columns if (tag := explicit.get(col)) is not None}
    chosen = set(mapping.values())  # a field mapped explicitly takes no other column
    claims: dict[str, list[Any]] = {}
    for col in frame_columns:
        if col in mapping or col in ignored:
            continue
        exact = col if isinstance(col, str) and (col in tags or col == "email") else None
        target = exact or by_key.get(column_key(col))
        if target is not None and target not in chosen:
            claims.setdefault(target, []).append(col)
    for target, cols in claims.items():
        if len(cols) > 1:
            # Two frame columns for one field: say which, rather than pick one silently.
            raise InputError(
                f"columns {cols} all match {target!r}; pass columns={{...}} to choose one, "
                "or drop the others"
            )
        mapping[cols[0]] = target
    unknown = [c for c in frame_columns if c not in mapping and c not in ignored]
    return {c: mapping[c] for c in frame_columns if c in mapping}, unknown


def email_columns(frame_columns: Sequence[Any]) -> list[Any]:
    """The columns that look like the email column, as :func:`validate` matches them.

    ``email`` itself, else any name equal up to case and punctuation to
    ``email``, ``e_mail`` or ``email_address``.

    Examples
    --------
    >>> email_columns(["Name", "E-mail"]), email_columns(["email", "Email"])
    (['E-mail'], ['email'])
    """
    if "email" in list(frame_columns):
        return ["email"]
    return [c for c in frame_columns if column_key(c) in _EMAIL_ALIASES]


def unknown_hint(column: Any, fields: list[FieldSpec], taken: set[str]) -> str:
    """Why ``column`` is not sent, suggesting the closest field not already matched.

    Examples
    --------
    >>> first = FieldSpec(name="First name", data_type="text", merge_tag="first_name")
    >>> unknown_hint("Frist Name", [first], set()), unknown_hint("LEID", [first], set())
    ('no field matches; did you mean first_name?', 'no field matches')
    """
    if isinstance(column, str) and column in CONTACT_COLUMNS:
        return "a column of the contact itself (as an export has it); imports do not set it"
    keys: dict[str, str] = {}
    for f in fields:
        if f.merge_tag not in taken:
            keys.setdefault(column_key(f.name), f.merge_tag)
            keys[column_key(f.merge_tag)] = f.merge_tag
    close = difflib.get_close_matches(column_key(column), list(keys), n=1, cutoff=0.75)
    return f"no field matches; did you mean {keys[close[0]]}?" if close else "no field matches"


# -- the report's parts ----------------------------------------------------------------------


@dataclass
class _Found:
    """Problems found so far, as (column label, Problem) pairs over row positions."""

    items: list[tuple[Any, Problem]] = field(default_factory=list)

    def add(self, column: Any, problems: list[Problem]) -> None:
        self.items.extend((column, p) for p in problems)

    def failed(self, n: int) -> npt.NDArray[np.bool_]:
        mask = np.zeros(n, bool)
        for _, p in self.items:
            mask |= p.mask
        return mask


def _labels(index: pd.Index, positions: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
    """Index labels at ``positions`` as a flat object array (tuples for a MultiIndex)."""
    taken = index.take(positions)
    out = np.empty(len(taken), dtype=object)
    out[:] = list(taken) if isinstance(index, pd.MultiIndex) else taken.to_numpy(dtype=object)
    return out


def _objects(items: list[Any]) -> npt.NDArray[Any]:
    """A 1-d object array holding ``items`` as they are (numpy would stringify a StrEnum)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _failures_frame(
    df: pd.DataFrame,
    found: _Found,
    shown_emails: Callable[[npt.NDArray[np.intp]], npt.NDArray[Any]],
    extra: list[dict[str, Any]],
) -> pd.DataFrame:
    pos_parts, col_parts, reason_parts, msg_parts, value_parts = [], [], [], [], []
    for column, p in found.items:
        pos = np.flatnonzero(p.mask)
        pos_parts.append(pos)
        col_parts.append(np.full(len(pos), None, dtype=object))
        col_parts[-1][:] = [column] * len(pos)
        reason_parts.append(_objects([p.reason] * len(pos)))
        msg_parts.append(np.full(len(pos), p.message, dtype=object))
        value_parts.append(df[column].iloc[pos].to_numpy(dtype=object))
    if pos_parts:
        pos = np.concatenate(pos_parts)
        order = np.argsort(pos, kind="stable")
        pos = pos[order]
        rows = pd.DataFrame(
            {
                "row": _labels(df.index, pos),
                "email": shown_emails(pos),
                "column": np.concatenate(col_parts)[order],
                "value": np.concatenate(value_parts)[order],
                "reason": np.concatenate(reason_parts)[order],
                "message": np.concatenate(msg_parts)[order],
            }
        )
    else:
        rows = pd.DataFrame({c: pd.Series([], dtype=object) for c in FAILURE_COLUMNS})
    if extra:
        head = pd.DataFrame({c: _objects([e[c] for e in extra]) for c in FAILURE_COLUMNS})
        rows = pd.concat([head, rows], ignore_index=True)
    # One dtype for every reason column of the package, and <NA> (never None) for no email.
    rows["reason"] = reason_column(rows["reason"], rows.index)
    rows["email"] = rows["email"].astype("string")
    if not isinstance(df.index, pd.MultiIndex) and not extra:
        rows["row"] = rows["row"].infer_objects()
    return rows.reset_index(drop=True)


def _shown_emails(raw: pd.Series, emails: Emails, pos: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
    """The ``email`` shown in failures at row positions ``pos``: normalized when valid,
    else the text as given. Only those rows become Python strings (not every row).
    """
    pos = np.asarray(pos, dtype=np.intp)
    taken = emails.normalized.take(pa.array(pos, pa.int64()))
    shown = np.asarray(taken.to_numpy(zero_copy_only=False), dtype=object)
    bad = np.flatnonzero(emails.invalid[pos])
    if len(bad):
        given = raw.iloc[pos[bad]].to_numpy(dtype=object)
        shown[bad] = [v.strip() if isinstance(v, str) else v for v in given]
    shown[emails.missing[pos]] = None
    return shown


@dataclass
class _Dedupe:
    dropped: npt.NDArray[np.intp]
    winners: npt.NDArray[np.intp]
    clashing: npt.NDArray[np.intp]  # every occurrence of a repeated email (for "error")


_HASHED = 32  # bytes: keys up to this long are hashed as four 64-bit words


def _surely_distinct(key: pa.Array) -> bool:
    """True when no two keys are equal; False when some may be (the exact path decides).

    Most emails are at most 32 bytes: padded with NULs to 32, each is four 64-bit
    words, hashed by pandas in a few vectorized passes; distinct hashes prove
    distinct keys. ~60 ms per 1,000,000 keys, where ``pc.unique`` takes ~150 ms and
    ``dictionary_encode`` ~240 ms. A repeat has one length, so longer keys (rare)
    are checked apart, exactly, with ``unique``.
    """
    if key.null_count:
        return False
    long = as_mask(pc.greater(pc.binary_length(key), _HASHED))
    if long.any():
        longer = key.filter(pa.array(long))
        if len(pc.unique(longer)) < len(longer):
            return False
        key = key.filter(pa.array(~long))
    if len(key) < 2:
        return True
    padded = pc.ascii_rpad(key, _HASHED, "\0")  # pads bytes, not characters
    size = len(key) * _HASHED
    offsets = padded.buffers()[1]
    if padded.offset or np.frombuffer(offsets, np.int32, count=len(key) + 1)[-1] != size:
        return False  # not one run of 32-byte values (never seen): let the exact path decide
    words = np.frombuffer(padded.buffers()[2], np.uint64, count=size // 8)
    hashes = pd.util.hash_pandas_object(pd.DataFrame(words.reshape(len(key), -1)), index=False)
    return bool(pd.Index(hashes.to_numpy()).is_unique)


def _dedupe(key: pa.Array, failed: npt.NDArray[np.bool_], keep: str) -> _Dedupe:
    """Find repeated emails and each one's winner.

    ``"last"``/``"first"``: the winner is picked among *every* row with a valid
    email, before looking at whether it passed: if the newest row of an email
    fails, the email is rejected and the older rows are superseded (dropped,
    ``kept_row`` = the failed winner), so stale data is never imported in its
    place. A losing row that fails itself stays a failure (its problems are
    reported). ``"error"``: every occurrence among the rows that otherwise pass.
    """
    empty = np.empty(0, np.intp)
    with_email = np.flatnonzero(np.asarray(pc.is_valid(key).to_numpy(zero_copy_only=False)))
    candidates = with_email[~failed[with_email]] if keep == "error" else with_email
    if len(candidates) == 0:
        return _Dedupe(empty, empty, empty)
    taken = key if len(candidates) == len(key) else key.take(pa.array(candidates))
    if _surely_distinct(taken):
        return _Dedupe(empty, empty, empty)  # no email repeats (the common case)
    encoded = pc.dictionary_encode(taken)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    counts = np.bincount(codes, minlength=len(encoded.dictionary))
    repeated = counts[codes] > 1
    if keep == "error":
        return _Dedupe(empty, empty, candidates[repeated])
    if not repeated.any():
        return _Dedupe(empty, empty, empty)
    order = np.arange(len(codes))[::-1] if keep == "last" else np.arange(len(codes))
    _, first_in_order = np.unique(codes[order], return_index=True)
    winner_of_code = np.empty(len(counts), np.intp)
    winner_of_code[np.unique(codes[order])] = candidates[order[first_in_order]]
    winners = winner_of_code[codes]
    lose = (winners != candidates) & ~failed[candidates]
    return _Dedupe(candidates[lose], winners[lose], empty)


def _valid_frame(
    df: pd.DataFrame,
    keep: npt.NDArray[np.bool_],
    emails: Emails,
    coerced: dict[str, Coerced],
    fields: dict[str, str],
) -> pd.DataFrame:
    positions = np.flatnonzero(keep)
    if len(positions) == len(df):  # every row is valid (the common case): no copies
        data: dict[str, Any] = {"email": to_pandas(emails.normalized, "text")}
        for tag, result in coerced.items():
            data[tag] = to_pandas(result.values, fields[tag])
        return pd.DataFrame(data, index=df.index)
    take = pa.array(positions)
    data = {"email": to_pandas(emails.normalized.take(take), "text")}
    for tag, result in coerced.items():
        data[tag] = to_pandas(result.values.take(take), fields[tag])
    return pd.DataFrame(data, index=df.index.take(positions))


# -- the entry point -------------------------------------------------------------------------


def _resolve_fields(
    fields: Sequence[Mapping[str, Any]] | None,
    schema: pda.DataFrameSchema | None,
) -> list[FieldSpec]:
    if fields is not None and schema is not None:
        raise InputError("pass fields= or schema=, not both")
    if fields is not None:
        return normalize_fields(fields)
    if schema is not None:
        return fields_from_schema(schema)
    # Fetching the account's fields is the jobs layer's business (mailtrap_pandas.validate).
    raise InputError(
        "no field definitions: pass fields= or schema=, or a client to mailtrap_pandas.validate"
    )


def _check_policy(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(f"{name} must be one of {', '.join(map(repr, allowed))}, not {value!r}")


def validate(
    df: pd.DataFrame,
    *,
    fields: Sequence[Mapping[str, Any]] | None = None,
    schema: pda.DataFrameSchema | None = None,
    columns: ColumnMap | None = None,
    dedupe: Dedupe = "last",
    nulls: Nulls = "skip",
    unknown: Unknown = "report",
    truncate_time: bool = False,
    dayfirst: bool | None = None,
    date_format: str | None = None,
) -> ValidationReport:
    """Check every row of a contacts frame against the given field definitions.

    The pure core of :func:`mailtrap_pandas.validate` (which documents every parameter):
    the same, but the definitions come from ``fields=`` or ``schema=``, never the network.

    Examples
    --------
    >>> df = pd.DataFrame({"Email": ["a@x.io", "bad"], "age": ["42", "4.5"]})
    >>> age = {"name": "Age", "data_type": "integer", "merge_tag": "age"}
    >>> report = validate(df, fields=[age])
    >>> report.ok, report.n_valid, report.n_failed_rows
    (False, 1, 1)
    >>> report.failures[["row", "column"]].values.tolist()
    [[1, 'Email'], [1, 'age']]
    >>> report.failures["reason"].tolist()
    ['invalid_email', 'not_lossless']
    """
    check_frame(df, "validate")
    _check_policy("dedupe", dedupe, ("last", "first", "error"))
    _check_policy("nulls", nulls, ("skip", "error"))
    _check_policy("unknown", unknown, ("report", "error", "ignore"))
    dates = date_options(truncate_time, dayfirst, date_format)
    _check_columns(df)
    specs = _resolve_fields(fields, schema)
    mapping, unknown_cols = match_columns(list(df.columns), specs, columns)
    ignored = [c for c in df.columns if c not in mapping and c not in unknown_cols]
    taken = set(mapping.values())
    hints = {c: unknown_hint(c, specs, taken) for c in unknown_cols}
    email_cols = [c for c, t in mapping.items() if t == "email"]
    if not email_cols:
        raise InputError(
            f"no email column; the frame has {list(df.columns)}. "
            "Name one 'email' or pass columns={'<name>': 'email'}"
        )
    email_col = email_cols[0]
    types = {f.merge_tag: f.data_type for f in specs}
    n = len(df)
    found = _Found()
    emails = normalize_emails(df[email_col])
    found.add(email_col, [Problem(emails.missing, Reason.MISSING_EMAIL, "no email")])
    found.add(
        email_col, [Problem(emails.invalid, Reason.INVALID_EMAIL, "not a valid email address")]
    )
    coerced: dict[str, Coerced] = {}
    for col, tag in mapping.items():
        if tag == "email":
            continue
        result = coerce(df[col], types[tag], dates)
        coerced[tag] = result
        found.add(col, result.problems)
        if nulls == "error":
            found.add(
                col,
                [
                    Problem(
                        result.missing,
                        Reason.MISSING_VALUE,
                        f"missing value (nulls='error'; field {tag!r})",
                    )
                ],
            )
    found.items = [(c, p) for c, p in found.items if p.mask.any()]
    failed = found.failed(n)
    dd = _dedupe(emails.key, failed, dedupe)
    if len(dd.clashing):
        mask = np.zeros(n, bool)
        mask[dd.clashing] = True
        found.add(
            email_col,
            [
                Problem(
                    mask,
                    Reason.DUPLICATE_EMAIL,
                    "this email occurs more than once (dedupe='error')",
                )
            ],
        )
        failed |= mask
    keep = ~failed
    keep[dd.dropped] = False
    shown = partial(_shown_emails, df[email_col], emails)
    extra = []
    if unknown == "error":
        extra = [
            {
                "row": None,
                "email": None,
                "column": c,
                "value": None,
                "reason": Reason.UNKNOWN_COLUMN,
                "message": f"{hints[c]} (unknown='error')",
            }
            for c in unknown_cols
        ]
    dup_pos = dd.clashing if dedupe == "error" else dd.dropped
    duplicates = pd.DataFrame(
        {
            "row": _labels(df.index, dup_pos),
            "email": shown(dup_pos),
            "kept_row": _labels(df.index, dd.winners)
            if dedupe != "error"
            else np.full(len(dup_pos), None, object),
        }
    )
    matched = {tag: types[tag] for tag in coerced}
    return ValidationReport(
        failures=_failures_frame(df, found, shown, extra),
        valid=_valid_frame(df, keep, emails, coerced, matched),
        duplicates=duplicates,
        unknown_columns=unknown_cols,
        ignored_columns=ignored,
        unknown_hints=hints,
        column_map=mapping,
        fields=matched,
        dedupe=dedupe,
        nulls=nulls,
        unknown=unknown,
        n_rows=n,
        n_failed_rows=int(failed.sum()),
        n_duplicates=len(dd.dropped),
    )


# -- one report from many pieces ----------------------------------------------------------------


def _failed_claims(failures: list[pd.DataFrame]) -> pd.DataFrame:
    """``row``, ``key`` of failed rows whose email itself is valid (they can win a dedupe)."""
    rows = pd.concat([f[["row", "email", "reason"]] for f in failures], ignore_index=True)
    rows = rows[rows["row"].notna()]
    no_email = rows.loc[rows["reason"].isin([Reason.MISSING_EMAIL, Reason.INVALID_EMAIL]), "row"]
    rows = rows[~rows["row"].isin(no_email)].drop_duplicates("row")
    return pd.DataFrame({"row": rows["row"], "key": email_key(rows["email"])})


def _shift(labels: pd.Series, offset: int) -> pd.Series:
    return labels.map(lambda v: v if v is None or pd.isna(v) else int(v) + offset)


def gather(pieces: Sequence[tuple[int, ValidationReport]]) -> ValidationReport:
    """One report for a frame validated piece by piece (a Dask frame, partition by partition).

    Parameters
    ----------
    pieces : sequence of (offset, report)
        Each piece's report, labelled 0..n-1 within the piece, and the position of its
        first row in the whole frame. Labels become positions in the whole frame.

    Returns
    -------
    ValidationReport
        As if the whole frame had been validated at once: an email repeated across
        pieces is resolved by the ``dedupe`` policy (the first or last row wins, and
        ``kept_row`` names it; with ``"error"`` every occurrence fails).
    """
    if not pieces:
        raise InputError("nothing to gather: no pieces")
    first = pieces[0][1]
    failures, valid, duplicates = [], [], []
    for offset, report in pieces:
        f = report.failures
        if offset and len(f):
            # Problems of a whole column (row None) are the same in every piece: keep one.
            f = f[f["row"].notna()]
            f = f.assign(row=_shift(f["row"], offset))
        failures.append(f)
        valid.append(report.valid.set_axis(report.valid.index + offset))
        d = report.duplicates
        duplicates.append(
            d.assign(row=_shift(d["row"], offset), kept_row=_shift(d["kept_row"], offset))
        )
    all_valid = pd.concat(valid)
    key = email_key(all_valid["email"]).reset_index(drop=True)
    labels = all_valid.index.to_numpy()
    emails = all_valid["email"].to_numpy(dtype=object)
    n_failed = sum(r.n_failed_rows for _, r in pieces)
    n_dups = sum(r.n_duplicates for _, r in pieces)
    if first.dedupe == "error":
        # Repeated across pieces, or repeated within a piece that failed them there.
        failed_dups = pd.concat(
            [f.loc[f["reason"] == Reason.DUPLICATE_EMAIL, "email"] for f in failures]
        )
        clash = (key.duplicated(keep=False) | key.isin(set(email_key(failed_dups)))).to_numpy()
        if clash.any():
            email_col = next(c for c, t in first.column_map.items() if t == "email")
            n = int(clash.sum())
            failures.append(
                pd.DataFrame(
                    {
                        "row": labels[clash],
                        "email": emails[clash],
                        "column": email_col,
                        "value": emails[clash],
                        "reason": _objects([Reason.DUPLICATE_EMAIL] * n),
                        "message": "this email occurs more than once (dedupe='error')",
                    }
                )
            )
            duplicates.append(
                pd.DataFrame({"row": labels[clash], "email": emails[clash], "kept_row": [None] * n})
            )
            n_failed += n
            all_valid = all_valid[~clash]
    else:
        keep: Literal["first", "last"] = "last" if first.dedupe == "last" else "first"
        # The winner is picked among every row with a valid email, failed or not (as in
        # validate): a failing winner keeps the other pieces' rows of its email out.
        claims = _failed_claims(failures)
        cand = pd.DataFrame(
            {
                "label": np.concatenate([labels, claims["row"].to_numpy(dtype=object)]),
                "key": np.concatenate(
                    [key.to_numpy(dtype=object), claims["key"].to_numpy(dtype=object)]
                ),
                "valid": np.r_[np.ones(len(labels), bool), np.zeros(len(claims), bool)],
            }
        ).sort_values("label", kind="stable")
        cand["winner"] = cand.groupby("key", sort=False)["label"].transform(keep)
        losers = cand[cand["label"] != cand["winner"]]
        if len(losers):
            # A piece's own winner may lose across pieces: its losers follow the new winner.
            moved = dict(zip(losers["label"], losers["winner"], strict=True))
            duplicates = [
                d.assign(kept_row=d["kept_row"].map(lambda v: moved.get(v, v))) for d in duplicates
            ]
            dropped = losers[losers["valid"].to_numpy(dtype=bool)]
            lose = np.isin(labels, dropped["label"].to_numpy())
            duplicates.append(
                pd.DataFrame(
                    {
                        "row": labels[lose],
                        "email": emails[lose],
                        "kept_row": [moved[v] for v in labels[lose]],
                    }
                )
            )
            n_dups += int(lose.sum())
            all_valid = all_valid[~lose]
    kept_failures = [f for f in failures if len(f)]
    kept_dups = [d for d in duplicates if len(d)]
    gathered = (
        pd.concat(kept_failures, ignore_index=True) if kept_failures else first.failures.iloc[:0]
    )
    gathered["reason"] = reason_column(gathered["reason"], gathered.index)
    gathered["email"] = gathered["email"].astype("string")
    return ValidationReport(
        failures=gathered,
        valid=all_valid,
        duplicates=pd.concat(kept_dups, ignore_index=True)
        if kept_dups
        else first.duplicates.iloc[:0],
        unknown_columns=first.unknown_columns,
        ignored_columns=first.ignored_columns,
        unknown_hints=first.unknown_hints,
        column_map=first.column_map,
        fields=first.fields,
        dedupe=first.dedupe,
        nulls=first.nulls,
        unknown=first.unknown,
        n_rows=sum(r.n_rows for _, r in pieces),
        n_failed_rows=n_failed,
        n_duplicates=n_dups,
    )
