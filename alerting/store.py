"""The alert store: work orders, alerts, silences, incidents, actions and the outbox in SQLite.

One SQLite file in WAL mode (``<data_dir>/alerts.sqlite``; the gateway
creates it mode 0600 before it opens it), shared by the daemon and the
``htm-edge alerts`` commands of other processes: WAL lets a command write
while the daemon reads, and every change is one ``BEGIN IMMEDIATE``
transaction, so a work order and the notifications it causes are committed
together or not at all.

Tables (every time is epoch seconds of the alerting clock; ``wall_at`` is
the gateway's real clock):

* ``work_orders``: one row per work order, its state (pending, firing,
  acknowledged, resolved), condition (active, cleared), assignment and
  escalation, outcome, and the JSON document notifiers send;
* ``alerts``: each engine alert (key, opened_at) and the work order it joined,
  or why it was suppressed (silenced, inhibited);
* ``seen_events``: engine events already ingested (a replay is a no-op);
* ``silences``, ``incidents``, ``actions`` (who did what, when, through what);
* ``outbox``: one row per notification and channel, unique by idempotency
  key and channel, with its delivery state, attempts and next attempt;
* ``meta``: the alerting clock's latest time, for commands of other processes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["AlertStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS work_orders (
    id TEXT PRIMARY KEY, device_id TEXT NOT NULL, site TEXT NOT NULL, modality TEXT NOT NULL,
    failure_mode TEXT NOT NULL, rule TEXT NOT NULL, priority TEXT NOT NULL,
    state TEXT NOT NULL, condition TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, fire_at REAL, fired_at REAL,
    acked_at REAL, acked_by TEXT, resolved_at REAL, resolved_by TEXT,
    outcome TEXT, outcome_part TEXT, outcome_note TEXT,
    assignee TEXT, level INTEGER NOT NULL DEFAULT 0, chain TEXT NOT NULL DEFAULT '[]',
    escalate_at REAL, incident_id TEXT, document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS wo_device ON work_orders (device_id, state);
CREATE INDEX IF NOT EXISTS wo_state ON work_orders (state);
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT NOT NULL, opened_at REAL NOT NULL, device_id TEXT NOT NULL,
    failure_mode TEXT NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL,
    state TEXT NOT NULL, work_order_id TEXT, suppressed TEXT, last_ts REAL NOT NULL,
    priority_score REAL NOT NULL DEFAULT 0, work_order TEXT NOT NULL,
    PRIMARY KEY (key, opened_at)
);
CREATE INDEX IF NOT EXISTS alerts_wo ON alerts (work_order_id);
CREATE INDEX IF NOT EXISTS alerts_active ON alerts (state, device_id);
CREATE TABLE IF NOT EXISTS seen_events (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS silences (
    id TEXT PRIMARY KEY, device_id TEXT, site TEXT, modality TEXT, failure_mode TEXT,
    rule TEXT, starts_at REAL NOT NULL, ends_at REAL NOT NULL, author TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL, expired INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY, site TEXT NOT NULL, opened_at REAL NOT NULL, closed_at REAL,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, work_order_id TEXT, action TEXT NOT NULL,
    actor TEXT NOT NULL, via TEXT NOT NULL, at REAL NOT NULL, wall_at REAL NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS actions_wo ON actions (work_order_id);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, channel TEXT NOT NULL,
    work_order_id TEXT NOT NULL, kind TEXT NOT NULL, recipient TEXT NOT NULL,
    payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0, not_before REAL NOT NULL, last_error TEXT,
    created_at REAL NOT NULL, sent_at REAL,
    UNIQUE (key, channel)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, not_before);
CREATE INDEX IF NOT EXISTS outbox_recipient ON outbox (recipient, created_at);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
"""


class AlertStore:
    """A thread-safe handle on the alert store file (or ``:memory:``).

    Parameters
    ----------
    path:
        The SQLite file; created with its tables when missing.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(path), timeout=30.0, check_same_thread=False, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._depth = 0
        with self.tx() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``); nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._db
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def query(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read query as dicts."""
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]

    def one(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> dict[str, Any] | None:
        """The first row of a read query, or None."""
        rows = self.query(sql, args)
        return rows[0] if rows else None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ meta
    def set_meta(self, key: str, value: Any) -> None:
        """Store one JSON value under ``key``."""
        with self.tx() as db:
            db.execute(
                "INSERT INTO meta (k, v) VALUES (?, ?) "
                "ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                (key, json.dumps(value)),
            )

    def meta(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under ``key``."""
        row = self.one("SELECT v FROM meta WHERE k = ?", (key,))
        return default if row is None else json.loads(row["v"])

    # ---------------------------------------------------------------- outbox
    def due(self, now: float, limit: int = 100) -> list[dict[str, Any]]:
        """Pending outbox rows whose time has come, oldest first."""
        return self.query(
            "SELECT * FROM outbox WHERE state = 'pending' AND not_before <= ? ORDER BY id LIMIT ?",
            (now, limit),
        )

    def mark_sent(self, row_id: int, at: float) -> None:
        """Record a delivery (the row is never sent again)."""
        with self.tx() as db:
            db.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL WHERE id = ?",
                (at, row_id),
            )

    def mark_failed(self, row_id: int, error: str, retry_at: float) -> None:
        """Record a failed attempt; the row is tried again at ``retry_at``."""
        with self.tx() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, not_before = ? "
                "WHERE id = ?",
                (error[:500], retry_at, row_id),
            )

    def outbox_counts(self) -> dict[str, int]:
        """Outbox rows by state (``pending``, ``sent``)."""
        rows = self.query("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}
