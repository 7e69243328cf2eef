"""Robust trends, time to threshold, and the per-stream points they are fitted on."""

from __future__ import annotations

import numpy as np

from htm_edge.models.prognostics.points import LEVEL, RATE, SPREAD, StreamPoints
from htm_edge.models.prognostics.trend import nanquantile_rows, theil_sen, time_to_threshold


def test_theil_sen_ignores_an_outlier_and_nan() -> None:
    t = np.arange(20.0)[None, :]
    y = 0.5 * t + 3.0
    y[0, 7] = 100.0
    y[0, 3] = np.nan
    b, a, se = theil_sen(t, y)
    assert abs(b[0] - 0.5) < 1e-9 and abs(a[0] - 3.0) < 1e-9
    assert se[0] < 0.05


def test_theil_sen_needs_three_points() -> None:
    t = np.array([[0.0, 1.0, np.nan]])
    b, _, _ = theil_sen(t, np.array([[1.0, 2.0, np.nan]]))
    assert np.isnan(b[0])


def test_interval_widens_with_noise_and_horizon() -> None:
    one = np.ones(3)
    # same level and slope, more slope uncertainty: wider interval
    lo, mid, hi, _ = time_to_threshold(
        np.zeros(3), 0.01 * one, 0.1 * one, np.array([0.005, 0.02, 0.05]), one, horizon_days=7.0
    )
    widths = hi - lo
    assert np.all(np.diff(widths) > 0) and np.allclose(mid, 10.0, rtol=0.05)
    # a slower course (further away in time), same relative uncertainty: wider in days
    lo2, mid2, hi2, _ = time_to_threshold(
        np.zeros(2), 0.01 * one[:2], np.array([0.2, 0.05]), np.array([0.02, 0.005]), one[:2],
        horizon_days=7.0,
    )  # fmt: skip
    assert mid2[1] > mid2[0] and (hi2 - lo2)[1] > (hi2 - lo2)[0]


def test_probability_within_horizon_and_past_threshold() -> None:
    _, mid, _, p = time_to_threshold(
        np.array([0.0, 1.2, 0.0]), np.full(3, 0.01), np.array([0.5, 0.0, -0.1]),
        np.full(3, 0.01), np.ones(3), horizon_days=7.0,
    )  # fmt: skip
    assert p[0] > 0.99 and p[1] == 1.0 and p[2] < 1e-6
    assert mid[1] == 0.0 and np.isinf(mid[2])


def test_nanquantile_rows_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 12))
    x[rng.random(x.shape) < 0.3] = np.nan
    x[0] = np.nan
    got = nanquantile_rows(x, 0.25)
    want = np.array([np.nanpercentile(r, 25) if np.isfinite(r).any() else np.nan for r in x])
    assert np.allclose(got, want, equal_nan=True)


def _feed(sp: StreamPoints, ts: np.ndarray, v: np.ndarray, slot: int = 0) -> np.ndarray:
    return sp.add(np.full(ts.size, slot, dtype=np.int64), ts, v, np.ones(sp.n, dtype=bool))


def test_points_are_robust_medians_and_spreads() -> None:
    sp = StreamPoints(3600.0)
    sp.grow(2)
    rng = np.random.default_rng(0)
    ts = np.arange(0.0, 3 * 3600.0, 60.0)
    v = 10.0 + rng.normal(0, 0.1, ts.size)
    v[5] = 1e6  # a spike
    closed = _feed(sp, ts, v)
    assert closed.tolist() == [0, 0]  # two buckets closed, the third is open
    pt = sp.latest(np.array([0]))[0]
    assert abs(pt[LEVEL] - 10.0) < 0.05 and 0.05 < pt[SPREAD] < 0.2
    assert np.isnan(sp.latest(np.array([1]))[0, RATE])


def test_a_sparse_stream_closes_with_its_device_not_its_next_value() -> None:
    sp = StreamPoints(3600.0)
    sp.grow(2)
    # stream 0: one daily value; stream 1 (same device): every minute
    sp.add(np.array([0]), np.array([100.0]), np.array([5.0]), np.array([True, True]))
    closed = sp.add(
        np.array([1, 1]), np.array([3700.0, 3760.0]), np.array([1.0, 1.0]), np.array([True, True])
    )
    assert 0 in closed.tolist()


def test_points_snapshot_round_trip() -> None:
    sp = StreamPoints(3600.0)
    sp.grow(3)
    ts = np.arange(0.0, 30 * 3600.0, 600.0)
    _feed(sp, ts, np.sin(ts / 5000.0))
    back = StreamPoints.restore(sp.snapshot())
    for name in StreamPoints._FIELDS:
        assert np.array_equal(getattr(sp, name), getattr(back, name), equal_nan=True), name
    assert sp.daily(np.array([0]))[1].shape == (1, 45, 3)
