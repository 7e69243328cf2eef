"""``robust_pot``: calibration on stationary processes of each kind, onset then acceptance,
drifts that keep scoring, monotone and distinct scores at the top, JSON round trip."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.synthetic import PROCESSES, timestamps
from htm_edge.models.detectors.robust_pot import RobustPot
from htm_edge.models.registry import make_detector
from tests.unit.models.models_helpers import noise_series, row_times, run, run_many

N_STREAMS, T = 20, 8000
#: the stated rate is 1e-4 of healthy points >= 0.99; the goal is 2e-4 over long runs.
#: These runs are short (8000 points), so the first few hundred points of each stream,
#: where the tails are still being learned, weigh more: the mode-switching process is
#: at 6.5e-4 here (4.6e-4 over 20,000 points). The bound still fails the previous
#: default (``ensemble``: 0.27 on bursty, 0.57 on modes) by orders of magnitude.
MAX_RATE = 1e-3


def _process(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (T, N_STREAMS)
    if kind == "heavy":  # Student t, 3 degrees of freedom
        return 10.0 + rng.standard_t(3, size=shape)
    if kind == "bursty":  # zero-inflated: 3 % of points exp(N(10, 2))
        return np.where(rng.random(shape) < 0.03, np.exp(rng.normal(10.0, 2.0, shape)), 0.0)
    if kind == "quantised":
        return np.round(20.0 + 1.5 * rng.normal(size=shape))
    if kind == "ar95":
        e = rng.normal(size=shape)
        x = np.zeros(shape)
        for t in range(1, T):
            x[t] = 0.95 * x[t - 1] + e[t]
        return 5.0 + x
    if kind == "modes":  # Markov switching between three levels, mean dwell 300 points
        levels = np.array([0.0, 1.0, 3.0])
        cur = rng.integers(0, 3, N_STREAMS)
        out = np.empty(shape)
        for t in range(T):
            cur = np.where(rng.random(N_STREAMS) < 1 / 300, rng.integers(0, 3, N_STREAMS), cur)
            out[t] = levels[cur]
        return out + 0.1 * rng.normal(size=shape)
    raise KeyError(kind)


@pytest.mark.parametrize("kind", ["heavy", "bursty", "quantised", "ar95", "modes"])
def test_calibrated_on_stationary_processes(kind: str) -> None:
    x = _process(kind, 7)
    ts = row_times(x, 60.0)
    s = run_many(make_detector("robust_pot", N_STREAMS), x, ts)
    assert (s[200:] >= 0.99).mean() <= MAX_RATE


@pytest.mark.parametrize("kind", sorted(PROCESSES))
def test_calibrated_on_each_benchmark_process(kind: str) -> None:
    # the processes of ``benchmarks.calibration``, 20 streams x 8000 points, the first
    # 15 % not counted (its probation); the goal there is 2e-4 of points >= 0.99
    n, streams = 8000, 20
    x = PROCESSES[kind](np.random.default_rng([11, len(kind)]), streams, n).T
    ts = np.broadcast_to(timestamps(n)[:, None], x.shape).copy()
    s = run_many(make_detector("robust_pot", streams), x, ts)
    assert (s[int(0.15 * n) :] >= 0.99).mean() <= 2e-4


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("kind", ["step", "variance"])
def test_onset_is_flagged_then_the_new_regime_is_accepted(kind: str, seed: int) -> None:
    x = noise_series(seed)
    onset = 1500
    if kind == "step":
        x[onset:] += 16.0  # 8 sigma
    else:
        x[onset:] = 50.0 + 4.0 * (x[onset:] - 50.0)  # noise sigma x 4
    det = make_detector("robust_pot")
    s = run(det, x)
    assert s[onset : onset + 10].max() >= 0.99
    accept = RobustPot.acceptance_points(RobustPot.PARAMS)
    assert (s[onset + accept :] >= 0.9).mean() < 0.002


def test_growing_drift_keeps_scoring() -> None:
    x = noise_series(4, 4000)
    x[1500:] += 0.05 * np.arange(2500) ** 1.5 / 10.0  # accelerating degradation
    s = run(make_detector("robust_pot"), x)
    # the trend statistic does not learn its own alarms: 1500 points on, the drift is still
    # reported, again each time its evidence passes the event's decayed peak
    assert _longest_gap(s[3000:] >= 0.99) <= 150


@pytest.mark.parametrize("seed", [1, 2])
def test_steady_ramp_keeps_scoring(seed: int) -> None:
    x = noise_series(seed, 5000)
    x[2500:] += 0.02 * np.arange(2500)  # 3 noise sigma per window of 300 points
    s = run(make_detector("robust_pot"), x)
    assert _longest_gap(s[4000:] >= 0.99) <= 200  # reported again within each window


def _longest_gap(flagged: np.ndarray) -> int:
    """Longest run of points without a flag (the whole length if none is flagged)."""
    at = np.flatnonzero(flagged)
    return int(np.diff(np.r_[-1, at, flagged.size]).max() - 1)


@pytest.mark.parametrize("size", [8.0, 100.0, 1e4])
def test_finished_step_leaves_the_trend(size: float) -> None:
    x = noise_series(5, 4000)
    x[2500:] += 2.0 * size
    s = run(make_detector("robust_pot"), x)
    assert s[2500:2505].max() >= 0.99
    accept = RobustPot.acceptance_points(RobustPot.PARAMS)
    assert s[2500 + accept :].max() < 0.9


def _noise_growth_flagged(onset: int, variance_factor: float, streams: int = 40) -> float:
    """Share of ``streams`` N(50, 2) streams whose variance grows by ``variance_factor``
    at point ``onset`` (constant mean) that score 0.99 within 150 points of it."""
    rng = np.random.default_rng([onset, int(10 * variance_factor)])
    x = 50.0 + 2.0 * rng.normal(size=(onset + 400, streams))
    x[onset:] = 50.0 + math.sqrt(variance_factor) * (x[onset:] - 50.0)
    ts = row_times(x, 60.0)
    s = run_many(make_detector("robust_pot", streams), x, ts)
    return float(np.mean(s[onset : onset + 150].max(axis=0) >= 0.99))


def test_noise_growth_is_flagged_at_onset_in_most_streams() -> None:
    # the noise CUSUM: sigma x 2 (variance x 4) 10,000 points in, 27 of 40 streams
    # (with the spread statistic in its place: 23 of 40)
    assert _noise_growth_flagged(10_000, 4.0) >= 0.65


@pytest.mark.xfail(
    strict=True,
    reason="known limitation: 3,000 points in, a variance tripling (sigma x 1.73) at constant "
    "mean scores 0.99 within 150 points in 9 of 40 streams; the noise CUSUM's tail is trusted "
    "only as runs are seen (see the docstring; variants: docs/benchmarks.md, fourth round)",
)
def test_variance_tripling_flagged_at_onset_in_most_streams() -> None:
    assert _noise_growth_flagged(3000, 3.0) >= 0.5


def test_json_round_trip_mid_block_gives_the_same_scores() -> None:
    x = noise_series(7, 1400)
    a = make_detector("robust_pot")
    run(a, x[:1013])  # inside a block, with full windows and learned tails
    b = RobustPot.restore(json.loads(json.dumps(a.snapshot(), allow_nan=False)))
    ts = np.arange(1013, 1400) * 300.0
    np.testing.assert_array_equal(run(a, x[1013:], ts), run(b, x[1013:], ts))


@pytest.mark.parametrize("statistics", ["point,level,spread,range,trend,variance", "noise"])
def test_json_round_trip_of_other_statistics_gives_the_same_scores(statistics: str) -> None:
    x = noise_series(8, 900)
    a = RobustPot(statistics=statistics)
    run(a, x[:613])
    b = RobustPot.restore(json.loads(json.dumps(a.snapshot(), allow_nan=False)))
    ts = np.arange(613, 900) * 300.0
    np.testing.assert_array_equal(run(a, x[613:], ts), run(b, x[613:], ts))


def test_state_holds_tails_only_for_the_per_point_statistics_in_use() -> None:
    default = RobustPot().bytes_per_stream
    assert default == 832
    # each further per-point statistic adds its eight tail rows; window statistics have rows
    # whether or not they are in use
    assert RobustPot(statistics="point,level,range,trend,noise").bytes_per_stream == default + 64
    assert RobustPot(statistics="point,range,noise").bytes_per_stream == default
    assert RobustPot(statistics="noise").bytes_per_stream == default - 2 * 64


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), base=st.floats(3.0, 50.0))
def test_bigger_deviation_scores_higher_and_never_saturates(seed: int, base: float) -> None:
    det = make_detector("robust_pot")
    run(det, noise_series(seed, 600))
    devs = base * np.array([1.0, 2.0, 4.0, 16.0, 1e3, 1e6, 1e12])
    scores = [det.score_one(50.0 + 2.0 * d, 600 * 300.0) for d in devs]
    assert all(b >= a for a, b in itertools.pairwise(scores))
    big = [s for d, s in zip(devs, scores, strict=True) if d >= 16.0]
    assert all(b > a for a, b in itertools.pairwise(big))
    assert max(scores) < 1.0


def test_constant_stream_makes_its_first_change_rare() -> None:
    x = np.full(2000, -1.0)
    x[1500:] = 1.0  # a two-level signal, constant so far, switches
    s = run(make_detector("robust_pot"), x)
    assert s[:1500].max() == 0.0
    assert s[1500] >= 0.95  # p about 2e-4: a few hundred exceedance-free points so far


def _held(seed: int, n1: int = 1500, hold: int = 6000, n2: int = 3000) -> np.ndarray:
    """Noise on a slow wave, its value held exactly for ``hold`` points, then live again."""
    t = np.arange(n1 + hold + n2)
    x = noise_series(seed, t.size) + 6.0 * np.sin(2 * np.pi * t / 900.0)
    x[n1 : n1 + hold] = x[n1 - 1]
    out: np.ndarray = x
    return out


def test_a_held_value_teaches_the_window_statistics_nothing() -> None:
    x = _held(1)
    det = RobustPot()
    win = det._win  # rows from the held surprises to the live-window count
    rows = slice(win.surprises.start, win.surprises.start + 21)
    run(det, x[:1900])  # the ring is still partly live here
    before = det._blocks["state"][rows, 0].copy()
    run(det, x[1900:7500])
    np.testing.assert_array_equal(det._blocks["state"][rows, 0][2:], before[2:])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_movement_after_a_held_stretch_is_not_a_trend(seed: int) -> None:
    # before: the trend's tail learned from 6,000 still points that the slope is always
    # 0, and flagged 19 % of the live points after the hold as a trend
    x = _held(seed)
    s = run(make_detector("robust_pot"), x)
    assert s[1505:7500].max() < 0.5  # the hold itself is not an anomaly
    assert s[7500:7550].max() >= 0.99  # the first movement after the hold is an onset
    assert (s[7550:] >= 0.99).mean() <= 1e-3


def test_zero_inflated_zeros_never_score() -> None:
    rng = np.random.default_rng(3)
    x = np.where(rng.random(6000) < 0.03, np.exp(rng.normal(10.0, 2.0, 6000)), 0.0)
    s = run(make_detector("robust_pot"), x)
    # (the previous default flagged 9.7 % of the zeros at 0.99)
    assert (s[200:][x[200:] == 0.0] >= 0.99).mean() <= 2e-3


def test_a_big_batch_is_scored_in_chunks_as_one() -> None:
    n = 20_000  # above the chunk size of 16,384 streams
    x = np.random.default_rng(8).normal(size=(60, n))
    ts = row_times(x, 60.0)
    whole = run_many(make_detector("robust_pot", n), x, ts)
    split = make_detector("robust_pot", n)
    lo, hi = np.arange(0, 7000, dtype=np.intp), np.arange(7000, n, dtype=np.intp)
    parts = [
        np.concatenate([split.process_many(lo, x[t, :7000], ts[t, :7000]),
                        split.process_many(hi, x[t, 7000:], ts[t, 7000:])])
        for t in range(60)
    ]  # fmt: skip
    np.testing.assert_array_equal(whole, np.stack(parts))
