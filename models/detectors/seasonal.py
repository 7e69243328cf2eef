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

State per stream: 7 + ``bins`` float64, 440 bytes with 48 bins.
"""

from __future__ import annotations

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
    update_mad,
    update_quantum,
    update_tail,
)
from models.errors import ModelError

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

    name: ClassVar[str] = "seasonal"
    PARAMS: ClassVar[dict[str, Any]] = {
        **COMMON_PARAMS,
        "period": 86400.0,
        "bins": 48,
        "span": 30,
        "profile_rate": 0.2,
    }
    INIT: ClassVar[dict[str, float]] = TAIL_INIT
    FIELDS: ClassVar[tuple[str, ...]] = ("n", "level", "mad", "quantum", "prev", "pi", "beta")

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

    def _compute(self, key: Key, st: FloatArray, x: FloatArray, ts: FloatArray) -> Ctx:
        n, level, mad, q = st[0], st[1], st[2], st[3]
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
        z = np.abs(r) / scale
        s = pot_surprise(z, st[5], st[6], self._u) * ramp(n, self._warm)
        return {
            "s": s, "r": r, "z": z, "scale": scale, "pred": pred, "w": w,
            "i0": i0.astype(np.float64), "i1": i1.astype(np.float64), "p0": p0, "p1": p1,
        }  # fmt: skip

    def _update(
        self, key: Key, st: FloatArray, ctx: Ctx, x: FloatArray, ts: FloatArray,
        scores: FloatArray, valid: BoolArray | None,
    ) -> FloatArray:  # fmt: skip
        n = st[0]
        a, a_sc, anomalous = rates(n, self._alpha, scores, self.params)
        r = ctx["r"]
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
        st[2] = update_mad(st[2], r, ctx["scale"], a_sc, n, self.params)
        st[3] = update_quantum(st[3], n, x, st[4])
        st[4] = x
        st[5], st[6] = update_tail(st[5], st[6], ctx["z"], n, anomalous, self.params)
        st[0] = n + 1.0
        return st
