"""One evaluation of the prognostics engine: the devices whose bucket closed, to predictions.

From the indicator tables (:mod:`.tables`) of the devices to evaluate and their
stream points: the indicators (:mod:`.indicators`), their trends to the learned
or default failure threshold, one feature row per (device, failure mode)
(:mod:`.features`), the probability and time to failure (the fleet model per
device group, else the trends alone) and the predictions with their evidence
(:mod:`.evidence`). Kept apart from :mod:`.engine`, which routes readings to
streams and buckets and keeps the state: this is the once-per-bucket computation,
and it holds no state of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from htm_edge.config.inventory import Device
from htm_edge.models.prognostics.batch import FeatureBatch, group_keys, threshold_for, threshold_key
from htm_edge.models.prognostics.config import PrognosticsConfig
from htm_edge.models.prognostics.evidence import (
    STAT_NAMES,
    Evidence,
    assemble_predictions,
    trend_only,
)
from htm_edge.models.prognostics.features import (
    FEATURE_SET,
    TrendForecast,
    feature_rows,
    trend_forecast,
)
from htm_edge.models.prognostics.indicators import IndicatorValues, compute_indicators
from htm_edge.models.prognostics.model import FleetModel
from htm_edge.models.prognostics.points import StreamPoints
from htm_edge.models.prognostics.tables import DeviceTable
from htm_edge.models.types import Prediction

__all__ = ["evaluate"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def evaluate(
    tables: Sequence[tuple[int, DeviceTable]],
    points: StreamPoints,
    config: PrognosticsConfig,
    model: FleetModel | None,
    dev_ids: Sequence[str],
    devices: Sequence[Device],
    now: float,
    recorded: list[FeatureBatch] | None = None,
) -> list[Prediction]:
    """Predictions at ``now`` for every failure mode of the devices of ``tables``.

    ``tables`` pairs a device's index in ``dev_ids`` and ``devices`` with its
    indicator table; ``model`` is the fleet model, or None for trend-only
    predictions. When ``recorded`` is given, the evaluation's feature rows are
    appended to it (training).
    """
    streams = np.concatenate([t.streams for _, t in tables])
    stat = np.concatenate([t.stat for _, t in tables])
    sign = np.concatenate([t.sign for _, t in tables])
    scale = np.concatenate([t.scale for _, t in tables])
    quantum = np.concatenate([t.quantum for _, t in tables])
    pair_dev: list[int] = []
    pair_mode: list[str] = []
    groups = []
    thr: list[tuple[str, float]] = []
    offset = 0
    for d, t in tables:
        groups.append(t.mode_of + offset)
        for mode in t.modes:
            pair_dev.append(d)
            pair_mode.append(mode)
        offset += len(t.modes)
        for i, sig in enumerate(t.signals):
            key = threshold_key(t.modes[t.mode_of[i]], sig, STAT_NAMES[int(t.stat[i])])
            learned = {} if model is None else model.thresholds
            thr.append((key, threshold_for(learned, key, config.default_threshold)))
    group = np.concatenate(groups)
    threshold = np.array([t for _, t in thr])
    v = compute_indicators(
        points,
        streams,
        stat,
        sign,
        scale,
        quantum,
        now,
        level_window_h=config.level_window_h,
        baseline_days=config.baseline_days,
        short_trend_h=config.short_trend_h,
        long_trend_days=config.long_trend_days,
    )
    horizon_d = config.horizon_h / 24.0
    f = trend_forecast(v, threshold, horizon_d)
    x, _top = feature_rows(v, f, threshold, group, offset)
    if recorded is not None:
        recorded.append(
            FeatureBatch(
                [dev_ids[d] for d in pair_dev],
                list(pair_mode),
                now,
                x,
                v,
                group,
                [k for k, _ in thr],
            )
        )
    p, ttf = _predict(model, devices, x, pair_dev, v, f, group, offset)
    return assemble_predictions(
        [dev_ids[d] for d in pair_dev],
        pair_mode,
        now,
        p,
        ttf,
        Evidence(
            v,
            f,
            group,
            threshold,
            scale,
            stat,
            sign,
            [s for _, t in tables for s in t.signals],
            [u for _, t in tables for u in t.units],
        ),
        config.horizon_h * 3600.0,
        model.name if model is not None else f"trend/{FEATURE_SET}",
    )


def _predict(
    model: FleetModel | None,
    devices: Sequence[Device],
    x: FloatArray,
    pair_dev: list[int],
    v: IndicatorValues,
    f: TrendForecast,
    group: IntArray,
    n: int,
) -> tuple[FloatArray, FloatArray]:
    """Per (device, mode) row: P(fail within horizon) and TTF quantiles (model, else trends)."""
    if model is not None:
        p = np.zeros(n)
        ttf = np.full((n, 3), np.nan)
        by_group: dict[str, list[int]] = {}
        for i, d in enumerate(pair_dev):
            by_group.setdefault(model.group_of(group_keys(devices[d])), []).append(i)
        for key, rows in by_group.items():
            idx = np.array(rows)
            p[idx], ttf[idx] = model.predict(x[idx], key)
        return p, ttf
    return trend_only(v, f, group, n)
