"""Poison messages in a QoS-1 stream: the daemon keeps every good reading and every bad frame.

A real mosquitto and ``htm-edge run`` as a process. 2,000 good telemetry
messages are published at QoS 1 (every broker acknowledgement counted), with
poison in the middle: a bracket bomb, integer literals of hundreds and
thousands of digits, a device level with a space, invalid UTF-8, a 10 MB
payload, a timestamp in milliseconds, one in the year 3000, an empty signal
name and topics that do not fit the template. After SIGTERM the process must
have exited 0, stored each good reading once, dead-lettered each poison frame
with a reason naming its problem, logged no traceback, and counted what it saw.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiomqtt

from tests.servers import DaemonProcess, Mosquitto

SITE = "poison"
DEVICES = ("MR-01", "CT-02", "PUMP-03", "VENT-04")
N_GOOD = 2000  # good messages, two signals each
SIGNALS = ("helium_level_pct", "coldhead_k")
BIG = 10 * 1024 * 1024
NOW = float(int(time.time()))
BASE_TS = NOW - 3 * 86_400.0  # recent, well inside the plausible window


@dataclass(frozen=True)
class Poison:
    """One bad message and what its dead letter must say."""

    name: str
    topic: str
    payload: bytes
    reason: str  # a substring of the dead letter's error


def topic(device: str, kind: str = "telemetry") -> str:
    return f"htm/{SITE}/{device}/{kind}"


def doc(device: str, ts: float, signals: dict[str, float]) -> bytes:
    return json.dumps({"device_id": device, "ts": ts, "signals": signals}).encode()


def good_messages() -> list[tuple[str, bytes, list[tuple[str, str, float, float]]]]:
    """(topic, payload, expected rows (device, signal, ts, value)) of every good message."""
    out = []
    for i in range(N_GOOD):
        device = DEVICES[i % len(DEVICES)]
        ts = BASE_TS + 60.0 * (i // len(DEVICES))
        values = {SIGNALS[0]: 80.0 - 0.001 * i, SIGNALS[1]: 4.2 + 0.0001 * (i % 97)}
        rows = [(device, s, ts, v) for s, v in values.items()]
        out.append((topic(device), doc(device, ts, values), rows))
    return out


def poison_messages() -> list[Poison]:
    ts = int(NOW - 60)
    digits_5000 = b"7" * 5000
    return [
        Poison("bracket bomb", topic("MR-01"), b"[" * 100_000, "nests too deeply"),
        Poison(
            "5,000-digit timestamp",
            topic("MR-01"),
            b'{"device_id": "MR-01", "ts": %s, "signals": {"x": 1.0}}' % digits_5000,
            "'ts' is too large for a float",
        ),
        Poison(
            "400-digit value",
            topic("MR-01"),
            b'{"device_id": "MR-01", "ts": %d, "signals": {"huge": %s}}' % (ts, b"9" * 400),
            "signals.huge is too large for a float",
        ),
        Poison(
            "5,000-digit value",
            topic("CT-02"),
            b'{"device_id": "CT-02", "ts": %d, "signals": {"huge": %s}}' % (ts, digits_5000),
            "signals.huge is too large for a float",
        ),
        Poison(
            "space in the device level",
            f"htm/{SITE}/bad id/telemetry",
            doc("MR-01", NOW - 60, {"x": 1.0}),
            "device id 'bad id'",
        ),
        Poison(
            "invalid UTF-8",
            topic("CT-02"),
            b'{"device_id": "CT-02", "ts": %d, "signals": {"\xff\xfe": 1.0}}' % ts,
            "'utf-8' codec can't decode byte 0xff",
        ),
        Poison(
            "10 MB payload",
            topic("CT-02"),
            (b'{"device_id": "CT-02", "ts": %d, "signals": {"x": 1.0}, "pad": "' % ts).ljust(
                BIG, b"A"
            ),
            "over max_bytes",
        ),
        Poison(
            "10 MB of valid JSON",
            topic("CT-02"),
            json.dumps(
                {"device_id": "CT-02", "ts": ts, "signals": {"x": 1.0}, "pad": "A" * BIG}
            ).encode(),
            "over max_bytes",
        ),
        Poison(
            "timestamp in milliseconds",
            topic("PUMP-03"),
            doc("PUMP-03", NOW * 1000.0, {"x": 1.0}),
            "milliseconds? send epoch seconds",
        ),
        Poison(
            "timestamp in the year 3000",
            topic("PUMP-03"),
            doc("PUMP-03", 32_503_680_000.0, {"x": 1.0}),  # 3000-01-01T00:00:00Z
            "ts 32503680000.0 is more than 86400 s ahead of the gateway clock",
        ),
        Poison(
            "empty signal name",
            topic("VENT-04"),
            doc("VENT-04", NOW - 60, {"": 1.0}),
            "signal name '' must be 1 to 128",
        ),
        Poison(
            "topic off the template, payload names no device",
            topic("VENT-04", "status"),
            json.dumps({"ts": NOW - 60, "signals": {"online": 1.0}}).encode(),
            "'device_id' is missing (and the topic names no device)",
        ),
    ]


# Odd but decoded, as collector/protocols/json.py documents: a topic off the
# template is read when its payload names the device (counted as unmatched_topic),
# and null is a device's own "no valid value", kept as an invalid reading.
HUGE_TS = NOW - 120.0
ODD = [
    (topic("VENT-04", "status"), doc("VENT-04", HUGE_TS, {"online": 1.0})),
    (
        topic("MR-01"),
        b'{"device_id": "MR-01", "ts": %d, "signals": {"ok": 1.5, "gap": null}}' % HUGE_TS,
    ),
]
ODD_GOOD_ROWS = {("VENT-04", "online", HUGE_TS, 1.0), ("MR-01", "ok", HUGE_TS, 1.5)}
ODD_INVALID_KEYS = {("MR-01", "gap", HUGE_TS)}
N_UNMATCHED = 2  # the two status topics


def write_config(tmp_path: Path, broker: Mosquitto) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        f"""
[gateway]
site = "{SITE}"
data_dir = "{tmp_path / "data"}"
[broker]
host = "{broker.host}"
port = {broker.port}
client_id = "poison-gateway"
[[sources]]
type = "mqtt"
name = "telemetry"
topics = ["htm/#"]
[[sinks]]
type = "sqlite"
""",
        encoding="utf-8",
    )
    return path


async def publish_all(broker: Mosquitto, messages: list[tuple[str, bytes]]) -> int:
    """Publish at QoS 1 in order; return the number of broker acknowledgements."""
    acked = 0
    async with aiomqtt.Client(
        broker.host, broker.port, identifier="poison-device", timeout=30
    ) as client:
        for t, payload in messages:
            await client.publish(t, payload, qos=1)  # returns on PUBACK
            acked += 1
    return acked


def stored_rows(db: Path) -> list[tuple[str, str, float, float | None, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT device_id, signal, ts, value, quality FROM readings").fetchall()


def dead_letters(db: Path) -> list[tuple[str, str, bytes]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT source, error, payload FROM dead_letters ORDER BY id"
        ).fetchall()


def wait_until(
    predicate: Callable[[], bool], timeout_s: float, what: str, daemon: DaemonProcess
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        assert daemon.proc.poll() is None, f"daemon exited early:\n{daemon.text()}"
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{daemon.text()[-5000:]}")


def test_poison_messages_are_dead_lettered_and_good_readings_kept(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    good = good_messages()
    poison = poison_messages()
    half = N_GOOD // 2
    messages = [(t, p) for t, p, _ in good[:half]]
    messages += [(x.topic, x.payload) for x in poison]
    messages += ODD
    messages += [(t, p) for t, p, _ in good[half:]]
    expected_good = {row for _, _, rows in good for row in rows} | ODD_GOOD_ROWS
    n_expected_rows = len(expected_good) + len(ODD_INVALID_KEYS)

    data = tmp_path / "data"
    daemon = DaemonProcess(write_config(tmp_path, mosquitto), tmp_path / "daemon.log")
    daemon.start()
    try:
        daemon.wait_for_log("event=mqtt_connected")
        acked = asyncio.run(publish_all(mosquitto, messages))
        assert acked == len(messages)

        def all_in() -> bool:
            try:
                return len(stored_rows(data / "readings.sqlite")) >= n_expected_rows and len(
                    dead_letters(data / "dead_letters.sqlite")
                ) >= len(poison)
            except sqlite3.OperationalError:  # not created yet
                return False

        wait_until(all_in, 60, "every reading and dead letter to be stored", daemon)
        code, _ = daemon.stop(30)
    finally:
        daemon.kill()
    log = daemon.text()
    assert code == 0, log[-5000:]

    # every good reading stored exactly once (no extra rows, none missing)
    rows = stored_rows(data / "readings.sqlite")
    assert len(rows) == n_expected_rows
    good_rows = {(d, s, ts, v) for d, s, ts, v, q in rows if q == "good"}
    assert good_rows == expected_good
    invalid = [(d, s, ts, v) for d, s, ts, v, q in rows if q != "good"]
    assert {(d, s, ts) for d, s, ts, _ in invalid} == ODD_INVALID_KEYS
    assert all(v is None for *_, v in invalid), invalid  # stored as NULL
    assert all(q in {"good", "invalid"} for *_, q in rows)

    # every poison frame dead-lettered once, with its topic, a reason and its exact payload
    letters = dead_letters(data / "dead_letters.sqlite")
    assert len(letters) == len(poison), [(s, e) for s, e, _ in letters]
    for p in poison:
        matching = [(s, e) for s, e, payload in letters if payload == p.payload]
        assert len(matching) == 1, f"{p.name}: {matching}"
        source, error = matching[0]
        assert source == f"mqtt:{p.topic}", p.name
        assert p.reason in error, f"{p.name}: {error!r}"

    # the log: one warning per poison frame, no traceback, nothing worse than a warning
    assert "Traceback" not in log
    assert "event=decoder_error" not in log
    assert log.count("event=malformed_frame") == len(poison)
    assert " level=ERROR " not in log and " level=CRITICAL " not in log, log[-5000:]
    assert "event=unmatched_topic source=telemetry topic='htm/poison/VENT-04/status'" in log

    counters = daemon.summary()
    assert counters["frames.malformed"] == len(poison)
    assert counters["source.telemetry.unmatched_topic"] == N_UNMATCHED
    assert counters["source.telemetry.messages"] == len(messages)  # none lost, none twice
    assert counters["frames.received"] == len(messages)
    assert counters["readings.received"] == n_expected_rows
    assert counters["sink.sqlite.written"] == n_expected_rows
    assert counters["readings.scored"] == len(expected_good)  # invalid values are not scored
    assert "frames.decoder_errors" not in counters
    assert "deadletter.errors" not in counters
