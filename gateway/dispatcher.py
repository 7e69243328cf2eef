"""The daemon's notify stage: alert events into the store, the outbox out to the notifiers.

::

    score consumer --(event, order)--> ingest --> alerts.sqlite (work orders + outbox rows,
                                                   one transaction)
                                        tick ---> pending fire, escalation, silences expire
                                      deliver <-- outbox rows due, per channel, in order
                                         |
                                         v
                                     notifiers (console, mqtt, webhook, smtp)

* **Nothing is lost.** A notification is in the outbox (fsync'd, WAL) in the
  same transaction as the work-order change that caused it. A notifier that
  is down delays its rows (retried with full-jitter exponential backoff between
  ``outbox.retry_min_s`` and ``retry_max_s``, in order per channel); they are
  never dropped, and a restart delivers what is left.
* **Never twice after a restart.** A row is marked sent when its notifier
  returned; a restart sends only unsent rows. A crash between a delivery and
  its commit (milliseconds) can repeat one message: every message carries its
  idempotency key for the receiver to drop it.
* **Failures count as failed**: ``notifier.<name>.failed`` per attempt,
  ``notifier.<name>.sent`` per delivery; ``alerts.dispatched`` counts
  notifications delivered on at least one channel.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from htm_edge.alerting.config import AlertingConfig
from htm_edge.alerting.lifecycle import AlertLifecycle
from htm_edge.alerting.notification import Notification
from htm_edge.alerting.notifiers import Notifier
from htm_edge.alerting.outcomes import adaptation_levels
from htm_edge.alerting.rules import Rule
from htm_edge.alerting.rules.anomaly import AnomalyRule
from htm_edge.alerting.store import AlertStore
from htm_edge.alerting.types import AlertEvent, WorkOrder
from htm_edge.collector.health import Health
from htm_edge.collector.private import private_sqlite
from htm_edge.config.inventory import Device

__all__ = ["ALERT_STORE", "Dispatcher", "open_lifecycle"]

log = logging.getLogger(__name__)

#: the alert store, inside the data directory
ALERT_STORE = "alerts.sqlite"
_ADAPT_EVERY_S = 10.0


def open_lifecycle(
    data_dir: Path, cfg: AlertingConfig, devices: Callable[[str], Device], channels: Sequence[str]
) -> AlertLifecycle:
    """Open (or create, mode 0600) the alert store of ``data_dir`` and its lifecycle."""
    path = private_sqlite(data_dir / ALERT_STORE)
    return AlertLifecycle(AlertStore(path), cfg, devices, channels)


class Dispatcher:
    """Ingest alert events, run the lifecycle's timers, deliver the outbox.

    Parameters
    ----------
    cfg:
        The ``[alerting]`` section.
    notifiers:
        The built notifiers; a notifier's ``name`` is its channel.
    health:
        Counters.
    devices:
        Inventory lookup.
    rules:
        The engine's rules (anomaly rules get the learnt per-device sensitivity).
    data_clock:
        The newest score time (used when ``alerting.clock = "data"``).
    """

    def __init__(
        self,
        cfg: AlertingConfig,
        notifiers: Sequence[Notifier],
        health: Health,
        devices: Callable[[str], Device],
        rules: Sequence[Rule] = (),
        data_clock: Callable[[], float | None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.notifiers = {n.name: n for n in notifiers}
        self.health = health
        self.devices = devices
        self.rules = list(rules)
        self.data_clock = data_clock
        self.lifecycle: AlertLifecycle | None = None
        self.stale: Callable[[], Sequence[str]] = tuple
        #: the most recent events ingested (bounded)
        self.events: deque[AlertEvent] = deque(maxlen=1000)
        self._retry_at: dict[int, float] = {}
        self._latest = 0.0
        self._unknown_channels: set[str] = set()

    def now(self) -> float:
        """The alerting clock: wall time, or the newest score's time in ``data`` mode."""
        if self.cfg.clock == "wall":
            return time.time()
        latest = self.data_clock() if self.data_clock is not None else None
        self._latest = max(self._latest, latest or 0.0)
        return self._latest

    def open(self, data_dir: Path) -> AlertLifecycle:
        """Open the store (blocking: call it in a thread)."""
        self.lifecycle = open_lifecycle(data_dir, self.cfg, self.devices, list(self.notifiers))
        return self.lifecycle

    def close(self) -> None:
        """Close the store."""
        if self.lifecycle is not None:
            self.lifecycle.store.close()

    async def run(self, queue: asyncio.Queue[tuple[AlertEvent, WorkOrder] | None]) -> None:
        """The stage: until the queue ends, then one last delivery round."""
        assert self.lifecycle is not None, "open() the dispatcher first"
        timers = asyncio.create_task(self._timers(), name="alert-timers")
        try:
            while (item := await queue.get()) is not None:
                event, order = item
                self._latest = max(self._latest, event.ts)
                self.events.append(event)
                self.health.inc(f"alerts.{event.kind}")
                try:
                    await asyncio.to_thread(self.lifecycle.ingest, event, order, self.now())
                finally:
                    queue.task_done()
            queue.task_done()
        finally:
            timers.cancel()
        await asyncio.to_thread(self.lifecycle.tick, self.now())
        await self.deliver_once()

    async def _timers(self) -> None:
        assert self.lifecycle is not None
        next_adapt = 0.0
        while True:
            self.lifecycle.stale = frozenset(self.stale())
            await asyncio.to_thread(self.lifecycle.tick, self.now())
            if time.monotonic() >= next_adapt:
                next_adapt = time.monotonic() + _ADAPT_EVERY_S
                await self.adapt()
            await self.deliver_once()
            await asyncio.sleep(self.cfg.outbox.poll_s)

    async def adapt(self) -> None:
        """Apply the sensitivity levels learnt from outcomes to the anomaly rules."""
        assert self.lifecycle is not None
        cfg = self.cfg.adaptation
        levels = await asyncio.to_thread(adaptation_levels, self.lifecycle.store, cfg)
        for rule in self.rules:
            if isinstance(rule, AnomalyRule):
                rule.set_levels(
                    {dev: lvl for (dev, name), lvl in levels.items() if name == rule.name}, cfg.step
                )

    async def deliver_once(self) -> int:
        """Try every due outbox row once (in order per channel); return how many were sent."""
        assert self.lifecycle is not None
        store = self.lifecycle.store
        rows = await asyncio.to_thread(store.due, self.now(), 500)
        blocked: set[str] = set()
        sent = 0
        wall = time.monotonic()
        for row in rows:
            channel = row["channel"]
            if channel in blocked or self._retry_at.get(row["id"], 0.0) > wall:
                blocked.add(channel)
                continue
            notifier = self.notifiers.get(channel)
            if notifier is None:
                if channel not in self._unknown_channels:
                    self._unknown_channels.add(channel)
                    log.error(
                        "event=outbox_channel_unknown channel=%s hint=the notifier was removed "
                        "from the config; its notifications stay in the outbox",
                        channel,
                    )
                continue
            if await self._send(notifier, row):
                sent += 1
            else:
                blocked.add(channel)
        return sent

    async def _send(self, notifier: Notifier, row: dict[str, Any]) -> bool:
        assert self.lifecycle is not None
        store = self.lifecycle.store
        note = Notification.from_json(row["payload"])
        try:
            async with asyncio.timeout(self.cfg.outbox.timeout_s):
                await notifier.send(note)
        except Exception as exc:  # one failing notifier must not starve the others
            notifier.failed += 1
            self.health.inc(f"notifier.{notifier.name}.failed")
            wait = random.uniform(
                0,
                min(
                    self.cfg.outbox.retry_max_s, self.cfg.outbox.retry_min_s * 2 ** row["attempts"]
                ),
            )
            self._retry_at[row["id"]] = time.monotonic() + max(
                wait, self.cfg.outbox.retry_min_s / 2
            )
            error = str(exc) or type(exc).__name__
            log.error(
                "event=notify_failed notifier=%s key=%s attempt=%d retry_in_s=%.1f error=%r",
                notifier.name,
                note.key,
                row["attempts"] + 1,
                wait,
                error,
            )
            await asyncio.to_thread(store.mark_failed, row["id"], error, row["not_before"])
            return False
        first = await asyncio.to_thread(
            store.one, "SELECT 1 FROM outbox WHERE key = ? AND state = 'sent'", (note.key,)
        )
        await asyncio.to_thread(store.mark_sent, row["id"], self.now())
        self._retry_at.pop(row["id"], None)
        self.health.inc(f"notifier.{notifier.name}.sent")
        if first is None:
            self.health.inc("alerts.dispatched")
        return True
