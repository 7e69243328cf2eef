"""Conformance suite: every univariate detector in the registry obeys the Detector contract.

A detector added to ``models.registry.DETECTORS`` is picked up automatically;
detectors with ``multivariate = True`` take 2-D points and are skipped here.
"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from htm_edge.config.errors import UnknownTypeError
from htm_edge.models.base import Detector
from htm_edge.models.errors import ModelError
from htm_edge.models.registry import DEFAULT_DETECTOR, DETECTORS, make_detector, resolve
from tests.unit.models.models_helpers import UNIVARIATE, run

pytestmark = pytest.mark.parametrize("name", UNIVARIATE)

#: floating-point errors that mean a bug; underflow only rounds a vanishing
#: quantity (a decaying deviation on a constant stream) to its limit, zero
STRICT_FP: dict[str, str] = {
    "divide": "raise",
    "over": "raise",
    "invalid": "raise",
    "under": "ignore",
}


def _noise(n: int = 400, seed: int = 1, level: float = 20.0) -> np.ndarray:
    return level + np.random.default_rng(seed).normal(0.0, 1.0, n)


def test_module_name_is_registry_key(name: str) -> None:
    cls = DETECTORS[name]
    assert cls.type_name == name
    assert cls.__module__ == f"htm_edge.models.detectors.{name}"
    assert cls.__doc__ and cls.__module__ and sys.modules[cls.__module__].__doc__ is not None


def test_unknown_parameter_is_a_clear_error(name: str) -> None:
    with pytest.raises(ModelError, match="valid"):
        make_detector(name, 1, no_such_param=1)


def test_bytes_per_stream_budget(name: str) -> None:
    det = make_detector(name, 8)
    assert 0 < det.bytes_per_stream <= 2048


def test_scores_in_unit_interval_and_causal(name: str) -> None:
    x = _noise(500)
    x[300] += 30.0
    full = run(make_detector(name), x)
    prefix = run(make_detector(name), x[:320])
    assert np.all((full >= 0.0) & (full <= 1.0))
    np.testing.assert_array_equal(full[:320], prefix)


def test_deterministic(name: str) -> None:
    x = _noise(300, seed=5)
    np.testing.assert_array_equal(run(make_detector(name), x), run(make_detector(name), x))


def test_snapshot_restore_through_json(name: str) -> None:
    x = _noise(400, seed=2)
    x[250:] += 5.0
    a = make_detector(name, 3)
    run(a, x[:200], stream=1)
    snap = json.loads(json.dumps(a.snapshot(), allow_nan=False))
    b = type(a).restore(snap)
    assert b.bytes_per_stream == a.bytes_per_stream
    ts = np.arange(200, 400) * 300.0
    np.testing.assert_array_equal(run(a, x[200:], ts, stream=1), run(b, x[200:], ts, stream=1))


def test_score_many_does_not_mutate(name: str) -> None:
    det = make_detector(name, 2)
    run(det, _noise(100), stream=0)
    before = json.dumps(det.snapshot())
    idx = np.array([0, 1], dtype=np.intp)
    det.score_many(idx, np.array([21.0, 99.0]), np.array([30000.0, 30000.0]))
    assert json.dumps(det.snapshot()) == before


def test_nan_and_inf_score_zero_and_leave_state(name: str) -> None:
    det = make_detector(name, 2)
    run(det, _noise(100), stream=0)
    before = json.dumps(det.snapshot())
    idx = np.array([0, 1], dtype=np.intp)
    for bad_x, bad_t in [(np.nan, 1.0), (np.inf, 1.0), (-np.inf, 1.0), (20.0, np.nan)]:
        s = det.process_many(idx, np.array([bad_x, bad_x]), np.array([bad_t, bad_t]))
        np.testing.assert_array_equal(s, [0.0, 0.0])
    assert json.dumps(det.snapshot()) == before


@pytest.mark.parametrize(
    "signal",
    [
        np.zeros(300),
        np.full(300, 7.5),
        np.full(300, -1e9),
        np.round(np.random.default_rng(3).poisson(0.2, 300).astype(float)),
        np.repeat([3.0, 4.0], 150),
    ],
    ids=["zeros", "constant", "big-constant", "sparse-counts", "one-step"],
)
def test_constant_and_quantised_signals_are_finite(name: str, signal: np.ndarray) -> None:
    with np.errstate(**STRICT_FP), warnings.catch_warnings():
        warnings.simplefilter("error")
        s = run(make_detector(name), signal)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    if np.ptp(signal) == 0:
        assert s.max() == 0.0


def test_gaps_in_time_are_fine(name: str) -> None:
    x = _noise(300)
    ts = np.cumsum(
        np.random.default_rng(4).choice([60.0, 300.0, 86400.0 * 3], 300, p=[0.5, 0.49, 0.01])
    )
    with np.errstate(**STRICT_FP):
        s = run(make_detector(name), x, ts)
    assert np.all((s >= 0) & (s <= 1))
    assert (s[60:] >= 0.99).mean() < 0.02


def test_outlier_is_not_learned_at_full_rate(name: str) -> None:
    det = make_detector(name)
    x = _noise(300)
    run(det, x)
    first = det.score_one(120.0, 300 * 300.0)
    det.learn_one(120.0, 300 * 300.0)
    normal = det.score_one(20.0, 301 * 300.0)
    again = det.score_one(120.0, 301 * 300.0)
    assert normal < 0.5
    if first >= 0.99:  # detectors that flag it must still flag it after learning it once
        assert again >= 0.99


def test_streams_are_independent(name: str) -> None:
    x = np.stack([_noise(200, seed=s) for s in range(3)], axis=1)
    x[150, 1] += 40.0
    ts = np.arange(200) * 300.0
    det = make_detector(name, 3)
    joint = np.stack([det.process_many(np.arange(3), x[t], np.full(3, ts[t])) for t in range(200)])
    for j in range(3):
        np.testing.assert_array_equal(joint[:, j], run(make_detector(name), x[:, j], ts))


def test_grow_keeps_state_and_new_slots_start_cold(name: str) -> None:
    det = make_detector(name, 1)
    x = _noise(150)
    ref = make_detector(name, 1)
    run(ref, x)
    run(det, x)
    det.grow(5)
    assert det.n_streams >= 5
    idx = np.array([0, 4], dtype=np.intp)
    s = det.score_many(idx, np.array([25.0, 25.0]), np.array([1e6, 1e6]))
    assert s[0] == ref.score_one(25.0, 1e6)
    assert s[1] == make_detector(name).score_one(25.0, 1e6)


def test_warm_up_is_short(name: str) -> None:
    x = _noise(200, seed=8)
    x[100] += 60.0
    s = run(make_detector(name), x)
    assert s[:5].max() == 0.0
    if name not in ("cusum", "drift"):  # the drift charts ignore isolated spikes by design
        assert s[100] >= 0.99


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(
        st.one_of(
            st.floats(-1e12, 1e12, allow_nan=False),
            st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0]),
        ),
        min_size=1,
        max_size=120,
    ),
    steps=st.lists(st.floats(0.0, 1e6), min_size=1, max_size=120),
)
def test_any_input_gives_scores_in_range(
    name: str, values: list[float], steps: list[float]
) -> None:
    x = np.array(values)
    ts = 1.4e9 + np.cumsum(np.resize(np.array(steps), len(values)))
    with np.errstate(**STRICT_FP):
        s = run(make_detector(name), x, ts)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    assert np.all(s[~np.isfinite(x)] == 0.0)


def test_registry_resolves_default_and_rejects_unknown(name: str) -> None:
    assert resolve("default") is DETECTORS[DEFAULT_DETECTOR]
    assert isinstance(make_detector("default"), Detector)
    with pytest.raises(UnknownTypeError, match=name):  # the one error every registry raises
        make_detector("no-such-detector")
