"""The ``noise`` statistic of :class:`~models.detectors.robust_pot.RobustPot`: a CUSUM
for a growth of the noise at a constant mean.

Page's cumulative sum of the log-likelihood ratio of a residual variance ``rho``
times the healthy one (``N(0, rho)`` against ``N(0, 1)``) for the standardised
residual ``z`` (the point minus the local level, over the local scale):

    S_t = min(max(0, S_{t-1} + a + b min(z_t^2, cap)), top),
    a = -log(rho) / 2,  b = (1 - 1 / rho) / 2.

On healthy data its drift is negative (``a + b < 0``) and it rests near 0; once
the noise grows by about ``rho`` or more, it climbs by about ``a + b rho`` per point
(0.45 for a tripled variance at ``rho = 2.5``), so evidence that each point alone
cannot give adds up within tens of points. The local scale it divides by learns the
new noise within a few hundred points (``scale_span``), the drift turns negative
again and ``S`` falls back: an onset, then acceptance, with no extra reference.

Calibration. Capping ``z^2`` bounds the increments, so ``P(S > h)`` falls
exponentially in ``h`` whatever the noise's own tails (Lundberg's inequality); for
Gaussian residuals the rate is exactly 1 (Wald's identity for a likelihood ratio),
hence the tail's prior: shape 0 and mean excess 1 beyond the upper ``phi`` quantile
``log(0.4 / phi)`` (measured: 3.04 at ``phi = 0.02``, against 3.0). Its tail is
declustered (one excess per run, see :func:`models.detectors._tail.update_pot`), and
its fitted extrapolation is trusted only as runs are seen (``noise_evidence_runs``):
real signals with regimes of different noise (pumps switching, held channels that
start to move) teach it that their switches are ordinary, while a stream that has
shown no such run yet cannot raise an alarm from it alone. ``top`` bounds how far a
single long run can go, so a stream that switches noise regimes often learns that a
full climb is ordinary for it.
"""

from __future__ import annotations

import math

import numpy as np

from htm_edge.models.base import FloatArray

__all__ = ["NOISE_PRIOR_E1", "cusum_step", "increments", "threshold_prior"]

#: mean excess of the healthy CUSUM beyond its threshold (exponential tail of rate 1)
NOISE_PRIOR_E1 = 1.0


def increments(rho: float) -> tuple[float, float]:
    """``(a, b)`` of the log-likelihood ratio ``a + b z^2`` of variance ``rho`` against 1."""
    return -0.5 * math.log(rho), 0.5 * (1.0 - 1.0 / rho)


def threshold_prior(phi: float) -> float:
    """Upper ``phi`` quantile of the healthy CUSUM for Gaussian residuals, ``log(0.4 / phi)``."""
    return math.log(0.4 / phi)


def cusum_step(
    prev: FloatArray, z: FloatArray, a: float, b: float, cap: float, top: float
) -> FloatArray:
    """One step of the capped CUSUM from ``prev`` for standardised residuals ``z``."""
    out: FloatArray = np.clip(prev + a + b * np.minimum(z * z, cap), 0.0, top)
    return out
