"""``spike_level``: tells isolated spikes from level shifts.

Two statistics against a slow robust baseline ``m`` (EWMA of the running
median of three, so single spikes barely move it):

* *point*: ``z = |x - m| / sigma`` — any outlier, including one-point spikes;
* *level*: ``z3 = |median(x, x[-1], x[-2]) - m| / sigma`` — needs two of the
  last three points out, i.e. a deviation that persists. Under the healthy
  model ``P(median > t) ≈ 3 p(t)²``, so a 3.5 sigma shift lasting two points is
  as surprising as a 6 sigma spike.

The score is the larger of the level surprise and the point surprise
penalised by ``spike_penalty`` (a spike must be that many times rarer to
score the same), so persistent deviations outrank single spikes.
``detail_many`` reports both (``spike``, ``level``).

Catches: level shifts of 3-4 sigma within 2-3 points, persistent excursions,
large spikes (reported as such). Misses: slow drifts (use ``cusum``), small
spikes (by design), time-of-day anomalies. The baseline learns anomalous
points at ``slow`` times its rate, so a level shift is accepted after about
``span / slow`` points.

State per stream: 8 float64 (``n, m, mad, quantum, x[-1], x[-2], pi, beta``), 64 bytes.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from models.detectors._core import (
    COMMON_PARAMS,
    TAIL_INIT,
    ArrayDetector,
    BoolArray,
    Ctx,
    FloatArray,
    Key,
    floor_scale,
    pot_surprise,
    ramp,
    rates,
    span_alpha,
    surprise_to_score,
    update_mad,
    update_quantum,
    update_tail,
)

__all__ = ["SpikeLevel"]


class SpikeLevel(ArrayDetector):
    """Spike versus level-shift detector.

    Parameters
    ----------
    n_streams:
        Number of stream slots.
    span:
        EWMA span of the baseline, in points.
    spike_penalty:
        How many times rarer a lone spike must be than a level shift to score
        the same (>= 1).
    **params:
        Shared parameters, see :data:`models.detectors._core.COMMON_PARAMS`.
    """

    name: ClassVar[str] = "spike_level"
    PARAMS: ClassVar[dict[str, Any]] = {**COMMON_PARAMS, "span": 60, "spike_penalty": 10.0}
    INIT: ClassVar[dict[str, float]] = TAIL_INIT
    FIELDS: ClassVar[tuple[str, ...]] = ("n", "base", "mad", "quantum", "x1", "x2", "pi", "beta")

    def _configure(self) -> None:
        self._alpha = span_alpha(self.params["span"])
        self._warm = float(self.params["warmup"])
        self._u = float(self.params["tail_u"])
        self._log_pen = math.log(max(float(self.params["spike_penalty"]), 1.0))

    def _compute(self, key: Key, st: FloatArray, x: FloatArray, ts: FloatArray) -> Ctx:
        n, base, mad, q, x1, x2 = st[0], st[1], st[2], st[3], st[4], st[5]
        scale = floor_scale(mad, base, q, self.params)
        # running median of three; with fewer than two past points it is x itself
        med = np.maximum(np.minimum(x, x1), np.minimum(np.maximum(x, x1), x2))
        med = np.where(n >= 2, med, x)
        warm = ramp(n, self._warm)
        pi, beta = st[6], st[7]
        z = np.abs(x - base) / scale
        s_pt = pot_surprise(z, pi, beta, self._u) * warm
        s_med = pot_surprise(np.abs(med - base) / scale, pi, beta, self._u)
        s_lvl = np.maximum(2.0 * s_med - math.log(3.0), 0.0)
        s_lvl = s_lvl * warm
        s_spk = np.maximum(s_pt - self._log_pen, 0.0)
        return {
            "s": np.maximum(s_lvl, s_spk), "s_pt": s_pt, "s_lvl": s_lvl, "med": med,
            "scale": scale, "z": z,
        }  # fmt: skip

    def _detail(self, ctx: Ctx) -> dict[str, FloatArray]:
        w = float(self.params["multiplicity"])
        level = surprise_to_score(ctx["s_lvl"], w)
        point = surprise_to_score(ctx["s_pt"], w)
        return {"level": level, "spike": np.where(level < 0.5, point, 0.0)}

    def _update(
        self, key: Key, st: FloatArray, ctx: Ctx, x: FloatArray, ts: FloatArray,
        scores: FloatArray, valid: BoolArray | None,
    ) -> FloatArray:  # fmt: skip
        n = st[0]
        a, a_sc, anomalous = rates(n, self._alpha, scores, self.params)
        r = x - st[1]
        st[1] += a * (ctx["med"] - st[1])
        st[2] = update_mad(st[2], r, ctx["scale"], a_sc, n, self.params)
        st[3] = update_quantum(st[3], n, x, st[4])
        st[5] = st[4]
        st[4] = x
        st[6], st[7] = update_tail(st[6], st[7], ctx["z"], n, anomalous, self.params)
        st[0] = n + 1.0
        return st
