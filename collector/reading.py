"""The one measurement type that flows from sources to sinks and models.

Timestamps are UTC epoch seconds as ``float`` everywhere in HTM Edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Quality", "Reading"]


class Quality(StrEnum):
    """How far a value can be trusted (maps device sentinels such as DRI's -32767)."""

    GOOD = "good"
    QUESTIONABLE = "questionable"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Reading:
    """One measurement of one signal of one device.

    Parameters
    ----------
    device_id:
        Inventory id of the device (``Device.device_id``).
    signal:
        Signal name, e.g. ``helium_level_pct``.
    value:
        The measured value; NaN is allowed only with a non-good quality.
    ts:
        UTC epoch seconds.
    unit:
        Unit text, e.g. ``%`` or ``K``; empty when unknown.
    quality:
        Trust level of ``value``.
    """

    device_id: str
    signal: str
    value: float
    ts: float
    unit: str = ""
    quality: Quality = Quality.GOOD

    @property
    def usable(self) -> bool:
        """True when the value is finite and of good quality (fit for models)."""
        return self.quality is Quality.GOOD and math.isfinite(self.value)
