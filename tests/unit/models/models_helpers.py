"""Shared helpers of the models tests: registry listings and stream runners."""

from __future__ import annotations

import numpy as np

from htm_edge.models.base import Detector
from htm_edge.models.registry import DETECTORS

#: univariate detectors (multivariate ones take 2-D points and have their own tests)
UNIVARIATE = sorted(n for n, c in DETECTORS.items() if not c.multivariate)


def run(det: Detector, x: np.ndarray, ts: np.ndarray | None = None, stream: int = 0) -> np.ndarray:
    """Process a 1-D series through one stream, returning its scores."""
    ts = np.arange(len(x)) * 300.0 if ts is None else ts
    idx = np.array([stream], dtype=np.intp)
    return np.array([det.process_many(idx, x[i : i + 1], ts[i : i + 1])[0] for i in range(len(x))])


def row_times(x: np.ndarray, step_s: float) -> np.ndarray:
    """Timestamps for ``x`` of shape (T, n): row ``t`` at ``t * step_s`` on every stream."""
    return np.repeat((np.arange(x.shape[0]) * step_s)[:, None], x.shape[1], axis=1)


def run_many(det: Detector, x: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Process ``x`` of shape (T, n): one vector step per row over streams 0..n-1."""
    idx = np.arange(x.shape[1], dtype=np.intp)
    return np.stack([det.process_many(idx, x[t], ts[t]) for t in range(x.shape[0])])


def noise_series(seed: int, n: int = 3000) -> np.ndarray:
    """``n`` points of N(50, 2): the healthy signal of the ``robust_pot`` tests."""
    return 50.0 + 2.0 * np.random.default_rng(seed).normal(size=n)
