"""From one evaluation's indicators to :class:`Prediction` objects: trend-only figures and evidence.

:class:`~.engine.Prognostics` computes, per evaluation, the indicators of
every (device, failure mode) pair and their trends to threshold; this module
turns them into what leaves the engine:

* :func:`trend_only`: without a trained model, the probability and time to
  failure of a pair are those of its likeliest crossing among the indicators
  on a course toward failure (:func:`on_course`): far from their baseline (z
  above :data:`TRENDLESS_Z`) and further along than at the same hours the day
  before, on each of the last two days (by :data:`DAY_CHANGE_Z` standard
  errors). A daily cycle (an MR chiller's cooling water) or a new operating
  level (a new infusion rate) is not extrapolated; a trend needs three days
  of points to be;
* :func:`assemble_predictions`: one :class:`Prediction` per pair, with its
  (up to three) most deviating indicators as evidence, each converted back
  from normal-range units to the signal's own units (:func:`indicator`), so a
  work order can say "cold head 2nd stage 4.6 K, baseline 4.2 K, +0.02 K/day".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from htm_edge.models.prognostics.features import TrendForecast
from htm_edge.models.prognostics.indicators import IndicatorValues
from htm_edge.models.prognostics.points import LEVEL, RATE, SPREAD
from htm_edge.models.types import Indicator, Prediction

__all__ = [
    "DAY_CHANGE_Z",
    "STAT_NAMES",
    "TRENDLESS_Z",
    "Evidence",
    "assemble_predictions",
    "indicator",
    "on_course",
    "trend_only",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
STAT_NAMES = {LEVEL: "level", RATE: "rate", SPREAD: "spread"}
#: trend-only predictions use indicators at least this many noise units from their baseline
TRENDLESS_Z = 3.0
#: ... and further along than a day before by this many standard errors, two days running
DAY_CHANGE_Z = 2.0
_EVIDENCE = 3


@dataclass(frozen=True)
class Evidence:
    """One evaluation's indicators (index ``i``) and what they need to be told in signal units."""

    values: IndicatorValues
    forecast: TrendForecast
    group: IntArray  # the (device, mode) pair of indicator i
    threshold: FloatArray  # in normal-range units
    scale: FloatArray  # normal-range unit -> signal unit
    stat: IntArray
    sign: FloatArray
    signals: Sequence[str]
    units: Sequence[str]


def trend_only(
    v: IndicatorValues, f: TrendForecast, group: IntArray, n: int
) -> tuple[FloatArray, FloatArray]:
    """Per pair: the probability within the horizon and the 10/50/90 % time to failure (s)."""
    strong = on_course(v)
    ph = np.where(strong, np.nan_to_num(f.p_horizon, nan=0.0), 0.0)
    p = np.zeros(n)
    np.maximum.at(p, group, ph)
    ttf = np.full((n, 3), np.inf)
    for j, arr in enumerate((f.early, f.mid, f.late)):
        col = np.full(n, np.inf)
        np.minimum.at(col, group, np.where(strong, np.nan_to_num(arr, nan=np.inf), np.inf))
        with np.errstate(over="ignore", invalid="ignore"):
            ttf[:, j] = col * 86_400.0
    return p, ttf


def on_course(v: IndicatorValues) -> npt.NDArray[np.bool_]:
    """Indicators a trend may be extrapolated from (see the module docstring)."""
    far = np.nan_to_num(v.z, nan=0.0) > TRENDLESS_Z
    limit = DAY_CHANGE_Z * v.day_change_se
    with np.errstate(invalid="ignore"):
        today = np.nan_to_num(v.day_change - limit, nan=-1.0) > 0
        yesterday = np.nan_to_num(v.prev_day_change - limit, nan=-1.0) > 0
    return far & today & yesterday


def assemble_predictions(
    device_ids: Sequence[str],
    failure_modes: Sequence[str],
    now: float,
    p: FloatArray,
    ttf: FloatArray,
    ev: Evidence,
    horizon_s: float,
    model_name: str,
) -> list[Prediction]:
    """One prediction per pair ``g``, its evidence the pair's most deviating indicators."""
    n = len(device_ids)
    order = np.lexsort((-np.nan_to_num(ev.values.z, nan=-np.inf), ev.group))
    starts = np.searchsorted(ev.group[order], np.arange(n))
    ends = np.searchsorted(ev.group[order], np.arange(n), side="right")
    out = []
    for g in range(n):
        top = order[starts[g] : min(ends[g], starts[g] + _EVIDENCE)]
        lo, mid, hi = (float(t) for t in ttf[g])
        out.append(
            Prediction(
                device_ids[g],
                failure_modes[g],
                now,
                float(p[g]),
                horizon_s,
                _inf(mid),
                _inf(lo),
                _inf(hi),
                tuple(indicator(int(i), ev) for i in top),
                model_name,
            )
        )
    return out


def indicator(i: int, ev: Evidence) -> Indicator:
    """Indicator ``i`` in its signal's units (a spread: as a ratio of the signal's level)."""
    v, f = ev.values, ev.forecast
    s = int(ev.stat[i])
    if s == SPREAD:
        value, base = float(np.exp(v.level[i])), float(np.exp(v.baseline[i]))
        dev, noise = value - base, float(v.noise[i]) * value
        slope = float(f.slope[i]) * value
        thr = base * float(np.expm1(ev.threshold[i]))
    else:
        k = float(ev.scale[i])
        value, base = float(v.level[i]), float(v.baseline[i])
        dev, noise = float(v.deviation[i]) * k, float(v.noise[i]) * k
        slope, thr = float(f.slope[i]) * k, float(ev.threshold[i]) * k
    direction = "variance_up" if s == SPREAD else ("up" if ev.sign[i] > 0 else "down")
    return Indicator(
        ev.signals[i],
        STAT_NAMES[s],
        direction,
        ev.units[i],
        value,
        base,
        dev,
        noise,
        slope,
        thr,
        _inf(float(f.mid[i]) * 86_400.0),
        _inf(float(f.early[i]) * 86_400.0),
        _inf(float(f.late[i]) * 86_400.0),
    )


def _inf(x: float) -> float:
    return float("inf") if x != x else x
