"""Payload protocols: bytes on the wire <-> :class:`collector.reading.Reading`.

The registry maps a config ``protocol`` key to its class; the module name
equals the key. Simulators encode with the same classes, so codec and
simulator never drift apart.
"""

from htm_edge.collector.protocols.base import Frame, Protocol
from htm_edge.collector.protocols.json import JsonProtocol

__all__ = ["PROTOCOLS", "Frame", "JsonProtocol", "Protocol", "make_protocol"]

PROTOCOLS: dict[str, type[Protocol]] = {JsonProtocol.name: JsonProtocol}


def make_protocol(name: str) -> Protocol:
    """Build the protocol registered under ``name``."""
    try:
        return PROTOCOLS[name]()
    except KeyError:
        raise KeyError(f"unknown protocol {name!r}; known: {sorted(PROTOCOLS)}") from None
