"""Large-volume infusion pump, vectorised (physics as the per-device model).

Each infusion runs at a rate drawn log-uniformly in 5..200 mL/h at its start;
motor current follows the rate; battery voltage sags under motor load and
falls with depth of discharge during a patient transport.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.hospital.model import Array, ChunkContext, VectorModel, ema, hold

__all__ = ["PumpVector"]

BATTERY = "PUMP.BATTERY.END_OF_LIFE"
MECHANISM = "PUMP.MECHANISM.WEAR"
OCCLUSION = "PUMP.OCCLUSION_SENSOR.DRIFT"
TRANSPORT = "PUMP.EVENT.PATIENT_TRANSPORT"


class PumpVector(VectorModel):
    """Infusion pump (see module docstring)."""

    modality: ClassVar[Modality] = Modality.INFUSION_PUMP
    N_NORMAL: ClassVar[int] = 4
    N_PERSONAL: ClassVar[int] = 6
    STEP_SIGNALS: ClassVar[tuple[str, ...]] = ("battery_voltage_v", "occlusion_baseline_mmhg")

    def setup(self, p: Array) -> None:
        self.soh0 = 85.0 + 13.0 * p[:, 0]
        self.v_rest = 7.38 + 0.06 * p[:, 1]
        self.sag0 = 0.12 + 0.08 * p[:, 2]
        self.occl0 = 8.0 + 8.0 * p[:, 3]
        self.motor_k = 0.25 + 0.1 * p[:, 4]
        self.motor0 = 35.0 + 10.0 * p[:, 5]
        self.rate = np.zeros(self.n)
        self.was_in_use = np.zeros(self.n, dtype=bool)
        self.discharge = np.zeros(self.n)

    def forced_use(self, c: ChunkContext) -> Array | None:
        return np.where(c.during(TRANSPORT), 1.0, np.nan)

    def render(self, c: ChunkContext) -> dict[str, Array]:
        z = c.z
        use = c.in_use
        prev = np.vstack([self.was_in_use[None, :], use[:-1]])
        self.was_in_use = use[-1].copy()
        rate = hold(self.rate, use & ~prev, 5.0 * 40.0 ** c.u[:, :, 0])
        rate = np.where(use, rate, 0.0)
        s_bat, s_mech, s_occ = c.sev[BATTERY], c.sev[MECHANISM], c.sev[OCCLUSION]
        transport = c.phase(TRANSPORT)
        target = np.where(np.isnan(transport), 0.0, 0.35 * np.nan_to_num(transport))
        discharge = ema(self.discharge, target, 900.0, c.dt)
        load = np.where(use, 0.7 + 0.3 * rate / 200.0, 0.15)
        sag = self.sag0 * (1.0 + 4.0 * s_bat) * load
        collapse = np.maximum(0.0, (s_bat - 0.85) / 0.15) ** 2
        volts = self.v_rest - 0.2 * s_bat - sag - collapse - discharge + 0.01 * z[:, :, 0]
        soh = self.soh0 - 50.0 * s_bat + 0.3 * z[:, :, 1]
        mean = (self.motor0 + self.motor_k * rate) * (1.0 + 0.5 * s_mech)
        motor = np.where(use, np.maximum(0.0, mean + 1.5 * (1.0 + 4.0 * s_mech) * z[:, :, 2]), 0.0)
        occl = self.occl0 + 0.05 * c.room + 0.03 * rate + 100.0 * s_occ + 0.8 * z[:, :, 3]
        return {
            "battery_voltage_v": volts,
            "battery_soh_pct": np.clip(soh, 0.0, 100.0),
            "motor_current_ma": motor,
            "occlusion_baseline_mmhg": np.maximum(0.0, occl),
            "infusion_rate_ml_h": rate,
        }
