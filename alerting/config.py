"""The ``[alerting]`` section: rules, notifiers, the roster, escalation, grouping and outbox.

Rule and notifier sections are owned by their implementations
(:mod:`htm_edge.alerting.rules`, :mod:`htm_edge.alerting.notifiers`), the
dispatch sections by :mod:`htm_edge.alerting.roster_config`; this module
assembles them and checks that names refer to something that exists.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from htm_edge.alerting.notifiers import NotifierConfig
from htm_edge.alerting.notifiers.console import ConsoleNotifierConfig
from htm_edge.alerting.roster_config import (
    AdaptationConfig,
    EngineerConfig,
    EscalationPolicyConfig,
    GroupingConfig,
    OutboxConfig,
    RateLimitConfig,
    RotationConfig,
    SiteConfig,
    VendorConfig,
)
from htm_edge.alerting.rules import RuleConfig
from htm_edge.alerting.rules.anomaly import AnomalyRuleConfig
from htm_edge.config.base import StrictModel

__all__ = ["AlertingConfig", "CommandsConfig", "EngineerConfig"]


class CommandsConfig(StrictModel):
    """The MQTT command topic: ``ack``/``resolve``/``silence`` as JSON messages on the broker."""

    enabled: bool = False
    topic: str = Field(default="htm/{site}/alerts/commands", min_length=1)
    result_topic: str = Field(default="htm/{site}/alerts/command_results", min_length=1)


def _default_policies() -> list[EscalationPolicyConfig]:
    return [EscalationPolicyConfig(name="urgent")]


class AlertingConfig(StrictModel):
    """Rules that open and close alerts, who gets the work orders, and how they get there."""

    rules: list[RuleConfig] = Field(default_factory=lambda: list[RuleConfig]([AnomalyRuleConfig()]))
    notifiers: list[NotifierConfig] = Field(
        default_factory=lambda: list[NotifierConfig]([ConsoleNotifierConfig()])
    )
    engineers: list[EngineerConfig] = Field(default_factory=list)
    sites: list[SiteConfig] = Field(default_factory=list)
    rotations: list[RotationConfig] = Field(default_factory=list)
    vendors: list[VendorConfig] = Field(default_factory=list)
    escalation: list[EscalationPolicyConfig] = Field(default_factory=_default_policies)
    grouping: GroupingConfig = Field(default_factory=GroupingConfig)
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    adaptation: AdaptationConfig = Field(default_factory=AdaptationConfig)
    commands: CommandsConfig = Field(default_factory=CommandsConfig)
    clock: Literal["wall", "data"] = Field(
        default="wall",
        description="timers (grouping, escalation, silences) run on the gateway clock "
        "(wall) or on the newest score's time (data: simulations and replays)",
    )
    resolve_hold_s: float = Field(
        default=3600.0,
        ge=0,
        description="flap control: a cleared alert resolves only after this long without firing",
    )

    @model_validator(mode="after")
    def _names_exist(self) -> AlertingConfig:
        people = [e.name for e in self.engineers]
        for i, name in enumerate(people):
            if people.index(name) != i:
                raise ValueError(
                    f"alerting.engineers[{i}].name {name!r} is used twice; names identify people"
                )
        notifiers = {n.name for n in self.notifiers}
        for i, e in enumerate(self.engineers):
            for ch in e.channels:
                if ch not in notifiers:
                    raise ValueError(
                        f"alerting.engineers[{i}].channels: no notifier named {ch!r}; "
                        f"configured: {sorted(notifiers)}"
                    )
        for i, v in enumerate(self.vendors):
            for ch in v.channels:
                if ch not in notifiers:
                    raise ValueError(
                        f"alerting.vendors[{i}].channels: no notifier named {ch!r}; "
                        f"configured: {sorted(notifiers)}"
                    )
        for i, r in enumerate(self.rotations):
            for name in r.engineers:
                if name not in people:
                    raise ValueError(
                        f"alerting.rotations[{i}].engineers: {name!r} is not in "
                        "alerting.engineers; add them there first"
                    )
        sites = [s.name for s in self.sites]
        for i, name in enumerate(sites):
            if sites.index(name) != i:
                raise ValueError(f"alerting.sites[{i}].name {name!r} is listed twice")
        return self

    def timezone_of(self, site: str) -> str:
        """The IANA time zone of ``site`` (UTC when it is not listed)."""
        for s in self.sites:
            if s.name == site:
                return s.timezone
        return "UTC"
