"""The shipped reference model: current, loadable, honest about its training seed, and useful."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sklearn

from htm_edge.gateway import reference_model as ref
from htm_edge.gateway.evaluate_cmd import prediction_model
from htm_edge.gateway.settings import load_config
from htm_edge.models.errors import ModelError
from htm_edge.models.prognostics import FleetModel, PrognosticsConfig
from htm_edge.models.prognostics.features import FEATURE_SET
from htm_edge.models.prognostics.modelfile import read_header
from tests.unit.gateway.prognostics_helpers import held_out_fleet, held_out_scores


def test_the_shipped_file_is_current_and_says_how_it_was_made() -> None:
    header = read_header(ref.shipped_path())
    # fails after a change to the features: regenerate (python -m htm_edge.gateway.reference_model)
    assert header["feature_set"] == FEATURE_SET
    meta = header["metadata"]
    assert {k: meta[k] for k in ref.recipe()} == ref.recipe()
    assert meta["failed_courses"] >= 10  # run-to-failure histories it learned from


def test_it_loads_here_or_is_refused_with_the_reason() -> None:
    header = read_header(ref.shipped_path())
    if header["sklearn"] == sklearn.__version__:
        model = FleetModel.load(ref.shipped_path())
        assert "*" in model.groups and 0.0 < model.alert_probability < 1.0
    else:  # another scikit-learn: evaluate trains the recipe in the run instead
        with pytest.raises(ModelError, match="scikit-learn"):
            FleetModel.load(ref.shipped_path())


def test_a_refused_reference_is_trained_in_the_run_and_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "reference-fleet.htm"
    bad.write_bytes(b"not a model\n")
    trained = FleetModel(168 * 3600.0, {}, {}, 0.5, {})
    monkeypatch.setattr(ref, "shipped_path", lambda: bad)
    monkeypatch.setattr(ref, "build_reference_model", lambda config, progress=False: trained)
    model, info = ref.reference_model(PrognosticsConfig())
    assert model is trained
    assert info["model_file"] is None and "not an HTM Edge model file" in info["trained_in_run"]


def test_evaluate_flags_the_reference_seed_as_not_held_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from htm_edge.gateway import evaluate_cmd

    stub = FleetModel(168 * 3600.0, {}, {}, 0.5, {})
    monkeypatch.setattr(evaluate_cmd, "reference_model", lambda c, progress=False: (stub, {}))
    cfg = load_config()
    _, seen = prediction_model(cfg, ref.SEED, None, progress=False)
    _, held_out = prediction_model(cfg, ref.SEED + 1, None, progress=False)
    assert seen["evaluated_seed_seen_in_training"] is True
    assert held_out["evaluated_seed_seen_in_training"] is False


@pytest.mark.slow
@pytest.mark.timeout(2400)  # with another scikit-learn it trains the recipe first (10-30 min)
def test_the_reference_predicts_a_held_out_seeds_failures() -> None:
    """The held-out fleet (seed 11: 3 failures with precursors) was never seen in training."""
    cfg = load_config().models.prognostics
    model, _ = ref.reference_model(cfg)  # with another scikit-learn: the recipe, trained now
    other = held_out_fleet(cfg)
    assert other.start_ts > 0 and time.time() > other.end_ts
    failing, auc, brier, brier_base = held_out_scores(model, cfg)
    assert failing > 50
    assert auc > 0.8
    assert brier < brier_base  # better than the trend-free base rate
