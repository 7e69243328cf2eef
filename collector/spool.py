"""The durable spool: every frame a source receives is on disk before it is acknowledged.

Frames are appended raw, in arrival order, to one SQLite table (WAL, and by
default ``synchronous=FULL``, so a committed frame survives a power cut), then
read by every consumer (the scorer, each sink) with its own cursor. A slow or
failing consumer falls behind alone; nothing waits for it but its cursor.
Replays after a crash start from the cursors, and every consumer is idempotent
(sinks key by device, signal and time; dead letters by sequence number), so a
frame may be processed twice but is never lost.

Group commit: :meth:`Spool.append` returns once its frame is committed, and
all frames that arrive while one commit runs go into the next, so the fsync
cost is shared by however many frames a busy broker delivers.

Retention: frames every registered consumer has passed are deleted. Caps on
the count and the age of frames bound the file; when one is reached the
oldest frames are dropped, counted (``spool.dropped``, and per consumer
``spool.dropped.<consumer>``) and logged as an error, never silently.

Examples
--------
>>> import asyncio, tempfile
>>> from pathlib import Path
>>> async def demo() -> list[int]:
...     with tempfile.TemporaryDirectory() as tmp:
...         spool = Spool(SpoolConfig(), Path(tmp), consumers=["a"])
...         await spool.open()
...         for i in range(3):
...             await spool.append("mqtt", Frame(b"{}", f"test:{i}", 0.0))
...         got = [f.seq for f in await spool.read(after=1, limit=10)]
...         await spool.close()
...         return got
>>> asyncio.run(demo())
[2, 3]
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field

from htm_edge.collector.health import Health
from htm_edge.collector.private import private_sqlite
from htm_edge.collector.protocols.base import Frame
from htm_edge.config.base import StrictModel

__all__ = ["Spool", "SpoolConfig", "SpooledFrame"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS frames (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    origin TEXT NOT NULL,
    received_at REAL NOT NULL,
    hint TEXT,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS cursors (consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


class SpoolConfig(StrictModel):
    """The ``[spool]`` section: where frames wait until every consumer has them."""

    path: Path | None = Field(default=None, description="default: <data_dir>/spool.sqlite")
    synchronous: Literal["full", "normal"] = Field(
        default="full",
        description="full: a commit survives a power cut; normal: only a process crash",
    )
    max_frames: int = Field(default=5_000_000, ge=1_000, description="cap on frames kept")
    max_age_s: float = Field(default=30 * 86_400.0, gt=0, description="cap on frame age")
    commit_max_frames: int = Field(default=5_000, ge=1, description="frames per group commit")
    checkpoint_s: float = Field(
        default=300.0, gt=0, description="how often model state and the scorer's cursor are saved"
    )


@dataclass(frozen=True, slots=True)
class SpooledFrame:
    """A frame as the spool keeps it: its sequence number and the source that received it."""

    seq: int
    source: str
    frame: Frame


class Spool:
    """An append-only log of frames on disk with a cursor per consumer.

    Parameters
    ----------
    cfg:
        The ``[spool]`` section.
    data_dir:
        Where the file goes unless ``cfg.path`` says otherwise.
    consumers:
        The consumers whose cursors hold frames back from deletion. A consumer
        without a saved cursor starts at the head (it has no history to
        replay); a saved cursor of a consumer no longer listed is forgotten.
    health:
        Counters and gauges (``spool.depth``, ``spool.oldest_age_s``).
    """

    def __init__(
        self,
        cfg: SpoolConfig,
        data_dir: Path,
        consumers: Iterable[str],
        health: Health | None = None,
    ) -> None:
        self.cfg = cfg
        self.path = cfg.path if cfg.path is not None else data_dir / "spool.sqlite"
        self.consumers = list(dict.fromkeys(consumers))
        self.health = health if health is not None else Health()
        self._exec = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool")
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, Frame, asyncio.Future[int]]] = []
        self._work = asyncio.Event()
        self._grew = asyncio.Condition()
        self._writer: asyncio.Task[None] | None = None
        self._cursors: dict[str, int] = {}
        self.head = 0
        self.first = 1

    # -------------------------------------------------------------- lifecycle
    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._exec, fn, *args)

    async def open(self) -> None:
        """Open (or create, mode 0600) the spool file and load the cursors."""
        await self._call(self._open)
        self._writer = asyncio.create_task(self._write_loop(), name="spool writer")

    def _open(self) -> None:
        private_sqlite(self.path)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={self.cfg.synchronous.upper()}")
        db.executescript(_SCHEMA)
        # AUTOINCREMENT remembers the last seq even after every frame was trimmed
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'frames'").fetchone()
        self.head = int(row[0]) if row else 0
        lowest = db.execute("SELECT MIN(seq) FROM frames").fetchone()[0]
        self.first = int(lowest) if lowest is not None else self.head + 1
        saved = dict(db.execute("SELECT consumer, seq FROM cursors").fetchall())
        self._cursors = {c: int(saved.get(c, self.head)) for c in self.consumers}
        with db:
            db.execute("DELETE FROM cursors")
            db.executemany("INSERT INTO cursors VALUES (?, ?)", self._cursors.items())
        self._db = db

    async def close(self) -> None:
        """Commit what is pending, then close the file (after any call in flight)."""
        if self._writer is not None:
            self._work.set()
            while self._pending:
                await asyncio.sleep(0.001)
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        await self._call(self._close)
        self._exec.shutdown(wait=True)

    def _close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            db.close()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"spool {self.path} is not open")
        return self._db

    # ------------------------------------------------------------------ write
    async def append(self, source: str, frame: Frame) -> int:
        """Append ``frame`` (received by source ``source``); return its seq once committed.

        The frame joins the pending batch in call order before this coroutine
        first waits, so frames keep the order in which they were appended.
        """
        if self._writer is None:
            raise RuntimeError(f"spool {self.path} is not open")
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((source, frame, done))
        self._work.set()
        return await asyncio.shield(done)

    async def _write_loop(self) -> None:
        while True:
            await self._work.wait()
            self._work.clear()
            while self._pending:
                batch = self._pending[: self.cfg.commit_max_frames]
                del self._pending[: len(batch)]
                try:
                    last = await self._call(self._insert, [(s, f) for s, f, _ in batch])
                except Exception as exc:  # disk full, I/O error: nobody is acknowledged
                    log.error("event=spool_write_failed frames=%d error=%r", len(batch), str(exc))
                    self.health.inc("spool.write_errors")
                    for _, _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                first = last - len(batch) + 1
                for i, (_, _, fut) in enumerate(batch):
                    if not fut.done():
                        fut.set_result(first + i)
                self.head = last
                self.health.inc("spool.appended", len(batch))
                self.health.inc("spool.commits")
                async with self._grew:
                    self._grew.notify_all()

    def _insert(self, batch: Sequence[tuple[str, Frame]]) -> int:
        db = self._conn()
        rows = [(s, f.source, f.received_at, f.hint_device_id, f.payload) for s, f in batch]
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT INTO frames (source, origin, received_at, hint, payload) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            last: int = db.execute("SELECT last_insert_rowid()").fetchone()[0]
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return last

    # ------------------------------------------------------------------- read
    async def read(self, after: int, limit: int) -> list[SpooledFrame]:
        """Up to ``limit`` committed frames with ``seq > after``, in order."""
        rows = await self._call(self._read, after, limit)
        return [
            SpooledFrame(seq, source, Frame(payload, origin, received_at, hint))
            for seq, source, origin, received_at, hint, payload in rows
        ]

    def _read(self, after: int, limit: int) -> list[tuple[Any, ...]]:
        return (
            self._conn()
            .execute(
                "SELECT seq, source, origin, received_at, hint, payload FROM frames "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            )
            .fetchall()
        )

    async def wait_beyond(self, seq: int, timeout_s: float | None = None) -> bool:
        """Wait until a frame after ``seq`` is committed; False on timeout."""
        async with self._grew:
            if self.head > seq:
                return True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._grew.wait_for(lambda: self.head > seq)
            return self.head > seq

    # ---------------------------------------------------------------- cursors
    def cursor(self, consumer: str) -> int:
        """The last seq ``consumer`` has finished with."""
        return self._cursors[consumer]

    async def set_cursor(self, consumer: str, seq: int) -> None:
        """Record durably that ``consumer`` has finished with every frame up to ``seq``."""
        self._cursors[consumer] = seq
        await self._call(self._save_cursor, consumer, seq)

    def _save_cursor(self, consumer: str, seq: int) -> None:
        with self._conn() as db:
            db.execute("INSERT OR REPLACE INTO cursors VALUES (?, ?)", (consumer, seq))

    def behind(self, consumer: str) -> int:
        """Frames committed that ``consumer`` has not finished with."""
        return max(0, self.head - self._cursors[consumer])

    # -------------------------------------------------------------- retention
    async def trim(self, now: float | None = None) -> int:
        """Delete frames every consumer has passed; enforce the caps. Returns frames dropped."""
        floor = min(self._cursors.values(), default=self.head)
        keep_after, dropped_min, oldest = await self._call(
            self._trim, floor, time.time() if now is None else now
        )
        dropped = 0
        if dropped_min > 0:
            for consumer, seq in self._cursors.items():
                if seq < dropped_min:
                    lost = dropped_min - seq
                    dropped = max(dropped, lost)
                    self.health.inc(f"spool.dropped.{consumer}", lost)
                    await self.set_cursor(consumer, dropped_min)
            self.health.inc("spool.dropped", dropped)
            log.error(
                "event=spool_overflow dropped_frames=%d max_frames=%d max_age_s=%g "
                "hint=a consumer is failing; see sink write errors",
                dropped,
                self.cfg.max_frames,
                self.cfg.max_age_s,
            )
        self.first = keep_after + 1
        self.health.gauge("spool.depth", float(self.head - keep_after))
        self.health.gauge("spool.oldest_age_s", oldest)
        return dropped

    def _trim(self, floor: int, now: float) -> tuple[int, int, float]:
        db = self._conn()
        with db:
            db.execute("DELETE FROM frames WHERE seq <= ?", (floor,))
            cap_seq = self.head - self.cfg.max_frames
            row = db.execute(
                "SELECT MAX(seq) FROM frames WHERE received_at < ?", (now - self.cfg.max_age_s,)
            ).fetchone()
            cut = max(cap_seq, row[0] or 0)
            if cut > floor:
                db.execute("DELETE FROM frames WHERE seq <= ?", (cut,))
        first = db.execute("SELECT MIN(seq), MIN(received_at) FROM frames").fetchone()
        keep_after = (first[0] - 1) if first[0] is not None else self.head
        oldest = max(0.0, now - first[1]) if first[1] is not None else 0.0
        return keep_after, (cut if cut > floor else 0), oldest
