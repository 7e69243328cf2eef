"""Priors and options of the per-point tails of
:class:`~models.detectors.robust_pot.RobustPot`, one row per statistic.

The rows follow :data:`NAMES`. Each prior is what an independent Gaussian stream would
give, in the statistic's own units (sigma for the residuals; the level and spread
statistics are EWMAs of spans ``level_span`` and ``spread_span``). The noise CUSUM
(:mod:`models.detectors._noise`) differs from the others in three ways: its shape
prior is 0 (a CUSUM of bounded increments has an exponential tail), its tail is
declustered (one excess per run), and its extrapolation beyond the threshold is
trusted only as runs are seen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from htm_edge.models.base import FloatArray
from htm_edge.models.detectors._noise import NOISE_PRIOR_E1, threshold_prior
from htm_edge.models.detectors._stats import BoolArray

__all__ = ["NAMES", "PointTails", "point_tails"]

#: the per-point statistics, in the order of their rows of state
NAMES = ("point", "level", "spread", "range", "noise")


@dataclass(frozen=True)
class PointTails:
    """Per-statistic arrays, one row per statistic in use (in :data:`NAMES` order), of
    shape ``(k, 1)`` (``u_init``: ``(k,)``)."""

    prior_e1: FloatArray
    u_init: FloatArray
    u_min: FloatArray
    decluster: BoolArray
    xi0: FloatArray
    xi_margin: FloatArray
    evidence: FloatArray


def point_tails(
    p: dict[str, Any], level_alpha: float, spread_alpha: float, names: Sequence[str]
) -> PointTails:
    """The priors and options of the per-point statistics ``names`` (a subset of
    :data:`NAMES`; rows in :data:`NAMES` order) from ``robust_pot``'s parameters ``p``
    and the EWMA weights of its level and spread statistics."""
    sd_e = math.sqrt(level_alpha / (2.0 - level_alpha))
    sd_v = math.sqrt(1.8 * spread_alpha / (2.0 - spread_alpha))
    ix = [i for i, nm in enumerate(NAMES) if nm in names]
    one = np.ones((len(ix), 1))
    decluster = np.array([[NAMES[i] == "noise"] for i in ix], dtype=bool).reshape(-1, 1)
    prior_e1 = np.array([0.4, 0.4 * sd_e, 0.4 * sd_v, 0.4, NOISE_PRIOR_E1])
    u_init = np.array(
        [2.33, 2.33 * sd_e, 0.97 + 2.05 * sd_v, 2.33, threshold_prior(float(p["phi"]))]
    )
    u_min = np.array([1.0, 0.5 * sd_e, 0.3, 1.0, 0.5])
    return PointTails(
        prior_e1=prior_e1[ix, None],
        u_init=u_init[ix],
        u_min=u_min[ix, None],
        decluster=decluster,
        xi0=np.where(decluster, 0.0, float(p["xi0"]) * one),
        xi_margin=np.where(decluster, float(p["noise_xi_margin"]), float(p["xi_margin"]) * one),
        evidence=np.where(decluster, float(p["noise_evidence_runs"]), 0.0 * one),
    )
