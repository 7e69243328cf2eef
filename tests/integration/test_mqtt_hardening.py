"""MQTT hardening on a real mosquitto: TLS with verification, availability and last will, silence.

Certificates are made by the test with ``openssl`` (a CA, a server
certificate for 127.0.0.1, a client certificate); the broker requires TLS and
a client certificate on its listener.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import subprocess
import time
from pathlib import Path

import aiomqtt
import pytest

from htm_edge.collector.context import IngestContext
from htm_edge.collector.mqtt_client import BrokerConfig, TlsConfig
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.sources import SOURCES
from htm_edge.collector.sources.mqtt import MqttSource, MqttSourceConfig
from tests.servers import DaemonProcess, Mosquitto, free_port


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(d: Path, name: str = "ca") -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, in ``d``."""
    d.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.crt",
        cwd=d,
    )
    for who, ext in (
        ("server", "subjectAltName=IP:127.0.0.1"),
        ("client", "extendedKeyUsage=clientAuth"),
    ):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={who}",
            "-keyout",
            f"{who}.key",
            "-out",
            f"{who}.csr",
            cwd=d,
        )
        (d / f"{who}.ext").write_text(ext + "\n")
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{who}.csr",
            "-CA",
            f"{name}.crt",
            "-CAkey",
            f"{name}.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            f"{who}.ext",
            "-out",
            f"{who}.crt",
            cwd=d,
        )
    return {
        k: d / f"{k}"
        for k in (f"{name}.crt", "server.crt", "server.key", "client.crt", "client.key")
    }


class TlsMosquitto(Mosquitto):
    """mosquitto with one TLS listener that requires a client certificate."""

    def __init__(self, workdir: Path, certs: dict[str, Path]) -> None:
        super().__init__(workdir)
        self.port = free_port()
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"user {getpass.getuser()}\n"  # as root it would drop to 'mosquitto': unreadable certs
            f"cafile {certs['ca.crt']}\n"
            f"certfile {certs['server.crt']}\nkeyfile {certs['server.key']}\n"
            "require_certificate true\nallow_anonymous true\n",
            encoding="utf-8",
        )


async def receive_one(cfg: BrokerConfig, publish: BrokerConfig) -> Frame:
    ctx = IngestContext(data_dir=Path("unused"), broker=cfg)
    source = SOURCES.build(MqttSourceConfig(name="tls", topics=["htm/+/+/telemetry"]), ctx)
    got: asyncio.Queue[Frame] = asyncio.Queue()

    async def emit(frame: Frame) -> None:
        await got.put(frame)

    task = asyncio.create_task(source.run(emit))
    try:
        async with asyncio.timeout(20):
            await source.ready.wait()
        assert publish.tls is not None
        async with aiomqtt.Client(
            "127.0.0.1", publish.port, tls_context=publish.tls.context()
        ) as c:
            await c.publish("htm/s/MR-01/telemetry", b"{}", qos=1)
        async with asyncio.timeout(10):
            return await got.get()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_tls_with_verification_and_a_client_certificate(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    broker = TlsMosquitto(tmp_path, certs)
    broker.start()
    try:
        tls = TlsConfig(
            ca_file=certs["ca.crt"], cert_file=certs["client.crt"], key_file=certs["client.key"]
        )
        cfg = BrokerConfig(port=broker.port, tls=tls, reconnect_min_s=0.1, reconnect_max_s=0.2)
        frame = asyncio.run(receive_one(cfg, cfg))
        assert frame.source == "mqtt:htm/s/MR-01/telemetry" and frame.hint_device_id == "MR-01"
    finally:
        broker.stop()


def test_tls_refuses_a_broker_it_cannot_verify(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    other = make_certs(tmp_path / "other", name="ca")  # a different CA, same file names
    broker = TlsMosquitto(tmp_path, certs)
    broker.start()
    try:
        tls = TlsConfig(
            ca_file=other["ca.crt"], cert_file=certs["client.crt"], key_file=certs["client.key"]
        )
        cfg = BrokerConfig(port=broker.port, tls=tls, reconnect_min_s=0.1, reconnect_max_s=0.2)
        ctx = IngestContext(data_dir=Path("unused"), broker=cfg)
        source = MqttSource(MqttSourceConfig(name="tls"), ctx)

        async def go() -> int:
            task = asyncio.create_task(source.run(lambda f: asyncio.sleep(0)))
            await asyncio.sleep(2.0)
            assert not source.ready.is_set()  # never connected: the certificate is not trusted
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return source.sessions.failures

        assert asyncio.run(go()) >= 2
    finally:
        broker.stop()


def test_tls_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="both cert_file and key_file"):
        TlsConfig(cert_file=Path("c.crt"))


async def retained(broker: Mosquitto, topic: str) -> bytes:
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe(topic, qos=1)
        async with asyncio.timeout(5):
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                return message.payload
    raise AssertionError("unreachable")


def test_availability_is_online_then_offline_by_last_will_after_a_kill(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    config = tmp_path / "gw.toml"
    config.write_text(
        f'[gateway]\nsite = "avail"\ndata_dir = "{tmp_path / "data"}"\n'
        f'[broker]\nport = {mosquitto.port}\nclient_id = "avail-gw"\nkeepalive_s = 5\n'
        '[[sources]]\ntype = "mqtt"\nname = "telemetry"\n[alerting]\nnotifiers = []\n',
        encoding="utf-8",
    )
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    daemon.start()
    topic = "htm-edge/avail/+/status"
    try:
        daemon.wait_for_log("event=mqtt_connected")
        assert asyncio.run(retained(mosquitto, topic)) == b"online"
        daemon.proc.kill()  # no clean disconnect: the broker sends the last will
        daemon.proc.wait(10)
        deadline = time.monotonic() + 20  # the broker notices the dead link within 1.5 keepalives
        while asyncio.run(retained(mosquitto, topic)) != b"offline":
            assert time.monotonic() < deadline, "no offline last will"
            time.sleep(0.5)
        daemon = DaemonProcess(config, tmp_path / "daemon2.log")
        daemon.start()
        daemon.wait_for_log("event=mqtt_connected")
        assert asyncio.run(retained(mosquitto, topic)) == b"online"
        code, _ = daemon.stop()
        assert code == 0
        assert asyncio.run(retained(mosquitto, topic)) == b"offline"  # said on a clean stop
    finally:
        daemon.kill()


def test_a_silent_subscription_is_renewed_and_messages_flow_again(mosquitto: Mosquitto) -> None:
    cfg = BrokerConfig(port=mosquitto.port, reconnect_min_s=0.1, reconnect_max_s=0.2)
    ctx = IngestContext(data_dir=Path("unused"), broker=cfg)
    source = MqttSource(
        MqttSourceConfig(name="quiet", topics=["htm/q/+/telemetry"], silence_timeout_s=0.4), ctx
    )
    got: list[Frame] = []

    async def emit(frame: Frame) -> None:
        got.append(frame)

    async def go() -> None:
        task = asyncio.create_task(source.run(emit))
        async with asyncio.timeout(10):
            await source.ready.wait()
        await asyncio.sleep(1.0)  # silent for longer than the timeout
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as c:
            await c.publish("htm/q/D-1/telemetry", json.dumps({"x": 1}), qos=1)
        async with asyncio.timeout(5):
            while not got:
                await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(go())
    assert ctx.health.get("source.quiet.resubscribed") >= 1
    assert len(got) == 1 and got[0].hint_device_id == "D-1"
