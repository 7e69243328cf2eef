"""Publish a simulated fleet to an MQTT broker in paced (accelerated) real time.

Each sample round publishes one JSON payload (encoded by
:class:`collector.protocols.json.JsonProtocol`) per device on
``htm/<site>/<device_id>/telemetry``; payload timestamps are simulated time.
Round ``k`` is due ``k * sample_period_s / speedup`` real seconds after a
monotonic start, so pacing never drifts; after a stall the publisher catches
up without sleeping. A connection failure is retried with a *fresh*
``aiomqtt.Client`` (clients are reusable but not reentrant) after jittered
exponential backoff; the unfinished round is re-sent (QoS 1 may duplicate,
which is harmless: readings are keyed by device timestamp).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

import aiomqtt

from htm_edge.collector.protocols.json import JsonProtocol
from htm_edge.simulators.errors import SimulatorError
from htm_edge.simulators.fleet import Fleet
from htm_edge.simulators.ground_truth import ground_truth_payload

__all__ = ["PublishStats", "ground_truth_topic", "publish_fleet", "telemetry_topic"]

log = logging.getLogger(__name__)
_jitter = random.Random()


@dataclass(frozen=True, slots=True)
class PublishStats:
    """What :func:`publish_fleet` did.

    ``samples`` counts sample rounds taken from the fleet, ``messages`` the
    payloads published, ``readings`` the readings they carried, ``gaps`` the
    device samples lost to simulated communications gaps, ``reconnects`` the
    failed connections or lost sessions that were retried.
    """

    samples: int
    messages: int
    readings: int
    gaps: int
    reconnects: int


def _check_level(name: str, level: str) -> str:
    if not level or any(c in level for c in "/+#"):
        raise SimulatorError(f"{name} {level!r} must be non-empty without '/', '+' or '#'")
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
    try:
        await asyncio.wait_for(stop.wait(), delay)
    except TimeoutError:
        return False
    return True


def _retrieve_disconnect_error(client: aiomqtt.Client) -> None:
    """Mark an unexpected-disconnection error of a dead client as retrieved.

    aiomqtt 2.x stores it in a future that ``__aexit__`` skips once the link is
    down, so asyncio would log "Future exception was never retrieved" later.
    Best effort: does nothing if aiomqtt's internals change.
    """
    fut = getattr(client, "_disconnected", None)
    if isinstance(fut, asyncio.Future) and fut.done() and not fut.cancelled():
        fut.exception()


class _Run:
    """Mutable progress of one publish run (pending round and counters)."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, bytes, int]] = []
        self.samples = 0
        self.messages = 0
        self.readings = 0
        self.gaps = 0
        self.reconnects = 0

    def stats(self) -> PublishStats:
        return PublishStats(self.samples, self.messages, self.readings, self.gaps, self.reconnects)

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
    fleet: Fleet,
    *,
    host: str,
    port: int,
    site: str,
    speedup: float,
    duration_s: float | None,
    stop: asyncio.Event | None = None,
    qos: int = 1,
    username: str | None = None,
    password: str | None = None,
    client_id: str | None = None,
    max_attempts: int | None = None,
    backoff_min_s: float = 0.5,
    backoff_max_s: float = 30.0,
    publish_timeout_s: float = 5.0,
) -> PublishStats:
    """Publish ``fleet`` to the broker at ``host:port`` until done or stopped.

    Parameters
    ----------
    fleet:
        The fleet to step; sampling continues from its current step.
    host, port, username, password, client_id:
        Broker address and credentials.
    site:
        Topic level of this hospital site.
    speedup:
        Simulated seconds per real second.
    duration_s:
        Real seconds to run: ``floor(duration_s * speedup / sample_period_s)``
        sample rounds are published (each round once, even when the publisher
        falls behind). None runs until ``stop`` is set (or the task is cancelled).
    stop:
        Set it to end the run after the current round.
    qos:
        MQTT QoS of every publish (0, 1 or 2).
    max_attempts:
        Consecutive failed connection attempts before giving up with
        :class:`SimulatorError`; None retries forever.
    backoff_min_s, backoff_max_s:
        Bounds of the jittered exponential reconnect backoff.
    publish_timeout_s:
        How long one publish may wait for the broker's acknowledgement; aiomqtt
        does not fail in-flight publishes when the connection drops, so this
        bounds how long a lost connection goes unnoticed.

    Returns
    -------
    PublishStats
        Counts of what was published.
    """
    if speedup <= 0:
        raise SimulatorError(f"speedup must be > 0, got {speedup}")
    if qos not in (0, 1, 2):
        raise SimulatorError(f"qos must be 0, 1 or 2, got {qos}")
    if duration_s is not None and duration_s < 0:
        raise SimulatorError(f"duration_s must be >= 0, got {duration_s}")
    gt_topic = ground_truth_topic(site)
    topics = [telemetry_topic(site, d.device_id) for d in fleet.devices]
    rounds = (
        None if duration_s is None else int(duration_s * speedup / fleet.sample_period_s + 1e-9)
    )
    interval = fleet.sample_period_s / speedup
    codec = JsonProtocol()
    truth = ground_truth_payload(fleet, site)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    run = _Run()
    failures = 0
    log.info("event=sim_publish_start host=%s port=%s site=%s rounds=%s", host, port, site, rounds)
    while True:
        client = aiomqtt.Client(
            host, port, username=username, password=password, identifier=client_id, timeout=10
        )
        try:
            async with client:
                failures = 0
                log.info("event=sim_connected host=%s port=%s", host, port)
                await client.publish(
                    gt_topic, truth, qos=qos, retain=True, timeout=publish_timeout_s
                )
                while True:
                    if not run.pending:
                        if rounds is not None and run.samples >= rounds:
                            return run.stats()
                        if await _sleep_until(t0 + run.samples * interval, stop):
                            return run.stats()
                        for topic, readings in zip(topics, fleet.step(), strict=True):
                            if readings:
                                run.pending.append((topic, codec.encode(readings), len(readings)))
                            else:
                                run.gaps += 1
                        run.samples += 1
                    await run.flush(client, qos, publish_timeout_s)
        except aiomqtt.MqttError as exc:
            _retrieve_disconnect_error(client)
            failures += 1
            run.reconnects += 1
            if max_attempts is not None and failures >= max_attempts:
                raise SimulatorError(
                    f"cannot publish to MQTT broker {host}:{port} after {failures} attempts: {exc}"
                ) from exc
            delay = min(backoff_max_s, backoff_min_s * 2 ** (failures - 1))
            delay *= _jitter.uniform(0.5, 1.0)
            log.warning(
                "event=sim_mqtt_error host=%s port=%s error=%r retry_in_s=%.2f",
                host,
                port,
                str(exc),
                delay,
            )
            if await _sleep_until(loop.time() + delay, stop):
                return run.stats()
