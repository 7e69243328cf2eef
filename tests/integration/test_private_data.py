"""The data directory holds raw device payloads: it is private to the gateway's user.

``htm-edge run`` as a process started with umask 000 and a data directory
that already exists with mode 0777, so nothing but the product's own care
makes it private. While it runs and after it stopped, the directory is 0700
and every file in it (stores, their WAL and shared-memory files, model state)
is 0600.
"""

from __future__ import annotations

import asyncio
import json
import stat
import time
from pathlib import Path

import aiomqtt

from htm_edge.collector.sinks.sqlite import count_readings
from tests.servers import DaemonProcess, Mosquitto

N_MESSAGES = 20


def write_config(tmp_path: Path, broker: Mosquitto, data: Path) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        f"""
[gateway]
site = "private"
data_dir = "{data}"
[broker]
host = "{broker.host}"
port = {broker.port}
client_id = "private-gateway"
[[sources]]
type = "mqtt"
topics = ["htm/private/+/telemetry"]
[[sinks]]
type = "sqlite"
[[inventory.devices]]
device_id = "MR-01"
modality = "mri"
""",
        encoding="utf-8",
    )
    return path


async def publish(broker: Mosquitto) -> None:
    start = time.time() - 3600.0
    async with aiomqtt.Client(broker.host, broker.port, identifier="private-device") as client:
        for i in range(N_MESSAGES):
            doc = {"device_id": "MR-01", "ts": start + 60.0 * i, "signals": {"he_pct": 80.0 - i}}
            await client.publish("htm/private/MR-01/telemetry", json.dumps(doc), qos=1)
        await client.publish("htm/private/MR-01/telemetry", b"patient-adjacent garbage", qos=1)


def modes(data: Path) -> dict[str, int]:
    """Permission bits of the directory (as ".") and of every entry in it."""
    out = {".": stat.S_IMODE(data.stat().st_mode)}
    for entry in data.iterdir():
        out[entry.name] = stat.S_IMODE(entry.lstat().st_mode)
    return out


def assert_private(data: Path, must_have: set[str]) -> dict[str, int]:
    found = modes(data)
    assert found["."] == 0o700, {k: oct(v) for k, v in found.items()}
    assert must_have <= set(found), sorted(found)
    loose = {k: oct(v) for k, v in found.items() if k != "." and v != 0o600}
    assert not loose, loose
    return found


def test_data_dir_and_stores_are_private(tmp_path: Path, mosquitto: Mosquitto) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)
    daemon = DaemonProcess(write_config(tmp_path, mosquitto, data), tmp_path / "daemon.log")
    daemon.start(umask=0)
    try:
        daemon.wait_for_log("event=mqtt_connected")
        asyncio.run(publish(mosquitto))
        deadline = time.monotonic() + 30
        while count_readings(data / "readings.sqlite") < N_MESSAGES:
            assert time.monotonic() < deadline, daemon.text()
            time.sleep(0.1)
        daemon.wait_for_log("event=malformed_frame")
        # while running: the stores and SQLite's side files
        running = assert_private(
            data,
            {
                "readings.sqlite",
                "readings.sqlite-wal",
                "readings.sqlite-shm",
                "dead_letters.sqlite",
                "dead_letters.sqlite-wal",
            },
        )
        code, _ = daemon.stop()
    finally:
        daemon.kill()
    assert code == 0, daemon.text()
    stopped = assert_private(data, {"readings.sqlite", "dead_letters.sqlite", "model_state.json"})
    assert "model_state.json" not in running  # written at stop, and written private
    assert "model_state.tmp" not in stopped
