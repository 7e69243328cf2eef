"""Sources: transports that receive frames from devices, selected by ``type`` in ``[[sources]]``.

To add one: write ``<key>.py`` with a :class:`Source` subclass and its config
section, and add both below; the conformance suite
(``tests/integration/test_source_conformance.py``) then requires a harness for it.
"""

from typing import Annotated

from pydantic import Field

from htm_edge.collector.sources.base import EmitFrame, Source
from htm_edge.collector.sources.mllp import MllpSource, MllpSourceConfig
from htm_edge.collector.sources.mqtt import MqttSource, MqttSourceConfig
from htm_edge.collector.sources.serial import SerialSource, SerialSourceConfig
from htm_edge.config.registry import Registry

__all__ = [
    "SOURCES",
    "EmitFrame",
    "MllpSource",
    "MqttSource",
    "SerialSource",
    "Source",
    "SourceConfig",
]

#: the tagged union of every source's config section
SourceConfig = Annotated[
    MqttSourceConfig | SerialSourceConfig | MllpSourceConfig, Field(discriminator="type")
]

#: config ``type`` -> source class
SOURCES: Registry[Source] = Registry("source", [MqttSource, SerialSource, MllpSource], SourceConfig)
