"""Anaesthesia workstation: the daily machine checkout (07:00 local) and the O2 pipeline.

The checkout measures the breathing system's leak at 30 cmH2O and its
compliance, the O2 sensor at 21 % and the flow sensor; the O2 pipeline
pressure is reported every sample, with the hospital plant's occasional
half-hour dips (a quirk, not a fault of the machine). A CO2 absorber
canister that was not fully seated (the look-alike) leaks at the checkouts
until someone reseats it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.hospital.model import Array, ChunkContext, VectorModel, ar1, daily_at, hold

__all__ = ["AnesthesiaVector"]

LEAK = "ANES.BREATHING_SYSTEM.LEAK"
O2 = "ANES.O2_SENSOR.DEPLETION"
FLOW = "ANES.FLOW_SENSOR.DRIFT"
CANISTER = "ANES.EVENT.CANISTER_NOT_SEATED"
_DIPS_PER_DAY = 1.0 / 30.0


class AnesthesiaVector(VectorModel):
    """Anaesthesia workstation (see module docstring)."""

    modality: ClassVar[Modality] = Modality.ANESTHESIA
    N_NORMAL: ClassVar[int] = 5
    N_PERSONAL: ClassVar[int] = 5
    STEP_SIGNALS: ClassVar[tuple[str, ...]] = (
        "fio2_cal_error_pct",
        "flow_sensor_error_pct",
        "pipeline_o2_kpa",
    )

    def setup(self, p: Array) -> None:
        self.leak0 = 40.0 + 60.0 * p[:, 0]
        self.comp0 = 3.2 + 1.2 * p[:, 1]
        self.fio0 = -0.5 + 1.0 * p[:, 2]
        self.flow0 = -1.0 + 2.0 * p[:, 3]
        self.pipe0 = 440.0 + 40.0 * p[:, 4]
        self.ar = np.zeros(self.n)
        self.last_dip = np.full(self.n, -1e18)

    def render(self, c: ChunkContext) -> dict[str, Array]:
        z = c.z
        s_l, s_o, s_f = c.sev[LEAK], c.sev[O2], c.sev[FLOW]
        canister = c.during(CANISTER).astype(float)
        leak = self.leak0 + 350.0 * s_l + 250.0 * canister + 8.0 * z[:, :, 0]
        comp = self.comp0 + 0.8 * s_l + 0.05 * z[:, :, 1]
        fio = self.fio0 - 4.0 * s_o + 0.2 * z[:, :, 2]
        flow = self.flow0 + 9.0 * s_f + 0.4 * (1.0 + 3.0 * s_f) * z[:, :, 3]
        ts = np.broadcast_to(c.ts[:, None], s_l.shape)
        dip_start = c.u[:, :, 0] < _DIPS_PER_DAY * c.dt / 86_400.0
        last = hold(self.last_dip, dip_start, ts)
        dip = np.where(ts - last < 1800.0, -60.0, 0.0)
        pipe = self.pipe0 + 3.0 * ar1(self.ar, z[:, :, 4], 2 * 3600.0, c.dt) + dip
        check = np.broadcast_to(daily_at(c, 7.0)[:, None], s_l.shape)
        nan = np.nan
        return {
            "checkout_leak_ml_min": np.where(check, np.maximum(0.0, leak), nan),
            "checkout_compliance_ml_cmh2o": np.where(check, comp, nan),
            "fio2_cal_error_pct": np.where(check, fio, nan),
            "flow_sensor_error_pct": np.where(check, flow, nan),
            "pipeline_o2_kpa": pipe,
        }
