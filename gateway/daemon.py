"""The composition root: builds every component from the config and runs the pipeline.

::

    sources --Frame--> decode --Reading[]--+--> sink stage (one per sink)
                         |                 +--> score stage --Score--> alert engine
                         v                                              |
                    dead letters                          notify stage <-+

All stages are tasks of one ``asyncio.TaskGroup`` joined by bounded queues
(``gateway.queue_size``); a full queue makes the stage before it wait, so
nothing is dropped. Stages start downstream-first. On stop, sources are
cancelled first and an end marker is pushed through the queues, so every stage
drains what it holds before it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from htm_edge.alerting.notifiers import Notifier, build_notifier
from htm_edge.alerting.types import AlertEvent, WorkOrder
from htm_edge.collector.deadletter import DeadLetterStore
from htm_edge.collector.errors import CollectorError, DecodeError
from htm_edge.collector.health import Health
from htm_edge.collector.protocols import make_protocol
from htm_edge.collector.protocols.base import Frame, Protocol
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks import SINKS, Sink
from htm_edge.collector.sources import SOURCES, MqttSource, Source
from htm_edge.config.schema import Device, HtmConfig, Modality, SinkConfig
from htm_edge.gateway.pipeline import ScoringPipeline
from htm_edge.models.scorer import StreamScorer

__all__ = ["Daemon", "RunSummary"]

log = logging.getLogger(__name__)

_SCORE_BATCH = 4096
_RECENT_EVENTS = 1000
_MODEL_STATE = "model_state.json"


@dataclass
class RunSummary:
    """What one run of the daemon did; the demo prints it, tests assert on it."""

    devices: int
    readings_received: int
    readings_stored: int
    readings_scored: int
    frames_malformed: int
    alerts_dispatched: int
    #: the most recent dispatched events (up to 1,000), oldest first
    alerts: list[dict[str, Any]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "devices": self.devices,
            "readings_received": self.readings_received,
            "readings_stored": self.readings_stored,
            "readings_scored": self.readings_scored,
            "frames_malformed": self.frames_malformed,
            "alerts_dispatched": self.alerts_dispatched,
            "alerts": self.alerts,
            "counters": self.counters,
        }


class Daemon:
    """Run the collector, models and alerting for one validated config.

    Parameters
    ----------
    cfg:
        The validated configuration.
    notifiers:
        Override the configured notifiers (tests capture work orders this way).
    """

    def __init__(self, cfg: HtmConfig, notifiers: Sequence[Notifier] | None = None) -> None:
        self.cfg = cfg
        self.health = Health()
        self.data_dir = cfg.gateway.data_dir
        self.sources: list[Source] = [
            SOURCES[s.type](s, cfg.broker, self.health) for s in cfg.sources
        ]
        self.protocols: dict[str, Protocol] = {
            s.name: make_protocol(s.protocol) for s in cfg.sources
        }
        self.sinks: list[Sink] = [SINKS[s.type](s, self.data_dir) for s in cfg.sinks]
        self.inventory: dict[str, Device] = {d.device_id: d for d in cfg.inventory.devices}
        self.pipeline = ScoringPipeline(cfg, self._device, self._restore_model_state())
        self.notifiers: list[Notifier] = (
            list(notifiers)
            if notifiers is not None
            else [build_notifier(n) for n in cfg.alerting.notifiers]
        )
        #: the most recent dispatched events (bounded: the daemon runs for months)
        self.dispatched: deque[AlertEvent] = deque(maxlen=_RECENT_EVENTS)
        self._unknown_logged: set[str] = set()

    def _device(self, device_id: str) -> Device:
        device = self.inventory.get(device_id)
        if device is None:
            if device_id not in self._unknown_logged:
                self._unknown_logged.add(device_id)
                log.warning("event=unknown_device device_id=%s hint=add it to inventory", device_id)
            device = Device(device_id=device_id, modality=Modality.OTHER)
            self.inventory[device_id] = device
        return device

    async def run(self, stop: asyncio.Event) -> RunSummary:
        """Run until ``stop`` is set, then drain every queue and return the summary."""
        size = self.cfg.gateway.queue_size
        frames: asyncio.Queue[tuple[str, Frame] | None] = asyncio.Queue(size)
        cfg_sinks = self.cfg.sinks
        to_sinks = [asyncio.Queue[list[Reading] | None](size) for _ in self.sinks]
        to_model: asyncio.Queue[list[Reading] | None] = asyncio.Queue(size)
        to_notify: asyncio.Queue[tuple[AlertEvent, WorkOrder] | None] = asyncio.Queue(size)
        dead = DeadLetterStore(self.data_dir / "dead_letters.sqlite")
        try:
            for sink in self.sinks:
                await sink.open()
            async with contextlib.AsyncExitStack() as notifiers, asyncio.TaskGroup() as tg:
                for notifier in self.notifiers:
                    await notifiers.enter_async_context(notifier)
                tg.create_task(self._notify_stage(to_notify))
                tg.create_task(self._score_stage(to_model, to_notify))
                for sink_cfg, sink, queue in zip(cfg_sinks, self.sinks, to_sinks, strict=True):
                    tg.create_task(self._sink_stage(sink_cfg, sink, queue))
                tg.create_task(self._decode_stage(frames, [*to_sinks, to_model], dead))
                source_tasks = [
                    tg.create_task(self._source_stage(src, name, frames))
                    for src, name in zip(self.sources, self.protocols, strict=True)
                ]
                log.info(
                    "event=daemon_started sources=%d sinks=%d", len(self.sources), len(self.sinks)
                )
                await stop.wait()
                log.info("event=daemon_stopping")
                for task in source_tasks:
                    task.cancel()
                await asyncio.gather(*source_tasks, return_exceptions=True)
                await frames.put(None)
        finally:
            for sink in self.sinks:
                await sink.close()
            dead.close()
            self._save_model_state()
        return self.summary()

    async def wait_connected(self, run_task: asyncio.Task[RunSummary], timeout_s: float) -> None:
        """Wait until every MQTT source has subscribed; re-raise if ``run_task`` died first."""
        waits = [s.connected.wait() for s in self.sources if isinstance(s, MqttSource)]
        connected: asyncio.Future[list[bool]] = asyncio.ensure_future(asyncio.gather(*waits))
        either: list[asyncio.Future[Any]] = [run_task, connected]
        done, _ = await asyncio.wait(either, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        if run_task in done:
            connected.cancel()
            run_task.result()  # re-raise the daemon's error
            raise CollectorError("the daemon stopped before its sources connected")
        if not done:
            connected.cancel()
            raise CollectorError(f"the daemon's sources did not connect within {timeout_s:g} s")

    def messages_in(self) -> int:
        """Messages the sources have taken in so far."""
        return sum(self.health.get(f"source.{s.name}.messages") for s in self.cfg.sources)

    async def wait_received(self, expected: int, timeout_s: float) -> int:
        """Wait until the sources took in ``expected`` messages (or time out); return the count."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.messages_in() < expected and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return self.messages_in()

    def summary(self) -> RunSummary:
        """Counters of the run so far."""
        h = self.health
        return RunSummary(
            devices=len(h.last_seen),
            readings_received=h.get("readings.received"),
            readings_stored=min(h.get(f"sink.{s.name}.written") for s in self.cfg.sinks)
            if self.cfg.sinks
            else 0,
            readings_scored=h.get("readings.scored"),
            frames_malformed=h.get("frames.malformed"),
            alerts_dispatched=h.get("alerts.dispatched"),
            alerts=[_event_dict(e) for e in self.dispatched],
            counters=h.snapshot(),
        )

    async def _source_stage(
        self, source: Source, name: str, frames: asyncio.Queue[tuple[str, Frame] | None]
    ) -> None:
        async def emit(frame: Frame) -> None:
            await frames.put((name, frame))

        await source.run(emit)

    async def _decode_stage(
        self,
        frames: asyncio.Queue[tuple[str, Frame] | None],
        outputs: Sequence[asyncio.Queue[list[Reading] | None]],
        dead: DeadLetterStore,
    ) -> None:
        while (item := await frames.get()) is not None:
            name, frame = item
            self.health.inc("frames.received")
            try:
                readings = self.protocols[name].parse(frame)
            except DecodeError as exc:
                self.health.inc("frames.malformed")
                log.warning("event=malformed_frame source=%s error=%r", frame.source, str(exc))
                await asyncio.to_thread(dead.put, frame, str(exc))
                continue
            self.health.inc("readings.received", len(readings))
            for reading in readings:
                self.health.seen(reading.device_id, reading.ts)
            for queue in outputs:
                await queue.put(readings)
        for queue in outputs:
            await queue.put(None)

    async def _sink_stage(
        self, cfg: SinkConfig, sink: Sink, queue: asyncio.Queue[list[Reading] | None]
    ) -> None:
        done = False
        while not done:
            batch, done = await _collect(queue, cfg.batch_size, cfg.flush_interval_s)
            delay = 0.1
            while batch:
                try:
                    await sink.write(batch)
                except Exception as exc:  # a sink may fail in many ways; retry, never drop
                    self.health.inc(f"sink.{cfg.name}.write_errors")
                    log.error(
                        "event=sink_write_failed sink=%s error=%r retry_in_s=%.1f",
                        cfg.name,
                        str(exc),
                        delay,
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
                    continue
                self.health.inc(f"sink.{cfg.name}.written", len(batch))
                break

    async def _score_stage(
        self,
        queue: asyncio.Queue[list[Reading] | None],
        to_notify: asyncio.Queue[tuple[AlertEvent, WorkOrder] | None],
    ) -> None:
        done = False
        while not done:
            batch, done = await _collect(queue, _SCORE_BATCH, 0.0)
            if not batch:
                continue
            events = self.pipeline.process(batch)
            self.health.inc("readings.scored", sum(1 for r in batch if r.usable))
            for item in events:
                await to_notify.put(item)
        await to_notify.put(None)

    async def _notify_stage(
        self, queue: asyncio.Queue[tuple[AlertEvent, WorkOrder] | None]
    ) -> None:
        while (item := await queue.get()) is not None:
            event, order = item
            for notifier in self.notifiers:
                try:
                    await notifier.send(event, order)
                except Exception as exc:  # one failing notifier must not starve the others
                    self.health.inc("notify.errors")
                    log.error(
                        "event=notify_failed notifier=%s error=%r",
                        type(notifier).__name__,
                        str(exc),
                    )
            self.dispatched.append(event)
            self.health.inc("alerts.dispatched")
            self.health.inc(f"alerts.{event.kind}")

    def _restore_model_state(self) -> StreamScorer | None:
        """The scorer saved by the last run, or None to start cold."""
        path = self.data_dir / _MODEL_STATE
        if not path.exists():
            return None
        try:
            scorer = StreamScorer.restore(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning(
                "event=model_state_unreadable path=%s error=%r action=start_cold", path, str(exc)
            )
            return None
        log.info("event=model_state_restored streams=%d", scorer.n_streams)
        return scorer

    def _save_model_state(self) -> None:
        path = self.data_dir / _MODEL_STATE
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.pipeline.scorer.snapshot()), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            raise CollectorError(f"cannot save model state to {path}: {exc}") from exc


async def _collect(
    queue: asyncio.Queue[list[Reading] | None], limit: int, linger_s: float
) -> tuple[list[Reading], bool]:
    """Wait for one item, then take what else arrives within ``linger_s`` up to ``limit``.

    Returns the batch and whether the end marker was seen.
    """
    first = await queue.get()
    if first is None:
        return [], True
    batch = list(first)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + linger_s
    while len(batch) < limit:
        try:
            item = queue.get_nowait()
        except asyncio.QueueEmpty:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                item = await asyncio.wait_for(queue.get(), remaining)
            except TimeoutError:
                break
        if item is None:
            return batch, True
        batch.extend(item)
    return batch, False


def _event_dict(event: AlertEvent) -> dict[str, Any]:
    alert = event.alert
    return {
        "kind": event.kind,
        "device_id": alert.device_id,
        "failure_mode": alert.failure_mode,
        "signals": list(alert.signals),
        "opened_at": alert.opened_at,
    }
