"""The default detector reports each event's first points as they are, and the default
anomaly rule decides on no more of them than that (see ``models/detectors/_onset.py``)."""

from __future__ import annotations

from htm_edge.gateway.settings import load_config
from htm_edge.models.detectors.robust_pot import RobustPot
from htm_edge.models.registry import DEFAULT_DETECTOR


def test_an_event_reaches_the_default_anomaly_rule_whole() -> None:
    """The default rule opens on enter_count of the last enter_window scores: every point
    of that window after an event's peak must be reported as it is."""
    assert RobustPot.type_name == DEFAULT_DETECTOR
    rules = [r for r in load_config(None).alerting.rules if r.type == "anomaly"]
    assert rules
    for rule in rules:
        assert rule.enter_window <= RobustPot.PARAMS["onset_points"]
