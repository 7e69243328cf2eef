"""The ``threshold`` rule: fire when a signal's value crosses a fixed limit.

With ``above = L`` a score is a *hit* when ``value > L`` and *clear* when
``value <= L - clear_margin``; with ``below = L`` a hit is ``value < L`` and
clear is ``value >= L + clear_margin``. Values inside the margin hold the
state. Entry needs ``enter_count`` consecutive hits (the window equals the
count), exit ``exit_count`` consecutive clear values and ``min_open_s``.

Examples
--------
>>> from htm_edge.config.schema import Device, Modality, ThresholdRuleConfig
>>> from htm_edge.models.types import Score
>>> rule = ThresholdRule(ThresholdRuleConfig(name="he", signal="helium_level_pct", below=60))
>>> dev = Device(device_id="mr-1", modality=Modality.MRI)
>>> rule.evaluate(Score("mr-1", "helium_level_pct", 0.0, 0.1, 59.0), dev).transition
<Transition.ENTER: 'enter'>
"""

from __future__ import annotations

from typing import ClassVar

from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.rules.base import Rule
from htm_edge.config.schema import AnomalyRuleConfig, ThresholdRuleConfig
from htm_edge.models.types import Score

__all__ = ["ThresholdRule"]


class ThresholdRule(Rule):
    """Hysteresis on ``Score.value`` of one signal against ``above`` or ``below``."""

    type_name: ClassVar[str] = "threshold"

    def __init__(self, cfg: ThresholdRuleConfig) -> None:
        super().__init__(cfg, enter_window=cfg.enter_count)
        self.cfg = cfg

    @classmethod
    def from_config(cls, cfg: AnomalyRuleConfig | ThresholdRuleConfig) -> ThresholdRule:
        """Build the rule from an ``alerting.rules`` entry of type ``threshold``."""
        if not isinstance(cfg, ThresholdRuleConfig):
            raise AlertingError(f"rule {cfg.name!r} has type {cfg.type!r}, not 'threshold'")
        return cls(cfg)

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
