"""Sources: transports that receive frames from devices, selected by ``type`` in ``[[sources]]``."""

from collector.sources.base import EmitFrame, Source
from collector.sources.mqtt import MqttSource

__all__ = ["SOURCES", "EmitFrame", "MqttSource", "Source"]

SOURCES: dict[str, type[Source]] = {MqttSource.name: MqttSource}
