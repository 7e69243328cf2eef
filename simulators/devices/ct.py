"""CT scanner: X-ray tube (filament, arcs, anode drive), gantry and detector.

Healthy behaviour: scanning sessions follow the daytime workload; tube oil
temperature follows a 45-minute moving average of scanning (the heat load);
arcs are rare Poisson events during exposures; the detector is regulated
within a few hundredths of a degree.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.core import DeviceModel, StepContext, poisson_quantile

__all__ = ["CtModel"]

FILAMENT = "CT.TUBE.FILAMENT_WEAR"
ARCING = "CT.TUBE.ARCING"
BEARING = "CT.ANODE.BEARING_WEAR"
WARMUP = "CT.EVENT.COLD_TUBE_WARMUP"

_ARC_RATE_HEALTHY = 0.001  # arcs per scanning sample
_ARC_RATE_FAILING = 0.8


class CtModel(DeviceModel):
    """CT tube, gantry and detector (see module docstring)."""

    modality: ClassVar[Modality] = Modality.CT
    N_NORMAL: ClassVar[int] = 5
    N_UNIFORM: ClassVar[int] = 1
    UTIL_DAY: ClassVar[float] = 0.6
    UTIL_NIGHT: ClassVar[float] = 0.12
    SESSION_MEAN_S: ClassVar[float] = 15 * 60.0

    def _init_state(self, rng: np.random.Generator) -> None:
        p = rng.random(5)
        self.fil0 = 4.2 + 0.6 * p[0]
        self.anode0 = 1.8 + 0.4 * p[1]
        self.jit0 = 0.15 + 0.1 * p[2]
        self.oil0 = 26.0 + 4.0 * p[3]
        self.det0 = 37.9 + 0.2 * p[4]
        self.heat = 0.3

    def _forced_use(self) -> bool | None:
        return True if self.event_phase(WARMUP) is not None else None

    def _values(self, ctx: StepContext, z: np.ndarray, u: np.ndarray) -> dict[str, float]:
        use = 1.0 if ctx.in_use else 0.0
        warmup = self.event_phase(WARMUP)
        s_fil = self.sev(FILAMENT)
        s_arc = self.sev(ARCING)
        s_brg = self.sev(BEARING)

        self.heat += (use - self.heat) * -math.expm1(-ctx.dt / (45 * 60.0))
        heat = self.heat if warmup is None else self.heat * warmup
        oil = self.oil0 + 0.5 * ctx.ambient + 28.0 * heat + 0.2 * float(z[0])

        filament = self.fil0 + 0.03 * use - 0.6 * s_fil + 0.008 * float(z[1])
        if self.failed_by(FILAMENT):
            filament = 0.0

        lam = use * (_ARC_RATE_HEALTHY + _ARC_RATE_FAILING * s_arc)
        if warmup is not None:
            lam += 0.35 * (1.0 - warmup)
        arcs = float(poisson_quantile(float(u[0]), lam))

        anode = self.anode0 + 0.05 * use + 0.6 * s_brg + 0.02 * (1.0 + 4.0 * s_brg) * float(z[2])
        jitter = (
            self.jit0 * (1.0 + 0.3 * s_brg)
            + 0.005 * use
            + 0.015 * (1.0 + 5.0 * s_brg) * float(z[3])
        )
        detector = self.det0 + 0.03 * ctx.ambient + 0.02 * float(z[4])
        return {
            "filament_current_a": filament,
            "tube_arc_count": arcs,
            "anode_drive_current_a": anode,
            "gantry_rotation_jitter_ms": max(0.01, jitter),
            "tube_oil_temp_c": oil,
            "anode_heat_pct": 100.0 * heat,
            "detector_temp_c": detector,
        }
