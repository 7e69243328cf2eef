"""The ``threshold`` rule: fire when a signal's value crosses a fixed limit.

With ``above = L`` a score is a *hit* when ``value > L`` and *clear* when
``value <= L - clear_margin``; with ``below = L`` a hit is ``value < L`` and
clear is ``value >= L + clear_margin``. Values inside the margin hold the
state. Entry needs ``enter_count`` consecutive hits (the window equals the
count), exit ``exit_count`` consecutive clear values and ``min_open_s``.

Examples
--------
>>> from htm_edge.config.inventory import Device, Modality
>>> from htm_edge.models.types import Score
>>> rule = ThresholdRule(ThresholdRuleConfig(name="he", signal="helium_level_pct", below=60))
>>> dev = Device(device_id="mr-1", modality=Modality.MRI)
>>> rule.evaluate(Score("mr-1", "helium_level_pct", 0.0, 0.1, 59.0), dev).transition
<Transition.ENTER: 'enter'>
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from htm_edge.alerting.rules.base import Rule, RuleConfigBase
from htm_edge.models.types import Score

__all__ = ["ThresholdRule", "ThresholdRuleConfig"]


class ThresholdRuleConfig(RuleConfigBase):
    """Open an alert when a signal crosses a fixed limit, close it past ``clear`` (hysteresis)."""

    type: Literal["threshold"] = "threshold"
    signal: str
    above: float | None = None
    below: float | None = None
    clear_margin: float = Field(default=0.0, ge=0)
    severity: Literal["low", "medium", "high", "critical"] = "high"

    @model_validator(mode="after")
    def _one_limit(self) -> ThresholdRuleConfig:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        return self


class ThresholdRule(Rule):
    """Hysteresis on ``Score.value`` of one signal against ``above`` or ``below``."""

    type_name: ClassVar[str] = "threshold"
    config_model: ClassVar[type[RuleConfigBase]] = ThresholdRuleConfig

    def __init__(self, cfg: ThresholdRuleConfig) -> None:
        super().__init__(cfg, enter_window=cfg.enter_count)
        self.cfg = cfg

    def matches_signal(self, signal: str) -> bool:
        """Return True for the one configured signal."""
        return signal == self.cfg.signal

    def is_hit(self, score: Score) -> bool:
        """Return True when the value is beyond the limit."""
        if self.cfg.above is not None:
            return score.value > self.cfg.above
        assert self.cfg.below is not None
        return score.value < self.cfg.below

    def is_clear(self, score: Score) -> bool:
        """Return True when the value is back inside the limit by at least ``clear_margin``."""
        if self.cfg.above is not None:
            return score.value <= self.cfg.above - self.cfg.clear_margin
        assert self.cfg.below is not None
        return score.value >= self.cfg.below + self.cfg.clear_margin
