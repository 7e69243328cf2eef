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

The level statistic's ``3 p²`` holds for independent points; for smooth or
wandering signals whose residuals move together it tends to ``p``, so the
exponent follows the residuals' lag-one correlation (learned over
``corr_span`` points, slowly from anomalous ones so a drift in progress does
not teach it that drifting is normal).

After a gap of ``g`` typical sampling intervals the baseline is uncertain: its
variance grows by ``g - 1`` times the per-point wander learned from earlier
gaps (then it shrinks again as the baseline re-learns, with a Kalman-like
gain), and when ``g`` exceeds its memory (``exp(-alpha (g - 1))`` small) it is
stale and re-learned from the points after the gap, as in warm-up.

State per stream: 16 float64 (``n, m, mad, quantum, x[-1], x[-2], pi, beta``, the
baseline's effective count, last time, typical interval, extra variance and
wander rate, last residual and two correlation moments), 128 bytes.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from htm_edge.models.detectors._core import (
    COMMON_PARAMS,
    TAIL_INIT,
    ArrayDetector,
    BoolArray,
    Ctx,
    FloatArray,
    Key,
    floor_scale,
    gap_steps,
    pot_surprise,
    ramp,
    rates,
    span_alpha,
    staleness,
    surprise_to_score,
    update_interval,
    update_mad,
    update_quantum,
    update_tail,
    update_wander,
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

    type_name: ClassVar[str] = "spike_level"
    PARAMS: ClassVar[dict[str, Any]] = {
        **COMMON_PARAMS,
        "span": 60,
        "spike_penalty": 10.0,
        "corr_span": 500,
    }
    INIT: ClassVar[dict[str, float]] = TAIL_INIT
    FIELDS: ClassVar[tuple[str, ...]] = (
        "n", "base", "mad", "quantum", "x1", "x2", "pi", "beta", "k", "last", "dt", "v", "w",
        "u1", "c1", "c0",
    )  # fmt: skip

    def _configure(self) -> None:
        self._alpha = span_alpha(self.params["span"])
        self._warm = float(self.params["warmup"])
        self._u = float(self.params["tail_u"])
        self._log_pen = math.log(max(float(self.params["spike_penalty"]), 1.0))
        self._corr_rate = 1.0 / max(float(self.params["corr_span"]), 1.0)

    def _compute(
        self, key: Key, st: FloatArray, x: FloatArray, ts: FloatArray, qx: FloatArray | None
    ) -> Ctx:
        n, base, mad, q, x1, x2 = st[0], st[1], st[2], st[3], st[4], st[5]
        # the resolution seen up to this point, its own step included (the first step
        # of a so-far constant stream is one step of resolution, as far as it knows)
        q = update_quantum(q, n, x, st[4])
        if qx is not None:
            q = np.maximum(q, qx)
        scale = floor_scale(mad, base, q, self.params)
        # after a gap the baseline is uncertain: by the wander learned from earlier gaps
        # (extra variance v, in squared scales, decaying as the baseline re-learns) and,
        # beyond its memory, stale: its weight k decays and it is re-learned as in warm-up
        g = gap_steps(st[10], st[9], n, ts)
        f = staleness(g, self._alpha)
        k = st[8] * f
        v = st[11] + st[12] * np.maximum(g - 1.0, 0.0)
        stale = (f < 0.5) | (v > 1.0)
        x1 = np.where(stale, x, x1)
        x2 = np.where(stale, x, x2)
        z_raw = np.abs(x - base) / scale
        scale = scale * np.sqrt(1.0 + v)
        # running median of three; with fewer than two past points it is x itself
        med = np.maximum(np.minimum(x, x1), np.minimum(np.maximum(x, x1), x2))
        med = np.where(n >= 2, med, x)
        warm = ramp(k, self._warm)
        pi, beta = st[6], st[7]
        z = np.abs(x - base) / scale
        s_pt = pot_surprise(z, pi, beta, self._u) * warm
        s_med = pot_surprise(np.abs(med - base) / scale, pi, beta, self._u)
        # P(median of three > t) is 3 p(t)^2 for independent points but p(t) when
        # successive residuals move together (smooth or wandering signals): the
        # exponent follows the residuals' lag-one correlation rho
        rho = np.clip(st[14] / np.maximum(st[15], 1e-12), 0.0, 1.0)
        s_lvl = np.maximum((2.0 - rho) * s_med - (1.0 - rho) * math.log(3.0), 0.0)
        s_lvl = s_lvl * warm
        s_spk = np.maximum(s_pt - self._log_pen, 0.0)
        return {
            "s": np.maximum(s_lvl, s_spk), "s_pt": s_pt, "s_lvl": s_lvl, "med": med,
            "scale": scale, "z": z, "k": k, "f": f, "g": g, "v": v, "z_raw": z_raw,
            "u": np.clip((x - base) / scale, -4.0, 4.0),
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
        a, a_sc, anomalous = rates(n, self._alpha, scores, self.params, ctx["k"])
        # the baseline's extra uncertainty v sets its gain (Kalman-like) and decays with it
        v = ctx["v"]
        a = np.maximum(a, v / (v + 1.0))
        # residuals against a stale or uncertain baseline say nothing about the noise:
        # the scale and tail learn from them only when the baseline is fresh
        f = ctx["f"]
        fresh = (f >= 0.5) & (v <= 1.0)
        r = x - st[1]
        st[1] += a * (ctx["med"] - st[1])
        st[2] = update_mad(st[2], r, ctx["scale"], a_sc * f / (1.0 + v), n, self.params)
        st[3] = update_quantum(st[3], n, x, st[4])
        st[5] = st[4]
        st[4] = x
        pi, beta = update_tail(st[6], st[7], ctx["z"], n, anomalous, self.params)
        st[6] = np.where(fresh, pi, st[6])
        st[7] = np.where(fresh, beta, st[7])
        st[12] = update_wander(st[12], ctx["z_raw"], st[11], ctx["g"], anomalous, self.params)
        st[11] = v * (1.0 - a)
        # lag-one autocorrelation of the (winsorised, standardised) residuals
        u = ctx["u"]
        # (learned slowly, and more slowly still from anomalous points, so that a drift
        # in progress does not teach the detector that drifting is normal)
        a_c = np.maximum(self._corr_rate, 1.0 / (n + 1.0)) * np.where(
            anomalous, float(self.params["slow"]), 1.0
        )
        a_c = np.where(fresh & (n >= 1), a_c, 0.0)
        st[14] += a_c * (u * st[13] - st[14])
        st[15] += a_c * (u * u - st[15])
        st[13] = np.where(fresh, u, 0.0)
        st[10] = update_interval(st[10], st[9], n, ts)
        st[9] = ts
        st[8] = ctx["k"] + 1.0
        st[0] = n + 1.0
        return st
