"""Model files: versioned, refused with a clear message when they do not fit this version."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from htm_edge.models.errors import ModelError
from htm_edge.models.prognostics import FleetModel
from htm_edge.models.prognostics.features import FEATURE_NAMES, FEATURE_SET
from htm_edge.models.prognostics.model import fit_group
from htm_edge.models.prognostics.modelfile import MAGIC, read_header, save_model_file


def _model() -> FleetModel:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, len(FEATURE_NAMES)))
    within = x[:, 4] > 1.0
    ttf = np.where(within, 3600.0 * np.exp(2 - x[:, 4]), np.nan)
    g = fit_group(x, within, ttf, n_courses=5)
    return FleetModel(168 * 3600.0, {"A|b|level": 0.4}, {"*": g}, 0.6, {"trained_at": "t"})


def test_round_trip_keeps_predictions_and_metadata(tmp_path: Path) -> None:
    m = _model()
    path = tmp_path / "fleet.htm"
    m.save(path)
    back = FleetModel.load(path)
    x = np.random.default_rng(1).normal(size=(20, len(FEATURE_NAMES)))
    assert np.array_equal(m.predict(x, "*")[0], back.predict(x, "*")[0])
    header = read_header(path)
    assert header["feature_set"] == FEATURE_SET and header["metadata"]["alert_probability"] == 0.6
    assert back.thresholds == {"A|b|level": 0.4}


def _rewrite_header(path: Path, **changes: object) -> None:
    raw = path.read_bytes()
    first = raw.index(b"\n", len(MAGIC)) + 1
    header = json.loads(raw[len(MAGIC) : first])
    header.update(changes)
    path.write_bytes(MAGIC + json.dumps(header).encode() + b"\n" + raw[first:])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 99}, "has format 99, this version reads format 1"),
        ({"feature_set": "fleet-0-old"}, "trained on feature set 'fleet-0-old'"),
        ({"kind": "run-to-failure-rul"}, "holds a 'run-to-failure-rul' model"),
        ({"sklearn": "0.1.0"}, "written with scikit-learn 0.1.0"),
    ],
)
def test_a_file_of_another_version_is_refused(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = tmp_path / "fleet.htm"
    _model().save(path)
    _rewrite_header(path, **change)
    with pytest.raises(ModelError, match=message) as info:
        FleetModel.load(path)
    if "kind" not in change:
        assert "htm-edge train" in str(info.value)


def test_not_a_model_file(tmp_path: Path) -> None:
    path = tmp_path / "x.htm"
    path.write_bytes(b"hello\n")
    with pytest.raises(ModelError, match="not an HTM Edge model file"):
        FleetModel.load(path)
    with pytest.raises(ModelError, match="cannot read"):
        FleetModel.load(tmp_path / "missing.htm")


def test_a_file_without_a_fleet_group_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.htm"
    save_model_file(
        path, "fleet-prognostics", FEATURE_SET,
        {"horizon_s": 1.0, "thresholds": {}, "groups": {}, "alert_probability": 0.5,
         "metadata": {}}, {},
    )  # fmt: skip
    with pytest.raises(ModelError, match="fleet-wide group"):
        FleetModel.load(path)
