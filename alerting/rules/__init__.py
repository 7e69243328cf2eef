"""Alert rules, one module per config ``type``, and their registry.

Examples
--------
>>> from htm_edge.config.schema import AnomalyRuleConfig
>>> type(build_rule(AnomalyRuleConfig())).__name__
'AnomalyRule'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.rules.anomaly import AnomalyRule
from htm_edge.alerting.rules.base import Rule, RuleSignal, Transition
from htm_edge.alerting.rules.threshold import ThresholdRule
from htm_edge.config.schema import AnomalyRuleConfig, ThresholdRuleConfig

__all__ = [
    "RULES",
    "AnomalyRule",
    "Rule",
    "RuleSignal",
    "ThresholdRule",
    "Transition",
    "build_rule",
]

#: config ``type`` -> rule class
RULES: Mapping[str, type[Rule]] = MappingProxyType(
    {AnomalyRule.type_name: AnomalyRule, ThresholdRule.type_name: ThresholdRule}
)


def build_rule(cfg: AnomalyRuleConfig | ThresholdRuleConfig) -> Rule:
    """Build the rule for one ``alerting.rules`` entry.

    Raises
    ------
    AlertingError
        When no rule class is registered for ``cfg.type``.
    """
    cls = RULES.get(cfg.type)
    if cls is None:
        raise AlertingError(
            f"alerting.rules: unknown rule type {cfg.type!r}; "
            f"known types: {', '.join(sorted(RULES))}"
        )
    return cls.from_config(cfg)
