"""Batched fitting helpers of the multivariate detector: PCA on a shrunk correlation.

These are pure functions over stacks of streams (leading axis = stream), so a
fleet of devices is refitted with one batched ``numpy.linalg.eigh`` call.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.special import chdtr, fdtr

__all__ = ["PcaModel", "fit_pca", "moment_match", "q_cdf", "t2_cdf", "welford"]

FloatArray = npt.NDArray[np.float64]

_TINY = 1e-12


class PcaModel(NamedTuple):
    """Quadratic forms that turn a point into T² and Q, for a stack of streams.

    With ``z = (x - mu) / scale``, ``T² = z @ a_t @ z`` (Mahalanobis distance in
    the ``k`` kept principal components) and ``Q = z @ a_q @ z`` (squared residual
    off that subspace, the SPE). Under the fitted Gaussian model ``Q ≈ g·χ²_h``
    (Box), with ``g = θ₂/θ₁`` and ``h = θ₁²/θ₂`` from the residual eigenvalues.
    """

    mu: FloatArray  # (n, d)
    scale: FloatArray  # (n, d)
    a_t: FloatArray  # (n, d, d)
    a_q: FloatArray  # (n, d, d)
    k: FloatArray  # (n,) components kept (as float, the F distribution's dof)
    g: FloatArray  # (n,)
    h: FloatArray  # (n,)


def fit_pca(
    mean: FloatArray,
    cov: FloatArray,
    *,
    explained_variance: float,
    shrinkage: float,
    min_std: float,
) -> PcaModel:
    """Fit the T²/Q model of each stream from its mean and covariance.

    Parameters
    ----------
    mean, cov:
        Shapes ``(n, d)`` and ``(n, d, d)``: running mean and covariance.
    explained_variance:
        Keep the fewest leading components whose share of the (standardised)
        variance reaches this fraction; the rest form the residual space of Q.
        At least one component is kept and, when ``d > 1`` and the fraction is
        below 1, at least one is left to the residual.
    shrinkage:
        The correlation matrix ``R`` is shrunk to ``(1 - s) R + s I``: its
        eigenvalues, floored at ``s``, scale T² and give Q's distribution, which
        bounds both when signals are collinear or constant.
    min_std:
        Floor of each signal's standard deviation, relative to ``|mean|`` (with an
        absolute floor of 1e-12). A signal that was constant while fitting scores
        as very abnormal once it moves.

    Returns
    -------
    PcaModel
        The batched model.
    """
    _, d = mean.shape
    var = np.clip(np.diagonal(cov, axis1=1, axis2=2), 0.0, None)
    floor = np.maximum(min_std * np.abs(mean), 1e-12)
    scale = np.sqrt(np.maximum(var, floor * floor))
    corr = cov / (scale[:, :, None] * scale[:, None, :])
    corr = 0.5 * (corr + np.swapaxes(corr, 1, 2))
    evals, evecs = np.linalg.eigh(corr)  # ascending
    evals = np.clip(evals[:, ::-1], 0.0, None)
    evecs = evecs[:, :, ::-1]
    total = np.maximum(evals.sum(axis=1, keepdims=True), _TINY)
    share = np.cumsum(evals, axis=1) / total
    k = (share < explained_variance - 1e-12).sum(axis=1) + 1
    k_max = d - 1 if (d > 1 and explained_variance < 1.0) else d
    k = np.clip(k, 1, k_max)
    keep = (np.arange(d)[None, :] < k[:, None]).astype(np.float64)
    shrunk = (1.0 - shrinkage) * evals + shrinkage
    a_t = np.einsum("nij,nj,nkj->nik", evecs, keep / shrunk, evecs)
    a_q = np.einsum("nij,nj,nkj->nik", evecs, 1.0 - keep, evecs)
    theta1 = ((1.0 - keep) * shrunk).sum(axis=1)
    theta2 = ((1.0 - keep) * shrunk * shrunk).sum(axis=1)
    has_q = theta1 > 0.0
    g = np.where(has_q, theta2 / np.where(has_q, theta1, 1.0), 1.0)
    h = np.where(has_q, theta1 * theta1 / np.where(has_q, theta2, 1.0), 1.0)
    return PcaModel(mean.copy(), scale, a_t, a_q, k.astype(np.float64), g, h)


def t2_cdf(t2: FloatArray, k: FloatArray, n: FloatArray) -> FloatArray:
    """``P(T² <= t2)`` for a new point under a Gaussian model fitted on ``n`` points.

    Uses ``T² ~ k(n-1)(n+1) / (n(n-k)) · F(k, n-k)``.

    >>> round(float(t2_cdf(np.array([2.0]), np.array([1.0]), np.array([1e9]))[0]), 3)
    0.843
    """
    n = np.maximum(n, k + 2.0)
    f = np.maximum(t2, 0.0) * n * (n - k) / (k * (n - 1.0) * (n + 1.0))
    out: FloatArray = np.clip(fdtr(k, n - k, f), 0.0, 1.0)
    return out


def q_cdf(q: FloatArray, g: FloatArray, h: FloatArray) -> FloatArray:
    """``P(g·χ²_h <= q)``: Box's approximation of the distribution of Q.

    >>> float(q_cdf(np.array([0.0]), np.array([1.0]), np.array([2.0]))[0])
    0.0
    """
    out: FloatArray = np.clip(chdtr(h, np.maximum(q, 0.0) / g), 0.0, 1.0)
    return out


def moment_match(
    n: FloatArray,
    mean: FloatArray,
    m2: FloatArray,
    floor_mean: FloatArray | float = 0.0,
    floor_var: FloatArray | float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Scaled χ² ``g·χ²_h`` with the mean and variance of a sample (Welford sums).

    ``n``, ``mean`` and ``m2`` are the count, mean and sum of squared deviations of
    the sample; the mean and variance are floored at ``floor_mean``/``floor_var``
    (the values for independent rows, which positive autocorrelation only raises:
    a guard against a variance underestimated from few effective samples). Returns
    ``(g, h)`` with ``g = var / (2·mean)``, ``h = 2·mean² / var``; ``h = 0`` marks a
    stream whose sample cannot be matched (fewer than two values, or zero mean or
    variance).

    >>> g, h = moment_match(np.array([3.0]), np.array([2.0]), np.array([8.0]))
    >>> float(g[0]), float(h[0])
    (1.0, 2.0)
    """
    var = np.maximum(m2 / np.maximum(n - 1.0, 1.0), floor_var)
    mean = np.maximum(mean, floor_mean)
    ok = (n >= 2.0) & (mean > _TINY) & (var > _TINY * np.maximum(mean * mean, 1.0))
    g = np.where(ok, var / (2.0 * np.where(ok, mean, 1.0)), 1.0)
    h = np.where(ok, 2.0 * mean * mean / np.where(ok, var, 1.0), 0.0)
    return g, h


def welford(
    n: FloatArray, mean: FloatArray, m2: FloatArray, x: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Add ``x`` as the ``n``-th value to a running mean and sum of squared deviations.

    >>> welford(np.array([2.0]), np.array([1.0]), np.array([0.0]), np.array([3.0]))
    (array([2.]), array([2.]))
    """
    delta = x - mean
    new_mean = mean + delta / n
    return new_mean, m2 + delta * (x - new_mean)
