"""A held-out fleet's failures, and how well a fleet model ranks and calibrates them.

Shared by the tests of a model trained in the test and of the shipped reference
model: the same fleet (seed 11, 30 devices, 40 days, one sample per 10 minutes,
three failures with precursors, never trained on), simulated once per session.
"""

from __future__ import annotations

import functools

import numpy as np

from htm_edge.gateway.prognostics_fleet import FleetFeatures, collect_features
from htm_edge.models.prognostics import FleetModel, PrognosticsConfig
from htm_edge.models.prognostics.training import label_table

HELD_OUT_SEED, DEVICES, DAYS, PERIOD = 11, 30, 40, 600.0


@functools.cache
def _fleet(config_json: str) -> FleetFeatures:
    cfg = PrognosticsConfig.model_validate_json(config_json)
    return collect_features(DEVICES, HELD_OUT_SEED, DAYS, config=cfg, period_s=PERIOD)


def held_out_fleet(cfg: PrognosticsConfig) -> FleetFeatures:
    """The held-out fleet's features under ``cfg``, simulated once per feature settings.

    ``enabled`` and ``model_file`` do not change the features, so they do not key the cache.
    """
    return _fleet(cfg.model_dump_json(exclude={"enabled", "model_file"}))


def held_out_scores(model: FleetModel, cfg: PrognosticsConfig) -> tuple[int, float, float, float]:
    """Rows failing within the horizon, AUC, Brier score, and the base rate's Brier score."""
    other = held_out_fleet(cfg)
    table = label_table(
        other.batches, other.courses, other.downtime, cfg.horizon_h * 3600.0,
        model.thresholds, cfg.default_threshold,
    )  # fmt: skip
    p, _ = model.predict(table.x, "*")
    y = table.within.astype(float)
    base = model.groups["*"].base_rate
    pos, neg = p[table.within], p[~table.within]
    auc = float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))
    brier, brier_base = float(np.mean((p - y) ** 2)), float(np.mean((base - y) ** 2))
    return int(table.within.sum()), auc, brier, brier_base
