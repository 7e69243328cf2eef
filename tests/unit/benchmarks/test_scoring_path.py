"""The benchmarks score through score-csv's own core; the EWMA baseline is what it claims."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks.baselines import (
    EWMA_BASELINE,
    PREVIOUS_DEFAULT,
    detectors_to_run,
    ewma_zscore,
    score_series,
)
from htm_edge.models import registry
from htm_edge.models.errors import ModelError
from htm_edge.models.offline import score_csv, score_streams


def _csv(path: Path, x: np.ndarray) -> np.ndarray:
    ts = 1_600_000_000.0 + 60.0 * np.arange(len(x))
    stamps = np.datetime_as_string(ts.astype("datetime64[s]"))
    rows = "".join(f"{t},{float(v)!r}\n" for t, v in zip(stamps, x, strict=True))
    path.write_text("timestamp,value\n" + rows)
    return ts


def test_score_streams_is_what_score_csv_writes(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=300), rng.normal(size=180)
    a[250] += 20.0
    (tmp_path / "in").mkdir()
    ta, tb = _csv(tmp_path / "in" / "a.csv", a), _csv(tmp_path / "in" / "b.csv", b)
    score_csv(tmp_path / "in", tmp_path / "out")
    written = [
        np.array(
            [float(r.rsplit(",", 1)[1]) for r in (tmp_path / "out" / f).read_text().split()[1:]]
        )
        for f in ("a.csv", "b.csv")
    ]
    ours = score_streams([a, b], [ta, tb])
    for w, o in zip(written, ours, strict=True):
        np.testing.assert_array_equal(w, o)
    assert ours[0][250] >= 0.99  # the spike
    np.testing.assert_array_equal(
        score_series(registry.DEFAULT_DETECTOR, [a, b], [ta, tb])[1], ours[1]
    )


def test_score_streams_rejects_mismatched_series() -> None:
    with pytest.raises(ModelError, match="1-D of one length"):
        score_streams([np.zeros(3)], [np.zeros(4)])
    with pytest.raises(ModelError, match="timestamp series"):
        score_streams([np.zeros(3)], [])
    assert score_streams([], []) == []


def test_ewma_zscore_by_hand() -> None:
    x = np.array([2.0, 4.0, 3.0, np.nan, 3.0])
    s = ewma_zscore([x], alpha=0.5)[0]
    # m, v: (2, 0) -> d=2: score 1 -> (3, 1) -> d=0: score 0 -> (3, 0.5) -> NaN -> d=0: score 0
    np.testing.assert_allclose(s, [0.0, 1.0, 0.0, 0.0, 0.0])
    y = np.array([0.0, 1.0, 1.0])
    m, v = 0.01, 0.99 * 0.01  # after learning 0 then 1 with alpha 0.01
    expected = math.erf(abs(1.0 - m) / math.sqrt(v) / math.sqrt(2))
    assert ewma_zscore([y])[0][2] == pytest.approx(expected)


def test_ewma_zscore_scores_before_learning_and_skips_nan() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=500)
    x[400] = 8.0
    s = ewma_zscore([x])[0]
    assert s[400] > 0.999999 and s[399] < 0.999  # the spike is scored against the past
    with_nan = x.copy()
    with_nan[100] = np.nan
    s2 = ewma_zscore([with_nan])[0]
    assert s2[100] == 0.0
    np.testing.assert_allclose(s2[101:], ewma_zscore([np.delete(x, 100)])[0][100:])


def test_ewma_zscore_streams_are_independent() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=50), rng.normal(size=80) * 5
    both = ewma_zscore([a, b])
    np.testing.assert_allclose(both[0], ewma_zscore([a])[0])
    np.testing.assert_allclose(both[1], ewma_zscore([b])[0])
    np.testing.assert_array_equal(score_series(EWMA_BASELINE, [a, b], [a, b])[1], both[1])


def test_the_registry_default_ensemble_and_baseline_always_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = detectors_to_run()
    assert names[0] == registry.DEFAULT_DETECTOR and names[-1] == EWMA_BASELINE
    assert PREVIOUS_DEFAULT in names and len(names) == len(set(names))
    monkeypatch.setattr(registry, "DEFAULT_DETECTOR", "robust_ewma")  # read at call time
    assert detectors_to_run(["cusum", "ensemble"]) == [
        "robust_ewma",
        "ensemble",
        "cusum",
        EWMA_BASELINE,
    ]
    with pytest.raises(ValueError, match="unknown detector"):
        detectors_to_run(["nope"])
