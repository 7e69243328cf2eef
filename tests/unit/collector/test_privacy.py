"""Privacy, per protocol: device health is kept, patient data dropped, patient identity never kept.

For each device protocol: with its default config only device-health
signals come out of ``parse``; and what a dead letter keeps of a frame
(``collector.deadletter.redacted``, the daemon's path) holds no patient
identity, for valid and for corrupt frames alike. MEDIBUS and DRI carry no
patient identity at all (no names, ids or dates of birth on those links), so
their redaction is the identity and only the allow-list applies.
"""

from __future__ import annotations

import struct

import pytest

from htm_edge.collector.deadletter import carries_patient_data, redacted
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.datex import DatexProtocol
from htm_edge.collector.protocols.hl7 import Hl7Protocol, mllp
from htm_edge.collector.protocols.intellivue import IntellivueProtocol
from htm_edge.collector.protocols.intellivue import wire as mib_wire
from htm_edge.collector.protocols.intellivue_pdu import Numeric, build_poll_result
from htm_edge.collector.protocols.medibus import MedibusProtocol, response
from htm_edge.collector.reading import Reading
from tests.unit.collector.test_device_protocols import PCD01

NOW = 1_767_225_600.0


def frame(payload: bytes) -> Frame:
    return Frame(payload, "serial:/dev/ttyS0", NOW, "DEV-1")


def _demographics_poll() -> bytes:
    """A poll result of a patient-demographics object: family name, given name, id, birth date."""
    attrs = b"".join(
        struct.pack(">HH", attr, len(value)) + value
        for attr, value in [
            (0x095C, b"\x00\x06Doe\x00\x00\x00"),
            (0x095D, b"\x00\x04Jane"),
            (0x095A, b"\x00\x0aMRN1234567"),
            (0x0958, b"\x19\x70\x01\x01\x00\x00\x00\x00"),
        ]
    )
    poll = struct.pack(">HHH", 1, 4, len(attrs)) + attrs
    ctx = struct.pack(">HHH", 0, 1, len(poll)) + poll
    reply = struct.pack(">HI", 1, 0) + b"\xff" * 8 + struct.pack(">HHH", 1, 42, 0)
    reply += struct.pack(">HH", 1, len(ctx)) + ctx
    action = struct.pack(">5H", 33, 0, 0, 0x0C16, len(reply)) + reply
    rors = struct.pack(">3H", 1, 7, len(action)) + action
    return mib_wire(struct.pack(">4H", 0xE100, 2, 2, len(rors)) + rors)


SECRETS = (b"Doe", b"Jane", b"MRN123", b"\x19\x70\x01\x01", b"daughter", b"19700101")


def test_medibus_keeps_alarm_counts_drops_measurements() -> None:
    p = MedibusProtocol()
    assert p.parse(frame(response(0x24, b"05  1207 4.5"))) == []
    assert [r.signal for r in p.parse(frame(response(0x27, b"")))] == ["alarms_active_cp1"]
    assert not carries_patient_data(p)


def test_datex_keeps_device_health_drops_physiology() -> None:
    p = DatexProtocol(signals=[])
    raw = DatexProtocol(signals=["*"]).encode(
        [
            Reading("S5", "t1_temp", 36.5, NOW - 5, ""),
            Reading("S5", "co2_amb_press", 760.0, NOW - 5, ""),
        ]
    )
    assert p.parse(frame(raw)) == []
    assert {r.signal for r in DatexProtocol().parse(frame(raw))} == {
        "co2_amb_press",
        "clock_offset_s",
    }
    assert not carries_patient_data(p)


def test_intellivue_numerics_withheld_demographics_never_kept() -> None:
    p = IntellivueProtocol()
    vitals = mib_wire(build_poll_result([Numeric(19384, 0, 544, 97.0)]))
    assert p.parse(frame(vitals)) == [] and p.filter.withheld == 1
    demo = _demographics_poll()
    assert p.parse(frame(demo)) == []  # demographics are never decoded
    kept = redacted(p, frame(demo)).payload
    assert not [s for s in SECRETS if s in kept]
    assert p.parse(frame(kept)) == []  # still a valid frame after redaction


@pytest.mark.parametrize("where", [3, 20, -3])
def test_intellivue_corrupt_frame_is_masked_in_dead_letters(where: int) -> None:
    demo = bytearray(_demographics_poll())
    demo[where] ^= 0x01  # the FCS fails: nothing can be shown free of patient data
    kept = redacted(IntellivueProtocol(), frame(bytes(demo))).payload
    assert not [s for s in SECRETS if s in kept] and len(kept) == len(demo)


@pytest.mark.parametrize(
    "payload",
    [
        mllp(PCD01.encode()),
        mllp(PCD01.replace("|81.5|", "|x|").encode()),  # malformed observation: AE
        mllp(b"Doe^Jane MRN123456 19700101 not HL7 at all"),  # not HL7: AR
        PCD01.encode()[:150],  # cut short, no MLLP framing
    ],
)
def test_hl7_dead_letters_hold_no_patient_identity(payload: bytes) -> None:
    kept = redacted(Hl7Protocol(), Frame(payload, "mllp:x", NOW, None)).payload
    assert not [s for s in SECRETS if s in kept]


def test_a_failing_redaction_keeps_nothing() -> None:
    class Broken(Hl7Protocol):
        def redact(self, payload: bytes) -> bytes:
            raise RuntimeError("bug")

    assert redacted(Broken(), Frame(b"Doe", "x", NOW, None)).payload == b""
