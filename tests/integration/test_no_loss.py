"""Every reading the broker accepted is stored exactly once, through kills and stops of the daemon.

A QoS-1 publisher counts the broker's acknowledgements while the daemon (a
real process on a real mosquitto with persistence) is SIGKILLed or SIGTERMed
mid-stream and started again. The daemon acknowledges a message only after
its frame is committed to the spool, so nothing acknowledged can be lost:
messages it had not acknowledged are redelivered by the broker, frames it had
spooled are replayed, and the store (keyed by device, signal, time) holds
each reading once.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import threading
import time
from pathlib import Path

import aiomqtt
import pytest

from tests.servers import DaemonProcess, Mosquitto

N_MESSAGES = 6000
SIGNALS = ("helium_level_pct", "coldhead_2nd_stage_k")
START_TS = time.time() - 3 * 86_400.0


def write_config(tmp_path: Path, broker: Mosquitto) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        f"""
[gateway]
site = "noloss"
data_dir = "{tmp_path / "data"}"
shutdown_timeout_s = 5.0
[broker]
host = "{broker.host}"
port = {broker.port}
client_id = "noloss-gateway"
reconnect_min_s = 0.1
reconnect_max_s = 0.5
[[sources]]
type = "mqtt"
name = "telemetry"
topics = ["htm/noloss/+/telemetry"]
[[sinks]]
type = "sqlite"
name = "store"
[alerting]
notifiers = []
""",
        encoding="utf-8",
    )
    return path


class Publisher(threading.Thread):
    """Publishes N QoS-1 messages, counting the broker's acknowledgements, in its own loop."""

    def __init__(self, broker: Mosquitto, n: int) -> None:
        super().__init__(daemon=True)
        self.broker = broker
        self.n = n
        self.acked = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._publish())
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    async def _publish(self) -> None:
        async with aiomqtt.Client(self.broker.host, self.broker.port, identifier="noloss-pub") as c:
            for i in range(self.n):
                doc = {
                    "device_id": f"DEV-{i % 4}",
                    "ts": START_TS + i,
                    "signals": {SIGNALS[0]: 80.0 - i * 1e-4, SIGNALS[1]: 4.2 + (i % 7) * 1e-3},
                }
                await c.publish(f"htm/noloss/DEV-{i % 4}/telemetry", json.dumps(doc), qos=1)
                self.acked += 1  # publish returns once the broker acknowledged (PUBACK)


def stored(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM readings").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def wait_until(cond: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_readings_the_broker_accepted_survive_a_kill_or_stop_mid_stream(
    tmp_path: Path, mosquitto: Mosquitto, how: signal.Signals
) -> None:
    config = write_config(tmp_path, mosquitto)
    db = tmp_path / "data" / "readings.sqlite"
    first = DaemonProcess(config, tmp_path / "first.log")
    first.start()
    second = DaemonProcess(config, tmp_path / "second.log")
    try:
        first.wait_for_log("event=mqtt_connected")
        publisher = Publisher(mosquitto, N_MESSAGES)
        publisher.start()
        wait_until(lambda: publisher.acked >= N_MESSAGES // 3, 60, "a third to be published")
        # on a loaded machine the broker can hold everything acked so far for the daemon's
        # session: stop it only once it has stored some, so the stop is mid-stream
        wait_until(lambda: stored(db) > 0, 60, "the first readings to be stored")
        first.proc.send_signal(how)
        first.proc.wait(30)
        in_first = stored(db)
        second.start()
        second.wait_for_log("event=mqtt_connected")
        publisher.join(120)
        assert not publisher.is_alive() and publisher.error is None, publisher.error
        assert publisher.acked == N_MESSAGES
        wait_until(lambda: stored(db) >= N_MESSAGES * len(SIGNALS), 90, "every reading stored")
        code, _ = second.stop(30)
    finally:
        first.kill()
        second.kill()
    assert code == 0, second.text()[-3000:]
    assert 0 < in_first < N_MESSAGES * len(SIGNALS)  # the stop really was mid-stream
    assert stored(db) == N_MESSAGES * len(SIGNALS)  # every accepted reading, each exactly once
    with sqlite3.connect(db) as conn:
        (lo, hi, devices) = conn.execute(
            "SELECT MIN(ts), MAX(ts), COUNT(DISTINCT device_id) FROM readings"
        ).fetchone()
    assert (lo, hi, devices) == (START_TS, START_TS + N_MESSAGES - 1, 4)
    assert "Traceback" not in second.text()


def test_a_backlog_queued_while_the_gateway_was_down_survives_a_kill_while_draining(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """The broker holds what arrived while the gateway was away; a SIGKILL mid-drain loses none."""
    config = write_config(tmp_path, mosquitto)
    db = tmp_path / "data" / "readings.sqlite"
    first = DaemonProcess(config, tmp_path / "first.log")
    first.start()  # creates the persistent session, then goes away
    first.wait_for_log("event=mqtt_connected")
    assert first.stop(30)[0] == 0
    publisher = Publisher(mosquitto, N_MESSAGES)
    publisher.run()  # the whole backlog, while no gateway is connected
    assert publisher.error is None and publisher.acked == N_MESSAGES
    second = DaemonProcess(config, tmp_path / "second.log")
    third = DaemonProcess(config, tmp_path / "third.log")
    try:
        second.start()
        wait_until(lambda: stored(db) >= N_MESSAGES // 4, 60, "the drain to be under way")
        second.proc.kill()
        second.proc.wait(30)
        in_second = stored(db)
        third.start()
        wait_until(lambda: stored(db) >= N_MESSAGES * len(SIGNALS), 90, "the whole backlog")
        assert third.stop(30)[0] == 0
    finally:
        second.kill()
        third.kill()
    assert in_second < N_MESSAGES * len(SIGNALS)  # killed before the end
    assert stored(db) == N_MESSAGES * len(SIGNALS)
