"""The default detector on the awkward shapes of real equipment telemetry.

Quantised signals (counts, values reported to 0.1 or 1 %), streams with gaps
(a stream keyed by operating state pauses while the device is idle) and smooth
signals whose residuals move together: each must stay quiet when healthy and
still flag what it should.
"""

from __future__ import annotations

import numpy as np

from htm_edge.models.registry import make_detector
from htm_edge.models.scorer import StreamScorer
from tests.unit.models.models_helpers import run

THRESHOLD = 0.99
T0 = 1.767e9
DT = 60.0


def _alerts(s: np.ndarray, k: int = 3, w: int = 5) -> int:
    """Points at which ``k`` of the last ``w`` scores reach the threshold (the alert rule)."""
    hi = (s >= THRESHOLD).astype(int)
    return int((np.convolve(hi, np.ones(w, dtype=int))[: len(s)] >= k).sum())


def test_rare_counts_never_score_high_on_zeros() -> None:
    # a Poisson count that is almost always 0: after a rare 1 the zeros are normal
    rng = np.random.default_rng(0)
    x = rng.poisson(0.003, 4 * 1440).astype(float)
    ts = T0 + DT * np.arange(len(x))
    s = run(make_detector("ensemble"), x, ts)
    assert x.sum() >= 5
    assert s[x == 0].max() < 0.5
    assert s.max() < THRESHOLD


def test_quantised_slow_signal_stays_quiet() -> None:
    # battery state of health: true value near 93.3 %, noise 0.3, reported in whole %
    rng = np.random.default_rng(1)
    n = 3 * 1440
    x = np.round(93.3 + 0.3 * rng.normal(size=n))
    ts = T0 + DT * np.arange(n)
    s = run(make_detector("ensemble"), x, ts)
    assert len(np.unique(x)) >= 2
    assert _alerts(s) == 0
    assert (s >= THRESHOLD).mean() < 0.001


def test_changes_of_one_resolution_step_are_not_significant() -> None:
    # a signal that sits at the resolution: constant, with rare one-step moves
    rng = np.random.default_rng(2)
    n = 3000
    x = 20.0 + 0.1 * np.cumsum(rng.random(n) < 0.01) * np.where(rng.random(n) < 0.5, 1, -1)
    x = np.round(20.0 + 0.1 * np.clip(np.round((x - 20.0) / 0.1), -1, 1), 1)
    ts = T0 + DT * np.arange(n)
    s = run(make_detector("ensemble"), x, ts)
    assert np.ptp(x) > 0
    assert s.max() < THRESHOLD


def test_quantised_signal_still_flags_a_real_step() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    x = np.round(50.0 + 0.4 * rng.normal(size=n))
    x[1500:] += 6.0  # six resolution steps, 15 noise sigmas
    ts = T0 + DT * np.arange(n)
    s = run(make_detector("ensemble"), x, ts)
    assert s[1500:1505].max() >= THRESHOLD


def test_resolution_of_raw_signal_reaches_every_component() -> None:
    # the de-seasonalised residual is not quantised; the floor must come from the raw one
    det = make_detector("ensemble")
    rng = np.random.default_rng(4)
    x = rng.poisson(0.01, 1440).astype(float)
    x[:20] = [0, 1] * 10
    run(det, x, T0 + DT * np.arange(len(x)))
    detail = det.detail_many(np.array([0]), np.array([0.0]), np.array([T0 + DT * len(x)]))
    assert max(float(v[0]) for v in detail.values()) < 0.5


def _sessions(seed: int, n_sessions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A stream that exists only in sessions, each at its own level (a pump's rate)."""
    rng = np.random.default_rng(seed)
    xs, ts, start = [], [], []
    t = T0
    for _ in range(n_sessions):
        length = int(rng.integers(30, 240))
        level = 35.0 + 0.3 * 5.0 * 40.0 ** rng.random()
        start.append(len(xs))
        xs.extend(np.round(level + 1.5 * rng.normal(size=length)))
        ts.extend(t + DT * np.arange(length))
        t += DT * (length + int(rng.integers(20, 300)))
    return np.array(xs), np.array(ts), np.array(start)


def test_level_changes_across_gaps_are_learned_as_normal() -> None:
    x, ts, _ = _sessions(5, 60)
    s = run(make_detector("ensemble"), x, ts)
    late = s[len(s) // 3 :]
    assert _alerts(late) == 0


def test_jump_within_a_session_is_still_flagged_after_gaps() -> None:
    x, ts, start = _sessions(6, 40)
    i = start[-1] + 20
    assert start[-1] + 40 < len(x)
    x = x.copy()
    x[i:] += 25.0  # within the last session, no gap
    s = run(make_detector("ensemble"), x, ts)
    assert _alerts(s[i : i + 6]) > 0


def test_long_gap_does_not_raise_alerts_on_slowly_wandering_signal() -> None:
    # room temperature: a slow random walk reported in 0.1, observed in bursts
    rng = np.random.default_rng(7)
    n = 6 * 1440
    walk = np.cumsum(0.01 * rng.normal(size=n))
    x = np.round(21.0 + walk - np.convolve(walk, np.ones(600) / 600, "same"), 1)
    t = T0 + DT * np.arange(n)
    keep = (np.arange(n) // 240) % 3 == 0  # 4 h on, 8 h off
    sc = StreamScorer()
    s = sc.score([("dev", "room")] * int(keep.sum()), t[keep], x[keep])
    assert _alerts(s) == 0


def test_smooth_autocorrelated_signal_is_quiet() -> None:
    # a slowly wandering AR(1) (a temperature with thermal inertia) plus sensor noise
    rng = np.random.default_rng(8)
    n = 5000
    a = np.zeros(n)
    for i in range(1, n):
        a[i] = 0.995 * a[i - 1] + 0.1 * rng.normal()
    x = np.round(30.0 + a + 0.05 * rng.normal(size=n), 1)
    s = run(make_detector("ensemble"), x, T0 + DT * np.arange(n))
    assert _alerts(s[500:]) <= 1


def test_drift_on_smooth_signal_is_still_flagged() -> None:
    rng = np.random.default_rng(9)
    n = 3000
    x = 4.2 + 0.01 * rng.normal(size=n)
    x[2000:] += 0.0005 * np.arange(1000)  # 0.05 sigma per point
    s = run(make_detector("ensemble"), np.round(x, 3), T0 + DT * np.arange(n))
    # the lag-one correlation that quietens smooth healthy signals must not hide a drift
    assert s[2000:2600].max() >= THRESHOLD
