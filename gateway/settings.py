"""The whole configuration tree, assembled from the sections each role owns.

``config/`` is a leaf: it holds the building blocks, the inventory, the
catalogue and the loader. Every role owns its sections beside its code
(``[[sinks]]`` entries are defined by the sinks). Only the application knows
every role, so the root model is assembled here.

Examples
--------
>>> cfg = load_config()
>>> cfg.gateway.site, cfg.broker.embedded
('demo-hospital', True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from htm_edge.alerting.config import AlertingConfig
from htm_edge.collector.context import EARLIEST_TS, TimestampPolicy
from htm_edge.collector.mqtt_client import BrokerConfig
from htm_edge.collector.sinks import SinkConfig
from htm_edge.collector.sinks.sqlite import SqliteSinkConfig
from htm_edge.collector.sources import SourceConfig
from htm_edge.collector.sources.mqtt import MqttSourceConfig
from htm_edge.collector.spool import SpoolConfig
from htm_edge.config import catalog, loader
from htm_edge.config.base import StrictModel
from htm_edge.config.errors import CatalogError, ConfigError
from htm_edge.config.inventory import InventoryConfig
from htm_edge.models.config import ModelsConfig
from htm_edge.models.registry import check_models_config
from htm_edge.simulators.config import SimulationConfig

__all__ = ["GatewayConfig", "HtmConfig", "load_config", "parse_config"]


class GatewayConfig(StrictModel):
    """Identity, local storage and run-time limits of this gateway."""

    site: str = "demo-hospital"
    data_dir: Path = Path("htm-edge-data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    queue_size: int = Field(default=10_000, ge=10, description="bound of every internal queue")
    shutdown_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="SIGTERM/SIGINT: time to drain before what is left is reported and dropped",
    )
    timestamp_earliest: float = Field(
        default=EARLIEST_TS, ge=0, description="readings stamped earlier are rejected (epoch s)"
    )
    timestamp_max_ahead_s: float = Field(
        default=86_400.0, gt=0, description="readings stamped further ahead of the clock: rejected"
    )

    def timestamp_policy(self) -> TimestampPolicy:
        """The plausible-timestamp window these settings describe."""
        return TimestampPolicy(self.timestamp_earliest, self.timestamp_max_ahead_s)


def _default_sinks() -> list[SinkConfig]:
    return [SqliteSinkConfig()]


def _default_sources() -> list[SourceConfig]:
    return [MqttSourceConfig()]


class HtmConfig(StrictModel):
    """The whole configuration tree."""

    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
    sources: list[SourceConfig] = Field(default_factory=lambda: _default_sources())
    sinks: list[SinkConfig] = Field(default_factory=lambda: _default_sinks())
    spool: SpoolConfig = Field(default_factory=SpoolConfig)
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
    def _prediction_rules_see_predictions(self) -> HtmConfig:
        if self.models.prognostics.enabled:
            return self
        for i, rule in enumerate(self.alerting.rules):
            if rule.type == "prediction":
                raise ValueError(
                    f"alerting.rules[{i}] ({rule.name!r}) is a prediction rule but failure "
                    "prediction is off: set models.prognostics.enabled = true, or remove the rule"
                )
        return self

    @model_validator(mode="after")
    def _detector_builds(self) -> HtmConfig:
        try:
            check_models_config(self.models)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    @model_validator(mode="after")
    def _simulated_devices_known(self) -> HtmConfig:
        for i, sim in enumerate(self.simulation.devices):
            where = f"simulation.devices[{i}]"
            device = self.inventory.lookup(sim.device_id)
            if device is None:
                raise ValueError(
                    f"{where}.device_id {sim.device_id!r} is not in inventory.devices; "
                    "add it to the inventory"
                )
            try:
                if sim.fault is not None:
                    catalog.failure_mode_spec(sim.fault.failure_mode, device.modality)
                for event in sim.events:
                    catalog.lookalike_spec(event.event, device.modality)
            except CatalogError as exc:
                raise ValueError(f"{where} ({sim.device_id}): {exc}") from None
        return self


def parse_config(text: str, source: str = "<string>") -> HtmConfig:
    """Validate TOML ``text`` as the whole tree; ``source`` names it in error messages."""
    return loader.parse_config(text, HtmConfig, source)


def load_config(path: Path | None = None) -> HtmConfig:
    """Load ``path`` (the embedded default when None) and validate it."""
    return loader.load_config(path, HtmConfig)
