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

:func:`gaussian_prior` gives the starting tails of the standardised statistics,
:func:`iid_scales` the scales that independent Gaussian noise would give (the
floors of the learned ones). The rings hold ``2 W`` floats per stream.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from htm_edge.models.base import FloatArray
from htm_edge.models.detectors._stats import BoolArray

__all__ = ["gaussian_prior", "iid_scales", "line_beats_steps", "push_block", "window_stats"]

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
    then variances); ``done`` is each column's count of completed blocks. Returns the
    ring slot written, the newest, per column."""
    slot = (done.astype(np.intp) - 1) % blocks
    cols = np.arange(sub.shape[1])
    mean_d = sub[acc + 1] / block
    sub[ring + slot, cols] = sub[acc] / block
    sub[ring + blocks + slot, cols] = np.maximum(sub[acc + 2] / block - mean_d * mean_d, 0.0)
    sub[acc : acc + 3] = 0.0
    return slot


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
    u_t, u_f = float(stats.norm.isf(phi / 2.0)), float(stats.norm.isf(phi))
    ex_t = float(stats.norm.pdf(u_t) / stats.norm.sf(u_t)) - u_t
    ex_f = float(stats.norm.pdf(u_f) / stats.norm.sf(u_f)) - u_f
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
