"""CT tube, gantry and detector, vectorised (physics as :mod:`htm_edge.simulators.devices.ct`).

Oil temperature follows a 45-minute lag of scanning (the heat load); arcs are
Poisson events during exposures, frequent in the first half hour of a cold
tube's warm-up (Monday mornings, see the life plan).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.hospital.model import Array, ChunkContext, VectorModel, ema, poisson

__all__ = ["CtVector"]

FILAMENT = "CT.TUBE.FILAMENT_WEAR"
ARCING = "CT.TUBE.ARCING"
BEARING = "CT.ANODE.BEARING_WEAR"
WARMUP = "CT.EVENT.COLD_TUBE_WARMUP"


class CtVector(VectorModel):
    """CT scanner (see module docstring)."""

    modality: ClassVar[Modality] = Modality.CT
    N_NORMAL: ClassVar[int] = 5
    N_PERSONAL: ClassVar[int] = 5
    STEP_SIGNALS: ClassVar[tuple[str, ...]] = (
        "filament_current_a",
        "anode_drive_current_a",
        "tube_oil_temp_c",
        "detector_temp_c",
    )

    def setup(self, p: Array) -> None:
        self.fil0 = 4.2 + 0.6 * p[:, 0]
        self.anode0 = 1.8 + 0.4 * p[:, 1]
        self.jit0 = 0.15 + 0.1 * p[:, 2]
        self.oil0 = 26.0 + 4.0 * p[:, 3]
        self.det0 = 37.9 + 0.2 * p[:, 4]
        self.heat = np.full(self.n, 0.3)

    def forced_use(self, c: ChunkContext) -> Array | None:
        return np.where(c.during(WARMUP), 1.0, np.nan)

    def render(self, c: ChunkContext) -> dict[str, Array]:
        z = c.z
        use = c.in_use.astype(float)
        s_fil, s_arc, s_brg = c.sev[FILAMENT], c.sev[ARCING], c.sev[BEARING]
        warm = c.phase(WARMUP)
        heat = ema(self.heat, use, 45 * 60.0, c.dt)
        heat_shown = np.where(np.isnan(warm), heat, heat * np.nan_to_num(warm))
        oil = self.oil0 + 0.05 * c.room + 28.0 * heat_shown + 0.2 * z[:, :, 0]
        filament = self.fil0 + 0.03 * use - 0.6 * s_fil + 0.008 * z[:, :, 1]
        filament = np.where(c.failed_by[FILAMENT], 0.0, filament)
        per_min = c.dt / 60.0
        lam = use * (0.001 + 0.8 * s_arc) * per_min
        lam = lam + np.where(np.isnan(warm), 0.0, 0.35 * (1.0 - np.nan_to_num(warm))) * per_min
        arcs = poisson(c.u[:, :, 0], lam)
        anode = self.anode0 + 0.05 * use + 0.6 * s_brg + 0.02 * (1.0 + 4.0 * s_brg) * z[:, :, 2]
        jitter = self.jit0 * (1.0 + 0.3 * s_brg) + 0.005 * use
        jitter = jitter + 0.015 * (1.0 + 5.0 * s_brg) * z[:, :, 3]
        detector = self.det0 + 0.003 * c.room + 0.02 * z[:, :, 4]
        return {
            "filament_current_a": filament,
            "tube_arc_count": arcs,
            "anode_drive_current_a": anode,
            "gantry_rotation_jitter_ms": np.maximum(0.01, jitter),
            "tube_oil_temp_c": oil,
            "anode_heat_pct": 100.0 * heat_shown,
            "detector_temp_c": detector,
        }
