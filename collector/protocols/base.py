"""The ``Protocol`` role and the ``Frame`` a transport hands to it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from htm_edge.collector.reading import Reading

__all__ = ["Frame", "Protocol"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One undecoded message as a transport received it.

    ``source`` says where it came from (``mqtt:<topic>``, ``serial:/dev/ttyS0``) so
    a bad frame can be logged and dead-lettered with its origin; ``hint_device_id``
    is the device the transport believes sent it (from the topic or port), if any.
    """

    payload: bytes
    source: str
    received_at: float
    hint_device_id: str | None = None


class Protocol(ABC):
    """Decode frames into readings and encode readings into frames."""

    name: ClassVar[str]

    @abstractmethod
    def parse(self, frame: Frame) -> list[Reading]:
        """Decode ``frame``; raise :class:`collector.errors.DecodeError` when malformed."""

    @abstractmethod
    def encode(self, readings: Sequence[Reading]) -> bytes:
        """Encode readings of one device and one timestamp into one payload."""
