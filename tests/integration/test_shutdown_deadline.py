"""Stop on time with a stuck sink: SIGTERM ends the process within the drain deadline.

The test holds the SQLite store's write lock (``BEGIN EXCLUSIVE``) so every
write of the daemon's sink fails after SQLite's busy timeout. The daemon keeps
scoring while its sink is stuck; on SIGTERM it drains for
``gateway.shutdown_timeout_s``, leaves what is still unwritten in the spool and
exits 0 well within the budget, without the exit watchdog having to kill it;
the next run writes everything the spool kept.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from pathlib import Path

import aiomqtt

from tests.servers import DaemonProcess, Mosquitto

DEADLINE_S = 3.0
BUDGET_S = 25.0  # deadline + closing the stuck store + process exit
N_MESSAGES = 300
SIGNALS = ("flow_ml_h", "pressure_mmhg")


def write_config(tmp_path: Path, broker: Mosquitto) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        f"""
[gateway]
site = "stuck"
data_dir = "{tmp_path / "data"}"
shutdown_timeout_s = {DEADLINE_S}
[broker]
host = "{broker.host}"
port = {broker.port}
client_id = "stuck-gateway"
[[sources]]
type = "mqtt"
topics = ["htm/stuck/+/telemetry"]
[[sinks]]
type = "sqlite"
name = "store"
[[inventory.devices]]
device_id = "PUMP-01"
modality = "infusion_pump"
""",
        encoding="utf-8",
    )
    return path


async def publish(broker: Mosquitto, n: int) -> int:
    start = time.time() - 86_400.0
    acked = 0
    async with aiomqtt.Client(broker.host, broker.port, identifier="stuck-device") as client:
        for i in range(n):
            doc = {
                "device_id": "PUMP-01",
                "ts": start + 10.0 * i,
                "signals": {SIGNALS[0]: 25.0 + 0.01 * (i % 13), SIGNALS[1]: 120.0 - 0.02 * i},
            }
            await client.publish("htm/stuck/PUMP-01/telemetry", json.dumps(doc), qos=1)
            acked += 1
    return acked


def test_sigterm_with_a_stuck_sink_exits_within_the_deadline(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    db = tmp_path / "data" / "readings.sqlite"
    daemon = DaemonProcess(write_config(tmp_path, mosquitto), tmp_path / "daemon.log")
    daemon.start()
    lock: sqlite3.Connection | None = None
    try:
        daemon.wait_for_log("event=mqtt_connected")  # the sink opened its store before this
        lock = sqlite3.connect(db, timeout=10, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")  # the daemon's writes now fail: database is locked
        assert asyncio.run(publish(mosquitto, N_MESSAGES)) == N_MESSAGES
        # a write fails only after SQLite's busy timeout (5 s): wait until one has
        daemon.wait_for_log("event=sink_write_failed sink=store", timeout_s=30)
        code, elapsed = daemon.stop(timeout_s=BUDGET_S + 5)
    finally:
        daemon.kill()
        if lock is not None:
            lock.rollback()
            lock.close()
    log = daemon.text()
    assert code == 0, log[-5000:]  # nothing is lost: what is unwritten stays in the spool
    assert elapsed < BUDGET_S, f"took {elapsed:.1f} s to exit:\n{log[-5000:]}"
    assert elapsed >= DEADLINE_S * 0.9, "the stuck sink cannot drain; the deadline must be used"
    assert "event=exit_deadline_exceeded" not in log  # ended by itself, not by the watchdog
    assert "Traceback" not in log

    n_readings = N_MESSAGES * len(SIGNALS)
    match = re.search(r"event=shutdown_deadline_exceeded deadline_s=3 left_in_spool=(\{.*?\})", log)
    assert match is not None, log[-5000:]
    left = json.loads(match.group(1))
    assert left["sink:store"] > 0 and left["score"] == 0, left

    counters = daemon.summary()
    assert counters["sink.store.write_errors"] >= 1
    assert counters["shutdown.left_in_spool.sink:store"] == left["sink:store"]
    # scoring went on while the sink was stuck
    assert counters["readings.received"] == n_readings
    assert counters["readings.scored"] == n_readings

    # the lock is gone: the next run writes everything the spool kept, each reading once
    again = DaemonProcess(write_config(tmp_path, mosquitto), tmp_path / "daemon2.log")
    again.start()
    try:
        again.wait_for_log("event=mqtt_connected")
        deadline = time.monotonic() + 30
        while _count(db) < n_readings and time.monotonic() < deadline:
            time.sleep(0.1)
        code2, _ = again.stop(timeout_s=BUDGET_S + 5)
    finally:
        again.kill()
    assert code2 == 0, again.text()[-5000:]
    assert _count(db) == n_readings


def _count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM readings").fetchone()[0])
