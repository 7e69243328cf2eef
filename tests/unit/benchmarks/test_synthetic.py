"""The synthetic healthy processes and change scenarios have the statistics they claim."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.synthetic import (
    AR_PHI,
    MODE_DWELL,
    MODE_GAP,
    PERIOD_ROWS,
    PROCESSES,
    QUANTUM,
    level_step,
    timestamps,
    variance_step,
)

STREAMS, N = 20, 5000


def sample(name: str, seed: int = 0) -> np.ndarray:
    return PROCESSES[name](np.random.default_rng(seed), STREAMS, N)


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_process_is_seeded_finite_and_shaped(name: str) -> None:
    x = sample(name)
    assert x.shape == (STREAMS, N) and np.all(np.isfinite(x))
    np.testing.assert_array_equal(x, sample(name))
    assert not np.array_equal(x, sample(name, seed=1))
    assert not np.array_equal(x[0], x[1])  # streams differ


def test_gaussian_and_student_t() -> None:
    g, t = sample("gaussian"), sample("student_t3")
    assert abs(g.mean()) < 0.01 and g.std() == pytest.approx(1.0, abs=0.01)
    assert np.mean(np.abs(g) > 4) < 2e-4
    assert np.mean(np.abs(t) > 10) > 1e-3  # heavy tails: P(|t3| > 10) = 0.0021


def test_bursty_is_zero_inflated_lognormal() -> None:
    x = sample("bursty")
    nz = x[x != 0]
    assert np.mean(x == 0) == pytest.approx(0.97, abs=0.003)
    assert np.log(nz).mean() == pytest.approx(10.0, abs=0.1)
    assert np.log(nz).std() == pytest.approx(2.0, abs=0.1)


def test_quantised_values_lie_on_the_grid() -> None:
    x = sample("quantised")
    np.testing.assert_allclose(x / QUANTUM, np.round(x / QUANTUM), atol=1e-12)
    assert len(np.unique(x)) < 25 and x.std() == pytest.approx(1.0, abs=0.03)


def test_ar1_is_stationary_with_its_lag_one_correlation() -> None:
    x = sample("ar1")
    lag1 = np.mean([np.corrcoef(r[:-1], r[1:])[0, 1] for r in x])
    assert lag1 == pytest.approx(AR_PHI, abs=0.01)
    # unit variance from the first row on (started in the stationary distribution)
    assert x[:, :200].var() == pytest.approx(1.0, abs=0.25)
    assert x.var() == pytest.approx(1.0, abs=0.1)


def test_mode_switching_has_two_levels_and_its_dwell_time() -> None:
    x = sample("mode_switching")
    # a 9-row mean has noise σ/3: it is 9σ from the midpoint, so it tells the modes apart
    smooth = np.array([np.convolve(r, np.ones(9) / 9, mode="valid") for r in x])
    mode = smooth > MODE_GAP / 2
    assert 0.4 < mode.mean() < 0.6
    switches = np.sum(np.diff(mode.astype(int), axis=1) != 0)
    assert mode.size / switches == pytest.approx(MODE_DWELL, rel=0.2)
    assert smooth[mode].mean() - smooth[~mode].mean() == pytest.approx(MODE_GAP, abs=0.2)
    assert np.mean(np.abs(x - MODE_GAP * (x > MODE_GAP / 2)) < 3.0) > 0.99  # N(0, 1) noise


def test_sinusoid_has_a_daily_period() -> None:
    x = sample("sinusoid")
    assert np.corrcoef(x[:, :-PERIOD_ROWS].ravel(), x[:, PERIOD_ROWS:].ravel())[0, 1] > 0.6
    half = PERIOD_ROWS // 2
    assert np.corrcoef(x[:, :-half].ravel(), x[:, half:].ravel())[0, 1] < -0.6


def test_level_step() -> None:
    x, i = level_step(np.random.default_rng(4), n=20_000, change_index=15_000, size=5.0)
    assert x.shape == (20_000,) and i == 15_000
    assert x[:i].mean() == pytest.approx(0.0, abs=0.05)
    assert x[i:].mean() == pytest.approx(5.0, abs=0.05)
    assert x[:i].std() == pytest.approx(x[i:].std(), rel=0.05)


def test_variance_step() -> None:
    x, i = variance_step(np.random.default_rng(5), n=20_000, change_index=15_000)
    assert x[i:].var() / x[:i].var() == pytest.approx(3.0, rel=0.1)
    assert x[i:].mean() == pytest.approx(0.0, abs=0.05)
    with pytest.raises(ValueError, match="change_index"):
        variance_step(np.random.default_rng(5), n=100, change_index=100)


def test_timestamps_one_a_minute() -> None:
    np.testing.assert_array_equal(np.diff(timestamps(5)), 60.0)
