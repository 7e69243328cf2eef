"""Critical-care ventilator: O2 cell, blower, expiratory valve.

Healthy behaviour: long ventilation sessions (a day or more) with standby in
between; the blower speed follows the patient's demand (a slow random walk
around the device's operating point) and its current follows the speed; the O2
cell output is reported referred to 21 % O2 so it does not depend on FiO2.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.core import DeviceModel, StepContext, ar1

__all__ = ["VentilatorModel"]

O2_CELL = "VENT.O2_CELL.DEPLETION"
BLOWER = "VENT.BLOWER.WEAR"
EXP_VALVE = "VENT.EXP_VALVE.LEAK"
DISCONNECT = "VENT.EVENT.CIRCUIT_DISCONNECT"


class VentilatorModel(DeviceModel):
    """Ventilator (see module docstring)."""

    modality: ClassVar[Modality] = Modality.VENTILATOR
    N_NORMAL: ClassVar[int] = 6
    UTIL_DAY: ClassVar[float] = 0.75
    UTIL_NIGHT: ClassVar[float] = 0.7
    SESSION_MEAN_S: ClassVar[float] = 30 * 3600.0

    def _init_state(self, rng: np.random.Generator) -> None:
        p = rng.random(6)
        self.o2_0 = 10.0 + 4.0 * p[0]
        self.blow_k = 0.045 + 0.01 * p[1]
        self.blow0 = 0.2 + 0.1 * p[2]
        self.speed0 = 22.0 + 6.0 * p[3]
        self.leak0 = 20.0 + 20.0 * p[4]
        self.peep_off = -0.2 + 0.4 * p[5]
        ar = np.clip(rng.standard_normal(2), -4.0, 4.0)
        self.ar_speed, self.ar_leak = float(ar[0]), float(ar[1])

    def _values(self, ctx: StepContext, z: np.ndarray, u: np.ndarray) -> dict[str, float]:
        s_o2 = self.sev(O2_CELL)
        s_blow = self.sev(BLOWER)
        s_valve = self.sev(EXP_VALVE)
        disconnect = self.event_phase(DISCONNECT)
        self.ar_speed = ar1(self.ar_speed, float(z[1]), 1800.0, ctx.dt)
        self.ar_leak = ar1(self.ar_leak, float(z[3]), 6 * 3600.0, ctx.dt)

        o2 = self.o2_0 * (1.0 - 0.5 * s_o2) + 0.03 * ctx.ambient + 0.08 * float(z[0])
        if ctx.in_use:
            speed = self.speed0 + 1.0 * self.ar_speed
            current = self.blow0 + self.blow_k * speed * (1.0 + 0.4 * s_blow)
            peep_mean = self.peep_off - 1.0 * s_valve
            peep_sd = 0.25 * (1.0 + 4.0 * s_valve)
        else:
            speed = 0.0
            current = 0.05
            peep_mean, peep_sd = 0.0, 0.02
        current += 0.02 * float(z[2])
        leak = self.leak0 + 5.0 * self.ar_leak + 400.0 * s_valve + 2.0 * float(z[4])
        if disconnect is not None:
            leak += 250.0 * (1.0 - disconnect)
            peep_sd *= 4.0
        return {
            "o2_cell_mv": o2,
            "blower_current_a": max(0.0, current),
            "blower_speed_krpm": speed,
            "internal_leak_ml_min": max(0.0, leak),
            "peep_error_cmh2o": peep_mean + peep_sd * float(z[5]),
        }
