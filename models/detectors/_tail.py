"""Per-stream tail calibration learned from each stream's own data, and a score map
that keeps resolution at the top.

A *tail model* turns a non-negative statistic ``T`` (a standardised residual, a
smoothed residual, a smoothed squared residual) into a surprise ``-log p``, where
``p`` estimates ``P(T' >= T)`` for the stream's own healthy ``T'``. It is a
streaming peaks-over-threshold fit (in the spirit of SPOT, Siffer et al., KDD
2017), with a few floats of state per statistic instead of a buffer of peaks:

* ``u``: a stochastic-approximation (Robbins-Monro) quantile of ``T`` at level
  ``1 - phi``; its gain is ``1 / (f(u) (n + n0))`` with the density at ``u``
  estimated as ``phi / e1`` (exact for an exponential tail), floored at a rate
  of ``1 / memory`` so it follows slow changes;
* the excesses over ``u`` follow a generalised Pareto law of shape ``xi`` and
  scale ``sigma``: ``xi`` from the moment estimator of Dekkers, Einmahl and de
  Haan (1989) on the log-excesses ``log(T / u)`` (two running means, valid for
  light and heavy tails alike), ``sigma = e1 (1 - xi)`` from the mean excess
  ``e1``. Both are shrunk towards a prior (exponential-like, ``xi0``) with the
  weight of ``k0`` exceedances, so a short history gives a cautious tail;
  ``xi`` is kept in ``[0, xi_max]`` (a lighter-than-exponential fit would put a
  hard end on the healthy range, and then any point beyond it at p = 0);
* the tail's weight is the learned exceedance rate ``pi`` of ``u`` (``phi`` at
  equilibrium, less when ``u`` rests on its floor: a stream constant so far makes
  any change rare);
* below ``u`` the surprise rises as ``-log(pi) (T / u)^2`` (a Gaussian-shaped
  body joined continuously to the tail; it only matters below ``phi``).

Points judged anomalous update the tail at ``slow`` times the rate.

State per statistic: 8 float64 (``u``, effective count ``k`` of exceedance runs,
mean log-excess ``m1``, mean squared log-excess ``m2``, mean excess ``e1``,
exceedance rate ``pi``, whether the last value exceeded ``u``, and the effective
count ``kp`` of exceedances; for a declustered statistic, the run's maximum so far
and the count of runs learned).
"""

from __future__ import annotations

import math

import numpy as np

from htm_edge.models.base import FloatArray
from htm_edge.models.detectors._stats import BoolArray

__all__ = ["TAIL_ROWS", "score_with_resolution", "tail_surprise_pot", "update_pot"]

#: rows of one statistic's tail state
TAIL_ROWS = ("u", "k", "m1", "m2", "e1", "pi", "exceeded", "kp")

_TINY = 1e-300
#: surprise (``-log p``) above which scores are compressed to stay distinct in float64
_S_TOP = 30.0


def tail_surprise_pot(
    t: FloatArray, u: FloatArray, k: FloatArray, m1: FloatArray, m2: FloatArray,
    e1: FloatArray, pi: FloatArray, u_min: FloatArray, prior_e1: FloatArray,
    xi0: float | FloatArray,
    k0: float, xi_max: float, c_pred: float | FloatArray, rel_prior: float | FloatArray = 0.0,
    rel_runs: float = 5.0, evidence_runs: float | FloatArray = 0.0,
) -> FloatArray:  # fmt: skip
    """Return ``-log p`` of statistics ``t`` under the tail models (all arrays broadcast).

    Warm-up: the mean excess is at least ``rel_prior * u * rel_runs / (k + rel_runs)``,
    with ``rel_prior`` 0.5 that of a Pareto tail of index 3 (a Student t with 3
    degrees of freedom) beyond the learned threshold ``u``, whatever the statistic's
    units, while few independent exceedances (runs, ``k``) have been seen; the floor
    fades as they are (to a fifth of it after ``4 rel_runs`` runs). With
    ``evidence_runs`` > 0 (a number, or one per statistic) the surprise beyond ``u`` is weighted by
    ``k / (k + evidence_runs)``: before any exceedance run, ``p`` is no smaller than
    the learned rate of exceeding ``u`` (a stream constant so far has no tail to
    extrapolate).
    """
    ue = np.maximum(u, u_min)
    ratio = np.clip(m1 * m1 / np.maximum(m2, _TINY), 0.0, 0.9)
    xi_hat = m1 + 1.0 - 0.5 / (1.0 - ratio)
    w = k / (k + k0)
    # shrunk towards the prior, plus a margin for the estimate's own uncertainty (about
    # (1 + xi) / sqrt(k) for k independent exceedances): a predictive, not plug-in, tail
    xi = w * xi_hat + (1.0 - w) * xi0
    xi = np.clip(xi + c_pred * (1.0 + np.abs(xi)) / np.sqrt(k + 1.0), 0.0, xi_max)
    e1s = w * e1 + (1.0 - w) * prior_e1
    e1s = np.maximum(e1s, rel_prior * ue * (rel_runs / (k + rel_runs)))
    sigma = np.maximum(e1s * (1.0 - np.minimum(xi, 0.9)), 1e-12 * ue + _TINY)
    y = np.maximum(t - ue, 0.0) / sigma
    xs = np.maximum(xi, 1e-9)
    lphi = -np.log(pi)
    excess = np.where(xi > 1e-6, np.log1p(xs * y) / xs, y)
    ev = np.asarray(evidence_runs)
    if np.any(ev > 0.0):
        # with no exceedance run seen, nothing is known beyond u: p is the rate of
        # exceeding u; the fitted tail's extra surprise is trusted as runs are seen
        excess = excess * np.where(ev > 0.0, k / (k + ev + _TINY), 1.0)
    s_tail = lphi + excess
    ratio_b = t / ue
    return np.where(t > ue, s_tail, lphi * np.minimum(ratio_b * ratio_b, 1.0))


def update_pot(
    t: FloatArray, u: FloatArray, k: FloatArray, m1: FloatArray, m2: FloatArray,
    e1: FloatArray, pi: FloatArray, n: FloatArray, u_min: FloatArray, damp: FloatArray,
    phi: float, memory: float, n0: float, prev: FloatArray, kp: FloatArray,
    decluster: BoolArray | None = None,
) -> tuple[FloatArray, ...]:  # fmt: skip
    """Learn one value of each statistic: new ``(u, k, m1, m2, e1, pi, exceeded, kp)``.

    ``damp`` (1 for normal points, ``slow`` for anomalous ones) scales every rate.
    ``prev`` is 1 where the previous value exceeded its threshold: ``k`` counts
    *clusters* of exceedances (runs), so an autocorrelated statistic, whose
    exceedances come in runs, is not credited with more evidence than it has (``k``
    weighs the prior and the margin). ``kp`` counts exceedances, the weights of the
    running means of the excesses: every exceedance of a run weighs the same, so a
    single long run does not overwrite what earlier runs taught.

    Where ``decluster`` is true (per statistic), the excess moments learn one value
    per run instead, its maximum, when the run ends (``prev`` then holds the run's
    maximum so far, 0 outside a run): the standard declustering of a dependent
    statistic, whose exceedances within a run are one event. A cumulative statistic
    (a CUSUM) that climbs through a sustained change thus does not teach its tail
    while it climbs.
    """
    ue = np.maximum(u, u_min)
    exc: BoolArray = t > ue
    exc_f = exc.astype(np.float64)
    # threshold: Robbins-Monro quantile; the step is in units of the mean excess
    gain = np.maximum(1.0 / (n + n0), 1.0 / memory) * damp
    step = gain * (e1 * (1.0 / phi))
    u_new = np.maximum(u + step * (exc_f - phi), u_min)
    new_run = exc & (prev <= 0.0)
    learn, tx, prev_new = exc, t, exc_f
    if decluster is not None:
        # a declustered statistic learns one excess per run, its maximum, when the run
        # ends (``prev`` holds the run's maximum so far): a long run (a sustained change
        # of a cumulative statistic) does not teach the tail while it lasts
        run_max = np.where(exc, np.maximum(prev, t), 0.0)
        ended = (~exc) & (prev > 0.0)
        learn = np.where(decluster, ended, exc)
        tx = np.where(decluster, np.where(ended, prev, t), t)
        prev_new = np.where(decluster, run_max, prev_new)
    # excess moments: running means over exceedances, then exponentially weighted
    a = np.where(learn, damp * np.maximum(1.0 / (kp + 1.0), 1.0 / (memory * phi)), 0.0)
    lg = np.log(np.maximum(tx, _TINY) / ue)
    lg = np.where(learn, lg, 0.0)
    m1n = m1 + a * (lg - m1)
    m2n = m2 + a * (lg * lg - m2)
    e1n = np.maximum(e1 + a * (np.where(learn, tx - ue, 0.0) - e1), 1e-12 * ue + _TINY)
    kn = np.minimum(k * (1.0 - 1.0 / memory) + np.where(new_run, damp, 0.0), memory * phi)
    kpn = np.minimum(kp * (1.0 - 1.0 / memory) + np.where(learn, damp, 0.0), memory * phi)
    # the exceedance rate of u (phi at equilibrium; less when u rests on its floor, as on
    # a constant stream), a running mean from a prior worth 1 / phi points
    a_pi = np.maximum(1.0 / (n + 1.0 / phi), 1.0 / memory) * damp
    pin = np.clip(pi + a_pi * (exc_f - pi), 1e-7, 0.5)
    return u_new, kn, m1n, m2n, e1n, pin, prev_new, kpn


def score_with_resolution(s: FloatArray, multiplicity: float) -> FloatArray:
    """Map surprises ``s = -log p`` to scores ``exp(-W p)``, distinct at the top.

    Below ``s = 30`` (p about 1e-13) this is the calibrated map of
    :func:`models.detectors._core.surprise_to_score` (0 exactly at p = 1).
    Beyond, ``exp(-W p)`` would round to exactly 1.0 in float64; there
    ``1 - score`` falls as ``1 / (1 + log(s / 30))`` instead, so larger deviations
    keep strictly larger scores (all above ``1 - 1e-11``).
    """
    w = float(multiplicity)
    floor = math.exp(-min(w, 700.0))
    sc = np.minimum(s, _S_TOP)
    raw = np.exp(-w * np.exp(-sc))
    low = np.maximum(raw - floor, 0.0) * (1.0 / (1.0 - floor))
    g_top = -math.expm1(-w * math.exp(-_S_TOP))
    top = 1.0 - g_top / (1.0 + np.log(np.maximum(s, _S_TOP) * (1.0 / _S_TOP)))
    return np.where(s > _S_TOP, top, low)
