"""Build a :class:`~alerting.types.WorkOrder` from an alert event, its device and engineers.

Priority (domain brief 4.2 and 4.4: severity x risk class x in-use)::

    score = S * R * U
    S = 1 low, 2 medium, 3 high, 4 critical             (alert severity)
    R = 1 + (EM - 2) / 10, in [1, 3]; 2.0 if EM unknown  (Fennigkoh-Smith EM as multiplier)
    U = 1.5 if the device is in use now, else 1.0       (idle or unknown)
    P1 if score >= 9, P2 if >= 5, P3 if >= 2.5, else P4

So a critical alert on a high-risk device (EM >= 15) is P1 even when idle,
a medium alert on an MR (EM ~14) is P3, or P2 while scanning; an unknown
device (EM unknown) is treated like EM 12, the threshold for inclusion in a
scheduled programme. The required response time is the shorter of the failure
mode's (catalogue) and the priority's (P1 4 h, P2 24 h, P3 72 h, P4 168 h),
counted from the event that set the current urgency (opened or escalated);
a resolved event has no ``respond_by``.

Risk class from EM: ``high`` (>= 16), ``medium`` (12-15), ``low`` (< 12), ``unknown``.

Engineers are assigned when their ``sites`` and ``modalities`` match the device
(an empty list matches everything); engineers with explicit matches come
before catch-all ones, otherwise config order is kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from htm_edge.alerting.config import EngineerConfig
from htm_edge.alerting.forecast import forecast_fields
from htm_edge.alerting.types import (
    SEVERITY_RANK,
    AlertEvent,
    Assignee,
    EventKind,
    EvidenceLine,
    WorkOrder,
)
from htm_edge.alerting.utilisation import UsageInfo
from htm_edge.config import catalog
from htm_edge.config.inventory import Device
from htm_edge.models.types import Prediction

__all__ = [
    "PRIORITY_RESPONSE_H",
    "build_work_order",
    "match_engineers",
    "priority",
    "priority_reason",
    "risk_class",
    "trend_per_hour",
]

#: longest allowed response per priority, hours
PRIORITY_RESPONSE_H: dict[str, float] = {"P1": 4.0, "P2": 24.0, "P3": 72.0, "P4": 168.0}
_UNKNOWN_EM_FACTOR = 2.0
_IN_USE_FACTOR = 1.5
_BANDS = ((9.0, "P1"), (5.0, "P2"), (2.5, "P3"))


def priority(severity: str, em_number: int | None, in_use: bool | None) -> tuple[str, float]:
    """Return ``(P1..P4, score)`` from severity, EM number and in-use state.

    Examples
    --------
    >>> priority("critical", 20, False)
    ('P1', 11.2)
    >>> priority("medium", 14, True)
    ('P2', 6.6)
    >>> priority("low", None, None)
    ('P4', 2.0)
    """
    sev = SEVERITY_RANK[severity]
    risk = _UNKNOWN_EM_FACTOR if em_number is None else 1.0 + (em_number - 2) / 10.0
    use = _IN_USE_FACTOR if in_use else 1.0
    score = round(sev * risk * use, 6)
    for bound, label in _BANDS:
        if score >= bound:
            return label, score
    return "P4", score


def priority_reason(severity: str, em_number: int | None, in_use: bool | None) -> str:
    """Say how :func:`priority` got its score.

    Examples
    --------
    >>> priority_reason("medium", 14, True)
    'severity medium (2) x risk EM 14 (2.2) x in use (1.5) = 6.6 -> P2'
    """
    label, score = priority(severity, em_number, in_use)
    risk = _UNKNOWN_EM_FACTOR if em_number is None else 1.0 + (em_number - 2) / 10.0
    em = "EM unknown" if em_number is None else f"EM {em_number}"
    use = f"in use ({_IN_USE_FACTOR:g})" if in_use else "not in use (1)"
    return (
        f"severity {severity} ({SEVERITY_RANK[severity]}) x risk {em} ({risk:.2g}) x {use} "
        f"= {score:.3g} -> {label}"
    )


def trend_per_hour(series: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of ``(ts, value)`` points in units per hour; None for < 3 points.

    Examples
    --------
    >>> trend_per_hour([(0.0, 1.0), (1800.0, 1.5), (3600.0, 2.0)])
    1.0
    """
    pts = [(t, v) for t, v in series if math.isfinite(v)]
    if len(pts) < 3:
        return None
    mt = sum(t for t, _ in pts) / len(pts)
    mv = sum(v for _, v in pts) / len(pts)
    den = sum((t - mt) ** 2 for t, _ in pts)
    if den <= 0:
        return None
    slope = sum((t - mt) * (v - mv) for t, v in pts) / den
    return round(slope * 3600.0, 9)


def risk_class(em_number: int | None) -> str:
    """Return ``high``/``medium``/``low``/``unknown`` for an EM number."""
    if em_number is None:
        return "unknown"
    if em_number >= 16:
        return "high"
    return "medium" if em_number >= 12 else "low"


def match_engineers(engineers: Sequence[EngineerConfig], device: Device) -> tuple[Assignee, ...]:
    """Return the engineers who cover the device's site and modality, most specific first."""
    matched = [
        e
        for e in engineers
        if (not e.sites or device.site in e.sites)
        and (not e.modalities or device.modality in e.modalities)
    ]
    matched.sort(key=lambda e: -(bool(e.sites) + bool(e.modalities)))
    return tuple(Assignee(e.name, e.email, e.phone) for e in matched)


def build_work_order(
    event: AlertEvent,
    device: Device,
    engineers: Sequence[EngineerConfig] = (),
    usage: UsageInfo | None = None,
    prediction: Prediction | None = None,
) -> WorkOrder:
    """Assemble everything a field engineer needs for one alert event.

    Parameters
    ----------
    event:
        The alert event (its alert snapshot carries the evidence).
    device:
        Inventory entry of the alert's device.
    engineers:
        The configured engineers; those matching the device are assigned.
    usage:
        In-use state and next idle window at the event time, if known.
    prediction:
        The newest failure prediction of the alert's device and failure mode:
        the work order then carries the time left (from the event time), its
        interval, the probability and the supporting trends.
    """
    alert = event.alert
    mode = catalog.lookup(alert.failure_mode)
    usage = usage or UsageInfo(None, None, None, None)
    label, score = priority(alert.severity, device.em_number, usage.in_use)
    response_h = min(mode.response_time_h, PRIORITY_RESPONSE_H[label])
    checks = mode.recommended_checks
    if device.service_owner == "oem" and not mode.oem_required:
        checks = (*checks, "Service contract is with the OEM: call them before opening the device.")
    evidence = tuple(
        EvidenceLine(
            signal=e.signal,
            unit=e.unit,
            current_value=e.last_value,
            baseline=e.baseline,
            first_value=e.first_value,
            peak_score=e.peak_score,
            first_seen_at=e.first_seen_at,
            occurrences=e.occurrences,
            trend_per_h=trend_per_hour(e.series),
            series=e.series,
        )
        for e in alert.evidence
    )
    return WorkOrder(
        work_order_id=f"WO-{alert.device_id}-{alert.failure_mode}-{int(alert.opened_at)}",
        dedup_key=alert.key,
        event=event.kind,
        event_reason=event.reason,
        issued_at=event.ts,
        state=alert.state,
        device_id=device.device_id,
        asset_tag=device.asset_tag,
        manufacturer=device.manufacturer,
        model=device.model,
        serial=device.serial,
        modality=str(device.modality),
        em_number=device.em_number,
        risk_class=risk_class(device.em_number),
        service_owner=device.service_owner,
        site=device.site,
        location=device.location,
        department=device.department,
        in_use=usage.in_use,
        last_used_at=usage.last_used_at,
        next_idle_from=usage.idle_from,
        next_idle_until=usage.idle_until,
        failure_mode=alert.failure_mode,
        failure_description=mode.description,
        subsystem=mode.subsystem,
        rule=alert.rule,
        rules=alert.rules,
        confidence=alert.peak_score,
        evidence=evidence,
        first_detected_at=alert.opened_at,
        last_seen_at=alert.last_seen_at,
        closed_at=alert.closed_at,
        occurrences=alert.occurrences,
        peak_score=alert.peak_score,
        flaps=alert.flaps,
        severity=alert.severity,
        priority=label,
        priority_score=score,
        required_response_h=response_h,
        respond_by=None if event.kind is EventKind.RESOLVED else event.ts + response_h * 3600.0,
        recommended_checks=checks,
        likely_parts=mode.likely_parts,
        oem_required=mode.oem_required or device.service_owner == "oem",
        safety_notes=mode.safety_notes,
        assigned_engineers=match_engineers(engineers, device),
        previous_closed_at=alert.previous_closed_at,
        priority_reason=priority_reason(alert.severity, device.em_number, usage.in_use),
        firmware=device.firmware,
        room=device.room,
        **forecast_fields(prediction, event.ts),
    )
