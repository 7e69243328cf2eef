"""Sources: transports that receive frames from devices, selected by ``type`` in ``[[sources]]``."""

from collections.abc import Callable

from htm_edge.collector.health import Health
from htm_edge.collector.sources.base import EmitFrame, Source
from htm_edge.collector.sources.mqtt import MqttSource
from htm_edge.config.schema import BrokerConfig, SourceConfig

__all__ = ["SOURCES", "EmitFrame", "MqttSource", "Source", "SourceFactory"]

#: builds a source from its config section, the broker section and the health counters
SourceFactory = Callable[[SourceConfig, BrokerConfig, Health], Source]

#: config ``type`` -> factory
SOURCES: dict[str, SourceFactory] = {MqttSource.name: MqttSource}
