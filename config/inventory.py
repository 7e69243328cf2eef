"""The asset inventory: which devices exist, what they are and where to find them.

Every role reads it (alerting for work orders, simulators for the fleet, the
gateway for unknown devices), so it lives in this leaf package.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from htm_edge.config.base import StrictModel

__all__ = ["DEVICE_ID_PATTERN", "Device", "InventoryConfig", "Modality"]

#: what a device id may hold: it becomes an MQTT topic level and an InfluxDB tag
DEVICE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class Modality(StrEnum):
    """Device classes HTM Edge knows signals and failure modes for."""

    MRI = "mri"
    CT = "ct"
    INFUSION_PUMP = "infusion_pump"
    VENTILATOR = "ventilator"
    PATIENT_MONITOR = "patient_monitor"
    STERILIZER = "sterilizer"
    ULTRASOUND = "ultrasound"
    DEFIBRILLATOR = "defibrillator"
    ANESTHESIA = "anesthesia"
    DIALYSIS = "dialysis"
    LAB_ANALYZER = "lab_analyzer"
    OTHER = "other"


class Device(StrictModel):
    """One asset of the inventory: what a work order needs to identify and find it."""

    device_id: str = Field(pattern=DEVICE_ID_PATTERN)
    modality: Modality
    asset_tag: str = ""
    site: str = ""
    location: str = ""
    department: str = ""
    manufacturer: str = ""
    model: str = ""
    serial: str = ""
    em_number: int | None = Field(default=None, ge=2, le=22, description="Fennigkoh-Smith EM")
    service_owner: Literal["in-house", "oem", "third-party"] = "in-house"


class InventoryConfig(StrictModel):
    """The asset inventory: devices listed inline (a CSV import comes later)."""

    devices: list[Device] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> InventoryConfig:
        seen: set[str] = set()
        for device in self.devices:
            if device.device_id in seen:
                raise ValueError(f"device_id {device.device_id!r} is listed twice")
            seen.add(device.device_id)
        return self

    def lookup(self, device_id: str) -> Device | None:
        """Return the entry for ``device_id``, or None when unknown."""
        for device in self.devices:
            if device.device_id == device_id:
                return device
        return None
