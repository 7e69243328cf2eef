"""score_csv: NAB-format CSV files and directories scored causally."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from htm_edge.config.errors import UnknownTypeError
from htm_edge.models.errors import ModelError
from htm_edge.models.offline import score_csv


def _write(path: Path, n: int, seed: int, spike_at: int | None = None) -> list[str]:
    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2014-04-01T00:00:00")
    rows = []
    for i in range(n):
        ts = str(t0 + np.timedelta64(300 * i, "s")).replace("T", " ")
        v = 10.0 + rng.normal() + (40.0 if i == spike_at else 0.0)
        rows.append(f"{ts},{v:.4f}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    return rows


def _read(path: Path) -> tuple[str, list[str], np.ndarray]:
    lines = path.read_text().splitlines()
    scores = np.array([float(line.rsplit(",", 1)[1]) for line in lines[1:]])
    return lines[0], [line.rsplit(",", 1)[0] for line in lines[1:]], scores


def test_single_file(tmp_path: Path) -> None:
    rows = _write(tmp_path / "in.csv", 300, 1, spike_at=200)
    summary = score_csv(tmp_path / "in.csv", tmp_path / "out" / "o.csv")
    header, kept, scores = _read(tmp_path / "out" / "o.csv")
    assert header == "timestamp,value,anomaly_score"
    assert kept == rows
    assert summary["files"] == 1 and summary["rows"] == 300 and summary["malformed"] == 0
    assert np.all((scores >= 0) & (scores <= 1)) and scores[200] >= 0.99
    assert scores[:150].max() < 0.99


def test_directory_keeps_relative_paths_and_is_causal(tmp_path: Path) -> None:
    src = tmp_path / "data"
    _write(src / "a" / "x.csv", 250, 1)
    _write(src / "b" / "c" / "y.csv", 400, 2, spike_at=300)
    _write(src / "z.csv", 50, 3)
    summary = score_csv(src, tmp_path / "res", detector="robust_ewma")
    assert summary["files"] == 3 and summary["rows"] == 700
    for rel in ("a/x.csv", "b/c/y.csv", "z.csv"):
        assert (tmp_path / "res" / rel).is_file()
    # each file scores as if alone, and a prefix scores like the whole file's prefix
    _write(tmp_path / "alone" / "y.csv", 400, 2, spike_at=300)
    score_csv(tmp_path / "alone" / "y.csv", tmp_path / "alone_out.csv", detector="robust_ewma")
    np.testing.assert_array_equal(
        _read(tmp_path / "res" / "b" / "c" / "y.csv")[2], _read(tmp_path / "alone_out.csv")[2]
    )
    lines = (tmp_path / "alone" / "y.csv").read_text().splitlines()[:201]
    (tmp_path / "prefix.csv").write_text("\n".join(lines) + "\n")
    score_csv(tmp_path / "prefix.csv", tmp_path / "prefix_out.csv", detector="robust_ewma")
    np.testing.assert_array_equal(
        _read(tmp_path / "prefix_out.csv")[2], _read(tmp_path / "alone_out.csv")[2][:200]
    )


def test_malformed_rows_are_kept_with_score_zero(tmp_path: Path) -> None:
    rows = _write(tmp_path / "in.csv", 100, 1)
    rows[50] = "2014-04-01 04:10:00,not-a-number"
    rows[60] = "garbage"
    (tmp_path / "in.csv").write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    summary = score_csv(tmp_path / "in.csv", tmp_path / "out.csv")
    assert summary["malformed"] == 2
    assert summary["malformed_rows"][0].endswith("in.csv:52")
    _, kept, scores = _read(tmp_path / "out.csv")
    assert len(kept) == 100 and scores[50] == 0.0 and scores[60] == 0.0


def test_errors_name_the_input(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("time;value\n1;2\n")
    with pytest.raises(ModelError, match=r"bad\.csv"):
        score_csv(tmp_path / "bad.csv", tmp_path / "o.csv")
    with pytest.raises(ModelError, match="no such"):
        score_csv(tmp_path / "missing.csv", tmp_path / "o.csv")
    with pytest.raises(UnknownTypeError, match="valid types"):
        _write(tmp_path / "ok.csv", 10, 1)
        score_csv(tmp_path / "ok.csv", tmp_path / "o.csv", detector="nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no"):
        score_csv(tmp_path / "empty", tmp_path / "o")
