"""Dräger MEDIBUS ("classic" slow data over RS-232): frames, codec and stream splitter.

A frame is::

    header  code  payload      checksum       CR
    ESC 1B  1 B   ASCII args   2 hex chars    0D     a command (sender -> peer)
    SOH 01  1 B   ASCII data   2 hex chars    0D     a response: echoes the command code

The checksum is the low 8 bits of the sum of every byte from the header
through the last payload byte, written as two upper-case hex characters
(``NOP`` is ``1B 30 34 42 0D``). Both ends are masters: each may send
commands and must answer the other's with an echo response; a frame with a
bad checksum is answered with a NAK response (code 0x15). The gateway's side
of that dialogue is :class:`~htm_edge.collector.protocols.medibus_session.MedibusSession`.

What is decoded
---------------
* measured data, code pages 1 and 2 (responses 0x24, 0x2B): 6-character
  groups of a 2-hex-digit data code and a 4-character value (space padded);
  the reading is named ``cp1_<code>`` / ``cp2_<code>`` (say ``cp1_05``) unless
  the config's ``names`` maps it, with the unit of ``units``. The meaning of
  a data code is defined per device family in Dräger's device-specific
  MEDIBUS documents (Evita, Savina, Fabius, Primus, ...), so the table is the
  site's, not ours; a value field that is not a number (``----``, blanks) is
  an invalid reading;
* current alarms, code pages 1 to 3 (0x27, 0x2E, 0x23): 15-character records
  (priority, 2-hex-digit alarm code, 12-character phrase) counted as
  ``alarms_active_cp1`` ... ``_cp3``;
* text messages (0x2A): records of a 2-character code, a length character
  (``'0' + n``), n characters and ETX, counted as ``text_messages_active``;
* every other valid frame (echoes, device identification, NAK, commands the
  device sent us) decodes to no reading.

Measured data of a ventilator or anaesthesia machine are patient
observations: by default only the alarm and text-message counts are handed
on; list the data codes a site may keep in ``signals``. MEDIBUS carries no
patient identity (no names, no ids), so ``redact`` is the identity.

The device has no clock on this link: readings are stamped with the gateway
clock at receipt, and the device is named by the serial source's ``device_id``.
Realtime waveform bytes (top bit set) may be interleaved with slow frames;
the splitter steps over them (counted in ``realtime_bytes``) and does not
decode them.

Examples
--------
>>> command(NOP)
b'\\x1b04B\\r'
>>> p = MedibusProtocol(signals=["cp1_*"])
>>> frame = Frame(bytes.fromhex("01 24 30 35 20 20 31 32 32 44 0D"), "serial:x", 1.7e9, "EV-1")
>>> [(r.signal, r.value) for r in p.parse(frame)]
[('cp1_05', 12.0)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import ClassVar, Literal, Self

from pydantic import Field

from htm_edge.collector.context import IngestContext, TimestampPolicy
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols.base import Frame, Protocol, check_signal_name
from htm_edge.collector.protocols.framing import Deframer, Session
from htm_edge.collector.protocols.privacy import SIGNALS_FIELD, SignalFilter
from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.base import PluginConfig

__all__ = [
    "ESC",
    "ICC",
    "NAK",
    "NOP",
    "SOH",
    "MedibusDeframer",
    "MedibusProtocol",
    "MedibusProtocolConfig",
    "checksum",
    "command",
    "frame_ok",
    "response",
]

ESC, SOH, CR, ETX = 0x1B, 0x01, 0x0D, 0x03
#: command codes (MEDIBUS protocol definition)
NOP, ICC, DEVICE_ID, STOP = 0x30, 0x51, 0x52, 0x55
DATA_CP1, DATA_CP2 = 0x24, 0x2B
ALARMS_CP1, ALARMS_CP2, ALARMS_CP3 = 0x27, 0x2E, 0x23
SETTINGS, TEXT = 0x29, 0x2A
NAK = 0x15
_PAGES = {DATA_CP1: "cp1", DATA_CP2: "cp2"}
_ALARMS = {ALARMS_CP1: "cp1", ALARMS_CP2: "cp2", ALARMS_CP3: "cp3"}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_DEFAULT_NAME = re.compile(r"^(cp[12])_([0-9A-F]{2})$")
#: a frame longer than this is noise (the longest slow-data responses are a few hundred bytes)
MAX_FRAME = 4096


def checksum(body: bytes) -> bytes:
    """The two hex characters of the 8-bit sum of ``body`` (header through payload).

    >>> checksum(bytes([0x1B, 0x30]))
    b'4B'
    """
    return b"%02X" % (sum(body) & 0xFF)


def command(code: int, args: bytes = b"") -> bytes:
    """A command frame: ESC, code, arguments, checksum, CR."""
    body = bytes([ESC, code]) + args
    return body + checksum(body) + b"\r"


def response(code: int, data: bytes = b"") -> bytes:
    """A response frame: SOH, the echoed code, data, checksum, CR."""
    body = bytes([SOH, code]) + data
    return body + checksum(body) + b"\r"


def frame_ok(frame: bytes) -> bool:
    """True when ``frame`` is delimited right and its checksum holds."""
    return (
        len(frame) >= 5
        and frame[0] in (ESC, SOH)
        and frame[-1] == CR
        and frame[-3:-1] == checksum(frame[:-3])  # upper-case hex: 'a' for 'A' is corruption
    )


def _check(frame: bytes) -> tuple[int, int, bytes]:
    """(header, code, payload) of a valid frame, else :class:`DecodeError`."""
    if len(frame) < 5:
        raise DecodeError(f"MEDIBUS frame of {len(frame)} bytes is shorter than 5")
    if len(frame) > MAX_FRAME:
        raise DecodeError(f"MEDIBUS frame of {len(frame)} bytes is over {MAX_FRAME}")
    if frame[0] not in (ESC, SOH):
        raise DecodeError(f"MEDIBUS frame starts with 0x{frame[0]:02X}, not ESC or SOH")
    if frame[-1] != CR:
        raise DecodeError("MEDIBUS frame does not end with CR")
    if not frame_ok(frame):
        raise DecodeError(
            f"MEDIBUS checksum {frame[-3:-1]!r} does not match {checksum(frame[:-3])!r}"
        )
    payload = frame[2:-3]
    if any(not (0x20 <= b < 0x7F or b == ETX) for b in payload):
        raise DecodeError("MEDIBUS payload holds bytes other than printable ASCII and ETX")
    return frame[0], frame[1], payload


def format_value(value: float) -> bytes:
    """The 4-character MEDIBUS field of ``value``; ValueError if it does not fit.

    >>> format_value(12.0), format_value(-1.5), format_value(0.25)
    (b'  12', b'-1.5', b'0.25')
    """
    if math.isnan(value):
        return b"----"
    if value == int(value) and -999 <= value <= 9999:
        return b"%4d" % int(value)
    for digits in (3, 2, 1):
        text = f"{value:.{digits}f}".rstrip("0")
        if len(text) <= 4 and float(text) == value:
            return text.rjust(4).encode()
    raise ValueError(f"{value!r} does not fit a 4-character MEDIBUS field")


def parse_value(field: bytes) -> float:
    """The number in a value field, or NaN when it holds none."""
    text = field.decode("ascii").strip()
    return float(text) if _NUMBER.match(text) else math.nan


def _text_messages(payload: bytes) -> int:
    """How many text-message records ``payload`` holds; DecodeError if they do not fit."""
    count, i = 0, 0
    while i < len(payload):
        if i + 3 > len(payload) or not 0x30 <= payload[i + 2] < 0x7F:
            raise DecodeError("MEDIBUS text message record is cut short")
        end = i + 3 + payload[i + 2] - 0x30
        if end >= len(payload) or payload[end] != ETX:
            raise DecodeError("MEDIBUS text message record does not end with ETX")
        count, i = count + 1, end + 1
    return count


PollItem = Literal["cp1", "cp2", "alarms_cp1", "alarms_cp2", "alarms_cp3", "text"]
_DEFAULT_POLL: tuple[PollItem, ...] = ("cp1", "alarms_cp1", "text")


class MedibusProtocolConfig(PluginConfig):
    """MEDIBUS slow data; the serial source polls the device with its session."""

    type: Literal["medibus"] = "medibus"
    role: ClassVar[str] = "protocol"
    signals: list[str] | None = SIGNALS_FIELD
    names: dict[str, str] = Field(
        default_factory=dict,
        description="data code -> signal name, e.g. cp1_05 = 'leak_minute_volume_l_min'",
    )
    units: dict[str, str] = Field(
        default_factory=dict, description="data code -> unit, e.g. cp1_05 = 'L/min'"
    )
    poll: list[PollItem] = Field(
        default_factory=lambda: list(_DEFAULT_POLL),
        description="what the session requests every poll_interval_s",
    )
    poll_interval_s: float = Field(default=5.0, gt=0, le=3600)
    keepalive_s: float = Field(
        default=1.0, gt=0, le=60, description="NOP after this long without a command"
    )
    response_timeout_s: float = Field(default=3.0, gt=0, le=60)


def _default_device_signal(name: str) -> bool:
    return name.startswith("alarms_active_") or name == "text_messages_active"


class MedibusProtocol(Protocol):
    """Codec of MEDIBUS frames (see the module docstring)."""

    type_name: ClassVar[str] = "medibus"
    config_model: ClassVar[type[PluginConfig]] = MedibusProtocolConfig

    def __init__(
        self,
        timestamps: TimestampPolicy | None = None,
        *,
        signals: Sequence[str] | None = None,
        names: dict[str, str] | None = None,
        units: dict[str, str] | None = None,
        config: MedibusProtocolConfig | None = None,
    ) -> None:
        super().__init__(timestamps)
        self.config = config or MedibusProtocolConfig()
        self.names = dict(names or {})
        for code, name in self.names.items():
            if not _DEFAULT_NAME.match(code):
                raise ValueError(f"names: {code!r} is not a data code like 'cp1_05'")
            check_signal_name(name, f"names.{code}")
        self.codes = {name: code for code, name in self.names.items()}
        self.units = dict(units or {})
        self.filter = SignalFilter(signals, _default_device_signal)

    @classmethod
    def from_config(cls, cfg: PluginConfig, ctx: IngestContext) -> Self:
        """Build the codec for its section."""
        assert isinstance(cfg, MedibusProtocolConfig)
        return cls(
            ctx.timestamps, signals=cfg.signals, names=cfg.names, units=cfg.units, config=cfg
        )

    def deframer(self) -> MedibusDeframer:
        """A fresh splitter of a MEDIBUS byte stream."""
        return MedibusDeframer()

    def session(self) -> Session:
        """The gateway's side of the polling dialogue (ICC, identification, polls, NOP)."""
        from htm_edge.collector.protocols.medibus_session import MedibusSession

        return MedibusSession(self.config)

    def _reading(self, device: str, code: str, value: float, ts: float) -> Reading | None:
        name = self.names.get(code, code)
        if not self.filter.keep(name):
            return None
        quality = Quality.GOOD if math.isfinite(value) else Quality.INVALID
        return Reading(device, name, value, ts, self.units.get(code, ""), quality)

    def parse(self, frame: Frame) -> list[Reading]:
        """Decode one wire-form frame (header to CR) into readings."""
        header, code, payload = _check(frame.payload)
        if header == ESC or code not in (*_PAGES, *_ALARMS, TEXT):
            return []  # commands, echoes, identification, NAK: valid, no readings
        device = self.device_from_hint(frame)
        ts = self.gateway_stamp(frame)
        readings: list[Reading] = []
        if code in _PAGES:
            if len(payload) % 6:
                raise DecodeError(
                    f"MEDIBUS measured data of {len(payload)} chars is not 6-char groups"
                )
            for i in range(0, len(payload), 6):
                data_code = payload[i : i + 2].decode("ascii").upper()
                if any(c not in "0123456789ABCDEF" for c in data_code):
                    raise DecodeError(f"MEDIBUS data code {data_code!r} is not 2 hex digits")
                key = f"{_PAGES[code]}_{data_code}"
                r = self._reading(device, key, parse_value(payload[i + 2 : i + 6]), ts)
                if r is not None:
                    readings.append(r)
        elif code in _ALARMS:
            if len(payload) % 15:
                raise DecodeError(f"MEDIBUS alarms of {len(payload)} chars are not 15-char records")
            r = self._reading(device, f"alarms_active_{_ALARMS[code]}", len(payload) // 15, ts)
            readings += [r] if r is not None else []
        else:
            r = self._reading(device, "text_messages_active", _text_messages(payload), ts)
            readings += [r] if r is not None else []
        return readings

    def encode(self, readings: Sequence[Reading]) -> bytes:
        """A measured-data response of one code page carrying ``readings``.

        Signals must be data codes (``cp1_05``) or names the config maps to
        them; values must fit 4 characters. The device id and timestamp are
        not on the wire (the port names the device, receipt stamps the time).
        """
        if not readings:
            raise ValueError("nothing to encode")
        groups, pages = [], set()
        for r in readings:
            key = self.codes.get(r.signal, r.signal)
            m = _DEFAULT_NAME.match(key)
            if m is None:
                raise ValueError(f"{r.signal!r} is not a MEDIBUS data code (cp1_XX or cp2_XX)")
            pages.add(m.group(1))
            value = r.value if r.usable else math.nan
            groups.append(m.group(2).encode() + format_value(value))
        if len(pages) > 1:
            raise ValueError("one MEDIBUS response carries one code page")
        code = DATA_CP1 if pages == {"cp1"} else DATA_CP2
        return response(code, b"".join(groups))


class MedibusDeframer(Deframer):
    """Split a MEDIBUS stream at ESC/SOH ... CR, stepping over realtime bytes.

    A header byte inside a frame means the frame was cut short: its bytes are
    skipped and a new frame starts. Frames with a bad checksum are returned
    (and counted invalid) so that they are NAKed and dead-lettered.
    """

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()
        #: realtime waveform bytes (top bit set) stepped over
        self.realtime_bytes = 0

    def pending(self) -> int:
        """Bytes of the frame not yet complete."""
        return len(self._buf)

    def _clear(self) -> None:
        self._buf.clear()

    def feed(self, data: bytes) -> list[bytes]:
        """Take bytes read from the port; return the frames they complete."""
        out: list[bytes] = []
        buf = self._buf
        for b in data:
            if b & 0x80:
                self.realtime_bytes += 1
            elif b in (ESC, SOH):
                self.skipped_bytes += len(buf)
                buf.clear()
                buf.append(b)
            elif not buf:
                self.skipped_bytes += 1
            elif b == CR:
                buf.append(b)
                frame = bytes(buf)
                buf.clear()
                out.append(self._frame(frame, frame_ok(frame)))
            elif len(buf) >= MAX_FRAME:
                self.skipped_bytes += len(buf) + 1
                buf.clear()
            else:
                buf.append(b)
        return out
