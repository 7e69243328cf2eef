"""Dead-letter store: every frame that could not be decoded is kept, with why and where from.

Readings a time-series server refuses for good (older than its retention
policy, a field type conflict) are kept here too, as JSON, with source
``sink:<name>`` (:mod:`htm_edge.gateway.sink_writer`).

Nothing a device sent is thrown away: a malformed payload is counted, logged
with its source and stored here (SQLite, mode 0600) so it can be inspected and
replayed after a codec fix. Patient identity is not kept: a payload is stored
as its protocol's ``redact`` leaves it (:func:`redacted`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from htm_edge.collector.health import Health
from htm_edge.collector.private import private_sqlite
from htm_edge.collector.protocols.base import Frame, Protocol

__all__ = ["DeadLetterStore", "carries_patient_data", "redacted"]

log = logging.getLogger(__name__)


def carries_patient_data(protocol: Protocol) -> bool:
    """True when ``protocol`` redacts (its payloads may identify a patient)."""
    return type(protocol).redact is not Protocol.redact


def redacted(protocol: Protocol, frame: Frame, health: Health | None = None) -> Frame:
    """``frame`` as its protocol's ``redact`` leaves it; without payload if that fails.

    A redaction that fails keeps nothing of the payload: a dead letter must
    never hold patient identity in clear.
    """
    try:
        payload = protocol.redact(frame.payload)
    except Exception as exc:  # a protocol bug must not leak the payload
        if health is not None:
            health.inc("deadletter.redaction_errors")
        log.error(
            "event=redaction_failed source=%s error=%s", frame.source[:200], type(exc).__name__
        )
        payload = b""
    return Frame(payload, frame.source, frame.received_at, frame.hint_device_id)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    source TEXT NOT NULL,
    error TEXT NOT NULL,
    payload BLOB NOT NULL,
    spool_seq INTEGER UNIQUE
)
"""


class DeadLetterStore:
    """Append-only SQLite table of undecodable frames."""

    def __init__(self, path: Path) -> None:
        self.path = private_sqlite(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db.commit()

    def put(self, frame: Frame, error: str, spool_seq: int | None = None) -> None:
        """Store ``frame`` with the reason it was rejected (durable on return).

        ``spool_seq`` makes it idempotent: a frame replayed from the spool
        after a crash is stored once.
        """
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO dead_letters "
                "(received_at, source, error, payload, spool_seq) VALUES (?,?,?,?,?)",
                (frame.received_at, frame.source, error, frame.payload, spool_seq),
            )
            self._db.commit()

    def put_many(self, frames: Sequence[Frame], error: str) -> None:
        """Store ``frames`` with one reason, in one transaction (durable on return)."""
        with self._lock:
            self._db.executemany(
                "INSERT INTO dead_letters (received_at, source, error, payload) VALUES (?,?,?,?)",
                [(f.received_at, f.source, error, f.payload) for f in frames],
            )
            self._db.commit()

    def count(self) -> int:
        """Number of stored dead letters."""
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the database (after a write in flight, never during it)."""
        with self._lock:
            self._db.close()
