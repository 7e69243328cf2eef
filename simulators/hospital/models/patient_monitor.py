"""Patient monitor: NIBP module, battery, cooling.

While a patient is connected the monitor measures NIBP every 15 minutes and
reports inflation time, re-inflations and the transducer's zero offset for
each measurement; battery health, fan speed and board temperature every
sample. A restless patient (the look-alike) needs re-inflations too.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.hospital.model import Array, ChunkContext, VectorModel, ar1, poisson

__all__ = ["MonitorVector"]

NIBP = "MON.NIBP.PUMP_VALVE_WEAR"
BATTERY = "MON.BATTERY.FADE"
FAN = "MON.FAN.BEARING_WEAR"
MOTION = "MON.EVENT.MOTION_ARTIFACT"
_NIBP_EVERY_S = 900.0


class MonitorVector(VectorModel):
    """Patient monitor (see module docstring)."""

    modality: ClassVar[Modality] = Modality.PATIENT_MONITOR
    N_NORMAL: ClassVar[int] = 6
    N_PERSONAL: ClassVar[int] = 6
    STEP_SIGNALS: ClassVar[tuple[str, ...]] = (
        "nibp_zero_offset_mmhg",
        "monitor_fan_rpm",
        "monitor_internal_temp_c",
    )

    def setup(self, p: Array) -> None:
        self.infl0 = 24.0 + 6.0 * p[:, 0]
        self.zero0 = -1.0 + 2.0 * p[:, 1]
        self.soh0 = 86.0 + 12.0 * p[:, 2]
        self.rpm0 = 2700.0 + 400.0 * p[:, 3]
        self.temp0 = 33.0 + 3.0 * p[:, 4]
        self.phase0 = _NIBP_EVERY_S * p[:, 5]
        self.ar = np.zeros((2, self.n))

    def render(self, c: ChunkContext) -> dict[str, Array]:
        z = c.z
        s_nibp, s_bat, s_fan = c.sev[NIBP], c.sev[BATTERY], c.sev[FAN]
        motion = c.during(MOTION).astype(float)
        since = (c.ts[:, None] + self.phase0[None, :]) % _NIBP_EVERY_S
        measure = c.in_use & (since < c.dt)
        inflation = self.infl0 + 15.0 * s_nibp + 10.0 * motion + 1.5 * z[:, :, 0]
        retries = poisson(c.u[:, :, 0], 0.1 + 1.9 * s_nibp + 1.5 * motion)
        zero = self.zero0 + 0.3 * ar1(self.ar[0], z[:, :, 1], 6 * 3600.0, c.dt) + 0.1 * z[:, :, 2]
        soh = self.soh0 - 35.0 * s_bat + 0.3 * z[:, :, 3]
        temp = self.temp0 + 0.5 * c.room + 2.0 * c.in_use + 9.0 * s_fan + 0.2 * z[:, :, 4]
        rpm_ar = ar1(self.ar[1], z[:, :, 5], 600.0, c.dt)
        rpm = self.rpm0 + 40.0 * (temp - self.temp0) - 900.0 * s_fan
        rpm = rpm + 15.0 * (1.0 + 5.0 * s_fan) * rpm_ar
        nan = np.nan
        return {
            "nibp_inflation_s": np.where(measure, np.maximum(8.0, inflation), nan),
            "nibp_retry_count": np.where(measure, retries, nan),
            "nibp_zero_offset_mmhg": np.where(measure, zero, nan),
            "monitor_battery_soh_pct": np.clip(soh, 0.0, 100.0),
            "monitor_fan_rpm": np.maximum(0.0, rpm),
            "monitor_internal_temp_c": temp,
        }
