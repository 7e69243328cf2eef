"""``seasonal``: level plus a time-of-day profile (additive Holt-Winters on ts bins).

The prediction is ``level + profile(ts)``: ``profile`` holds one offset per bin
of the period (default 48 bins of a 86400 s day, placed by the timestamp, so
gaps and irregular sampling are fine) and is linearly interpolated between bin
centres; ``level`` is an EWMA of the de-seasonalised signal. The residual is
scored like ``robust_ewma`` (EW mean absolute deviation, Huber tail). Bins not
yet seen contribute nothing until their first visit (then they start from that
point's offset), so the first period is scored against the level alone.

Catches: values abnormal for the time of day (a scanner busy at 3 a.m., a
fridge compressor not cycling at noon), spikes, level shifts at onset,
variance increases, on signals with a daily utilisation cycle. Misses: slow
drifts (level and profile follow them), anomalies shorter than the noise,
weekly patterns (only one period is modelled). Anomalous points update level
and profile at ``slow`` times the normal rate and never the scale.

Early and after gaps it is conservative: a point is scored in proportion to
the interpolation weight on profile bins already visited (the first period is
not scored against a profile that cannot know it yet); after a gap the level's
uncertainty grows by the per-point wander learned from earlier gaps (it is
re-learned with a Kalman-like gain), and beyond the level's memory
(``exp(-alpha (g - 1))`` small for a gap of ``g`` typical intervals) the level
is re-learned as in warm-up.

State per stream: 12 + ``bins`` float64 (``n, level, mad, quantum, prev, pi,
beta``, the level's effective count, last time, typical interval, extra
variance and wander rate), 480 bytes with 48 bins.
"""

from __future__ import annotations

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
    update_interval,
    update_mad,
    update_quantum,
    update_tail,
    update_wander,
)
from htm_edge.models.errors import ModelError

__all__ = ["Seasonal"]


class Seasonal(ArrayDetector):
    """Seasonal (time-of-day) baseline with a robustly scored residual.

    Parameters
    ----------
    n_streams:
        Number of stream slots.
    period:
        Season length in seconds of ``ts`` (default one day).
    bins:
        Number of profile bins per period (at least 2).
    span:
        EWMA span of the level, in points.
    profile_rate:
        Learning rate of a bin's offset per visit (weighted by interpolation).
    **params:
        Shared parameters, see :data:`models.detectors._core.COMMON_PARAMS`.
    """

    type_name: ClassVar[str] = "seasonal"
    PARAMS: ClassVar[dict[str, Any]] = {
        **COMMON_PARAMS,
        "period": 86400.0,
        "bins": 48,
        "span": 30,
        "profile_rate": 0.2,
    }
    INIT: ClassVar[dict[str, float]] = TAIL_INIT
    FIELDS: ClassVar[tuple[str, ...]] = (
        "n", "level", "mad", "quantum", "prev", "pi", "beta", "k", "last", "dt", "v", "w",
    )  # fmt: skip

    def _configure(self) -> None:
        p = self.params
        if int(p["bins"]) != p["bins"] or p["bins"] < 2 or p["bins"] > 240:
            raise ModelError(f"seasonal: 'bins' must be an integer in [2, 240], got {p['bins']}")
        if p["period"] <= 0:
            raise ModelError(f"seasonal: 'period' must be positive, got {p['period']}")
        self._bins = int(p["bins"])
        self._alpha = span_alpha(p["span"])
        self._warm = float(p["warmup"])
        self._u = float(p["tail_u"])
        self._bin_per_s = self._bins / float(p["period"])

    def _block_spec(self) -> dict[str, tuple[int, float]]:
        return {"state": (len(self.FIELDS), 0.0), "profile": (self._bins, float("nan"))}

    def _cols(self, key: Key, m: int) -> Any:
        return np.arange(key.start, key.start + m) if isinstance(key, slice) else key

    def _compute(
        self, key: Key, st: FloatArray, x: FloatArray, ts: FloatArray, qx: FloatArray | None
    ) -> Ctx:
        n, level, mad, q = st[0], st[1], st[2], st[3]
        # the resolution seen up to this point, its own step included (the first step
        # of a so-far constant stream is one step of resolution, as far as it knows)
        q = update_quantum(q, n, x, st[4])
        if qx is not None:
            q = np.maximum(q, qx)
        pos = np.mod(ts * self._bin_per_s - 0.5, self._bins)
        f = np.floor(pos)
        w = pos - f
        i0 = f.astype(np.intp)
        i0[i0 >= self._bins] = 0  # guards the rounding of mod to exactly `bins`
        i1 = i0 + 1
        i1[i1 == self._bins] = 0
        cols = self._cols(key, x.shape[0])
        prof = self._blocks["profile"]
        p0, p1 = prof[i0, cols], prof[i1, cols]
        n0, n1 = np.isnan(p0), np.isnan(p1)
        q0 = np.where(n0, p1, p0)
        q1 = np.where(n1, p0, p1)
        pred = q0 + w * (q1 - q0)
        pred = np.where(np.isnan(pred), 0.0, pred)
        scale = floor_scale(mad, level + pred, q, self.params)
        r = x - level - pred
        # after a gap the level is uncertain (wander learned from earlier gaps, see
        # spike_level) and, beyond its memory, stale (re-learned as in warm-up); the
        # profile can only vouch for the times of day it has seen
        g = gap_steps(st[9], st[8], n, ts)
        f = staleness(g, self._alpha)
        k = st[7] * f
        v = st[10] + st[11] * np.maximum(g - 1.0, 0.0)
        z_raw = np.abs(r) / scale
        scale = scale * np.sqrt(1.0 + v)
        z = np.abs(r) / scale
        known = np.where(n0, 0.0, 1.0 - w) + np.where(n1, 0.0, w)
        s = pot_surprise(z, st[5], st[6], self._u) * (ramp(k, self._warm) * known)
        return {
            "s": s, "r": r, "z": z, "scale": scale, "pred": pred, "w": w,
            "i0": i0.astype(np.float64), "i1": i1.astype(np.float64), "p0": p0, "p1": p1,
            "k": k, "f": f, "q": q, "g": g, "v": v, "z_raw": z_raw,
        }  # fmt: skip

    def _update(
        self, key: Key, st: FloatArray, ctx: Ctx, x: FloatArray, ts: FloatArray,
        scores: FloatArray, valid: BoolArray | None,
    ) -> FloatArray:  # fmt: skip
        n = st[0]
        a, a_sc, anomalous = rates(n, self._alpha, scores, self.params, ctx["k"])
        v = ctx["v"]
        a = np.maximum(a, v / (v + 1.0))
        r = ctx["r"]
        f = ctx["f"] / (1.0 + v)
        st[1] += a * r
        # profile: offset of this point from the new level, shared by the two nearest bins
        e = x - st[1]
        ap = float(self.params["profile_rate"]) * np.where(
            anomalous, float(self.params["slow"]), 1.0
        )
        w, p0, p1 = ctx["w"], ctx["p0"], ctx["p1"]
        new0 = np.where(np.isnan(p0), e, p0 + (ap * (1.0 - w)) * (e - p0))
        new1 = np.where(np.isnan(p1), e, p1 + (ap * w) * (e - p1))
        if valid is not None:
            new0 = np.where(valid, new0, p0)
            new1 = np.where(valid, new1, p1)
        cols = self._cols(key, x.shape[0])
        prof = self._blocks["profile"]
        i0, i1 = ctx["i0"].astype(np.intp), ctx["i1"].astype(np.intp)
        prof[i0, cols] = new0
        prof[i1, cols] = new1
        # residuals against a stale level say nothing about the noise
        st[2] = update_mad(st[2], r, ctx["scale"], a_sc * f, n, self.params)
        st[3] = update_quantum(st[3], n, x, st[4])
        st[4] = x
        pi, beta = update_tail(st[5], st[6], ctx["z"], n, anomalous, self.params)
        fresh = f >= 0.5
        st[5] = np.where(fresh, pi, st[5])
        st[6] = np.where(fresh, beta, st[6])
        st[11] = update_wander(st[11], ctx["z_raw"], st[10], ctx["g"], anomalous, self.params)
        st[10] = v * (1.0 - a)
        st[9] = update_interval(st[9], st[8], n, ts)
        st[8] = ts
        st[7] = ctx["k"] + 1.0
        st[0] = n + 1.0
        return st
