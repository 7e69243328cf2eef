"""Grading a hospital fleet's alerts against its ground truth (definitions: docs/evaluation.md).

Pure functions over the opened alerts and the ground-truth records, so the
metrics are tested on hand-made cases and the command only collects inputs.

Examples
--------
>>> from htm_edge.simulators.hospital.records import Course
>>> c = Course("P-1", "PUMP.BATTERY.END_OF_LIFE", 0.0, 100 * 3600.0, "drift")
>>> m = grade([OpenedAlert("P-1", "PUMP.BATTERY.END_OF_LIFE", 50 * 3600.0)], [c],
...           start_ts=0.0, end_ts=200 * 3600.0, n_devices=1)
>>> m["predicted"], m["lead_time_hours_median"], m["false_alerts_per_100_device_days"]
(1, 50.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from htm_edge.simulators.hospital.records import Course, Record, ServiceRecord

__all__ = ["OpenedAlert", "classify_alert", "grade"]

DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class OpenedAlert:
    """An alert as it opened: device, failure mode it names, time."""

    device_id: str
    failure_mode: str
    opened_at: float


def _windows(records: Sequence[Record]) -> dict[str, list[tuple[float, float]]]:
    """Per device, the spans in service or down (failure to repair end)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for r in records:
        if isinstance(r, ServiceRecord):
            out.setdefault(r.device_id, []).append((r.start_ts, r.end_ts))
        elif isinstance(r, Course) and r.outcome == "failed":
            out.setdefault(r.device_id, []).append((r.failure_ts, r.end_ts))
    return out


def _degrading(records: Sequence[Record]) -> dict[str, list[tuple[float, float, str]]]:
    """Per device, the spans of degradations with a precursor (onset to failure or fix)."""
    out: dict[str, list[tuple[float, float, str]]] = {}
    for r in records:
        if isinstance(r, Course) and r.precursor is not None:
            end = r.failure_ts if r.outcome == "failed" else r.end_ts
            out.setdefault(r.device_id, []).append((r.onset_ts, end, r.failure_mode))
    return out


def classify_alert(
    alert: OpenedAlert,
    service: dict[str, list[tuple[float, float]]],
    degrading: dict[str, list[tuple[float, float, str]]],
) -> str:
    """``service`` (opened while in service or down), ``true`` (during a degradation), ``false``."""
    a = alert.opened_at
    if any(s <= a < e for s, e in service.get(alert.device_id, ())):
        return "service"
    if any(s <= a < e for s, e, _ in degrading.get(alert.device_id, ())):
        return "true"
    return "false"


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def grade(
    alerts: Sequence[OpenedAlert],
    records: Sequence[Record],
    *,
    start_ts: float,
    end_ts: float,
    n_devices: int,
) -> dict[str, Any]:
    """The evaluation metrics of one run (see docs/evaluation.md for each definition).

    ``records`` may reach past ``end_ts`` (the lives are planned ahead), so a
    late alert is judged by what happened next.
    """
    failures = [
        r
        for r in records
        if isinstance(r, Course) and r.outcome == "failed" and start_ts <= r.failure_ts < end_ts
    ]
    with_precursor = [f for f in failures if f.precursor is not None]
    by_device: dict[str, list[OpenedAlert]] = {}
    for a in alerts:
        by_device.setdefault(a.device_id, []).append(a)
    leads: list[float] = []
    right_mode = 0
    detail: list[dict[str, Any]] = []
    for f in with_precursor:
        hits = [
            a for a in by_device.get(f.device_id, ()) if f.onset_ts <= a.opened_at < f.failure_ts
        ]
        lead = None
        if hits:
            lead = (f.failure_ts - min(a.opened_at for a in hits)) / 3600.0
            leads.append(lead)
            right_mode += any(a.failure_mode == f.failure_mode for a in hits)
        detail.append(
            {
                "device_id": f.device_id,
                "failure_mode": f.failure_mode,
                "precursor": f.precursor,
                "precursor_h": round((f.failure_ts - f.onset_ts) / 3600.0, 1),
                "lead_h": None if lead is None else round(lead, 1),
            }
        )
    service, degrading = _windows(records), _degrading(records)
    kinds = [classify_alert(a, service, degrading) for a in alerts]
    device_days = n_devices * (end_ts - start_ts) / DAY_S
    n_false = kinds.count("false")
    found = [
        r
        for r in records
        if isinstance(r, Course) and r.outcome == "found_at_pm" and start_ts <= r.end_ts < end_ts
    ]
    n_pre = len(with_precursor)
    return {
        "failures": len(failures),
        "failures_with_precursor": n_pre,
        "sudden_failures": len(failures) - n_pre,
        "predicted": len(leads),
        "predicted_right_mode": right_mode,
        "lead_time_hours_median": _pct(leads, 50),
        "lead_time_hours_p10": _pct(leads, 10),
        "predicted_24h_ahead": round(sum(x >= 24.0 for x in leads) / n_pre, 4) if n_pre else None,
        "false_alerts_per_100_device_days": round(100.0 * n_false / device_days, 3)
        if device_days
        else 0.0,
        "alerts_total": len(alerts),
        "alerts_true": kinds.count("true"),
        "alerts_false": n_false,
        "alerts_during_service": kinds.count("service"),
        "degradations_found_at_pm": len(found),
        "device_days": round(device_days, 2),
        "failures_with_precursor_detail": detail,
    }
