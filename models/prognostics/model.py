"""The fleet model: failure within the horizon and time to failure, from indicator features.

One classifier (``P(this failure mode fails within the horizon)``) and three
quantile regressors (10 %, 50 %, 90 % of the log time to failure, fitted on
the rows of degradations under way) per *group*. Groups are fitted from the
most specific that has enough failures to the most general: make and model,
then modality, then the whole fleet (``*``), always present. Features are
relative to each device's own baseline, noise and healthy range
(:mod:`.indicators`), so a fleet-wide fit is adapted per device by
construction. Gradient boosting from scikit-learn (histogram trees: fast on
millions of rows, NaN-aware); fixed seeds, so the same rows give the same
model in process or on a Dask cluster.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from threadpoolctl import ThreadpoolController

from htm_edge.models.errors import ModelError
from htm_edge.models.prognostics.features import FEATURE_NAMES, FEATURE_SET
from htm_edge.models.prognostics.modelfile import load_model_file, save_model_file

__all__ = ["FleetModel", "GroupModel", "fit_group"]

FloatArray = npt.NDArray[np.float64]
KIND = "fleet-prognostics"
QUANTILES = (0.1, 0.5, 0.9)
GLOBAL = "*"


@functools.cache
def _threadpools() -> Any:
    """The process's thread pools, found once (a fresh search costs about 2 ms a call)."""
    return ThreadpoolController()


@dataclass
class GroupModel:
    """The estimators of one group, with what they were fitted on."""

    classifier: HistGradientBoostingClassifier | None
    quantiles: dict[float, HistGradientBoostingRegressor]
    base_rate: float
    n_rows: int
    n_positive_rows: int
    n_courses: int


def fit_group(
    x: FloatArray,
    within: npt.NDArray[np.bool_],
    ttf_s: FloatArray,
    n_courses: int,
    seed: int = 0,
    negative_share: float = 0.1,
) -> GroupModel:
    """Fit one group's classifier and quantile regressors (deterministic for a seed).

    Negatives are subsampled to ``negative_share`` (weighted back up), which
    keeps fitting time in check on long healthy histories.
    """
    rng = np.random.default_rng(seed)
    keep = within | (rng.random(within.size) < negative_share)
    weight = np.where(within, 1.0, 1.0 / negative_share)[keep]
    clf: HistGradientBoostingClassifier | None = None
    if within.any() and (~within).any():
        clf = HistGradientBoostingClassifier(
            max_iter=300,
            learning_rate=0.06,
            max_leaf_nodes=15,
            min_samples_leaf=80,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=seed,
        )
        clf.fit(x[keep], within[keep], sample_weight=weight)
    quantiles: dict[float, HistGradientBoostingRegressor] = {}
    under_way = ~np.isnan(ttf_s)
    if under_way.sum() >= 50:
        y = np.log(np.maximum(ttf_s[under_way], 600.0) / 3600.0)
        for q in QUANTILES:
            reg = HistGradientBoostingRegressor(
                loss="quantile",
                quantile=q,
                max_iter=200,
                learning_rate=0.06,
                max_leaf_nodes=15,
                min_samples_leaf=40,
                early_stopping=False,
                random_state=seed,
            )
            reg.fit(x[under_way], y)
            quantiles[q] = reg
    return GroupModel(
        clf,
        quantiles,
        float(within.mean()) if within.size else 0.0,
        int(within.size),
        int(within.sum()),
        n_courses,
    )


@dataclass
class FleetModel:
    """Fitted groups, failure thresholds and the alert probability chosen at training."""

    horizon_s: float
    thresholds: dict[str, float]
    groups: dict[str, GroupModel]
    alert_probability: float = 0.5
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Short name for predictions: kind, feature set and training time."""
        return f"{KIND}/{FEATURE_SET}/{self.metadata.get('trained_at', 'untrained')}"

    def group_of(self, keys: Sequence[str]) -> str:
        """The most specific fitted group among ``keys`` (then the global one)."""
        for key in keys:
            if key in self.groups:
                return key
        return GLOBAL

    def predict(self, x: FloatArray, group: str) -> tuple[FloatArray, FloatArray]:
        """P(failure within the horizon) and time-to-failure quantiles (s, ``(n, 3)``)."""
        g = self.groups.get(group) or self.groups[GLOBAL]
        n = x.shape[0]
        ttf = np.full((n, len(QUANTILES)), np.nan)
        # a few rows per call, hourly: OpenMP threads cost more than they save, and on a busy
        # gateway their spin-waits slowed predictions thirtyfold (measured with py-spy)
        with _threadpools().limit(limits=1, user_api="openmp"):
            if g.classifier is None:
                p = np.full(n, g.base_rate)
            else:
                p = g.classifier.predict_proba(x)[:, 1]
            if g.quantiles:
                for j, q in enumerate(QUANTILES):
                    ttf[:, j] = np.exp(g.quantiles[q].predict(x)) * 3600.0
                ttf = np.sort(ttf, axis=1)  # quantile crossing
        return p, ttf

    # ------------------------------------------------------------------ files
    def save(self, path: Path) -> None:
        """Write the versioned model file (see :mod:`.modelfile`)."""
        meta = {
            **self.metadata,
            "horizon_s": self.horizon_s,
            "alert_probability": self.alert_probability,
            "groups": {
                k: {"rows": g.n_rows, "positive_rows": g.n_positive_rows, "courses": g.n_courses}
                for k, g in self.groups.items()
            },
            "features": list(FEATURE_NAMES),
        }
        payload = {
            "horizon_s": self.horizon_s,
            "thresholds": self.thresholds,
            "groups": self.groups,
            "alert_probability": self.alert_probability,
            "metadata": self.metadata,
        }
        save_model_file(path, KIND, FEATURE_SET, payload, meta)

    @classmethod
    def load(cls, path: Path) -> FleetModel:
        """Read a model file written by :meth:`save` (ModelError if it does not fit)."""
        _, payload = load_model_file(path, kind=KIND, feature_set=FEATURE_SET)
        try:
            model = cls(
                float(payload["horizon_s"]),
                dict(payload["thresholds"]),
                dict(payload["groups"]),
                float(payload["alert_probability"]),
                dict(payload["metadata"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"model file {path}: incomplete ({exc!r}); train it again") from None
        if GLOBAL not in model.groups:
            raise ModelError(f"model file {path}: has no fleet-wide group; train it again")
        return model
