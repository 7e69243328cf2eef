"""Indicator values at evaluation time: level, healthy baseline, noise and trends, vectorised.

For each indicator (a statistic of one stream, signed toward failure, scaled
by the signal's healthy range; spreads are taken as logarithms, so their
deviation is a log ratio):

* ``level``: median of the points of the last ``level_window_h`` (the last
  point alone when none is that recent, if it is under two days old);
* ``baseline``: the healthy side of the device's own recent history, the
  25th percentile (75th for ``down`` precursors) of its daily medians over
  ``[now - baseline_days, now - 1 day)``: a repair or a new part pulls it
  back at once, a slow course only after weeks, and recalibration steps
  shift it by their own small size (before three days of history, the median
  of the older points);
* ``noise``: robust standard deviation of successive points (MAD), at least
  half the signal's reporting resolution (hourly medians of quantised
  readings often repeat exactly);
* ``slope_short`` (points of the last ``short_trend_h``) and ``slope_long``
  (daily medians of the last ``long_trend_days`` and the current level),
  both Theil-Sen, per day, with standard errors;
* day over day, for predictions from trends alone: ``day_change``, the level
  minus the median of the points of the same hours yesterday (the
  ``level_window_h`` before ``now - 1 day``), and ``prev_day_change``,
  yesterday's against the day before's, with one standard error for both
  (``day_change_se``). A daily cycle cancels in both; a step shows in one of
  them only (medians: a step inside yesterday's hours splits its points half
  and half, and so shows in both, for one evaluation at most); a course
  toward failure shows in both. Windows, not single points, so that sparse
  streams (a sterilizer's cycles, event counts) still have a level there.

Every quantity is in the signal's range units (deviation 1.0 = the whole
healthy range), which makes indicators comparable across signals and devices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from htm_edge.models.prognostics.points import SPREAD, StreamPoints
from htm_edge.models.prognostics.trend import nanmedian_rows, nanquantile_rows, theil_sen

__all__ = ["IndicatorValues", "compute_indicators"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_DAY = 86_400.0
_SPREAD_FLOOR = 1e-6


@dataclass
class IndicatorValues:
    """Values of ``k`` indicators, each ``(k,)``; deviations and slopes signed toward failure."""

    level: FloatArray
    last: FloatArray
    baseline: FloatArray
    noise: FloatArray
    deviation: FloatArray
    deviation_last: FloatArray
    z: FloatArray
    slope_short: FloatArray
    slope_short_se: FloatArray
    slope_long: FloatArray
    slope_long_se: FloatArray
    n_level: FloatArray
    history_days: FloatArray
    stale_h: FloatArray
    day_change: FloatArray
    prev_day_change: FloatArray
    day_change_se: FloatArray


def _pick(v: FloatArray, stat: IntArray) -> FloatArray:
    """Each row's statistic ``(k, L)`` from ``(k, L, 3)``; spreads as logarithms (ratios)."""
    out = np.take_along_axis(v, stat[:, None, None], axis=2)[:, :, 0]
    with np.errstate(all="ignore"):
        spread_log = np.log(np.maximum(out, _SPREAD_FLOOR))
    return np.where((stat == SPREAD)[:, None], spread_log, out)


def compute_indicators(
    points: StreamPoints,
    streams: IntArray,
    stat: IntArray,
    sign: FloatArray,
    scale: FloatArray,
    quantum: FloatArray,
    now: float,
    *,
    level_window_h: float,
    baseline_days: float,
    short_trend_h: float,
    long_trend_days: float,
) -> IndicatorValues:
    """Compute the indicators of ``streams`` (one row each) at time ``now``."""
    k = streams.size
    pts_t, pts_all = points.points(streams)
    pts = _pick(pts_all, stat)
    day_t, day_all = points.daily(streams)
    days = _pick(day_all, stat)
    has = ~np.isnan(pts_t) & ~np.isnan(pts)
    age = now - pts_t
    window_s = level_window_h * 3600.0
    recent = has & (age <= window_s)
    with np.errstate(all="ignore"):
        level_recent = nanmedian_rows(np.where(recent, pts, np.nan))
    last_idx = np.where(has.any(axis=1), pts.shape[1] - 1 - np.argmax(has[:, ::-1], axis=1), 0)
    last = np.where(has.any(axis=1), pts[np.arange(k), last_idx], np.nan)
    last_age = np.where(has.any(axis=1), age[np.arange(k), last_idx], np.inf)
    level = np.where(recent.any(axis=1), level_recent, np.where(last_age < 2 * _DAY, last, np.nan))
    n_level = np.maximum(recent.sum(axis=1), 1).astype(np.float64)

    # baseline: the healthy side of the daily medians of the window before yesterday
    dok = ~np.isnan(day_t) & ~np.isnan(days)
    in_base = dok & (day_t >= now - baseline_days * _DAY) & (day_t < now - _DAY)
    q = np.where(sign > 0, 25.0, 75.0)
    base_days = np.where(in_base, days, np.nan)
    with np.errstate(all="ignore"):
        lo = nanquantile_rows(base_days, 0.25)
        hi = nanquantile_rows(base_days, 0.75)
        base = np.where(q == 25.0, lo, hi)
        old = has & (age > level_window_h * 3600.0)
        base_pts = nanmedian_rows(np.where(old, pts, np.nan))
    base = np.where(
        in_base.sum(axis=1) >= 3, base, np.where(old.sum(axis=1) >= 6, base_pts, np.nan)
    )

    # noise: robust sd of successive points (fall back to daily medians)
    with np.errstate(all="ignore"):
        d = np.abs(np.diff(np.where(has, pts, np.nan), axis=1))
        noise = 1.4826 * nanmedian_rows(d) / np.sqrt(2.0)
    # a median of quantised readings moves in steps: half a step is the least noise believed
    floor = np.where(stat == SPREAD, 0.05, np.maximum(1e-3 * scale, 0.5 * quantum))
    noise = np.maximum(np.nan_to_num(noise, nan=0.0), floor)

    # trends, in days
    ns = min(pts.shape[1], 48)  # the newest points: enough for hourly streams, cheap pairs
    short = (has & (age <= short_trend_h * 3600.0))[:, -ns:]
    t_short = np.where(short, -age[:, -ns:] / _DAY, np.nan)
    b_s, _, se_s = theil_sen(t_short, np.where(short, pts[:, -ns:], np.nan))
    nl = min(days.shape[1], int(np.ceil(long_trend_days)) + 1)
    long = (dok & (day_t >= now - long_trend_days * _DAY))[:, -nl:]
    t_long = np.concatenate(
        [np.where(long, (day_t[:, -nl:] - now) / _DAY, np.nan), np.zeros((k, 1))], axis=1
    )
    y_long = np.concatenate([np.where(long, days[:, -nl:], np.nan), level[:, None]], axis=1)
    b_l, _, se_l = theil_sen(t_long, y_long)

    def same_hours(days_ago: float) -> tuple[FloatArray, FloatArray]:
        """The level of the same hours ``days_ago`` days back, and how many points it has."""
        mask = has & (age > days_ago * _DAY) & (age <= days_ago * _DAY + window_s)
        with np.errstate(all="ignore"):
            median = nanmedian_rows(np.where(mask, pts, np.nan))
        return median, np.maximum(mask.sum(axis=1), 1).astype(np.float64)

    level_1d, n_1d = same_hours(1.0)
    level_2d, n_2d = same_hours(2.0)

    unit = np.where(stat == SPREAD, 1.0, scale)
    first = np.where(has.any(axis=1), pts_t[np.arange(k), np.argmax(has, axis=1)], np.nan)
    first_day = np.where(dok.any(axis=1), day_t[np.arange(k), np.argmax(dok, axis=1)], np.nan)
    history = (now - np.fmin(first, first_day)) / _DAY
    with np.errstate(all="ignore"):
        dev = sign * (level - base) / unit
        return IndicatorValues(
            level=level,
            last=last,
            baseline=base,
            noise=noise / unit,
            deviation=dev,
            deviation_last=sign * (last - base) / unit,
            z=sign * (level - base) / noise,
            slope_short=sign * b_s / unit,
            slope_short_se=se_s / unit,
            slope_long=sign * b_l / unit,
            slope_long_se=se_l / unit,
            n_level=n_level,
            history_days=np.nan_to_num(history, nan=0.0),
            stale_h=np.where(np.isfinite(last_age), last_age / 3600.0, 1e3),
            day_change=sign * (level - level_1d) / unit,
            prev_day_change=sign * (level_1d - level_2d) / unit,
            day_change_se=noise / unit * np.sqrt(2.0 / np.minimum(n_level, np.minimum(n_1d, n_2d))),
        )
