"""InfluxDB line protocol as a telemetry payload (devices or adapters that speak it on MQTT).

One payload holds one or more lines (``\\n``-separated)::

    telemetry,device_id=MR-01,site=a helium_level_pct=81.2,coldhead_k=4.21 1767225600000000000

* the device is the ``device_id`` tag (``device_tag`` in the config), else the
  transport's hint (the MQTT topic); both, when present, must agree;
* every field is a signal; floats, integers (``12i``, ``12u``) and booleans
  (``t``/``true``/``f``/``false``, any case: 1.0/0.0) are values; a string
  field is a device's "no valid value" and becomes an invalid reading, as
  ``null`` does in the JSON payload;
* the timestamp is an integer in ``precision`` units (``ns`` by default);
  a line without one is stamped with the time of receipt; either way it must
  lie in the plausible window;
* the measurement and other tags are not readings and are not kept.

Escapes follow the published line-protocol rules (``\\,``, ``\\=``, ``\\ `` in
keys and tags, ``\\"`` and ``\\\\`` in string fields). Anything malformed is a
:class:`DecodeError` naming the line. Encoding writes the same form through
:mod:`htm_edge.collector.line_protocol`, with invalid readings as the string
``"invalid"``.

Examples
--------
>>> p = LineProtocol()
>>> r = p.parse(Frame(b'telemetry,device_id=MR-01 he_pct=81.5,stuck="invalid" 1767225600000000000',
...                   "mqtt:t", 0.0))
>>> [(x.signal, x.value, x.quality.value) for x in r]
[('he_pct', 81.5, 'good'), ('stuck', nan, 'invalid')]
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import ClassVar, Literal, Self

from pydantic import Field

from htm_edge.collector.context import IngestContext, TimestampPolicy
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.line_protocol import Precision, escape_key, escape_measurement, to_ns
from htm_edge.collector.protocols.base import (
    Frame,
    Protocol,
    check_device_id,
    check_signal_name,
)
from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.base import PluginConfig

__all__ = ["LineProtocol", "LineProtocolConfig"]

_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_TRUE = {"t", "true"}
_FALSE = {"f", "false"}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+[iu]$")
_MAX_LINES = 10_000


class LineProtocolConfig(PluginConfig):
    """InfluxDB line protocol payloads."""

    type: Literal["line"] = "line"
    role: ClassVar[str] = "protocol"
    device_tag: str = Field(
        default="device_id", min_length=1, description="the tag naming the device"
    )
    precision: Precision = Field(default="ns", description="unit of the line timestamps")
    max_bytes: int = Field(default=1 << 20, ge=1024, description="larger payloads are rejected")


def _split(text: str, sep: str, keep_quotes: bool = False) -> list[str]:
    """Split on ``sep`` outside escapes (and, with ``keep_quotes``, outside quoted strings)."""
    out, cur, i, quoted = [], [], 0, False
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
            continue
        if keep_quotes and ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    if quoted:
        raise DecodeError("a string field is not closed")
    out.append("".join(cur))
    return out


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class LineProtocol(Protocol):
    """Codec of line-protocol payloads (see module docstring)."""

    type_name: ClassVar[str] = "line"
    config_model: ClassVar[type[PluginConfig]] = LineProtocolConfig

    def __init__(
        self,
        timestamps: TimestampPolicy | None = None,
        device_tag: str = "device_id",
        precision: Precision = "ns",
        max_bytes: int = 1 << 20,
    ) -> None:
        super().__init__(timestamps)
        self.device_tag = device_tag
        self.precision = precision
        self.max_bytes = max_bytes

    @classmethod
    def from_config(cls, cfg: PluginConfig, ctx: IngestContext) -> Self:
        """Build the codec for its section."""
        assert isinstance(cfg, LineProtocolConfig)
        return cls(ctx.timestamps, cfg.device_tag, cfg.precision, cfg.max_bytes)

    def parse(self, frame: Frame) -> list[Reading]:
        """Decode every line of the payload."""
        if len(frame.payload) > self.max_bytes:
            raise DecodeError(
                f"payload of {len(frame.payload)} bytes is over max_bytes ({self.max_bytes})"
            )
        try:
            text = frame.payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"payload is not UTF-8: {exc}") from None
        lines = [ln for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]
        lines = [ln for ln in lines if not ln.lstrip().startswith("#")]
        if not lines:
            raise DecodeError("payload holds no line")
        if len(lines) > _MAX_LINES:
            raise DecodeError(f"payload holds {len(lines)} lines, more than {_MAX_LINES}")
        hint = frame.hint_device_id
        if hint is not None:
            check_device_id(hint, "topic")
        out: list[Reading] = []
        for n, line in enumerate(lines, 1):
            out.extend(self._line(line, hint, frame.received_at, f"line {n}"))
        return out

    def _line(self, line: str, hint: str | None, received_at: float, where: str) -> list[Reading]:
        parts = _split(line.strip(), " ", keep_quotes=True)
        parts = [p for p in parts if p]
        if len(parts) not in (2, 3):
            raise DecodeError(f"{where}: expected 'measurement[,tags] fields [timestamp]'")
        series, fields = parts[0], parts[1]
        tags = {}
        for item in _split(series, ",")[1:]:
            key, sep, tag_value = item.partition("=")
            if not sep or not key or not tag_value:
                raise DecodeError(f"{where}: tag {item[:40]!r} is not key=value")
            tags[_unescape(key)] = _unescape(tag_value)
        device_id = tags.get(self.device_tag, hint)
        if device_id is None:
            raise DecodeError(
                f"{where}: no {self.device_tag!r} tag (and the topic names no device)"
            )
        check_device_id(device_id, f"{where}: tag {self.device_tag!r}")
        if hint is not None and device_id != hint:
            raise DecodeError(f"{where}: device {device_id!r} does not match the topic's {hint!r}")
        ts = self._timestamp(parts[2], where) if len(parts) == 3 else received_at
        self.check_ts(ts, where)
        readings = []
        for item in _split(fields, ",", keep_quotes=True):
            key, sep, raw = item.partition("=")
            if not sep or not key or not raw:
                raise DecodeError(f"{where}: field {item[:40]!r} is not key=value")
            signal = check_signal_name(_unescape(key), where)
            value = self._value(raw, f"{where}: field {signal!r}")
            quality = Quality.GOOD if value == value else Quality.INVALID
            readings.append(Reading(device_id, signal, value, ts, "", quality))
        return readings

    def _timestamp(self, raw: str, where: str) -> float:
        if not re.fullmatch(r"-?\d{1,25}", raw):
            raise DecodeError(f"{where}: timestamp {raw[:30]!r} is not an integer")
        return int(raw) / _PER_SECOND[self.precision]

    @staticmethod
    def _value(raw: str, where: str) -> float:
        if raw.startswith('"'):
            if len(raw) < 2 or not raw.endswith('"'):
                raise DecodeError(f"{where}: string value is not closed")
            return math.nan  # a string: the device's "no valid value"
        if raw.lower() in _TRUE:
            return 1.0
        if raw.lower() in _FALSE:
            return 0.0
        if _INTEGER.match(raw) and len(raw) <= 22:
            return float(int(raw[:-1]))
        if _NUMBER.match(raw) and len(raw) <= 64:
            value = float(raw)
            if math.isinf(value):
                raise DecodeError(f"{where} is too large for a float")
            return value
        raise DecodeError(f"{where}: {raw[:30]!r} is not a number, boolean or string")

    def encode(self, readings: Sequence[Reading]) -> bytes:
        """Encode readings of one device at one timestamp as one line."""
        if not readings:
            raise ValueError("nothing to encode")
        first = readings[0]
        if any(r.device_id != first.device_id or r.ts != first.ts for r in readings):
            raise ValueError("one line carries one device at one timestamp")
        fields = ",".join(
            f"{escape_key(r.signal)}={r.value!r}"
            if r.usable
            else f'{escape_key(r.signal)}="invalid"'
            for r in readings
        )
        ts = to_ns(first.ts) * _PER_SECOND[self.precision] // 10**9
        tag = f"{escape_key(self.device_tag)}={escape_key(first.device_id)}"
        series = f"{escape_measurement('telemetry')},{tag}"
        return f"{series} {fields} {ts}".encode()
