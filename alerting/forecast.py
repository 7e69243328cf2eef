"""A failure prediction as a field engineer reads it in a work order.

:func:`forecast_fields` turns the newest :class:`~htm_edge.models.types.Prediction`
of an alert's (device, failure mode) into the work order's time to failure,
counted from the work order's own time (a prediction made an hour earlier has
an hour less left), with its 80 % interval, the probability within the
horizon, and one line per supporting indicator: its level against the
healthy baseline, its trend per day, and when that trend reaches the failure
threshold.

Examples
--------
>>> format_duration(5400.0), format_duration(3 * 86400.0), format_duration(float("inf"))
('1.5 h', '3.0 d', 'no course to failure')
"""

from __future__ import annotations

import math
from typing import Any

from htm_edge.models.types import Indicator, Prediction

__all__ = ["describe_indicator", "forecast_fields", "format_duration"]

#: indicators shown in a work order, the strongest first
MAX_TRENDS = 3


def format_duration(seconds: float) -> str:
    """``"14.5 h"`` below two days, else ``"3.2 d"``; ``inf`` has no course to failure."""
    if not math.isfinite(seconds):
        return "no course to failure"
    if seconds < 2 * 86400.0:
        return f"{seconds / 3600.0:.1f} h"
    return f"{seconds / 86400.0:.1f} d"


def _num(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else "-"


def describe_indicator(ind: Indicator) -> str:
    """E.g. ``"coldhead_2nd_stage_k (level) 4.6 K vs baseline 4.1 K, +0.12 K/day toward
    failure, threshold in 9.1 d (80 %: 6.2 d to 14 d)"``."""
    unit = f" {ind.unit}" if ind.unit else ""
    text = (
        f"{ind.signal} ({ind.statistic}) {_num(ind.value)}{unit} vs baseline "
        f"{_num(ind.baseline)}{unit}"
    )
    if math.isfinite(ind.slope_per_day):
        text += f", {ind.slope_per_day:+.3g}{unit}/day toward failure"
    if math.isfinite(ind.time_to_threshold_s):
        text += (
            f", threshold in {format_duration(ind.time_to_threshold_s)} (80 %: "
            f"{format_duration(ind.time_to_threshold_low_s)} to "
            f"{format_duration(ind.time_to_threshold_high_s)})"
        )
    return text


def forecast_fields(prediction: Prediction | None, at_ts: float) -> dict[str, Any]:
    """The work order's prediction fields at ``at_ts`` (none without a usable prediction).

    A prediction made before any of its indicators has a healthy baseline (the
    device's first day) says nothing yet and is left out; so are the
    indicators without one.
    """
    if prediction is None:
        return {}
    learnt = [i for i in prediction.evidence if math.isfinite(i.baseline)]
    if not learnt:
        return {}
    elapsed = max(0.0, at_ts - prediction.ts)

    def left(s: float) -> float | None:
        return max(0.0, s - elapsed) if math.isfinite(s) else None

    return {
        "time_to_failure_s": left(prediction.time_to_failure_s),
        "time_to_failure_lower_s": left(prediction.time_to_failure_low_s),
        "time_to_failure_upper_s": left(prediction.time_to_failure_high_s),
        "failure_probability": prediction.probability,
        "prediction_horizon_s": prediction.horizon_s,
        "predicted_at": prediction.ts,
        "prediction_model": prediction.model,
        "prediction_trends": tuple(describe_indicator(i) for i in learnt[:MAX_TRENDS]),
    }
