"""The pydantic schema of the whole HTM Edge configuration tree.

Every section forbids unknown keys, so a misspelt key stops start-up with a
message naming it (see :mod:`config.loader`). Each component owns one section;
sections that hold several implementations carry ``type = "..."`` and are
discriminated unions, so the registry key and the schema agree.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AlertingConfig",
    "AnomalyRuleConfig",
    "BrokerConfig",
    "ConsoleNotifierConfig",
    "Device",
    "EngineerConfig",
    "FaultConfig",
    "GatewayConfig",
    "HtmConfig",
    "InventoryConfig",
    "Modality",
    "ModelsConfig",
    "MqttSourceConfig",
    "NotifierConfig",
    "RuleConfig",
    "SecretRef",
    "SimEventConfig",
    "SimulatedDeviceConfig",
    "SimulationConfig",
    "SinkConfig",
    "SourceConfig",
    "SqliteSinkConfig",
    "ThresholdRuleConfig",
]


class StrictModel(BaseModel):
    """Base of every section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(StrictModel):
    """A secret read from an environment variable or a file, never inline.

    Examples
    --------
    ``password = { env = "HTM_MQTT_PASSWORD" }`` or
    ``password = { file = "/etc/htm-edge/mqtt.pass" }``.
    """

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' (variable name) or 'file' (path)")
        return self

    def resolve(self) -> str:
        """Return the secret's value; raise ``LookupError`` naming what is missing."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise LookupError(f"environment variable {self.env!r} is not set")
            return value
        assert self.file is not None
        try:
            return self.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise LookupError(f"cannot read secret file {self.file}: {exc.strerror}") from exc


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


class GatewayConfig(StrictModel):
    """Identity and local storage of this gateway."""

    site: str = "demo-hospital"
    data_dir: Path = Path("htm-edge-data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    queue_size: int = Field(default=10_000, ge=10, description="bound of every internal queue")


class BrokerConfig(StrictModel):
    """The MQTT broker the gateway talks to (or runs itself when ``embedded``)."""

    embedded: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=0, le=65535)
    username: str | None = None
    password: SecretRef | None = None
    client_id: str = "htm-edge-gateway"
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    reconnect_min_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _backoff_order(self) -> BrokerConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        return self


class MqttSourceConfig(StrictModel):
    """Subscribe to telemetry topics and decode payloads with ``protocol``."""

    type: Literal["mqtt"] = "mqtt"
    name: str = "mqtt"
    topics: list[str] = Field(default_factory=lambda: ["htm/+/+/telemetry"], min_length=1)
    protocol: Literal["json"] = "json"
    qos: Literal[0, 1, 2] = 1


SourceConfig = Annotated[MqttSourceConfig, Field(discriminator="type")]


class SqliteSinkConfig(StrictModel):
    """Store readings in a local SQLite file (WAL); ``path`` defaults into data_dir."""

    type: Literal["sqlite"] = "sqlite"
    name: str = "sqlite"
    path: Path | None = None
    batch_size: int = Field(default=500, ge=1)
    flush_interval_s: float = Field(default=0.5, gt=0)


SinkConfig = Annotated[SqliteSinkConfig, Field(discriminator="type")]


class ModelsConfig(StrictModel):
    """Which detector scores every (device, signal) stream, with its parameters."""

    detector: str = "default"
    params: dict[str, float | int | str | bool] = Field(default_factory=dict)
    seed: int = 0


class AnomalyRuleConfig(StrictModel):
    """Open an alert when a signal's anomaly score stays high; close it with hysteresis.

    An alert opens after ``enter_count`` scores of the last ``enter_window`` reach
    ``enter_score`` and closes after ``exit_count`` consecutive scores fall below
    ``exit_score`` (and at least ``min_open_s`` after opening).
    """

    type: Literal["anomaly"] = "anomaly"
    name: str = "anomaly"
    signals: list[str] = Field(default_factory=lambda: ["*"], description="glob patterns")
    modalities: list[Modality] = Field(default_factory=list, description="empty = all")
    enter_score: float = Field(default=0.99, gt=0, le=1)
    exit_score: float = Field(default=0.9, ge=0, lt=1)
    enter_count: int = Field(default=3, ge=1)
    enter_window: int = Field(default=5, ge=1)
    exit_count: int = Field(default=10, ge=1)
    min_open_s: float = Field(default=300.0, ge=0)
    repeat_interval_s: float = Field(default=4 * 3600.0, gt=0)
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    failure_mode: str | None = None

    @model_validator(mode="after")
    def _hysteresis(self) -> AnomalyRuleConfig:
        if self.exit_score >= self.enter_score:
            raise ValueError("exit_score must be below enter_score (hysteresis band)")
        if self.enter_count > self.enter_window:
            raise ValueError("enter_count must be <= enter_window")
        return self


class ThresholdRuleConfig(StrictModel):
    """Open an alert when a signal crosses a fixed limit, close it past ``clear`` (hysteresis)."""

    type: Literal["threshold"] = "threshold"
    name: str
    signal: str
    modalities: list[Modality] = Field(default_factory=list, description="empty = all")
    above: float | None = None
    below: float | None = None
    clear_margin: float = Field(default=0.0, ge=0)
    enter_count: int = Field(default=1, ge=1)
    exit_count: int = Field(default=3, ge=1)
    min_open_s: float = Field(default=0.0, ge=0)
    repeat_interval_s: float = Field(default=4 * 3600.0, gt=0)
    severity: Literal["low", "medium", "high", "critical"] = "high"
    failure_mode: str | None = None

    @model_validator(mode="after")
    def _one_limit(self) -> ThresholdRuleConfig:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        return self


RuleConfig = Annotated[AnomalyRuleConfig | ThresholdRuleConfig, Field(discriminator="type")]


class ConsoleNotifierConfig(StrictModel):
    """Print work orders to standard output (``text``) or as JSON lines (``json``)."""

    type: Literal["console"] = "console"
    name: str = "console"
    format: Literal["text", "json"] = "text"


NotifierConfig = Annotated[ConsoleNotifierConfig, Field(discriminator="type")]


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


class Device(StrictModel):
    """One asset of the inventory: what a work order needs to identify and find it."""

    device_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
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


class FaultConfig(StrictModel):
    """A degradation injected into a simulated device: the ground truth of the demo."""

    failure_mode: str
    start_s: float = Field(ge=0, description="simulated seconds after start")
    duration_s: float = Field(gt=0, description="simulated seconds from onset to failure")


class SimEventConfig(StrictModel):
    """A benign event that looks like a fault (a false-alarm look-alike, e.g. a planned
    cold-head service stop): tests hysteresis and suppression."""

    event: str
    start_s: float = Field(ge=0, description="simulated seconds after start")
    duration_s: float = Field(gt=0)


class SimulatedDeviceConfig(StrictModel):
    """One simulated device; its inventory entry is matched by ``device_id``."""

    device_id: str
    fault: FaultConfig | None = None
    events: list[SimEventConfig] = Field(default_factory=list)


class SimulationConfig(StrictModel):
    """The bundled simulator fleet used by ``htm-edge demo`` and ``htm-edge simulate``."""

    seed: int = 42
    sample_period_s: float = Field(default=60.0, gt=0, description="simulated seconds per sample")
    speedup: float = Field(default=600.0, gt=0, description="simulated seconds per real second")
    devices: list[SimulatedDeviceConfig] = Field(default_factory=list)


class HtmConfig(StrictModel):
    """The whole configuration tree."""

    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
    sources: list[SourceConfig] = Field(default_factory=lambda: [MqttSourceConfig()])
    sinks: list[SinkConfig] = Field(default_factory=lambda: [SqliteSinkConfig()])
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    inventory: InventoryConfig = Field(default_factory=InventoryConfig)
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)

    @model_validator(mode="after")
    def _unique_component_names(self) -> HtmConfig:
        sections: dict[str, list[str]] = {
            "sources": [s.name for s in self.sources],
            "sinks": [s.name for s in self.sinks],
            "alerting.rules": [r.name for r in self.alerting.rules],
            "alerting.notifiers": [n.name for n in self.alerting.notifiers],
        }
        for section, names in sections.items():
            for i, name in enumerate(names):
                if names.index(name) != i:
                    raise ValueError(
                        f"{section}[{i}].name {name!r} is used twice; give each a unique name"
                    )
        return self

    @model_validator(mode="after")
    def _simulated_devices_known(self) -> HtmConfig:
        known = {d.device_id for d in self.inventory.devices}
        for i, sim in enumerate(self.simulation.devices):
            if sim.device_id not in known:
                raise ValueError(
                    f"simulation.devices[{i}].device_id {sim.device_id!r} is not in "
                    "inventory.devices; add it to the inventory"
                )
        return self

    def device(self, device_id: str) -> Device | None:
        """Return the inventory entry for ``device_id``, or None when unknown."""
        for device in self.inventory.devices:
            if device.device_id == device_id:
                return device
        return None
