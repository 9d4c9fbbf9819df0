"""Uncertain chunks: did the server take a body whose answer never came?

A dropped connection after sending (``TransportError(sent=True)``) or a ``submitting`` journal
row left by a crash makes a chunk *uncertain*. Once every other job has finished, ONE export is
taken; if all of the chunk's emails are there with the chunk's field values and list ids, it
counts as imported (status ``"verified"``, counts unknown), otherwise it is submitted again.
Still uncertain after that: rejected with reason ``"uncertain"``. An upsert of identical values
is harmless, so a false "verified" loses nothing; a resubmission only happens when the data is
not there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd

from mailtrap_pandas.frames.emails import email_key
from mailtrap_pandas.frames.encode import Chunk
from mailtrap_pandas.jobs.imports.job import Job
from mailtrap_pandas.jobs.imports.submit import Submitter
from mailtrap_pandas.jobs.snapshot import take_snapshot

__all__ = ["resolve_uncertain"]


def resolve_uncertain(sub: Submitter) -> None:
    """One export decides each uncertain chunk: verified, or submitted again."""
    uncertain = [j for j in sub.jobs if j.status == "uncertain"]
    if not uncertain:
        return
    sub.poll()
    # A job accepted just before the connection dropped may still be running.
    ran = [j.finished_at - j.submitted_at for j in sub.jobs if j.finished_at and j.submitted_at]
    sub.sleep(min(30.0, max([1.0, *ran])))
    present = _present(sub, uncertain)
    base, account = sub.key
    for job in uncertain:
        assert job.body is not None
        if _all_present(orjson.loads(job.body)["contacts"], present, sub.planner.types):
            job.status = "verified"
            sub.journal.finished(base, account, job.sha256, state="verified", status="verified")
            sub.progress.finished()
            job.body = None
            sub.done(job)
            continue
        job.status = "not_found"
        sub.journal.forget(base, account, job.sha256)
        again = Chunk(job.chunk, job.index, job.emails, job.body, job.sha256)
        job.body = None
        sub.submit(again, pd.DataFrame())
    sub.poll()
    for job in [j for j in sub.jobs if j.status == "uncertain"]:
        job.status = "lost"
        for label, email in zip(job.index, job.emails, strict=True):
            sub.outcomes.reject(
                label,
                email,
                "server",
                "",
                "uncertain",
                "the connection dropped after sending, twice; run again to check",
            )


def _present(sub: Submitter, uncertain: Sequence[Job]) -> dict[str, dict[str, Any]]:
    """email key -> typed export row, for the emails of ``uncertain`` only.

    The package's own reader does the work (one CSV parser in the package);
    only the rows we need are turned into Python values.
    """
    snapshot = take_snapshot(sub.client, progress=False)
    if snapshot.empty:
        return {}
    wanted = pd.Index(np.concatenate([email_key(j.emails).to_numpy() for j in uncertain]))
    keys = email_key(snapshot["email"])
    hit = keys.isin(wanted).to_numpy(dtype=bool)
    rows = snapshot[hit].to_dict("records")
    return {str(k): {str(c): v for c, v in r.items()} for k, r in zip(keys[hit], rows, strict=True)}


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, list | np.ndarray) and bool(pd.isna(value)))


def _same(cell: Any, value: Any, data_type: str) -> bool:
    """Does the typed export value ``cell`` equal the JSON value ``value`` we sent?"""
    if _missing(cell):
        return False
    if data_type == "integer":
        return bool(int(cell) == int(value))
    if data_type == "float":
        return bool(float(cell) == float(value))
    if data_type == "boolean":
        return bool(cell) is bool(value)
    if data_type == "date":
        return bool(str(cell)[:10] == value)  # datetime.date or Timestamp -> yyyy-mm-dd
    return bool(str(cell) == value)


def _all_present(
    contacts: list[dict[str, Any]],
    present: Mapping[str, Mapping[str, Any]],
    types: Mapping[str, str],
) -> bool:
    """Are these contacts in the export with the values and list ids we sent?"""
    for contact in contacts:
        row = present.get(str(contact["email"]).strip().lower())
        if row is None:
            return False
        for tag, value in contact.get("fields", {}).items():
            if not _same(row.get(tag), value, types.get(tag, "text")):
                return False
        stored = row.get("list_ids")
        lists = set() if stored is None or _missing(stored) else {int(x) for x in stored}
        if not set(contact.get("list_ids_included", [])) <= lists:
            return False
        if set(contact.get("list_ids_excluded", [])) & lists:
            return False
    return True
