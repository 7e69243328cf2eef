"""Critical-care ventilator, vectorised (physics as the per-device model).

Blower speed follows the patient's demand (AR(1) around the device's operating
point), its current follows speed; the O2 cell output is referred to 21 % O2.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.hospital.model import Array, ChunkContext, VectorModel, ar1

__all__ = ["VentilatorVector"]

O2_CELL = "VENT.O2_CELL.DEPLETION"
BLOWER = "VENT.BLOWER.WEAR"
EXP_VALVE = "VENT.EXP_VALVE.LEAK"
DISCONNECT = "VENT.EVENT.CIRCUIT_DISCONNECT"


class VentilatorVector(VectorModel):
    """Ventilator (see module docstring)."""

    modality: ClassVar[Modality] = Modality.VENTILATOR
    N_NORMAL: ClassVar[int] = 6
    N_PERSONAL: ClassVar[int] = 6
    STEP_SIGNALS: ClassVar[tuple[str, ...]] = ("o2_cell_mv", "internal_leak_ml_min")

    def setup(self, p: Array) -> None:
        self.o2_0 = 10.0 + 4.0 * p[:, 0]
        self.blow_k = 0.045 + 0.01 * p[:, 1]
        self.blow0 = 0.2 + 0.1 * p[:, 2]
        self.speed0 = 22.0 + 6.0 * p[:, 3]
        self.leak0 = 20.0 + 20.0 * p[:, 4]
        self.peep_off = -0.2 + 0.4 * p[:, 5]
        self.ar = np.zeros((2, self.n))

    def render(self, c: ChunkContext) -> dict[str, Array]:
        z, use = c.z, c.in_use
        s_o2, s_blow, s_valve = c.sev[O2_CELL], c.sev[BLOWER], c.sev[EXP_VALVE]
        disconnect = c.phase(DISCONNECT)
        ar_speed = ar1(self.ar[0], z[:, :, 1], 1800.0, c.dt)
        ar_leak = ar1(self.ar[1], z[:, :, 3], 6 * 3600.0, c.dt)
        o2 = self.o2_0 * (1.0 - 0.5 * s_o2) + 0.003 * c.room + 0.08 * z[:, :, 0]
        speed = np.where(use, self.speed0 + ar_speed, 0.0)
        current = np.where(use, self.blow0 + self.blow_k * speed * (1.0 + 0.4 * s_blow), 0.05)
        current = current + 0.02 * z[:, :, 2]
        peep_mean = np.where(use, self.peep_off - 1.0 * s_valve, 0.0)
        peep_sd = np.where(use, 0.25 * (1.0 + 4.0 * s_valve), 0.02)
        leak = self.leak0 + 5.0 * ar_leak + 400.0 * s_valve + 2.0 * z[:, :, 4]
        in_disc = ~np.isnan(disconnect)
        leak = leak + np.where(in_disc, 250.0 * (1.0 - np.nan_to_num(disconnect)), 0.0)
        peep_sd = np.where(in_disc, 4.0 * peep_sd, peep_sd)
        return {
            "o2_cell_mv": o2,
            "blower_current_a": np.maximum(0.0, current),
            "blower_speed_krpm": speed,
            "internal_leak_ml_min": np.maximum(0.0, leak),
            "peep_error_cmh2o": peep_mean + peep_sd * z[:, :, 5],
        }
