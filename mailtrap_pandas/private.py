"""Files that hold contact data are private to the user who wrote them.

On a shared JupyterHub or server, the default umask (022) would let any other user read the
journal, the events ledger or a downloaded export. Every folder the package creates for its
own records is ``0700`` and every file ``0600``, whatever the umask: SQLite creates its
``-wal`` and ``-shm`` files with the database file's mode, so creating that file ``0600``
first covers them too.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) ``0700``; make an existing folder of ours ``0700``.

    For the package's own folder (``~/.cache/mailtrap-pandas``), which older versions created
    with the umask's mode. A folder the caller chose is left as it is: see :func:`private_file`.
    """
    folder = Path(path)
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_mode & 0o777 != DIR_MODE and info.st_uid == os.getuid():
        folder.chmod(DIR_MODE)
    return folder


def private_file(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` empty and ``0600`` if missing, or make it ``0600``; return it.

    Missing folders are created ``0700``. Call it before another library (SQLite, a
    download) opens the file, so the file is never readable by others, not even for a
    moment.
    """
    file = Path(path)
    file.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd = os.open(file, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    try:
        if os.fstat(fd).st_mode & 0o777 != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    for extra in (Path(f"{file}-wal"), Path(f"{file}-shm"), Path(f"{file}-journal")):
        # Left by an older version with the umask's mode; SQLite keeps an existing file's mode.
        if extra.exists() and extra.stat().st_mode & 0o777 != FILE_MODE:
            extra.chmod(FILE_MODE)
    return file
