"""``drift``: EWMA control chart for slow drifts, small persistent shifts and variance growth.

Two statistics against slow, long-memory references learned only from points
judged normal (so a degradation in progress is not absorbed):

* *level*: ``D = y - ref``, where ``y`` is an EWMA of the signal (span
  ``span`` points) and ``ref`` the long-term healthy level (a running mean at
  first, then an EWMA with a half-life of ``ref_half_life_s`` seconds of
  sampled time) — Roberts' EWMA chart;
* *spread*: ``U - mu``, where ``U`` is an EWMA of the winsorised absolute
  residual ``|x - y| / sigma`` (``sigma`` the long-term noise scale) and ``mu``
  its long-term healthy mean; only growth of the spread counts.

The spread of each statistic under healthy operation is not taken from a
formula but estimated from the statistic's own history on normal points
(an EW mean square, winsorised), floored by the i.i.d. value
``sigma * sqrt(lambda / (2 - lambda))``. Autocorrelated residuals, a daily
cycle the seasonal profile has not yet captured, or a wandering level thus
widen the chart honestly instead of raising alarms. The tail is Gaussian near
the centre and exponential beyond 3 (see :func:`tail_surprise`); the larger of
the two surprises is the component's.

Unlike ``cusum`` there is no reset after an alarm: while a drift goes on the
statistic stays beyond its limit, so scores stay high and an alert stays
justified. Anomalous points move the references only at the *acceptance* rate
(half-life ``accept_half_life_s`` of sampled time), and never the spreads at
more than ``slow`` times their rate: a level change that stops is accepted as
the new normal after a few acceptance half-lives, while a drift faster than
about ``limit / accept time constant`` stays flagged for as long as it lasts.
Half-lives are in seconds and turned into per-point rates with the stream's
typical sampling interval, so they do not depend on the sampling rate, and a
stream that pauses (keyed by operating state) does not forget during the pause.

Warm-up counts the stream's own points, not wall time: nothing is scored
before ``warmup / 4`` points, full sensitivity is reached at ``warmup``
points, and the spread estimates are inflated by ``1 + warmup / n`` while
they have seen few points. After a gap ``y`` is re-learned (its effective
count decays like an EWMA's memory) and the level statistic is damped until
``y`` has seen ``span`` points again.

Catches: slow drifts against the long-term baseline (wear, fouling, leaks,
sensor offset drift, battery fade), small sustained shifts (about a third of
the noise sigma and up, after about ``span`` points), sustained growth of the
noise (variance increase). Misses: isolated spikes and short excursions (by
design; ``seasonal`` and ``spike_level`` see them), drifts slower than the
healthy wander of the signal over days, shrinking variance, changes smaller
than one resolution step, and any drift within the first ``warmup / 4`` points
of a stream (it becomes part of the baseline). A degradation that stalls for
longer than a few acceptance half-lives is accepted.

State per stream: 13 float64 (``n, ref, y, var_d, mad, quantum, prev, last,
dt, U, mu, var_u``, effective count of ``y``), 104 bytes.
"""

from __future__ import annotations

import math
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
    gap_steps,
    ramp,
    span_alpha,
    staleness,
    tail_surprise,
    update_interval,
    update_quantum,
)
from htm_edge.models.errors import ModelError

__all__ = ["Drift"]

_LN2 = math.log(2.0)
_TINY = 1e-200


class Drift(ArrayDetector):
    """EWMA chart of level and spread against long-term healthy references.

    Parameters
    ----------
    n_streams:
        Number of stream slots.
    span:
        EWMA span (points) of the smoothed level ``y`` and spread ``U``.
    ref_half_life_s:
        Half-life (seconds of sampled time) of the healthy references, learned
        from normal points.
    accept_half_life_s:
        Half-life at which anomalous points move the references (how fast a
        level change that stops is accepted).
    zclip:
        Points whose statistic lies beyond ``zclip`` of its spread do not teach it.
    **params:
        Shared parameters, see :data:`models.detectors._core.COMMON_PARAMS`.
    """

    type_name: ClassVar[str] = "drift"
    PARAMS: ClassVar[dict[str, Any]] = {
        **COMMON_PARAMS,
        "warmup": 240,
        "warmup_s": 86400.0,
        "span": 60,
        "ref_half_life_s": 2 * 86400.0,
        "accept_half_life_s": 6 * 3600.0,
        "zclip": 2.0,
    }
    FIELDS: ClassVar[tuple[str, ...]] = (
        "n", "ref", "y", "var_d", "mad", "quantum", "prev", "last", "dt", "k",
    )  # fmt: skip

    def _configure(self) -> None:
        p = self.params
        if p["span"] < 1 or p["ref_half_life_s"] <= 0 or p["accept_half_life_s"] <= 0:
            raise ModelError("drift: need span >= 1 and positive half-lives")
        if p["zclip"] <= 1:
            raise ModelError("drift: need zclip > 1")
        lam = span_alpha(p["span"])
        self._lam = lam
        self._span = float(p["span"])
        self._iid = math.sqrt(lam / (2.0 - lam))
        self._warm = float(p["warmup"])
        self._warm_s = float(p["warmup_s"])
        self._c_ref = _LN2 / float(p["ref_half_life_s"])
        self._c_acc = _LN2 / float(p["accept_half_life_s"])
        zc = float(p["zclip"])
        self._zc2 = zc * zc
        # E[Z^2 | |Z| <= zc] of a standard Gaussian, to undo the truncation
        phi = math.exp(-0.5 * zc * zc) / math.sqrt(2.0 * math.pi)
        self._trunc = 1.0 / (1.0 - 2.0 * zc * phi / math.erf(zc / math.sqrt(2.0)))

    def _compute(
        self, key: Key, st: FloatArray, x: FloatArray, ts: FloatArray, qx: FloatArray | None
    ) -> Ctx:
        n, ref, y, mad = st[0], st[1], st[2], st[4]
        q = update_quantum(st[5], n, x, st[6])
        if qx is not None:
            q = np.maximum(q, qx)
        sigma = floor_scale(mad, ref, q, self.params)
        # after a gap the smoothed level is stale: it is re-learned (Kalman-like gain)
        g = gap_steps(st[8], st[7], n, ts)
        k = st[9] * staleness(g, self._lam)
        a_y = np.maximum(self._lam, 1.0 / (k + 1.0))
        e = x - y
        # winsorised (Huber-type EWMA): a lone spike moves y by at most lambda * clip sigmas;
        # not while y is being (re-)learned
        lim = np.where(k >= self._span, float(self.params["clip"]) * sigma, np.inf)
        y_new = np.where(n > 0, y + a_y * np.clip(e, -lim, lim), x)
        d = y_new - ref
        # spread of D: empirical (own history), floored by the i.i.d. value and by the
        # resolution, inflated while it rests on few points
        # sampled time: the stream's own points times its typical interval (not wall time,
        # so a stream that only exists while a device is in use warms up on its own data)
        seen = n * np.maximum(st[8], 0.0)
        infl = 1.0 + self._warm / np.maximum(n, 1.0) + self._warm_s / np.maximum(seen, 1.0)
        floor_d = np.maximum(self._iid * sigma, float(self.params["quantum_factor"]) * q)
        var_d = np.maximum(st[3], floor_d * floor_d) * infl
        z_d = np.abs(d) / np.sqrt(var_d)
        warm = ramp(n, self._warm) * ramp(seen, self._warm_s) * ramp(k, self._span)
        s = tail_surprise(z_d) * warm
        return {"s": s, "d": d, "y": y_new, "e": e, "sigma": sigma, "var_d": var_d, "k": k}

    def _detail(self, ctx: Ctx) -> dict[str, FloatArray]:
        return {"drift_z": ctx["d"] / np.sqrt(ctx["var_d"])}

    def _update(
        self, key: Key, st: FloatArray, ctx: Ctx, x: FloatArray, ts: FloatArray,
        scores: FloatArray, valid: BoolArray | None,
    ) -> FloatArray:  # fmt: skip
        p = self.params
        n = st[0]
        anomalous = scores >= float(p["learn_threshold"])
        dt = np.maximum(st[8], 0.0)
        run_mean = 1.0 / (n + 1.0)
        a_long = np.maximum(run_mean, -np.expm1(-self._c_ref * dt))
        a_acc = -np.expm1(-self._c_acc * dt)
        # references: healthy points at the long rate, anomalous ones at the acceptance rate
        a_lvl = np.where(anomalous, a_acc, a_long)
        # spreads: anomalous points at `slow` times the long rate, winsorised
        a_sp = np.where(n >= 1, a_long * np.where(anomalous, float(p["slow"]), 1.0), 0.0)
        d, var_d = ctx["d"], ctx["var_d"]
        # the chart's own spread learns only from normal points inside it: winsorising
        # would let a drift widen the chart step by step (compounding) until it hides itself
        # (the truncated mean square is rescaled to the full one, Gaussian-like)
        inside = (d * d <= self._zc2 * var_d) & ~anomalous
        st[3] += np.where(inside, a_sp, 0.0) * (d * d * self._trunc - st[3])
        # except once per gap: when the smoothed level has been re-learned after a gap, its
        # deviation says how far the level moves across gaps (a stream keyed by operating
        # state, each session at its own level), learned at the per-gap wander rate
        k = ctx["k"]
        regap = (k < self._span) & (k + 1.0 >= self._span) & (n > k + 1.0)
        a_gap = np.where(regap, float(p["wander_rate"]), 0.0)
        st[3] += a_gap * (np.minimum(d * d * self._trunc, 100.0 * st[3] + _TINY) - st[3])
        # the noise scale, from residuals against the smoothed level (not its drift)
        lim = np.where(n >= 0.5 * self._warm, float(p["clip"]) * ctx["sigma"], np.inf)
        a_mad = np.where(n >= 1, a_sp, 0.0)
        st[4] = np.maximum(st[4] + a_mad * (np.minimum(np.abs(ctx["e"]), lim) - st[4]), _TINY)
        st[1] = np.where(n > 0, st[1] + a_lvl * (x - st[1]), x)
        st[2] = ctx["y"]
        st[5] = update_quantum(st[5], n, x, st[6])
        st[6] = x
        st[8] = update_interval(st[8], st[7], n, ts)
        st[7] = ts
        st[9] = ctx["k"] + 1.0
        st[0] = n + 1.0
        return st
