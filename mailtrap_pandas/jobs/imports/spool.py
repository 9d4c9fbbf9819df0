"""Request bodies kept aside until their job is final, so a failed job can be sent again.

A 50,000-contact body is several megabytes and every chunk is submitted before the first
poll, so holding them in memory would make memory grow with the import. They go to ONE
anonymous temporary file instead: created ``0600`` and already unlinked (no other user can
open it, nothing is left behind after a crash), and only ``(offset, length)`` stays in memory.
"""

from __future__ import annotations

import tempfile
from typing import IO

__all__ = ["Spool"]


class Spool:
    """Append-only store of bytes on an unlinked temporary file, opened on first use."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._end = 0

    def put(self, body: bytes) -> tuple[int, int]:
        """Keep ``body``; return where it is, for :meth:`get`."""
        if self._file is None:
            # TemporaryFile: mode 0600 and no name on disk (O_TMPFILE on Linux).
            self._file = tempfile.TemporaryFile(prefix="mailtrap-pandas-")
        self._file.seek(self._end)
        self._file.write(body)
        where = (self._end, len(body))
        self._end += len(body)
        return where

    def get(self, where: tuple[int, int]) -> bytes:
        """The bytes stored at ``where``."""
        assert self._file is not None, "nothing was put in this spool"
        offset, length = where
        self._file.seek(offset)
        return self._file.read(length)

    def close(self) -> None:
        """Free the disk space (the file has no name: closing deletes it)."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._end = 0
