"""Conformance of every registered source against its real transport.

Parametrised over ``htm_edge.collector.sources.SOURCES``; each source type has
a harness here that runs its real transport (the MQTT one spawns mosquitto),
builds the source with ``SOURCES.build(cfg, IngestContext(...))`` and sends
frames through the transport. A registered source without a harness fails.

The contract checked, for every source:

* it sets ``ready`` once it receives, and clears it when it loses its transport;
* every frame sent arrives once through ``emit``, with its bytes, ``source``
  and ``hint_device_id``, and is counted as ``source.<name>.messages``;
* cancelling ``run()`` ends it within 2 s, by cancellation, with no stray error;
* after its transport goes away and comes back, it is ready again and frames flow;
* cancelling it while it waits for its transport to come back ends it promptly.

A listener (MLLP) does not lose its transport while it holds its socket: for
it, "the transport goes away" means its peers drop (it stays ready and takes
them back), and "never up" means its port is taken by another process.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from htm_edge.collector.context import IngestContext
from htm_edge.collector.health import Health
from htm_edge.collector.mqtt_client import BrokerConfig
from htm_edge.collector.protocols import PROTOCOLS
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.hl7 import Hl7ProtocolConfig, mllp
from htm_edge.collector.protocols.intellivue import IntellivueProtocolConfig
from htm_edge.collector.reading import Reading
from htm_edge.collector.sources import SOURCES, Source
from htm_edge.collector.sources.mllp import MllpSourceConfig
from htm_edge.collector.sources.mqtt import MqttSourceConfig
from htm_edge.collector.sources.serial import SerialSourceConfig
from htm_edge.gateway.mllp_client import MllpClient
from htm_edge.gateway.serial_devices import PtyDevice, stream_frames
from tests.servers import Mosquitto, free_port

CANCEL_WITHIN_S = 2.0
READY_WITHIN_S = 15.0

#: what a frame must carry: (payload, source, hint_device_id)
Expected = tuple[bytes, str, str | None]


def key(frame: Frame) -> Expected:
    return (frame.payload, frame.source, frame.hint_device_id)


class Harness(ABC):
    """The real transport of one source type, and a way to send frames through it."""

    name = "conformance"
    #: a listener keeps its transport while it holds its socket (see the module docstring)
    listener = False

    @abstractmethod
    def start_transport(self) -> None:
        """Bring the transport up (blocking; returns once it accepts peers)."""

    @abstractmethod
    def stop_transport(self) -> None:
        """Take the transport down (blocking)."""

    @abstractmethod
    def build(self, health: Health, *, slow_reconnect: bool = False) -> Source:
        """The source under test, built by ``SOURCES.build``.

        ``slow_reconnect`` makes it wait seconds between reconnection attempts,
        so a cancellation lands in a wait rather than between two.
        """

    @abstractmethod
    async def send(self, tag: str) -> list[Expected]:
        """Send a few frames (distinct per ``tag``) through the transport; return them."""


class MqttHarness(Harness):
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.broker = Mosquitto(tmp_path)

    def start_transport(self) -> None:
        self.broker.start()

    def stop_transport(self) -> None:
        self.broker.stop()

    def build(self, health: Health, *, slow_reconnect: bool = False) -> Source:
        cfg = MqttSourceConfig(
            name=self.name,
            topics=["htm/conf/+/telemetry", "htm/conf/+/status"],
        )
        broker = BrokerConfig(
            host=self.broker.host,
            port=self.broker.port,
            client_id="conformance-gw",
            reconnect_min_s=3.0 if slow_reconnect else 0.1,
            reconnect_max_s=30.0 if slow_reconnect else 0.5,
        )
        ctx = IngestContext(data_dir=self.tmp_path / "data", health=health, broker=broker)
        return SOURCES.build(cfg, ctx)

    async def send(self, tag: str) -> list[Expected]:
        messages = [
            ("htm/conf/MR-01/telemetry", f'{{"tag": "{tag}", "n": 1}}'.encode()),
            ("htm/conf/CT-02/telemetry", b"\x00\xff binary " + tag.encode()),
            ("htm/conf/MR-01/telemetry", f'{{"tag": "{tag}", "n": 2}}'.encode()),
            ("htm/conf/PUMP-3/status", f"status {tag}".encode()),  # off the template: no hint
        ]
        async with aiomqtt.Client(
            self.broker.host, self.broker.port, identifier=f"conformance-device-{tag}"
        ) as client:
            for topic, payload in messages:
                await client.publish(topic, payload, qos=1)
        hints = {"telemetry": True, "status": False}
        return [
            (payload, f"mqtt:{topic}", topic.split("/")[2] if hints[topic.split("/")[3]] else None)
            for topic, payload in messages
        ]


class SerialHarness(Harness):
    """A simulated IntelliVue (free-running MIB frames) at the far end of a pty pair."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.link = tmp_path / "ttyCONF"
        self.device = PtyDevice(self.link)
        self.protocol_cfg = IntellivueProtocolConfig(signals=["*"])

    def start_transport(self) -> None:
        self.device.plug()

    def stop_transport(self) -> None:
        self.device.unplug()

    def build(self, health: Health, *, slow_reconnect: bool = False) -> Source:
        cfg = SerialSourceConfig(
            name=self.name,
            port=str(self.link),
            device_id="MX-CONF",
            protocol=self.protocol_cfg,
            baudrate=115200,
            reopen_min_s=3.0 if slow_reconnect else 0.05,
            reopen_max_s=30.0 if slow_reconnect else 0.3,
        )
        ctx = IngestContext(data_dir=self.tmp_path / "data", health=health)
        source = SOURCES.build(cfg, ctx)
        source.attach(PROTOCOLS.build(self.protocol_cfg, ctx))
        return source

    async def send(self, tag: str) -> list[Expected]:
        codec = PROTOCOLS.build(self.protocol_cfg, IngestContext(data_dir=self.tmp_path))
        base = 61440 + sum(tag.encode())
        frames = [
            codec.encode([Reading("MX-CONF", f"scada_{base + i}", float(i), 0.0, "%")])
            for i in range(3)
        ]
        await asyncio.to_thread(stream_frames, self.device, frames, 5)
        return [(f, f"serial:{self.link}", "MX-CONF") for f in frames]


class MllpHarness(Harness):
    """A device gateway connecting over TCP; a blocker socket takes the port away."""

    listener = True

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.port = free_port()
        self.blocker: socket.socket | None = None
        self.protocol_cfg = Hl7ProtocolConfig()

    def start_transport(self) -> None:
        if self.blocker is not None:
            self.blocker.close()
            self.blocker = None

    def stop_transport(self) -> None:
        blocker = socket.socket()
        try:  # free (never up): take the port; held by the source: its peers are gone anyway
            blocker.bind(("127.0.0.1", self.port))
            blocker.listen()
            self.blocker = blocker
        except OSError:
            blocker.close()

    def build(self, health: Health, *, slow_reconnect: bool = False) -> Source:
        cfg = MllpSourceConfig(
            name=self.name,
            port=self.port,
            protocol=self.protocol_cfg,
            rebind_min_s=3.0 if slow_reconnect else 0.05,
            rebind_max_s=30.0 if slow_reconnect else 0.3,
        )
        ctx = IngestContext(data_dir=self.tmp_path / "data", health=health)
        source = SOURCES.build(cfg, ctx)
        source.attach(PROTOCOLS.build(self.protocol_cfg, ctx))
        return source

    async def send(self, tag: str) -> list[Expected]:
        codec = PROTOCOLS.build(self.protocol_cfg, IngestContext(data_dir=self.tmp_path))
        now = time.time()
        frames = [
            codec.encode([Reading("GW-1", f"health_{tag}_{i}", float(i), now, "1")])
            for i in range(3)
        ] + [mllp(b"not HL7 " + tag.encode())]
        async with MllpClient("127.0.0.1", self.port) as client:
            host, port = client.local_address
            for f in frames:
                await client.send(f)
        redact = codec.redact
        return [(redact(f), f"mllp:{host}:{port}", None) for f in frames]


HARNESSES: dict[str, Callable[[Path], Harness]] = {
    "mqtt": MqttHarness,
    "serial": SerialHarness,
    "mllp": MllpHarness,
}


@pytest.fixture(params=SOURCES.names())
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    type_name: str = request.param
    factory = HARNESSES.get(type_name)
    if factory is None:
        pytest.fail(
            f"source type {type_name!r} is registered but has no conformance harness; "
            "add one to HARNESSES in tests/integration/test_source_conformance.py"
        )
    h = factory(tmp_path)
    h.start_transport()
    try:
        yield h
    finally:
        h.stop_transport()


def test_every_registered_source_has_a_harness() -> None:
    assert set(SOURCES.names()) <= set(HARNESSES), sorted(set(SOURCES.names()) - set(HARNESSES))


class Run:
    """One running source: its task, what it emitted, and asyncio errors seen meanwhile."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.frames: asyncio.Queue[Frame] = asyncio.Queue()
        self.loop_errors: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: self.loop_errors.append(context))

        async def emit(frame: Frame) -> None:
            await self.frames.put(frame)

        self.task = asyncio.create_task(source.run(emit), name=f"source {source.name}")

    async def ready(self, timeout_s: float = READY_WITHIN_S) -> None:
        await self._until(self.source.ready.wait, timeout_s, "ready")

    async def not_ready(self, timeout_s: float = 10.0) -> None:
        async def cleared() -> None:
            while self.source.ready.is_set():
                await asyncio.sleep(0.02)

        await self._until(cleared, timeout_s, "ready to clear after the transport went away")

    async def _until(self, wait: Callable[[], Awaitable[Any]], timeout_s: float, what: str) -> None:
        waiter = asyncio.ensure_future(wait())
        done, _ = await asyncio.wait(
            {waiter, self.task}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            waiter.cancel()
            if self.task in done:
                raise AssertionError(f"run() ended before {what}: {self.task!r}")
            raise AssertionError(f"source not {what} within {timeout_s:g} s")

    async def receive(self, n: int, timeout_s: float = 15.0) -> list[Frame]:
        out: list[Frame] = []
        try:
            async with asyncio.timeout(timeout_s):
                while len(out) < n:
                    out.append(await self.frames.get())
        except TimeoutError:
            raise AssertionError(
                f"{len(out)} of {n} frames arrived within {timeout_s:g} s: {out}"
            ) from None
        return out

    async def cancel(self) -> float:
        """Cancel ``run()``; assert it ended by cancellation in time; return the seconds taken."""
        start = time.monotonic()
        self.task.cancel()
        done, _ = await asyncio.wait({self.task}, timeout=CANCEL_WITHIN_S)
        elapsed = time.monotonic() - start
        assert self.task in done, f"run() still running {CANCEL_WITHIN_S:g} s after cancel()"
        assert self.task.cancelled(), f"run() ended otherwise than by cancellation: {self.task!r}"
        return elapsed

    async def no_stray_errors(self) -> None:
        await asyncio.sleep(0.1)
        gc.collect()  # "exception was never retrieved" is reported when a future is collected
        await asyncio.sleep(0)
        assert self.loop_errors == [], self.loop_errors


def _check(frames: list[Frame], expected: list[Expected], before: float) -> None:
    assert Counter(key(f) for f in frames) == Counter(expected)
    after = time.time()
    for f in frames:
        assert before - 1.0 <= f.received_at <= after + 1.0, f


def test_ready_frames_and_cancel(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        health = Health()
        source = harness.build(health)
        assert isinstance(source, SOURCES[source.cfg.type])
        assert not source.ready.is_set()  # nothing happens before run()
        run = Run(source)
        await run.ready()
        before = time.time()
        expected = await harness.send("a")
        frames = await run.receive(len(expected))
        _check(frames, expected, before)
        await asyncio.sleep(0.3)
        assert run.frames.empty(), "a frame arrived twice"
        assert health.get(f"source.{source.name}.messages") == len(expected)
        await run.cancel()
        assert not source.ready.is_set(), "ready still set after run() ended"
        await run.no_stray_errors()

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert not [r for r in caplog.records if r.exc_info], caplog.text


def test_frames_are_stamped_with_the_source_clock(harness: Harness) -> None:
    """A replay on a simulated clock (the demo) sets it on a source: every frame carries it."""

    async def scenario() -> None:
        source = harness.build(Health())
        source.clock = lambda: 1_234_567_890.5
        run = Run(source)
        await run.ready()
        expected = await harness.send("c")
        frames = await run.receive(len(expected))
        assert {f.received_at for f in frames} == {1_234_567_890.5}
        await run.cancel()

    asyncio.run(scenario())


def test_reconnects_after_transport_restart(harness: Harness) -> None:
    async def scenario() -> None:
        health = Health()
        source = harness.build(health)
        run = Run(source)
        await run.ready()
        first = await harness.send("before")
        _check(await run.receive(len(first)), first, time.time() - 30)

        await asyncio.to_thread(harness.stop_transport)
        if harness.listener:
            await asyncio.sleep(0.3)
            assert source.ready.is_set(), "a listener lost its socket when its peers went away"
        else:
            await run.not_ready()
        await asyncio.to_thread(harness.start_transport)
        await run.ready()
        before = time.time()
        second = await harness.send("after")
        frames: list[Frame] = []
        async with asyncio.timeout(15):
            while not Counter(second) <= Counter(key(f) for f in frames):
                frames.append(await run.frames.get())
        await asyncio.sleep(0.3)
        while not run.frames.empty():
            frames.append(run.frames.get_nowait())
        extra = Counter(key(f) for f in frames) - Counter(second)
        # at-least-once transports may redeliver what came before the outage, nothing else
        assert set(extra) <= set(first), extra
        _check([f for f in frames if key(f) in second], second, before)
        await run.cancel()
        await run.no_stray_errors()

    asyncio.run(scenario())


@pytest.mark.parametrize("when", ["after_losing_it", "never_up"])
def test_cancel_while_waiting_for_the_transport(harness: Harness, when: str) -> None:
    """Cancel ends ``run()`` promptly whether the transport is down or never came up.

    A listener (MLLP) does not lose its socket while it holds it: "losing the
    transport" means its peers drop, after which it must keep listening (still
    ready) and still end promptly when cancelled.
    """

    async def scenario() -> None:
        source = harness.build(Health(), slow_reconnect=True)
        if when == "never_up":
            await asyncio.to_thread(harness.stop_transport)
            run = Run(source)
        else:
            run = Run(source)
            await run.ready()
            await asyncio.to_thread(harness.stop_transport)
            if not harness.listener:
                await run.not_ready()
        await asyncio.sleep(1.5)  # well inside its reconnection attempts and waits
        assert not run.task.done(), f"run() gave up while the transport was down: {run.task!r}"
        if harness.listener and when == "after_losing_it":
            assert source.ready.is_set(), "a listener keeps listening when its peers drop"
        else:
            assert not source.ready.is_set()
        await run.cancel()
        await run.no_stray_errors()

    asyncio.run(scenario())
