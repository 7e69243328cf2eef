"""``robust_pot``: robust baselines, a few statistics, each with a tail learned per stream.

Two robust baselines give each point standardised residuals: a *local* one (a
Huber-clipped EWMA level of span ``span`` and an EW mean absolute deviation of
span ``scale_span``, floored by the signal's resolution) and a *slow* one (level
and mean absolute deviation of span ``slow_span``, the signal's usual range).
Per-point statistics are formed from them, and window statistics from block
summaries (``statistics``; ``level``, an EWMA of the local residual, ``spread``
and ``variance`` are available but off by default):

* *point*: ``|x - level| / sigma``: spikes and dips, the first point of a step;
* *range*: ``|x - slow| / sigma_slow``: a value outside the signal's usual range;
* *spread* (opt-in; a default until *noise* replaced it, which scores as well or
  better on the three labelled corpora, their healthy stretches and the simulated
  fleet): ``EWMA(min(z_slow^2, 9))`` over ``spread_span`` points: a growing spread;
* *noise*: a CUSUM of the log-likelihood ratio of the local residual's variance
  being ``noise_ratio`` (2.5) times the local scale's square rather than 1 (``z^2``
  capped at ``noise_cap``, the sum at ``noise_top`` (20)): evidence of grown noise
  that no single point gives, added up over tens of points; its tail is declustered
  (one excess per run) and its extrapolation trusted as runs are seen
  (``noise_evidence_runs``, 20), see :mod:`models.detectors._noise`;
* *trend*: the least-squares slope of the last ``blocks`` (20) means of
  ``block`` (15) points each (a window of 300 points: 5 hours at one sample a
  minute, 5 minutes at one a second), the values winsorised at 4 sigma around the local
  level (so a spike barely moves a block mean), in units of the slope's own
  healthy scale (learned from windows it does not flag, winsorised at 2.5
  scales, floored by what white noise of the local scale would give), and
  counted only where a line explains the 20 block means better than any two
  level changes do (a finished step or a staircase of operating levels is not a
  trend); recomputed when a block
  completes and held until the next (see :mod:`models.detectors._window`);
* *variance* (opt-in): the log ratio of the within-block variance of first
  differences of the newest ``recent_blocks`` (4) blocks to that of the 16
  before, in units of its own learned scale.

None is assumed Gaussian: each has its own tail model learned from the stream (a
streaming peaks-over-threshold fit with a margin for its own uncertainty, see
:mod:`models.detectors._tail`), so heavy-tailed, bursty, quantised or
mode-switching streams get the tails they really have, and a stream that has been
constant makes any change rare. The window statistics are standardised by their
learned scales, so their tails start from the independent-Gaussian values and a
smaller margin (``trend_xi_margin``: the slope is a linear statistic of 300
points); their thresholds sit at the upper ``window_phi`` (10 %) so that the few
independent windows a stream has still give exceedances to learn from. A point's
tail probability is ``p = m min_i p_i`` over the ``m`` statistics in use (a
valid bound however they are correlated) and its score ``exp(-W p)``: 0.99 means
``p`` about ``1e-4``, one healthy point in ten thousand. Above ``p`` about
``1e-13`` scores are compressed so that larger deviations still get strictly
larger scores (never exactly 1.0).

**Onset, not occupancy (bounded acceptance).** Points scoring at least
``learn_threshold`` are learned at ``slow`` times the rate (the tails: at
``max(slow, tail_slow)`` for points scoring 0.99 and more). A persistence counter
rises by one for each anomalous point and falls by a quarter for each normal
one; the learning rate of an anomalous point rises linearly from ``slow`` to the
full rate as the counter reaches ``accept`` (default 10 points). A lone outlier
thus barely moves anything, while the baselines and per-point tails learn a
sustained new level or noise level like normal data once it has lasted
``accept`` points. The noise CUSUM falls back as the local scale learns the new
noise; its tail learns every point once it is at its top (a run it is in is
otherwise one event, learned when it ends), so a signal that starts to move after a
hold is accepted too. The window statistics see a change for as long as it is
inside their window: a finished step or a new noise level has left it after
``blocks * block`` points, so scores fall below 0.9 within
:meth:`RobustPot.acceptance_points` (315 points by default; measured at most 27
points for steps of 8 to 10,000 sigma, which the trend does not take for a
trend; as reported, below, at most five). A trend statistic learns windows it
flags only at ``window_slow`` (1/20) of the rate, so a ramp or an accelerating
drift is not accepted: it is reported again for as long as it goes on (below).
The slope's scale learns windows winsorised at 2.5 scales, so a drift that creeps up before
it is flagged does not inflate its own yardstick. The
alert engine's return-to-baseline hold keeps an alert open while the signal is
still far from where it was.

**Each event reported at its onset** (see :mod:`models.detectors._onset`). A
point less surprising than the stream's recent peak (halved every
``peak_halflife``, 20 points) adds nothing new and is reported as 0, unless it is
among the ``onset_points - 1`` (4) points after the last point that raised the peak
and an alarm itself (score ``onset_score``, 0.98, or more). So a step or a spike is
reported on its first point and those of its next four that are alarms, not until
it is accepted, and a drift is reported again each time its evidence passes the
peak (a ramp of 3 noise sigma per 300 points: 11 to 17 % of its points score 0.99
or more 1,000 to 2,000 points after its onset, in runs at most 115 points apart;
2.25 sigma: 3 to 14 %, at most 490 apart). Five is the default anomaly rule's
``enter_window`` and 0.98 at most its entry score (0.99; 0.983 on a device its
adaptation made more sensitive), so the rule sees every point of an event's first
five that can be a hit (the simulated fleet's alerts did not change; on synthetic
noise growth a few fewer open, see docs/benchmarks.md). Learning is unchanged.

**Warm-up.** Per-point scores are damped over the first ``warmup`` (50) points.
Every tail's shape is shrunk towards its prior with the weight of ``k0``
independent exceedance runs, plus the predictive margin, both fading as runs
are seen; the per-point tails' mean excess is also kept at least
``prior_rel * u * prior_runs / (k + prior_runs)`` (``k`` runs seen, ``u`` the
learned threshold): a Pareto tail of index 3 (Student t, 3 degrees of freedom)
beyond the threshold while no exceedance has been seen, fading to a fifth after
20 runs. The window statistics need ``blocks * block`` (300) points for their
first window; the next ``window_warmup`` (20) windows (to 600 points) are scored
at a rising weight and learned whatever they score, so a drift that starts
within a stream's first 600 points is partly taken for its healthy behaviour.

**Held values.** A block whose value never changed (a stuck or held sensor, a
historian storing no change) says nothing about the live signal's slope: windows
are learned and counted in the warm-up in proportion to their blocks that moved,
so hours of a held value do not make any later slope rare (a signal held for
6,000 points, then live on its old wave: 19 % of its points were flagged as a
trend, none now after its first 50). Nor about its scales: once a value has stayed
exactly the same for ``hold_points`` (300, one trend window) points, the local and
slow mean absolute deviations stop learning until it moves, so they keep about a
fifth of what they had (``(1 - 1/200)^300``) instead of shrinking to the resolution,
and the catch-up after a historian's gap is judged by the signal's own moves.

Catches: spikes and dips, level shifts (a peak at onset), values outside the
usual range, large growth of the noise (sigma x 4 at constant mean: 65 to 78 % of
streams score 0.99 within 10 points; x 3: 43 to 48 %, 1,500 and 3,000 points in), a
noise growth the noise CUSUM adds up (variance x 4, 10,000 points in: 68 % of
streams within 150 points, 58 % with the spread statistic instead; 3,000 points in,
where its tail has seen too few runs to be trusted: 15 %), ramps and accelerating
drifts (steeper than about 3 noise sigma per 300 points, and than the signal's usual
healthy wander over 300 points). Misses:
slower drifts (1.5 sigma per 300 points or less, or within a diurnal cycle of
larger amplitude), a noise tripling in variance at constant mean early in a stream
(sigma x 1.7, 3,000 points in: 0.99 within 150 points in 23 % of streams, 10,000 in:
48 %; the tails are young), values abnormal only for the time of day, anomalies visible
only across signals, shrinking variance, changes below one resolution step. A
signal held or constant for a long time that starts to move is flagged at its
first movements (the per-point scale shrank over the first 300 points of the
hold), and a long perfectly linear ramp, again and again while it ramps (as in the
Petrobras 3W lead-ins, where gaps seem interpolated). After a real anomaly the tails
are heavier for a while (the anomaly was partly learned), so a repeat of the
same size scores lower; so do a step's points after its first (10 sigma: a median
of 1.0, 0.994, 0.985, 0.964), and the default anomaly rule (3 of 5 scores at 0.99)
opens on a 10 sigma step in about a fifth of streams, on 30 sigma in all.

State per stream: 104 float64 with the default statistics (``n``, local level,
mad, resolution, previous value, level and spread statistics, persistence
counter, slow level and mad, the noise CUSUM, the reported peak and the points
since, the points the value has been held; eight per statistic for the
per-point tails of the statistics in use, three by default; three block
accumulators, two window statistics, their surprises and learned scales; eight
per statistic for two window tails; the live windows seen; two rings of 20 block
means and variances), 832 bytes (eight more floats per further per-point
statistic). Batches
of more than 16,384 streams are processed in chunks of that size, which bounds
the temporaries (a process holding 100,000 streams peaks near 210 MB).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from htm_edge.models.detectors._baselines import Baselines
from htm_edge.models.detectors._core import (
    COMMON_PARAMS,
    SIGMA_PER_MAD,
    ArrayDetector,
    BoolArray,
    Ctx,
    FloatArray,
    IntArray,
    Key,
    floor_scale,
    ramp,
    score_to_surprise,
    span_alpha,
    update_quantum,
)
from htm_edge.models.detectors._noise import cusum_step, increments
from htm_edge.models.detectors._onset import OnsetReport
from htm_edge.models.detectors._point_tails import NAMES as POINT_NAMES
from htm_edge.models.detectors._point_tails import point_tails
from htm_edge.models.detectors._tail import score_with_resolution, tail_surprise_pot, update_pot
from htm_edge.models.detectors._window import Windows
from htm_edge.models.errors import ModelError

__all__ = ["RobustPot"]

_NAMES = POINT_NAMES
_WNAMES = ("trend", "variance")  # window statistics, recomputed once per block
_T0 = 14  # first row of the tail models: eight rows per per-point statistic in use
_CHUNK = 16384  # streams per vector step: bounds the temporaries of a big batch
_ZCLIP = 4.0
_SQRT_HALF = math.sqrt(0.5)
_Z2CAP = 9.0


class RobustPot(ArrayDetector):
    """Robust baselines, per-point and window statistics with learned tails, bounded acceptance.

    Parameters
    ----------
    n_streams:
        Number of stream slots.
    span:
        EWMA span of the level, in points.
    level_span, spread_span:
        EWMA spans of the level and spread statistics, in points.
    accept:
        Points a deviation must persist before it becomes the baseline.
    phi:
        Tail fraction above the learned threshold of each statistic.
    tail_memory:
        Points of memory of the tail models (their slowest learning rate).
    xi0, k0, xi_max:
        Prior shape of the tails, its weight in exceedances, and the largest shape.
    block, blocks, recent_blocks, window_phi, window_slow:
        Points per block, blocks per window, blocks in the recent part of ``variance``,
        tail fraction of the window statistics and their rate for windows they flag.
    window_xi0, trend_xi_margin, variance_xi_margin, window_warmup, window_evidence_runs:
        Prior shape and margins of the window tails; windows of their warm-up; runs
        of exceedances before their fitted tail beyond the threshold is trusted (0: at
        once; see :func:`models.detectors._tail.tail_surprise_pot`).
    prior_rel, prior_runs, prior_rel_window:
        Warm-up floor of the per-point tails' mean excess relative to their thresholds,
        the exceedance runs over which it fades, and the same for the window tails.
    onset_points, peak_halflife, onset_score:
        Points of an event reported after the last point that raised the stream's
        peak surprise (0: report every point), the half-life of that peak, in points,
        and the score those points after the first need to be reported.
    hold_points:
        Points a value must stay exactly unchanged before the scales stop learning from
        it (a held value says nothing about the live signal's noise).
    **params:
        Shared parameters, see :data:`models.detectors._core.COMMON_PARAMS`.

    Examples
    --------
    >>> import numpy as np
    >>> det = RobustPot()
    >>> x = 10.0 + np.random.default_rng(0).normal(size=300)
    >>> for i, v in enumerate(x):
    ...     det.learn_one(float(v), 60.0 * i)
    >>> det.score_one(10.5, 18000.0) < 0.5, det.score_one(30.0, 18000.0) > 0.99
    (True, True)
    """

    type_name: ClassVar[str] = "robust_pot"
    PARAMS: ClassVar[dict[str, Any]] = {
        **COMMON_PARAMS,
        "warmup": 50,
        "slow": 0.3,
        "span": 20,
        "slow_span": 200,
        "scale_span": 200,
        "level_span": 8,
        "spread_span": 30,
        "accept": 10,
        "phi": 0.02,
        "tail_memory": 20000.0,
        "xi0": 0.1,
        "k0": 20.0,
        "xi_max": 3.0,
        "xi_margin": 0.5,
        "huber": 2.0,
        "tail_threshold": 0.99,
        "tail_slow": 0.5,
        "statistics": "point,range,trend,noise",
        "noise_ratio": 2.5,
        "noise_cap": 25.0,
        "noise_top": 20.0,
        "noise_evidence_runs": 20.0,
        "noise_xi_margin": 0.25,
        "block": 15,
        "blocks": 20,
        "recent_blocks": 4,
        "window_phi": 0.1,
        "window_warmup": 20,
        "window_evidence_runs": 0.0,
        "window_slow": 0.05,
        "prior_rel": 0.5,
        "prior_rel_window": 0.0,
        "prior_runs": 5.0,
        "window_xi0": 0.0,
        "trend_xi_margin": 0.25,
        "variance_xi_margin": 0.5,
        "onset_points": 5,
        "peak_halflife": 20.0,
        "onset_score": 0.98,
        "hold_points": 300,
    }
    #: the leading rows of state; then eight tail rows (u, k, m1, m2, e1, pi, x, kp) per
    #: per-point statistic in use, then the window statistics' rows (see _window.Windows)
    FIELDS: ClassVar[tuple[str, ...]] = (
        "n", "level", "mad", "quantum", "prev", "e", "v", "count", "slow", "slow_mad", "cus",
        "peak", "since", "held",
    )  # fmt: skip

    def _configure(self) -> None:
        p = self.params
        spans = (p["span"], p["scale_span"], p["level_span"], p["spread_span"])
        if p["accept"] < 4 or min(spans) < 1 or p["hold_points"] < 1:
            raise ModelError("robust_pot: need accept >= 4, spans >= 1 and hold_points >= 1")
        if p["noise_ratio"] <= 1.0 or p["noise_cap"] <= 0 or p["noise_top"] <= 0:
            raise ModelError("robust_pot: need noise_ratio > 1, noise_cap > 0, noise_top > 0")
        if not 0.0 < p["phi"] < 0.5 or p["tail_memory"] * p["phi"] < 2 or p["k0"] <= 0:
            raise ModelError("robust_pot: need 0 < phi < 0.5, tail_memory * phi >= 2, k0 > 0")
        self._base = Baselines(p, self.FIELDS)
        self._b = span_alpha(p["level_span"])
        self._c = span_alpha(p["spread_span"])
        self._warm = float(p["warmup"])
        self._accept = float(p["accept"])
        names = [c.strip() for c in str(p["statistics"]).replace("+", ",").split(",") if c.strip()]
        bad = sorted(set(names) - set(_NAMES) - set(_WNAMES))
        if bad or not names:
            valid = _NAMES + _WNAMES
            raise ModelError(f"robust_pot: unknown statistics {bad or names}; valid: {valid}")
        #: the per-point statistics in use: only they have tails (state rows from _T0)
        self._names = tuple(nm for nm in _NAMES if nm in names)
        self._k = len(self._names)
        self._a0 = _T0 + 8 * self._k  # first row of the window statistics' state
        self._use_w = np.array([[nm in names] for nm in _WNAMES])
        self._log_k = math.log(len(names))
        self._win = Windows(p, self._a0, self._use_w, self._log_k)
        self._pt = point_tails(p, self._b, self._c, self._names)
        self._cs_ab = increments(float(p["noise_ratio"]))
        if not 0.0 < p["onset_score"] < 1.0:
            raise ModelError("robust_pot: need 0 < onset_score < 1")
        trail = score_to_surprise(float(p["onset_score"]), float(p["multiplicity"]))
        try:
            self._report = OnsetReport(p["onset_points"], p["peak_halflife"], trail)
        except ValueError as e:
            raise ModelError(f"robust_pot: {e}") from None

    @staticmethod
    def acceptance_points(params: dict[str, Any]) -> int:
        """Points after which a finished level step or a new noise level no longer scores 0.9.

        The point statistics absorb a new regime within ``5 * accept`` points (the
        learning rate of a persisting anomaly reaches the full rate after ``accept``);
        the window statistics see it for as long as it is inside their window,
        ``blocks * block`` points plus the block in progress. The documented bound is
        the larger of the two: 315 points by default (measured: at most 27 for steps
        of 8 to 10,000 sigma, which the trend statistic does not take for a trend).
        """
        return int(max(5 * params["accept"], (params["blocks"] + 1) * params["block"]))

    def process_many(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> FloatArray:
        """Score, then learn, in chunks of at most 16,384 streams (bounded temporaries)."""
        if idx.shape[0] <= _CHUNK:
            return super().process_many(idx, x, ts)
        parts = [
            super(RobustPot, self).process_many(
                idx[i : i + _CHUNK], x[i : i + _CHUNK], ts[i : i + _CHUNK]
            )
            for i in range(0, idx.shape[0], _CHUNK)
        ]
        return np.concatenate(parts)

    def _block_spec(self) -> dict[str, tuple[int, float]]:
        return {"state": (self._a0 + self._win.rows, 0.0)}

    def _new_block(self, b: str, rows: int, init: float, n: int) -> FloatArray:
        a = np.zeros((rows, n))
        if b == "state":
            k = self._k
            a[_T0 : _T0 + k] = self._pt.u_init[:, None]
            a[_T0 + 4 * k : _T0 + 5 * k] = self._pt.prior_e1
            a[_T0 + 5 * k : _T0 + 6 * k] = float(self.params["phi"])
            a[6] = 0.97
            self._win.init_rows(a)
        return a

    def _compute(
        self, key: Key, st: FloatArray, x: FloatArray, ts: FloatArray, qx: FloatArray | None
    ) -> Ctx:
        p = self.params
        n, lvl, mad = st[0], st[1], st[2]
        q = update_quantum(st[3], n, x, st[4])
        if qx is not None:
            q = np.maximum(q, qx)
        sigma = floor_scale(mad, lvl, q, p)
        r = np.where(n > 0, x - lvl, 0.0)
        z = r / sigma
        zc = np.clip(z, -_ZCLIP, _ZCLIP)
        e = st[5] + self._b * (zc - st[7])
        sig_sl = np.maximum(SIGMA_PER_MAD * st[9], sigma)
        z_sl = np.where(n > 0, x - st[8], 0.0) / sig_sl
        v = st[6] + self._c * (np.minimum(z_sl * z_sl, _Z2CAP) - st[6])
        cs = cusum_step(st[10], z, *self._cs_ab, float(p["noise_cap"]), float(p["noise_top"]))
        cs = np.where(n >= self._warm, cs, 0.0)
        pt = self._pt
        # the statistics in use, as magnitudes (spread and noise are never negative)
        stat = {"point": z, "level": e, "spread": v, "range": z_sl, "noise": cs}
        t = np.abs(np.stack([stat[nm] for nm in self._names]))
        tail = st[_T0 : self._a0].reshape(8, self._k, -1)
        s_pt = tail_surprise_pot(
            t, tail[0], tail[1], tail[2], tail[3], tail[4], tail[5], pt.u_min, pt.prior_e1,
            pt.xi0, float(p["k0"]), float(p["xi_max"]), pt.xi_margin, float(p["prior_rel"]),
            float(p["prior_runs"]), pt.evidence,
        )  # fmt: skip
        # the window statistics hold surprise 0 where they are off (see Windows.update)
        s_all = np.concatenate([s_pt, st[self._win.surprises]])
        s = np.maximum(np.max(s_all, axis=0) - self._log_k, 0.0) * ramp(n, self._warm)
        # reported: an event's first points; later, less surprising ones as surprise 0
        since = self._report.since(s, st[11], st[12])
        keep = self._report.reported(since, s)
        rc = np.where(n > 0, zc * sigma, 0.0)
        ctx = {"s": np.where(keep, s, 0.0), "s_raw": s, "keep": keep, "since": since}
        ctx.update(s_all=s_all, t=t, r=r, sigma=sigma, e=e, v=v, cs=cs)
        # first differences, winsorised: a level step adds one bounded term to its block's
        # variance, a slow trend none
        lim_d = _ZCLIP * math.sqrt(2.0) * sigma
        dc = np.where(n > 0, np.clip(x - st[4], -lim_d, lim_d), 0.0) * _SQRT_HALF
        ctx.update(dc=dc, xc=np.where(n > 0, lvl + rc, x))
        return ctx

    def score_from(self, ctx: Ctx) -> FloatArray:
        """Scores of prepared points (calibrated, distinct at the top), as reported."""
        raw = self._raw_scores(ctx)
        # surprise 0 (not reported, or an invalid point) is score 0 exactly
        return np.where(ctx["s"] > 0.0, raw, 0.0)

    def _raw_scores(self, ctx: Ctx) -> FloatArray:
        """Scores of the surprise learning sees, computed once per prepared batch."""
        if "raw_scores" not in ctx:
            w = float(self.params["multiplicity"])
            ctx["raw_scores"] = score_with_resolution(ctx["s_raw"], w)
        raw: FloatArray = ctx["raw_scores"]
        return raw

    def _detail(self, ctx: Ctx) -> dict[str, FloatArray]:
        w = float(self.params["multiplicity"])
        s = np.where(ctx["keep"], ctx["s_all"], 0.0)
        row = {nm: s[i] for i, nm in enumerate((*self._names, *_WNAMES))}
        off = np.zeros(s.shape[1])  # a statistic not in use: surprise 0
        return {nm: score_with_resolution(row.get(nm, off), w) for nm in _NAMES + _WNAMES}

    def _update(
        self, key: Key, st: FloatArray, ctx: Ctx, x: FloatArray, ts: FloatArray,
        scores: FloatArray, valid: BoolArray | None,
    ) -> FloatArray:  # fmt: skip
        p = self.params
        n = st[0]
        # a point reported as 0 for adding nothing new is learned as its own surprise says
        scores = np.where(ctx["keep"], scores, self._raw_scores(ctx))
        anomalous = scores >= float(p["learn_threshold"])
        slow = float(p["slow"])
        # persistence: +1 per anomalous point, -1/4 per normal one
        count = np.where(anomalous, np.minimum(st[7] + 1.0, self._accept), st[7] - 0.25)
        count = np.maximum(count, 0.0)
        # bounded acceptance: an anomalous point is learned at `slow` times the rate,
        # rising to the full rate as the anomaly persists for `accept` points
        damp = np.where(anomalous, slow + (1.0 - slow) * count * (1.0 / self._accept), 1.0)
        self._base.learn(st, x, ctx["r"], ctx["sigma"], damp)
        # tails of the statistics
        tail = st[_T0 : self._a0].reshape(8, self._k, -1)  # a view: written in place below
        # the tails learn from every point but alarms (the far tail is where they are shaped)
        damp_t = np.where(
            scores >= float(p["tail_threshold"]), np.maximum(damp, float(p["tail_slow"])), 1.0
        )
        new = update_pot(
            ctx["t"], tail[0], tail[1], tail[2], tail[3], tail[4], tail[5], n, self._pt.u_min,
            damp_t, float(p["phi"]), float(p["tail_memory"]), 20.0, tail[6], tail[7],
            # the noise CUSUM's tail is declustered until the sum reaches its top: from
            # there it learns every point, as the other tails learn an accepted change
            self._pt.decluster & (ctx["cs"] < float(p["noise_top"])),
        )  # fmt: skip
        on = n >= 0.5 * self._warm
        tail[...] = np.where(on, np.stack(new), tail)
        st[3] = update_quantum(st[3], n, x, st[4])
        st[4] = x
        st[5] = ctx["e"]
        st[6] = ctx["v"]
        st[7] = count
        st[10] = ctx["cs"]
        st[11] = self._report.next_peak(st[11], ctx["s_raw"])
        st[12] = ctx["since"]
        self._win.update(st, ctx["dc"], ctx["xc"], ctx["sigma"], n)
        st[0] = n + 1.0
        return st
