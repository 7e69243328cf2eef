"""The asset inventory: which devices exist, what they are and where to find them.

Every role reads it (alerting for work orders, simulators for the fleet, the
gateway for unknown devices), so it lives in this leaf package.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

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
    """One asset of the inventory: what a work order needs to identify and find it.

    ``service_owner`` is who holds the service contract: the manufacturer
    (``oem``), an independent service organisation (``iso``, also written
    ``third-party``) or the hospital's own clinical engineering (``in-house``);
    ``service_vendor`` and ``service_contract`` name that vendor and the
    contract's reference, quoted when a service call is raised.
    """

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
    service_owner: Literal["in-house", "oem", "iso", "third-party"] = "in-house"
    service_vendor: str = Field(
        default="", description="who holds the contract (oem: the manufacturer if empty)"
    )
    service_contract: str = Field(default="", description="the contract's reference")
    room: str = ""
    install_date: date | None = None
    firmware: str = ""
    purchase_cost: float | None = Field(default=None, ge=0, description="acquisition cost")


class InventoryConfig(StrictModel):
    """The asset inventory: devices listed inline, and those of a CSV file.

    ``csv`` names a file in the format of :mod:`htm_edge.config.inventory_csv`
    (a relative path is relative to the config file); its devices follow the
    inline ones in ``devices`` once validated.
    """

    devices: list[Device] = Field(default_factory=list)
    csv: Path | None = Field(default=None, description="inventory CSV file, one device a row")
    _index: tuple[int, dict[str, Device]] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _load_csv_and_check_ids(self, info: ValidationInfo) -> InventoryConfig:
        if self.csv is not None:
            from htm_edge.config.inventory_csv import read_inventory_csv

            path = self.csv
            base = (info.context or {}).get("base_dir") if info is not None else None
            if not path.is_absolute() and base is not None:
                path = Path(base) / path
            # frozen model: the loaded rows join the validated list once, here
            object.__setattr__(self, "devices", [*self.devices, *read_inventory_csv(path)])
        seen: set[str] = set()
        for device in self.devices:
            if device.device_id in seen:
                raise ValueError(f"device_id {device.device_id!r} is listed twice")
            seen.add(device.device_id)
        return self

    def lookup(self, device_id: str) -> Device | None:
        """Return the entry for ``device_id``, or None when unknown."""
        # keyed by the list's identity: a model_copy with new devices rebuilds it
        if self._index is None or self._index[0] != id(self.devices):
            self._index = (id(self.devices), {d.device_id: d for d in self.devices})
        return self._index[1].get(device_id)
