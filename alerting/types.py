"""Result types of the alerting package: alerts, alert events and work orders.

All are frozen, slotted dataclasses; the engine keeps its own mutable
book-keeping and hands out snapshots. Timestamps are UTC epoch seconds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "SEVERITY_RANK",
    "Alert",
    "AlertEvent",
    "AlertState",
    "Assignee",
    "EventKind",
    "EvidenceLine",
    "Severity",
    "SignalEvidence",
    "WorkOrder",
    "format_ts",
    "json_safe",
]

Severity = Literal["low", "medium", "high", "critical"]
AlertState = Literal["open", "closed"]

#: order of severities, lowest first (used for escalation and priority)
SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3, "critical": 4}


class EventKind(StrEnum):
    """What happened to an alert; every event is worth a notification."""

    OPENED = "opened"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class SignalEvidence:
    """What one signal contributed to an alert.

    Parameters
    ----------
    signal, unit:
        Signal name and its unit (empty when unknown).
    rules:
        Names of the rules that fired on this signal.
    first_seen_at, last_seen_at:
        Times of the first and latest firing score of this signal.
    first_value, last_value:
        Signal value at those times.
    baseline:
        Normal value of the stream before the alert (None when unknown).
    peak_score:
        Highest anomaly score seen while firing.
    occurrences:
        Scores of this signal that met a rule's entry condition.
    """

    signal: str
    unit: str
    rules: tuple[str, ...]
    first_seen_at: float
    last_seen_at: float
    first_value: float
    last_value: float
    baseline: float | None
    peak_score: float
    occurrences: int
    series: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Alert:
    """One deduplicated alert: a (device, failure mode) pair that is or was firing.

    Parameters
    ----------
    key:
        Deduplication key ``"<device_id>:<failure_mode>"``; at most one open alert per key.
    device_id, failure_mode:
        The two halves of the key.
    rule:
        Name of the rule that opened the alert; ``rules`` lists every rule that joined.
    signals:
        Signals that joined, in order of joining (the first is the primary signal).
    severity:
        Highest severity of the rules that fired into the alert.
    state:
        ``open`` or ``closed``.
    opened_at, last_seen_at, closed_at:
        First firing score, latest firing score, time the last firing stream cleared.
    occurrences:
        Scores that met a rule's entry condition while the alert lived.
    peak_score:
        Highest anomaly score over all its signals.
    first_value, last_value, baseline:
        Values of the primary signal (see :class:`SignalEvidence`).
    evidence:
        Per-signal detail, same order as ``signals``.
    flaps:
        Times the alert cleared and re-fired within the resolve hold (never notified).
    previous_closed_at:
        When the previous alert of this key closed, if one did (repeat failures).
    """

    key: str
    device_id: str
    failure_mode: str
    rule: str
    rules: tuple[str, ...]
    signals: tuple[str, ...]
    severity: Severity
    state: AlertState
    opened_at: float
    last_seen_at: float
    closed_at: float | None
    occurrences: int
    peak_score: float
    first_value: float
    last_value: float
    baseline: float | None
    evidence: tuple[SignalEvidence, ...] = ()
    flaps: int = 0
    previous_closed_at: float | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A change of an alert that should reach people.

    Parameters
    ----------
    kind:
        opened, escalated (worsened) or resolved.
    alert:
        Snapshot of the alert after the change.
    ts:
        Time of the score that caused the event.
    reason:
        Human-readable cause, e.g. ``"severity raised to critical"``.
    """

    kind: EventKind
    alert: Alert
    ts: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Assignee:
    """A field engineer assigned to a work order."""

    name: str
    email: str | None = None
    phone: str | None = None

    def contact(self) -> str:
        """Return ``"name <email>, phone"`` with the parts that are known."""
        text = self.name
        if self.email:
            text += f" <{self.email}>"
        if self.phone:
            text += f", {self.phone}"
        return text


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    """One signal's evidence as a work order shows it (current vs baseline)."""

    signal: str
    unit: str
    current_value: float
    baseline: float | None
    first_value: float
    peak_score: float
    first_seen_at: float
    occurrences: int
    #: least-squares slope of ``series`` in units per hour (None with fewer than 3 points)
    trend_per_h: float | None = None
    #: a small inline series (time, value) for a plot, decimated to at most 24 points
    series: tuple[tuple[float, float], ...] = ()

    def describe(self) -> str:
        """Return e.g. ``"helium_level_pct = 61.2 % (baseline 74 %, first 70.1 %)"``."""
        unit = f" {self.unit}" if self.unit else ""
        parts = [f"first {_num(self.first_value)}{unit}"]
        if self.baseline is not None:
            parts.insert(0, f"baseline {_num(self.baseline)}{unit}")
        return (
            f"{self.signal} = {_num(self.current_value)}{unit} ({', '.join(parts)}); "
            f"peak score {self.peak_score:.3f}; {self.occurrences} occurrence(s) "
            f"since {format_ts(self.first_seen_at)}"
        )


def _num(x: float) -> str:
    """Format a measured value compactly (4 significant digits)."""
    if not math.isfinite(x):
        return str(x)
    return f"{x:.4g}"


def format_ts(ts: float | None) -> str:
    """Format epoch seconds as ISO 8601 UTC (``2024-01-01T00:00:00Z``); ``-`` for None.

    Examples
    --------
    >>> format_ts(0.0)
    '1970-01-01T00:00:00Z'
    """
    if ts is None or not math.isfinite(ts):
        return "-"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_safe(value: Any) -> Any:
    """Return ``value`` with tuples as lists and non-finite floats as None (JSON-able)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class WorkOrder:
    """Everything a field engineer needs to act on an alert (domain brief 4.4).

    Built by :func:`alerting.workorder.build_work_order`; rendered by
    :meth:`to_text` for a console and :meth:`to_dict` for JSON transports.
    Times are UTC epoch seconds, None when unknown.
    """

    # lifecycle of the notification
    work_order_id: str
    dedup_key: str
    event: EventKind
    event_reason: str
    issued_at: float
    state: AlertState
    # identity
    device_id: str
    asset_tag: str
    manufacturer: str
    model: str
    serial: str
    modality: str
    em_number: int | None
    risk_class: str
    service_owner: str
    # location and context
    site: str
    location: str
    department: str
    in_use: bool | None
    last_used_at: float | None
    next_idle_from: float | None
    next_idle_until: float | None
    # problem
    failure_mode: str
    failure_description: str
    subsystem: str
    rule: str
    rules: tuple[str, ...]
    confidence: float
    # evidence
    evidence: tuple[EvidenceLine, ...]
    first_detected_at: float
    last_seen_at: float
    closed_at: float | None
    occurrences: int
    peak_score: float
    flaps: int
    # urgency
    severity: Severity
    priority: str
    priority_score: float
    required_response_h: float
    respond_by: float | None
    # action
    recommended_checks: tuple[str, ...]
    likely_parts: tuple[str, ...]
    oem_required: bool
    safety_notes: tuple[str, ...]
    # assignment and history
    assigned_engineers: tuple[Assignee, ...]
    previous_closed_at: float | None = None
    #: time to failure (point and interval) once prognostics predicts one
    time_to_failure_s: float | None = None
    time_to_failure_lower_s: float | None = None
    time_to_failure_upper_s: float | None = None
    #: the prediction behind them: probability of failure within the horizon, its time,
    #: the model, and the supporting trends (readable lines, strongest first)
    failure_probability: float | None = None
    prediction_horizon_s: float | None = None
    predicted_at: float | None = None
    prediction_model: str = ""
    prediction_trends: tuple[str, ...] = ()
    priority_reason: str = ""
    firmware: str = ""
    room: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (tuples as lists, non-finite floats as None)."""
        data = asdict(self)
        data["event"] = str(self.event)
        result: dict[str, Any] = json_safe(data)
        return result

    def to_text(self) -> str:
        """Return a readable multi-line block for a console or an e-mail body."""
        title = f"{self.manufacturer} {self.model}".strip() or "unknown model"
        em = f"EM {self.em_number}" if self.em_number is not None else "EM unknown"
        place = " / ".join(p for p in (self.site, self.location, self.department) if p)
        use = {None: "unknown", True: "IN USE", False: "idle"}[self.in_use]
        if self.last_used_at is not None:
            use += f" (last used {format_ts(self.last_used_at)})"
        if self.next_idle_from is None:
            idle = "unknown"
        else:
            idle = f"{format_ts(self.next_idle_from)} to {format_ts(self.next_idle_until)}"
        lines = [
            f"=== {self.event.upper()} {self.priority} {self.severity.upper()} "
            f"{self.failure_mode} on {self.device_id} ===",
            f"Work order : {self.work_order_id} (state {self.state})",
            f"Reason     : {self.event_reason or '-'} at {format_ts(self.issued_at)}",
            f"Asset      : tag {self.asset_tag or '-'} | device {self.device_id} | {title} "
            f"| s/n {self.serial or '-'} | modality {self.modality}",
            f"Risk       : {em} ({self.risk_class}) | service owner {self.service_owner}",
            f"Location   : {place or 'unknown'}",
            f"In use     : {use} | next idle window {idle}",
            f"Problem    : {self.failure_mode}: {self.failure_description} "
            f"[subsystem {self.subsystem}]",
            f"Rule       : {', '.join(self.rules)} | confidence {self.confidence:.3f}",
            "Evidence   :",
            *(f"  - {line.describe()}" for line in self.evidence),
            f"Detected   : first {format_ts(self.first_detected_at)} | last "
            f"{format_ts(self.last_seen_at)} | occurrences {self.occurrences} "
            f"| flaps {self.flaps}"
            + (f" | cleared {format_ts(self.closed_at)}" if self.closed_at is not None else ""),
            f"Urgency    : priority {self.priority} (score {self.priority_score:.2f}), "
            f"severity {self.severity}, "
            + (
                f"respond within {self.required_response_h:g} h (by {format_ts(self.respond_by)})"
                if self.respond_by is not None
                else "no response needed (resolved)"
            ),
            "Checks     :",
            *(f"  - {check}" for check in self.recommended_checks),
            f"Parts      : {', '.join(self.likely_parts) or '-'}",
            f"OEM call   : {'REQUIRED' if self.oem_required else 'not required'}",
            "Safety     :",
            *(f"  - {note}" for note in self.safety_notes),
            "Assigned   : "
            + ("; ".join(a.contact() for a in self.assigned_engineers) or "UNASSIGNED"),
            f"Dedup key  : {self.dedup_key}"
            + (
                f" | previous alert closed {format_ts(self.previous_closed_at)}"
                if self.previous_closed_at is not None
                else ""
            ),
        ]
        return "\n".join(lines)
