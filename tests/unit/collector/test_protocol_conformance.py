"""Conformance suite of the ``Protocol`` role: every registered protocol must pass it.

* registry key = module name = config ``type``; built through the registry;
* encode -> parse round-trips any valid readings;
* garbage of any size (random bytes, mutations and truncations of valid frames,
  deep nesting, huge literals, megabytes of input) raises :class:`DecodeError`
  and nothing else;
* whatever parses is plausible: valid ids and names, timestamps in the window.

A new protocol is added to :data:`PROTOCOLS` and gets a sample reading set in
:data:`SAMPLES` here; the suite refuses a protocol without one.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from htm_edge.collector.context import IngestContext, TimestampPolicy
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols import PROTOCOLS, Protocol
from htm_edge.collector.protocols.base import SIGNAL_NAME_PATTERN, Frame
from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.inventory import DEVICE_ID_PATTERN

NOW = 1_767_225_600.0
POLICY = TimestampPolicy(clock=lambda: NOW)
CTX = IngestContext(data_dir=Path("unused"), timestamps=POLICY)

#: one valid message's readings per protocol (one device, one timestamp)
SAMPLES: dict[str, list[Reading]] = {
    "json": [
        Reading("MR-01", "helium_level_pct", 81.25, NOW - 60, "%"),
        Reading("MR-01", "coldhead_2nd_stage_k", 4.21, NOW - 60, "K"),
    ],
}

ids = st.from_regex(re.compile(DEVICE_ID_PATTERN.replace("{1,64}", "{1,16}")), fullmatch=True)
names = st.from_regex(re.compile(SIGNAL_NAME_PATTERN.replace("{1,128}", "{1,16}")), fullmatch=True)
values = st.floats(allow_nan=False, allow_infinity=False, width=64)
stamps = st.floats(min_value=POLICY.earliest_ts, max_value=NOW + POLICY.max_ahead_s)
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60)


def protocol(type_name: str) -> Protocol:
    cls = PROTOCOLS[type_name]
    return PROTOCOLS.build(cls.config_model(), CTX)


def valid_frame(type_name: str) -> bytes:
    return protocol(type_name).encode(SAMPLES[type_name])


def parse_or_reject(proto: Protocol, payload: bytes) -> list[Reading]:
    """Parse; a DecodeError is a fine answer, anything else fails the test."""
    try:
        readings = proto.parse(Frame(payload, "test", NOW, None))
    except DecodeError:
        return []
    for r in readings:  # whatever parses is plausible
        assert isinstance(r, Reading)
        assert re.fullmatch(DEVICE_ID_PATTERN, r.device_id)
        assert re.fullmatch(SIGNAL_NAME_PATTERN, r.signal)
        assert POLICY.problem(r.ts) is None
        assert r.usable == (r.quality is Quality.GOOD and math.isfinite(r.value))
    return readings


PARAMS = pytest.mark.parametrize("type_name", sorted(PROTOCOLS))


def test_every_protocol_has_samples() -> None:
    assert set(PROTOCOLS) == set(SAMPLES)


@PARAMS
def test_registry_key_is_module_and_config_type(type_name: str) -> None:
    cls = PROTOCOLS[type_name]
    assert cls.type_name == type_name == cls.__module__.rsplit(".", 1)[1]
    assert cls.config_model().type == type_name
    assert isinstance(protocol(type_name), cls)


@PARAMS
def test_sample_round_trips(type_name: str) -> None:
    proto = protocol(type_name)
    parsed = proto.parse(Frame(valid_frame(type_name), "test", NOW, None))
    assert [(r.device_id, r.signal, r.value, r.ts, r.unit) for r in parsed] == [
        (r.device_id, r.signal, r.value, r.ts, r.unit) for r in SAMPLES[type_name]
    ]


@PARAMS
@relaxed
@given(
    device=ids,
    ts=stamps,
    signals=st.dictionaries(names, st.one_of(values, st.none()), min_size=1, max_size=8),
)
def test_round_trip_of_any_valid_readings(
    type_name: str, device: str, ts: float, signals: dict[str, float | None]
) -> None:
    readings = [
        Reading(
            device,
            n,
            math.nan if v is None else v,
            ts,
            "u",
            Quality.INVALID if v is None else Quality.GOOD,
        )
        for n, v in signals.items()
    ]
    proto = protocol(type_name)
    parsed = proto.parse(Frame(proto.encode(readings), "test", NOW, device))
    assert len(parsed) == len(readings)
    for got, want in zip(parsed, readings, strict=True):
        assert (got.device_id, got.signal, got.ts, got.quality) == (
            want.device_id,
            want.signal,
            want.ts,
            want.quality,
        )
        assert got.value == want.value or (math.isnan(got.value) and math.isnan(want.value))


@PARAMS
@relaxed
@given(payload=st.binary(max_size=8192))
def test_arbitrary_bytes_are_rejected_cleanly(type_name: str, payload: bytes) -> None:
    parse_or_reject(protocol(type_name), payload)


@PARAMS
@relaxed
@given(data=st.data())
def test_mutated_valid_frames_are_rejected_cleanly(type_name: str, data: st.DataObject) -> None:
    payload = bytearray(valid_frame(type_name))
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        i = data.draw(st.integers(0, max(len(payload) - 1, 0)))
        if op == "flip" and payload:
            payload[i] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "cut":
            del payload[i:]
        elif op == "insert":
            payload[i:i] = data.draw(st.binary(min_size=1, max_size=64))
        else:
            payload[i:i] = payload[i : i + 16] * data.draw(st.integers(1, 5000))
    parse_or_reject(protocol(type_name), bytes(payload))


@PARAMS
def test_every_truncation_of_a_valid_frame_is_rejected_cleanly(type_name: str) -> None:
    payload = valid_frame(type_name)
    proto = protocol(type_name)
    for n in range(len(payload)):
        parse_or_reject(proto, payload[:n])


def _hostile(valid: bytes) -> dict[str, bytes]:
    rng = random.Random(7)
    return {
        "4 MB random": rng.randbytes(4 << 20),
        "deep nesting": b"[" * 1_000_000,
        "deep objects": b'{"a":' * 200_000,
        "2 MB digits": b"9" * (2 << 20),
        "2 MB of quotes": b'"' * (2 << 20),
        "valid then 3 MB garbage": valid + rng.randbytes(3 << 20),
        "3 MB of valid frames": valid * ((3 << 20) // len(valid)),
        "NUL bytes": b"\x00" * (1 << 20),
    }


@PARAMS
@pytest.mark.parametrize("case", list(_hostile(b"x")))
def test_megabytes_of_hostile_input_are_rejected_cleanly(type_name: str, case: str) -> None:
    parse_or_reject(protocol(type_name), _hostile(valid_frame(type_name))[case])


@PARAMS
def test_a_large_valid_message_parses(type_name: str) -> None:
    proto = protocol(type_name)
    many = [Reading("BIG-1", f"s{i}", float(i), NOW - 1, "u") for i in range(20_000)]
    assert len(proto.parse(Frame(proto.encode(many), "test", NOW, None))) == 20_000
