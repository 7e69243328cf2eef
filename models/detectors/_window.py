"""Window statistics on block summaries: a trend slope and a variance ratio.

A stream's points are grouped into consecutive *blocks* of ``B`` points; each
completed block leaves two numbers in a ring of the last ``W`` blocks: its mean
(of the signal, winsorised around the local level by the caller) and its
within-block variance (of the winsorised first differences, so that a level step
adds one bounded term and a slow trend none). Once the ring is full, each
completed block gives:

* the ordinary-least-squares *slope* of the ``W`` block means against their
  position (per block), which the caller standardises by its learned healthy
  scale; :func:`line_beats_steps` tells whether a line explains the means better
  than any two level changes, so a finished step (or a staircase of operating
  levels) does not count as a trend. A finished step leaves the window after
  ``W`` blocks; a ramp or an accelerating drift keeps its slope for as long as it
  lasts, whatever the baselines have learned;
* ``log F``, the mean block variance of the newest ``k`` blocks over that of the
  ``W - k`` before them; a new noise level has left the window after ``W`` blocks.

A block in which the signal did not change at all is *still* (its variance is
stored as exactly 0): a window learns, and counts towards the warm-up, in
proportion to its blocks that moved, so a held value teaches the window
statistics nothing.

:func:`gaussian_prior` gives the starting tails of the standardised statistics,
:func:`iid_scales` the scales that independent Gaussian noise would give (the
floors of the learned ones). The rings hold ``2 W`` floats per stream.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

from htm_edge.models.base import FloatArray
from htm_edge.models.detectors._stats import BoolArray
from htm_edge.models.detectors._tail import score_with_resolution, tail_surprise_pot, update_pot
from htm_edge.models.errors import ModelError

__all__ = [
    "Windows",
    "gaussian_prior",
    "iid_scales",
    "line_beats_steps",
    "live_fraction",
    "push_block",
    "window_stats",
]

_TINY = 1e-300


def _weights(w: int) -> FloatArray:
    j = np.arange(w, dtype=np.float64)
    out: FloatArray = j - j.mean()
    return out


def push_block(
    sub: FloatArray, acc: int, ring: int, block: int, blocks: int, done: FloatArray
) -> np.ndarray:
    """Move completed blocks' accumulators (rows ``acc`` to ``acc + 2``: sum of values,
    sum and sum of squares of differences) into the rings (means from row ``ring``,
    then variances); ``done`` is each column's count of completed blocks. A block
    whose values did not change at all gets variance exactly 0 (every other block at
    least ``1e-300``), so :func:`live_fraction` can tell still blocks from moving
    ones. Returns the ring slot written, the newest, per column."""
    slot = (done.astype(np.intp) - 1) % blocks
    cols = np.arange(sub.shape[1])
    mean_d = sub[acc + 1] / block
    sub[ring + slot, cols] = sub[acc] / block
    var = np.maximum(sub[acc + 2] / block - mean_d * mean_d, _TINY)
    # exactly 0 marks a *still* block (no difference at all: a held value); a moving
    # block keeps at least _TINY even when its differences are constant (a linear piece)
    sub[ring + blocks + slot, cols] = np.where(sub[acc + 2] > 0.0, var, 0.0)
    sub[acc : acc + 3] = 0.0
    return slot


def live_fraction(variances: FloatArray) -> FloatArray:
    """Fraction of the blocks in a ring of block variances (shape ``(W, m)``) in which
    the signal moved at all (see :func:`push_block`)."""
    out: FloatArray = np.mean(variances > 0.0, axis=0)
    return out


def window_stats(
    means: FloatArray, variances: FloatArray, newest: np.ndarray, k: int,
    v_floor: FloatArray,
) -> FloatArray:  # fmt: skip
    """``(slope, log F)`` of full rings, shape ``(2, m)``; the slope per block.

    ``means`` and ``variances`` are rings of shape ``(W, m)``, ``newest`` the ring
    slot of each column's newest block, ``k`` the blocks in the recent part of the
    variance ratio, ``s_floor`` the smallest residual scatter of a block mean and
    ``v_floor`` the smallest block variance.
    """
    w, m = means.shape
    cols = np.arange(m)
    # chronological position (0 = oldest) of each ring slot
    order = (np.arange(w)[:, None] - newest[None, :] - 1) % w
    cw = _weights(w)[order]
    sxx = float(np.sum(_weights(w) ** 2))
    ref = means[newest, cols]
    mc = means - ref[None, :]  # centred on the newest mean: no cancellation at large levels
    slope = np.sum(cw * mc, axis=0) / sxx
    recent = order >= w - k
    v = np.maximum(variances, v_floor[None, :])
    v_new = np.sum(np.where(recent, v, 0.0), axis=0) / k
    v_old = np.sum(np.where(recent, 0.0, v), axis=0) / (w - k)
    f = np.log(np.maximum(v_new, _TINY) / np.maximum(v_old, _TINY))
    return np.stack([slope, f])


def gaussian_prior(phi: float) -> tuple[FloatArray, FloatArray]:
    """Threshold (upper ``phi`` quantile) and mean excess of the standardised window
    statistics for independent Gaussian noise (shape ``(2, 1)`` each): ``|z|`` of a
    standard normal ``z`` (trend, two-sided) and ``max(z, 0)`` (variance, one-sided)."""
    nd = NormalDist()  # the standard library's: scipy.stats would cost ~40 MB to import
    u_t, u_f = nd.inv_cdf(1.0 - phi / 2.0), nd.inv_cdf(1.0 - phi)
    ex_t = nd.pdf(u_t) / (1.0 - nd.cdf(u_t)) - u_t
    ex_f = nd.pdf(u_f) / (1.0 - nd.cdf(u_f)) - u_f
    return np.array([[u_t], [u_f]]), np.array([[ex_t], [ex_f]])


def iid_scales(block: int, blocks: int, k: int) -> tuple[float, float]:
    """Standard deviations of the slope (per block, per unit noise sigma) and of
    ``log F`` for independent Gaussian noise: the floors of their learned scales."""
    sxx = blocks * (blocks * blocks - 1) / 12.0
    d1, d2 = k * (block - 1), (blocks - k) * (block - 1)
    return 1.0 / math.sqrt(block * sxx), math.sqrt(2.0 / d1 + 2.0 / d2)


def line_beats_steps(means: FloatArray, newest: np.ndarray) -> BoolArray:
    """Where a line explains the ring of block means better than any two level changes
    (in chunks of 2,048 columns: the candidate splits take ``W^2 / 2`` rows each)."""
    m = means.shape[1]
    if m <= 2048:
        return _line_beats_steps(means, newest)
    parts = [
        _line_beats_steps(means[:, i : i + 2048], newest[i : i + 2048]) for i in range(0, m, 2048)
    ]
    out: BoolArray = np.concatenate(parts)
    return out


def _line_beats_steps(means: FloatArray, newest: np.ndarray) -> BoolArray:
    """Where a line explains the ring of block means better than any two level changes.

    The between-segments sum of squares of the best split into three constant
    segments (``W (W - 1) / 2`` candidate pairs of change points, by prefix sums) is
    compared with that of the least-squares line: a finished step, or a staircase
    of operating levels, is not a trend.
    """
    w, m = means.shape
    order = (np.arange(w)[:, None] - newest[None, :] - 1) % w
    cols = np.arange(m)
    mc = means - means[newest, cols][None, :]
    chron = np.take_along_axis(mc, np.argsort(order, axis=0), axis=0)
    slope = np.sum(_weights(w)[:, None] * chron, axis=0)
    sxx = float(np.sum(_weights(w) ** 2))
    csum = np.concatenate([np.zeros((1, m)), np.cumsum(chron, axis=0)])  # csum[i]: first i
    i, j = np.triu_indices(w, 1)
    keep = i > 0
    i, j = i[keep], j[keep]
    total = csum[w]
    s1, s2, s3 = csum[i], csum[j] - csum[i], total[None, :] - csum[j]
    n1, n2, n3 = i[:, None], (j - i)[:, None], (w - j)[:, None]
    between = np.max(s1 * s1 / n1 + s2 * s2 / n2 + s3 * s3 / n3, axis=0) - total * total / w
    out: BoolArray = slope * slope / sxx > between
    return out


#: sigma / E|X| of a normal variable
_ABS_TO_SIGMA = math.sqrt(math.pi / 2.0)


class Windows:
    """The trend and variance statistics of :class:`~models.detectors.robust_pot.RobustPot`:
    configuration from its parameters, and their rows of its state from row ``a0`` on:
    three block accumulators, the two held statistics, their surprises and learned
    scales, eight tail rows per statistic, the live windows seen (each counted by its
    fraction of blocks that moved), then the rings of block means and variances.
    """

    def __init__(self, p: dict[str, Any], a0: int, use: np.ndarray, log_k: float) -> None:
        self._p, self._use, self._log_k = p, use, log_k
        self._bl, self._nb, self._kr = int(p["block"]), int(p["blocks"]), int(p["recent_blocks"])
        if self._bl < 2 or self._nb < 4 or not 1 <= self._kr < self._nb:
            raise ModelError(
                "robust_pot: need block >= 2, blocks >= 4, 1 <= recent_blocks < blocks"
            )
        if not 0.0 < p["window_phi"] < 0.5 or not 0.0 <= p["window_slow"] <= 1.0:
            raise ModelError("robust_pot: need 0 < window_phi < 0.5, 0 <= window_slow <= 1")
        self._wwarm = max(float(p["window_warmup"]), 1.0)
        self._wu, self._we1 = gaussian_prior(float(p["window_phi"]))
        self._wu_min = 0.25 * self._wu
        self._w_margin = np.array([[p["trend_xi_margin"]], [p["variance_xi_margin"]]], dtype=float)
        self._iid_t, self._iid_v = iid_scales(self._bl, self._nb, self._kr)
        self._wmem = max(float(p["tail_memory"]) / self._bl, 2.0 / float(p["window_phi"]))
        self._a0, self._g0 = a0, a0 + 3
        self._wt0 = self._g0 + 6
        self._live = self._wt0 + 16  # live windows seen (each weighted by its live fraction)
        self._r0 = self._live + 1
        #: rows of the held surprises of the two statistics
        self.surprises = slice(self._g0 + 2, self._g0 + 4)
        #: rows of state used, from ``a0``
        self.rows = 26 + 2 * self._nb

    def init_rows(self, a: FloatArray) -> None:
        """Set the initial (independent-Gaussian) tails in a new state block."""
        a[self._wt0 : self._wt0 + 2] = self._wu
        a[self._wt0 + 8 : self._wt0 + 10] = self._we1
        a[self._wt0 + 10 : self._wt0 + 12] = float(self._p["window_phi"])

    def update(
        self, st: FloatArray, dc: FloatArray, xc: FloatArray, sigma: FloatArray, n: FloatArray
    ) -> None:
        """Accumulate the point into its block; where a block completes, push it into
        the rings and recompute the window statistics, their surprises and tails."""
        bl, nb, rc = self._bl, self._nb, dc
        st[self._a0] += xc
        st[self._a0 + 1] += rc
        st[self._a0 + 2] += rc * rc
        done = np.flatnonzero(np.fmod(n + 1.0, bl) == 0.0)
        if done.size == 0:
            return
        p = self._p
        sub = st[:, done]
        blocks = (n[done] + 1.0) / bl
        slot = push_block(sub, self._a0, self._r0, bl, nb, blocks)
        full = blocks >= nb
        # a window in which the signal never moved (a held or stuck value) says nothing
        # about how its slope or noise vary when it is live: it is neither learned nor
        # counted, so hours of a frozen signal do not make its next movement "rare"
        live = np.where(full, live_fraction(sub[self._r0 + nb : self._r0 + 2 * nb]), 0.0)
        wins = sub[self._live]  # live windows seen before this one
        learn = full & (live > 0.0)
        raw = window_stats(
            sub[self._r0 : self._r0 + nb], sub[self._r0 + nb : self._r0 + 2 * nb], slot, self._kr,
            (0.25 * sigma[done]) ** 2,
        )  # fmt: skip
        # slope and log variance ratio in units of their own healthy scales (floored by
        # what white noise of the local scale would give), learned from windows that the
        # statistic itself does not flag, winsorised at 2.5 scales (a drift creeping up
        # before it is flagged must not inflate its own yardstick)
        iid = np.stack([sigma[done] * self._iid_t, np.full(done.size, self._iid_v)])
        sc_rows = slice(self._g0 + 4, self._g0 + 6)
        scale = np.maximum(np.where(sub[sc_rows] > 0.0, sub[sc_rows], iid), iid)
        z = raw / scale
        g = np.where(full, np.stack([np.abs(z[0]), np.maximum(z[1], 0.0)]), 0.0)
        tail = sub[self._wt0 : self._live].reshape(8, 2, -1)
        # the trend counts only where a line beats two level changes; checked where it
        # exceeds its tail threshold (below, its value does not change what the tail learns)
        cand = np.flatnonzero(g[0] > np.maximum(tail[0, 0], self._wu_min[0, 0]))
        if cand.size:
            ok = line_beats_steps(sub[self._r0 : self._r0 + nb, cand], slot[cand])
            g[0, cand] = np.where(ok, g[0, cand], 0.0)
        s_g = tail_surprise_pot(
            g, tail[0], tail[1], tail[2], tail[3], tail[4], tail[5], self._wu_min, self._we1,
            float(p["window_xi0"]), float(p["k0"]), float(p["xi_max"]), self._w_margin,
            float(p["prior_rel_window"]), 5.0, float(p["window_evidence_runs"]),
        )  # fmt: skip
        # warm-up: the first `blocks` windows are scored at a rising weight and learned
        # whatever their score; afterwards a window statistic learns its own alarms only
        # at `window_slow` times the rate, so a drift that goes on keeps its score
        s_g = np.where(full & self._use, s_g, 0.0) * np.clip(wins / self._wwarm, 0.0, 1.0)
        own = score_with_resolution(s_g - self._log_k, float(p["multiplicity"]))
        alarm = (own >= float(p["learn_threshold"])) & (wins >= self._wwarm)
        damp = np.where(alarm, float(p["window_slow"]), 1.0)
        damp = np.where(learn, damp * live, 0.0)
        a = np.maximum(1.0 / (wins + 2.0), 1.0 / self._wmem) * damp
        dev = np.minimum(np.abs(raw) * _ABS_TO_SIGMA, 2.5 * scale)
        sub[sc_rows] = np.where(learn, np.maximum(scale + a * (dev - scale), 1e-300), sub[sc_rows])
        new = update_pot(
            g, tail[0], tail[1], tail[2], tail[3], tail[4], tail[5],
            wins, self._wu_min, damp, float(p["window_phi"]),
            self._wmem, 20.0, tail[6], tail[7],
        )  # fmt: skip
        t_rows = slice(self._wt0, self._live)
        sub[t_rows] = np.where(learn, np.stack(new).reshape(16, -1), sub[t_rows])
        sub[self._live] = wins + live
        sub[self._g0 : self._g0 + 2] = g
        sub[self._g0 + 2 : self._g0 + 4] = s_g
        st[:, done] = sub
