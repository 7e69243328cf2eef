"""Result types of the models package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Indicator", "Prediction", "Score"]


@dataclass(frozen=True, slots=True)
class Score:
    """Anomaly score of one signal of one device at one time.

    ``anomaly`` lies in [0, 1] and reads like a probability that the point is
    abnormal for this stream, so one threshold works across signals.
    """

    device_id: str
    signal: str
    ts: float
    anomaly: float
    value: float
    detail: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Indicator:
    """One degradation indicator behind a prediction: a signal's level and trend.

    Values are in the signal's own unit. ``deviation`` is signed so that a
    positive value points toward failure (up for an ``up`` precursor, down for
    ``down``; for ``variance_up`` it is the spread's rise); ``slope_per_day``
    is signed the same way. ``threshold`` is the deviation at which the
    failure mode's devices fail (learned across the fleet); NaN when unknown.
    ``time_to_threshold_s`` extrapolates the trend to it (``inf``: no trend
    toward it), with its 80 % interval.
    """

    signal: str
    statistic: str
    direction: str
    unit: str
    value: float
    baseline: float
    deviation: float
    noise: float
    slope_per_day: float
    threshold: float
    time_to_threshold_s: float
    time_to_threshold_low_s: float
    time_to_threshold_high_s: float

    def to_json(self) -> dict[str, float | str]:
        """JSON-able form (``inf`` as ``None``)."""
        out: dict[str, float | str] = {}
        for name in self.__slots__:
            v = getattr(self, name)
            out[name] = v if isinstance(v, str) or (v == v and abs(v) != float("inf")) else None  # type: ignore[assignment]
        return out


@dataclass(frozen=True, slots=True)
class Prediction:
    """How likely a device is to fail by one failure mode, and how soon.

    ``probability`` is the probability that the failure happens within
    ``horizon_s`` of ``ts``; ``time_to_failure_s`` is the median estimate of
    the time left, ``time_to_failure_low_s``/``high_s`` its 80 % interval
    (``inf`` when the evidence shows no course toward failure). ``evidence``
    holds the indicators (levels, baselines, trends) that support it, the
    strongest first; ``model`` names the model and version that made it.
    """

    device_id: str
    failure_mode: str
    ts: float
    probability: float
    horizon_s: float
    time_to_failure_s: float
    time_to_failure_low_s: float
    time_to_failure_high_s: float
    evidence: tuple[Indicator, ...] = ()
    model: str = ""

    def to_json(self) -> dict[str, object]:
        """JSON-able form (``inf`` as ``None``)."""

        def f(x: float) -> float | None:
            return None if x != x or abs(x) == float("inf") else x

        return {
            "device_id": self.device_id,
            "failure_mode": self.failure_mode,
            "ts": self.ts,
            "probability": self.probability,
            "horizon_s": self.horizon_s,
            "time_to_failure_s": f(self.time_to_failure_s),
            "time_to_failure_low_s": f(self.time_to_failure_low_s),
            "time_to_failure_high_s": f(self.time_to_failure_high_s),
            "evidence": [e.to_json() for e in self.evidence],
            "model": self.model,
        }
