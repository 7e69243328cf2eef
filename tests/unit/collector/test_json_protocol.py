"""The JSON payload codec: what it accepts, and a clear reason for everything it rejects.

Garbage of every size is the protocol conformance suite's job
(``test_protocol_conformance.py``); this file pins the JSON-specific rules.
"""

from __future__ import annotations

import json
import math

import pytest

from htm_edge.collector.context import TimestampPolicy
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols import PROTOCOLS, JsonProtocol
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.errors import UnknownTypeError

NOW = 1_767_225_600.0  # 2026-01-01
TS = NOW - 60.0
codec = JsonProtocol(TimestampPolicy(clock=lambda: NOW))


def frame(payload: bytes, hint: str | None = None) -> Frame:
    return Frame(payload, "mqtt:htm/s/dev/telemetry", 1.0, hint)


def doc(**fields: object) -> bytes:
    base: dict[str, object] = {"device_id": "d", "ts": TS, "signals": {"a": 1}}
    base.update(fields)
    return json.dumps(base).encode()


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"[" * 100_000, "nests too deeply"),
        (b'{"ts": 5, "signals": {"a": 1}}', "device_id"),
        (doc(ts=None), "'ts'"),
        (doc(ts=-1), "before"),
        (doc(ts=TS * 1000), "milliseconds"),
        (doc(ts=32_503_680_000.0), "ahead of the gateway clock"),  # the year 3000
        (doc(device_id="bad id"), "device id 'bad id'"),
        (doc(device_id=""), "device id"),
        (doc(signals={}), "signals"),
        (doc(signals={"": 1}), "signal name ''"),
        (doc(signals={"a b": 1}), "signal name 'a b'"),
        (doc(signals={"a": "high"}), "signals.a"),
        (doc(signals={"a": True}), "signals.a"),
        (doc(units={"a": 3}), "units.a"),
        (doc(units=[]), "'units'"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(payload: bytes, needle: str) -> None:
    with pytest.raises(DecodeError, match=needle):
        codec.parse(frame(payload))


def test_huge_number_literals_are_decode_errors_not_crashes() -> None:
    for digits in (400, 5_000, 100_000):
        payload = b'{"device_id": "d", "ts": %d, "signals": {"a": %s}}' % (TS, b"9" * digits)
        with pytest.raises(DecodeError, match=r"signals\.a is too large for a float"):
            codec.parse(frame(payload))
    with pytest.raises(DecodeError, match="too large"):
        codec.parse(frame(doc(signals={"a": 0}).replace(b"0}}", b"1e999}}")))


def test_null_nan_and_infinity_are_kept_as_invalid_readings() -> None:
    payload = (
        b'{"device_id": "d", "ts": %d, "signals": {"a": null, "b": NaN, "c": 2, "d": -Infinity}}'
        % TS
    )
    a, b, c, d = codec.parse(frame(payload))
    assert [r.quality for r in (a, b, c, d)] == [
        Quality.INVALID,
        Quality.INVALID,
        Quality.GOOD,
        Quality.INVALID,
    ]
    assert math.isnan(a.value) and math.isnan(d.value) and c.value == 2.0


def test_payloads_over_max_bytes_are_rejected() -> None:
    small = JsonProtocol(TimestampPolicy(clock=lambda: NOW), max_bytes=2048)
    padded = json.dumps({"device_id": "d", "ts": TS, "signals": {"a": 1}, "pad": "x" * 4096})
    with pytest.raises(DecodeError, match=r"payload of \d+ bytes is over max_bytes \(2048\)"):
        small.parse(frame(padded.encode()))
    assert small.parse(frame(doc()))[0].value == 1.0


def test_topic_device_must_match_payload_device_and_be_valid() -> None:
    with pytest.raises(DecodeError, match="does not match"):
        codec.parse(frame(doc(device_id="MR-01"), hint="MR-02"))
    with pytest.raises(DecodeError, match="topic: device id 'bad id'"):
        codec.parse(frame(doc(device_id="MR-01"), hint="bad id"))
    # the topic supplies the device when the payload omits it
    (reading,) = codec.parse(frame(json.dumps({"ts": TS, "signals": {"a": 1}}).encode(), "CT-9"))
    assert reading.device_id == "CT-9"


def test_timestamp_window_follows_the_gateway_clock() -> None:
    later = JsonProtocol(TimestampPolicy(clock=lambda: NOW + 10 * 86_400.0))
    ahead = doc(ts=NOW + 5 * 86_400.0)
    with pytest.raises(DecodeError, match="ahead"):
        codec.parse(frame(ahead))
    assert later.parse(frame(ahead))[0].ts == NOW + 5 * 86_400.0


def test_encode_refuses_mixed_devices_and_the_registry_names_valid_types() -> None:
    with pytest.raises(ValueError):
        codec.encode([Reading("a", "x", 1, TS), Reading("b", "x", 1, TS)])
    assert PROTOCOLS["json"] is JsonProtocol
    valid = ", ".join(PROTOCOLS.names())
    with pytest.raises(
        UnknownTypeError, match=f"unknown protocol type 'modbus'; valid types: {valid}"
    ):
        PROTOCOLS["modbus"]


def test_a_batch_carries_several_samples_and_one_bad_sample_rejects_it_whole() -> None:
    batch = [
        {"device_id": "MR-01", "ts": TS, "signals": {"a": 1}},
        {"device_id": "MR-01", "ts": TS + 60, "signals": {"a": 2}},
        {"device_id": "CT-02", "ts": TS, "signals": {"b": 3}, "units": {"b": "K"}},
    ]
    readings = codec.parse(frame(json.dumps(batch).encode()))
    assert [(r.device_id, r.signal, r.value, r.ts) for r in readings] == [
        ("MR-01", "a", 1.0, TS),
        ("MR-01", "a", 2.0, TS + 60),
        ("CT-02", "b", 3.0, TS),
    ]
    with pytest.raises(DecodeError, match=r"\[1\]|'ts'"):
        codec.parse(
            frame(json.dumps([batch[0], {"device_id": "MR-01", "signals": {"a": 1}}]).encode())
        )
    with pytest.raises(DecodeError, match="batch must hold 1 to"):
        codec.parse(frame(b"[]"))
    # a topic names one device: every sample of the batch must be that device's
    with pytest.raises(DecodeError, match="does not match the topic"):
        codec.parse(frame(json.dumps(batch).encode(), hint="MR-01"))
