"""The ``line`` payload codec: InfluxDB line protocol from devices, adapters or Telegraf."""

from __future__ import annotations

import math

import pytest

from htm_edge.collector.context import TimestampPolicy
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.line import LineProtocol
from htm_edge.collector.reading import Quality

NOW = 1_767_225_600.0
NS = int(NOW - 60) * 10**9
codec = LineProtocol(TimestampPolicy(clock=lambda: NOW))


def parse(
    text: str, hint: str | None = None, proto: LineProtocol = codec
) -> list[tuple[object, ...]]:
    got = proto.parse(Frame(text.encode(), "mqtt:t", NOW - 5, hint))
    return [(r.device_id, r.signal, r.value, r.ts, r.quality.value) for r in got]


def test_values_of_every_kind_and_several_lines() -> None:
    text = (
        f"telemetry,device_id=MR-01,site=a he=81.5,count=12i,uval=7u,on=t,off=FALSE {NS}\n"
        f"# a comment\n"
        f"telemetry,device_id=MR-01 he=81.4 {NS + 60 * 10**9}\n"
    )
    ts = NS / 10**9
    assert parse(text) == [
        ("MR-01", "he", 81.5, ts, "good"),
        ("MR-01", "count", 12.0, ts, "good"),
        ("MR-01", "uval", 7.0, ts, "good"),
        ("MR-01", "on", 1.0, ts, "good"),
        ("MR-01", "off", 0.0, ts, "good"),
        ("MR-01", "he", 81.4, ts + 60, "good"),
    ]


def test_a_string_field_is_the_devices_no_value_and_escapes_are_read() -> None:
    text = f'tele\\ metry,device_id=MR-01,note=a\\,b\\=c\\ d state="calibrating \\"x\\"",he=1 {NS}'
    (state, he) = codec.parse(Frame(text.encode(), "t", NOW, None))
    assert state.signal == "state" and math.isnan(state.value) and state.quality is Quality.INVALID
    assert he.value == 1.0


def test_the_device_comes_from_the_tag_or_the_topic_and_they_must_agree() -> None:
    assert parse(f"m x=1 {NS}", hint="CT-2")[0][0] == "CT-2"
    with pytest.raises(DecodeError, match="does not match the topic"):
        parse(f"m,device_id=MR-01 x=1 {NS}", hint="CT-2")
    with pytest.raises(DecodeError, match="no 'device_id' tag"):
        parse(f"m x=1 {NS}")
    custom = LineProtocol(TimestampPolicy(clock=lambda: NOW), device_tag="host")
    assert parse(f"m,host=PUMP-9 x=1 {NS}", proto=custom)[0][0] == "PUMP-9"


def test_precision_and_the_time_of_receipt() -> None:
    seconds = LineProtocol(TimestampPolicy(clock=lambda: NOW), precision="s")
    assert parse(f"m,device_id=D x=1 {int(NOW) - 60}", proto=seconds)[0][3] == NOW - 60
    assert parse("m,device_id=D x=1")[0][3] == NOW - 5  # no timestamp: stamped at receipt


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("m,device_id=D", "expected 'measurement"),
        (f"m,device_id=D x= {NS}", "is not key=value"),
        (f"m,device_id=D x=abc {NS}", "not a number"),
        (f"m,device_id=D x=1e999 {NS}", "too large"),
        (f'm,device_id=D x="open {NS}', "not closed"),
        ("m,device_id=D x=1 12.5", "not an integer"),
        (f"m,device_id=D x=1 {NS * 1000}", "ahead of the gateway clock"),
        (f"m,device_id=bad\\ id x=1 {NS}", "device id 'bad id'"),
        (f"m,device_id=D a\\ b=1 {NS}", "signal name 'a b'"),
        ("", "no line"),
    ],
)
def test_malformed_lines_say_what_is_wrong(text: str, needle: str) -> None:
    with pytest.raises(DecodeError, match=needle):
        parse(text)
