"""GE Datex-Ohmeda S/5 Computer Interface (DRI) over RS-232: framing and codec.

A frame (19200 baud, 8 data bits, even parity, 1 stop bit, RTS/CTS)::

    7E | record, escaped | checksum, escaped | 7E

Escaping: 0x7E is sent as ``7D 5E``, 0x7D as ``7D 5D`` (0x7D then the byte
XOR 0x20). The checksum is the low 8 bits of the sum of the unescaped record
bytes. A record is a 40-byte little-endian header (:data:`HEADER`: total
length, number, DRI level, plug id, Unix time, reserved, main type, then eight
sub-record descriptors of offset and type, type 0xFF ending the list)
followed by its sub-records.

What is decoded: physiological-database records (main type 0) whose
sub-records are displayed values or 10 s / 60 s trends, basic class; their
fields (:data:`BASIC_FIELDS`) are scaled 16-bit integers with sentinels:
-32767 invalid (an invalid reading), -32766 not updated (no reading),
-32765 discontinuity, -32764 under range, -32763 over range, -32762 not
calibrated (invalid readings). Fields of a group whose status says it does
not exist are skipped. Other main types (waveforms, alarms, network) and the
extended classes decode to no reading.

Field layout and scaling follow the S/5 Computer Interface Specification
[U: to be verified against a capture; no hardware here]. Physiological fields
are patient observations and withheld unless ``signals`` lists them; the
device-health signals kept are ``co2_amb_press`` (the gas module's ambient
pressure sensor) and ``clock_offset_s`` (device clock minus gateway clock at
receipt: S/5 clocks are set by hand and drift). Records carry the monitor's
Unix time, which stamps the readings (``clock = "gateway"`` stamps receipt
instead). DRI records carry no patient identity; ``redact`` is the identity.

Examples
--------
>>> escape(bytes([0x01, 0x7E, 0x7D]))
b'\\x01}^}]'
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import ClassVar, Literal, Self

from pydantic import Field

from htm_edge.collector.context import IngestContext, TimestampPolicy
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols.base import Frame, Protocol
from htm_edge.collector.protocols.framing import Deframer, Session
from htm_edge.collector.protocols.privacy import SIGNALS_FIELD, SignalFilter
from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.base import PluginConfig

__all__ = [
    "BASIC_FIELDS",
    "DatexDeframer",
    "DatexProtocol",
    "DatexProtocolConfig",
    "DatexSession",
    "build_record",
    "escape",
    "wire",
]

FLAG, ESCAPE = 0x7E, 0x7D
#: r_len, r_nbr, dri_level, plug_id, r_time, 2 reserved bytes, reserved word, r_maintype
HEADER = struct.Struct("<hBBHIBBHh")
HEADER_LEN = 40
MAX_RECORD = 4096
MT_PHDB = 0
SR_REQUEST, SR_DISPL, SR_10S, SR_60S, SR_END = 0, 1, 2, 3, 0xFF
PHDB_LEN = 4 + 270 + 4  # time, the class union, marker + reserved + class/level word
INVALID, NOT_UPDATED = -32767, -32766
_SENTINELS = range(-32767, -32761)

# group name, number of int16 fields and their (name, divisor, unit), header or not
_GROUPS: list[tuple[str, bool, list[tuple[str, int, str]]]] = [
    (
        "ecg",
        True,
        [
            ("hr", 1, "/min"),
            ("st1", 100, "mm"),
            ("st2", 100, "mm"),
            ("st3", 100, "mm"),
            ("imp_rr", 1, "/min"),
        ],
    ),
    *[
        (
            f"p{i}",
            True,
            [("sys", 100, "mmHg"), ("dia", 100, "mmHg"), ("mean", 100, "mmHg"), ("hr", 1, "/min")],
        )
        for i in (1, 2, 3, 4)
    ],
    (
        "nibp",
        True,
        [("sys", 100, "mmHg"), ("dia", 100, "mmHg"), ("mean", 100, "mmHg"), ("hr", 1, "/min")],
    ),
    *[(f"t{i}", True, [("temp", 100, "°C")]) for i in (1, 2, 3, 4)],
    (
        "spo2",
        True,
        [("spo2", 100, "%"), ("pr", 1, "/min"), ("ir_amp", 100, "%"), ("svo2", 100, "%")],
    ),
    (
        "co2",
        True,
        [("et", 100, "%"), ("fi", 100, "%"), ("rr", 1, "/min"), ("amb_press", 10, "mmHg")],
    ),
    ("o2", True, [("et", 100, "%"), ("fi", 100, "%")]),
    ("n2o", True, [("et", 100, "%"), ("fi", 100, "%")]),
    ("aa", True, [("et", 100, "%"), ("fi", 100, "%"), ("mac_sum", 100, "")]),
    (
        "flow_vol",
        True,
        [
            ("rr", 1, "/min"),
            ("ppeak", 100, "cmH2O"),
            ("peep", 100, "cmH2O"),
            ("pplat", 100, "cmH2O"),
            ("tv_insp", 10, "mL"),
            ("tv_exp", 10, "mL"),
            ("compliance", 100, "mL/cmH2O"),
            ("mv_exp", 100, "L/min"),
        ],
    ),
    (
        "co_wedge",
        True,
        [("co", 1, "mL/min"), ("blood_temp", 100, "°C"), ("ref", 1, "%"), ("pcwp", 100, "mmHg")],
    ),
    ("nmt", True, [("t1", 1, "%"), ("tratio", 1, "%"), ("ptc", 1, "")]),
    ("ecg_extra", False, [("hr_ecg", 1, "/min"), ("hr_max", 1, "/min"), ("hr_min", 1, "/min")]),
    ("svo2", True, [("svo2", 100, "%")]),
    *[
        (
            f"p{i}",
            True,
            [("sys", 100, "mmHg"), ("dia", 100, "mmHg"), ("mean", 100, "mmHg"), ("hr", 1, "/min")],
        )
        for i in (5, 6)
    ],
]


def _layout() -> dict[str, tuple[int, int | None, int, str]]:
    """signal -> (offset in the class union, group status offset or None, divisor, unit)."""
    out, pos = {}, 0
    for group, has_header, fields in _GROUPS:
        status = pos if has_header else None
        pos += 6 if has_header else 0
        for name, divisor, unit in fields:
            out[f"{group}_{name}"] = (pos, status, divisor, unit)
            pos += 2
    assert pos == 268, pos  # + 2 reserved bytes = the 270-byte union
    return out


#: signal -> (offset in the basic class, group status offset, divisor, unit)
BASIC_FIELDS = _layout()
DEVICE_SIGNALS = ("co2_amb_press", "clock_offset_s")


def escape(data: bytes) -> bytes:
    """Byte-stuff ``data``: 0x7E and 0x7D become 0x7D, byte XOR 0x20."""
    return data.replace(b"\x7d", b"\x7d\x5d").replace(b"\x7e", b"\x7d\x5e")


def wire(record: bytes) -> bytes:
    """The frame of ``record``: flag, escaped record and checksum, flag."""
    return b"\x7e" + escape(record + bytes([sum(record) & 0xFF])) + b"\x7e"


def unwire(frame: bytes) -> bytes:
    """The record of a frame; :class:`DecodeError` when flags, escapes, checksum or length fail."""
    if len(frame) > 2 * (MAX_RECORD + 1) + 2:
        raise DecodeError(f"DRI frame of {len(frame)} bytes is over the longest record")
    if len(frame) < 3 or frame[0] != FLAG or frame[-1] != FLAG or FLAG in frame[1:-1]:
        raise DecodeError("DRI frame must be one 0x7E-delimited record")
    body = bytearray()
    it = iter(frame[1:-1])
    for b in it:
        if b == ESCAPE:
            nxt = next(it, None)
            if nxt not in (0x5E, 0x5D):
                raise DecodeError("DRI frame holds an invalid escape")
            b = nxt ^ 0x20
        body.append(b)
    record, check = bytes(body[:-1]), body[-1] if body else -1
    if len(record) < HEADER_LEN:
        raise DecodeError(f"DRI record of {len(record)} bytes is shorter than its header")
    if sum(record) & 0xFF != check:
        raise DecodeError("DRI checksum does not match")
    if HEADER.unpack_from(record)[0] != len(record):
        raise DecodeError(f"DRI r_len {HEADER.unpack_from(record)[0]} != {len(record)} bytes")
    return record


def build_record(maintype: int, subrecords: list[tuple[int, bytes]], r_time: int = 0) -> bytes:
    """A record of ``(type, body)`` sub-records after a 40-byte header."""
    descs, bodies, offset = b"", b"", 0
    for sr_type, body in subrecords:
        descs += struct.pack("<hB", offset, sr_type)
        bodies += body
        offset += len(body)
    descs = (descs + struct.pack("<hB", 0, SR_END) * 8)[:24]
    length = HEADER_LEN + len(bodies)
    return HEADER.pack(length, 0, 0, 0, r_time, 0, 0, 0, maintype) + descs + bodies


class DatexProtocolConfig(PluginConfig):
    """Datex-Ohmeda S/5 DRI records from the monitor's computer interface."""

    type: Literal["datex"] = "datex"
    role: ClassVar[str] = "protocol"
    signals: list[str] | None = SIGNALS_FIELD
    clock: Literal["device", "gateway"] = Field(
        default="device", description="stamp readings with the monitor's record time or receipt"
    )
    transmit_interval_s: int = Field(
        default=10, ge=5, le=3600, description="displayed values are requested this often"
    )


class DatexProtocol(Protocol):
    """Codec of DRI frames (see the module docstring)."""

    type_name: ClassVar[str] = "datex"
    config_model: ClassVar[type[PluginConfig]] = DatexProtocolConfig

    def __init__(
        self,
        timestamps: TimestampPolicy | None = None,
        *,
        signals: Sequence[str] | None = None,
        config: DatexProtocolConfig | None = None,
    ) -> None:
        super().__init__(timestamps)
        self.config = config or DatexProtocolConfig()
        self.filter = SignalFilter(signals, lambda name: name in DEVICE_SIGNALS)

    @classmethod
    def from_config(cls, cfg: PluginConfig, ctx: IngestContext) -> Self:
        """Build the codec for its section."""
        assert isinstance(cfg, DatexProtocolConfig)
        return cls(ctx.timestamps, signals=cfg.signals, config=cfg)

    def deframer(self) -> DatexDeframer:
        """A fresh splitter of a DRI byte stream."""
        return DatexDeframer()

    def session(self) -> DatexSession:
        """Requests displayed values on open, and again every minute."""
        return DatexSession(self.config.transmit_interval_s)

    def parse(self, frame: Frame) -> list[Reading]:
        """Decode one frame (flag to flag) into readings."""
        record = unwire(frame.payload)
        r_len, _, _, _, r_time, _, _, _, maintype = HEADER.unpack_from(record)
        if maintype != MT_PHDB:
            return []
        subs = []
        for i in range(8):
            offset, sr_type = struct.unpack_from("<hB", record, 16 + 3 * i)
            if sr_type == SR_END:
                break
            if sr_type in (SR_DISPL, SR_10S, SR_60S):
                start = HEADER_LEN + offset
                if offset < 0 or start + PHDB_LEN > r_len:
                    raise DecodeError(f"DRI sub-record {i} at offset {offset} overruns the record")
                subs.append(record[start : start + PHDB_LEN])
        if not subs:
            return []
        device = self.device_from_hint(frame)
        out: list[Reading] = []
        for sub in subs:
            (sub_time,) = struct.unpack_from("<I", sub)
            cls_word = struct.unpack_from("<H", sub, PHDB_LEN - 2)[0]
            if (cls_word >> 8) & 0x0F != 0:
                continue  # extended classes are not decoded
            device_ts = float(sub_time or r_time)
            ts = self.gateway_stamp(frame) if self.config.clock == "gateway" else device_ts
            self.check_ts(ts, "DRI record time")
            out += self._basic(device, sub[4 : 4 + 270], ts)
            if self.filter.keep("clock_offset_s"):
                out.append(
                    Reading(device, "clock_offset_s", device_ts - frame.received_at, ts, "s")
                )
        return out

    def _basic(self, device: str, union: bytes, ts: float) -> list[Reading]:
        out = []
        for name, (offset, status, divisor, unit) in BASIC_FIELDS.items():
            if status is not None and not struct.unpack_from("<I", union, status)[0] & 1:
                continue  # the group does not exist on this monitor
            (raw,) = struct.unpack_from("<h", union, offset)
            if raw == NOT_UPDATED or raw == -32768 or not self.filter.keep(name):
                continue
            if raw in _SENTINELS:
                out.append(Reading(device, name, math.nan, ts, unit, Quality.INVALID))
            else:
                out.append(Reading(device, name, raw / divisor, ts, unit))
        return out

    def encode(self, readings: Sequence[Reading]) -> bytes:
        """A displayed-values record (basic class) of ``readings``, stamped with their time."""
        if not readings:
            raise ValueError("nothing to encode")
        union = bytearray(struct.pack("<h", NOT_UPDATED) * 135)
        for r in readings:
            if r.signal not in BASIC_FIELDS:
                raise ValueError(f"{r.signal!r} is not a DRI basic field")
            offset, status, divisor, _ = BASIC_FIELDS[r.signal]
            if status is not None:
                union[status : status + 6] = struct.pack("<IH", 1, 0)
            raw = INVALID
            if r.usable:
                raw = round(r.value * divisor) if abs(r.value) < 1e6 else 1 << 20
                if not -32761 <= raw <= 32767 or raw / divisor != r.value:
                    raise ValueError(f"{r.signal}={r.value!r} is not a DRI value (/{divisor})")
            struct.pack_into("<h", union, offset, raw)
        ts = int(readings[0].ts)
        if any(r.ts != ts for r in readings):
            raise ValueError("one DRI record carries one whole-second timestamp")
        sub = struct.pack("<I", ts) + bytes(union) + struct.pack("<BBH", 0, 0, 0)
        return wire(build_record(MT_PHDB, [(SR_DISPL, sub)], ts))


class DatexSession(Session):
    """Ask the monitor for displayed values (basic class) every ``interval`` seconds.

    The request is re-sent every minute, so a monitor that restarted resumes.
    """

    poll_interval_s = 60.0

    def __init__(self, interval: int) -> None:
        req = struct.pack("<BhiH", SR_DISPL, interval, 1, 0)  # record type, interval, classes
        self.request = wire(build_record(MT_PHDB, [(SR_REQUEST, req)]))

    def on_open(self) -> list[bytes]:
        """Request transmission."""
        return [self.request]

    def poll(self, now: float) -> list[bytes]:
        """Request transmission again."""
        return [self.request]


class DatexDeframer(Deframer):
    """Split a DRI stream at 0x7E flags.

    Every flag ends what came before it and starts what follows, so a stream
    opened mid-frame resynchronises at the next frame; stretches too short to
    be a record are counted as skipped bytes, longer ones are returned (and
    counted invalid unless their checksum holds).
    """

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()
        self._started = False
        self._overflow = False

    def pending(self) -> int:
        """Bytes of the frame not yet complete."""
        return len(self._buf)

    def _clear(self) -> None:
        self._buf.clear()
        self._started = self._overflow = False

    def feed(self, data: bytes) -> list[bytes]:
        """Take bytes read from the port; return the frames they complete."""
        out: list[bytes] = []
        limit = 2 * (MAX_RECORD + 1)
        for b in data:
            if b != FLAG:
                if not self._started or self._overflow:
                    self.skipped_bytes += 1
                elif len(self._buf) >= limit:
                    self.skipped_bytes += len(self._buf) + 1
                    self._buf.clear()
                    self._overflow = True
                else:
                    self._buf.append(b)
                continue
            if len(self._buf) > HEADER_LEN:
                frame = b"\x7e" + bytes(self._buf) + b"\x7e"
                try:
                    unwire(frame)
                    ok = True
                except DecodeError:
                    ok = False
                out.append(self._frame(frame, ok))
            else:
                self.skipped_bytes += len(self._buf)
            self._buf.clear()
            self._started, self._overflow = True, False
        return out
