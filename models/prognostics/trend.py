"""Robust level and slope of many short series at once, and the time to a threshold.

:func:`theil_sen` fits each row of ``(k, L)`` arrays (NaN = no point): the
slope is the median of the pairwise slopes, the intercept the median of
``y - slope * t``; the slope's standard error uses the OLS formula with a
robust (MAD) residual scale, so one outlier moves neither.

:func:`time_to_threshold` extrapolates a level ``L`` (standard error
``se_level``) and slope ``b`` (``se_slope``) to a threshold ``theta``. The
value at ``h`` days ahead is taken as normal with mean ``L + b h`` and
variance ``se_level^2 + (se_slope h)^2 + q h``: the interval widens with the
noise (through both standard errors) and with the horizon (the slope's error
grows linearly, the process term ``q`` lets the course bend). The crossing
time's quantiles solve ``P(value(h) >= theta) = p`` on a log grid of
horizons; ``inf`` means the threshold is not reached within a year at that
confidence.

Examples
--------
>>> t = np.arange(10.0)[None, :]
>>> b, a, se = theil_sen(t, 2.0 * t + 1.0)
>>> float(b[0]), float(a[0]), float(se[0])
(2.0, 1.0, 0.0)
>>> lo, mid, hi, p = time_to_threshold(
...     np.array([0.0]), np.array([0.01]), np.array([0.1]), np.array([0.01]),
...     np.array([1.0]), horizon_days=7.0)
>>> bool(9.0 < mid[0] < 11.0 and lo[0] < mid[0] < hi[0]), bool(p[0] < 0.01)
(True, True)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

__all__ = ["GRID_DAYS", "nanmedian_rows", "nanquantile_rows", "theil_sen", "time_to_threshold"]

FloatArray = npt.NDArray[np.float64]

#: horizons (days) on which crossing times are solved: 30 minutes to a year
GRID_DAYS: FloatArray = np.geomspace(1.0 / 48.0, 365.0, 96)
_Z80 = 1.2815515655446004


def theil_sen(t: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Slope, intercept (at ``t = 0``) and slope standard error per row (NaN if < 3 points)."""
    k, n = y.shape
    ok = ~(np.isnan(t) | np.isnan(y))
    if n < 2:
        nan = np.full(k, np.nan)
        return nan, nan.copy(), nan.copy()
    i, j = np.triu_indices(n, 1)
    dt = t[:, j] - t[:, i]
    valid = ok[:, i] & ok[:, j] & (dt > 0)
    with np.errstate(all="ignore"):
        slopes = np.where(valid, (y[:, j] - y[:, i]) / np.where(valid, dt, 1.0), np.nan)
        slope = nanmedian_rows(slopes)
        resid0 = np.where(ok, y - slope[:, None] * t, np.nan)
        intercept = nanmedian_rows(resid0)
        resid = resid0 - intercept[:, None]
        scale = 1.4826 * nanmedian_rows(np.abs(resid))
        tm = np.sum(np.where(ok, t, 0.0), axis=1) / np.maximum(ok.sum(axis=1), 1)
        sxx = np.sum(np.where(ok, (t - tm[:, None]) ** 2, 0.0), axis=1)
        se = scale / np.sqrt(sxx)
    few = ok.sum(axis=1) < 3
    slope[few] = np.nan
    intercept[few] = np.nan
    se[few] = np.nan
    return slope, intercept, se


def nanquantile_rows(x: FloatArray, q: float) -> FloatArray:
    """Row quantiles ignoring NaN (linear interpolation; NaN for an all-NaN row)."""
    s = np.sort(x, axis=1)
    n = np.sum(~np.isnan(x), axis=1)
    pos = q * np.maximum(n - 1, 0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    rows = np.arange(x.shape[0])
    w = pos - lo
    out = (1.0 - w) * s[rows, lo] + w * s[rows, hi]
    return np.where(n > 0, out, np.nan)


def nanmedian_rows(x: FloatArray) -> FloatArray:
    """Row medians ignoring NaN (NaN for an all-NaN row), without warnings."""
    s = np.sort(x, axis=1)  # NaN sort last
    n = np.sum(~np.isnan(x), axis=1)
    lo = np.clip((n - 1) // 2, 0, x.shape[1] - 1)
    hi = np.clip(n // 2, 0, x.shape[1] - 1)
    rows = np.arange(x.shape[0])
    med = 0.5 * (s[rows, lo] + s[rows, hi])
    return np.where(n > 0, med, np.nan)


def time_to_threshold(
    level: FloatArray,
    se_level: FloatArray,
    slope: FloatArray,
    se_slope: FloatArray,
    theta: FloatArray,
    *,
    horizon_days: float,
    q: float | FloatArray = 0.0,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Crossing-time quantiles (10 %, 50 %, 90 %, days) and P(crossed within the horizon).

    Inputs are signed so that the course toward failure is upward. A level
    already past ``theta`` gives 0 days. NaN inputs give NaN.
    """
    h = GRID_DAYS[None, :]
    mean = level[:, None] + slope[:, None] * h
    qa = np.broadcast_to(np.asarray(q, dtype=np.float64), level.shape)
    var = se_level[:, None] ** 2 + (se_slope[:, None] * h) ** 2 + qa[:, None] * h
    sd = np.sqrt(np.maximum(var, 1e-18))
    p = ndtr((mean - theta[:, None]) / sd)
    p = np.maximum.accumulate(np.nan_to_num(p), axis=1)  # crossed stays crossed
    rows = np.arange(p.shape[0])
    logh = np.log(GRID_DAYS)
    out = []
    for quantile in (0.1, 0.5, 0.9):  # P(crossed by h) reaches 0.1 first: the early bound
        reached = p >= quantile
        i = np.argmax(reached, axis=1)
        j = np.maximum(i - 1, 0)
        p0, p1 = p[rows, j], p[rows, i]
        with np.errstate(all="ignore"):
            w = np.where((i > 0) & (p1 > p0), (quantile - p0) / (p1 - p0), 1.0)
        days = np.exp(logh[j] + np.clip(w, 0.0, 1.0) * (logh[i] - logh[j]))
        out.append(np.where(reached.any(axis=1), days, np.inf))
    early, mid, late = out
    past = level >= theta
    early = np.where(past, 0.0, early)
    mid = np.where(past, 0.0, mid)
    late = np.where(past, 0.0, late)
    with np.errstate(all="ignore"):
        mh = level + slope * horizon_days
        vh = se_level**2 + (se_slope * horizon_days) ** 2 + qa * horizon_days
        p_h = np.where(past, 1.0, ndtr((mh - theta) / np.sqrt(np.maximum(vh, 1e-18))))
    bad = np.isnan(level) | np.isnan(slope) | np.isnan(theta)
    for arr in (early, mid, late, p_h):
        arr[bad] = np.nan
    return early, mid, late, p_h
