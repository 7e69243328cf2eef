"""Large-volume infusion pump: battery, pumping mechanism, occlusion sensor.

Healthy behaviour: infusions last hours (day and night, more by day), each
at a rate drawn log-uniformly in 5..200 mL/h; the motor current follows the
rate while infusing and is 0 when idle; battery voltage sags under motor load.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.core import DeviceModel, StepContext

__all__ = ["InfusionPumpModel"]

BATTERY = "PUMP.BATTERY.END_OF_LIFE"
MECHANISM = "PUMP.MECHANISM.WEAR"
OCCLUSION = "PUMP.OCCLUSION_SENSOR.DRIFT"
TRANSPORT = "PUMP.EVENT.PATIENT_TRANSPORT"


class InfusionPumpModel(DeviceModel):
    """Infusion pump (see module docstring)."""

    modality: ClassVar[Modality] = Modality.INFUSION_PUMP
    N_NORMAL: ClassVar[int] = 4
    N_UNIFORM: ClassVar[int] = 1
    UTIL_DAY: ClassVar[float] = 0.6
    UTIL_NIGHT: ClassVar[float] = 0.45
    SESSION_MEAN_S: ClassVar[float] = 4 * 3600.0

    def _init_state(self, rng: np.random.Generator) -> None:
        p = rng.random(6)
        self.soh0 = 85.0 + 13.0 * p[0]
        self.v_rest = 7.38 + 0.06 * p[1]
        self.sag0 = 0.12 + 0.08 * p[2]
        self.occl0 = 8.0 + 8.0 * p[3]
        self.motor_k = 0.25 + 0.1 * p[4]
        self.motor0 = 35.0 + 10.0 * p[5]
        self.rate = 0.0
        self.was_in_use = False
        self.discharge = 0.0

    def _forced_use(self) -> bool | None:
        return True if self.event_phase(TRANSPORT) is not None else None

    def _values(self, ctx: StepContext, z: np.ndarray, u: np.ndarray) -> dict[str, float]:
        if ctx.in_use and (not self.was_in_use or self.rate == 0.0):
            self.rate = 5.0 * 40.0 ** float(u[0])
        self.was_in_use = ctx.in_use
        rate = self.rate if ctx.in_use else 0.0
        s_bat = self.sev(BATTERY)
        s_mech = self.sev(MECHANISM)
        s_occ = self.sev(OCCLUSION)

        transport = self.event_phase(TRANSPORT)
        if transport is not None:
            self.discharge = max(self.discharge, 0.35 * transport)
        else:
            self.discharge *= math.exp(-ctx.dt / 3600.0)

        load = (0.7 + 0.3 * rate / 200.0) if ctx.in_use else 0.15
        sag = self.sag0 * (1.0 + 4.0 * s_bat) * load
        collapse = 1.0 * max(0.0, (s_bat - 0.85) / 0.15) ** 2
        volts = self.v_rest - 0.2 * s_bat - sag - collapse - self.discharge + 0.01 * float(z[0])
        soh = self.soh0 - 50.0 * s_bat + 0.3 * float(z[1])

        motor = 0.0
        if ctx.in_use:
            mean = (self.motor0 + self.motor_k * rate) * (1.0 + 0.5 * s_mech)
            motor = max(0.0, mean + 1.5 * (1.0 + 4.0 * s_mech) * float(z[2]))
        occlusion = self.occl0 + 0.5 * ctx.ambient + 0.03 * rate + 100.0 * s_occ + 0.8 * float(z[3])
        return {
            "battery_voltage_v": volts,
            "battery_soh_pct": min(100.0, max(0.0, soh)),
            "motor_current_ma": motor,
            "occlusion_baseline_mmhg": max(0.0, occlusion),
            "infusion_rate_ml_h": rate,
        }
