"""The spool keeps running jobs' bodies and emails on an unlinked, owner-only temporary file."""

from __future__ import annotations

import os
import stat

import pandas as pd

from mailtrap_pandas.jobs.imports.job import Job
from mailtrap_pandas.jobs.imports.spool import Spool


def test_bodies_come_back_exactly_and_the_file_is_private() -> None:
    spool = Spool()
    first, second = spool.put(b'{"contacts": [1]}'), spool.put(b"x" * 100_000)
    assert spool.get(second) == b"x" * 100_000 and spool.get(first) == b'{"contacts": [1]}'
    assert spool._file is not None
    info = os.fstat(spool._file.fileno())
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_nlink == 0  # no name on disk: nothing is left behind, nobody can open it
    spool.close()
    assert spool._file is None


def test_a_parked_job_holds_no_emails_and_reads_them_back() -> None:
    # A running job's emails wait in the spool, not in memory (~29 bytes a row): every chunk
    # is submitted before the first poll, so holding them grew an import with its rows.
    emails = pd.Series(["ann@x.io", "bob@y.io", "zoë@z.io"], dtype="string", index=[7, 3, 9])
    spool = Spool()
    job = Job(0, "sha", emails.index, emails)
    job.park(spool)
    assert len(job.held_emails) == 0 and job.held_emails.dtype == emails.dtype
    pd.testing.assert_series_equal(job.emails, emails)
    pd.testing.assert_series_equal(job.emails, emails)  # read again: still there
    job.emails = pd.Series([], dtype="string")  # confirmed: dropped, the spool is not read
    spool.close()
    assert len(job.emails) == 0


def test_emails_of_any_dtype_come_back_as_they_went() -> None:
    spool = Spool()
    for dtype in ("string[pyarrow]", "string[python]", object):
        emails = pd.Series(["a@x.io", "B@y.io"], dtype=dtype, index=pd.RangeIndex(4, 6))
        where = spool.put_emails(emails)
        pd.testing.assert_series_equal(spool.get_emails(where, emails.index, emails.dtype), emails)
    spool.close()
