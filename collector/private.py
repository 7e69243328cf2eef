"""Private storage: the gateway's data directory and files hold raw device payloads.

The data directory is created (or tightened to) mode 0700 and every store in
it is created 0600 before SQLite opens it; SQLite gives its ``-wal`` and
``-shm`` files the mode of the database file.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["private_dir", "private_file", "private_sqlite"]

log = logging.getLogger(__name__)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it accessible to its owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:  # not ours (a shared mount): say so, do not fail start-up
        log.warning("event=data_dir_not_private path=%s error=%r", path, str(exc))
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600, or tighten an existing one to 0600.

    Its directory is made private too. A file left by an older version or
    copied in with a loose mode is tightened, not trusted.
    """
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return path


def private_sqlite(path: Path) -> Path:
    """:func:`private_file` for a SQLite database and the WAL files it may have left."""
    for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if side.exists():
            private_file(side)
    return private_file(path)
