"""The SKAB benchmark's metric code, and a small run on real SKAB files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.skab import TRAIN_ROWS, Counts, data_dir, metrics, run, skab_files


def test_counts_and_metrics_on_a_hand_made_case() -> None:
    label = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 1], dtype=bool)
    pred = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
    c = Counts.of(pred, label)
    assert c == Counts(tp=3, fp=1, fn=2, tn=4)
    m = metrics(c + Counts(tp=1, fp=0, fn=0, tn=1))  # pooling adds counts
    assert m["f1"] == pytest.approx(4 / (4 + 3 / 2))
    assert m["far"] == pytest.approx(1 / 6)
    assert m["mar"] == pytest.approx(2 / 6)


def test_metrics_of_degenerate_cases() -> None:
    assert metrics(Counts(0, 0, 0, 10)) == {"f1": 0.0, "far": 0.0, "mar": 0.0}
    assert metrics(Counts(5, 0, 0, 0))["f1"] == 1.0
    assert metrics(Counts(0, 0, 5, 5)) == {"f1": 0.0, "far": 0.0, "mar": 1.0}


def test_data_dir_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HTM_SHARED_DIR", str(tmp_path))
    assert data_dir() == tmp_path / "datasets" / "skab"
    with pytest.raises(FileNotFoundError, match="HTM_SHARED_DIR"):
        skab_files()


def test_benchmark_on_three_files() -> None:
    if not data_dir().is_dir():
        pytest.fail(
            f"SKAB dataset missing at {data_dir()}: the shared datasets folder must hold "
            "datasets/skab (or set HTM_SHARED_DIR)"
        )
    files = skab_files(names=["valve1/0.csv", "valve2/1.csv", "other/5.csv"])
    assert all(f.x.shape[1] == 8 and len(f.label) == len(f.x) for f in files)
    result = run(files)
    assert result["files"] == 3
    assert result["rows"] == sum(len(f.x) - TRAIN_ROWS for f in files)
    c = result["counts"]
    assert c.tp + c.fp + c.fn + c.tn == result["rows"]
    for key in ("f1", "far", "mar"):
        assert 0.0 <= result[key] <= 1.0
    assert result["f1"] > 0.5  # far from a null detector on these faults
