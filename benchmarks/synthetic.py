"""Seeded synthetic signals: stationary healthy processes, and two change scenarios.

The stationary processes are what a detector's calibration claim is checked
against (``benchmarks.calibration``): on healthy data that never changes
regime, a score of 0.99 should be crossed by about one point in 10,000. They
cover the ways real sensor noise departs from white Gaussian noise: heavy
tails, bursts of rare huge values among zeros, coarse quantisation, strong
autocorrelation, a healthy signal switching between two operating levels, and
a daily cycle. Each generator takes a ``numpy.random.Generator`` and returns an
array of shape ``(streams, n)``; one row is one stream.

The change scenarios (a level step, a variance increase) return one series and
the index of its first changed row, for property tests and docs that need a
known fault after a long healthy lead-in.

Samples are one a minute (:data:`CADENCE_S`), like the simulated fleet, so a
day is 1,440 rows (the sinusoid's period).

>>> rng = np.random.default_rng(0)
>>> PROCESSES["quantised"](rng, 2, 5).shape
(2, 5)
>>> x, i = level_step(np.random.default_rng(1), n=100, change_index=80)
>>> x.shape, i
((100,), 80)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

__all__ = [
    "AR_PHI",
    "BURST_P",
    "CADENCE_S",
    "MODE_DWELL",
    "MODE_GAP",
    "PERIOD_ROWS",
    "PROCESSES",
    "QUANTUM",
    "ar1",
    "bursty",
    "gaussian",
    "level_step",
    "mode_switching",
    "quantised",
    "sinusoid",
    "student_t3",
    "timestamps",
    "variance_step",
]

FloatArray = npt.NDArray[np.float64]
Generator = Callable[[np.random.Generator, int, int], FloatArray]

#: seconds between samples
CADENCE_S = 60.0
#: probability of a non-zero burst value in :func:`bursty`
BURST_P = 0.03
#: rounding step of :func:`quantised`, in noise standard deviations
QUANTUM = 0.5
#: lag-1 coefficient of :func:`ar1`
AR_PHI = 0.95
#: distance between the two levels of :func:`mode_switching`, in noise standard deviations
MODE_GAP = 6.0
#: mean rows spent in one mode of :func:`mode_switching`
MODE_DWELL = 300.0
#: rows per cycle of :func:`sinusoid` (one day at one sample a minute)
PERIOD_ROWS = 1440


def timestamps(n: int, start: float = 1_767_225_600.0) -> FloatArray:
    """Epoch seconds of ``n`` rows one :data:`CADENCE_S` apart (from 2026-01-01 UTC)."""
    return start + CADENCE_S * np.arange(n, dtype=np.float64)


def gaussian(rng: np.random.Generator, streams: int, n: int) -> FloatArray:
    """White standard normal noise."""
    return rng.standard_normal((streams, n))


def student_t3(rng: np.random.Generator, streams: int, n: int) -> FloatArray:
    """Student-t noise with 3 degrees of freedom: finite variance (3), very heavy tails."""
    return rng.standard_t(3.0, (streams, n))


def bursty(rng: np.random.Generator, streams: int, n: int) -> FloatArray:
    """Zero-inflated bursts: 0 with probability 0.97, else ``exp(N(10, 2))`` (lognormal)."""
    burst = rng.random((streams, n)) < BURST_P
    return np.where(burst, np.exp(rng.normal(10.0, 2.0, (streams, n))), 0.0)


def quantised(rng: np.random.Generator, streams: int, n: int) -> FloatArray:
    """Standard normal noise rounded to multiples of :data:`QUANTUM` (a coarse sensor)."""
    return np.round(rng.standard_normal((streams, n)) / QUANTUM) * QUANTUM


def ar1(rng: np.random.Generator, streams: int, n: int) -> FloatArray:
    """Stationary AR(1), ``x_t = φ x_{t-1} + e_t`` with φ = 0.95 and unit marginal variance."""
    e = rng.standard_normal((streams, n)) * math.sqrt(1.0 - AR_PHI**2)
    zi = AR_PHI * rng.standard_normal((streams, 1))  # start in the stationary distribution
    out, _ = lfilter([1.0], [1.0, -AR_PHI], e, axis=1, zi=zi)
    return np.asarray(out, dtype=np.float64)


def mode_switching(rng: np.random.Generator, streams: int, n: int) -> FloatArray:
    """Two levels :data:`MODE_GAP` σ apart, Markov switching (mean dwell 300 rows), N(0,1) noise.

    A healthy device alternating between two operating states (standby and
    running, say): each switch is a large step that is *not* a fault.
    """
    switch = rng.random((streams, n)) < 1.0 / MODE_DWELL
    start = rng.integers(0, 2, (streams, 1))
    mode = (start + np.cumsum(switch, axis=1)) % 2
    return MODE_GAP * mode + rng.standard_normal((streams, n))


def sinusoid(rng: np.random.Generator, streams: int, n: int) -> FloatArray:
    """A daily cycle (:data:`PERIOD_ROWS`) of amplitude 2σ, random phase, plus N(0,1) noise."""
    phase = rng.uniform(0.0, 2.0 * math.pi, (streams, 1))
    cycle = 2.0 * np.sin(2.0 * math.pi * np.arange(n) / PERIOD_ROWS + phase)
    return cycle + rng.standard_normal((streams, n))


#: name -> generator of ``(streams, n)`` healthy stationary rows
PROCESSES: dict[str, Generator] = {
    "gaussian": gaussian,
    "student_t3": student_t3,
    "bursty": bursty,
    "quantised": quantised,
    "ar1": ar1,
    "mode_switching": mode_switching,
    "sinusoid": sinusoid,
}


def _check(n: int, change_index: int) -> None:
    if not 0 < change_index < n:
        raise ValueError(f"change_index must lie in 1..{n - 1}, got {change_index}")


def level_step(
    rng: np.random.Generator, n: int = 6000, change_index: int = 5000, size: float = 5.0
) -> tuple[FloatArray, int]:
    """Standard normal noise whose mean steps up by ``size`` σ at ``change_index``.

    Returns the series and ``change_index``, the first row of the new level.
    """
    _check(n, change_index)
    x = rng.standard_normal(n)
    x[change_index:] += size
    return x, change_index


def variance_step(
    rng: np.random.Generator, n: int = 6000, change_index: int = 5000, factor: float = 3.0
) -> tuple[FloatArray, int]:
    """Standard normal noise whose variance is multiplied by ``factor`` at ``change_index``.

    The mean stays 0 (a bearing getting noisy, say). Returns the series and
    ``change_index``, the first row of the larger variance.
    """
    _check(n, change_index)
    x = rng.standard_normal(n)
    x[change_index:] *= math.sqrt(factor)
    return x, change_index
