"""Behaviour of the multivariate (T² + Q) detector."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from htm_edge.models.detectors.multivariate import MultivariateDetector
from htm_edge.models.errors import ModelError

Arr = npt.NDArray[np.float64]
THRESHOLD = 0.99


def run(det: MultivariateDetector, xs: Arr, stream: int = 0) -> Arr:
    """Feed the rows of ``xs`` to one stream, score-then-learn; return the scores."""
    idx = np.array([stream])
    out = np.empty(len(xs))
    for t, row in enumerate(xs):
        out[t] = det.process_many(idx, row[None, :], np.array([float(t)]))[0]
    return out


def correlated(rng: np.random.Generator, n: int, d: int = 2, noise: float = 0.1) -> Arr:
    """``d`` signals that all follow one common factor, plus a little noise."""
    z = rng.normal(size=(n, 1))
    return z + noise * rng.normal(size=(n, d))


def test_detects_correlation_break_invisible_per_signal() -> None:
    rng = np.random.default_rng(1)
    normal = correlated(rng, 600)
    broken = rng.normal(size=(300, 2))  # same marginals N(0, ~1), correlation gone
    det = MultivariateDetector(n_features=2, warmup=400)
    scores = run(det, np.vstack([normal, broken]))
    # each signal stays within its usual range
    assert np.all(np.abs(broken) < 4.5 * normal.std(axis=0))
    assert np.mean(scores[400:600] >= THRESHOLD) < 0.05
    assert np.mean(scores[620:] >= THRESHOLD) > 0.8


def test_detects_joint_mean_shift() -> None:
    rng = np.random.default_rng(2)
    d = 4
    normal = rng.normal(size=(600, d))
    shifted = rng.normal(size=(200, d)) + 2.0  # 2 sigma on each signal at once
    det = MultivariateDetector(n_features=d, warmup=400)
    scores = run(det, np.vstack([normal, shifted]))
    assert np.mean(scores[620:] >= THRESHOLD) > 0.9


def test_quiet_on_stationary_correlated_gaussian() -> None:
    rng = np.random.default_rng(3)
    d = 5
    a = rng.normal(size=(d, d))
    xs = rng.normal(size=(6000, d)) @ a.T + 10.0
    det = MultivariateDetector(n_features=d, warmup=400)
    scores = run(det, xs)
    assert np.all(scores[:400] == 0.0)
    assert np.mean(scores[400:] >= THRESHOLD) < 0.03


def test_causal_prefix_scores_do_not_change() -> None:
    rng = np.random.default_rng(4)
    xs = correlated(rng, 700, d=3)
    a = run(MultivariateDetector(n_features=3, warmup=100), xs[:500])
    b = run(MultivariateDetector(n_features=3, warmup=100), xs)
    np.testing.assert_array_equal(a, b[:500])


def test_score_does_not_change_state() -> None:
    rng = np.random.default_rng(5)
    det = MultivariateDetector(n_features=3, warmup=50)
    run(det, correlated(rng, 80, d=3))
    before = json.dumps(det.snapshot())
    det.score_many(np.array([0]), rng.normal(size=(1, 3)), np.zeros(1))
    assert json.dumps(det.snapshot()) == before


@pytest.mark.parametrize("adaptive", [False, True])
@pytest.mark.parametrize("cut", [30, 250])  # during warm-up, after it
def test_snapshot_restore_through_json(adaptive: bool, cut: int) -> None:
    rng = np.random.default_rng(6)
    xs = np.vstack([correlated(rng, 400, d=3), rng.normal(size=(100, 3))])
    kw: dict[str, Any] = {"refit_every": 20, "forget": 0.01, "anomalous_rate": 0.1}
    if not adaptive:
        kw = {}
    det = MultivariateDetector(2, n_features=3, warmup=100, **kw)
    run(det, xs[:cut], stream=1)
    clone = MultivariateDetector.restore(json.loads(json.dumps(det.snapshot())))
    assert clone.bytes_per_stream == det.bytes_per_stream
    np.testing.assert_array_equal(run(det, xs[cut:], 1), run(clone, xs[cut:], 1))


def test_nan_rows() -> None:
    rng = np.random.default_rng(7)
    det = MultivariateDetector(n_features=3, warmup=50, refit_every=10)  # adaptive
    run(det, correlated(rng, 100, d=3))
    idx = np.array([0])
    before = json.dumps(det.snapshot())
    count = int(det.count[0])
    empty = np.array([[np.nan, np.inf, np.nan]])
    assert det.process_many(idx, empty, np.zeros(1))[0] == 0.0
    assert json.dumps(det.snapshot()) == before  # a row with nothing in it changes nothing
    partial = np.array([[0.1, np.nan, 0.2]])
    s = det.process_many(idx, partial, np.zeros(1))[0]
    assert 0.0 <= s <= 1.0
    assert det.count[0] == count  # not learned into the mean/covariance
    assert all(np.isfinite(getattr(det, k)).all() for k in ("mean", "cov", "sm_t", "sm_q"))
    # a missing signal is imputed, so a jointly abnormal rest still scores high
    for _ in range(30):
        s = det.process_many(idx, np.array([[3.0, np.nan, -3.0]]), np.zeros(1))[0]
    assert s >= THRESHOLD


def test_nan_during_warmup_is_not_counted() -> None:
    rng = np.random.default_rng(8)
    xs = correlated(rng, 120, d=2)
    xs[::10, 1] = np.nan
    det = MultivariateDetector(n_features=2, warmup=100)
    run(det, xs)
    assert det.count[0] == 100  # 12 of the first 112 rows had a gap
    assert np.isfinite(det.cov).all()


def test_constant_feature_does_not_crash() -> None:
    rng = np.random.default_rng(9)
    xs = np.hstack([correlated(rng, 300, d=2), np.full((300, 1), 5.0), np.zeros((300, 1))])
    det = MultivariateDetector(n_features=4, warmup=100)
    with np.errstate(all="raise"):
        scores = run(det, xs)
        assert np.all((scores >= 0.0) & (scores <= 1.0))
        assert np.mean(scores[100:] >= THRESHOLD) < 0.05
        moved = xs[-1].copy()
        moved[2] = 6.0  # the constant signal moves: abnormal
        s = run(det, np.tile(moved, (5, 1)))
    assert s[-1] >= THRESHOLD


def test_scores_in_unit_interval_for_wild_inputs() -> None:
    rng = np.random.default_rng(10)
    det = MultivariateDetector(3, n_features=3, warmup=20, refit_every=5, forget=0.05)
    idx = np.arange(3)
    for t in range(300):
        x = rng.standard_cauchy(size=(3, 3)) * 10.0 ** rng.integers(-3, 12)
        x[rng.random(size=(3, 3)) < 0.05] = np.nan
        s = det.process_many(idx, x, np.full(3, float(t)))
        assert np.all((s >= 0.0) & (s <= 1.0)), s


def test_vectorised_equals_single_stream_runs() -> None:
    rng = np.random.default_rng(11)
    n, d, k = 400, 3, 4
    data = [correlated(rng, n, d) * (i + 1) + i for i in range(k)]
    for i in range(k):
        data[i][300:] += rng.normal(size=d)  # a different shift per stream
    active = rng.random(size=(n, k)) < 0.8  # streams report at different times
    kw: dict[str, Any] = {"warmup": 80, "refit_every": 25, "forget": 0.01}
    fleet = MultivariateDetector(k, n_features=d, **kw)
    fleet_scores: list[list[float]] = [[] for _ in range(k)]
    for t in range(n):
        idx = np.flatnonzero(active[t])
        x = np.stack([data[i][t] for i in idx]) if idx.size else np.empty((0, d))
        scores = fleet.process_many(idx, x, np.full(idx.size, float(t)))
        for j, s in zip(idx.tolist(), scores.tolist(), strict=True):
            fleet_scores[j].append(s)
    for i in range(k):
        alone = run(MultivariateDetector(n_features=d, **kw), data[i][active[:, i]])
        np.testing.assert_allclose(fleet_scores[i], alone, rtol=1e-9, atol=1e-12)


def test_grow_adds_cold_streams() -> None:
    rng = np.random.default_rng(12)
    det = MultivariateDetector(1, n_features=2, warmup=30)
    run(det, correlated(rng, 50))
    det.grow(3)
    assert det.n_streams == 3
    assert det.score_many(np.array([2]), np.array([[9.0, -9.0]]), np.zeros(1))[0] == 0.0
    assert det.score_many(np.array([0]), np.array([[9.0, -9.0]]), np.zeros(1))[0] > 0.99


def test_bytes_per_stream_is_quadratic_in_d() -> None:
    for d in (1, 2, 8):
        assert MultivariateDetector(n_features=d, warmup=20).bytes_per_stream == 8 * (
            3 * d * d + 5 * d + 18
        )


def test_single_feature_works() -> None:
    rng = np.random.default_rng(13)
    det = MultivariateDetector(n_features=1, warmup=50)
    xs = np.vstack([rng.normal(size=(200, 1)), rng.normal(size=(50, 1)) + 4.0])
    scores = run(det, xs)
    assert np.mean(scores[220:] >= THRESHOLD) > 0.9


def test_bad_arguments_raise_model_error() -> None:
    with pytest.raises(ModelError, match="warmup"):
        MultivariateDetector(n_features=8, warmup=5)
    with pytest.raises(ModelError, match="shrinkage"):
        MultivariateDetector(n_features=2, shrinkage=0.0)
    det = MultivariateDetector(n_features=2, warmup=10)
    with pytest.raises(ModelError, match="shape"):
        det.score_many(np.array([0]), np.zeros((1, 3)), np.zeros(1))


def test_declares_itself_multivariate() -> None:
    assert MultivariateDetector.multivariate is True
    assert MultivariateDetector.type_name == "multivariate"


def test_differenced_signal_ignores_slow_drift_but_sees_steps() -> None:
    rng = np.random.default_rng(14)
    n, d = 1000, 3
    xs = correlated(rng, n, d=2)
    drift = np.cumsum(0.05 * rng.normal(size=n)) + 0.01 * np.arange(n)  # wanders far
    xs = np.hstack([xs, drift[:, None]])
    det = MultivariateDetector(n_features=d, warmup=400, differenced=[2])
    scores = run(det, xs)
    assert np.all(scores[:401] == 0.0)  # the first row has no difference: not learned
    assert det.count[0] == 400
    assert np.mean(scores[401:] >= THRESHOLD) < 0.05
    levels = run(MultivariateDetector(n_features=d, warmup=400), xs)
    assert np.mean(levels[600:] >= THRESHOLD) > 0.5  # the same drift, scored by level
    stepped = xs[-1] + np.array([0.0, 0.0, 3.0])  # a step of 60 noise sds
    assert run(det, np.tile(stepped, (3, 1)))[0] >= THRESHOLD


def test_empirical_calibration_quiet_on_autocorrelated_rows() -> None:
    fars = []
    for seed in (15, 16, 17, 18):
        rng = np.random.default_rng(seed)
        n, d = 4000, 3
        e = rng.normal(size=(n, d))
        xs = np.empty((n, d))
        xs[0] = e[0]
        for t in range(1, n):  # AR(1) rows: the F/χ² theory assumes independent ones
            xs[t] = 0.8 * xs[t - 1] + 0.6 * e[t]
        det = MultivariateDetector(n_features=d, warmup=1200, calibration="empirical")
        assert det.he_t[0] == 0.0
        scores = run(det, xs)
        assert det.he_t[0] > 0.0  # calibrated empirically at the end of the warm-up
        assert np.all(scores[:1200] == 0.0)
        fars.append(np.mean(scores[1200:] >= THRESHOLD))
    assert np.mean(fars) < 0.05  # noisy per warm-up (see the module notes), fine on average


def test_bad_calibration_and_differenced_raise() -> None:
    with pytest.raises(ModelError, match="calibration"):
        MultivariateDetector(n_features=2, calibration="magic")
    with pytest.raises(ModelError, match="differenced"):
        MultivariateDetector(n_features=2, differenced=[2])
