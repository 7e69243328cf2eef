"""Pure helpers of the simulation core."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from htm_edge.simulators.core import (
    accelerating_integral,
    ambient_wave,
    day_weight,
    device_rng,
    poisson_quantile,
    quantise,
    shape_value,
)


@pytest.mark.parametrize("shape", ["accelerating", "linear", "ratchet"])
def test_shapes_run_from_zero_to_one_monotonically(shape: str) -> None:
    taus = np.linspace(-0.1, 1.1, 1201)
    values = [shape_value(shape, float(t)) for t in taus]  # type: ignore[arg-type]
    assert values[0] == 0.0 and values[-1] == 1.0
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(values))


def test_accelerating_is_slow_then_fast() -> None:
    assert shape_value("accelerating", 0.25) < 0.06
    assert shape_value("accelerating", 0.5) < 0.2
    assert shape_value("accelerating", 0.9) > 0.7


def test_accelerating_integral_normalised_and_matches_numeric() -> None:
    assert accelerating_integral(0.0) == 0.0
    assert accelerating_integral(1.0) == pytest.approx(1.0)
    xs = np.linspace(0, 0.6, 6001)
    ys = [shape_value("accelerating", float(x)) for x in xs]
    numeric = sum((a + b) / 2 * (xs[1] - xs[0]) for a, b in itertools.pairwise(ys))
    full = accelerating_integral(0.6) * (math.expm1(3.0) / 3.0 - 1.0) / math.expm1(3.0)
    assert numeric == pytest.approx(full, rel=1e-4)


def test_diurnal_helpers() -> None:
    assert day_weight(3.0) == 0.0 and day_weight(22.0) == 0.0
    assert day_weight(13.0) == pytest.approx(1.0)
    assert ambient_wave(15.0) == pytest.approx(1.0)
    assert ambient_wave(3.0) == pytest.approx(-1.0)


@pytest.mark.parametrize("lam", [0.0, 0.001, 0.3, 2.0, 8.0])
def test_poisson_quantile_has_poisson_moments(lam: float) -> None:
    u = np.random.default_rng(0).random(40_000)
    draws = np.array([poisson_quantile(float(x), lam) for x in u])
    assert draws.mean() == pytest.approx(lam, abs=0.03 + 0.02 * lam)
    assert draws.var() == pytest.approx(lam, abs=0.05 + 0.05 * lam)


@given(st.floats(-1e4, 1e4), st.sampled_from([0.001, 0.01, 0.1, 1.0]))
def test_quantise_lands_on_the_grid(value: float, quantum: float) -> None:
    q = quantise(value, quantum)
    assert abs(q - value) <= quantum / 2 + 1e-9
    assert abs(q / quantum - round(q / quantum)) < 1e-6


def test_device_rng_depends_on_seed_and_id_only() -> None:
    a = device_rng(42, "MR-01").random(4)
    assert np.array_equal(a, device_rng(42, "MR-01").random(4))
    assert not np.array_equal(a, device_rng(43, "MR-01").random(4))
    assert not np.array_equal(a, device_rng(42, "MR-02").random(4))
    device_rng(-5, "X").random()  # negative seeds are fine
