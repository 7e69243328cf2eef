"""The ``anomaly`` rule: fire when a signal's anomaly score stays high.

A score is a *hit* when ``anomaly >= enter_score`` and *clear* when
``anomaly < exit_score``; scores in between hold the current state.

Examples
--------
>>> from htm_edge.config.schema import AnomalyRuleConfig, Device, Modality
>>> from htm_edge.models.types import Score
>>> rule = AnomalyRule(AnomalyRuleConfig(enter_count=2, enter_window=3))
>>> dev = Device(device_id="ct-1", modality=Modality.CT)
>>> [rule.evaluate(Score("ct-1", "tube_arc_count", t, 0.999, 5.0), dev) is None
...  for t in (0.0, 60.0)]
[True, False]
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import ClassVar

from htm_edge.alerting import catalog
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.rules.base import Rule
from htm_edge.config.schema import AnomalyRuleConfig, ThresholdRuleConfig
from htm_edge.models.types import Score

__all__ = ["AnomalyRule"]


class AnomalyRule(Rule):
    """Hysteresis on ``Score.anomaly`` for the signals matching the config globs."""

    type_name: ClassVar[str] = "anomaly"

    def __init__(self, cfg: AnomalyRuleConfig) -> None:
        super().__init__(cfg, enter_window=cfg.enter_window)
        self.cfg = cfg
        self._patterns = tuple(cfg.signals)
        self._match_cache: dict[str, bool] = {}

    @classmethod
    def from_config(cls, cfg: AnomalyRuleConfig | ThresholdRuleConfig) -> AnomalyRule:
        """Build the rule from an ``alerting.rules`` entry of type ``anomaly``."""
        if not isinstance(cfg, AnomalyRuleConfig):
            raise AlertingError(f"rule {cfg.name!r} has type {cfg.type!r}, not 'anomaly'")
        return cls(cfg)

    def matches_signal(self, signal: str) -> bool:
        """Return True when ``signal`` matches one of the config's glob patterns.

        Workload covariates (:data:`alerting.catalog.WORKLOAD_SIGNALS`, e.g.
        ``infusion_rate_ml_h``) match only when a pattern names them exactly:
        they follow use, not wear, and would page people for a busy day.
        """
        cached = self._match_cache.get(signal)
        if cached is None:
            if signal in catalog.WORKLOAD_SIGNALS:
                cached = signal in self._patterns
            else:
                cached = any(fnmatchcase(signal, p) for p in self._patterns)
            self._match_cache[signal] = cached
        return cached

    def is_hit(self, score: Score) -> bool:
        """Return True when the anomaly score reaches ``enter_score``."""
        return score.anomaly >= self.cfg.enter_score

    def is_clear(self, score: Score) -> bool:
        """Return True when the anomaly score is below ``exit_score``."""
        return score.anomaly < self.cfg.exit_score
