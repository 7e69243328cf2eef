"""Conformance suite of the ``Protocol`` role: every registered protocol must pass it.

* registry key = module name = config ``type``; built through the registry;
* encode -> parse round-trips any readings the protocol can carry (its
  :class:`Domain`: MEDIBUS carries 4-character values of data codes, DRI
  scaled 16-bit fields, and so on; a device without a clock gets the time of
  receipt);
* garbage of any size (random bytes, mutations and truncations of valid frames,
  deep nesting, huge literals, megabytes of input) raises :class:`DecodeError`
  and nothing else;
* whatever parses is plausible: valid ids and names, timestamps in the window;
* a stream protocol's deframer finds every frame of a stream split at any
  points and started mid-frame, resynchronises after corruption, counts the
  bytes it skips and the frames whose check fails, and never raises.

A new protocol is added to :data:`PROTOCOLS` and gets a :class:`Domain` in
:data:`DOMAINS` here; the suite refuses a protocol without one.
"""

from __future__ import annotations

import math
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from htm_edge.collector.context import IngestContext, TimestampPolicy
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.line_protocol import to_ns
from htm_edge.collector.protocols import PROTOCOLS, Protocol
from htm_edge.collector.protocols.base import SIGNAL_NAME_PATTERN, Frame
from htm_edge.collector.protocols.datex import BASIC_FIELDS
from htm_edge.collector.protocols.intellivue import PHYSIO_NAMES, UNITS
from htm_edge.collector.protocols.intellivue_pdu import decode_float
from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.inventory import DEVICE_ID_PATTERN

NOW = 1_767_225_600.0
POLICY = TimestampPolicy(clock=lambda: NOW)
CTX = IngestContext(data_dir=Path("unused"), timestamps=POLICY)

ids = st.from_regex(re.compile(DEVICE_ID_PATTERN.replace("{1,64}", "{1,16}")), fullmatch=True)
names = st.from_regex(re.compile(SIGNAL_NAME_PATTERN.replace("{1,128}", "{1,16}")), fullmatch=True)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
stamps = st.floats(min_value=POLICY.earliest_ts, max_value=NOW + POLICY.max_ahead_s)
whole_stamps = st.integers(int(POLICY.earliest_ts), int(NOW + POLICY.max_ahead_s)).map(float)
#: examples per property; HTM_HYPOTHESIS_EXAMPLES=1500 for a deep run (about 90 s)
EXAMPLES = int(os.environ.get("HTM_HYPOTHESIS_EXAMPLES", "60"))
relaxed = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=EXAMPLES
)


@dataclass(frozen=True)
class Domain:
    """What one protocol carries: the readings its encode -> parse round trip covers.

    ``needs_hint``: frames name no device, the transport (a serial port's
    ``device_id``) does. ``device_clock``: timestamps travel in the frame;
    otherwise readings are stamped with the time of receipt. ``config``: the
    protocol section the round trips use (device protocols withhold patient
    observations by default, so they list what the domain carries).
    """

    sample: list[Reading]
    signals: st.SearchStrategy[str]
    values: st.SearchStrategy[float]
    stamps: st.SearchStrategy[float]
    large: list[Reading]
    units: st.SearchStrategy[str] = field(default_factory=lambda: st.just("u"))
    #: its frames carry a check (checksum, FCS) that corruption breaks
    checked: bool = True
    needs_hint: bool = False
    device_clock: bool = True
    config: dict[str, Any] = field(default_factory=dict)
    #: the timestamp as the wire carries it (line protocol: whole microseconds)
    wire_ts: Callable[[float], float] = field(default=lambda ts: ts)
    #: bytes a deframer may consume between frames as idle fill (HDLC-style flags)
    fill: bytes = b""


_MEDIBUS_VALUES = st.one_of(
    st.integers(-999, 9999).map(float),
    st.integers(-99, 999).map(lambda i: i / 10),
    st.integers(0, 99).map(lambda i: i / 100),
)
_MIB_PHYSIO = {f"scada_{c}" for c in PHYSIO_NAMES}
_MIB_VALUES = st.builds(
    lambda m, e: decode_float(((e & 0xFF) << 24) | (m & 0xFFFFFF)),
    st.integers(-0x7FFFFD, 0x7FFFFD),
    st.integers(-4, 4),
)

#: one entry per registered protocol
DOMAINS: dict[str, Domain] = {
    "json": Domain(
        sample=[
            Reading("MR-01", "helium_level_pct", 81.25, NOW - 60, "%"),
            Reading("MR-01", "coldhead_2nd_stage_k", 4.21, NOW - 60, "K"),
        ],
        signals=names,
        values=floats,
        stamps=stamps,
        large=[Reading("BIG-1", f"s{i}", float(i), NOW - 1, "u") for i in range(20_000)],
    ),
    "line": Domain(
        sample=[
            Reading("MR-01", "helium_level_pct", 81.25, NOW - 60, ""),
            Reading("MR-01", "coldhead_2nd_stage_k", 4.21, NOW - 60, ""),
        ],
        signals=names,
        values=floats,
        stamps=stamps,
        large=[Reading("BIG-1", f"s{i}", float(i), NOW - 1, "") for i in range(20_000)],
        units=st.just(""),
        checked=False,
        wire_ts=lambda ts: to_ns(ts) / 10**9,
    ),
    "medibus": Domain(
        sample=[
            Reading("EVITA-1", "leak_l_min", 1.5, NOW, "L/min"),
            Reading("EVITA-1", "cp1_05", 12.0, NOW, ""),
        ],
        signals=st.integers(0, 255).map(lambda c: f"cp1_{c:02X}").filter(lambda n: n != "cp1_C6"),
        values=_MEDIBUS_VALUES,
        stamps=stamps,
        large=[Reading("EVITA-1", f"cp2_{c:02X}", float(c), NOW, "") for c in range(256)],
        needs_hint=True,
        device_clock=False,
        config={
            "signals": ["cp1_*", "cp2_*", "leak_l_min"],
            "names": {"cp1_C6": "leak_l_min"},
            "units": {"cp1_C6": "L/min"},
        },
    ),
    "intellivue": Domain(
        sample=[
            Reading("MX800-1", "MDC_PULS_OXIM_SAT_O2", 97.0, NOW, "%"),
            Reading("MX800-1", "MDC_ECG_HEART_RATE", 72.0, NOW, "/min"),
            Reading("MX800-1", "MDC_PRESS_BLD_NONINV_SYS", 120.5, NOW, "mmHg"),
        ],
        signals=st.one_of(
            st.sampled_from(sorted(PHYSIO_NAMES.values())),
            st.integers(0, 0xFFFF)
            .map(lambda c: f"scada_{c}")
            .filter(lambda n: n not in _MIB_PHYSIO),
        ),
        values=_MIB_VALUES,
        stamps=stamps,
        large=[Reading("MX800-1", f"scada_{61440 + i}", float(i), NOW, "%") for i in range(3000)],
        units=st.sampled_from(sorted(UNITS.values())),
        needs_hint=True,
        device_clock=False,
        config={"signals": ["*"]},
    ),
    "datex": Domain(
        sample=[
            Reading("S5-1", "t1_temp", 36.85, NOW - 10, "°C"),
            Reading("S5-1", "spo2_spo2", 97.25, NOW - 10, "%"),
            Reading("S5-1", "co2_amb_press", 760.5, NOW - 10, "mmHg"),
        ],
        signals=st.sampled_from(sorted(BASIC_FIELDS)),
        values=st.integers(-327, 327).map(float),
        stamps=whole_stamps,
        large=[Reading("S5-1", n, 1.0, NOW - 1, BASIC_FIELDS[n][3]) for n in BASIC_FIELDS],
        needs_hint=True,
        config={"signals": sorted(BASIC_FIELDS)},
        fill=b"\x7e",  # repeated flags between frames are idle fill, not junk
    ),
    "hl7": Domain(
        sample=[
            Reading("0012340000ABCDEF", "helium_level_pct", 81.25, NOW - 60, "%"),
            Reading("0012340000ABCDEF", "MDC_PULS_OXIM_SAT_O2", 97.0, NOW - 60, "%"),
        ],
        signals=names,
        values=floats,
        stamps=st.integers(int(POLICY.earliest_ts) * 4, int(NOW + POLICY.max_ahead_s) * 4).map(
            lambda q: q / 4
        ),
        large=[Reading("CT-01", f"s{i}", float(i), NOW - 1, "u") for i in range(5_000)],
        checked=False,
        config={"signals": ["*"]},
    ),
}


def protocol(type_name: str, domain: bool = False) -> Protocol:
    """The protocol with its default config, or with its domain's config."""
    cls = PROTOCOLS[type_name]
    extra = DOMAINS[type_name].config if domain else {}
    return PROTOCOLS.build(cls.config_model(**extra), CTX)


def valid_frame(type_name: str) -> bytes:
    return protocol(type_name, domain=True).encode(DOMAINS[type_name].sample)


def parse_or_reject(proto: Protocol, payload: bytes, hint: str | None = None) -> list[Reading]:
    """Parse; a DecodeError is a fine answer, anything else fails the test."""
    try:
        readings = proto.parse(Frame(payload, "test", NOW, hint))
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
STREAMS = pytest.mark.parametrize(
    "type_name", sorted(n for n in PROTOCOLS if protocol(n).deframer() is not None)
)


def test_every_protocol_has_a_domain() -> None:
    assert set(PROTOCOLS) == set(DOMAINS)


def _hint(type_name: str, device: str) -> str | None:
    return device if DOMAINS[type_name].needs_hint else None


def _expected_ts(type_name: str, ts: float) -> float:
    domain = DOMAINS[type_name]
    return domain.wire_ts(ts) if domain.device_clock else NOW


@PARAMS
def test_registry_key_is_module_and_config_type(type_name: str) -> None:
    cls = PROTOCOLS[type_name]
    assert cls.type_name == type_name == cls.__module__.rsplit(".", 1)[1]
    assert cls.config_model().type == type_name
    assert isinstance(protocol(type_name), cls)


@PARAMS
def test_sample_round_trips(type_name: str) -> None:
    proto = protocol(type_name, domain=True)
    sample = DOMAINS[type_name].sample
    hint = _hint(type_name, sample[0].device_id)
    parsed = proto.parse(Frame(valid_frame(type_name), "test", NOW, hint))
    assert [(r.device_id, r.signal, r.value, r.ts, r.unit) for r in parsed] == [
        (r.device_id, r.signal, r.value, _expected_ts(type_name, r.ts), r.unit) for r in sample
    ]


@PARAMS
@relaxed
@given(data=st.data(), device=ids)
def test_round_trip_of_any_readings_it_carries(
    type_name: str, data: st.DataObject, device: str
) -> None:
    domain = DOMAINS[type_name]
    ts = data.draw(domain.stamps)
    signals = data.draw(
        st.dictionaries(domain.signals, st.one_of(domain.values, st.none()), min_size=1, max_size=8)
    )
    readings = [
        Reading(
            device,
            n,
            math.nan if v is None else v,
            ts,
            data.draw(domain.units),
            Quality.INVALID if v is None else Quality.GOOD,
        )
        for n, v in signals.items()
    ]
    proto = protocol(type_name, domain=True)
    parsed = proto.parse(Frame(proto.encode(readings), "test", NOW, device))
    assert len(parsed) == len(readings)
    by_signal = sorted(readings, key=lambda r: r.signal)  # DRI decodes in field order
    for got, want in zip(sorted(parsed, key=lambda r: r.signal), by_signal, strict=True):
        assert (got.device_id, got.signal, got.ts, got.quality) == (
            want.device_id,
            want.signal,
            _expected_ts(type_name, want.ts),
            want.quality,
        )
        assert got.value == want.value or (math.isnan(got.value) and math.isnan(want.value))


@PARAMS
@relaxed
@given(payload=st.binary(max_size=8192))
def test_arbitrary_bytes_are_rejected_cleanly(type_name: str, payload: bytes) -> None:
    parse_or_reject(protocol(type_name), payload, "DEV-1")


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
    parse_or_reject(protocol(type_name, domain=True), bytes(payload), "DEV-1")


@PARAMS
def test_every_truncation_of_a_valid_frame_is_rejected_cleanly(type_name: str) -> None:
    payload = valid_frame(type_name)
    proto = protocol(type_name, domain=True)
    for n in range(len(payload)):
        parse_or_reject(proto, payload[:n], "DEV-1")


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
    parse_or_reject(protocol(type_name, domain=True), _hostile(valid_frame(type_name))[case], "D-1")


@PARAMS
def test_the_largest_message_it_carries_parses(type_name: str) -> None:
    proto = protocol(type_name, domain=True)
    large = DOMAINS[type_name].large
    frame = Frame(proto.encode(large), "test", NOW, large[0].device_id)
    assert len(proto.parse(frame)) == len(large)


# ---------------------------------------------------------------- stream deframing
def _feed(proto: Protocol, stream: bytes, cuts: list[int]) -> tuple[list[bytes], Any]:
    deframer = proto.deframer()
    assert deframer is not None
    got: list[bytes] = []
    bounds = sorted(c % (len(stream) + 1) for c in cuts)
    for a, b in zip([0, *bounds], [*bounds, len(stream)], strict=True):
        got += deframer.feed(stream[a:b])
    return got, deframer


@STREAMS
@relaxed
@given(junk=st.binary(max_size=64), cuts=st.lists(st.integers(0, 10**6), max_size=12))
def test_deframer_finds_every_frame_of_a_split_stream(
    type_name: str, junk: bytes, cuts: list[int]
) -> None:
    proto = protocol(type_name, domain=True)
    frames = [valid_frame(type_name) for _ in range(3)]
    got, deframer = _feed(proto, junk + b"".join(frames), cuts)
    assert got[-3:] == frames  # a port opened mid-frame: what came before is junk
    assert deframer.frames == len(got) and deframer.invalid <= len(got) - 3
    assert deframer.pending() == 0
    hint = DOMAINS[type_name].sample[0].device_id
    for f in got[-3:]:
        assert proto.parse(Frame(f, "test", NOW, hint))
    real_junk = set(junk) - set(DOMAINS[type_name].fill)
    if real_junk and len(got) == 3:
        assert deframer.skipped_bytes > 0 or type_name == "medibus"  # MEDIBUS steps over >= 0x80


@STREAMS
@relaxed
@given(data=st.data())
def test_deframer_resynchronises_after_a_corrupt_frame(type_name: str, data: st.DataObject) -> None:
    proto = protocol(type_name, domain=True)
    frames = [valid_frame(type_name) for _ in range(3)]
    middle = bytearray(frames[1])
    i = data.draw(st.integers(1, len(middle) - 2))
    middle[i] ^= 1 << data.draw(st.integers(0, 7))
    got, deframer = _feed(
        proto, frames[0] + bytes(middle) + frames[2], data.draw(st.lists(st.integers()))
    )
    assert got[0] == frames[0] and got[-1] == frames[2]
    if DOMAINS[type_name].checked:
        assert deframer.invalid >= 1 or deframer.skipped_bytes > 0
        for f in got[1:-1]:  # what the corruption left is rejected, so it is dead-lettered
            with pytest.raises(DecodeError):
                proto.parse(Frame(f, "test", NOW, "DEV-1"))


@STREAMS
@relaxed
@given(stream=st.binary(max_size=16384), cuts=st.lists(st.integers(), max_size=20))
def test_deframer_takes_arbitrary_bytes(type_name: str, stream: bytes, cuts: list[int]) -> None:
    proto = protocol(type_name)
    got, deframer = _feed(proto, stream, cuts)
    assert deframer.frames == len(got) >= deframer.invalid
    for f in got:
        parse_or_reject(proto, f, "DEV-1")


@STREAMS
def test_deframer_takes_a_megabyte_of_noise(type_name: str) -> None:
    noise = random.Random(3).randbytes(1 << 20)
    got, deframer = _feed(protocol(type_name), noise, list(range(0, 1 << 20, 4093)))
    assert deframer.frames == len(got)
    assert deframer.skipped_bytes > 0
