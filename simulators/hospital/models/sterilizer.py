"""Steam sterilizer (autoclave, 134 °C / 3.5 min cycles).

A cycle is a use session; its summary (hold-phase chamber temperature and
absolute pressure, temperature minus the saturated-steam value for that
pressure, vacuum pull-down time, cycle time) is reported at its end. The
vacuum leak test and the Bowie-Dick test run at 06:00 every day. Pressure
follows the steam table near 134 °C (304 kPa, +10.5 kPa/°C).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.hospital.model import Array, ChunkContext, VectorModel, daily_at

__all__ = ["SterilizerVector"]

GASKET = "STER.DOOR_GASKET.WEAR"
VACUUM = "STER.VACUUM_PUMP.WEAR"
VALVE = "STER.STEAM_VALVE.DEGRADATION"
BEDDING = "STER.EVENT.NEW_GASKET_BEDDING_IN"


class SterilizerVector(VectorModel):
    """Steam sterilizer (see module docstring)."""

    modality: ClassVar[Modality] = Modality.STERILIZER
    N_NORMAL: ClassVar[int] = 6
    N_PERSONAL: ClassVar[int] = 6
    STEP_SIGNALS: ClassVar[tuple[str, ...]] = (
        "chamber_temp_c",
        "chamber_pressure_kpa",
        "vacuum_pulldown_s",
        "leak_rate_mbar_min",
    )

    def setup(self, p: Array) -> None:
        self.temp0 = 134.5 + 0.6 * p[:, 0]
        self.dev0 = -0.15 + 0.3 * p[:, 1]
        self.pull0 = 95.0 + 30.0 * p[:, 2]
        self.cycle0 = 44.0 + 8.0 * p[:, 3]
        self.leak0 = 0.15 + 0.35 * p[:, 4]
        self.was_running = np.zeros(self.n, dtype=bool)

    def render(self, c: ChunkContext) -> dict[str, Array]:
        z = c.z
        run = c.in_use
        prev = np.vstack([self.was_running[None, :], run[:-1]])
        self.was_running = run[-1].copy()
        end = prev & ~run
        s_g, s_v, s_s = c.sev[GASKET], c.sev[VACUUM], c.sev[VALVE]
        temp = self.temp0 - 0.8 * s_s + 0.1 * (1.0 + 4.0 * s_s) * z[:, :, 0]
        pressure = 304.0 + 10.5 * (temp - 134.0) + 0.6 * (1.0 + 4.0 * s_s) * z[:, :, 1]
        deviation = self.dev0 - 0.8 * s_g + 0.08 * z[:, :, 2]
        pull = self.pull0 + 0.5 * c.room + 120.0 * s_v + 4.0 * z[:, :, 3]
        cycle = self.cycle0 + 0.075 * (pull - self.pull0) + 0.6 * z[:, :, 4]
        bedding = c.phase(BEDDING)
        settle = np.where(np.isnan(bedding), 0.0, 0.5 * (1.0 - np.nan_to_num(bedding)))
        leak = np.maximum(0.0, self.leak0 + 2.2 * s_g + settle + 0.05 * z[:, :, 5])
        morning = np.broadcast_to(daily_at(c, 6.0)[:, None], run.shape)
        bowie = np.where((s_g > 0.7) | c.failed_by[GASKET], 1.0, 0.0)  # the last tenth
        nan = np.nan
        return {
            "chamber_temp_c": np.where(end, temp, nan),
            "chamber_pressure_kpa": np.where(end, pressure, nan),
            "steam_temp_deviation_c": np.where(end, deviation, nan),
            "vacuum_pulldown_s": np.where(end, pull, nan),
            "cycle_time_min": np.where(end, cycle, nan),
            "leak_rate_mbar_min": np.where(morning, leak, nan),
            "bowie_dick_code": np.where(morning, bowie, nan),
        }
