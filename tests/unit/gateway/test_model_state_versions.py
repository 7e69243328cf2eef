"""Saved detector state from another version (another state layout) starts cold, logged."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from htm_edge.gateway.model_state import MODEL_STATE, restore_model_state, save_model_state
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
