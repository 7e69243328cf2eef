"""Result types of the models package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Score"]


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
