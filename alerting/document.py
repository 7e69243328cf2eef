"""The work order as a JSON document: ``docs/work-order.schema.json``, explained in docs/.

:func:`work_order_document` turns the engine's :class:`~alerting.types.WorkOrder`
of the primary alert plus what the lifecycle knows (state, the alerts that
joined, assignment, history, actions) into the one document every notifier
sends and ``htm-edge alerts list --json`` prints.

The *suggested visit window* is the device's next idle window (from its
utilisation profile) cut off at the response deadline and at the predicted
failure; without utilisation history it is "now until the response
deadline". Imaging equipment carries the note that a predictive work order
adds to the manufacturer's planned maintenance and never replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from htm_edge.alerting.types import WorkOrder, json_safe

__all__ = [
    "IMAGING_PM_NOTE",
    "SCHEMA_ID",
    "Assignment",
    "Lifecycle",
    "visit_window",
    "work_order_document",
    "work_order_from_dict",
]

SCHEMA_ID = "htm-edge/work-order/1"
IMAGING_PM_NOTE = (
    "Predictive work order: it adds to the manufacturer's planned maintenance of this imaging "
    "system and never replaces it (CMS does not allow alternative maintenance strategies for "
    "imaging and radiologic equipment); keep the OEM PM schedule."
)
_DEFAULT_IDLE_H = 8.0


@dataclass(frozen=True, slots=True)
class Assignment:
    """Who the work order is assigned to, and the escalation so far."""

    engineer: dict[str, str | None] | None
    vendor: dict[str, str | None] | None = None
    level: int = 0
    chain: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The ``assignment`` object of the document."""
        kind = "vendor" if self.vendor else ("engineer" if self.engineer else "unassigned")
        return {
            "kind": kind,
            "engineer": self.engineer,
            "vendor": self.vendor,
            "escalation_level": self.level,
            "escalation_chain": list(self.chain),
            "candidates": list(self.candidates),
        }


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """What the lifecycle adds to the engine's work order."""

    wo_id: str
    state: str
    condition: str
    created_at: float
    updated_at: float
    alerts: Sequence[dict[str, Any]]
    assignment: Assignment
    imaging: bool
    incident_id: str | None = None
    history: Sequence[dict[str, Any]] = ()
    actions: Sequence[dict[str, Any]] = ()
    outcome: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def visit_window(order: WorkOrder, now: float) -> dict[str, Any]:
    """The suggested visit window (``from``, ``until``, ``basis``); see the module docstring."""
    deadline = order.respond_by
    if order.time_to_failure_s is not None:
        failure = order.issued_at + order.time_to_failure_s
        deadline = failure if deadline is None else min(deadline, failure)
    if order.next_idle_from is not None:
        start = max(order.next_idle_from, now)
        until = order.next_idle_until or start + _DEFAULT_IDLE_H * 3600.0
        if deadline is not None and until > deadline:
            until = deadline
        if until > start:
            return {"from": start, "until": until, "basis": "device idle, before the deadline"}
        return {
            "from": start,
            "until": start + 3600.0,
            "basis": "the next idle time is after the deadline: agree a slot with the department",
        }
    end = deadline if deadline is not None else now + _DEFAULT_IDLE_H * 3600.0
    return {"from": now, "until": end, "basis": "no utilisation history yet: before the deadline"}


def _ttf(order: WorkOrder) -> dict[str, Any] | None:
    """The prediction's time left (from the work order's time) and its support, or None."""
    if order.failure_probability is None:
        return None
    estimate = order.time_to_failure_s
    lower = order.time_to_failure_lower_s
    upper = order.time_to_failure_upper_s
    return {
        "estimate_s": estimate,
        "lower_s": estimate if lower is None else lower,
        "upper_s": estimate if upper is None else upper,
        "probability": order.failure_probability,
        "horizon_s": order.prediction_horizon_s,
        "predicted_at": order.predicted_at,
        "trends": list(order.prediction_trends),
        "source": order.prediction_model or "prognostics",
    }


def work_order_document(order: WorkOrder, life: Lifecycle) -> dict[str, Any]:
    """The work order document (``docs/work-order.schema.json``) as a JSON-able dict."""
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "id": life.wo_id,
        "kind": "predictive",
        "state": life.state,
        "condition": life.condition,
        "created_at": life.created_at,
        "updated_at": life.updated_at,
        "device": {
            "device_id": order.device_id,
            "asset_tag": order.asset_tag,
            "manufacturer": order.manufacturer,
            "model": order.model,
            "serial": order.serial,
            "modality": order.modality,
            "firmware": order.firmware,
            "em_number": order.em_number,
            "risk_class": order.risk_class,
            "service_owner": order.service_owner,
        },
        "location": {
            "site": order.site,
            "location": order.location,
            "room": order.room,
            "department": order.department,
        },
        "problem": {
            "failure_mode": order.failure_mode,
            "description": order.failure_description,
            "subsystem": order.subsystem,
            "rule": order.rule,
            "rules": list(order.rules),
            "confidence": order.confidence,
            "first_detected_at": order.first_detected_at,
            "last_seen_at": order.last_seen_at,
            "occurrences": order.occurrences,
            "flaps": order.flaps,
        },
        "alerts": list(life.alerts),
        "evidence": [
            {
                "signal": e.signal,
                "unit": e.unit,
                "current_value": e.current_value,
                "baseline": e.baseline,
                "first_value": e.first_value,
                "trend_per_h": e.trend_per_h,
                "peak_score": e.peak_score,
                "occurrences": e.occurrences,
                "first_seen_at": e.first_seen_at,
                "series": [list(p) for p in e.series],
            }
            for e in order.evidence
        ],
        "time_to_failure": _ttf(order),
        "priority": {
            "level": order.priority,
            "score": order.priority_score,
            "severity": order.severity,
            "reason": order.priority_reason,
            "required_response_h": order.required_response_h,
            "respond_by": order.respond_by,
        },
        "use": {"in_use": order.in_use, "last_used_at": order.last_used_at},
        "visit_window": visit_window(order, life.updated_at),
        "action": {
            "recommended_checks": list(order.recommended_checks),
            "likely_parts": list(order.likely_parts),
            "oem_required": order.oem_required,
            "safety_notes": list(order.safety_notes),
        },
        "assignment": life.assignment.to_dict(),
        "planned_maintenance_note": IMAGING_PM_NOTE if life.imaging else None,
        "incident_id": life.incident_id,
        "outcome": life.outcome,
        "history": list(life.history),
        "actions": list(life.actions),
    }
    doc.update(life.extra)
    result: dict[str, Any] = json_safe(doc)
    return result


def work_order_from_dict(d: dict[str, Any]) -> WorkOrder:
    """Read back :meth:`WorkOrder.to_dict` (the store keeps each alert's latest one)."""
    from htm_edge.alerting.types import Assignee, EventKind, EvidenceLine

    data = dict(d)
    data["event"] = EventKind(data["event"])
    data["evidence"] = tuple(
        EvidenceLine(**{**e, "series": tuple(tuple(p) for p in e.get("series", ()))})
        for e in data["evidence"]
    )
    data["assigned_engineers"] = tuple(Assignee(**a) for a in data["assigned_engineers"])
    for name in ("rules", "recommended_checks", "likely_parts", "safety_notes"):
        data[name] = tuple(data[name])
    return WorkOrder(**data)
