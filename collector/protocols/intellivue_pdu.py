"""Philips IntelliVue Data Export PDUs: poll results and MDS events, decoded and built.

Layouts follow the Philips *Data Export Interface Programming Guide*
(IntelliVue patient monitors, MIB/RS-232 and LAN); every field is
big-endian::

    SPpdu        session_id u16 (0xE100), p_context_id u16
    ROapdus      ro_type u16 (1 ROIV, 2 RORS, 3 ROER, 5 ROLRS), length u16
    RORSapdu     invoke_id u16, command_type u16, length u16   (ROLRS: + state u8, count u8 first)
    ActionResult managed_object (class u16, context u16, handle u16), action_type u16, length u16
    PollMdibDataReply[Ext]  poll_number u16, [sequence_no u16,] rel_time u32, abs_time 8 BCD bytes,
                            polled_obj_type (partition u16, code u16), polled_attr_grp u16,
                            PollInfoList: count u16, length u16, then per context
      SingleContextPoll     context_id u16, count u16, length u16, then per object
      ObservationPoll       obj_handle u16, AttributeList: count u16, length u16, then
      AVA                   attribute_id u16, length u16, value

Attributes decoded: NOM_ATTR_NU_VAL_OBS (0x0950) and NOM_ATTR_NU_CMPD_VAL_OBS
(0x094B) numerics (physio id, measurement state, unit code, FLOAT value),
NOM_ATTR_DEV_AL_COND (0x0916) device alert condition, NOM_ATTR_AL_MON_T_AL_LIST
(0x0904) technical alarm list, NOM_ATTR_VMS_MDS_STAT (0x09A7) MDS status. Every
other attribute is stepped over; :func:`redact` zeroes the value of every
attribute not in :data:`KEPT_ATTRIBUTES`, so demographics (a polled
NOM_MOC_PT_DEMOG object: name, id, date of birth) never leave this module.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from htm_edge.collector.errors import DecodeError

__all__ = [
    "KEPT_ATTRIBUTES",
    "Numeric",
    "PollContent",
    "build_poll_result",
    "decode_float",
    "encode_float",
    "parse_user_data",
    "redact_user_data",
]

SESSION_ID = 0xE100
ROIV, RORS, ROER, ROLRS = 1, 2, 3, 5
CMD_EVENT_REPORT, CMD_CONFIRMED_EVENT_REPORT, CMD_CONFIRMED_ACTION = 0, 1, 7
NOM_ACT_POLL_MDIB_DATA, NOM_ACT_POLL_MDIB_DATA_EXT = 0x0C16, 0xF13B
NOM_NOTI_MDS_CREAT = 0x0D06
NOM_MOC_VMO_METRIC_NU, NOM_MOC_VMS_MDS = 6, 33
NOM_PART_OBJ = 1
ATTR_NU_VAL_OBS, ATTR_NU_CMPD_VAL_OBS = 0x0950, 0x094B
ATTR_DEV_AL_COND, ATTR_AL_MON_T_AL_LIST, ATTR_VMS_MDS_STAT = 0x0916, 0x0904, 0x09A7
#: attributes whose values survive redaction (what this codec decodes)
KEPT_ATTRIBUTES = frozenset(
    {
        ATTR_NU_VAL_OBS,
        ATTR_NU_CMPD_VAL_OBS,
        ATTR_DEV_AL_COND,
        ATTR_AL_MON_T_AL_LIST,
        ATTR_VMS_MDS_STAT,
    }
)
#: FLOAT-Type special values
FLOAT_NAN, FLOAT_NRES, FLOAT_PINF, FLOAT_NINF = 0x007FFFFF, 0x00800000, 0x007FFFFE, 0x00800002
_SPECIAL = {FLOAT_NAN, FLOAT_NRES, FLOAT_PINF, FLOAT_NINF, 0x00800001}


def decode_float(raw: int) -> float:
    """FLOAT-Type: signed 8-bit exponent, signed 24-bit mantissa; NaN for the specials.

    >>> decode_float(0xFF0003E9), decode_float(0x00000062), decode_float(FLOAT_NAN)
    (100.1, 98.0, nan)
    """
    if raw in _SPECIAL:
        return float("nan")
    exponent = (raw >> 24) - 256 if raw >> 31 else raw >> 24
    mantissa = raw & 0xFFFFFF
    if mantissa & 0x800000:
        mantissa -= 1 << 24
    return mantissa / 10**-exponent if exponent < 0 else float(mantissa * 10**exponent)


def encode_float(value: float) -> int:
    """The FLOAT-Type that decodes to exactly ``value``; ValueError if there is none."""
    if value != value:
        return FLOAT_NAN
    if abs(value) > 0x7FFFFD * 10**8:
        raise ValueError(f"{value!r} is beyond the IntelliVue FLOAT-Type range")
    for exponent in range(-8, 9):
        scale = 10.0 ** abs(exponent)
        mantissa = round(value * scale if exponent <= 0 else value / scale)
        if -0x7FFFFD <= mantissa <= 0x7FFFFD:
            raw = ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF)
            if decode_float(raw) == value:
                return raw
    raise ValueError(f"{value!r} has no exact IntelliVue FLOAT-Type")


@dataclass(frozen=True, slots=True)
class Numeric:
    """One NuObsValue: SCADA term code, measurement state bits, unit code, value."""

    physio_id: int
    state: int
    unit_code: int
    value: float


@dataclass
class PollContent:
    """What a frame's user data holds that the codec turns into readings."""

    kind: str  # "poll", "mds_create", "other"
    numerics: list[Numeric]
    #: (max technical alarm type, active technical alarms, MDS status), each None when absent
    max_t_alarm: int | None = None
    t_alarms: int | None = None
    mds_status: int | None = None


class _Reader:
    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data, self.pos, self.end = data, start, len(data) if end is None else end

    def u16(self) -> int:
        return self.unpack(">H")

    def unpack(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        if self.pos + size > self.end:
            raise DecodeError(f"IntelliVue PDU cut short at byte {self.pos}")
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return int(value)

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.end:
            raise DecodeError(f"IntelliVue PDU field of {n} bytes overruns byte {self.end}")
        self.pos += n

    def sub(self, length: int) -> _Reader:
        """A reader over the next ``length`` bytes (which this one steps over)."""
        start = self.pos
        self.skip(length)
        return _Reader(self.data, start, start + length)


def _attributes(r: _Reader, out: PollContent, zero: bytearray | None) -> None:
    """Walk one AttributeList; decode what is known; zero unknown values in ``zero``."""
    count, length = r.u16(), r.u16()
    body = r.sub(length)
    for _ in range(count):
        attr, alen = body.u16(), body.u16()
        value = body.sub(alen)
        if attr not in KEPT_ATTRIBUTES:
            if zero is not None:
                zero[value.pos : value.end] = bytes(alen)
            continue
        if attr == ATTR_NU_VAL_OBS:
            out.numerics.append(_numeric(value))
        elif attr == ATTR_NU_CMPD_VAL_OBS:
            n, _ = value.u16(), value.u16()
            out.numerics.extend(_numeric(value) for _ in range(n))
        elif attr == ATTR_DEV_AL_COND:
            value.skip(6)  # device_alert_state, al_stat_chg_cnt, max_p_alarm
            out.max_t_alarm = max(out.max_t_alarm or 0, value.u16())
        elif attr == ATTR_AL_MON_T_AL_LIST:
            out.t_alarms = (out.t_alarms or 0) + value.u16()
        else:
            out.mds_status = value.u16()


def _numeric(r: _Reader) -> Numeric:
    physio, state, unit = r.u16(), r.u16(), r.u16()
    return Numeric(physio, state, unit, decode_float(r.unpack(">I")))


def _walk(data: bytes, zero: bytearray | None) -> PollContent:
    r = _Reader(data)
    if len(data) < 4 or r.u16() != SESSION_ID:
        return PollContent("other", [])  # association control PDUs and the like
    r.u16()  # presentation context
    ro_type, ro_len = r.u16(), r.u16()
    body = r.sub(ro_len)
    if r.pos != r.end:
        raise DecodeError("IntelliVue PDU has bytes after its remote-operation APDU")
    if ro_type == ROLRS:
        body.skip(2)  # linked id: state, count
    if ro_type in (RORS, ROLRS):
        body.u16()  # invoke id
        cmd, cmd_len = body.u16(), body.u16()
        if cmd != CMD_CONFIRMED_ACTION:
            return PollContent("other", [])
        act = body.sub(cmd_len)
        act.skip(6)  # managed object
        action, act_len = act.u16(), act.u16()
        if action not in (NOM_ACT_POLL_MDIB_DATA, NOM_ACT_POLL_MDIB_DATA_EXT):
            return PollContent("other", [])
        reply = act.sub(act_len)
        reply.skip(2 if action == NOM_ACT_POLL_MDIB_DATA else 4)  # poll_number [, sequence_no]
        reply.skip(4 + 8 + 4 + 2)  # rel time, abs time, polled type, attribute group
        out = PollContent("poll", [])
        contexts, ctx_len = reply.u16(), reply.u16()
        ctx_body = reply.sub(ctx_len)
        for _ in range(contexts):
            ctx_body.u16()  # context id
            polls, poll_len = ctx_body.u16(), ctx_body.u16()
            poll_body = ctx_body.sub(poll_len)
            for _ in range(polls):
                poll_body.u16()  # object handle
                _attributes(poll_body, out, zero)
        return out
    if ro_type == ROIV:
        body.u16()  # invoke id
        cmd, cmd_len = body.u16(), body.u16()
        if cmd not in (CMD_EVENT_REPORT, CMD_CONFIRMED_EVENT_REPORT):
            return PollContent("other", [])
        ev = body.sub(cmd_len)
        ev.skip(6 + 4)  # managed object, event time
        event, ev_len = ev.u16(), ev.u16()
        if event != NOM_NOTI_MDS_CREAT:
            return PollContent("other", [])
        info = ev.sub(ev_len)
        info.skip(6)  # the MDS object id
        out = PollContent("mds_create", [])
        _attributes(info, out, zero)
        return out
    return PollContent("other", [])


def parse_user_data(data: bytes) -> PollContent:
    """Decode a frame's user data; :class:`DecodeError` when its lengths do not add up."""
    return _walk(data, None)


def redact_user_data(data: bytes) -> bytes | None:
    """``data`` with every attribute value this codec does not decode zeroed.

    None when the structure cannot be walked, or is not a data-export PDU
    this codec knows: then nothing can be shown to be free of patient data.
    """
    zero = bytearray(data)
    try:
        content = _walk(data, zero)
    except DecodeError:
        return None
    return bytes(zero) if content.kind != "other" else None


def _u16(*values: int) -> bytes:
    return struct.pack(f">{len(values)}H", *values)


def build_poll_result(numerics: list[Numeric], poll_number: int = 1) -> bytes:
    """User data of a single-context poll result carrying ``numerics`` (one object each)."""
    if len(numerics) * 20 > 0xFFFF - 64:
        raise ValueError(f"{len(numerics)} numerics do not fit one IntelliVue frame")
    polls = b"".join(
        _u16(i + 1, 1, 14, ATTR_NU_VAL_OBS, 10, n.physio_id, n.state, n.unit_code)
        + struct.pack(">I", encode_float(n.value))
        for i, n in enumerate(numerics)
    )
    contexts = _u16(0, len(numerics), len(polls)) + polls
    reply = (
        _u16(poll_number)
        + struct.pack(">I", 0)
        + b"\xff" * 8  # absolute time not set: the gateway stamps receipt
        + _u16(NOM_PART_OBJ, NOM_MOC_VMO_METRIC_NU, 0)
        + _u16(1, len(contexts))
        + contexts
    )
    action = _u16(NOM_MOC_VMS_MDS, 0, 0, NOM_ACT_POLL_MDIB_DATA, len(reply)) + reply
    rors = _u16(1, CMD_CONFIRMED_ACTION, len(action)) + action
    pdu = _u16(SESSION_ID, 2, RORS, len(rors)) + rors
    if len(pdu) > 0xFFFF:
        raise ValueError(f"{len(numerics)} numerics do not fit one IntelliVue frame")
    return pdu
