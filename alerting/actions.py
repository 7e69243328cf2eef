"""What people do to work orders: acknowledge, resolve with an outcome, silence, list.

Every action is one transaction on the store and is recorded in ``actions``
with who did it, through what (``cli``, ``mqtt``) and when (the alerting
clock's time, and the real time). The daemon's timers read the store, so an
acknowledgement made by another process stops the escalation at its next tick.

Outcomes (closure codes, domain brief 4.1/4.4):

``confirmed``
    a failure was found and fixed (give the part replaced);
``no_problem_found``
    the device was checked and nothing was wrong (a false alert);
``deferred``
    the work is postponed (e.g. to the next PM or a free slot);
``vendor_visit``
    the vendor came under the service contract (record what they found in the note);
``cleared``
    set by the gateway when the condition went away before anyone recorded an
    outcome; a person may still resolve such a work order with a real outcome.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.lifecycle import OPEN_STATES, AlertLifecycle

__all__ = ["OUTCOMES", "Outcome", "acknowledge", "list_work_orders", "resolve", "silence"]

Outcome = Literal["confirmed", "no_problem_found", "deferred", "vendor_visit"]
OUTCOMES: tuple[str, ...] = ("confirmed", "no_problem_found", "deferred", "vendor_visit")


def _clock(life: AlertLifecycle, now: float | None) -> float:
    """The alerting clock's latest time (kept by the daemon in the store), else wall time."""
    if now is not None:
        return now
    value = life.store.meta("clock")
    return float(value) if value is not None else time.time()


def _work_order(life: AlertLifecycle, wo_id: str) -> dict[str, Any]:
    wo = life.store.one("SELECT * FROM work_orders WHERE id = ?", (wo_id,))
    if wo is None:
        raise AlertingError(f"no work order {wo_id!r}; `htm-edge alerts list` shows the open ones")
    return wo


def acknowledge(
    life: AlertLifecycle,
    wo_id: str,
    by: str,
    *,
    via: str = "cli",
    note: str = "",
    now: float | None = None,
) -> dict[str, Any]:
    """Acknowledge a pending or firing work order: escalation stops; return its document."""
    at = _clock(life, now)
    wo = _work_order(life, wo_id)
    if wo["state"] not in ("pending", "firing"):
        raise AlertingError(
            f"work order {wo_id} is {wo['state']}: only pending or firing ones can be acknowledged"
        )
    with life.store.tx() as db:
        db.execute(
            "UPDATE work_orders SET state = 'acknowledged', acked_at = ?, acked_by = ?, "
            "escalate_at = NULL WHERE id = ?",
            (at, by, wo_id),
        )
        life.act(db, wo_id, "acknowledged", by, via, at, {"note": note}, time.time())
        doc = life.refresh(db, wo_id, at)
        paged = json.loads(wo["chain"])[: wo["level"] + 1]
        for name in paged:
            if name != by:
                life.notify(
                    db,
                    "acknowledged",
                    doc,
                    name,
                    f"acknowledged by {by}",
                    f"{wo_id}/acknowledged/{name}",
                    at,
                )
    return doc


def resolve(
    life: AlertLifecycle,
    wo_id: str,
    outcome: str,
    by: str,
    *,
    part: str = "",
    note: str = "",
    via: str = "cli",
    now: float | None = None,
) -> dict[str, Any]:
    """Close a work order with its outcome (or give the outcome of one the gateway cleared)."""
    if outcome not in OUTCOMES:
        raise AlertingError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    at = _clock(life, now)
    wo = _work_order(life, wo_id)
    if wo["state"] == "resolved" and wo["outcome"] not in (None, "cleared"):
        raise AlertingError(f"work order {wo_id} is already resolved as {wo['outcome']!r}")
    with life.store.tx() as db:
        db.execute(
            "UPDATE work_orders SET state = 'resolved', resolved_at = ?, resolved_by = ?, "
            "outcome = ?, outcome_part = ?, outcome_note = ?, escalate_at = NULL "
            "WHERE id = ?",
            (at, by, outcome, part or None, note or None, wo_id),
        )
        life.act(
            db,
            wo_id,
            "resolved",
            by,
            via,
            at,
            {"outcome": outcome, "part": part, "note": note},
            time.time(),
        )
        doc = life.refresh(db, wo_id, at)
        if wo["state"] in ("firing", "acknowledged") and wo["assignee"] not in (None, by):
            life.notify(
                db,
                "resolved",
                doc,
                wo["assignee"],
                f"resolved by {by}: {outcome}",
                f"{wo_id}/resolved",
                at,
            )
    return doc


def silence(
    life: AlertLifecycle,
    *,
    author: str,
    duration_s: float,
    device_id: str | None = None,
    site: str | None = None,
    modality: str | None = None,
    failure_mode: str | None = None,
    rule: str | None = None,
    comment: str = "",
    via: str = "cli",
    now: float | None = None,
) -> str:
    """Silence new alerts matching every given field for ``duration_s``; return the silence id.

    ``comment = "maintenance"`` marks a maintenance window (the alerts it holds
    are shown as inhibited by maintenance).
    """
    if not any((device_id, site, modality, failure_mode, rule)):
        raise AlertingError(
            "a silence needs at least one of device, site, modality, "
            "failure mode or rule (silencing everything is not allowed)"
        )
    if duration_s <= 0:
        raise AlertingError("a silence needs a positive duration")
    at = _clock(life, now)
    sid = f"S-{uuid.uuid4().hex[:8]}"
    with life.store.tx() as db:
        db.execute(
            "INSERT INTO silences (id, device_id, site, modality, failure_mode, rule, "
            "starts_at, ends_at, author, comment, created_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sid,
                device_id,
                site,
                modality,
                failure_mode,
                rule,
                at,
                at + duration_s,
                author,
                comment,
                time.time(),
            ),
        )
        life.act(
            db,
            None,
            "silenced",
            author,
            via,
            at,
            {
                "silence": sid,
                "device_id": device_id,
                "site": site,
                "modality": modality,
                "failure_mode": failure_mode,
                "rule": rule,
                "until": at + duration_s,
                "comment": comment,
            },
            time.time(),
        )
    return sid


def list_work_orders(life: AlertLifecycle, *, all_states: bool = False) -> list[dict[str, Any]]:
    """Work orders (open ones unless ``all_states``), newest first, as summary rows."""
    where = "" if all_states else f"WHERE state IN {OPEN_STATES}"
    return life.store.query(
        "SELECT id, device_id, site, failure_mode, priority, state, condition, assignee, level, "
        f"created_at, acked_by, outcome, incident_id FROM work_orders {where} "
        "ORDER BY created_at DESC"
    )
