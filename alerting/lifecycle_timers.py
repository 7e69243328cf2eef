"""Timers of the lifecycle: pending work orders fire, storms group, escalation, silences expire.

See :mod:`htm_edge.alerting.lifecycle` for the states and the policy.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from htm_edge.alerting.document import work_order_from_dict
from htm_edge.alerting.lifecycle_base import LifecycleBase, fetch_all, fetch_one, outbox_size

__all__ = ["LifecycleTimers"]


class LifecycleTimers(LifecycleBase):
    """What happens with time alone (called by the dispatcher every tick)."""

    def tick(self, now: float) -> int:
        """Fire pending work orders, escalate unacknowledged ones, expire silences."""
        with self.store.tx() as db:
            before = outbox_size(db)
            for wo in fetch_all(
                db,
                "SELECT id FROM work_orders WHERE state = 'pending' AND "
                "fire_at <= ? ORDER BY created_at",
                (now,),
            ):
                self._promote(db, wo["id"], now)
            for wo in fetch_all(
                db,
                "SELECT * FROM work_orders WHERE state = 'firing' AND "
                "escalate_at IS NOT NULL AND escalate_at <= ?",
                (now,),
            ):
                self._escalate(db, wo, now)
            for s in fetch_all(
                db, "SELECT id FROM silences WHERE expired = 0 AND ends_at <= ?", (now,)
            ):
                db.execute("UPDATE silences SET expired = 1 WHERE id = ?", (s["id"],))
            self._unsuppress(db, now)
            db.execute(
                "INSERT INTO meta (k, v) VALUES ('clock', ?) ON CONFLICT (k) "
                "DO UPDATE SET v = excluded.v",
                (json.dumps(now),),
            )
            return outbox_size(db) - before

    def _unsuppress(self, db: sqlite3.Connection, now: float) -> None:
        for a in fetch_all(
            db, "SELECT * FROM alerts WHERE state = 'active' AND suppressed IS NOT NULL"
        ):
            order = work_order_from_dict(json.loads(a["work_order"]))
            reason = self._suppression(db, order, now)
            if reason is None:
                self.raise_alert(db, a["key"], a["opened_at"], order, now)
            elif reason != a["suppressed"]:
                db.execute(
                    "UPDATE alerts SET suppressed = ? WHERE key = ? AND opened_at = ?",
                    (reason, a["key"], a["opened_at"]),
                )

    def _promote(self, db: sqlite3.Connection, wo_id: str, now: float) -> None:
        wo = fetch_one(db, "SELECT * FROM work_orders WHERE id = ?", (wo_id,))
        assert wo is not None
        g = self.cfg.grouping
        recent = fetch_all(
            db,
            "SELECT id, device_id, state, incident_id FROM work_orders WHERE "
            "site = ? AND created_at >= ? AND created_at <= ?",
            (wo["site"], now - g.storm_window_s, now),
        )
        if len({r["device_id"] for r in recent}) >= g.storm_devices:
            self._incident(
                db, wo["site"], [r["id"] for r in recent if r["state"] == "pending"], now
            )
            return
        policy = self.roster.policy(wo["priority"])
        escalate = now + policy.ack_timeout_s if policy is not None else None
        db.execute(
            "UPDATE work_orders SET state = 'firing', fired_at = ?, escalate_at = ? WHERE id = ?",
            (now, escalate, wo_id),
        )
        doc = self.refresh(db, wo_id, now)
        self.notify(db, "firing", doc, wo["assignee"], "new work order", f"{wo_id}/firing", now)
        call = self.roster.service_call(self.devices(wo["device_id"]))
        if call is not None and call.channels:
            self.notify(
                db,
                "service_call",
                doc,
                call.vendor,
                f"contract {call.contract or '-'}",
                f"{wo_id}/service_call",
                now,
                channels=call.channels,
            )

    def _incident(self, db: sqlite3.Connection, site: str, pending: list[str], now: float) -> None:
        inc = fetch_one(db, "SELECT * FROM incidents WHERE site = ? AND closed_at IS NULL", (site,))
        new = inc is None
        inc_id = f"INC-{site}-{int(now)}" if inc is None else inc["id"]
        for wo_id in pending:
            db.execute(
                "UPDATE work_orders SET state = 'firing', fired_at = ?, incident_id = ? "
                "WHERE id = ?",
                (now, inc_id, wo_id),
            )
            self.act(db, wo_id, "grouped", "htm-edge", "engine", now, {"incident": inc_id})
            self.refresh(db, wo_id, now)
        members = fetch_all(
            db,
            "SELECT id, device_id, failure_mode FROM work_orders WHERE "
            "incident_id = ? ORDER BY created_at",
            (inc_id,),
        )
        managers = [m.name for m in self.roster.managers(site)]
        first = fetch_one(db, "SELECT assignee FROM work_orders WHERE incident_id = ?", (inc_id,))
        lead: str | None = managers[0] if managers else (first["assignee"] if first else None)
        doc = {
            "schema": "htm-edge/incident/1",
            "id": inc_id,
            "site": site,
            "opened_at": now,
            "work_orders": members,
            "assigned": lead,
            "reason": f"{len(members)} devices of {site} alerted within "
            f"{self.cfg.grouping.storm_window_s:g} s (network or power event?)",
        }
        db.execute(
            "INSERT INTO incidents (id, site, opened_at, document) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET document = excluded.document",
            (inc_id, site, now, json.dumps(doc)),
        )
        if new:
            self.notify(
                db,
                "incident",
                doc,
                lead,
                str(doc["reason"]),
                f"{inc_id}/incident",
                now,
                wo_id=inc_id,
            )

    def _escalate(self, db: sqlite3.Connection, wo: dict[str, Any], now: float) -> None:
        chain = json.loads(wo["chain"])
        level = wo["level"] + 1
        if level >= len(chain):
            db.execute("UPDATE work_orders SET escalate_at = NULL WHERE id = ?", (wo["id"],))
            return
        policy = self.roster.policy(wo["priority"])
        timeout = policy.ack_timeout_s if policy is not None else None
        nxt = now + timeout if timeout is not None and level + 1 < len(chain) else None
        db.execute(
            "UPDATE work_orders SET level = ?, assignee = ?, escalate_at = ? WHERE id = ?",
            (level, chain[level], nxt, wo["id"]),
        )
        reason = (
            f"not acknowledged by {wo['assignee']} within "
            f"{(timeout or 0) / 60:g} min: escalated to {chain[level]}"
        )
        self.act(db, wo["id"], "escalated", "htm-edge", "engine", now, {"to": chain[level]})
        doc = self.refresh(db, wo["id"], now)
        self.notify(
            db, "escalated", doc, chain[level], reason, f"{wo['id']}/escalated/{level}", now
        )
