"""The ``noise`` CUSUM of ``robust_pot`` and the tail machinery it needs: likelihood-ratio
increments, the capped step, its Gaussian threshold prior, declustered tail learning and
per-statistic evidence weighting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from htm_edge.models.detectors._noise import cusum_step, increments, threshold_prior
from htm_edge.models.detectors._tail import tail_surprise_pot, update_pot


@pytest.mark.parametrize("rho", [1.5, 2.5, 4.0])
def test_increments_are_a_likelihood_ratio(rho: float) -> None:
    a, b = increments(rho)
    # E[a + b z^2]: negative for healthy N(0, 1), positive at variance rho
    assert a + b < 0.0 < a + b * rho
    # Wald's identity: E[exp(a + b z^2)] = 1 under N(0, 1), so P(S > h) ~ exp(-h)
    assert math.exp(a) / math.sqrt(1.0 - 2.0 * b) == pytest.approx(1.0, rel=1e-12)


def test_step_is_clipped_at_zero_and_top_and_caps_the_square() -> None:
    a, b = increments(2.5)
    prev = np.array([0.0, 19.9, 5.0])
    z = np.array([0.0, 100.0, 1e6])
    out = cusum_step(prev, z, a, b, cap=25.0, top=20.0)
    assert out[0] == 0.0  # healthy drift pushes it down, not below 0
    assert out[1] == 20.0  # at the top
    assert out[2] == pytest.approx(5.0 + a + 25.0 * b)  # a huge spike adds a bounded step


def test_threshold_prior_is_the_gaussian_quantile() -> None:
    a, b = increments(2.5)
    z = np.random.default_rng(0).normal(size=200_000)
    s, path = np.zeros(1), np.empty(z.size)
    for i, zi in enumerate(z):
        s = cusum_step(s, np.array([zi]), a, b, 25.0, 20.0)
        path[i] = s[0]
    assert np.quantile(path, 0.98) == pytest.approx(threshold_prior(0.02), rel=0.1)


def _learn(t: np.ndarray, decluster: bool) -> tuple[np.ndarray, ...]:
    """Run one statistic's tail over the values ``t`` from a fixed state."""
    u, k, m1, m2, e1, pi, prev, kp = (np.array([[v]]) for v in (1.0, 5, 0.1, 0.02, 0.5, 0.02, 0, 5))
    for i, v in enumerate(t):
        u, k, m1, m2, e1, pi, prev, kp = update_pot(
            np.array([[v]]), u, k, m1, m2, e1, pi, np.array([[1000.0 + i]]), np.array([[0.5]]),
            np.ones((1, 1)), 0.02, 20000.0, 20.0, prev, kp, np.array([[decluster]]),
        )  # fmt: skip
    return e1, kp, prev


def test_a_declustered_tail_learns_one_excess_per_run_at_its_end() -> None:
    run = np.concatenate([np.linspace(2.0, 20.0, 50), [0.0]])
    e1_mid, kp_mid, prev_mid = _learn(run[:-1], decluster=True)
    assert e1_mid[0, 0] == 0.5 and kp_mid[0, 0] < 5.0  # nothing learned while it lasts
    assert prev_mid[0, 0] == 20.0  # the run's maximum so far
    e1_end, kp_end, prev_end = _learn(run, decluster=True)
    assert prev_end[0, 0] == 0.0
    assert 5.0 < kp_end[0, 0] < 6.0  # one excess learned
    e1_all, kp_all, _ = _learn(run, decluster=False)
    assert kp_all[0, 0] > 50.0  # undeclustered: every exceedance is learned
    assert e1_all[0, 0] > e1_end[0, 0] > 0.5


def test_evidence_per_statistic_mutes_only_its_own_extrapolation() -> None:
    t = np.array([[10.0], [10.0]])
    ones = np.ones((2, 1))
    args = (ones, 0.0 * ones, 0.1 * ones, 0.02 * ones, 0.5 * ones, 0.02 * ones)
    s = tail_surprise_pot(
        t, *args, 0.5 * ones, 0.5 * ones, 0.0, 20.0, 3.0, 0.25 * ones, 0.0, 5.0,
        np.array([[0.0], [20.0]]),
    )  # fmt: skip
    assert s[1, 0] == pytest.approx(-math.log(0.02))  # no run seen: p is the rate of u
    assert s[0, 0] > s[1, 0] + 5.0
