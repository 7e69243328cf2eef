"""The line-protocol mapping: escaping, points, timestamps, omissions.

A small parser of the v2 dialect (as InfluxDB 2.x and VictoriaMetrics read
it) checks that whatever we encode reads back as written; the integration
tests check the same on the real servers.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from htm_edge.collector.line_protocol import (
    check_names,
    encode_points,
    escape_key,
    escape_measurement,
    scale_ns,
    to_ns,
)
from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.inventory import Device, Modality

NOW = 1_767_225_600.0
MRI = {"MR-01": Device(device_id="MR-01", modality=Modality.MRI)}


def _split(text: str, seps: str) -> list[str]:
    """Split at unescaped ``seps`` (backslash escapes the next character), keeping escapes."""
    out, cur, i = [], "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            cur += text[i : i + 2]
            i += 2
            continue
        if text[i] in seps:
            out.append(cur)
            cur = ""
        else:
            cur += text[i]
        i += 1
    out.append(cur)
    return out


def _unescape(text: str) -> str:
    out, i = "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in "\\,= ":
            out += text[i + 1]
            i += 2
        else:
            out += text[i]
            i += 1
    return out


def parse(line: bytes) -> tuple[str, dict[str, str], dict[str, float], int]:
    """Measurement, tags, fields and timestamp of one v2-dialect line (no string fields)."""
    series, fields, ts = _split(line.decode(), " ")
    name, *tags = _split(series, ",")
    tag_map = dict(tuple(_unescape(p) for p in _split(t, "=")) for t in tags)  # type: ignore[misc]
    field_map = {}
    for field in _split(fields, ","):
        key, value = _split(field, "=")
        field_map[_unescape(key)] = float(value)
    return _unescape(name), tag_map, field_map, int(ts)


NASTY = ["a b", "a,b", "a=b", 'a"b', "a\\b", "a\\", "\\,", "ünï€😀", "'x'", "a\\ b", " lead"]


@pytest.mark.parametrize("text", NASTY)
def test_v2_escaping_round_trips(text: str) -> None:
    line = encode_points(
        [Reading("MR-01", "sig", 1.0, NOW)], site=text, devices={}, measurement=text
    ).lines[0]
    name, tags, _, _ = parse(line)
    assert (name, tags["site"]) == (text, text)


def test_escaping_follows_the_rules_of_each_position() -> None:
    assert escape_measurement("a b,c=d") == "a\\ b\\,c=d"
    assert escape_key("a b,c=d") == "a\\ b\\,c\\=d"
    assert escape_key('say"hi"') == 'say"hi"'  # quotes matter in string field values only
    assert escape_key("C:\\x") == "C:\\\\x"
    assert escape_key("C:\\x", "v1") == "C:\\x"  # 1.x keeps backslashes literally
    assert escape_key("a b", "v1") == "a\\ b"


@pytest.mark.parametrize("text", ["a\\", "a\\,b", "a\\ b", "a\\=b"])
def test_v1_refuses_what_influxdb_1_cannot_store(text: str) -> None:
    with pytest.raises(ValueError, match=r"InfluxDB 1\.x cannot store a backslash"):
        escape_key(text, "v1", "site")
    escape_key(text, "v2")  # the v2 dialect can


@pytest.mark.parametrize("text", ["a\nb", "a\rb", "a\ud800"])
def test_line_breaks_and_lone_surrogates_are_refused(text: str) -> None:
    for dialect in ("v1", "v2"):
        with pytest.raises(ValueError, match=r"line break|surrogate"):
            check_names(text, "telemetry", dialect)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"line break|surrogate"):
            check_names("site", text, dialect)  # type: ignore[arg-type]


def test_readings_of_one_device_at_one_time_are_one_point() -> None:
    batch = [
        Reading("MR-01", "helium_pct", 71.5, NOW),
        Reading("MR-01", "cold_head_k", 4.2, NOW),
        Reading("MR-01", "helium_pct", 71.4, NOW + 1),
        Reading("CT-02", "tube_temp_c", 40.0, NOW),
    ]
    enc = encode_points(batch, site="east", devices=MRI)
    assert (enc.points, enc.fields, enc.omitted) == (3, 4, 0)
    points = [parse(line) for line in enc.lines]
    assert points[0] == (
        "telemetry",
        {"device_id": "MR-01", "modality": "mri", "site": "east"},
        {"helium_pct": 71.5, "cold_head_k": 4.2},
        to_ns(NOW),
    )
    assert points[2][1]["modality"] == "other"  # not in the inventory


def test_measurement_per_modality_when_asked() -> None:
    batch = [Reading("MR-01", "s", 1.0, NOW), Reading("X-9", "s", 1.0, NOW)]
    enc = encode_points(batch, site="", devices=MRI, measurement="{modality}")
    assert [parse(line)[0] for line in enc.lines] == ["mri", "other"]
    assert "site" not in parse(enc.lines[0])[1]  # an empty site is left out


def test_invalid_and_non_finite_readings_are_omitted_and_counted() -> None:
    batch = [
        Reading("MR-01", "a", math.nan, NOW, quality=Quality.INVALID),
        Reading("MR-01", "b", math.inf, NOW, quality=Quality.QUESTIONABLE),
        Reading("MR-01", "c", -32767.0, NOW, quality=Quality.INVALID),  # a sentinel
        Reading("MR-01", "d", 2.0, NOW, quality=Quality.QUESTIONABLE),
        Reading("MR-01", "e", math.nan, NOW + 1, quality=Quality.INVALID),
    ]
    enc = encode_points(batch, site="", devices={})
    assert (enc.points, enc.fields, enc.omitted) == (1, 1, 4)
    assert parse(enc.lines[0])[2] == {"d": 2.0}


def test_a_repeated_signal_keeps_its_last_value() -> None:
    batch = [Reading("D", "s", 1.0, NOW), Reading("D", "s", 2.0, NOW)]
    enc = encode_points(batch, site="", devices={})
    assert parse(enc.lines[0])[2] == {"s": 2.0} and (enc.fields, enc.omitted) == (1, 0)


@pytest.mark.parametrize(
    "value", [0.0, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, -123456789.125, 1e16]
)
def test_float_fields_are_exact(value: float) -> None:
    enc = encode_points([Reading("D", "s", value, NOW)], site="", devices={})
    got = parse(enc.lines[0])[2]["s"]
    assert got == value and math.copysign(1, got) == math.copysign(1, value)


@given(st.integers(946_684_800_000_000, 4_102_444_800_000_000))  # 2000..2100 in µs
def test_microsecond_stamps_round_trip_exactly(micros: int) -> None:
    ts = micros / 1_000_000
    ns = to_ns(ts)
    assert ns == micros * 1000
    assert ns / 10**9 == ts


@given(st.integers(946_684_800_000, 4_102_444_800_000))
def test_millisecond_stamps_round_trip_exactly_at_every_precision(millis: int) -> None:
    ts = millis / 1000
    assert scale_ns(to_ns(ts), "ms") == millis
    assert scale_ns(to_ns(ts), "us") == millis * 1000
    assert scale_ns(to_ns(ts), "ms") / 1000 == ts


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["MR-01", "CT-02", "x.y_z-1"]),
            st.from_regex(r"[A-Za-z0-9_.:-]{1,20}", fullmatch=True),
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(0, 10_000),
        ),
        max_size=40,
    ),
    st.text(st.characters(exclude_characters="\n\r", exclude_categories=["Cs"]), max_size=20),
)
def test_any_batch_reads_back_as_written(
    rows: list[tuple[str, str, float, int]], site: str
) -> None:
    batch = [Reading(d, s, v, NOW + ms / 1000) for d, s, v, ms in rows]
    enc = encode_points(batch, site=site, devices=MRI)
    expected = {(r.device_id, r.signal, to_ns(r.ts)): r.value for r in batch}
    got = {}
    for line in enc.lines:
        name, tags, fields, ts = parse(line)
        assert name == "telemetry" and tags.get("site", "") == site
        assert tags["modality"] == ("mri" if tags["device_id"] == "MR-01" else "other")
        got.update({(tags["device_id"], k, ts): v for k, v in fields.items()})
    assert got == expected and enc.fields == enc.readings == len(expected) and enc.omitted == 0
