"""`htm-edge status` against the daemon as a real process on a real mosquitto."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt

from tests.servers import DaemonProcess, Mosquitto


def status(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "htm_edge.gateway.cli", "status", "--config", str(config), *extra],
        capture_output=True,
        text=True,
        timeout=30,
    )


async def publish(broker: Mosquitto, n: int) -> None:
    async with aiomqtt.Client(broker.host, broker.port) as client:
        for i in range(n):
            doc = {"device_id": "CT-9", "ts": time.time() - 60 + i * 0.01, "signals": {"x": i}}
            await client.publish("htm/st/CT-9/telemetry", json.dumps(doc), qos=1)
        await client.publish("htm/st/CT-9/telemetry", b"not json", qos=1)


def test_status_shows_a_running_daemon_and_then_that_it_stopped(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    config = tmp_path / "gw.toml"
    config.write_text(
        f'[gateway]\nsite = "st"\ndata_dir = "{tmp_path / "data"}"\n'
        f"[broker]\nport = {mosquitto.port}\n"
        '[[sources]]\ntype = "mqtt"\nname = "telemetry"\n[alerting]\nnotifiers = []\n',
        encoding="utf-8",
    )
    assert status(config).returncode == 1  # nothing ran yet
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    daemon.start()
    try:
        daemon.wait_for_log("event=mqtt_connected")
        asyncio.run(publish(mosquitto, 20))
        deadline = time.monotonic() + 30
        while True:
            result = status(config, "--json")
            doc = json.loads(result.stdout) if result.returncode == 0 else {}
            if doc.get("counters", {}).get("frames.received", 0) >= 21:
                break
            assert time.monotonic() < deadline, result.stdout + result.stderr
            time.sleep(0.5)
        assert doc["running"] and doc["sources"] == {"telemetry": True}
        assert doc["counters"]["frames.malformed"] == 1
        assert "CT-9" in doc["devices"] and doc["stale"] == []
        assert doc["behind"]["score"] == 0
        text = status(config)
        assert text.returncode == 0 and "htm-edge daemon: running" in text.stdout
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
    time.sleep(0.2)
    after = status(config)
    assert after.returncode == 1 and "NOT RUNNING" in after.stdout
