"""Saved detector state from another version (another state layout) or of another configured
model (detector, parameters) starts cold, logged."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from htm_edge.gateway.compose import build_pipeline
from htm_edge.gateway.model_state import MODEL_STATE, restore_model_state, save_model_state
from htm_edge.gateway.settings import HtmConfig, load_config
from htm_edge.models.detectors.robust_pot import RobustPot
from htm_edge.models.errors import ModelError
from htm_edge.models.scorer import StreamScorer


def _scorer() -> StreamScorer:
    sc = StreamScorer("robust_pot")
    keys = [("dev1", "temp"), ("dev1", "flow")]
    for i in range(20):
        sc.score(keys, np.full(2, 1.4e9 + 60.0 * i), np.array([20.0 + 0.1 * i, 5.0]))
    return sc


def test_a_snapshot_of_another_layout_is_refused_by_name() -> None:
    snap = RobustPot(2).snapshot()
    snap["blocks"]["state"] = snap["blocks"]["state"][:-9]  # as the version before 'noise'
    with pytest.raises(ModelError, match="another version"):
        RobustPot.restore(snap)


def test_the_daemon_starts_cold_on_state_of_another_layout(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert save_model_state(tmp_path, _scorer(), 7)
    assert restore_model_state(tmp_path) is not None  # this version's own file restores
    path = tmp_path / MODEL_STATE
    doc = json.loads(path.read_text(encoding="utf-8"))
    blocks = doc["scorer"]["state"]["blocks"]
    blocks["state"] = blocks["state"][:-9]
    path.write_text(json.dumps(doc), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert restore_model_state(tmp_path) is None
    assert "model_state_unreadable" in caplog.text and "another version" in caplog.text


def _models(cfg: HtmConfig, **update: object) -> HtmConfig:
    return cfg.model_copy(update={"models": cfg.models.model_copy(update=update)})


def test_a_restored_scorer_of_the_configured_model_is_resumed() -> None:
    cfg = load_config(None)
    restored = StreamScorer.restore(_scorer().snapshot())
    assert restored.built_as("default", {}, 0)  # "default" resolves as the scorer did
    assert build_pipeline(cfg, restored).scorer is restored


@pytest.mark.parametrize(
    ("update", "detector", "params"),
    [
        ({"params": {"accept": 12}}, "robust_pot", {"accept": 12}),
        ({"detector": "robust_ewma"}, "robust_ewma", {}),
    ],
    ids=["params changed", "detector changed"],
)
def test_a_restored_scorer_of_another_model_starts_cold(
    update: dict[str, object],
    detector: str,
    params: dict[str, object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = _models(load_config(None), **update)
    restored = StreamScorer.restore(_scorer().snapshot())  # the default detector, 2 streams
    with caplog.at_level(logging.WARNING):
        scorer = build_pipeline(cfg, restored).scorer
    assert scorer is not restored and scorer.n_streams == 0
    assert scorer.detector_name == detector and scorer.params == params
    assert "model_state_stale" in caplog.text
