"""The daemon on real device links: a MEDIBUS ventilator on a pty, a PCD-01 gateway on TCP.

Everything runs for real: ``build_components`` wires the sources to their
protocols, the serial source polls a simulated device on a pseudo-terminal
(which is unplugged and replugged mid-stream and whose answers are corrupted
now and then), the MLLP source takes messages from a real TCP client. What
the tests read back is what the stores and dead letters hold on disk, and
what was logged: patient identity is nowhere in them.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from htm_edge.collector.protocols.hl7 import mllp
from htm_edge.collector.protocols.medibus import MedibusProtocol
from htm_edge.collector.reading import Reading
from htm_edge.gateway.daemon import Daemon
from htm_edge.gateway.mllp_client import MllpClient
from htm_edge.gateway.serial_devices import MedibusDevice, PtyDevice
from htm_edge.gateway.settings import parse_config
from tests.servers import free_port
from tests.unit.collector.test_device_protocols import PCD01

SECRETS = (b"Doe", b"Jane", b"MRN123456", b"19700101", b"daughter", b"bed 12")


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


async def until(check: object, timeout_s: float = 15.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.05)


def test_medibus_ventilator_on_a_pty(tmp_path: Path) -> None:
    link, data = tmp_path / "ttyVENT", tmp_path / "data"
    cfg = parse_config(f"""
[gateway]
data_dir = "{data}"
[[sources]]
type = "serial"
name = "vent"
port = "{link}"
device_id = "VENT-01"
reopen_min_s = 0.05
reopen_max_s = 0.3
[sources.protocol]
type = "medibus"
poll_interval_s = 0.2
names = {{ cp1_C6 = "leak_l_min" }}
units = {{ cp1_C6 = "L/min" }}
signals = ["leak_l_min", "alarms_active_*"]
[[sinks]]
type = "sqlite"
name = "local"
""")
    pty = PtyDevice(link)
    pty.plug()
    codec = MedibusProtocol(names={"cp1_C6": "leak_l_min"})
    answers = [0]

    def readings() -> list[Reading]:
        answers[0] += 1
        # cp1_05 is a patient measurement the site did not list: it must never be stored
        return [Reading("VENT-01", "leak_l_min", 0.5 + answers[0] % 7, 0.0),
                Reading("VENT-01", "cp1_05", 12.0, 0.0)]  # fmt: skip

    def corrupt(frame: bytes) -> bytes:  # every fifth data answer arrives with a bad checksum
        if frame[1] == 0x24 and answers[0] % 5 == 0:
            return frame[:-2] + bytes([frame[-2] ^ 0x01]) + b"\r"
        return frame

    device = MedibusDevice(pty, codec, readings, corrupt=corrupt)

    async def scenario() -> Daemon:
        daemon = Daemon(cfg)
        stop, device_stop = asyncio.Event(), asyncio.Event()
        run = asyncio.create_task(daemon.run(stop))
        serve = asyncio.create_task(device.serve(device_stop))
        h = daemon.health
        await until(lambda: h.get("frames.malformed") >= 1 and h.get("readings.received") >= 5)
        pty.unplug()  # the USB adapter is pulled mid-stream
        await asyncio.sleep(0.5)
        pty.plug()
        before = h.get("readings.received")
        await until(lambda: h.get("readings.received") >= before + 5)
        stop.set()
        await run
        device_stop.set()
        await serve
        return daemon

    daemon = asyncio.run(scenario())
    h = daemon.health
    assert h.get("source.vent.port_gaps") == 1
    assert h.get("source.vent.invalid_frames") >= 1
    stored = rows(data / "readings.sqlite", "SELECT DISTINCT signal, unit FROM readings")
    # cp1_05 withheld, as the allow-list says; the (empty) alarm answers count 0 alarms
    assert sorted(stored) == [("alarms_active_cp1", ""), ("leak_l_min", "L/min")]
    dead = rows(data / "dead_letters.sqlite", "SELECT source, error, payload FROM dead_letters")
    assert dead and all(s == f"serial:{link}" and "checksum" in e for s, e, _ in dead)
    # the gateway answered each bad frame with NAK, and the session started again after the gap
    assert any(f.startswith(b"\x01\x15") for f in device.received)
    assert sum(f[:2] == b"\x1bQ" for f in device.received) >= 2


def test_pcd01_gateway_over_mllp(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data, port = tmp_path / "data", free_port()
    cfg = parse_config(f"""
[gateway]
data_dir = "{data}"
[[sources]]
type = "mllp"
name = "pcd01"
port = {port}
[[sinks]]
type = "sqlite"
name = "local"
""")
    good = mllp(PCD01.encode())
    malformed = mllp(PCD01.replace("|81.5|", "|eighty|").replace("MSG00042", "MSG00043").encode())
    garbage = mllp(b"Doe^Jane MRN123456 is not HL7")

    async def scenario() -> tuple[Daemon, list[tuple[str, str]]]:
        daemon = Daemon(cfg)
        stop = asyncio.Event()
        run = asyncio.create_task(daemon.run(stop))
        await daemon.wait_connected(run, 10)
        acks = []
        async with MllpClient("127.0.0.1", port) as client:
            await client.write(good[:30])  # one message split across writes
            await asyncio.sleep(0.05)
            await client.write(good[30:] + malformed)  # and two in one write
            acks += [await client.ack(), await client.ack()]
            acks.append(await client.send(garbage))
        await until(lambda: daemon.health.get("frames.received") >= 3)
        stop.set()
        await run
        return daemon, [(a.code, a.control_id) for a in acks]

    with caplog.at_level(logging.DEBUG):
        daemon, acks = asyncio.run(scenario())
    assert acks == [("AA", "MSG00042"), ("AE", "MSG00043"), ("AR", "")]
    stored = rows(data / "readings.sqlite", "SELECT device_id, signal, value FROM readings")
    assert stored == [("0012340000ABCDEF", "batt_charge_pct", 81.5)]  # SpO2, ART withheld
    dead = rows(data / "dead_letters.sqlite", "SELECT source, error FROM dead_letters")
    assert len(dead) == 2 and all(s.startswith("mllp:127.0.0.1:") for s, _ in dead)
    assert daemon.health.get("source.pcd01.ack_aa") == 1
    # patient identity is in no store, no dead letter, no log line
    for path in data.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not [s for s in SECRETS if s in content], path
    assert not [s for s in SECRETS if s.decode() in caplog.text]
