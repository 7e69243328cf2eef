"""The ``[alerting]`` section: rules, notifiers, engineers and flap control.

Rule and notifier sections are owned by their implementations
(:mod:`htm_edge.alerting.rules`, :mod:`htm_edge.alerting.notifiers`); this
module only assembles them.
"""

from __future__ import annotations

from pydantic import Field

from htm_edge.alerting.notifiers import NotifierConfig
from htm_edge.alerting.notifiers.console import ConsoleNotifierConfig
from htm_edge.alerting.rules import RuleConfig
from htm_edge.alerting.rules.anomaly import AnomalyRuleConfig
from htm_edge.config.base import StrictModel
from htm_edge.config.inventory import Modality

__all__ = ["AlertingConfig", "EngineerConfig"]


class EngineerConfig(StrictModel):
    """A field engineer (biomedical technician) who can be dispatched."""

    name: str
    email: str | None = None
    phone: str | None = None
    sites: list[str] = Field(default_factory=list, description="empty = every site")
    modalities: list[Modality] = Field(default_factory=list, description="empty = all")


class AlertingConfig(StrictModel):
    """Rules that open and close alerts, and where work orders go."""

    rules: list[RuleConfig] = Field(default_factory=lambda: list[RuleConfig]([AnomalyRuleConfig()]))
    notifiers: list[NotifierConfig] = Field(default_factory=lambda: [ConsoleNotifierConfig()])
    engineers: list[EngineerConfig] = Field(default_factory=list)
    resolve_hold_s: float = Field(
        default=3600.0,
        ge=0,
        description="flap control: a cleared alert resolves only after this long without firing",
    )
