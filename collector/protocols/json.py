"""The JSON telemetry payload used on MQTT.

One message carries one device's signals at one time::

    {"device_id": "MR-01", "ts": 1767225600.0,
     "signals": {"helium_level_pct": 81.2, "coldhead_k": 4.21},
     "units": {"helium_level_pct": "%", "coldhead_k": "K"}}

A payload may also be a JSON array of such objects (a batch, up to 10,000):
one message then carries several samples, of one device or several.

``ts`` is UTC epoch seconds, inside the plausible window (not before 2000, not
more than a day ahead of the gateway clock by default). A signal value of
``null`` or ``NaN`` (also ``Infinity``) is a device saying "no valid value":
it is kept as an invalid reading (NaN), so gaps stay visible. ``units`` is
optional. Device ids and signal names are checked (:func:`check_device_id`,
:func:`check_signal_name`).

Anything else is a :class:`DecodeError` naming the problem: a payload over
``max_bytes``, invalid JSON or UTF-8, nesting too deep to parse, a number too
large for a float, a wrong type or an implausible time.

Examples
--------
>>> p = JsonProtocol()
>>> frame = Frame(p.encode([Reading("MR-01", "he_pct", 81.2, 1767225600.0, "%")]), "mqtt:t", 0.0)
>>> [(r.signal, r.value, r.unit) for r in p.parse(frame)]
[('he_pct', 81.2, '%')]
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, Self

from pydantic import Field

from htm_edge.collector.context import IngestContext, TimestampPolicy
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols.base import (
    Frame,
    Protocol,
    check_device_id,
    check_signal_name,
)
from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.base import PluginConfig

__all__ = ["JsonProtocol", "JsonProtocolConfig"]

#: most messages one batch payload may hold
_MAX_BATCH = 10_000


class JsonProtocolConfig(PluginConfig):
    """The JSON payload."""

    type: Literal["json"] = "json"
    role: ClassVar[str] = "protocol"
    max_bytes: int = Field(
        default=1 << 20, ge=1024, description="larger payloads are rejected (dead letters)"
    )


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DecodeError(f"{where} must be a number, got {type(value).__name__}")
    if math.isinf(value):  # the literals Infinity/NaN were mapped to NaN: this overflowed
        raise DecodeError(f"{where} is too large for a float")
    return float(value)


def _loads(payload: bytes) -> Any:
    """Parse JSON; every failure of the parser becomes a :class:`DecodeError`.

    Integers are parsed as floats, so a literal of thousands of digits cannot
    hit Python's int-conversion limit; it overflows to ``inf``, which only an
    overflow can give, since the literals ``Infinity`` and ``NaN`` become NaN.
    """
    try:
        return json.loads(payload, parse_int=float, parse_constant=lambda _: math.nan)
    except RecursionError:
        raise DecodeError("payload nests too deeply to parse") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise DecodeError(f"payload is not valid JSON: {exc}") from None


class JsonProtocol(Protocol):
    """Codec of the JSON telemetry payload (see module docstring)."""

    type_name: ClassVar[str] = "json"
    config_model: ClassVar[type[PluginConfig]] = JsonProtocolConfig

    def __init__(self, timestamps: TimestampPolicy | None = None, max_bytes: int = 1 << 20) -> None:
        super().__init__(timestamps)
        self.max_bytes = max_bytes

    @classmethod
    def from_config(cls, cfg: PluginConfig, ctx: IngestContext) -> Self:
        """Build the codec for its section."""
        assert isinstance(cfg, JsonProtocolConfig)
        return cls(ctx.timestamps, cfg.max_bytes)

    def parse(self, frame: Frame) -> list[Reading]:
        """Decode one JSON payload into one reading per signal."""
        if len(frame.payload) > self.max_bytes:
            raise DecodeError(
                f"payload of {len(frame.payload)} bytes is over max_bytes ({self.max_bytes})"
            )
        doc = _loads(frame.payload)
        hint = frame.hint_device_id
        if hint is not None:
            check_device_id(hint, "topic")
        if isinstance(doc, list):  # a batch: several samples in one message
            if not doc or len(doc) > _MAX_BATCH:
                raise DecodeError(f"a batch must hold 1 to {_MAX_BATCH} messages, got {len(doc)}")
            readings: list[Reading] = []
            for i, item in enumerate(doc):
                readings.extend(self._sample(item, hint, f"[{i}]"))
            return readings
        return self._sample(doc, hint, "")

    def _sample(self, doc: Any, hint: str | None, where: str) -> list[Reading]:
        """The readings of one message object (``where`` locates it inside a batch)."""
        if not isinstance(doc, dict):
            raise DecodeError(f"payload{where} must be a JSON object (or an array of them)")
        device_id = doc.get("device_id", hint)
        if device_id is None:
            raise DecodeError("'device_id' is missing (and the topic names no device)")
        check_device_id(device_id, "'device_id'")
        if hint is not None and device_id != hint:
            raise DecodeError(f"'device_id' {device_id!r} does not match the topic's {hint!r}")
        ts = _number(doc.get("ts"), "'ts'")
        if math.isnan(ts):
            raise DecodeError("'ts' must be epoch seconds, got NaN")
        self.check_ts(ts, "'ts'")
        signals = doc.get("signals")
        if not isinstance(signals, dict) or not signals:
            raise DecodeError("'signals' must be a non-empty object of name: number")
        units = doc.get("units", {})
        if not isinstance(units, dict):
            raise DecodeError("'units' must be an object of name: unit")
        readings = []
        for name, raw in signals.items():
            check_signal_name(name, "signals")
            unit = units.get(name, "")
            if not isinstance(unit, str) or len(unit) > 32:
                raise DecodeError(f"units.{name} must be a string of at most 32 characters")
            if raw is None:
                readings.append(Reading(device_id, name, math.nan, ts, unit, Quality.INVALID))
                continue
            value = _number(raw, f"signals.{name}")
            quality = Quality.GOOD if value == value else Quality.INVALID
            readings.append(Reading(device_id, name, value, ts, unit, quality))
        return readings

    def encode(self, readings: Sequence[Reading]) -> bytes:
        """Encode readings of one device at one timestamp (invalid values become null)."""
        if not readings:
            raise ValueError("nothing to encode")
        first = readings[0]
        if any(r.device_id != first.device_id or r.ts != first.ts for r in readings):
            raise ValueError("one payload carries one device at one timestamp")
        doc = {
            "device_id": first.device_id,
            "ts": first.ts,
            "signals": {r.signal: (r.value if r.usable else None) for r in readings},
            "units": {r.signal: r.unit for r in readings if r.unit},
        }
        return json.dumps(doc, separators=(",", ":")).encode()
