"""SQLite store: the embedded default sink, one table of readings in WAL mode.

Rows are keyed by (device_id, signal, ts), so replaying a batch after a crash
or a reconnect is idempotent, as with InfluxDB points.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks.base import Sink
from htm_edge.config.schema import SqliteSinkConfig

__all__ = ["SqliteSink", "count_readings"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    device_id TEXT NOT NULL,
    signal TEXT NOT NULL,
    ts REAL NOT NULL,
    value REAL,
    unit TEXT NOT NULL,
    quality TEXT NOT NULL,
    PRIMARY KEY (device_id, signal, ts)
) WITHOUT ROWID
"""


class SqliteSink(Sink):
    """Write readings to ``cfg.path`` (default ``<data_dir>/readings.sqlite``)."""

    name: ClassVar[str] = "sqlite"

    def __init__(self, cfg: SqliteSinkConfig, data_dir: Path) -> None:
        self.cfg = cfg
        self.path = cfg.path if cfg.path is not None else data_dir / "readings.sqlite"
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        """Create the file and table if needed."""
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
        db.commit()
        self._db = db

    async def write(self, batch: Sequence[Reading]) -> None:
        """Insert ``batch`` in one transaction (NaN values are stored as NULL)."""
        if batch:
            await asyncio.to_thread(self._write, list(batch))

    def _write(self, batch: list[Reading]) -> None:
        if self._db is None:
            raise RuntimeError("SqliteSink.write before open")
        rows = [
            (
                r.device_id,
                r.signal,
                r.ts,
                r.value if r.value == r.value else None,
                r.unit,
                r.quality.value,
            )
            for r in batch
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO readings VALUES (?,?,?,?,?,?)", rows)

    async def close(self) -> None:
        """Close the database (every write was already committed)."""
        if self._db is not None:
            db, self._db = self._db, None
            await asyncio.to_thread(db.close)


def count_readings(path: Path) -> int:
    """Number of rows in the readings table of the store at ``path``."""
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM readings").fetchone()[0])
