"""SQLite store: the embedded default sink, one table of readings in WAL mode.

Rows are keyed by (device_id, signal, ts), so replaying a batch after a crash
or a reconnect is idempotent, as with InfluxDB points. One lock serialises the
connection between the writer thread and :meth:`SqliteSink.close`, so closing
while a write is in flight waits for it instead of pulling the connection from
under it (which crashed the interpreter).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from htm_edge.collector.context import IngestContext
from htm_edge.collector.private import private_sqlite
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks.base import Sink
from htm_edge.config.base import PluginConfig

__all__ = ["SqliteSink", "SqliteSinkConfig", "count_readings"]

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


class SqliteSinkConfig(PluginConfig):
    """Store readings in a local SQLite file (WAL); ``path`` defaults into data_dir."""

    type: Literal["sqlite"] = "sqlite"
    role: ClassVar[str] = "sink"
    name: str = "sqlite"
    path: Path | None = None
    batch_size: int = Field(default=500, ge=1, description="frames from the spool per write")
    flush_interval_s: float = Field(default=0.5, gt=0)


class SqliteSink(Sink):
    """Write readings to ``cfg.path`` (default ``<data_dir>/readings.sqlite``)."""

    type_name: ClassVar[str] = "sqlite"
    config_model: ClassVar[type[PluginConfig]] = SqliteSinkConfig

    def __init__(self, cfg: SqliteSinkConfig, ctx: IngestContext) -> None:
        super().__init__(cfg, ctx)
        self.path = cfg.path if cfg.path is not None else ctx.data_dir / "readings.sqlite"
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def open(self) -> None:
        """Create the file (mode 0600) and table if needed."""
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        private_sqlite(self.path)
        db = sqlite3.connect(self.path, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
        db.commit()
        with self._lock:
            self._db = db

    async def write(self, batch: Sequence[Reading]) -> None:
        """Insert ``batch`` in one transaction (non-finite values are stored as NULL)."""
        if batch:
            await asyncio.to_thread(self._write, list(batch))

    def _write(self, batch: list[Reading]) -> None:
        rows = [
            (
                r.device_id,
                r.signal,
                r.ts,
                r.value if math.isfinite(r.value) else None,
                r.unit,
                r.quality.value,
            )
            for r in batch
        ]
        with self._lock:
            if self._db is None:
                raise RuntimeError(f"sqlite sink {self.name!r}: write before open or after close")
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO readings VALUES (?,?,?,?,?,?)", rows)

    async def close(self) -> None:
        """Close the database after any write in flight (every write was committed)."""
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            if self._db is not None:
                db, self._db = self._db, None
                db.close()


def count_readings(path: Path) -> int:
    """Number of rows in the readings table of the store at ``path``."""
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM readings").fetchone()[0])
