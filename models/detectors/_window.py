"""Window statistics on block summaries: a trend t-statistic and a variance ratio.

A stream's points are grouped into consecutive *blocks* of ``B`` points; each
completed block leaves two numbers in a ring of the last ``W`` blocks: its mean
(of the signal, winsorised around the local level) and its within-block variance
(of the winsorised residuals about their own block mean). Two statistics are
formed from the ring once it is full, recomputed when a block completes:

* *trend*: ``|t|`` of the ordinary-least-squares slope of the ``W`` block means
  against their position, standardised by its own residual scatter
  (``t = b sqrt(Sxx) / s``, ``s^2 = RSS / (W - 2)``). Independent Gaussian
  noise gives Student's t with ``W - 2`` degrees of freedom, whatever the noise
  level; a ramp or an accelerating drift keeps a large ``|t|`` for as long as it
  lasts, whatever the baseline has learned. A level step gives a bounded ``|t|``
  (about 7.4 for ``W = 20`` at most, however large the step) and leaves the
  window after ``W`` blocks, when ``t`` is back to its healthy distribution.
* *variance*: ``|log F|``, ``F`` the mean within-block variance of the newest
  ``k`` blocks over that of the ``W - k`` before them (``F(k(B-1), (W-k)(B-1))``
  for independent Gaussian noise). A new noise level leaves the window, and the
  ratio returns to 1, after ``W`` blocks.

Both are self-normalising (unit-free), so their tails (learned per stream by
:mod:`models.detectors._tail`) start from the independent-Gaussian values of
:func:`gaussian_prior` and then follow the stream. The ring holds ``2 W`` floats
per stream.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from htm_edge.models.base import FloatArray
from htm_edge.models.detectors._stats import BoolArray

__all__ = ["gaussian_prior", "iid_scales", "line_beats_steps", "window_stats"]

_TINY = 1e-300


def _weights(w: int) -> FloatArray:
    j = np.arange(w, dtype=np.float64)
    out: FloatArray = j - j.mean()
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
