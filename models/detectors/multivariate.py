"""Multivariate detector: Hotelling T² and SPE (Q) on an online PCA, per device.

One stream is one device and one point is the vector of its ``d`` signals. Each
stream keeps a running mean and covariance (``O(d²)`` state), standardises the
signals, and fits a PCA on the shrunk correlation matrix. A point is scored by
**T²**, its Mahalanobis distance within the leading principal components (a joint
shift along the usual directions of variation), and **Q** (the squared prediction
error), its distance from that subspace (a *correlation break*).

Each statistic is smoothed by a causal EWMA (faults last seconds to hours, sensor
noise does not) and turned into a tail probability; the score is
``max(p_T, p_Q)²``, the probability that neither exceeds its observed value (as if
independent), so 0.99 reads "beyond the 99th percentile of normal" for the pair.

* ``calibration="theory"`` (default): T² through its F distribution (Hotelling's
  prediction form), Q through Box's ``g·χ²_h``, as for unsmoothed independent rows.
  Conservative on stationary signals (smoothing shrinks the statistics).
* ``calibration="empirical"``: each smoothed statistic is matched, by mean and
  variance, to a scaled ``g·χ²_h`` measured *out of sample* in the warm-up: the
  model is fitted on its first quarter, refitted every sixteenth, and each later
  warm-up point is scored by the model fitted before it. This accounts for the
  smoothing and for the autocorrelation of real rows; the variance is floored at
  its independent-rows value. With a 400-point warm-up and a 10-point half-life it
  rests on about ten effective samples, so its false-alarm rate on stationary
  autocorrelated rows varies between warm-ups (0 to ~10% at 0.99).

Slow signals whose level drifts in normal operation (temperatures) can be scored
by their first difference (``differenced``): their steps and changes of rate still
count, their slow wandering does not, their covariance with the rest is kept.

Misses: changes that mimic the normal covariance; a drift slower than ``forget``
while adapting; single-point spikes (smoothed away); a fault inside the warm-up.

Lifecycle of a stream (only rows with every modelled signal finite are learned):

1. the first ``warmup`` points are learned (running mean and covariance) and
   score 0; the model is fitted on them (and on growing prefixes, for the
   empirical calibration);
2. afterwards every point is scored; the mean/covariance keep adapting with
   weight ``max(1/n, forget)`` on points scoring below ``learn_below`` (times
   ``anomalous_rate`` on the others), and the model is refitted every
   ``refit_every`` learned points (``0``, the default, freezes it after warm-up).

Missing values: a differenced signal is differenced against its last finite value
(a stream's first point has none, so it is not learned); non-finite signals are
imputed with the model's mean; a row with no finite signal scores 0 and changes
nothing; a row with some missing signals advances the smoother but is not learned.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from htm_edge.models.base import FloatArray, IntArray
from htm_edge.models.detectors._multivariate_state import MultivariateState
from htm_edge.models.detectors.multivariate_fit import (
    PcaModel,
    fit_pca,
    moment_match,
    q_cdf,
    t2_cdf,
    welford,
)
from htm_edge.models.errors import ModelError

__all__ = ["MultivariateDetector"]

_CALIBRATIONS = ("empirical", "theory")
#: effective samples (points / variance-reduction span of the EWMA) of the smoothed
#: statistics needed to calibrate empirically (relative error of the variance ≈ 1/2)
_MIN_EFF = 8.0


class MultivariateDetector(MultivariateState):
    """Online T² + Q detector over ``n_streams`` devices of ``n_features`` signals each.

    Parameters
    ----------
    n_streams:
        Number of devices (stream slots).
    n_features:
        Number of signals per device, ``d``; ``x`` passed to the methods has shape ``(m, d)``.
    warmup:
        Points learned before the first non-zero score; at least ``n_features + 2``.
    explained_variance:
        Share of standardised variance kept in the principal subspace of T²; ``1.0``
        gives plain (shrunk) Mahalanobis distance and no Q.
    shrinkage:
        Shrinkage of the correlation matrix to identity, in ``(0, 1]``: floors every
        eigenvalue, which bounds T² and Q for collinear or constant signals.
    halflife:
        Half-life, in points, of the EWMA smoothing T² and Q (``0`` = no smoothing).
    forget:
        Floor of the weight of a new point in the mean/covariance after warm-up
        (``0`` = cumulative average; else ``1/forget`` ≈ memory in points).
    learn_below:
        After warm-up, points scoring below this are learned at full weight.
    refit_every:
        Refit the model after this many learned points after warm-up (``0`` = freeze
        the model after warm-up, and learn nothing more).
    anomalous_rate:
        Fraction of the full weight given to points scoring ``>= learn_below`` (``0`` =
        never learn them; a small value lets the model follow a lasting level change).
    min_std:
        Floor of each signal's standard deviation relative to its mean (see ``fit_pca``).
    differenced:
        Indices of the signals scored by their first difference (slow signals whose
        level drifts in normal operation, e.g. temperatures).
    calibration:
        ``"theory"`` (default) or ``"empirical"`` (see the module notes); the latter
        needs at least 8 effective out-of-sample warm-up samples
        (``≈ 0.75·warmup·(1 - 2^(-1/halflife)) / (1 + 2^(-1/halflife))``), else falls
        back to ``"theory"``: the F and Box distributions of unsmoothed rows.

    Notes
    -----
    State per device is ``3d² + 5d + 18`` numbers of 8 bytes, e.g. 2,016 bytes for
    ``d = 8`` (:attr:`bytes_per_stream`). A warm-up shorter than the slowest normal
    variation of the signals sees too little of normal, whatever the calibration.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> det = MultivariateDetector(n_streams=1, n_features=2, warmup=200)
    >>> z = rng.normal(size=(300, 1))
    >>> xs = np.hstack([z, z + 0.1 * rng.normal(size=(300, 1))])
    >>> idx = np.array([0])
    >>> for row in xs:
    ...     s = det.process_many(idx, row[None, :], np.zeros(1))
    >>> broken = np.array([[1.0, -1.0]])  # each in range, jointly impossible
    >>> for _ in range(20):
    ...     s = det.process_many(idx, broken, np.zeros(1))
    >>> bool(s[0] > 0.99)
    True
    """

    type_name: ClassVar[str] = "multivariate"
    multivariate: ClassVar[bool] = True

    def __init__(
        self,
        n_streams: int = 1,
        *,
        n_features: int,
        warmup: int = 400,
        explained_variance: float = 0.9,
        shrinkage: float = 0.05,
        halflife: float = 10.0,
        forget: float = 0.0,
        learn_below: float = 0.9,
        refit_every: int = 0,
        anomalous_rate: float = 0.0,
        min_std: float = 1e-4,
        differenced: tuple[int, ...] | list[int] = (),
        calibration: str = "theory",
    ) -> None:
        if n_features < 1:
            raise ModelError(f"multivariate: n_features must be >= 1, got {n_features}")
        if warmup < n_features + 2:
            raise ModelError(
                f"multivariate: warmup must be >= n_features + 2 = {n_features + 2}, got {warmup}"
            )
        if not 0.0 < shrinkage <= 1.0:
            raise ModelError(f"multivariate: shrinkage must lie in (0, 1], got {shrinkage}")
        if not 0.0 < explained_variance <= 1.0:
            raise ModelError(
                f"multivariate: explained_variance must lie in (0, 1], got {explained_variance}"
            )
        if halflife < 0 or refit_every < 0 or min_std < 0:
            raise ModelError("multivariate: halflife, refit_every and min_std must be >= 0")
        if not (0.0 <= forget < 1.0 and 0.0 <= anomalous_rate <= 1.0):
            raise ModelError("multivariate: forget must lie in [0, 1), anomalous_rate in [0, 1]")
        diff = tuple(int(i) for i in differenced)
        if any(not 0 <= i < n_features for i in diff) or len(set(diff)) != len(diff):
            raise ModelError(
                f"multivariate: differenced must hold distinct indices in [0, {n_features}), "
                f"got {list(differenced)}"
            )
        if calibration not in _CALIBRATIONS:
            raise ModelError(
                f"multivariate: calibration must be one of {_CALIBRATIONS}, got {calibration!r}"
            )
        super().__init__(n_streams)
        self.differenced = diff
        self.calibration = calibration
        self._diff = np.zeros(n_features, dtype=bool)
        self._diff[list(diff)] = True
        # empirical calibration: first fit after cal_start points, refits every cal_every
        self._cal_start = max(n_features + 2, warmup // 4)
        self._cal_every = max(1, warmup // 16)
        self._calibrate = calibration == "empirical" and self._cal_start < warmup
        self.n_features = n_features
        self.warmup = warmup
        self.explained_variance = explained_variance
        self.shrinkage = shrinkage
        self.halflife = halflife
        self.forget = forget
        self.learn_below = learn_below
        self.refit_every = refit_every
        self.anomalous_rate = anomalous_rate
        self.min_std = min_std
        self._alpha = 1.0 if halflife == 0 else 1.0 - 0.5 ** (1.0 / halflife)
        self._alloc(n_streams)  # the per-device arrays (see _multivariate_state)

    def _params(self) -> dict[str, Any]:
        keys = ["n_features", "warmup", "explained_variance", "shrinkage", "halflife", "forget"]
        keys += ["learn_below", "refit_every", "anomalous_rate", "min_std", "calibration"]
        return {**{key: getattr(self, key) for key in keys}, "differenced": list(self.differenced)}

    # --------------------------------------------------------------- scoring
    def _check(self, idx: IntArray, x: FloatArray) -> tuple[IntArray, FloatArray]:
        idx = np.asarray(idx, dtype=np.intp)
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1 and self.n_features == 1:
            x = x[:, None]
        if x.shape != (idx.shape[0], self.n_features):
            raise ModelError(
                f"multivariate: x must have shape ({idx.shape[0]}, {self.n_features}), "
                f"got {x.shape}"
            )
        return idx, x

    def _features(self, idx: IntArray, x: FloatArray) -> FloatArray:
        """The points as modelled: differenced signals minus their last finite value."""
        if not self.differenced:
            return x
        seen = self.seen[idx] > 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            step = np.where(seen, x - self.prev[idx], np.nan)
        out: FloatArray = np.where(self._diff, step, x)
        return out

    def _smoothed(self, idx: IntArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """EWMA-smoothed T² and Q of the modelled points ``x`` (state untouched)."""
        with np.errstate(over="ignore", invalid="ignore"):
            z = (x - self.mu[idx]) / self.scale[idx]
        z = np.where(np.isfinite(z), z, 0.0)  # missing signal: imputed with the mean
        t2 = np.maximum(np.einsum("ni,nij,nj->n", z, self.a_t[idx], z), 0.0)
        q = np.maximum(np.einsum("ni,nij,nj->n", z, self.a_q[idx], z), 0.0)
        first = self.scored[idx] == 0
        a = self._alpha
        sm_t = np.where(first, t2, (1.0 - a) * self.sm_t[idx] + a * t2)
        sm_q = np.where(first, q, (1.0 - a) * self.sm_q[idx] + a * q)
        return sm_t, sm_q

    def _tails(self, i: IntArray, t: FloatArray, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``P(T² <= t)`` and ``P(Q <= q)``: empirical where matched, else theory."""
        et, eq = self.he_t[i] > 0.0, self.he_q[i] > 0.0
        p_t = q_cdf(t, self.ge_t[i], np.where(et, self.he_t[i], 1.0))
        p_q = q_cdf(q, self.ge_q[i], np.where(eq, self.he_q[i], 1.0))
        p_t = np.where(et, p_t, t2_cdf(t, self.k[i], self.n_fit[i].astype(np.float64)))
        return p_t, np.where(eq, p_q, q_cdf(q, self.g[i], self.h[i]))

    def score_many(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> FloatArray:
        """Score one point (row of ``x``) per device in ``idx`` without learning."""
        idx, x = self._check(idx, x)
        sm_t, sm_q = self._smoothed(idx, self._features(idx, x))
        p_t, p_q = self._tails(idx, sm_t, sm_q)
        live = (self.count[idx] >= self.warmup) & np.isfinite(x).any(axis=1)
        # P(max <= observed), as if independent
        out: FloatArray = np.where(live, np.maximum(p_t, p_q) ** 2, 0.0)
        return out

    def statistics(self, idx: IntArray, x: FloatArray) -> dict[str, FloatArray]:
        """Smoothed T² and Q and their tail probabilities (for explanations; no state change)."""
        idx, x = self._check(idx, x)
        sm_t, sm_q = self._smoothed(idx, self._features(idx, x))
        p_t, p_q = self._tails(idx, sm_t, sm_q)
        return {"t2": sm_t, "q": sm_q, "p_t2": p_t, "p_q": p_q}

    # -------------------------------------------------------------- learning
    def learn_many(self, idx: IntArray, x: FloatArray, ts: FloatArray, scores: FloatArray) -> None:
        """Advance the smoothers and learn the fully finite, normal-looking rows."""
        idx, x = self._check(idx, x)
        scores = np.asarray(scores, dtype=np.float64)
        any_ok = np.isfinite(x).any(axis=1)
        idx, x, scores = idx[any_ok], x[any_ok], scores[any_ok]
        if idx.size == 0:
            return
        y = self._features(idx, x)
        if self.differenced:
            fin = np.isfinite(x)
            self.prev[idx] = np.where(fin, x, self.prev[idx])
            self.seen[idx] = np.where(fin, 1.0, self.seen[idx])
        fitted = self.n_fit[idx] > 0
        if fitted.any():
            fi = idx[fitted]
            sm_t, sm_q = self._smoothed(fi, y[fitted])
            self.sm_t[fi], self.sm_q[fi] = sm_t, sm_q
            self.scored[fi] += 1
            ci = fi[self.count[fi] < self.warmup]  # out of sample, still in warm-up
            if ci.size:
                n = self.cal_n[ci] + 1.0
                self.cal_n[ci] = n
                self.cal_t[ci], self.cal_t2[ci] = welford(
                    n, self.cal_t[ci], self.cal_t2[ci], self.sm_t[ci]
                )
                self.cal_q[ci], self.cal_q2[ci] = welford(
                    n, self.cal_q[ci], self.cal_q2[ci], self.sm_q[ci]
                )
        warm = self.count[idx] >= self.warmup
        rate = np.where(scores < self.learn_below, 1.0, self.anomalous_rate)
        rate = np.where(warm, rate if self.refit_every else 0.0, 1.0)
        learn = np.isfinite(y).all(axis=1) & (rate > 0.0)
        li = idx[learn]
        if li.size:
            self._update_moments(li, y[learn], rate[learn])
            self._refit(li)

    def _update_moments(self, li: IntArray, xl: FloatArray, rate: FloatArray) -> None:
        n = self.count[li] + 1
        w = 1.0 / n
        w = np.where(n > self.warmup, np.maximum(w, self.forget) * rate, w)
        delta = xl - self.mean[li]
        self.mean[li] += w[:, None] * delta
        outer = delta[:, :, None] * delta[:, None, :]
        self.cov[li] = (1.0 - w)[:, None, None] * (self.cov[li] + w[:, None, None] * outer)
        self.count[li] = n
        self.since_fit[li] += 1

    def _refit(self, li: IntArray) -> None:
        n = self.count[li]
        due = n == self.warmup
        if self._calibrate:
            pre = (n >= self._cal_start) & (n < self.warmup)
            due |= pre & ((n - self._cal_start) % self._cal_every == 0)
        if self.refit_every:
            due |= (n > self.warmup) & (self.since_fit[li] >= self.refit_every)
        fi = li[due]
        if fi.size == 0:
            return
        model: PcaModel = fit_pca(
            self.mean[fi],
            self.cov[fi],
            explained_variance=self.explained_variance,
            shrinkage=self.shrinkage,
            min_std=self.min_std,
        )
        for key, value in zip(PcaModel._fields, model, strict=True):
            getattr(self, key)[fi] = value
        n_eff = self.count[fi] if self.forget == 0 else np.minimum(self.count[fi], 1 / self.forget)
        self.n_fit[fi] = np.asarray(n_eff, dtype=np.intp)
        self.since_fit[fi] = 0
        ends = fi[self.count[fi] == self.warmup]  # end of warm-up: freeze the calibration
        if self._calibrate and ends.size:
            # too few effective samples of the smoothed statistic: keep the theory
            cn = np.where(
                self.cal_n[ends] * self._alpha / (2.0 - self._alpha) >= _MIN_EFF, 1.0, 0.0
            )
            cn *= self.cal_n[ends]
            # independent rows: T² ≈ χ²_k, Q ≈ g·χ²_h; an EWMA scales variances by a/(2-a)
            shrink = self._alpha / (2.0 - self._alpha)
            k, g, h = self.k[ends], self.g[ends], self.h[ends]
            self.ge_t[ends], self.he_t[ends] = moment_match(
                cn, self.cal_t[ends], self.cal_t2[ends], k, 2.0 * k * shrink
            )
            self.ge_q[ends], self.he_q[ends] = moment_match(
                cn, self.cal_q[ends], self.cal_q2[ends], g * h, 2.0 * g * g * h * shrink
            )
