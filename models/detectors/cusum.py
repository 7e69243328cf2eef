"""``cusum``: two-sided CUSUM for slow drifts and small persistent shifts.

Residuals ``z = (x - ref) / sigma`` against a slow reference (a running mean at
first, then an EWMA of span ``span``) are winsorised at ±``zclip`` (so a lone
spike adds little) and accumulated as ``S+ = max(0, S+ + z - k)`` and
``S- = max(0, S- - z - k)``. Under the healthy model the CUSUM statistic has
an exponential tail, ``P(S > h) ≈ exp(-2 k h)`` (Siegmund), which gives the
surprise ``2 k max(S+, S-)``.

When the score of its own statistic crosses ``alarm`` (0.99 by default) the
sums reset to 0 and the reference jumps to a short EWMA of the recent values:
the reference then learns the new regime as a running mean, and the sums
restart after ``warmup / 2`` points. A one-off level change is accepted after
one alarm, while a degradation that keeps drifting keeps raising alarms,
about every ``sqrt(2 h / v)`` points for a drift of ``v`` sigma per point.

Catches: slow drifts relative to the long-term baseline (bearing wear,
filter clogging, battery fade), small sustained shifts (0.5-2 sigma). Misses:
isolated spikes (by design), changes of variance without a change of mean,
shifts of a single resolution step of a quantised signal (the scale is floored
at ``quantum / k``, since such a step may be a sub-resolution move);
reacts within a few points only to large shifts. The scale is the long-term
variability around the reference, so wandering signals are judged against
their own wander. Autocorrelated residuals (random-walk-like signals, imperfect
seasonal removal) inflate the statistic itself; its long-run mean, compared with
the i.i.d. Gaussian value (1.03 for ``k = 0.5``), divides the surprise so such
streams keep a low false-alarm rate (at the cost of slower drift detection on them).

State per stream: 10 float64 (``n, ref, mad, fast, S+, S-, quantum, prev, mean S,
age``), 80 bytes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from htm_edge.models.detectors._core import (
    COMMON_PARAMS,
    ArrayDetector,
    BoolArray,
    Ctx,
    FloatArray,
    Key,
    floor_scale,
    ramp,
    rates,
    score_to_surprise,
    span_alpha,
    update_mad,
    update_quantum,
)
from htm_edge.models.errors import ModelError

__all__ = ["Cusum"]

#: mean of max(S+, S-) for i.i.d. Gaussian residuals and k = 0.5 (simulated)
_NULL_MEAN_S = 1.03


class Cusum(ArrayDetector):
    """Two-sided CUSUM on robustly standardised residuals, with reset after alarm.

    Parameters
    ----------
    n_streams:
        Number of stream slots.
    span:
        EWMA span of the reference, in points.
    fast_span:
        EWMA span of the recent level the reference jumps to after an alarm.
    k:
        Allowance in sigmas (half the smallest shift worth detecting).
    zclip:
        Winsorisation of standardised residuals before accumulation.
    alarm:
        Own score at which the sums reset and the reference re-baselines.
    null_span:
        Points over which the healthy mean of the statistic is learned.
    **params:
        Shared parameters, see :data:`models.detectors._core.COMMON_PARAMS`.
    """

    type_name: ClassVar[str] = "cusum"
    PARAMS: ClassVar[dict[str, Any]] = {
        **COMMON_PARAMS,
        "warmup": 60,
        "span": 500,
        "fast_span": 10,
        "k": 0.5,
        "zclip": 4.0,
        "alarm": 0.99,
        "null_span": 300,
    }
    FIELDS: ClassVar[tuple[str, ...]] = (
        "n", "ref", "mad", "fast", "sp", "sn", "quantum", "prev", "mean_s", "age",
    )  # fmt: skip
    INIT: ClassVar[dict[str, float]] = {"mean_s": _NULL_MEAN_S}

    def _configure(self) -> None:
        p = self.params
        if not 0.0 < p["alarm"] < 1.0 or p["k"] <= 0 or p["zclip"] <= p["k"]:
            raise ModelError("cusum: need 0 < alarm < 1, k > 0 and zclip > k")
        self._alpha = span_alpha(p["span"])
        self._fast = span_alpha(p["fast_span"])
        self._warm = float(p["warmup"])
        self._k = float(p["k"])
        self._rewarm = 0.5 * self._warm
        self._rate_m = 1.0 / float(p["null_span"])
        self._slow_m = self._rate_m * float(p["slow"])
        self._s_alarm = score_to_surprise(float(p["alarm"]), float(p["multiplicity"]))

    def _compute(
        self, key: Key, st: FloatArray, x: FloatArray, ts: FloatArray, qx: FloatArray | None
    ) -> Ctx:
        n, ref, mad, q = st[0], st[1], st[2], st[6]
        # the resolution seen up to this point, its own step included (the first step
        # of a so-far constant stream is one step of resolution, as far as it knows)
        q = update_quantum(q, n, x, st[7])
        if qx is not None:
            q = np.maximum(q, qx)
        # a shift of one resolution step may be a move smaller than the resolution:
        # the floor puts it at the allowance k, so it never accumulates
        scale = np.maximum(floor_scale(mad, ref, q, self.params), q * (1.0 / self._k))
        r = x - ref
        zc = float(self.params["zclip"])
        z = np.clip(r / scale, -zc, zc)
        # sums start once the reference and scale are settled (again, after a reset)
        on = (n >= self._warm) & (st[9] >= self._rewarm)
        sp = np.where(on, np.maximum(st[4] + z - self._k, 0.0), 0.0)
        sn = np.where(on, np.maximum(st[5] - z - self._k, 0.0), 0.0)
        smax = np.maximum(sp, sn)
        # residuals that are autocorrelated (wandering signals) inflate S; its long-run
        # mean against the i.i.d. value rescales the tail so they keep their alarm rate
        infl = np.maximum(st[8] * (1.0 / _NULL_MEAN_S), 1.0)
        s = ((2.0 * self._k) * smax / infl) * ramp(n, self._warm)
        return {"s": s, "r": r, "scale": scale, "sp": sp, "sn": sn, "smax": smax}

    def _update(
        self, key: Key, st: FloatArray, ctx: Ctx, x: FloatArray, ts: FloatArray,
        scores: FloatArray, valid: BoolArray | None,
    ) -> FloatArray:  # fmt: skip
        n = st[0]
        a, a_sc, anomalous = rates(n, self._alpha, scores, self.params)
        r = ctx["r"]
        fast = st[3] + np.maximum(self._fast, 1.0 / (n + 1.0)) * (x - st[3])
        alarm = ctx["s"] >= self._s_alarm + self.alarm_offset
        age = st[9]
        # after a reset the reference is a running mean of the new regime for a while
        a_ref = np.maximum(a, np.where(age < n, 1.0 / (age + 1.0), 0.0))
        st[1] = np.where(alarm, fast, st[1] + a_ref * r)
        st[9] = np.where(alarm, 1.0, age + 1.0)
        st[2] = update_mad(st[2], r, ctx["scale"], a_sc, n, self.params)
        st[3] = fast
        st[4] = np.where(alarm, 0.0, ctx["sp"])
        st[5] = np.where(alarm, 0.0, ctx["sn"])
        st[6] = update_quantum(st[6], n, x, st[7])
        st[7] = x
        a_m = np.where(n >= self._warm, np.where(anomalous, self._slow_m, self._rate_m), 0.0)
        st[8] += a_m * (ctx["smax"] - st[8])
        st[0] = n + 1.0
        return st
