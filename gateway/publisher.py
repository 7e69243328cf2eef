"""Publish a simulated fleet to an MQTT broker in paced (accelerated) real time.

Each sample round publishes one JSON payload (encoded by
:class:`htm_edge.collector.protocols.json.JsonProtocol`, the codec the gateway
decodes with) per device on ``htm/<site>/<device_id>/telemetry``; payload
timestamps are simulated time. Round ``k`` is due ``k * sample_period_s /
speedup`` real seconds after a monotonic start, so pacing never drifts; after
a stall the publisher catches up without sleeping. Connections go through the
shared :class:`htm_edge.collector.mqtt_client.MqttSessions` (fresh client per
attempt, jittered backoff); the unfinished round is re-sent after a reconnect
(QoS 1 may duplicate, which is harmless: readings are keyed by device timestamp).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import aiomqtt

from htm_edge.collector.mqtt_client import BrokerConfig, MqttSessions
from htm_edge.collector.protocols.json import JsonProtocol
from htm_edge.collector.reading import Reading
from htm_edge.config.inventory import Device
from htm_edge.simulators.fleet import Fleet
from htm_edge.simulators.ground_truth import ground_truth_payload

__all__ = [
    "PublishStats",
    "RoundSource",
    "ground_truth_topic",
    "publish_fleet",
    "telemetry_topic",
]


class RoundSource(Protocol):
    """What can be published: a :class:`Fleet`, or the hospital fleet's ``HospitalSource``."""

    @property
    def devices(self) -> Sequence[Device]:
        """The devices, in the order of :meth:`step`'s lists."""
        ...

    @property
    def sample_period_s(self) -> float:
        """Simulated seconds between rounds."""
        ...

    def step(self) -> list[list[Reading]]:
        """The next round: one reading list per device ([] = nothing sent)."""
        ...


log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublishStats:
    """What :func:`publish_fleet` did.

    ``samples`` counts sample rounds taken from the fleet, ``messages`` the
    payloads the broker acknowledged, ``readings`` the readings they carried,
    ``gaps`` the device samples lost to simulated communications gaps,
    ``reconnects`` the failed connection attempts and lost sessions.
    """

    samples: int
    messages: int
    readings: int
    gaps: int
    reconnects: int


def _check_level(name: str, level: str) -> str:
    if not level or any(c in level for c in "/+#"):
        raise ValueError(f"{name} {level!r} must be non-empty without '/', '+' or '#'")
    return level


def telemetry_topic(site: str, device_id: str) -> str:
    """Return ``htm/<site>/<device_id>/telemetry``."""
    return f"htm/{_check_level('site', site)}/{_check_level('device_id', device_id)}/telemetry"


def ground_truth_topic(site: str) -> str:
    """Return ``htm/<site>/_sim/ground_truth``."""
    return f"htm/{_check_level('site', site)}/_sim/ground_truth"


async def _sleep_until(deadline: float, stop: asyncio.Event | None) -> bool:
    """Sleep until monotonic ``deadline``; return True when ``stop`` was set meanwhile."""
    delay = deadline - asyncio.get_running_loop().time()
    if stop is None:
        if delay > 0:
            await asyncio.sleep(delay)
        return False
    if stop.is_set():
        return True
    if delay <= 0:
        return False
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await stop.wait()
    return stop.is_set()


class _Run:
    """Mutable progress of one publish run (pending round and counters)."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, bytes, int]] = []
        self.samples = 0
        self.messages = 0
        self.readings = 0
        self.gaps = 0

    def stats(self, reconnects: int) -> PublishStats:
        return PublishStats(self.samples, self.messages, self.readings, self.gaps, reconnects)

    async def flush(self, client: aiomqtt.Client, qos: int, timeout: float) -> None:
        """Publish the pending round; keep what failed and re-raise the first error."""
        results = await asyncio.gather(
            *(
                client.publish(topic, payload, qos=qos, timeout=timeout)
                for topic, payload, _ in self.pending
            ),
            return_exceptions=True,
        )
        failed = []
        for item, result in zip(self.pending, results, strict=True):
            if isinstance(result, BaseException):
                failed.append((item, result))
            else:
                self.messages += 1
                self.readings += item[2]
        self.pending = [item for item, _ in failed]
        if failed:
            raise failed[0][1]


async def publish_fleet(
    fleet: RoundSource,
    broker: BrokerConfig,
    *,
    site: str,
    speedup: float,
    duration_s: float | None,
    stop: asyncio.Event | None = None,
    qos: int = 1,
    password: str | None = None,
    client_id: str | None = None,
    max_attempts: int | None = None,
    publish_timeout_s: float = 5.0,
    ground_truth: bytes | None = None,
) -> PublishStats:
    """Publish ``fleet`` to ``broker`` until done or stopped.

    Parameters
    ----------
    fleet:
        The fleet to step; sampling continues from its current step.
    broker, password, client_id:
        Broker address, backoff bounds and credentials.
    site:
        Topic level of this hospital site.
    speedup:
        Simulated seconds per real second.
    duration_s:
        Real seconds to run: ``floor(duration_s * speedup / sample_period_s)``
        sample rounds are published (each round once, even when the publisher
        falls behind). None runs until ``stop`` is set (or the task is cancelled).
    stop:
        Set it to end the run after the current round (or while reconnecting).
    qos:
        MQTT QoS of every publish (0, 1 or 2).
    max_attempts:
        Consecutive failed connection attempts before giving up with
        :class:`~htm_edge.collector.errors.CollectorError`; None retries forever.
    publish_timeout_s:
        How long one publish may wait for the broker's acknowledgement; aiomqtt
        does not fail in-flight publishes when the connection drops, so this
        bounds how long a lost connection goes unnoticed.
    ground_truth:
        The retained ground-truth document; by default that of a :class:`Fleet`.
    """
    if speedup <= 0:
        raise ValueError(f"speedup must be > 0, got {speedup}")
    if qos not in (0, 1, 2):
        raise ValueError(f"qos must be 0, 1 or 2, got {qos}")
    if duration_s is not None and duration_s < 0:
        raise ValueError(f"duration_s must be >= 0, got {duration_s}")
    gt_topic = ground_truth_topic(site)
    topics = [telemetry_topic(site, d.device_id) for d in fleet.devices]
    rounds = (
        None if duration_s is None else int(duration_s * speedup / fleet.sample_period_s + 1e-9)
    )
    interval = fleet.sample_period_s / speedup
    codec = JsonProtocol()
    if ground_truth is None:
        if not isinstance(fleet, Fleet):
            raise ValueError("give ground_truth for a fleet that is not a simulators Fleet")
        ground_truth = ground_truth_payload(fleet, site)
    truth = ground_truth
    t0 = asyncio.get_running_loop().time()
    run = _Run()
    sessions = MqttSessions(
        broker,
        client_id=client_id,
        password=password,
        max_attempts=max_attempts,
        label=f"publisher site={site}",
    )

    async def session(client: aiomqtt.Client) -> None:
        await client.publish(gt_topic, truth, qos=qos, retain=True, timeout=publish_timeout_s)
        while True:
            if not run.pending:
                if rounds is not None and run.samples >= rounds:
                    return
                if await _sleep_until(t0 + run.samples * interval, stop):
                    return
                for topic, readings in zip(topics, fleet.step(), strict=True):
                    if readings:
                        run.pending.append((topic, codec.encode(readings), len(readings)))
                    else:
                        run.gaps += 1
                run.samples += 1
            await run.flush(client, qos, publish_timeout_s)

    log.info(
        "event=sim_publish_start broker=%s:%d site=%s rounds=%s",
        broker.host,
        broker.port,
        site,
        rounds,
    )
    task = asyncio.ensure_future(sessions.run(session))
    if stop is not None:
        waiter = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        # stopped: a session ends after its round; a (re)connection wait ends now
        while not task.done():
            if not sessions.connected:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return run.stats(sessions.failures)
            await asyncio.wait({task}, timeout=0.05)
    await task
    return run.stats(sessions.failures)
