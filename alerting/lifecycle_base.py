"""Shared parts of the lifecycle: the store, roster, documents and the outbox writes.

See :mod:`htm_edge.alerting.lifecycle` for the states and the policy.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from htm_edge.alerting.config import AlertingConfig
from htm_edge.alerting.document import (
    Assignment,
    Lifecycle,
    work_order_document,
    work_order_from_dict,
)
from htm_edge.alerting.notification import Notification, render_text, subject_of
from htm_edge.alerting.roster import Roster
from htm_edge.alerting.store import AlertStore
from htm_edge.alerting.types import WorkOrder
from htm_edge.config.inventory import Device

__all__ = ["OPEN_STATES", "LifecycleBase", "fetch_all", "fetch_one", "outbox_size", "rank"]

OPEN_STATES = ("pending", "firing", "acknowledged")
_HOUR = 3600.0


class LifecycleBase:
    """The store, the roster and the config; documents, actions and outbox rows.

    Parameters
    ----------
    store:
        The alert store.
    cfg:
        The ``[alerting]`` section (roster, grouping, rate limit).
    devices:
        Inventory lookup (never fails: unknown devices are modality ``other``).
    channels:
        Names of every configured notifier (for people without ``channels``).
    """

    def __init__(
        self,
        store: AlertStore,
        cfg: AlertingConfig,
        devices: Callable[[str], Device],
        channels: Sequence[str],
    ) -> None:
        self.store = store
        self.cfg = cfg
        self.roster = Roster(cfg)
        self.devices = devices
        self.channels = tuple(channels)
        #: devices the gateway does not hear from (set by the daemon's staleness check)
        self.stale: frozenset[str] = frozenset()

    def _suppression(self, db: sqlite3.Connection, order: WorkOrder, now: float) -> str | None:
        if order.device_id in self.stale:
            return "inhibited:offline"
        for s in db.execute(
            "SELECT * FROM silences WHERE starts_at <= ? AND ends_at > ?", (now, now)
        ):
            if all(
                s[k] in (None, "", v)
                for k, v in (
                    ("device_id", order.device_id),
                    ("site", order.site),
                    ("modality", order.modality),
                    ("failure_mode", order.failure_mode),
                    ("rule", order.rule),
                )
            ):
                return (
                    f"silenced:{s['id']}"
                    if s["comment"] != "maintenance"
                    else "inhibited:maintenance"
                )
        return None

    def refresh(self, db: sqlite3.Connection, wo_id: str, now: float) -> dict[str, Any]:
        """Rebuild and store the work order's document; return it."""
        wo = fetch_one(db, "SELECT * FROM work_orders WHERE id = ?", (wo_id,))
        assert wo is not None
        alerts = fetch_all(
            db,
            "SELECT * FROM alerts WHERE work_order_id = ? ORDER BY priority_score DESC, opened_at",
            (wo_id,),
        )
        primary = work_order_from_dict(json.loads(alerts[0]["work_order"]))
        device = self.devices(wo["device_id"])
        person = self.roster.person(wo["assignee"]) if wo["assignee"] else None
        call = self.roster.service_call(device)
        candidates = self.roster.candidates(device, primary.failure_mode, now)
        assignment = Assignment(
            engineer=None
            if person is None
            else {
                "name": person.name,
                "email": person.email,
                "phone": person.phone,
                "role": person.role,
            },
            vendor=None
            if call is None
            else {
                "name": call.vendor,
                "contract": call.contract,
                "email": call.email,
                "phone": call.phone,
            },
            level=wo["level"],
            chain=tuple(json.loads(wo["chain"])),
            candidates=tuple(c.name for c in candidates),
        )
        history = fetch_all(
            db,
            "SELECT id, failure_mode, state, outcome, created_at, resolved_at "
            "FROM work_orders WHERE device_id = ? AND id != ? ORDER BY created_at "
            "DESC LIMIT 10",
            (wo["device_id"], wo_id),
        )
        actions = fetch_all(
            db,
            "SELECT action, actor, via, at, detail FROM actions WHERE "
            "work_order_id = ? ORDER BY id",
            (wo_id,),
        )
        for act in actions:
            act["detail"] = json.loads(act["detail"])
        outcome = (
            None
            if wo["outcome"] is None
            else {
                "code": wo["outcome"],
                "part": wo["outcome_part"],
                "note": wo["outcome_note"],
                "by": wo["resolved_by"],
                "at": wo["resolved_at"],
            }
        )
        life = Lifecycle(
            wo_id=wo_id,
            state=wo["state"],
            condition=wo["condition"],
            created_at=wo["created_at"],
            updated_at=now,
            alerts=[
                {
                    "key": a["key"],
                    "failure_mode": a["failure_mode"],
                    "rule": a["rule"],
                    "severity": a["severity"],
                    "opened_at": a["opened_at"],
                    "state": a["state"],
                }
                for a in alerts
            ],
            assignment=assignment,
            imaging=self.roster.is_imaging(device),
            incident_id=wo["incident_id"],
            history=history,
            actions=actions,
            outcome=outcome,
        )
        doc = work_order_document(primary, life)
        db.execute(
            "UPDATE work_orders SET document = ?, updated_at = ? WHERE id = ?",
            (json.dumps(doc), now, wo_id),
        )
        return doc

    def act(
        self,
        db: sqlite3.Connection,
        wo_id: str | None,
        action: str,
        actor: str,
        via: str,
        now: float,
        detail: dict[str, Any],
        wall_at: float | None = None,
    ) -> None:
        db.execute(
            "INSERT INTO actions (work_order_id, action, actor, via, at, wall_at, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                wo_id,
                action,
                actor,
                via,
                now,
                now if wall_at is None else wall_at,
                json.dumps(detail),
            ),
        )

    def notify(
        self,
        db: sqlite3.Connection,
        kind: str,
        doc: dict[str, Any],
        recipient: str | None,
        reason: str,
        key: str,
        now: float,
        *,
        channels: Sequence[str] | None = None,
        wo_id: str | None = None,
    ) -> None:
        person = self.roster.person(recipient) if recipient else None
        if channels is None:
            channels = (
                tuple(person.channels) if person is not None and person.channels else self.channels
            )
        prio = doc.get("priority", {}).get("level", "P1")
        at = now if prio in self.cfg.rate_limit.bypass else self._slot(db, recipient or "", now)
        contacts = (
            ()
            if person is None
            else (
                {
                    k: v
                    for k, v in (
                        ("name", person.name),
                        ("email", person.email),
                        ("phone", person.phone),
                    )
                    if v
                },
            )
        )
        note = Notification(
            key=key,
            kind=kind,
            work_order_id=wo_id or doc["id"],
            recipient=recipient or "",
            recipients=(recipient,) if recipient else (),
            subject=subject_of(kind, doc),
            text=render_text(kind, doc, reason),
            document=doc,
            created_at=now,
            reason=reason,
            contacts=contacts,
        )
        payload = note.to_json()
        for ch in channels:
            db.execute(
                "INSERT OR IGNORE INTO outbox (key, channel, work_order_id, kind, recipient, "
                "payload, not_before, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, ch, note.work_order_id, kind, note.recipient, payload, at, now),
            )

    def _slot(self, db: sqlite3.Connection, recipient: str, now: float) -> float:
        """The earliest time >= ``now`` that keeps ``recipient`` within the hourly limit.

        Notifications to one person are spaced so that fewer than ``limit`` others
        lie within an hour either side of each; a later one waits, never dropped.
        """
        limit = self.cfg.rate_limit.per_engineer_per_hour
        times = [
            float(r[0])
            for r in db.execute(
                "SELECT MIN(not_before) FROM outbox WHERE recipient = ? AND not_before > ? "
                "GROUP BY key",
                (recipient, now - _HOUR),
            )
        ]
        t = now
        while True:
            near = [x for x in times if t - _HOUR < x < t + _HOUR]
            if len(near) < limit:
                return t
            t = min(near) + _HOUR

    def raise_alert(
        self, db: sqlite3.Connection, key: str, opened_at: float, order: WorkOrder, now: float
    ) -> None:
        """Attach an unsuppressed alert to a work order (implemented by the lifecycle)."""
        raise NotImplementedError


def rank(priority: str) -> int:
    return int(priority[1:]) if priority[:1] == "P" and priority[1:].isdigit() else 9


def outbox_size(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


def fetch_one(
    db: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()
) -> dict[str, Any] | None:
    r = db.execute(sql, args).fetchone()
    return None if r is None else dict(r)


def fetch_all(db: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute(sql, args).fetchall()]
