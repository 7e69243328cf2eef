"""Payload protocols: bytes on the wire <-> :class:`htm_edge.collector.reading.Reading`.

The registry maps a source's ``protocol`` key to its class; the module name
equals the key. Simulators encode with the same classes, so codec and
simulator never drift apart. To add one: write ``<key>.py`` with the class and
its config section, add both below; the conformance suite
(``tests/unit/collector/test_protocol_conformance.py``) then runs on it.
"""

from typing import Annotated

from pydantic import Field

from htm_edge.collector.protocols.base import Frame, Protocol
from htm_edge.collector.protocols.json import JsonProtocol, JsonProtocolConfig
from htm_edge.config.registry import Registry

__all__ = ["PROTOCOLS", "Frame", "JsonProtocol", "Protocol", "ProtocolConfig"]

#: the tagged union of every protocol's config section
ProtocolConfig = Annotated[JsonProtocolConfig, Field(discriminator="type")]

#: config ``type`` -> protocol class
PROTOCOLS: Registry[Protocol] = Registry("protocol", [JsonProtocol], ProtocolConfig)
