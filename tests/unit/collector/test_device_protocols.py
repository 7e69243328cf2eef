"""Device protocols against the worked examples of their documents (domain.md §3); sessions.

Every byte string here comes from the protocol's description (check values
computed by hand there), not from our encoder, so the codecs are held to the
documents rather than to our own simulator.
"""

from __future__ import annotations

import math
import struct

import pytest

from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.datex import (
    BASIC_FIELDS,
    DatexDeframer,
    DatexProtocol,
    build_record,
    escape,
    wire,
)
from htm_edge.collector.protocols.hl7 import Hl7Protocol, Hl7Reject, MllpDeframer, ack, mllp
from htm_edge.collector.protocols.intellivue import (
    IntellivueDeframer,
    IntellivueProtocol,
    fcs16,
    unwire,
)
from htm_edge.collector.protocols.intellivue import wire as mib_wire
from htm_edge.collector.protocols.intellivue_pdu import decode_float
from htm_edge.collector.protocols.medibus import (
    ICC,
    NOP,
    MedibusDeframer,
    MedibusProtocol,
    MedibusProtocolConfig,
    command,
    response,
)
from htm_edge.collector.protocols.medibus_session import MedibusSession
from htm_edge.collector.reading import Quality

NOW = 1_767_225_600.0


def frame(payload: bytes, hint: str | None = "DEV-1", at: float = NOW) -> Frame:
    return Frame(payload, "serial:/dev/ttyS0", at, hint)


class TestMedibusVectors:
    @pytest.mark.parametrize(
        ("code", "wire_hex"),
        [
            (0x30, "1B 30 34 42 0D"),
            (0x51, "1B 51 36 43 0D"),
            (0x52, "1B 52 36 44 0D"),
            (0x24, "1B 24 33 46 0D"),
        ],
    )
    def test_commands_of_the_document(self, code: int, wire_hex: str) -> None:
        assert command(code) == bytes.fromhex(wire_hex)

    def test_measured_data_response_of_the_document(self) -> None:
        raw = bytes.fromhex("01 24 30 35 20 20 31 32 32 44 0D")  # data code 05, value "  12"
        assert response(0x24, b"05  12") == raw
        p = MedibusProtocol(signals=["cp1_*"], units={"cp1_05": "L/min"})
        [r] = p.parse(frame(raw))
        assert (r.device_id, r.signal, r.value, r.unit, r.ts) == (
            "DEV-1",
            "cp1_05",
            12.0,
            "L/min",
            NOW,
        )

    def test_bad_checksum_is_rejected(self) -> None:
        with pytest.raises(DecodeError, match="checksum"):
            MedibusProtocol().parse(frame(bytes.fromhex("01 24 30 35 20 20 31 32 32 45 0D")))

    def test_a_lower_case_checksum_is_corruption_not_a_match(self) -> None:
        # "2d" for "2D": one flipped bit (0x20) that a case-blind comparison would pass
        with pytest.raises(DecodeError, match="checksum"):
            MedibusProtocol().parse(frame(bytes.fromhex("01 24 30 35 20 20 31 32 32 64 0D")))

    def test_measured_data_are_patient_data_withheld_by_default(self) -> None:
        p = MedibusProtocol()
        assert p.parse(frame(bytes.fromhex("01 24 30 35 20 20 31 32 32 44 0D"))) == []
        assert p.filter.withheld == 1

    def test_non_numeric_value_is_an_invalid_reading(self) -> None:
        [r] = MedibusProtocol(signals=["*"]).parse(frame(response(0x24, b"07----")))
        assert r.quality is Quality.INVALID and math.isnan(r.value)

    def test_alarms_and_text_messages_are_counted(self) -> None:
        p = MedibusProtocol()
        alarms = b"\x3005APNEA       " + b"\x3112O2 SENS INOP"
        [a] = p.parse(frame(response(0x27, alarms)))
        assert (a.signal, a.value) == ("alarms_active_cp1", 2.0)
        [t] = p.parse(frame(response(0x2A, b"01" + b"3" + b"STB\x03")))
        assert (t.signal, t.value) == ("text_messages_active", 1.0)

    def test_frames_name_no_device(self) -> None:
        with pytest.raises(DecodeError, match="device_id"):
            MedibusProtocol(signals=["*"]).parse(frame(response(0x24, b"05  12"), hint=None))

    def test_deframer_resynchronises_and_steps_over_realtime_bytes(self) -> None:
        d = MedibusDeframer()
        nop = command(NOP)
        stream = b"2D\r" + b"\x1b\x24" + nop + b"\x85\x90" + nop[:2] + b"\xa0" + nop[2:]
        assert d.feed(stream[:7]) + d.feed(stream[7:]) == [nop, nop]
        assert (d.skipped_bytes, d.realtime_bytes, d.invalid) == (5, 3, 0)


class TestMedibusSession:
    def make(self) -> tuple[MedibusSession, list[float]]:
        now = [100.0]
        cfg = MedibusProtocolConfig(poll=["cp1"], poll_interval_s=5, keepalive_s=1)
        return MedibusSession(cfg, clock=lambda: now[0]), now

    def test_initialise_identify_poll_keepalive(self) -> None:
        s, now = self.make()
        assert s.on_open() == [command(ICC)]
        assert s.on_frame(response(ICC)) == [command(0x52)]
        assert s.on_frame(response(0x52, b"0161'Evita4'04.01:06.00")) == [command(0x24)]
        assert s.on_frame(response(0x24, b"05  12")) == []
        now[0] += 1.5
        assert s.poll(now[0]) == [command(NOP)]  # nothing sent for keepalive_s
        assert s.on_frame(response(NOP)) == []
        now[0] += 5
        assert s.poll(now[0]) == [command(0x24)]  # the poll fell due

    def test_echoes_device_commands_and_naks_bad_frames(self) -> None:
        s, _ = self.make()
        assert s.on_frame(command(ICC)) == [response(ICC)]  # ours is still outstanding
        bad = bytearray(response(0x24, b"05  12"))
        bad[-2] ^= 1
        assert s.on_frame(bytes(bad)) == [response(0x15)]
        assert s.naks_sent == 1

    def test_restarts_after_three_unanswered_commands(self) -> None:
        s, now = self.make()
        s.on_open()
        out: list[bytes] = []
        for _ in range(3):
            now[0] += 4
            out = s.poll(now[0])
        assert out == [command(ICC)] and s.state == "init"


class TestIntellivueVectors:
    def test_fcs16_check_value(self) -> None:
        assert fcs16(b"123456789") == 0x906E

    def test_worked_frame_of_the_document(self) -> None:
        raw = bytes.fromhex("C0 11 01 00 02 7D E0 01 CB D4 C1")
        assert fcs16(bytes.fromhex("11 01 00 02 C0 01")) == 0xD4CB
        assert mib_wire(bytes.fromhex("C0 01")) == raw
        assert unwire(raw) == bytes.fromhex("C0 01")
        assert IntellivueProtocol().parse(frame(raw)) == []  # valid, not a poll result

    def test_abort_sequence_drops_the_frame(self) -> None:
        d = IntellivueDeframer()
        raw = bytes.fromhex("C0 11 01 00 02 7D E0 01 CB D4 C1")
        assert d.feed(b"\xc0\x11\x01\x7d\xc1" + raw) == [raw]
        assert d.skipped_bytes == 5

    def test_float_type(self) -> None:
        assert decode_float(0xFF0003E9) == 100.1  # exponent -1, mantissa 1001
        assert decode_float(0x02000003) == 300.0
        assert math.isnan(decode_float(0x007FFFFF))

    def test_device_status_attributes(self) -> None:
        # an MDS-create event report holding device alert condition and technical alarm list
        attrs = (
            struct.pack(">HH", 0x0916, 10) + struct.pack(">5H", 0, 1, 0, 2, 0)
            + struct.pack(">HH", 0x0904, 4) + struct.pack(">HH", 3, 0)
            + struct.pack(">HH", 0x09A7, 2) + struct.pack(">H", 6)
            + struct.pack(">HH", 0x095C, 6) + b"\x00\x04Doe\x00"  # patient family name
        )  # fmt: skip
        info = struct.pack(">3H", 33, 0, 0) + struct.pack(">HH", 4, len(attrs)) + attrs
        event = struct.pack(">3HIHH", 33, 0, 0, 0, 0x0D06, len(info)) + info
        roiv = struct.pack(">3H", 1, 1, len(event)) + event
        pdu = struct.pack(">4H", 0xE100, 2, 1, len(roiv)) + roiv
        p = IntellivueProtocol()
        raw = mib_wire(pdu)
        got = {r.signal: r.value for r in p.parse(frame(raw))}
        assert got == {
            "technical_alarms_active": 3.0,
            "max_technical_alarm": 2.0,
            "mds_status": 6.0,
        }
        assert b"Doe" in raw and b"Doe" not in p.redact(raw)
        assert {r.signal for r in p.parse(frame(p.redact(raw)))} == set(got)


class TestDatex:
    def test_escaping_of_the_document(self) -> None:
        assert escape(b"\x7e") == b"\x7d\x5e" and escape(b"\x7d") == b"\x7d\x5d"

    def test_checksum_is_the_byte_sum_of_the_unescaped_record(self) -> None:
        record = build_record(0, [])
        framed = wire(record)
        assert framed[0] == framed[-1] == 0x7E and framed[-2] == sum(record) & 0xFF
        assert len(record) == 40

    def _record(self, **fields: int) -> bytes:
        union = bytearray(struct.pack("<h", -32766) * 135)
        for name, raw in fields.items():
            offset, status, _, _ = BASIC_FIELDS[name]
            assert status is not None
            struct.pack_into("<I", union, status, 1)
            struct.pack_into("<h", union, offset, raw)
        sub = struct.pack("<I", int(NOW)) + bytes(union) + bytes(4)
        return wire(build_record(0, [(1, sub)], int(NOW)))

    def test_sentinels_and_scaling(self) -> None:
        p = DatexProtocol(signals=["*"])
        raw = self._record(t1_temp=3685, co2_amb_press=7605, nibp_sys=-32767, spo2_spo2=-32763)
        got = {r.signal: r for r in p.parse(frame(raw, at=NOW + 2))}
        assert got["t1_temp"].value == 36.85 and got["t1_temp"].unit == "°C"
        assert got["co2_amb_press"].value == 760.5
        assert got["nibp_sys"].quality is Quality.INVALID  # -32767: invalid
        assert got["spo2_spo2"].quality is Quality.INVALID  # -32763: over range
        assert got["clock_offset_s"].value == -2.0  # device clock 2 s behind the gateway
        assert "spo2_pr" not in got  # -32766: not updated, no reading
        assert got["t1_temp"].ts == NOW  # the monitor's record time

    def test_physiological_fields_are_withheld_by_default(self) -> None:
        got = DatexProtocol().parse(frame(self._record(t1_temp=3685, co2_amb_press=7605)))
        assert {r.signal for r in got} == {"co2_amb_press", "clock_offset_s"}

    def test_deframer_resynchronises_mid_frame(self) -> None:
        a, b = self._record(t1_temp=1), self._record(t1_temp=2)
        d = DatexDeframer()
        assert d.feed(a[150:] + b"\x7e\x01\x02" + b) == [b]
        assert d.frames == 1 and d.skipped_bytes > 0


PCD01 = (
    "MSH|^~\\&|GW^0012340000ABCDEF^EUI-64|ICU-3|||20260101120000+0000||ORU^R01^ORU_R01|MSG00042|P|2.6|||AL|NE\r"
    "PID|||MRN123456^^^HOSP^MR||Doe^Jane||19700101|F\r"
    "PV1||I|ICU^3^12\r"
    "OBR|1|||182777000^monitoring of patient^SCT|||20260101120000+0000\r"
    "NTE|1||Patient anxious, called daughter\r"
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1|||||||X|||||||0012340000ABCDEF^B40_GE\r"
    "OBX|2|NM|150033^MDC_PRESS_BLD_ART_SYS^MDC|1.13.1.1|112|266016^MDC_DIM_MMHG^MDC|||||R\r"
    "OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||R\r"
    "OBX|4|NM|batt_charge_pct^Battery charge^LOCAL|1.0.0.1|81.5|%^%^UCUM|||||R|||"
    "20260101115959+0000\r"
    "OBX|5|ST|note^Note^LOCAL|1.0.0.2|Jane Doe moved to bed 12||||||R\r"
)


class TestHl7:
    def test_pcd01_numeric_observations(self) -> None:
        p = Hl7Protocol()
        got = p.parse(Frame(mllp(PCD01.encode()), "mllp:x", NOW, None))
        [batt] = got  # physiological MDC observations are withheld by default
        assert (batt.device_id, batt.signal, batt.value, batt.unit) == (
            "0012340000ABCDEF",
            "batt_charge_pct",
            81.5,
            "%",
        )
        assert batt.ts == 1767268799.0  # OBX-14
        every = Hl7Protocol(config=type(p.config)(signals=["*"]))
        art = {r.signal: r for r in every.parse(Frame(mllp(PCD01.encode()), "m", NOW, None))}
        assert (
            art["MDC_PRESS_BLD_ART_SYS"].unit == "mmHg"
            and art["MDC_PRESS_BLD_ART_SYS"].value == 112
        )
        assert art["MDC_PULS_OXIM_SAT_O2"].ts == 1767268800.0  # OBR-7
        assert (
            art["MDC_PULS_OXIM_SAT_O2"].device_id == "0012340000ABCDEF"
        )  # the MDS header's OBX-18

    def test_redaction_removes_patient_identity_and_keeps_readings(self) -> None:
        p = Hl7Protocol()
        raw = mllp(PCD01.encode())
        clean = p.redact(raw)
        for secret in (b"Doe", b"Jane", b"MRN123456", b"19700101", b"daughter", b"bed 12", b"PID"):
            assert secret not in clean
        assert b"MSG00042" in clean  # MSH-10 stays, so the ACK can name it
        assert p.parse(Frame(clean, "m", NOW, None)) == p.parse(Frame(raw, "m", NOW, None))

    def test_ack_echoes_the_control_id(self) -> None:
        reply = ack(Hl7Protocol(), mllp(PCD01.encode()), "AA")
        assert b"MSA|AA|MSG00042" in reply and reply.startswith(b"\x0bMSH|")

    def test_reject_and_error(self) -> None:
        p = Hl7Protocol()
        with pytest.raises(Hl7Reject):
            p.parse(Frame(mllp(b"hello"), "m", NOW, None))
        with pytest.raises(Hl7Reject, match="ORU"):
            p.parse(Frame(mllp(PCD01.replace("ORU^R01", "ADT^A01").encode()), "m", NOW, None))
        bad = PCD01.replace("|81.5|", "|eighty|")
        with pytest.raises(DecodeError, match="not a number") as info:
            p.parse(Frame(mllp(bad.encode()), "m", NOW, None))
        assert not isinstance(info.value, Hl7Reject)

    def test_mllp_split_and_joined_frames(self) -> None:
        a, b = mllp(b"MSH|^~\\&|A\r"), mllp(b"MSH|^~\\&|B\r")
        d = MllpDeframer()
        stream = b"noise" + a + b
        got = [f for i in range(0, len(stream), 3) for f in d.feed(stream[i : i + 3])]
        assert got == [a, b] and d.skipped_bytes == 5
