"""Private storage: the gateway's data directory and files hold raw device payloads.

The data directory is created (or tightened to) mode 0700 and every store in
it is created 0600 before SQLite opens it; SQLite gives its ``-wal`` and
``-shm`` files the mode of the database file.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["private_dir", "private_file"]

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
    """Create ``path`` empty with mode 0600 if it does not exist (its directory made private)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    return path
