"""What the anomaly benchmarks run: registry detectors through score-csv's path, and a baseline.

:func:`score_series` is the one entry point of ``benchmarks.streaming`` and
``benchmarks.calibration``: a registry name goes through
:func:`htm_edge.models.offline.score_streams` (the ``htm-edge score-csv`` core:
one stream per series, one detector step per row index), and
:data:`EWMA_BASELINE` through :func:`ewma_zscore`, a plain exponentially
weighted z-score that any detector should beat. :func:`detectors_to_run` names
the registry default, the previous default ``ensemble`` and the baseline,
whatever the default is at run time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.special import erf

from htm_edge.models import registry
from htm_edge.models.offline import score_streams

__all__ = [
    "EWMA_ALPHA",
    "EWMA_BASELINE",
    "PREVIOUS_DEFAULT",
    "detectors_to_run",
    "ewma_zscore",
    "score_series",
]

FloatArray = npt.NDArray[np.float64]

#: name of the baseline in reports (not a registry detector)
EWMA_BASELINE = "ewma_zscore"
EWMA_ALPHA = 0.01
#: the default detector before issue 8, kept in every report for comparison
PREVIOUS_DEFAULT = "ensemble"


def ewma_zscore(values: Sequence[npt.ArrayLike], alpha: float = EWMA_ALPHA) -> list[FloatArray]:
    """Plain EWMA z-score of each series, scored before learning: ``erf(|z|/√2)``.

    Running mean ``m`` and variance ``v`` with weight ``alpha``; a point's score is
    ``erf(|x − m|/√(2v))`` from the state *before* it, then ``m += α d`` and
    ``v = (1 − α)(v + α d²)`` with ``d = x − m``. The first point sets ``m`` and
    scores 0; a deviation against a zero variance scores 1. NaN scores 0 and is
    not learned. All series step together, vectorised over streams.

    >>> [round(float(s), 3) for s in ewma_zscore([np.array([0.0, 1.0, 0.0, np.nan])])[0]]
    [0.0, 1.0, 0.08, 0.0]
    """
    vals = [np.asarray(v, dtype=np.float64) for v in values]
    n, tmax = len(vals), max((len(v) for v in vals), default=0)
    x = np.full((tmax, n), np.nan)
    for j, v in enumerate(vals):
        x[: len(v), j] = v
    mean, var, out = np.full(n, np.nan), np.zeros(n), np.zeros((tmax, n))
    for t in range(tmax):
        ok = np.isfinite(x[t])
        mean = np.where(ok & np.isnan(mean), x[t], mean)
        d = np.where(ok, x[t] - mean, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(d == 0.0, 0.0, np.abs(d) / np.sqrt(var))
        out[t] = erf(z / math.sqrt(2.0))
        mean = mean + alpha * d
        var = np.where(ok, (1.0 - alpha) * (var + alpha * d * d), var)
    return [out[: len(v), j].copy() for j, v in enumerate(vals)]


def score_series(
    detector: str, values: Sequence[FloatArray], timestamps: Sequence[FloatArray]
) -> list[FloatArray]:
    """Scores of each series (one stream each) by a registry detector or the EWMA baseline."""
    if detector == EWMA_BASELINE:
        return ewma_zscore(values)
    return score_streams(values, timestamps, detector)


def detectors_to_run(extra: Sequence[str] = ()) -> list[str]:
    """Registry default, previous default, ``extra`` names and the baseline, without repeats."""
    names = [registry.DEFAULT_DETECTOR, PREVIOUS_DEFAULT, *extra, EWMA_BASELINE]
    for n in names:
        if n != EWMA_BASELINE and n not in registry.DETECTORS:
            raise ValueError(f"unknown detector {n!r}; valid: {sorted(registry.DETECTORS)}")
    return list(dict.fromkeys(names))
