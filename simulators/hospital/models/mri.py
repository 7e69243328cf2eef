"""MRI magnet and cryogenics, vectorised (physics as :mod:`htm_edge.simulators.devices.mri`).

A thermal-excursion state rises while the compressor is off or the cold head
has failed and boils helium off at up to 1.5 %/h; a degrading cold head loses
helium at up to 2.5 %/day. A repair (or a PM that found the fault) refills
the helium. The chiller's water temperature follows the outdoor temperature.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.hospital.model import (
    Array,
    ChunkContext,
    VectorModel,
    ar1,
    cumsum_reset,
    ema,
)

__all__ = ["MriVector"]

COLDHEAD = "MR.COLDHEAD.DEGRADATION"
GAS_LEAK = "MR.COMPRESSOR.GAS_LEAK"
CHILLER = "MR.CHILLER.DEGRADATION"
SERVICE_STOP = "MR.EVENT.COLDHEAD_SERVICE_STOP"
_STATIC_MPA = 1.55


class MriVector(VectorModel):
    """Helium-bath MRI (see module docstring)."""

    modality: ClassVar[Modality] = Modality.MRI
    N_NORMAL: ClassVar[int] = 12
    N_PERSONAL: ClassVar[int] = 11
    STEP_SIGNALS: ClassVar[tuple[str, ...]] = (
        "coldhead_2nd_stage_k",
        "coldhead_1st_stage_k",
        "compressor_supply_mpa",
        "compressor_return_mpa",
        "cooling_water_in_c",
        "cryostat_pressure_psig",
        "room_temp_c",
    )

    def setup(self, p: Array) -> None:
        self.he0 = 72.0 + 20.0 * p[:, 0]
        self.k2 = 4.14 + 0.12 * p[:, 1]
        self.k1 = 42.0 + 6.0 * p[:, 2]
        self.ps = 2.05 + 0.10 * p[:, 3]
        self.pr = 0.71 + 0.08 * p[:, 4]
        self.water0 = 13.0 + 4.0 * p[:, 5]
        self.cryo0 = 1.35 + 0.30 * p[:, 6]
        self.heater0 = 38.0 + 14.0 * p[:, 7]
        self.room0 = 20.5 + 1.5 * p[:, 8]
        self.cycle_s = 60.0 * (15.0 + 10.0 * p[:, 9])
        self.cycle_phase = p[:, 10].copy()
        n = self.n
        self.ar = np.zeros((4, n))
        self.comp_on = np.ones(n)
        self.warm = np.zeros(n)
        self.boiled = np.zeros(n)
        self.he_loss = np.zeros(n)

    def forced_use(self, c: ChunkContext) -> Array | None:
        return np.where(c.during(SERVICE_STOP), 0.0, np.nan)

    def render(self, c: ChunkContext) -> dict[str, Array]:
        z, dt = c.z, c.dt
        s_ch, s_leak, s_chill = c.sev[COLDHEAD], c.sev[GAS_LEAK], c.sev[CHILLER]
        stopped = c.during(SERVICE_STOP) | c.failed_by[GAS_LEAK] | c.failed_by[CHILLER]
        cooling_lost = (stopped | c.failed_by[COLDHEAD]).astype(float)
        ar_water = ar1(self.ar[0], z[:, :, 0], 2 * 3600.0, dt)
        ar_comp = ar1(self.ar[1], z[:, :, 1], 3600.0, dt)
        ar_he = ar1(self.ar[2], z[:, :, 2], 6 * 3600.0, dt)
        on = ema(self.comp_on, np.asarray(1.0 - stopped, dtype=float), 120.0, dt)
        warm = ema(self.warm, cooling_lost, 45 * 60.0, dt)
        refill = c.failed & c.service
        boiled = cumsum_reset(self.boiled, 1.5 * warm * dt / 3600.0, refill)
        he_loss = cumsum_reset(self.he_loss, 2.5 * s_ch * dt / 86_400.0, s_ch <= 0.0)

        step = dt / (self.cycle_s[None, :] * (1.0 + s_chill))
        phase = (self.cycle_phase[None, :] + np.cumsum(step, axis=0)) % 1.0
        self.cycle_phase = phase[-1].copy()
        diurnal = np.cos(2.0 * np.pi * (c.hour - 15.0) / 24.0)[:, None]
        water = (
            self.water0
            + 0.06 * c.outdoor
            + (0.3 + 2.0 * s_chill) * np.sin(2.0 * np.pi * phase)
            + 0.15 * ar_water
            + 0.05 * z[:, :, 3]
            + 8.0 * s_chill * (0.85 + 0.15 * diurnal)
        )
        room = self.room0 + 0.5 * c.room + 0.05 * z[:, :, 4]
        use = c.in_use.astype(float)
        dw = water - self.water0
        static = _STATIC_MPA - 0.3 * s_leak
        run_sup = self.ps - 0.45 * s_leak + 0.008 * dw + 0.01 * ar_comp
        run_ret = self.pr - 0.22 * s_leak + 0.004 * dw + 0.005 * ar_comp
        supply = on * run_sup + (1.0 - on) * static + 0.006 * z[:, :, 5]
        ret = on * run_ret + (1.0 - on) * static + 0.004 * z[:, :, 6]
        k2 = (
            self.k2
            + 0.02 * use
            + 0.005 * c.room
            + 0.8 * s_ch
            + 0.15 * s_leak * s_leak
            + 6.0 * warm
            + 0.006 * (1.0 + 3.0 * s_ch * s_ch) * z[:, :, 7]
        )
        k1 = self.k1 + 0.15 * dw + 12.0 * s_ch + 2.0 * s_chill + 30.0 * warm + 0.15 * z[:, :, 8]
        margin = np.maximum(0.0, 1.0 - s_ch / 0.5) * np.maximum(0.0, 1.0 - 3.0 * warm)
        heater = self.heater0 * margin + 1.0 * z[:, :, 9]
        cryo = (
            self.cryo0
            + 1.5 * np.maximum(0.0, (s_ch - 0.5) / 0.5)
            + 2.5 * warm
            + 0.015 * z[:, :, 10]
        )
        helium = self.he0 - he_loss - boiled + 0.05 * ar_he + 0.04 * z[:, :, 11]
        return {
            "helium_level_pct": np.clip(helium, 0.0, 100.0),
            "coldhead_2nd_stage_k": k2,
            "coldhead_1st_stage_k": k1,
            "compressor_supply_mpa": supply,
            "compressor_return_mpa": ret,
            "cooling_water_in_c": water,
            "cryostat_pressure_psig": cryo,
            "cryostat_heater_duty_pct": np.clip(heater, 0.0, 100.0),
            "room_temp_c": room,
        }
