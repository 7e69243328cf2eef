"""Defibrillator: the automatic daily self-test (03:00 local) is all it reports, with use.

The self-test charges to 200 J into the internal test load: charge time,
delivered-energy error, test-load impedance and battery capacity, plus the
fitted pads' days to expiry and a result code (0 pass, 1 warning, 2 fail).
Expired pads give a warning (a date, not wear) until staff fit new pads,
three days later, good for 730 days. A resuscitation (the look-alike) drains
the battery: the next self-tests see a longer charge and a lower capacity.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from htm_edge.config.inventory import Modality
from htm_edge.simulators.hospital.model import Array, ChunkContext, VectorModel, daily_at, hold

__all__ = ["DefibVector"]

BATTERY = "DEFIB.BATTERY.FADE"
CAPACITOR = "DEFIB.HV_CAPACITOR.DEGRADATION"
CABLE = "DEFIB.THERAPY_CABLE.INTERMITTENT"
CLINICAL = "DEFIB.EVENT.CLINICAL_USE"
_DAY = 86_400.0
_PADS_LIFE_D = 730.0
_PADS_REFIT_D = 3.0


class DefibVector(VectorModel):
    """Defibrillator (see module docstring)."""

    modality: ClassVar[Modality] = Modality.DEFIBRILLATOR
    N_NORMAL: ClassVar[int] = 4
    N_UNIFORM: ClassVar[int] = 2
    N_PERSONAL: ClassVar[int] = 5
    STEP_SIGNALS: ClassVar[tuple[str, ...]] = ("charge_time_s", "energy_error_pct")

    def setup(self, p: Array) -> None:
        self.cap0 = 88.0 + 10.0 * p[:, 0]
        self.charge0 = 4.5 + 1.5 * p[:, 1]
        self.energy0 = -1.5 + 3.0 * p[:, 2]
        self.imp0 = 48.5 + 3.0 * p[:, 3]
        self.pads_left_d = 30.0 + 700.0 * p[:, 4]  # at the first chunk
        self.pads_expiry: Array | None = None
        self.last_use = np.full(self.n, -1e18)

    def forced_use(self, c: ChunkContext) -> Array | None:
        return np.where(c.during(CLINICAL), 1.0, np.nan)

    def _pads_days(self, ts: Array) -> Array:
        if self.pads_expiry is None:
            self.pads_expiry = ts[0] + self.pads_left_d * _DAY
        expiry = np.broadcast_to(self.pads_expiry, (ts.shape[0], self.n)).copy()
        for d in np.flatnonzero(ts[-1] >= self.pads_expiry + _PADS_REFIT_D * _DAY):
            refit = self.pads_expiry[d] + _PADS_REFIT_D * _DAY
            k = int(np.searchsorted(ts, refit))
            self.pads_expiry[d] = refit + _PADS_LIFE_D * _DAY
            expiry[k:, d] = self.pads_expiry[d]
        return np.floor((expiry - ts[:, None]) / _DAY)

    def render(self, c: ChunkContext) -> dict[str, Array]:
        z, u = c.z, c.u
        s_bat, s_cap, s_cab = c.sev[BATTERY], c.sev[CAPACITOR], c.sev[CABLE]
        last = hold(
            self.last_use, c.during(CLINICAL), np.broadcast_to(c.ts[:, None], c.sev[BATTERY].shape)
        )
        drain = np.exp(-np.maximum(0.0, c.ts[:, None] - last) / (1.5 * _DAY))
        test = np.broadcast_to(daily_at(c, 3.0)[:, None], drain.shape)
        cap = self.cap0 - 40.0 * s_bat - 15.0 * drain + 1.0 * z[:, :, 0]
        charge = self.charge0 + 6.0 * s_bat + 2.0 * drain
        charge = charge + 0.15 * (1.0 + 3.0 * s_cap) * z[:, :, 1]
        energy = self.energy0 - 14.0 * s_cap + 0.8 * z[:, :, 2]
        jump = u[:, :, 0] < 0.01 + 0.6 * s_cab
        impedance = self.imp0 + 3.0 * s_cab + 0.3 * z[:, :, 3]
        impedance = impedance + np.where(jump, 10.0 + 30.0 * u[:, :, 1], 0.0)
        pads = self._pads_days(c.ts)
        code = np.zeros_like(cap)
        code = np.where(pads < 0, 1.0, code)
        code = np.where(s_bat > 0.5, 1.0, code)  # the last fifth of the course
        code = np.where((s_cab > 0.5) | ((s_cab > 0.2) & (impedance > self.imp0 + 25.0)), 1.0, code)
        code = np.where(c.failed, 2.0, code)
        nan = np.nan
        return {
            "self_test_code": np.where(test, code, nan),
            "defib_battery_capacity_pct": np.where(test, np.clip(cap, 0.0, 100.0), nan),
            "charge_time_s": np.where(test, np.maximum(1.0, charge), nan),
            "energy_error_pct": np.where(test, energy, nan),
            "test_load_impedance_ohm": np.where(test, impedance, nan),
            "pads_days_to_expiry": np.where(test, pads, nan),
        }
