"""The ``anomaly`` rule: fire when a signal's anomaly score stays high.

A score is a *hit* when ``anomaly >= enter_score`` and *clear* when
``anomaly < exit_score``; scores in between hold the current state.

Examples
--------
>>> from htm_edge.config.inventory import Device, Modality
>>> from htm_edge.models.types import Score
>>> rule = AnomalyRule(AnomalyRuleConfig(enter_count=2, enter_window=3))
>>> dev = Device(device_id="ct-1", modality=Modality.CT)
>>> [rule.evaluate(Score("ct-1", "tube_arc_count", t, 0.999, 5.0), dev) is None
...  for t in (0.0, 60.0)]
[True, False]
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from htm_edge.alerting.rules.base import Rule, RuleConfigBase
from htm_edge.config import catalog
from htm_edge.models.types import Score

__all__ = ["AnomalyRule", "AnomalyRuleConfig"]


class AnomalyRuleConfig(RuleConfigBase):
    """Open an alert when a signal's anomaly score stays high; close it with hysteresis.

    An alert opens after ``enter_count`` scores of the last ``enter_window`` reach
    ``enter_score`` and closes after ``exit_count`` consecutive scores fall below
    ``exit_score`` (and at least ``min_open_s`` after opening).
    """

    type: Literal["anomaly"] = "anomaly"
    name: str = "anomaly"
    signals: list[str] = Field(default_factory=lambda: ["*"], description="glob patterns")
    enter_score: float = Field(default=0.99, gt=0, le=1)
    exit_score: float = Field(default=0.9, ge=0, lt=1)
    enter_count: int = Field(default=3, ge=1)
    enter_window: int = Field(default=5, ge=1)
    exit_count: int = Field(default=10, ge=1)
    min_open_s: float = Field(default=300.0, ge=0)

    @model_validator(mode="after")
    def _hysteresis(self) -> AnomalyRuleConfig:
        if self.exit_score >= self.enter_score:
            raise ValueError("exit_score must be below enter_score (hysteresis band)")
        if self.enter_count > self.enter_window:
            raise ValueError("enter_count must be <= enter_window")
        return self


class AnomalyRule(Rule):
    """Hysteresis on ``Score.anomaly`` for the signals matching the config globs."""

    type_name: ClassVar[str] = "anomaly"
    config_model: ClassVar[type[RuleConfigBase]] = AnomalyRuleConfig

    def __init__(self, cfg: AnomalyRuleConfig) -> None:
        super().__init__(cfg, enter_window=cfg.enter_window)
        self.cfg = cfg
        self._patterns = tuple(cfg.signals)
        self._match_cache: dict[str, bool] = {}
        #: per-device entry score learnt from closed work orders (see alerting.outcomes)
        self._enter: dict[str, float] = {}

    def set_levels(self, levels: dict[str, int], step: float) -> None:
        """Per device, entry score ``1 - (1 - enter_score) * step ** level`` (kept in the band).

        >>> rule = AnomalyRule(AnomalyRuleConfig(enter_score=0.99))
        >>> rule.set_levels({"ct-1": 1}, 0.5); round(rule.enter_score_for("ct-1"), 4)
        0.995
        """
        base = self.cfg.enter_score
        self._enter = {
            device: min(0.999999, max(self.cfg.exit_score + 1e-6, 1 - (1 - base) * step**level))
            for device, level in levels.items()
        }

    def enter_score_for(self, device_id: str) -> float:
        """The entry score in force for ``device_id``."""
        return self._enter.get(device_id, self.cfg.enter_score)

    def matches_signal(self, signal: str) -> bool:
        """Return True when ``signal`` matches one of the config's glob patterns.

        Workload covariates (:data:`htm_edge.config.catalog.WORKLOAD_SIGNALS`, e.g.
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
        return score.anomaly >= self._enter.get(score.device_id, self.cfg.enter_score)

    def is_clear(self, score: Score) -> bool:
        """Return True when the anomaly score is below ``exit_score``."""
        return score.anomaly < self.cfg.exit_score
