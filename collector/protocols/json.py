"""The JSON telemetry payload used on MQTT.

One message carries one device's signals at one time::

    {"device_id": "MR-01", "ts": 1767225600.0,
     "signals": {"helium_level_pct": 81.2, "coldhead_k": 4.21},
     "units": {"helium_level_pct": "%", "coldhead_k": "K"}}

``ts`` is UTC epoch seconds. A signal value of ``null`` is kept as an invalid
reading (NaN), so gaps stay visible. ``units`` is optional.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, ClassVar

from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols.base import Frame, Protocol
from htm_edge.collector.reading import Quality, Reading

__all__ = ["JsonProtocol"]


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DecodeError(f"{where} must be a number, got {type(value).__name__}")
    return float(value)


class JsonProtocol(Protocol):
    """Codec of the JSON telemetry payload (see module docstring)."""

    name: ClassVar[str] = "json"

    def parse(self, frame: Frame) -> list[Reading]:
        """Decode one JSON payload into one reading per signal."""
        try:
            doc = json.loads(frame.payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DecodeError(f"payload is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise DecodeError("payload must be a JSON object")
        device_id = doc.get("device_id", frame.hint_device_id)
        if not isinstance(device_id, str) or not device_id:
            raise DecodeError("'device_id' is missing or not a non-empty string")
        if frame.hint_device_id is not None and device_id != frame.hint_device_id:
            raise DecodeError(
                f"'device_id' {device_id!r} does not match the topic's {frame.hint_device_id!r}"
            )
        ts = _number(doc.get("ts"), "'ts'")
        if not math.isfinite(ts) or ts <= 0:
            raise DecodeError(f"'ts' must be positive epoch seconds, got {ts}")
        signals = doc.get("signals")
        if not isinstance(signals, dict) or not signals:
            raise DecodeError("'signals' must be a non-empty object of name: number")
        units = doc.get("units", {})
        if not isinstance(units, dict):
            raise DecodeError("'units' must be an object of name: unit")
        readings = []
        for name, raw in signals.items():
            unit = units.get(name, "")
            if not isinstance(unit, str):
                raise DecodeError(f"units.{name} must be a string")
            if raw is None:
                readings.append(Reading(device_id, name, math.nan, ts, unit, Quality.INVALID))
                continue
            value = _number(raw, f"signals.{name}")
            quality = Quality.GOOD if math.isfinite(value) else Quality.INVALID
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
