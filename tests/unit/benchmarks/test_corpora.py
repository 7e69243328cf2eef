"""Corpus loaders on small temporary files in each shared-dataset format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.corpora import (
    datasets_dir,
    lead_in,
    load_petrobras_3w,
    load_skab,
    load_skab_anomaly_free,
    load_smap,
    read_table,
    segments,
)


def test_datasets_dir_flag_then_env_then_beside_the_repo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HTM_SHARED_DIR", raising=False)
    repo = Path(__file__).resolve().parents[3]
    assert datasets_dir() == repo.parent / "shared" / "datasets"
    monkeypatch.setenv("HTM_SHARED_DIR", str(tmp_path))
    assert datasets_dir() == tmp_path / "datasets"
    assert datasets_dir(tmp_path / "x") == tmp_path / "x"
    with pytest.raises(FileNotFoundError, match="--data-dir"):
        load_smap(tmp_path / "datasets" / "smap")


def test_segments_of_a_mask() -> None:
    assert segments([1, 1, 0, 0, 1, 0, 1, 1]) == [(0, 1), (4, 4), (6, 7)]
    assert segments([0, 0]) == []


def test_smap_files_and_labels(tmp_path: Path) -> None:
    rows = "\n".join(f"2020-01-01 00:{m:02d}:00,{0.1 * m}" for m in range(10))
    (tmp_path / "SMAP_A-1.csv").write_text(f"timestamp,value\n{rows}\n")
    (tmp_path / "SMAP_B-2.csv").write_text(f"timestamp,value\n{rows}\n")
    labels = {"SMAP_B-2.csv": [[6, 8], [1, 2]], "SMAP_A-1.csv": [[3, 4]]}
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    recs = load_smap(tmp_path)
    assert [r.name for r in recs] == ["SMAP_A-1.csv", "SMAP_B-2.csv"]
    a, b = recs
    assert a.windows == ((3, 4),) and b.windows == ((1, 2), (6, 8))  # sorted
    assert len(a.columns) == 1 and a.column_names == ("value",)
    np.testing.assert_allclose(a.columns[0], 0.1 * np.arange(10))
    np.testing.assert_allclose(np.diff(a.ts), 60.0)
    assert a.ts[0] == np.datetime64("2020-01-01T00:00:00", "s").astype(np.int64)


def test_petrobras_columns_ranges_and_unlabelled_gap(tmp_path: Path) -> None:
    lines = [f"2014-01-24 21:31:{s:02d},{1e7 + s},{100 + s}" for s in range(12)]
    name = "type1_WELL-00001_20140124213136.csv"
    (tmp_path / name).write_text("timestamp,value,value2\n" + "\n".join(lines) + "\n")
    (tmp_path / "labels.json").write_text(json.dumps({name: [[8, 11]]}))
    meta = {name: {"rows": 12, "unlabelled_ranges_treated_as_normal": [[6, 7]]}}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    (r,) = load_petrobras_3w(tmp_path)
    assert r.rows == 12 and r.column_names == ("value", "value2")
    assert r.windows == ((8, 11),) and r.ignored == ((6, 7),)
    np.testing.assert_allclose(r.columns[1], 100 + np.arange(12))
    assert lead_in(r) == 6  # the normal rows stop at the gap, not at the transient


def _skab_csv(path: Path, n: int, anomalous: range | None) -> None:
    head = "datetime;Accelerometer1RMS;Accelerometer2RMS;Current;Pressure;Temperature;"
    head += "Thermocouple;Voltage;Volume Flow RateRMS"
    rows = []
    for i in range(n):
        sensors = ";".join(f"{j + 0.01 * i:.3f}" for j in range(8))
        lab = f";{1.0 if i in anomalous else 0.0};0.0" if anomalous is not None else ""
        rows.append(f"2020-03-09 10:14:{i:02d};{sensors}{lab}")
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = ";anomaly;changepoint" if anomalous is not None else ""
    path.write_text(head + extra + "\n" + "\n".join(rows) + "\n")


def test_skab_sensor_columns_and_anomaly_segments(tmp_path: Path) -> None:
    _skab_csv(tmp_path / "valve1" / "0.csv", 20, range(12, 17))
    _skab_csv(tmp_path / "other" / "3.csv", 20, range(0))
    _skab_csv(tmp_path / "anomaly-free" / "anomaly-free.csv", 15, None)
    recs = load_skab(tmp_path)
    assert [r.name for r in recs] == ["other/3.csv", "valve1/0.csv"]  # not anomaly-free
    v = recs[1]
    assert len(v.columns) == 8 and "anomaly" not in v.column_names
    assert v.column_names[-1] == "Volume Flow RateRMS"
    assert v.windows == ((12, 16),) and recs[0].windows == ()
    np.testing.assert_allclose(v.columns[3], 3 + 0.01 * np.arange(20))
    (free,) = load_skab_anomaly_free(tmp_path)
    assert free.rows == 15 and len(free.columns) == 8 and free.windows == ()


def test_bad_cells_become_nan(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("timestamp,value,value2\n2020-01-01 00:00:00,1,\n2020-01-01 00:01:00,oops,2\n")
    header, ts, v = read_table(p)
    assert header == ["timestamp", "value", "value2"] and ts.shape == (2,)
    assert v[0, 0] == 1 and np.isnan(v[0, 1]) and np.isnan(v[1, 0]) and v[1, 1] == 2
