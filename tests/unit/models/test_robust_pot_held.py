"""``robust_pot`` learns no scale from a held value: once a value has stayed exactly the
same for ``hold_points`` points (a stuck sensor, a historian storing no change), the local
and slow scales keep what they had, so the live signal is judged by its own noise when
it moves again, not by a scale that shrank towards the resolution while it was held."""

from __future__ import annotations

import numpy as np
import pytest

from htm_edge.models.detectors.robust_pot import RobustPot
from htm_edge.models.errors import ModelError
from tests.unit.models.models_helpers import noise_series, row_times, run, run_many

_MAD = RobustPot.FIELDS.index("mad")
_SLOW_MAD = RobustPot.FIELDS.index("slow_mad")


def _held(seed: int, hold: int) -> tuple[np.ndarray, int]:
    """N(50, 2) noise, held at its last value for ``hold`` points, then live again."""
    x = noise_series(seed, 2000 + hold + 1000)
    x[2000 : 2000 + hold] = x[1999]
    return x, 2000 + hold


def _scales(det: RobustPot, x: np.ndarray) -> np.ndarray:
    run(det, x)
    return det._blocks["state"][[_MAD, _SLOW_MAD], 0].copy()


def test_scales_stop_learning_once_a_value_has_been_held_for_hold_points() -> None:
    x, _ = _held(0, 1000)
    hold_points = int(RobustPot.PARAMS["hold_points"])
    # the scales after hold_points repeats of the held value, and at the end of the hold
    at_limit = _scales(RobustPot(), x[: 2000 + hold_points])
    at_end = _scales(RobustPot(), x[:3000])
    np.testing.assert_array_equal(at_limit, at_end)
    # without the rule they go on shrinking towards the resolution
    off = _scales(RobustPot(hold_points=10**9), x[:3000])
    assert np.all(off < 0.5 * at_end)
    # before the limit they still learn: a short hold is just a quiet stretch
    assert np.all(_scales(RobustPot(), x[: 2000 + hold_points // 2]) > at_limit)


def test_signals_live_again_after_a_long_hold_are_accepted_sooner() -> None:
    """With every point reported, resumed noise falls below 0.9 sooner (summed over 12
    streams) than with scales that went on shrinking through the hold."""
    held = [_held(seed, 5000) for seed in range(1, 13)]
    x = np.stack([h[0] for h in held], axis=1)
    resume = held[0][1]
    ts = row_times(x, 300.0)

    def settle(det: RobustPot) -> int:
        s = run_many(det, x, ts)[resume:]
        return sum(int(np.flatnonzero(s[:, j] < 0.9)[0]) for j in range(x.shape[1]))

    kept = settle(RobustPot(x.shape[1], onset_points=0))
    shrunk = settle(RobustPot(x.shape[1], onset_points=0, hold_points=10**9))
    assert kept < 0.75 * shrunk


def test_hold_points_must_be_positive() -> None:
    with pytest.raises(ModelError, match="hold_points"):
        RobustPot(hold_points=0)
