"""Alert rules, one module per config ``type``, and their registry.

Examples
--------
>>> from htm_edge.alerting.rules.anomaly import AnomalyRuleConfig
>>> type(RULES.build(AnomalyRuleConfig(), None)).__name__
'AnomalyRule'
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from htm_edge.alerting.rules.anomaly import AnomalyRule, AnomalyRuleConfig
from htm_edge.alerting.rules.base import Rule, RuleConfigBase, RuleSignal, Transition
from htm_edge.alerting.rules.prediction import PredictionRule, PredictionRuleConfig
from htm_edge.alerting.rules.threshold import ThresholdRule, ThresholdRuleConfig
from htm_edge.config.registry import Registry

__all__ = [
    "RULES",
    "AnomalyRule",
    "PredictionRule",
    "Rule",
    "RuleConfig",
    "RuleConfigBase",
    "RuleSignal",
    "ThresholdRule",
    "Transition",
]

#: the tagged union of every rule's config section
RuleConfig = Annotated[
    AnomalyRuleConfig | ThresholdRuleConfig | PredictionRuleConfig,
    Field(discriminator="type"),
]

#: config ``type`` -> rule class
RULES: Registry[Rule] = Registry("rule", [AnomalyRule, ThresholdRule, PredictionRule], RuleConfig)
