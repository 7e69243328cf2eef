"""StreamScorer: keyed slots, rounds of repeated keys, growth, snapshots."""

from __future__ import annotations

import json

import numpy as np
import pytest

from htm_edge.config.errors import UnknownTypeError
from htm_edge.models.errors import ModelError
from htm_edge.models.scorer import StreamScorer


def _batch(seed: int, n: int) -> tuple[list[object], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    keys: list[object] = [(f"dev{k}", "temp") for k in rng.integers(0, 7, n)]
    ts = np.arange(n) * 60.0
    x = rng.normal(20.0, 1.0, n)
    x[n // 2] += 25.0
    return keys, ts, x


@pytest.mark.parametrize("detector", ["default", "robust_ewma", "cusum"])
def test_repeated_keys_equal_sequential_processing(detector: str) -> None:
    # ~170 points per stream: the spike (at n // 2) comes after every detector's warm-up
    keys, ts, x = _batch(1, 1200)
    batched = StreamScorer(detector)
    parts = [
        batched.score(keys[i : i + 50], ts[i : i + 50], x[i : i + 50]) for i in range(0, 1200, 50)
    ]
    got = np.concatenate(parts)
    seq = StreamScorer(detector)
    one = [seq.score([k], ts[i : i + 1], x[i : i + 1]) for i, k in enumerate(keys)]
    want = np.concatenate(one)
    np.testing.assert_array_equal(got, want)
    assert batched.n_streams == len(set(keys))
    assert np.all((got >= 0) & (got <= 1))
    if detector != "cusum":  # cusum ignores lone spikes by design
        assert got.max() >= 0.99


def test_growth_is_geometric_and_keeps_state() -> None:
    sc = StreamScorer()
    for k in range(5):
        sc.score([f"s{i}" for i in range(k * 100, (k + 1) * 100)], np.zeros(100), np.ones(100))
    assert sc.n_streams == 500
    assert 500 <= sc.detector.n_streams <= 1024
    assert sc.keys[:2] == ["s0", "s1"]
    assert sc.bytes_per_stream <= 2048


def test_snapshot_roundtrip_with_tuple_keys() -> None:
    keys, ts, x = _batch(2, 400)
    a = StreamScorer()
    a.score(keys[:200], ts[:200], x[:200])
    b = StreamScorer.restore(json.loads(json.dumps(a.snapshot(), allow_nan=False)))
    assert b.keys == a.keys
    np.testing.assert_array_equal(
        a.score(keys[200:], ts[200:], x[200:]), b.score(keys[200:], ts[200:], x[200:])
    )


def test_detail_and_bad_input() -> None:
    sc = StreamScorer()
    s = sc.score(["a", "a"], np.array([0.0, 60.0]), np.array([1.0, 1.0]), detail=True)
    assert s.shape == (2,) and set(sc.last_detail) >= {"point", "range", "spread"}
    assert sc.score([], np.array([]), np.array([])).shape == (0,)
    with pytest.raises(ModelError):
        sc.score(["a"], np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    with pytest.raises(UnknownTypeError, match="valid types"):
        StreamScorer("nope")
    with pytest.raises(ModelError, match="valid"):
        StreamScorer("default", {"bogus": 1})
