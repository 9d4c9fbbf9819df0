"""The spool keeps failed-job bodies on an unlinked, owner-only temporary file."""

from __future__ import annotations

import os
import stat

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
