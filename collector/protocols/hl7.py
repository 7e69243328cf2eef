"""HL7 v2 observations (IHE PCD-01 ``ORU^R01``) in MLLP frames: codec, redaction, ACKs.

A frame is ``0B`` + message + ``1C 0D`` (MLLP); segments end with CR. The
message is parsed with python-hl7 (``hl7`` on PyPI, see docs/architecture.md).
What becomes a reading: every ``OBX`` whose value type (OBX-2) is ``NM``:

* signal from OBX-3: ``MDC`` coded observations are named by their reference
  id (``150456^MDC_PULS_OXIM_SAT_O2^MDC``), others by their identifier
  (``helium_level_pct^Helium level^LOCAL``); characters a signal name may not
  hold become ``_``;
* value from OBX-5; an empty value, or result status (OBX-11) ``X``, ``N``,
  ``D`` or ``W``, is an invalid reading;
* unit from OBX-6: MDC dimension codes are mapped (``266016^MDC_DIM_MMHG^MDC``
  is ``mmHg``), others keep their identifier;
* device from OBX-18 (equipment instance identifier, an EUI-64 in PCD-01),
  else the OBX-18 of its MDS header OBX (same first OBX-4 level), else MSH-4
  (sending facility), else the transport's hint; ``device_ids`` maps any of
  them to an inventory id;
* time from OBX-14, else OBR-7, else MSH-7 (``YYYYMMDDHHMMSS[.SSSS][+ZZZZ]``;
  without an offset, the config's ``timezone``).

Privacy: IEEE 11073 physiological observations (MDC partition 2, codes
131072-196607) are patient observations, withheld unless ``signals`` lists
them; locally coded and other MDC observations (device health has no MDC
terms, domain.md §3.4) are kept. Text observations are never decoded.
:meth:`Hl7Protocol.redact` keeps only MSH, OBR (order fields only) and
numeric OBX segments (observation fields only): the PID segment, names,
MRN, date of birth, visit, next of kin and notes (NTE) never leave it.

A message that is not HL7 at all, or not an observation result, raises
:class:`Hl7Reject` (answered ``AR``); one whose observations are malformed
raises a plain :class:`DecodeError` (answered ``AE``); :func:`ack` builds the
acknowledgement, MSA-2 echoing MSH-10.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import hl7 as hl7lib
from pydantic import Field, field_validator

from htm_edge.collector.context import IngestContext, TimestampPolicy
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols.base import Frame, Protocol, check_device_id
from htm_edge.collector.protocols.framing import Deframer
from htm_edge.collector.protocols.intellivue import PHYSIO_NAMES, UNITS
from htm_edge.collector.protocols.privacy import SIGNALS_FIELD, SignalFilter
from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.base import PluginConfig

__all__ = ["Hl7Protocol", "Hl7ProtocolConfig", "Hl7Reject", "MllpDeframer", "ack", "mllp"]

SB, EB, CR = 0x0B, 0x1C, 0x0D
_NM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$")
_BAD_NAME = re.compile(r"[^A-Za-z0-9_.:-]")
_INVALID_STATUS = {"X", "N", "D", "W"}
_MDC_NAMES = {2 * 65536 + k: v for k, v in PHYSIO_NAMES.items()}
_MDC_CODES = {v: k for k, v in _MDC_NAMES.items()}
_MDC_UNITS = {4 * 65536 + k: v for k, v in UNITS.items()}
_SCADA = range(2 * 65536, 3 * 65536)
#: segments (and their fields) that survive redaction
_KEEP_FIELDS = {
    b"MSH": None,
    b"OBR": {1, 2, 3, 4, 7, 8},
    b"OBX": {1, 2, 3, 4, 5, 6, 7, 11, 14, 17, 18},
}


class Hl7Reject(DecodeError):
    """Not an HL7 observation message at all: answered ``AR`` (reject)."""


def mllp(message: bytes) -> bytes:
    """Wrap ``message`` in an MLLP frame."""
    return bytes((SB,)) + message + bytes((EB, CR))


def _unframe(payload: bytes) -> bytes:
    if payload[:1] == bytes((SB,)):
        if payload[-2:] != bytes((EB, CR)):
            raise Hl7Reject("MLLP frame does not end with 1C 0D")
        payload = payload[1:-2]
    if SB in payload or EB in payload:
        raise Hl7Reject("MLLP frame holds a start or end byte inside the message")
    return payload


def _text(payload: bytes) -> str:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = payload.decode("latin-1")
    return text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")


def _escape(text: str) -> str:
    out = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
    return out.replace("&", "\\T\\").replace("~", "\\R\\")


def parse_dtm(text: str, zone: timezone | ZoneInfo) -> float:
    """Epoch seconds of an HL7 DTM; local times are read in ``zone``.

    >>> parse_dtm("20260101120000.25+0100", UTC)
    1767265200.25
    """
    m = _DTM.match(text)
    if m is None:
        raise DecodeError(f"time {text[:30]!r} is not an HL7 DTM (YYYYMMDDHHMMSS[.S][+ZZZZ])")
    y, mo, d, h, mi, s, frac, off = m.groups()
    tz: timezone | ZoneInfo = zone
    if off is not None:
        sign = -1 if off[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[3:5])))
    try:
        when = datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0),
                        tzinfo=tz)  # fmt: skip
    except ValueError:
        raise DecodeError(f"time {text[:30]!r} is not a valid date") from None
    return int(when.timestamp()) + (float(frac) if frac else 0.0)


def _dtm(ts: float) -> str:
    whole = math.floor(ts)
    frac = f"{ts - whole:.4f}"[1:].rstrip("0").rstrip(".")
    return datetime.fromtimestamp(whole, UTC).strftime("%Y%m%d%H%M%S") + frac + "+0000"


class Hl7ProtocolConfig(PluginConfig):
    """HL7 v2 observation results (IHE PCD-01) in MLLP frames."""

    type: Literal["hl7"] = "hl7"
    role: ClassVar[str] = "protocol"
    signals: list[str] | None = SIGNALS_FIELD
    max_bytes: int = Field(default=1 << 20, ge=1024, description="larger messages are rejected")
    timezone: str = Field(default="UTC", description="zone of times sent without an offset")
    device_ids: dict[str, str] = Field(
        default_factory=dict,
        description="equipment id (OBX-18) or sending facility (MSH-4) -> inventory device id",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone such as 'Europe/Berlin'"
            ) from None
        return value


def _default_device_signal(name: str) -> bool:
    return not name.startswith("MDC_") or _MDC_CODES.get(name, 0) not in _SCADA


class Hl7Protocol(Protocol):
    """Codec of HL7 v2 observation messages (see the module docstring)."""

    type_name: ClassVar[str] = "hl7"
    config_model: ClassVar[type[PluginConfig]] = Hl7ProtocolConfig

    def __init__(
        self, timestamps: TimestampPolicy | None = None, config: Hl7ProtocolConfig | None = None
    ) -> None:
        super().__init__(timestamps)
        self.config = config or Hl7ProtocolConfig()
        self.zone = ZoneInfo(self.config.timezone)
        self.filter = SignalFilter(self.config.signals, _default_device_signal)

    @classmethod
    def from_config(cls, cfg: PluginConfig, ctx: IngestContext) -> Self:
        """Build the codec for its section."""
        assert isinstance(cfg, Hl7ProtocolConfig)
        return cls(ctx.timestamps, cfg)

    def deframer(self) -> MllpDeframer:
        """A fresh MLLP splitter."""
        return MllpDeframer(self.config.max_bytes)

    def message(self, payload: bytes) -> Any:
        """The parsed message of a frame; :class:`Hl7Reject` when it is not HL7 observations."""
        if len(payload) > self.config.max_bytes:
            raise Hl7Reject(f"message of {len(payload)} bytes is over max_bytes")
        text = _text(_unframe(payload))
        if not text.startswith("MSH") or len(text) < 8 or text[3] in text[4:8]:
            raise Hl7Reject("message does not start with an MSH segment")
        try:
            msg = hl7lib.parse(text)
            kind = str(msg.segment("MSH")(9)(1)(1))
        except Exception:  # the parser's own failures: not a message we can read
            raise Hl7Reject("message could not be parsed as HL7 v2") from None
        if kind != "ORU":
            raise Hl7Reject(f"message type {kind[:10]!r} is not an observation result (ORU)")
        return msg

    def parse(self, frame: Frame) -> list[Reading]:
        """Decode one MLLP frame (or bare message) into readings."""
        msg = self.message(frame.payload)
        try:
            return self._readings(msg, frame)
        except DecodeError:
            raise
        except Exception as exc:  # a structure python-hl7 accepted but we cannot walk
            raise DecodeError(
                f"observation structure is malformed ({type(exc).__name__})"
            ) from None

    @staticmethod
    def _field(seg: Any, n: int, comp: int = 1) -> str:
        """Field ``n``, component ``comp``, first repetition, unescaped ('' when absent)."""
        try:
            return str(seg.extract_field(1, n, 1, comp, 1))
        except IndexError:
            return ""

    def _device(self, raw: str, where: str) -> str:
        return check_device_id(self.config.device_ids.get(raw, raw), where)

    def _readings(self, msg: Any, frame: Frame) -> list[Reading]:
        msh = msg.segment("MSH")
        facility = self._field(msh, 4)
        default_device = frame.hint_device_id
        if facility:
            default_device = self._device(facility, "MSH-4 sending facility")
        msg_ts = self._field(msh, 7)
        obr_ts = ""
        mds_devices: dict[str, str] = {}
        out: list[Reading] = []
        for seg in msg:
            kind = str(seg[0])
            if kind == "OBR":
                obr_ts = self._field(seg, 7)
            if kind != "OBX":
                continue
            equipment = self._field(seg, 18)
            path = self._field(seg, 4).split(".")[0]
            device: str | None
            if equipment:
                device = self._device(equipment, "OBX-18")
                mds_devices.setdefault(path, device)
            else:
                device = mds_devices.get(path, default_device)
            if self._field(seg, 2) != "NM":
                continue
            code, text, system = (self._field(seg, 3, c) for c in (1, 2, 3))
            if system == "MDC":
                name = text if text.startswith("MDC_") else f"MDC_{code}"
            else:
                name = code or text
            name = _BAD_NAME.sub("_", name)[:128]
            if not name or not self.filter.keep(name):
                continue
            if device is None:
                raise DecodeError("no device identity: OBX-18, MSH-4 and the source are all empty")
            check_device_id(device, "device id")
            stamp = self._field(seg, 14) or obr_ts or msg_ts
            if not stamp:
                raise DecodeError("observation has no time (OBX-14, OBR-7 and MSH-7 are empty)")
            ts = self.check_ts(parse_dtm(stamp, self.zone), "observation time")
            u_code, u_text, u_system = (self._field(seg, 6, c) for c in (1, 2, 3))
            unit = u_code or u_text
            if u_system == "MDC" and u_code.isdigit():
                unit = _MDC_UNITS.get(int(u_code), u_text or u_code)
            raw, status = self._field(seg, 5), self._field(seg, 11)
            if raw == "" or status in _INVALID_STATUS:
                out.append(Reading(device, name, math.nan, ts, unit[:32], Quality.INVALID))
                continue
            if not _NM.match(raw):
                raise DecodeError(f"OBX-5 of {name!r} is not a number")
            value = float(raw)
            if math.isinf(value):
                raise DecodeError(f"OBX-5 of {name!r} is too large for a float")
            out.append(Reading(device, name, value, ts, unit[:32]))
        return out

    def encode(self, readings: Sequence[Reading]) -> bytes:
        """An MLLP-framed ``ORU^R01`` of one device: one numeric OBX per reading."""
        if not readings:
            raise ValueError("nothing to encode")
        device = readings[0].device_id
        if any(r.device_id != device for r in readings):
            raise ValueError("one message carries one device")
        first = readings[0].ts
        segments = [
            f"MSH|^~\\&|HTM-EDGE|{device}|||{_dtm(first)}||ORU^R01^ORU_R01|"
            f"{uuid.uuid4().hex[:20]}|P|2.6|||AL|NE||UNICODE UTF-8|||"
            "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
            f"OBR|1|||182777000^monitoring of patient^SCT|||{_dtm(first)}",
        ]
        for i, r in enumerate(readings, 1):
            code = _MDC_CODES.get(r.signal)
            ident = f"{code}^{r.signal}^MDC" if code else f"{r.signal}^{r.signal}^LOCAL"
            unit = _escape(r.unit)
            value, status = (format(Decimal(repr(r.value)), "f"), "R") if r.usable else ("", "X")
            segments.append(
                f"OBX|{i}|NM|{ident}|1.0.0.{i}|{value}|{unit}^{unit}^UCUM|||||{status}|||"
                f"{_dtm(r.ts)}||||{device}^HTM-EDGE"
            )
        return mllp(("\r".join(segments) + "\r").encode())

    def redact(self, payload: bytes) -> bytes:
        """Only MSH, order fields of OBR and numeric (or header) OBX segments, re-framed."""
        body = payload[1:] if payload[:1] == bytes((SB,)) else payload
        body = body.split(bytes((EB,)))[0]
        sep = body[3:4] if body[:3] == b"MSH" and len(body) > 3 else b"|"
        kept = []
        for seg in body.replace(b"\r\n", b"\r").replace(b"\n", b"\r").split(b"\r"):
            keep = _KEEP_FIELDS.get(seg[:3], set())
            if keep == set() or seg[3:4] not in (sep, b""):
                continue
            fields = seg.split(sep)
            if seg[:3] == b"OBX":
                kind = fields[2] if len(fields) > 2 else b""
                if kind not in (b"NM", b""):
                    continue  # text observations may hold anything
                if kind == b"" and len(fields) > 5:
                    fields[5] = b""  # MDS/VMD/channel headers: identity, never a value
            if keep is not None:
                fields = [f if i == 0 or i in keep else b"" for i, f in enumerate(fields)]
            kept.append(sep.join(fields).rstrip(sep))
        return mllp(b"\r".join(kept) + (b"\r" if kept else b""))


def ack(protocol: Hl7Protocol, payload: bytes, code: str, text: str = "") -> bytes:
    """The MLLP-framed ACK of ``payload`` with MSA-1 ``code`` (AA, AE or AR), MSA-2 = MSH-10."""
    try:
        msg = hl7lib.parse(_text(_unframe(payload)))
        reply = msg.create_ack(code, message_id=uuid.uuid4().hex[:20])
        if text:
            reply.segment("MSA").assign_field(_escape(text[:80]), 3)
        return mllp(str(reply).encode())
    except Exception:  # not even an MSH to answer: a bare ACK without a control id
        when = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        return mllp(
            f"MSH|^~\\&|HTM-EDGE||||{when}||ACK|{uuid.uuid4().hex[:20]}|P|2.6\r"
            f"MSA|{code}||{_escape(text[:80])}\r".encode()
        )


class MllpDeframer(Deframer):
    """Split a TCP stream into MLLP frames; bytes outside ``0B ... 1C 0D`` are skipped."""

    def __init__(self, max_bytes: int = 1 << 20) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self._buf = bytearray()
        self._in = False

    def pending(self) -> int:
        """Bytes of the frame not yet complete."""
        return len(self._buf)

    def _clear(self) -> None:
        self._buf.clear()
        self._in = False

    def feed(self, data: bytes) -> list[bytes]:
        """Take bytes read from the connection; return the frames they complete."""
        out: list[bytes] = []
        buf = self._buf
        for b in data:
            if b == SB:
                self.skipped_bytes += len(buf)
                buf.clear()
                buf.append(b)
                self._in = True
            elif not self._in:
                self.skipped_bytes += 1
            elif b == CR and buf[-1] == EB:
                buf.append(b)
                out.append(self._frame(bytes(buf), True))
                self._clear()
            elif len(buf) > self.max_bytes:
                self.skipped_bytes += len(buf) + 1
                self._clear()
            else:
                buf.append(b)
        return out
