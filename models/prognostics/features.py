"""From a failure mode's indicators to one fixed-length feature row, and its trend forecast.

The rows are generic (no signal or mode names), so one model learns across
every failure mode and device of a fleet: each mode's indicators are ranked
by how far they stand from the device's own baseline (``z``), and the row
holds the two strongest (deviation, last point, ``z``, short and long slope,
share of the failure threshold reached, trend's crossing probability within
the horizon and its median time to threshold) and aggregates over all of
them. :data:`FEATURE_SET` names this layout; a model file trained on another
layout is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from htm_edge.models.prognostics.indicators import IndicatorValues
from htm_edge.models.prognostics.trend import time_to_threshold

__all__ = ["FEATURE_NAMES", "FEATURE_SET", "TrendForecast", "feature_rows", "trend_forecast"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_PER = ("dev", "dev_last", "z", "slope_short", "slope_long", "frac_threshold", "p_trend", "ttt")
FEATURE_NAMES: tuple[str, ...] = (
    "n_indicators",
    "share_valid",
    *(f"top1_{n}" for n in _PER),
    *(f"top2_{n}" for n in _PER),
    "mean_z",
    "share_z3",
    "max_p_trend",
    "min_ttt",
    "history_days",
    "stale_h",
)
#: the layout's name: version and a digest of the names
FEATURE_SET = "fleet-1-" + hashlib.sha256(",".join(FEATURE_NAMES).encode()).hexdigest()[:10]
_Z_CLIP = 50.0


@dataclass
class TrendForecast:
    """Per indicator: time to threshold (days; early, median, late) and P(within horizon)."""

    early: FloatArray
    mid: FloatArray
    late: FloatArray
    p_horizon: FloatArray
    slope: FloatArray


def trend_forecast(v: IndicatorValues, threshold: FloatArray, horizon_days: float) -> TrendForecast:
    """Extrapolate each indicator's trend to its threshold (see the comment on the slope)."""
    # the recent slope when it is significant and steeper (accelerating wear), else the long one
    short_sig = ~np.isnan(v.slope_short) & (v.slope_short > 2.0 * v.slope_short_se)
    use_short = np.isnan(v.slope_long) | (short_sig & (v.slope_short > v.slope_long))
    slope = np.where(use_short, v.slope_short, v.slope_long)
    se = np.where(use_short, v.slope_short_se, v.slope_long_se)
    se_level = v.noise / np.sqrt(v.n_level)
    early, mid, late, p = time_to_threshold(
        v.deviation,
        se_level,
        slope,
        np.nan_to_num(se, nan=np.inf),
        threshold,
        horizon_days=horizon_days,
        q=0.01 * v.noise**2,
    )
    return TrendForecast(early, mid, late, p, slope)


def feature_rows(
    v: IndicatorValues, f: TrendForecast, threshold: FloatArray, group: IntArray, n_groups: int
) -> tuple[FloatArray, IntArray]:
    """One feature row per group (a device's failure mode) from its indicators' rows.

    ``group[i]`` is the row of indicator ``i``. Returns the rows and, per
    group, the indicator ranked first (for the evidence), -1 if none.
    """
    z = np.clip(np.nan_to_num(v.z, nan=-np.inf), -_Z_CLIP, _Z_CLIP)
    valid = ~np.isnan(v.deviation)
    with np.errstate(all="ignore"):
        frac = v.deviation / threshold
        ttt = np.log1p(np.minimum(np.nan_to_num(f.mid, nan=np.inf), 365.0))
    per = np.stack(
        [
            v.deviation,
            v.deviation_last,
            np.where(valid, z, np.nan),
            v.slope_short,
            v.slope_long,
            frac,
            f.p_horizon,
            ttt,
        ],
        axis=1,
    )
    order = np.lexsort((-np.where(valid, z, -np.inf), group))
    g_sorted = group[order]
    starts = np.searchsorted(g_sorted, np.arange(n_groups))
    ends = np.searchsorted(g_sorted, np.arange(n_groups), side="right")
    n_ind = (ends - starts).astype(np.float64)
    out = np.full((n_groups, len(FEATURE_NAMES)), np.nan)
    out[:, 0] = n_ind
    counts = np.bincount(group, minlength=n_groups).astype(np.float64)
    nvalid = np.bincount(group, weights=valid.astype(float), minlength=n_groups)
    out[:, 1] = np.where(counts > 0, nvalid / np.maximum(counts, 1), 0.0)
    top = np.full(n_groups, -1, dtype=np.int64)
    has1 = ends > starts
    top[has1] = order[starts[has1]]
    has2 = ends > starts + 1
    second = np.full(n_groups, -1, dtype=np.int64)
    second[has2] = order[starts[has2] + 1]
    k = len(_PER)
    out[has1, 2 : 2 + k] = per[top[has1]]
    out[has2, 2 + k : 2 + 2 * k] = per[second[has2]]
    zv = np.where(valid, z, 0.0)
    with np.errstate(all="ignore"):
        out[:, 2 + 2 * k] = np.bincount(group, weights=zv, minlength=n_groups) / np.maximum(
            nvalid, 1
        )
        out[:, 3 + 2 * k] = np.bincount(
            group, weights=(valid & (z > 3.0)).astype(float), minlength=n_groups
        ) / np.maximum(counts, 1)
    pmax = np.full(n_groups, -np.inf)
    np.maximum.at(pmax, group, np.nan_to_num(f.p_horizon, nan=-np.inf))
    out[:, 4 + 2 * k] = np.where(np.isfinite(pmax), pmax, np.nan)
    tmin = np.full(n_groups, np.inf)
    np.minimum.at(tmin, group, np.nan_to_num(ttt, nan=np.inf))
    out[:, 5 + 2 * k] = np.where(np.isfinite(tmin), tmin, np.nan)
    hmin = np.full(n_groups, np.inf)
    np.minimum.at(hmin, group, v.history_days)
    out[:, 6 + 2 * k] = np.where(np.isfinite(hmin), hmin, 0.0)
    smax = np.zeros(n_groups)
    np.maximum.at(smax, group, v.stale_h)
    out[:, 7 + 2 * k] = smax
    return out, top
