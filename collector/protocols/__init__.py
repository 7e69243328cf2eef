"""Payload protocols: bytes on the wire <-> :class:`htm_edge.collector.reading.Reading`.

The registry maps a source's ``protocol`` key to its class; the module name
equals the key. Simulators encode with the same classes, so codec and
simulator never drift apart. To add one: write ``<key>.py`` with the class and
its config section, add both below; the conformance suite
(``tests/unit/collector/test_protocol_conformance.py``) then runs on it.

Stream protocols (serial ports, TCP) also hand out a
:class:`~htm_edge.collector.protocols.framing.Deframer`, and polling ones a
:class:`~htm_edge.collector.protocols.framing.Session`.
"""

from typing import Annotated

from pydantic import Field

from htm_edge.collector.protocols.base import Frame, Protocol
from htm_edge.collector.protocols.datex import DatexProtocol, DatexProtocolConfig
from htm_edge.collector.protocols.framing import Deframer, Session
from htm_edge.collector.protocols.hl7 import Hl7Protocol, Hl7ProtocolConfig
from htm_edge.collector.protocols.intellivue import IntellivueProtocol, IntellivueProtocolConfig
from htm_edge.collector.protocols.json import JsonProtocol, JsonProtocolConfig
from htm_edge.collector.protocols.line import LineProtocol, LineProtocolConfig
from htm_edge.collector.protocols.medibus import MedibusProtocol, MedibusProtocolConfig
from htm_edge.config.registry import Registry

__all__ = [
    "PROTOCOLS",
    "DatexProtocol",
    "Deframer",
    "Frame",
    "Hl7Protocol",
    "IntellivueProtocol",
    "JsonProtocol",
    "LineProtocol",
    "MedibusProtocol",
    "Protocol",
    "ProtocolConfig",
    "Session",
]

#: the tagged union of every protocol's config section
ProtocolConfig = Annotated[
    JsonProtocolConfig
    | LineProtocolConfig
    | MedibusProtocolConfig
    | IntellivueProtocolConfig
    | DatexProtocolConfig
    | Hl7ProtocolConfig,
    Field(discriminator="type"),
]

#: config ``type`` -> protocol class
PROTOCOLS: Registry[Protocol] = Registry(
    "protocol",
    [JsonProtocol, LineProtocol, MedibusProtocol, IntellivueProtocol, DatexProtocol, Hl7Protocol],
    ProtocolConfig,
)
