"""Who gets a work order: eligible engineers, on-call rotations, shifts, managers, vendors.

For a device, a failure mode and a time, :meth:`Roster.candidates` orders the
engineers who cover the device's site, modality and the failure mode's skill:

1. the engineer on call by a rotation covering the device (site and modality),
2. engineers on shift now (local time of the site),
3. engineers without a known schedule,
4. engineers off shift;

within a group, the more specific match (sites, modalities, skills given)
first, then config order. Escalation walks this list, then
:meth:`Roster.managers`. Service ownership (:meth:`Roster.service_call`)
decides whether our engineer fixes it (``in-house``) or coordinates a service
call to the contracted vendor (``oem``, ``iso``, ``third-party``).

Examples
--------
>>> from htm_edge.alerting.config import AlertingConfig
>>> from htm_edge.config.inventory import Device, Modality
>>> cfg = AlertingConfig.model_validate({
...     "sites": [{"name": "north", "timezone": "Europe/Berlin"}],
...     "engineers": [{"name": "Ana", "modalities": ["mri"]}, {"name": "Ben"}],
...     "rotations": [{"name": "mr", "engineers": ["Ana", "Ben"],
...                    "handover": "2025-01-06T08:00", "period_h": 24}]})
>>> r = Roster(cfg)
>>> mr = Device(device_id="MR-1", modality=Modality.MRI, site="north")
>>> [e.name for e in r.candidates(mr, "MR.COLDHEAD.DEGRADATION", 1736150400.0)]
['Ana', 'Ben']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from htm_edge.alerting.config import AlertingConfig
from htm_edge.alerting.roster_config import (
    DAYS,
    EngineerConfig,
    EscalationPolicyConfig,
    RotationConfig,
    VendorConfig,
)
from htm_edge.config.inventory import Device, Modality

__all__ = ["Roster", "ServiceCall"]

_IMAGING = frozenset({Modality.MRI, Modality.CT})


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """A work order raised with the vendor that holds the device's service contract."""

    vendor: str
    contract: str
    email: str | None
    phone: str | None
    channels: tuple[str, ...]


class Roster:
    """The configured people and their schedules, asked by time of the alerting clock."""

    def __init__(self, cfg: AlertingConfig) -> None:
        self.cfg = cfg
        self.engineers = [e for e in cfg.engineers if e.role == "engineer"]
        self._managers = [e for e in cfg.engineers if e.role == "manager"]
        self._by_name = {e.name: e for e in cfg.engineers}
        self._vendors = {v.name.casefold(): v for v in cfg.vendors}

    def person(self, name: str) -> EngineerConfig | None:
        """The engineer or manager called ``name``."""
        return self._by_name.get(name)

    def zone(self, site: str) -> ZoneInfo:
        """The time zone of ``site``."""
        return ZoneInfo(self.cfg.timezone_of(site))

    def local(self, site: str, ts: float) -> datetime:
        """``ts`` as local time of ``site``."""
        return datetime.fromtimestamp(ts, tz=UTC).astimezone(self.zone(site))

    # --------------------------------------------------------------- candidates
    def candidates(self, device: Device, failure_mode: str, ts: float) -> list[EngineerConfig]:
        """Eligible engineers for ``device`` and ``failure_mode`` at ``ts``, best first."""
        eligible = [e for e in self.engineers if _covers(e, device, failure_mode)]
        on_call = self.on_call(device, ts)
        ranked = []
        for i, e in enumerate(eligible):
            if on_call is not None and e.name == on_call.name:
                group = 0
            elif not e.shifts:
                group = 2
            else:
                group = 1 if self.on_shift(e, device.site, ts) else 3
            specific = bool(e.sites) + bool(e.modalities) + bool(e.skills)
            ranked.append((group, -specific, i, e))
        ranked.sort(key=lambda t: t[:3])
        return [t[3] for t in ranked]

    def on_call(self, device: Device, ts: float) -> EngineerConfig | None:
        """The engineer a rotation covering ``device`` puts on call at ``ts`` (first match)."""
        for rot in self.cfg.rotations:
            if rot.sites and device.site not in rot.sites:
                continue
            if rot.modalities and device.modality not in rot.modalities:
                continue
            name = self.rotation_turn(rot, ts)
            person = self._by_name.get(name)
            if person is not None and _covers(person, device, ""):
                return person
        return None

    def rotation_turn(self, rot: RotationConfig, ts: float) -> str:
        """Whose turn it is in ``rot`` at ``ts``."""
        zone = ZoneInfo(self.cfg.timezone_of(rot.sites[0])) if rot.sites else ZoneInfo("UTC")
        start = datetime.fromisoformat(rot.handover).replace(tzinfo=zone).timestamp()
        turn = math.floor((ts - start) / (rot.period_h * 3600.0))
        return rot.engineers[turn % len(rot.engineers)]

    def on_shift(self, person: EngineerConfig, site: str, ts: float) -> bool:
        """True when one of the person's shifts covers ``ts`` in the site's local time."""
        now = self.local(site, ts)
        minute = now.hour * 60 + now.minute
        today, yesterday = DAYS[now.weekday()], DAYS[(now.weekday() - 1) % 7]
        for shift in person.shifts:
            start, end = shift.minutes()
            if start < end:
                if today in shift.days and start <= minute < end:
                    return True
            elif (today in shift.days and minute >= start) or (
                yesterday in shift.days and minute < end
            ):
                return True
        return False

    def managers(self, site: str) -> list[EngineerConfig]:
        """The HTM managers of ``site`` (those without sites cover all)."""
        return [m for m in self._managers if not m.sites or site in m.sites]

    # --------------------------------------------------------------- policy
    def policy(self, priority: str) -> EscalationPolicyConfig | None:
        """The escalation policy of a priority (the first that lists it), or None."""
        for p in self.cfg.escalation:
            if priority in p.priorities:
                return p
        return None

    def chain(self, device: Device, failure_mode: str, ts: float, priority: str) -> list[str]:
        """Names to page in turn: first candidate, ``next_engineers`` more, then the managers."""
        names = [e.name for e in self.candidates(device, failure_mode, ts)]
        policy = self.policy(priority)
        if policy is None:
            return names[:1]
        chain = names[: 1 + policy.next_engineers]
        chain += [m.name for m in self.managers(device.site) if m.name not in chain]
        return chain

    def service_call(self, device: Device) -> ServiceCall | None:
        """The vendor to call when the contract is not in-house, else None."""
        if device.service_owner == "in-house":
            return None
        name = device.service_vendor or (
            device.manufacturer if device.service_owner == "oem" else ""
        )
        vendor: VendorConfig | None = self._vendors.get(name.casefold()) if name else None
        return ServiceCall(
            vendor=name or f"{device.service_owner} contractor (not named in the inventory)",
            contract=device.service_contract,
            email=vendor.email if vendor else None,
            phone=vendor.phone if vendor else None,
            channels=tuple(vendor.channels) if vendor else (),
        )

    @staticmethod
    def is_imaging(device: Device) -> bool:
        """Imaging equipment: the OEM's planned maintenance is mandatory (no AEM)."""
        return device.modality in _IMAGING


def _covers(e: EngineerConfig, device: Device, failure_mode: str) -> bool:
    if e.sites and device.site not in e.sites:
        return False
    if e.modalities and device.modality not in e.modalities:
        return False
    return not (failure_mode and e.skills and not any(failure_mode.startswith(s) for s in e.skills))
