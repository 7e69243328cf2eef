"""Philips IntelliVue Data Export over the MIB/RS-232 interface: framing and codec.

A frame on the wire (115200 baud 8N1 by default)::

    BOF C0 | protocol id 11 | message type 01 | length u16 BE | user data
           | FCS-16 (LSB first) | EOF C1

The FCS is the CRC-16 of PPP/HDLC (RFC 1662 "FCS-16": reflected polynomial
0x8408, initial 0xFFFF, ones' complement) over header and user data before
escaping; ``fcs16(b"123456789") == 0x906E``. Inside header, data and FCS any
0xC0, 0xC1 or 0x7D is sent as 0x7D followed by the byte XOR 0x20; 0x7D 0xC1
aborts a frame. Header ``11 01 00 02`` with data ``C0 01`` has FCS 0xD4CB and
travels as ``C0 11 01 00 02 7D E0 01 CB D4 C1``.

The user data is a Data Export PDU (:mod:`.intellivue_pdu`). Numerics of poll
results (and the MDS-create event) become readings named by their IEEE
11073-10101 reference id where this table knows it (``MDC_PULS_OXIM_SAT_O2``),
else ``scada_<term code>``, with the unit of their unit code and a quality
from the measurement-state bits (invalid, unavailable or calibrating:
invalid; questionable, test or demo data: questionable). Every numeric is a
patient observation and is withheld unless ``signals`` lists it; the
device-health signals ``technical_alarms_active``, ``max_technical_alarm``
(0 none, 1 low, 2 medium, 3 high) and ``mds_status`` are kept.

The monitor's absolute time is local time without a zone, so readings are
stamped with the gateway clock at receipt; the device is named by the serial
source's ``device_id``. The association dialogue (association request, MDS
create result, poll requests) is not implemented: :meth:`session` is None,
so this codec reads a link that another client keeps polling, or a capture.

Examples
--------
>>> wire(bytes.fromhex("C0 01")).hex(" ")
'c0 11 01 00 02 7d e0 01 cb d4 c1'
>>> hex(fcs16(b"123456789")), hex(fcs16(bytes.fromhex("11 01 00 02 C0 01")))
('0x906e', '0xd4cb')
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Sequence
from typing import ClassVar, Literal, Self

from htm_edge.collector.context import IngestContext, TimestampPolicy
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols.base import Frame, Protocol
from htm_edge.collector.protocols.framing import Deframer
from htm_edge.collector.protocols.intellivue_pdu import (
    Numeric,
    build_poll_result,
    parse_user_data,
    redact_user_data,
)
from htm_edge.collector.protocols.privacy import SIGNALS_FIELD, SignalFilter
from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.base import PluginConfig

__all__ = [
    "IntellivueDeframer",
    "IntellivueProtocol",
    "IntellivueProtocolConfig",
    "fcs16",
    "unwire",
    "wire",
]

BOF, EOF, ESCAPE = 0xC0, 0xC1, 0x7D
PROTOCOL_ID, MESSAGE_TYPE = 0x11, 0x01
_STUFFED = (BOF, EOF, ESCAPE)
#: the longest wire frame: 64 KiB of user data, every byte escaped
MAX_WIRE = 2 * (0xFFFF + 6) + 2


def _fcs_table() -> list[int]:
    table = []
    for b in range(256):
        v = b
        for _ in range(8):
            v = (v >> 1) ^ 0x8408 if v & 1 else v >> 1
        table.append(v)
    return table


_FCS = _fcs_table()


def fcs16(data: bytes) -> int:
    """RFC 1662 FCS-16 of ``data`` (already complemented)."""
    fcs = 0xFFFF
    for b in data:
        fcs = (fcs >> 8) ^ _FCS[(fcs ^ b) & 0xFF]
    return fcs ^ 0xFFFF


def _stuff(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b in _STUFFED:
            out += bytes((ESCAPE, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def wire(user_data: bytes) -> bytes:
    """The wire frame carrying ``user_data``: header, FCS, escaping, BOF and EOF."""
    if len(user_data) > 0xFFFF:
        raise ValueError(f"{len(user_data)} bytes of user data do not fit one frame")
    body = struct.pack(">BBH", PROTOCOL_ID, MESSAGE_TYPE, len(user_data)) + user_data
    return bytes((BOF,)) + _stuff(body + struct.pack("<H", fcs16(body))) + bytes((EOF,))


def unwire(frame: bytes) -> bytes:
    """The user data of a wire frame; :class:`DecodeError` when anything does not hold."""
    if len(frame) > MAX_WIRE:
        raise DecodeError(f"IntelliVue frame of {len(frame)} bytes is over {MAX_WIRE}")
    if len(frame) < 8 or frame[0] != BOF or frame[-1] != EOF:
        raise DecodeError("IntelliVue frame must run from BOF (0xC0) to EOF (0xC1)")
    inner = frame[1:-1]
    if BOF in inner or EOF in inner:
        raise DecodeError("IntelliVue frame holds an unescaped BOF or EOF")
    body = bytearray()
    it = iter(inner)
    for b in it:
        if b == ESCAPE:
            nxt = next(it, None)
            if nxt is None:
                raise DecodeError("IntelliVue frame ends inside an escape")
            b = nxt ^ 0x20
        body.append(b)
    if len(body) < 6:
        raise DecodeError("IntelliVue frame is shorter than header and FCS")
    if fcs16(bytes(body[:-2])) != struct.unpack_from("<H", body, len(body) - 2)[0]:
        raise DecodeError("IntelliVue FCS-16 does not match")
    proto, mtype, length = struct.unpack_from(">BBH", body)
    if (proto, mtype) != (PROTOCOL_ID, MESSAGE_TYPE):
        raise DecodeError(f"IntelliVue header {proto:#04x} {mtype:#04x} is not Data Export")
    if length != len(body) - 6:
        raise DecodeError(f"IntelliVue length field {length} != {len(body) - 6} bytes of data")
    return bytes(body[4:-2])


#: SCADA term code -> IEEE 11073-10101 reference id (partition 2; code = 2 * 65536 + term)
PHYSIO_NAMES = {
    19384: "MDC_PULS_OXIM_SAT_O2",
    16770: "MDC_ECG_HEART_RATE",
    18961: "MDC_PRESS_BLD_ART_SYS",
    18949: "MDC_PRESS_BLD_NONINV_SYS",
    20490: "MDC_RESP_RATE",
    19272: "MDC_TEMP",
    20636: "MDC_AWAY_CO2_ET",
    18466: "MDC_PULS_OXIM_PULS_RATE",
}
_PHYSIO_CODES = {v: k for k, v in PHYSIO_NAMES.items()}
#: unit term code (partition 4) -> unit; %, mmHg and bpm verified, the rest from the
#: 11073-10101 prefix scheme (low 5 bits: 3 kilo, 18 milli) [U]
UNITS = {
    512: "",
    544: "%",
    2720: "/min",
    2784: "/min{breaths}",
    3872: "mmHg",
    3843: "kPa",
    3904: "cmH2O",
    6048: "°C",
    4256: "V",
    4274: "mV",
    4160: "A",
    4178: "mA",
    2176: "s",
    1618: "mL",
    3072: "L/min",
}
_UNIT_CODES = {v: k for k, v in UNITS.items()}
_SCADA = re.compile(r"^scada_(\d{1,5})$")
#: measurement-state bits
INVALID_BITS = 0x8000 | 0x2000 | 0x1000  # invalid, unavailable, calibration ongoing
QUESTIONABLE_BITS = 0x4000 | 0x0800 | 0x0400  # questionable, test data, demo data
_ALERT_PRIORITY = {0: 0, 1: 1, 2: 2, 4: 3}
DEVICE_SIGNALS = ("technical_alarms_active", "max_technical_alarm", "mds_status")


class IntellivueProtocolConfig(PluginConfig):
    """IntelliVue Data Export frames from the MIB/RS-232 port."""

    type: Literal["intellivue"] = "intellivue"
    role: ClassVar[str] = "protocol"
    signals: list[str] | None = SIGNALS_FIELD


class IntellivueProtocol(Protocol):
    """Codec of IntelliVue MIB frames (see the module docstring)."""

    type_name: ClassVar[str] = "intellivue"
    config_model: ClassVar[type[PluginConfig]] = IntellivueProtocolConfig

    def __init__(
        self, timestamps: TimestampPolicy | None = None, *, signals: Sequence[str] | None = None
    ) -> None:
        super().__init__(timestamps)
        self.filter = SignalFilter(signals, lambda name: name in DEVICE_SIGNALS)

    @classmethod
    def from_config(cls, cfg: PluginConfig, ctx: IngestContext) -> Self:
        """Build the codec for its section."""
        assert isinstance(cfg, IntellivueProtocolConfig)
        return cls(ctx.timestamps, signals=cfg.signals)

    def deframer(self) -> IntellivueDeframer:
        """A fresh splitter of a MIB byte stream."""
        return IntellivueDeframer()

    def parse(self, frame: Frame) -> list[Reading]:
        """Decode one wire frame (BOF to EOF) into readings."""
        content = parse_user_data(unwire(frame.payload))
        if content.kind == "other":
            return []
        device = self.device_from_hint(frame)
        ts = self.gateway_stamp(frame)
        out = []
        for n in content.numerics:
            name = PHYSIO_NAMES.get(n.physio_id, f"scada_{n.physio_id}")
            if not self.filter.keep(name):
                continue
            quality = Quality.GOOD
            if n.state & INVALID_BITS or math.isnan(n.value):
                quality = Quality.INVALID
            elif n.state & QUESTIONABLE_BITS:
                quality = Quality.QUESTIONABLE
            unit = UNITS.get(n.unit_code, f"dim_{n.unit_code}")
            out.append(Reading(device, name, n.value, ts, unit, quality))
        status = {
            "technical_alarms_active": content.t_alarms,
            "max_technical_alarm": None
            if content.max_t_alarm is None
            else _ALERT_PRIORITY.get(content.max_t_alarm & 0xFF, 3),
            "mds_status": content.mds_status,
        }
        for name, value in status.items():
            if value is not None and self.filter.keep(name):
                out.append(Reading(device, name, float(value), ts, ""))
        return out

    def encode(self, readings: Sequence[Reading]) -> bytes:
        """A poll-result frame of numerics; signals must be known names or ``scada_<code>``."""
        if not readings:
            raise ValueError("nothing to encode")
        numerics = []
        for r in readings:
            m = _SCADA.match(r.signal)
            code = _PHYSIO_CODES.get(r.signal, int(m.group(1)) if m else None)
            if code is None or code > 0xFFFF:
                raise ValueError(f"{r.signal!r} is not an IntelliVue numeric")
            if r.unit not in _UNIT_CODES:
                raise ValueError(f"unit {r.unit!r} has no IntelliVue unit code")
            value = r.value if r.usable else math.nan
            state = 0 if r.usable else 0x8000
            numerics.append(Numeric(code, state, _UNIT_CODES[r.unit], value))
        return wire(build_poll_result(numerics))

    def redact(self, payload: bytes) -> bytes:
        """The frame with every attribute this codec does not decode zeroed.

        A frame whose structure cannot be walked cannot be shown free of
        patient demographics: then only its first five bytes are kept.
        """
        try:
            data = unwire(payload)
        except DecodeError:
            data = None
        clean = None if data is None else redact_user_data(data)
        if clean is None:
            return payload[:5] + b"\x00" * max(len(payload) - 5, 0)
        return wire(clean)


class IntellivueDeframer(Deframer):
    """Split a MIB stream at BOF ... EOF; resynchronise at BOF, drop aborted frames."""

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()
        self._escaped = False

    def pending(self) -> int:
        """Bytes of the frame not yet complete."""
        return len(self._buf)

    def _clear(self) -> None:
        self._buf.clear()
        self._escaped = False

    def feed(self, data: bytes) -> list[bytes]:
        """Take bytes read from the port; return the frames they complete."""
        out: list[bytes] = []
        buf = self._buf
        for b in data:
            if b == BOF:
                self.skipped_bytes += len(buf)
                self._clear()
                buf.append(b)
            elif not buf:
                self.skipped_bytes += 1
            elif b == EOF:
                if self._escaped:  # 7D C1: the sender aborted the frame
                    self.skipped_bytes += len(buf) + 1
                    self._clear()
                    continue
                buf.append(b)
                frame = bytes(buf)
                self._clear()
                try:
                    unwire(frame)
                    ok = True
                except DecodeError:
                    ok = False
                out.append(self._frame(frame, ok))
            elif len(buf) >= MAX_WIRE:
                self.skipped_bytes += len(buf) + 1
                self._clear()
            else:
                self._escaped = b == ESCAPE and not self._escaped
                buf.append(b)
        return out
