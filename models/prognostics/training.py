"""From recorded evaluations and ground truth to a labelled table, and the fit of a fleet model.

Ground truth comes in as plain :class:`Course` and :class:`Downtime` tuples
(the application converts the simulator's records), so this module knows no
simulator. A row is one (device, failure mode, evaluation time):

* rows while the device is down (failed, until its repair ends) or in
  service are dropped: nobody needs a prediction then;
* ``within``: a degradation of that mode with a precursor is under way
  (onset <= t < failure, or < the fix when maintenance found it) and fails
  within the horizon;
* ``ttf_s``: for rows of a degradation under way, the time to its failure
  (the regressors' target), else NaN.

**Thresholds**: for every indicator key (mode, signal, statistic) the
median over failed courses of the indicator's deviation at the last
evaluation before the failure: the level at which that kind of part fails,
in range units, learned across the fleet. Trend features are recomputed
with them before the models are fitted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from htm_edge.models.prognostics.batch import FeatureBatch, threshold_for
from htm_edge.models.prognostics.features import feature_rows, trend_forecast
from htm_edge.models.prognostics.indicators import IndicatorValues
from htm_edge.models.prognostics.model import GLOBAL, FleetModel, GroupModel, fit_group

__all__ = [
    "Course",
    "Downtime",
    "Table",
    "fit_fleet_model",
    "label_table",
    "learn_thresholds",
    "plan_groups",
    "threshold_for",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Course:
    """A degradation: device, mode, onset, (would-be) failure, end of the fix, outcome."""

    device_id: str
    failure_mode: str
    onset_ts: float
    failure_ts: float
    end_ts: float
    precursor: bool
    failed: bool


@dataclass(frozen=True, slots=True)
class Downtime:
    """A span without predictions: a service visit, or down after a failure."""

    device_id: str
    start_ts: float
    end_ts: float


@dataclass
class Table:
    """Labelled rows (see module docstring)."""

    x: FloatArray
    within: BoolArray
    ttf_s: FloatArray
    device_ids: list[str]
    failure_modes: list[str]
    ts: FloatArray

    def select(self, m: BoolArray) -> Table:
        """The rows where ``m``."""
        idx = np.flatnonzero(m)
        return Table(
            self.x[idx],
            self.within[idx],
            self.ttf_s[idx],
            [self.device_ids[i] for i in idx],
            [self.failure_modes[i] for i in idx],
            self.ts[idx],
        )


def learn_thresholds(
    batches: Sequence[FeatureBatch], courses: Iterable[Course], min_courses: int = 3
) -> dict[str, float]:
    """Median deviation at failure per indicator key, over failed courses with a precursor.

    Keys with fewer than ``min_courses`` courses fall back to ``*|*|<statistic>``,
    the median over every indicator of that statistic (see :func:`threshold_for`).
    """
    last: dict[tuple[str, str], float] = {}
    for c in courses:
        if c.failed and c.precursor:
            last[(c.device_id, c.failure_mode)] = c.failure_ts
    seen: dict[tuple[str, str, str], tuple[float, float]] = {}
    for b in batches:
        for g, (dev, mode) in enumerate(zip(b.device_ids, b.failure_modes, strict=True)):
            fail = last.get((dev, mode))
            if fail is None or not (fail - 86_400.0 <= b.ts < fail):
                continue
            for i in np.flatnonzero(b.group == g):
                dv = float(b.values.deviation[i])
                if dv == dv:
                    seen[(dev, mode, b.keys[i])] = (b.ts, dv)
    per_key: dict[str, list[float]] = {}
    per_stat: dict[str, list[float]] = {}
    for (_, _, key), (_, dv) in seen.items():
        per_key.setdefault(key, []).append(dv)
        per_stat.setdefault(key.rsplit("|", 1)[1], []).append(dv)
    out = {}
    for key, vals in per_key.items():
        if len(vals) >= min_courses and np.median(vals) > 0:
            out[key] = float(np.median(vals))
    for stat, vals in per_stat.items():  # fleet-wide fallback per statistic, for rarer keys
        if len(vals) >= min_courses and np.median(vals) > 0:
            out[f"*|*|{stat}"] = float(np.median(vals))
    return out


def _spans(
    courses: Iterable[Course], downtime: Iterable[Downtime]
) -> tuple[
    dict[str, list[tuple[float, float]]], dict[tuple[str, str], list[tuple[float, float, float]]]
]:
    down: dict[str, list[tuple[float, float]]] = {}
    for d in downtime:
        down.setdefault(d.device_id, []).append((d.start_ts, d.end_ts))
    under: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for c in courses:
        if c.failed:
            down.setdefault(c.device_id, []).append((c.failure_ts, c.end_ts))
        if c.precursor:
            stop = c.failure_ts if c.failed else c.end_ts
            under.setdefault((c.device_id, c.failure_mode), []).append(
                (c.onset_ts, stop, c.failure_ts)
            )
    return down, under


def label_table(
    batches: Sequence[FeatureBatch],
    courses: Sequence[Course],
    downtime: Sequence[Downtime],
    horizon_s: float,
    thresholds: Mapping[str, float],
    default_threshold: float,
) -> Table:
    """Recompute features with ``thresholds`` and label every row (see module docstring)."""
    down, under = _spans(courses, downtime)
    xs, within, ttf, devs, modes, tss = [], [], [], [], [], []
    for b in batches:
        thr = np.array([threshold_for(thresholds, k, default_threshold) for k in b.keys])
        n = len(b.device_ids)
        f = trend_forecast(b.values, thr, horizon_s / 86_400.0)
        x, _ = feature_rows(b.values, f, thr, b.group, n)
        for g in range(n):
            dev, mode = b.device_ids[g], b.failure_modes[g]
            t = b.ts
            if any(s <= t < e for s, e in down.get(dev, ())):
                continue
            w, left = False, np.nan
            for onset, stop, fail in under.get((dev, mode), ()):
                if onset <= t < stop:
                    left = fail - t
                    w = left <= horizon_s
            xs.append(x[g])
            within.append(w)
            ttf.append(left)
            devs.append(dev)
            modes.append(mode)
            tss.append(t)
    nf = batches[0].x.shape[1] if batches else 0
    return Table(
        np.array(xs).reshape(-1, nf),
        np.array(within, dtype=bool),
        np.array(ttf, dtype=np.float64),
        devs,
        modes,
        np.array(tss, dtype=np.float64),
    )


def plan_groups(
    table: Table,
    courses: Sequence[Course],
    device_groups: Mapping[str, tuple[str, ...]],
    min_courses: int,
) -> dict[str, BoolArray]:
    """Row masks of the groups to fit: ``*`` always, then each group key with enough failures."""
    counts: dict[str, int] = {}
    for c in courses:
        if c.failed and c.precursor:
            for key in device_groups.get(c.device_id, ())[:-1]:
                counts[key] = counts.get(key, 0) + 1
    out = {GLOBAL: np.ones(table.within.size, dtype=bool)}
    for key, n in sorted(counts.items()):
        if n >= min_courses:
            out[key] = np.array([key in device_groups.get(d, ()) for d in table.device_ids])
    return out


def _count_courses(table: Table, m: BoolArray) -> int:
    under = np.flatnonzero(m & ~np.isnan(table.ttf_s))
    return len({(table.device_ids[i], table.failure_modes[i]) for i in under})


def fit_fleet_model(
    table: Table,
    groups: Mapping[str, BoolArray],
    *,
    horizon_s: float,
    thresholds: Mapping[str, float],
    seed: int = 0,
    metadata: Mapping[str, Any] | None = None,
    alert_probability: float = 0.5,
    map_fn: Callable[[Callable[..., GroupModel], list[tuple[Any, ...]]], list[GroupModel]]
    | None = None,
) -> FleetModel:
    """Fit every group (``map_fn`` maps the fits, e.g. over a Dask cluster; default in order)."""
    keys = list(groups)
    jobs = [
        (table.x[groups[k]], table.within[groups[k]], table.ttf_s[groups[k]],
         _count_courses(table, groups[k]), seed)
        for k in keys
    ]  # fmt: skip
    fitted = [fit_group(*job) for job in jobs] if map_fn is None else map_fn(fit_group, jobs)
    return FleetModel(
        horizon_s,
        dict(thresholds),
        dict(zip(keys, fitted, strict=True)),
        alert_probability,
        dict(metadata or {}),
    )


def indicator_fields() -> tuple[str, ...]:
    """Names of the recorded indicator arrays (for serialising batches)."""
    return tuple(f.name for f in fields(IndicatorValues))
