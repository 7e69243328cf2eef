"""Run-to-failure regression on synthetic engines in the C-MAPSS layout."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from htm_edge.models.errors import ModelError
from htm_edge.models.prognostics.rul import RunToFailureRegressor, phm08_score
from htm_edge.models.prognostics.runs import Runs, find_subsets, load_runs, load_truth


def _engines(n_units: int, seed: int, truncate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Units whose two wear sensors rise exponentially to failure; six operating regimes."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for u in range(1, n_units + 1):
        life = int(rng.integers(120, 260))
        stop = int(rng.integers(40, life - 5)) if truncate else life
        base = rng.normal(0, 0.5, 4)
        for c in range(1, stop + 1):
            regime = int(rng.integers(0, 6))
            settings = np.array([regime * 10.0, regime * 0.1, 100.0])
            wear = np.exp(4.0 * (c / life - 1.0))
            sensors = 50.0 * regime + base + rng.normal(0, 0.3, 4)
            sensors[:2] += 5.0 * wear
            rows.append([u, c, *settings, *sensors, 7.0])  # a constant sensor too
        truth.append(life - stop)
    return np.array(rows), np.array(truth, dtype=float)


def _write(path: Path, data: np.ndarray) -> None:
    with gzip.open(path, "wt") as fh:
        np.savetxt(fh, data, fmt="%.5f")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("rtf")
    train, _ = _engines(40, 1)
    test, truth = _engines(20, 2, truncate=True)
    _write(d / "train_SYN.txt.gz", train)
    _write(d / "test_SYN.txt.gz", test)
    np.savetxt(d / "RUL_SYN.txt", truth, fmt="%d")
    return d


def test_loads_the_layout(data_dir: Path) -> None:
    assert find_subsets(data_dir) == ["SYN"]
    runs = load_runs(data_dir, "train_SYN")
    assert runs.units.size == 40 and runs.settings.shape[1] == 3 and runs.sensors.shape[1] == 5
    assert load_truth(data_dir, "SYN").size == 20
    with pytest.raises(ModelError, match=r"no train_X\.txt"):
        load_runs(data_dir, "train_X")


def test_beats_a_constant_and_drops_constant_sensors(data_dir: Path, tmp_path: Path) -> None:
    model = RunToFailureRegressor(n_trees=50).fit(load_runs(data_dir, "train_SYN"))
    assert model.kmeans is not None  # the settings vary: regimes
    assert model.keep is not None and 4 not in model.keep.tolist()
    test = load_runs(data_dir, "test_SYN")
    truth = load_truth(data_dir, "SYN")
    pred = model.predict_last(test)
    rmse = float(np.sqrt(np.mean((pred - truth) ** 2)))
    const = float(np.sqrt(np.mean((np.mean(np.minimum(truth, 125)) - truth) ** 2)))
    assert rmse < 0.6 * const
    assert phm08_score(pred, truth) < phm08_score(np.full_like(truth, truth.mean()), truth)
    path = tmp_path / "rtf.htm"
    model.save(path)
    assert np.array_equal(RunToFailureRegressor.load(path).predict_last(test), pred)


def test_predictions_are_causal(data_dir: Path) -> None:
    runs = load_runs(data_dir, "train_SYN")
    model = RunToFailureRegressor(n_trees=20).fit(runs)
    m = runs.unit == 1
    one = Runs(runs.unit[m], runs.cycle[m], runs.settings[m], runs.sensors[m])
    full = model.predict_rows(one)
    k = 60
    cut = Runs(one.unit[:k], one.cycle[:k], one.settings[:k], one.sensors[:k])
    assert np.allclose(model.predict_rows(cut), full[:k])


def test_phm08_score_is_asymmetric() -> None:
    assert phm08_score(np.array([10.0]), np.array([0.0])) > phm08_score(
        np.array([-10.0]), np.array([0.0])
    )


def test_a_unit_is_predicted_alone_as_in_any_batch(data_dir: Path) -> None:
    """Test-time path = validation path: no dependence on the other units or their order."""
    model = RunToFailureRegressor(n_trees=20).fit(load_runs(data_dir, "train_SYN"))
    test = load_runs(data_dir, "test_SYN")
    batch = model.predict_rows(test)
    for u in test.units[:5]:
        m = test.unit == u
        alone = Runs(test.unit[m], test.cycle[m], test.settings[m], test.sensors[m])
        assert np.allclose(model.predict_rows(alone), batch[m])
    order = np.argsort(-test.unit, kind="stable")  # units in reverse order
    rev = Runs(test.unit[order], test.cycle[order], test.settings[order], test.sensors[order])
    assert np.allclose(model.predict_rows(rev), batch[order])


def test_a_short_truncated_unit_matches_the_full_units_prefix(data_dir: Path) -> None:
    """Regime normalisation and the first-cycles baseline do not change when a unit stops early."""
    runs = load_runs(data_dir, "train_SYN")
    model = RunToFailureRegressor(n_trees=20).fit(runs)
    m = runs.unit == 3
    full = model.predict_rows(Runs(runs.unit[m], runs.cycle[m], runs.settings[m], runs.sensors[m]))
    for k in (1, 15, 25):  # shorter than the 20-cycle baseline and the 31-cycle validation floor
        idx = np.flatnonzero(m)[:k]
        cut = Runs(runs.unit[idx], runs.cycle[idx], runs.settings[idx], runs.sensors[idx])
        assert np.allclose(model.predict_rows(cut), full[:k])


def test_window_slopes_are_least_squares_over_the_last_cycles() -> None:
    """Every slope column, the 200-cycle one too, is the fitted slope of its window (or shorter)."""
    from htm_edge.models.prognostics import rul

    rng = np.random.default_rng(5)
    n, k = 260, 2
    t = np.arange(n, dtype=float)
    z = np.column_stack([0.01 * t + 0.002 * t**1.5, rng.normal(0, 1, n)])
    f = rul.unit_features(z, t + 1)
    first = 1 + k + k * len(rul._WINDOWS)  # cycle, smoothed, window means, then slopes
    assert 200 in rul._SLOPES
    for j, w in enumerate(rul._SLOPES):
        for i in (1, 30, 150, 199, 200, 259):
            lo = max(0, i - w + 1)
            want = [np.polyfit(t[lo : i + 1], z[lo : i + 1, c], 1)[0] for c in range(k)]
            got = f[i, first + j * k : first + (j + 1) * k]
            assert np.allclose(got, want), (w, i)


def test_a_model_file_of_the_former_feature_set_is_refused(tmp_path: Path) -> None:
    """The slope windows changed: a file trained on the old features must not load silently."""
    from htm_edge.models.prognostics.modelfile import save_model_file
    from htm_edge.models.prognostics.rul import KIND, RUL_FEATURE_SET

    old = "rtf-1-ewm0.1-w5.10.20.30-s10.20.40-base20-hi"
    assert old != RUL_FEATURE_SET
    path = tmp_path / "old.htm"
    save_model_file(path, KIND, old, RunToFailureRegressor(), {})
    with pytest.raises(ModelError, match="feature set"):
        RunToFailureRegressor.load(path)
