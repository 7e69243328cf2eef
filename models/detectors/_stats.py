"""Per-stream statistics shared by the array detectors, as vectorised update rules.

Each function takes the current state arrays of a batch of streams and returns
the updated ones: robust scale (EW mean absolute deviation) with floors for
constant and quantised signals, the signal's resolution, its typical sampling
interval and gaps, the level's wander across gaps, learning rates, and the
per-stream peaks-over-threshold tail fit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from htm_edge.models.base import FloatArray

__all__ = [
    "SIGMA_PER_MAD",
    "BoolArray",
    "floor_scale",
    "gap_steps",
    "rates",
    "span_alpha",
    "staleness",
    "update_interval",
    "update_mad",
    "update_quantum",
    "update_tail",
    "update_wander",
]

#: Gaussian sigma per mean absolute deviation, sqrt(pi / 2)
SIGMA_PER_MAD = math.sqrt(math.pi / 2.0)

BoolArray = npt.NDArray[np.bool_]

_TINY = 1e-200


def floor_scale(mad: FloatArray, level: FloatArray, q: FloatArray, p: dict[str, Any]) -> FloatArray:
    """Robust sigma from a mean absolute deviation, floored for constant/quantised data."""
    floor = np.maximum(float(p["rel_eps"]) * np.abs(level), float(p["quantum_factor"]) * q)
    return np.maximum(np.maximum(SIGMA_PER_MAD * mad, floor), float(p["abs_eps"]))


def update_quantum(q: FloatArray, n: FloatArray, x: FloatArray, xprev: FloatArray) -> FloatArray:
    """Smallest non-zero step seen so far (0 while unknown): the signal's resolution.

    On quantised data (integer counts, values rounded to 0.1) every step is a
    multiple of the resolution, so the smallest one is the resolution itself once
    a one-step change has been seen (an overestimate before that, which only
    makes the scale floor more conservative); on continuous data it soon becomes
    negligible. Steps at rounding-error size relative to the values (binary
    representations of decimals) are not steps.
    """
    d = np.abs(x - xprev)
    tol = 1e-9 * np.maximum(np.abs(x), np.abs(xprev))
    return np.where((n > 0) & (d > tol) & ((q == 0) | (d < q)), d, q)


def update_interval(dt: FloatArray, last: FloatArray, n: FloatArray, ts: FloatArray) -> FloatArray:
    """Typical sampling interval: a running low quantile of the time steps.

    It falls quickly to shorter steps and rises slowly (by at most a factor 2 per
    step, at a rate of 1 %), so occasional gaps barely move it while a stream whose
    rate really drops follows within a few hundred points.
    """
    d = ts - last
    ok = (n > 0) & (d > 0)
    first = ok & (dt <= 0)
    rate = np.where(d < dt, 0.1, 0.01)
    new = dt + rate * (np.minimum(d, 2.0 * dt) - dt)
    return np.where(first, d, np.where(ok & ~first, new, dt))


def gap_steps(dt: FloatArray, last: FloatArray, n: FloatArray, ts: FloatArray) -> FloatArray:
    """Time since the previous point in typical sampling intervals (1 when unknown)."""
    return np.where((n > 0) & (dt > 0), (ts - last) / np.where(dt > 0, dt, 1.0), 1.0)


def staleness(g: FloatArray, alpha: float) -> FloatArray:
    """Weight in (0, 1] of a level estimate after ``g`` typical intervals without data.

    An EWMA of rate ``alpha`` keeps ``(1 - alpha) ** g`` of its memory after ``g``
    steps; a point arriving ``g`` intervals after the previous one finds the level
    as old as that, with nothing seen in between: the weight is
    ``exp(-alpha (g - 1))`` (1 when the stream is on time).
    """
    return np.exp(-alpha * np.clip(g - 1.0, 0.0, 1e4))


def update_wander(
    w: FloatArray, z: FloatArray, v: FloatArray, g: FloatArray, anomalous: BoolArray,
    p: dict[str, Any],
) -> FloatArray:  # fmt: skip
    """Learn how far the level wanders per missing point, from points after gaps.

    ``w`` is in units of the squared scale: a point arriving ``g`` intervals after
    the previous one is expected to deviate from the baseline by
    ``scale * sqrt(1 + v + (g - 1) w)`` (``v`` the extra variance already carried).
    Each gap of at least two intervals updates ``w`` with its own excess squared
    deviation per missing point (at ``slow`` times the rate when anomalous).
    """
    gap = g >= 2.0
    excess = np.clip((np.minimum(z * z, 1e6) - 1.0 - v) / np.maximum(g - 1.0, 1.0), 0.0, 1e4)
    rate = float(p["wander_rate"]) * np.where(anomalous, float(p["slow"]), 1.0)
    return np.where(gap, w + rate * (excess - w), w)


def rates(
    n: FloatArray, alpha: float, scores: FloatArray, p: dict[str, Any],
    k: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, BoolArray]:  # fmt: skip
    """Learning rates ``(a, a_scale, anomalous)`` for level and scale updates.

    ``k`` is the effective number of points behind the level (``n`` by default;
    less after a gap, see :func:`staleness`). The level rate is
    ``max(alpha, 1 / (k + 1))`` (a running mean at first), damped
    by ``slow`` for anomalous points; the scale rate is ``max(alpha, 1 / n)`` (0 for the
    first point); both are damped by ``slow`` for anomalous points (winsorised
    residuals then let the scale grow back by at most ``1 + slow * clip * a`` per point).
    """
    anomalous = scores >= float(p["learn_threshold"])
    damp = np.where(anomalous, float(p["slow"]), 1.0)
    a_lvl = np.maximum(alpha, 1.0 / ((n if k is None else k) + 1.0)) * damp
    a_sc = np.where(n < 1, 0.0, np.maximum(alpha, 1.0 / np.maximum(n, 1.0)) * damp)
    return a_lvl, a_sc, anomalous


def update_mad(
    mad: FloatArray, r: FloatArray, scale: FloatArray, a_sc: FloatArray, n: FloatArray,
    p: dict[str, Any],
) -> FloatArray:  # fmt: skip
    """EW mean absolute deviation with winsorised residuals (not clipped during warm-up)."""
    lim = np.where(n >= 0.5 * float(p["warmup"]), float(p["clip"]) * scale, np.inf)
    new = mad + a_sc * (np.minimum(np.abs(r), lim) - mad)
    return np.maximum(new, _TINY)


def span_alpha(span: float) -> float:
    """EWMA rate for a span of ``span`` points."""
    return 2.0 / (float(span) + 1.0)


def update_tail(
    pi: FloatArray, beta: FloatArray, z: FloatArray, n: FloatArray, anomalous: BoolArray,
    p: dict[str, Any],
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """Update the exceedance rate ``pi`` and mean excess ``beta`` of :func:`pot_surprise`.

    Anomalous points count at ``slow`` times the rate; excesses are capped at 20
    sigmas. ``pi`` stays in [1e-4, 0.3] and ``beta`` in [0.25, 20].
    """
    u = float(p["tail_u"])
    damp = np.where(anomalous, float(p["slow"]), 1.0)
    on = n >= 0.5 * float(p["warmup"])
    exc = z > u
    a_pi = np.where(on, damp * np.maximum(float(p["tail_rate"]), 1.0 / (n + 50.0)), 0.0)
    pi = np.clip(pi + a_pi * (exc - pi), 1e-4, 0.3)
    a_b = np.where(on & exc, damp * float(p["excess_rate"]), 0.0)
    beta = np.clip(beta + a_b * (np.minimum(z - u, 20.0) - beta), 0.25, 20.0)
    return pi, beta
