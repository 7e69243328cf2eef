"""Helium-bath MRI magnet with cold head, helium compressor and chiller-fed cooling water.

Healthy behaviour: a zero-boil-off magnet holds its helium level; the cryostat
heater regulates pressure; compressor pressures and the cold-head stages are
steady, with small couplings to cooling water (itself following the outdoor
temperature and the chiller's on/off cycle) and to scanning.

A *thermal excursion* state (0..1) models loss of cooling: it rises with a
40-minute time constant while the compressor is off or the cold head has
failed, and decays with a 60-minute one afterwards; it warms both stages,
raises cryostat pressure and boils helium off at up to 1.5 %/h.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.core import DeviceModel, StepContext, accelerating_integral, ar1

__all__ = ["MriModel"]

COLDHEAD = "MR.COLDHEAD.DEGRADATION"
GAS_LEAK = "MR.COMPRESSOR.GAS_LEAK"
CHILLER = "MR.CHILLER.DEGRADATION"
SERVICE_STOP = "MR.EVENT.COLDHEAD_SERVICE_STOP"

_STATIC_MPA = 1.55  # equalised pressure with the compressor stopped
_HE_LOSS_PCT = 12.0  # helium lost over a cold-head degradation course


class MriModel(DeviceModel):
    """MRI magnet and cryogenics (see module docstring)."""

    modality: ClassVar[Modality] = Modality.MRI
    N_NORMAL: ClassVar[int] = 13
    UTIL_DAY: ClassVar[float] = 0.75
    UTIL_NIGHT: ClassVar[float] = 0.08
    SESSION_MEAN_S: ClassVar[float] = 40 * 60.0

    def _init_state(self, rng: np.random.Generator) -> None:
        p = rng.random(11)
        self.he0 = 72.0 + 20.0 * p[0]
        self.k2 = 4.14 + 0.12 * p[1]
        self.k1 = 42.0 + 6.0 * p[2]
        self.ps = 2.05 + 0.10 * p[3]
        self.pr = 0.71 + 0.08 * p[4]
        self.water0 = 13.0 + 4.0 * p[5]
        self.cryo0 = 1.35 + 0.30 * p[6]
        self.heater0 = 38.0 + 14.0 * p[7]
        self.room0 = 20.0 + 2.0 * p[8]
        self.cycle_s = 60.0 * (15.0 + 10.0 * p[9])
        self.cycle_phase = float(p[10])
        ar = np.clip(rng.standard_normal(4), -4.0, 4.0)
        self.ar_room, self.ar_water, self.ar_comp, self.ar_he = (float(x) for x in ar)
        self.compressor_on = 1.0
        self.warm = 0.0
        self.he_boiled = 0.0

    def _forced_use(self) -> bool | None:
        return False if self.event_phase(SERVICE_STOP) is not None else None

    def _values(self, ctx: StepContext, z: np.ndarray, u: np.ndarray) -> dict[str, float]:
        dt = ctx.dt
        s_ch = self.sev(COLDHEAD)
        s_leak = self.sev(GAS_LEAK)
        s_chill = self.sev(CHILLER)
        stopped = (
            self.event_phase(SERVICE_STOP) is not None
            or self.failed_by(GAS_LEAK)
            or self.failed_by(CHILLER)
        )
        cooling_lost = stopped or self.failed_by(COLDHEAD)

        # slow states
        self.ar_room = ar1(self.ar_room, float(z[0]), 3 * 3600.0, dt)
        self.ar_water = ar1(self.ar_water, float(z[1]), 2 * 3600.0, dt)
        self.ar_comp = ar1(self.ar_comp, float(z[2]), 3600.0, dt)
        self.ar_he = ar1(self.ar_he, float(z[3]), 6 * 3600.0, dt)
        target_on = 0.0 if stopped else 1.0
        self.compressor_on += (target_on - self.compressor_on) * -math.expm1(-dt / 120.0)
        tau_warm = 40 * 60.0 if cooling_lost else 60 * 60.0
        self.warm += ((1.0 if cooling_lost else 0.0) - self.warm) * -math.expm1(-dt / tau_warm)
        self.he_boiled += 1.5 * self.warm * dt / 3600.0

        # chiller: on/off cycle whose amplitude and period grow with degradation
        self.cycle_phase = (self.cycle_phase + dt / (self.cycle_s * (1.0 + s_chill))) % 1.0
        amp = 0.3 + 2.0 * s_chill
        water_offset = 8.0 * s_chill * (0.85 + 0.15 * ctx.ambient)
        water = (
            self.water0
            + 0.7 * ctx.ambient
            + amp * math.sin(2.0 * math.pi * self.cycle_phase)
            + 0.15 * self.ar_water
            + 0.05 * float(z[4])
            + water_offset
        )
        room = self.room0 + 0.8 * ctx.ambient + 0.3 * self.ar_room + 0.05 * float(z[5])
        use = 1.0 if ctx.in_use else 0.0
        dw = water - self.water0

        # compressor pressures: running values drift with gas loss, relax to static when off
        static = _STATIC_MPA - 0.3 * s_leak
        run_sup = self.ps - 0.45 * s_leak + 0.008 * dw + 0.01 * self.ar_comp
        run_ret = self.pr - 0.22 * s_leak + 0.004 * dw + 0.005 * self.ar_comp
        on = self.compressor_on
        supply = on * run_sup + (1.0 - on) * static + 0.006 * float(z[6])
        ret = on * run_ret + (1.0 - on) * static + 0.004 * float(z[7])

        # cold head and cryostat
        k2_noise = 0.006 * (1.0 + 3.0 * s_ch * s_ch)
        k2 = (
            self.k2
            + 0.02 * use
            + 0.01 * ctx.ambient
            + 0.8 * s_ch
            + 0.15 * s_leak * s_leak
            + 6.0 * self.warm
            + k2_noise * float(z[8])
        )
        k1 = (
            self.k1
            + 0.15 * dw
            + 12.0 * s_ch
            + 2.0 * s_chill
            + 30.0 * self.warm
            + 0.15 * float(z[9])
        )
        margin = max(0.0, 1.0 - s_ch / 0.5) * max(0.0, 1.0 - self.warm * 3.0)
        heater = self.heater0 * margin + 1.0 * float(z[10])
        cryo = (
            self.cryo0 + 1.5 * max(0.0, (s_ch - 0.5) / 0.5) + 2.5 * self.warm + 0.015 * float(z[11])
        )
        he_loss = 0.0
        if self.fault is not None and self.fault.failure_mode == COLDHEAD:
            he_loss = _HE_LOSS_PCT * accelerating_integral(self.fault.tau(ctx.t_s))
        helium = self.he0 - he_loss - self.he_boiled + 0.05 * self.ar_he + 0.04 * float(z[12])
        return {
            "helium_level_pct": min(100.0, max(0.0, helium)),
            "coldhead_2nd_stage_k": k2,
            "coldhead_1st_stage_k": k1,
            "compressor_supply_mpa": supply,
            "compressor_return_mpa": ret,
            "cooling_water_in_c": water,
            "cryostat_pressure_psig": cryo,
            "cryostat_heater_duty_pct": min(100.0, max(0.0, heater)),
            "room_temp_c": room,
        }
