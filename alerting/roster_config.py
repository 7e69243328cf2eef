"""Config sections of dispatch: sites, engineers, rotations, vendors, escalation, grouping.

Times of day (shifts, rotation hand-overs) are local times of the site, in the
site's IANA time zone (``[[alerting.sites]]``, UTC when a site is not listed).
Durations are seconds of the alerting clock (see ``alerting.clock``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from htm_edge.config.base import StrictModel
from htm_edge.config.inventory import Modality

__all__ = [
    "DAYS",
    "AdaptationConfig",
    "EngineerConfig",
    "EscalationPolicyConfig",
    "GroupingConfig",
    "OutboxConfig",
    "RateLimitConfig",
    "RotationConfig",
    "ShiftConfig",
    "SiteConfig",
    "VendorConfig",
]

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: day names in ``datetime.weekday()`` order
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
Priority = Literal["P1", "P2", "P3", "P4"]


class SiteConfig(StrictModel):
    """A hospital site and its time zone (shifts and rotations are in local time)."""

    name: str = Field(min_length=1)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin'"
            ) from None
        return value


class ShiftConfig(StrictModel):
    """Working hours on some days, local time; ``end`` before ``start`` runs past midnight."""

    days: list[Day] = Field(default_factory=lambda: list(DAYS))
    start: str = "08:00"
    end: str = "16:00"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"{value!r} is not a time of day; write HH:MM, e.g. '07:30'")
        return value

    def minutes(self) -> tuple[int, int]:
        """Start and end as minutes after local midnight."""
        h1, m1 = map(int, self.start.split(":"))
        h2, m2 = map(int, self.end.split(":"))
        return h1 * 60 + m1, h2 * 60 + m2


class EngineerConfig(StrictModel):
    """A field engineer (biomedical technician) or HTM manager who can be dispatched.

    ``sites``, ``modalities`` and ``skills`` (failure-mode prefixes such as
    ``MR.COLDHEAD``) restrict what they are sent; empty lists mean all.
    ``channels`` names the notifiers that reach them (empty: every notifier).
    ``shifts`` empty means no schedule is known (reachable, after those on shift).
    """

    name: str = Field(min_length=1)
    role: Literal["engineer", "manager"] = "engineer"
    email: str | None = None
    phone: str | None = None
    sites: list[str] = Field(default_factory=list, description="empty = every site")
    modalities: list[Modality] = Field(default_factory=list, description="empty = all")
    skills: list[str] = Field(default_factory=list, description="failure-mode prefixes")
    channels: list[str] = Field(default_factory=list, description="notifier names")
    shifts: list[ShiftConfig] = Field(default_factory=list)


class RotationConfig(StrictModel):
    """An on-call rotation: ``engineers`` take turns, each for ``period_h`` from ``handover``.

    ``handover`` is a local date and time (``2025-01-06T08:00``) in the time
    zone of the rotation's first site (UTC if it has none).
    """

    name: str = Field(min_length=1)
    sites: list[str] = Field(default_factory=list, description="empty = every site")
    modalities: list[Modality] = Field(default_factory=list, description="empty = all")
    engineers: list[str] = Field(min_length=1)
    handover: str = "2025-01-06T08:00"
    period_h: float = Field(default=168.0, gt=0)

    @field_validator("handover")
    @classmethod
    def _local_time(cls, value: str) -> str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a local date-time; write 2025-01-06T08:00"
            ) from None
        if parsed.tzinfo is not None:
            raise ValueError("handover is local time of the site: leave out the UTC offset")
        return value


class VendorConfig(StrictModel):
    """A service vendor (OEM or ISO) that service calls go to, by the inventory's vendor name."""

    name: str = Field(min_length=1)
    email: str | None = None
    phone: str | None = None
    channels: list[str] = Field(
        default_factory=list, description="notifiers that reach the vendor (empty: none)"
    )


class EscalationPolicyConfig(StrictModel):
    """If a work order of ``priorities`` is not acknowledged in ``ack_timeout_s``, escalate.

    Level 0 is the first candidate engineer, then ``next_engineers`` more
    candidates, one per timeout, then the site's HTM managers.
    """

    name: str = Field(min_length=1)
    priorities: list[Priority] = Field(default_factory=lambda: list[Priority](["P1", "P2"]))
    ack_timeout_s: float = Field(default=1800.0, gt=0)
    next_engineers: int = Field(default=1, ge=0, le=10)


class GroupingConfig(StrictModel):
    """How alerts become work orders and incidents.

    A new work order waits ``group_wait_s`` (state *pending*) before it is sent,
    so the other alerts of its device join it and a storm can be seen. When
    work orders of at least ``storm_devices`` devices of one site open within
    ``storm_window_s``, they become one incident, sent once.
    """

    group_wait_s: float = Field(default=120.0, ge=0)
    storm_devices: int = Field(default=5, ge=2)
    storm_window_s: float = Field(default=600.0, gt=0)


class RateLimitConfig(StrictModel):
    """At most ``per_engineer_per_hour`` notifications to one person per hour; later ones wait.

    Priorities in ``bypass`` are never held back.
    """

    per_engineer_per_hour: int = Field(default=6, ge=1)
    bypass: list[Priority] = Field(default_factory=lambda: list[Priority](["P1"]))


class OutboxConfig(StrictModel):
    """Delivery of the persisted outbox: per-attempt timeout and retry backoff (never dropped)."""

    timeout_s: float = Field(default=10.0, gt=0)
    retry_min_s: float = Field(default=1.0, gt=0)
    retry_max_s: float = Field(default=300.0, gt=0)
    poll_s: float = Field(default=0.5, gt=0, le=60)

    @model_validator(mode="after")
    def _order(self) -> OutboxConfig:
        if self.retry_max_s < self.retry_min_s:
            raise ValueError("retry_max_s must be >= retry_min_s")
        return self


class AdaptationConfig(StrictModel):
    """Per-device sensitivity of anomaly rules learnt from closed work orders.

    Each no-problem-found closure makes that device's rule one level stricter,
    each confirmed failure one level more sensitive, within
    ``[-max_sensitive, max_strict]``. At level ``L`` the rule's entry score is
    ``1 - (1 - enter_score) * step ** L`` (``step`` < 1: stricter is closer to 1).
    Threshold rules are safety limits and never adapt.
    """

    enabled: bool = True
    step: float = Field(default=0.6, gt=0.1, lt=1)
    max_strict: int = Field(default=3, ge=0, le=6)
    max_sensitive: int = Field(default=1, ge=0, le=3)
