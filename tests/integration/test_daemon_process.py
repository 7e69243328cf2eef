"""The daemon as an operator runs it: a real process, a real mosquitto, SIGTERM to stop.

Checks that every published reading is stored, malformed payloads are
dead-lettered without stopping the daemon, shutdown on SIGTERM drains the
queues and saves model state, and a restarted daemon resumes warm.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt

from htm_edge.collector.sinks.sqlite import count_readings
from tests.servers import Mosquitto

N_MESSAGES = 200
SIGNALS = ("helium_level_pct", "coldhead_2nd_stage_k")


def write_config(tmp_path: Path, broker: Mosquitto) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        f"""
[gateway]
site = "test-site"
data_dir = "{tmp_path / "data"}"
[broker]
host = "{broker.host}"
port = {broker.port}
client_id = "it-gateway"
[[sources]]
type = "mqtt"
topics = ["htm/test-site/+/telemetry"]
[[sinks]]
type = "sqlite"
[[inventory.devices]]
device_id = "MR-01"
modality = "mri"
""",
        encoding="utf-8",
    )
    return path


def start_daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "htm_edge.gateway.cli", "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for_log(log: Path, needle: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if needle in log.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not in daemon log:\n{log.read_text()}")


async def publish(broker: Mosquitto, start: int, n: int, garbage: bool) -> None:
    async with aiomqtt.Client(broker.host, broker.port, identifier="it-device") as client:
        for i in range(start, start + n):
            payload = {
                "device_id": "MR-01",
                "ts": 1_767_225_600.0 + 60 * i,
                "signals": {SIGNALS[0]: 80.0 - 0.001 * i, SIGNALS[1]: 4.2 + 0.0001 * (i % 7)},
            }
            await client.publish("htm/test-site/MR-01/telemetry", json.dumps(payload), qos=1)
            if garbage and i == start + n // 2:
                await client.publish("htm/test-site/MR-01/telemetry", b"\x00not json", qos=1)


def test_sigterm_drains_everything_and_restart_resumes_warm(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    config = write_config(tmp_path, mosquitto)
    log = tmp_path / "daemon.log"
    db = tmp_path / "data" / "readings.sqlite"

    daemon = start_daemon(config, log)
    try:
        wait_for_log(log, "event=mqtt_connected")
        asyncio.run(publish(mosquitto, 0, N_MESSAGES, garbage=True))
        time.sleep(0.5)  # let the broker hand everything to the daemon
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0, log.read_text()
    finally:
        if daemon.poll() is None:
            daemon.kill()

    text = log.read_text()
    assert "event=malformed_frame source=mqtt:htm/test-site/MR-01/telemetry" in text
    assert count_readings(db) == N_MESSAGES * len(SIGNALS)
    with sqlite3.connect(tmp_path / "data" / "dead_letters.sqlite") as dl:
        assert dl.execute("SELECT payload FROM dead_letters").fetchall() == [(b"\x00not json",)]
    state = json.loads((tmp_path / "data" / "model_state.json").read_text())
    assert state  # the scorer's state was saved on shutdown

    daemon = start_daemon(config, log)
    try:
        wait_for_log(log, "event=model_state_restored")
        wait_for_log(log, "event=mqtt_connected")
        asyncio.run(publish(mosquitto, N_MESSAGES, 10, garbage=False))
        time.sleep(0.5)
        daemon.send_signal(signal.SIGINT)
        assert daemon.wait(30) == 0, log.read_text()
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert count_readings(db) == (N_MESSAGES + 10) * len(SIGNALS)


def test_messages_published_while_gateway_is_down_are_not_lost(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """Persistent session + QoS 1: the broker keeps telemetry for the stopped gateway."""
    config = write_config(tmp_path, mosquitto)
    log = tmp_path / "daemon.log"
    db = tmp_path / "data" / "readings.sqlite"
    daemon = start_daemon(config, log)
    try:
        wait_for_log(log, "event=mqtt_connected")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
        asyncio.run(publish(mosquitto, 0, 50, garbage=False))  # gateway is down
        daemon = start_daemon(config, log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if db.exists() and count_readings(db) >= 50 * len(SIGNALS):
                break
            time.sleep(0.1)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert count_readings(db) == 50 * len(SIGNALS)
