"""The default detector reports each event's first points that can count for the default
anomaly rule as they are, and the rule decides on no more of them than that (see
``models/detectors/_onset.py``)."""

from __future__ import annotations

from htm_edge.alerting.rules.anomaly import AnomalyRuleConfig
from htm_edge.gateway.settings import load_config
from htm_edge.models.detectors.robust_pot import RobustPot
from htm_edge.models.registry import DEFAULT_DETECTOR


def _default_anomaly_rules() -> list[AnomalyRuleConfig]:
    rules = [r for r in load_config(None).alerting.rules if isinstance(r, AnomalyRuleConfig)]
    assert rules
    return rules


def test_an_event_reaches_the_default_anomaly_rule_whole() -> None:
    """The default rule opens on enter_count of the last enter_window scores: every point
    of that window after an event's peak must be reported as it is."""
    assert RobustPot.type_name == DEFAULT_DETECTOR
    for rule in _default_anomaly_rules():
        assert rule.enter_window <= RobustPot.PARAMS["onset_points"]


def test_every_possible_hit_of_the_default_rule_is_reported() -> None:
    """An event's points after its first are reported when they score onset_score or more:
    at most the rule's entry score, at its most sensitive default adaptation level too."""
    adaptation = load_config(None).alerting.adaptation
    for rule in _default_anomaly_rules():
        lowest = 1.0 - (1.0 - rule.enter_score) * adaptation.step ** (-adaptation.max_sensitive)
        assert RobustPot.PARAMS["onset_score"] <= lowest
