"""Alert and work-order lifecycle on the store: grouping, inhibition, silences, escalation.

States of a work order::

    pending --group_wait_s--> firing --ack--> acknowledged --resolve(outcome)--> resolved
       |                        |                                                  ^
       +--------- condition cleared (engine resolved every alert) -----------------+

* **One work order per device episode.** The engine's first alert on a device
  opens a work order (*pending* for ``grouping.group_wait_s``); every further
  alert of that device while the work order is open joins it instead of
  raising its own (inhibited: "already under a work order"). Its priority is
  its most urgent alert's.
* **Storms.** When a pending work order fires and work orders of at least
  ``grouping.storm_devices`` devices of its site opened within
  ``storm_window_s``, they become one incident, notified once.
* **Silences and inhibition.** An alert matched by a silence (device, site,
  modality, failure mode, rule; until its expiry), of a device that is offline
  (stale) or in a maintenance window raises no work order; it is kept with the
  reason, and raised when the silence expires (or the device is back) if the
  alert is still active.
* **Escalation.** A firing work order whose priority has a policy pages the
  next name of its chain (first candidate, more engineers, then managers)
  each ``ack_timeout_s`` until someone acknowledges it.
* **Resolution.** When the engine resolves every alert of a work order its
  condition is *cleared*: a pending one resolves silently, a sent one resolves
  with outcome ``cleared`` and a resolved notification; a person may still
  record the real outcome (:mod:`htm_edge.alerting.actions`).

Every engine event is ingested once (``seen_events``), so replaying scores
after a restart changes nothing; an alert a cold engine opens again while the
store still has it active continues it. Notifications are written to the
outbox in the same transaction as the change that caused them.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from htm_edge.alerting.lifecycle_base import OPEN_STATES, fetch_one, outbox_size, rank
from htm_edge.alerting.lifecycle_timers import LifecycleTimers
from htm_edge.alerting.types import AlertEvent, EventKind, WorkOrder

__all__ = ["OPEN_STATES", "AlertLifecycle"]


class AlertLifecycle(LifecycleTimers):
    """Turn engine events into work orders and notifications, on an :class:`AlertStore`.

    Built with ``(store, cfg, devices, channels)`` (see
    :class:`~htm_edge.alerting.lifecycle_base.LifecycleBase`); the daemon calls
    :meth:`ingest` for every engine event and ``tick`` every second.
    """

    def ingest(self, event: AlertEvent, order: WorkOrder, now: float) -> int:
        """Record one engine event; return the notifications it queued."""
        a = event.alert
        eid = f"{a.key}|{a.opened_at!r}|{event.kind}|{event.ts!r}"
        with self.store.tx() as db:
            if (
                db.execute("INSERT OR IGNORE INTO seen_events (id) VALUES (?)", (eid,)).rowcount
                == 0
            ):
                return 0
            before = outbox_size(db)
            row = fetch_one(
                db, "SELECT * FROM alerts WHERE key = ? AND opened_at = ?", (a.key, a.opened_at)
            )
            if row is None and event.kind is not EventKind.RESOLVED:
                # a cold engine (restart) re-opened an alert the store still has active
                row = fetch_one(
                    db, "SELECT * FROM alerts WHERE key = ? AND state = 'active'", (a.key,)
                )
            if row is None and event.kind is not EventKind.RESOLVED:
                self._new_alert(db, order, now)
            elif row is not None and event.kind is EventKind.RESOLVED:
                self._clear_alert(db, row, order, event.reason, now)
            elif row is not None:
                self._update_alert(db, row, order, event, now)
            db.execute(
                "INSERT INTO meta (k, v) VALUES ('clock', ?) ON CONFLICT (k) "
                "DO UPDATE SET v = excluded.v",
                (json.dumps(now),),
            )
            return outbox_size(db) - before

    def _new_alert(self, db: sqlite3.Connection, order: WorkOrder, now: float) -> None:
        suppressed = self._suppression(db, order, now)
        db.execute(
            "INSERT OR REPLACE INTO alerts (key, opened_at, device_id, failure_mode, rule, "
            "severity, state, work_order_id, suppressed, last_ts, priority_score, work_order) "
            "VALUES (?, ?, ?, ?, ?, ?, 'active', NULL, ?, ?, ?, ?)",
            (
                order.dedup_key,
                order.first_detected_at,
                order.device_id,
                order.failure_mode,
                order.rule,
                order.severity,
                suppressed,
                order.issued_at,
                order.priority_score,
                json.dumps(order.to_dict()),
            ),
        )
        if suppressed is None:
            self.raise_alert(db, order.dedup_key, order.first_detected_at, order, now)

    def raise_alert(
        self, db: sqlite3.Connection, key: str, opened_at: float, order: WorkOrder, now: float
    ) -> None:
        """Attach an unsuppressed alert to its device's open work order, or open one."""
        wo = fetch_one(
            db,
            f"SELECT * FROM work_orders WHERE device_id = ? AND state IN {OPEN_STATES}",
            (order.device_id,),
        )
        if wo is None:
            wo_id = f"WO-{order.device_id}-{int(opened_at)}"
            device = self.devices(order.device_id)
            chain = self.roster.chain(device, order.failure_mode, now, order.priority)
            db.execute(
                "INSERT OR IGNORE INTO work_orders (id, device_id, site, modality, failure_mode, "
                "rule, priority, state, condition, created_at, updated_at, fire_at, assignee, "
                "chain, document) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 'active', ?, ?, ?, ?, ?, '{}')",
                (
                    wo_id,
                    order.device_id,
                    order.site,
                    order.modality,
                    order.failure_mode,
                    order.rule,
                    order.priority,
                    now,
                    now,
                    now + self.cfg.grouping.group_wait_s,
                    chain[0] if chain else None,
                    json.dumps(chain),
                ),
            )
            db.execute(
                "UPDATE alerts SET work_order_id = ?, suppressed = NULL WHERE key = ? AND "
                "opened_at = ?",
                (wo_id, key, opened_at),
            )
            self.act(db, wo_id, "opened", "htm-edge", "engine", now, {"alert": key})
            if self.cfg.grouping.group_wait_s <= 0:
                self._promote(db, wo_id, now)
            else:
                self.refresh(db, wo_id, now)
            return
        db.execute(
            "UPDATE alerts SET work_order_id = ?, suppressed = NULL WHERE key = ? AND "
            "opened_at = ?",
            (wo["id"], key, opened_at),
        )
        self.act(db, wo["id"], "alert_joined", "htm-edge", "engine", now, {"alert": key})
        self._reprioritise(db, wo, order, f"alert {key} joined", now)

    def _reprioritise(
        self, db: sqlite3.Connection, wo: dict[str, Any], order: WorkOrder, reason: str, now: float
    ) -> None:
        rose = rank(order.priority) < rank(wo["priority"])
        if rose:
            db.execute(
                "UPDATE work_orders SET priority = ?, failure_mode = ?, rule = ? WHERE id = ?",
                (order.priority, order.failure_mode, order.rule, wo["id"]),
            )
            policy = self.roster.policy(order.priority)
            if wo["state"] == "firing" and wo["escalate_at"] is None and policy is not None:
                db.execute(
                    "UPDATE work_orders SET escalate_at = ? WHERE id = ?",
                    (now + policy.ack_timeout_s, wo["id"]),
                )
        doc = self.refresh(db, wo["id"], now)
        if rose and wo["state"] in ("firing", "acknowledged"):
            self.notify(
                db,
                "updated",
                doc,
                wo["assignee"],
                f"{reason}; priority {order.priority}",
                f"{wo['id']}/updated/{order.dedup_key}/{order.issued_at!r}",
                now,
            )

    def _update_alert(
        self,
        db: sqlite3.Connection,
        row: dict[str, Any],
        order: WorkOrder,
        event: AlertEvent,
        now: float,
    ) -> None:
        db.execute(
            "UPDATE alerts SET severity = ?, last_ts = ?, priority_score = ?, "
            "work_order = ? WHERE key = ? AND opened_at = ?",
            (
                order.severity,
                order.issued_at,
                order.priority_score,
                json.dumps(order.to_dict()),
                row["key"],
                row["opened_at"],
            ),
        )
        if row["work_order_id"] is None:
            return
        wo = fetch_one(db, "SELECT * FROM work_orders WHERE id = ?", (row["work_order_id"],))
        if wo is None or wo["state"] == "resolved":
            return
        if event.kind is EventKind.ESCALATED and rank(order.priority) >= rank(wo["priority"]):
            doc = self.refresh(db, wo["id"], now)
            if wo["state"] in ("firing", "acknowledged"):
                self.notify(
                    db,
                    "updated",
                    doc,
                    wo["assignee"],
                    event.reason,
                    f"{wo['id']}/updated/{row['key']}/{event.ts!r}",
                    now,
                )
            return
        self._reprioritise(db, wo, order, event.reason or "alert changed", now)

    def _clear_alert(
        self, db: sqlite3.Connection, row: dict[str, Any], order: WorkOrder, reason: str, now: float
    ) -> None:
        db.execute(
            "UPDATE alerts SET state = 'cleared', last_ts = ?, work_order = ? "
            "WHERE key = ? AND opened_at = ?",
            (order.issued_at, json.dumps(order.to_dict()), row["key"], row["opened_at"]),
        )
        wo_id = row["work_order_id"]
        if wo_id is None:
            return
        active = db.execute(
            "SELECT COUNT(*) FROM alerts WHERE work_order_id = ? AND state = 'active'", (wo_id,)
        ).fetchone()[0]
        wo = fetch_one(db, "SELECT * FROM work_orders WHERE id = ?", (wo_id,))
        if wo is None:
            return
        if active:
            self.refresh(db, wo_id, now)
            return
        if wo["state"] == "resolved":
            db.execute("UPDATE work_orders SET condition = 'cleared' WHERE id = ?", (wo_id,))
            self.refresh(db, wo_id, now)
            return
        sent = wo["state"] != "pending"
        db.execute(
            "UPDATE work_orders SET state = 'resolved', condition = 'cleared', "
            "resolved_at = ?, resolved_by = 'htm-edge', outcome = 'cleared', "
            "escalate_at = NULL WHERE id = ?",
            (now, wo_id),
        )
        self.act(db, wo_id, "cleared", "htm-edge", "engine", now, {"reason": reason})
        doc = self.refresh(db, wo_id, now)
        if sent:
            self.notify(db, "resolved", doc, wo["assignee"], reason, f"{wo_id}/resolved", now)
