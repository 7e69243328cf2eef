"""The JSON payload codec: round-trips, and garbage is a DecodeError, never a crash."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols import JsonProtocol, make_protocol
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.reading import Quality, Reading

names = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


def frame(payload: bytes, hint: str | None = None) -> Frame:
    return Frame(payload, "mqtt:htm/s/dev/telemetry", 1.0, hint)


@given(
    device=names,
    ts=st.floats(min_value=1.0, max_value=4e9),
    signals=st.dictionaries(names, st.one_of(finite, st.none()), min_size=1, max_size=6),
)
def test_encode_parse_round_trip(device: str, ts: float, signals: dict[str, float | None]) -> None:
    readings = [
        Reading(
            device,
            name,
            math.nan if v is None else v,
            ts,
            "u",
            Quality.INVALID if v is None else Quality.GOOD,
        )
        for name, v in signals.items()
    ]
    codec = JsonProtocol()
    parsed = codec.parse(frame(codec.encode(readings), hint=device))
    assert len(parsed) == len(readings)
    for got, want in zip(parsed, readings, strict=True):
        assert (got.device_id, got.signal, got.ts, got.unit) == (
            want.device_id,
            want.signal,
            want.ts,
            want.unit,
        )
        assert got.quality == want.quality
        assert got.value == want.value or (math.isnan(got.value) and math.isnan(want.value))


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(payload: bytes) -> None:
    try:
        readings = JsonProtocol().parse(frame(payload))
    except DecodeError:
        return
    assert all(isinstance(r, Reading) for r in readings)


@given(
    st.recursive(
        st.none() | st.booleans() | finite | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
    )
)
def test_arbitrary_json_never_crashes(doc: object) -> None:
    with contextlib.suppress(DecodeError):
        JsonProtocol().parse(frame(json.dumps(doc).encode()))


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"ts": 5, "signals": {"a": 1}}', "device_id"),
        (b'{"device_id": "d", "signals": {"a": 1}}', "'ts'"),
        (b'{"device_id": "d", "ts": -1, "signals": {"a": 1}}', "positive"),
        (b'{"device_id": "d", "ts": 5, "signals": {}}', "signals"),
        (b'{"device_id": "d", "ts": 5, "signals": {"a": "high"}}', "signals.a"),
        (b'{"device_id": "d", "ts": 5, "signals": {"a": true}}', "signals.a"),
        (b'{"device_id": "d", "ts": 5, "signals": {"a": 1}, "units": {"a": 3}}', "units.a"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(payload: bytes, needle: str) -> None:
    with pytest.raises(DecodeError, match=needle):
        JsonProtocol().parse(frame(payload))


def test_topic_device_must_match_payload_device() -> None:
    payload = b'{"device_id": "MR-01", "ts": 5, "signals": {"a": 1}}'
    with pytest.raises(DecodeError, match="does not match"):
        JsonProtocol().parse(frame(payload, hint="MR-02"))
    # the topic supplies the device when the payload omits it
    (reading,) = JsonProtocol().parse(frame(b'{"ts": 5, "signals": {"a": 1}}', hint="CT-9"))
    assert reading.device_id == "CT-9"


def test_encode_refuses_mixed_devices_and_registry_lookup() -> None:
    with pytest.raises(ValueError):
        JsonProtocol().encode([Reading("a", "x", 1, 1), Reading("b", "x", 1, 1)])
    assert isinstance(make_protocol("json"), JsonProtocol)
    with pytest.raises(KeyError, match="known"):
        make_protocol("hl7")
