"""The ``Protocol`` role, the ``Frame`` a transport hands to it, and shared input checks.

A protocol turns one frame into readings, or raises :class:`DecodeError` with
a reason; whatever a frame holds, nothing else may escape it (the daemon
still guards against a protocol that breaks this, see ``gateway.daemon``).
Identifiers and timestamps are checked here, once for every protocol, so a
bad id or an implausible time is rejected at the edge and never stored.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

from htm_edge.collector.context import IngestContext, TimestampPolicy
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols.framing import Deframer, Session
from htm_edge.collector.reading import Reading
from htm_edge.config.base import PluginConfig
from htm_edge.config.inventory import DEVICE_ID_PATTERN

__all__ = [
    "SIGNAL_NAME_PATTERN",
    "Frame",
    "Protocol",
    "check_device_id",
    "check_signal_name",
]

#: what a signal name may hold: it becomes an InfluxDB field key and a model stream key
SIGNAL_NAME_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
_SIGNAL = re.compile(SIGNAL_NAME_PATTERN)


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


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def check_device_id(device_id: object, where: str) -> str:
    """Return ``device_id`` if it is a valid inventory id, else raise :class:`DecodeError`.

    >>> check_device_id("MR-01", "topic")
    'MR-01'
    >>> check_device_id("bad id", "topic")
    Traceback (most recent call last):
    ...
    htm_edge.collector.errors.DecodeError: topic: device id 'bad id' may hold only ...
    """
    if not isinstance(device_id, str) or not _DEVICE_ID.match(device_id):
        shown = _shown(device_id) if isinstance(device_id, str) else type(device_id).__name__
        raise DecodeError(
            f"{where}: device id {shown} may hold only letters, digits, '.', '_' and '-' "
            "(1 to 64 characters)"
        )
    return device_id


_KNOWN_SIGNALS: set[str] = set()  # names already checked (a fleet has a few thousand)


def check_signal_name(name: object, where: str) -> str:
    """Return ``name`` if it is a valid signal name, else raise :class:`DecodeError`."""
    if name in _KNOWN_SIGNALS:
        return str(name)
    if not isinstance(name, str) or not _SIGNAL.match(name):
        shown = _shown(name) if isinstance(name, str) else type(name).__name__
        raise DecodeError(
            f"{where}: signal name {shown} must be 1 to 128 letters, digits, '.', '_', ':' or '-'"
        )
    if len(_KNOWN_SIGNALS) < 100_000:
        _KNOWN_SIGNALS.add(name)
    return name


class Protocol(ABC):
    """Decode frames into readings and encode readings into frames.

    Built by ``from_config(cfg, ctx)`` like every plugin; ``timestamps`` is the
    plausible-time window the protocol enforces on what it decodes.
    """

    #: registry key, equal to the config ``type`` and the module name
    type_name: ClassVar[str]
    config_model: ClassVar[type[PluginConfig]]

    def __init__(self, timestamps: TimestampPolicy | None = None) -> None:
        self.timestamps = timestamps if timestamps is not None else TimestampPolicy()

    @classmethod
    def from_config(cls, cfg: PluginConfig, ctx: IngestContext) -> Self:
        """Build the protocol for its config section."""
        return cls(ctx.timestamps)

    def check_ts(self, ts: float, where: str) -> float:
        """Return ``ts`` if it lies in the plausible window, else raise :class:`DecodeError`."""
        problem = self.timestamps.problem(ts)
        if problem is not None:
            raise DecodeError(f"{where}: {problem}")
        return ts

    def device_from_hint(self, frame: Frame) -> str:
        """The device id the transport gave (a serial port's ``device_id``), checked.

        For protocols whose frames name no device (MEDIBUS, MIB, DRI).
        """
        if frame.hint_device_id is None:
            raise DecodeError(
                f"{self.type_name} frames name no device; set device_id on the source "
                f"that reads {frame.source[:80]!r}"
            )
        return check_device_id(frame.hint_device_id, "source device_id")

    def gateway_stamp(self, frame: Frame) -> float:
        """The receipt time of ``frame``, checked: the timestamp of devices without a clock."""
        return self.check_ts(frame.received_at, "time of receipt")

    @abstractmethod
    def parse(self, frame: Frame) -> list[Reading]:
        """Decode ``frame``; raise :class:`DecodeError` (and nothing else) when malformed."""

    @abstractmethod
    def encode(self, readings: Sequence[Reading]) -> bytes:
        """Encode readings of one device and one timestamp into one payload."""

    def deframer(self) -> Deframer | None:
        """A fresh splitter of this protocol's byte stream; None for message protocols.

        Byte-stream sources (serial ports, TCP) need one; a source that gets
        whole messages (MQTT) does not.
        """
        return None

    def session(self) -> Session | None:
        """A fresh polling dialogue for one device; None when the device talks unasked."""
        return None

    def redact(self, payload: bytes) -> bytes:
        """``payload`` without anything that identifies a patient.

        The daemon calls it before a payload is dead-lettered or logged, and
        sources of protocols that carry patient data call it before they hand
        a frame on, so patient identity never reaches a store. The default is
        the identity: the protocol carries no patient identity.
        """
        return payload
