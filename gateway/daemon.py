"""The daemon: runs every built component as stages of one task group.

::

    sources --Frame--> decode --Reading[]--+--> sink stage (one per sink, own buffer)
                         |                 +--> score stage --events--> notify stage
                         v
                    dead letters

Stages are tasks of one ``asyncio.TaskGroup`` joined by bounded queues
(``gateway.queue_size``) and one bounded buffer per sink (``max_pending``
readings), so a slow or failing sink falls behind alone. Stages start
downstream-first.

What it guarantees (each shown by a test):

* **Bad input never stops it.** Any exception while decoding one frame
  dead-letters that frame with its source and reason; the next frame goes on.
* **A failing sink is isolated.** Its writes are retried with jittered
  backoff and counted (``sink.<name>.write_errors``); the other sinks and
  scoring go on until its buffer is full, then ingest waits (nothing dropped).
* **Stop on time.** On stop, sources end first and every stage drains what it
  holds, for at most ``gateway.shutdown_timeout_s``; what is still unwritten
  then is logged and counted (``shutdown.unfinished.*``), and the run ends.
* **Fail fast.** A stage that fails for good ends the run with
  :class:`StageFailed` naming it, so the process exits non-zero and its
  supervisor restarts it.

Not yet guaranteed: aiomqtt acknowledges QoS-1 messages on receipt, so
readings in memory at a crash or at the stop deadline are lost; the durable
spool with late acknowledgement (collector issue) closes that gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Sequence
from typing import Any

from htm_edge.alerting.notifiers import Notifier
from htm_edge.alerting.types import AlertEvent, WorkOrder
from htm_edge.collector.deadletter import DeadLetterStore, carries_patient_data, redacted
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.health import Health
from htm_edge.collector.private import private_dir
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks import Sink
from htm_edge.gateway.buffers import ReadingBuffer
from htm_edge.gateway.compose import Components, build_components
from htm_edge.gateway.errors import GatewayError, StageFailed
from htm_edge.gateway.model_state import restore_model_state, save_model_state
from htm_edge.gateway.settings import HtmConfig
from htm_edge.gateway.sink_writer import SinkWriter
from htm_edge.gateway.summary import RunSummary, event_dict

__all__ = ["Daemon", "RunSummary"]

log = logging.getLogger(__name__)

_SCORE_BATCH = 4096
_RECENT_EVENTS = 1000
_NOTIFY_TIMEOUT_S = 10.0
_CLOSE_TIMEOUT_S = 5.0
_REASON_CHARS = 500


class Daemon:
    """Run the collector, models and alerting for one validated config.

    Parameters
    ----------
    cfg:
        The validated configuration.
    notifiers:
        Override the configured notifiers (tests capture work orders this way).
    components:
        Parts built elsewhere (tests run the daemon on in-memory fakes);
        by default :func:`~htm_edge.gateway.compose.build_components` builds them.
    health:
        The counters the components count into (give it with ``components``).
    """

    def __init__(
        self,
        cfg: HtmConfig,
        notifiers: Sequence[Notifier] | None = None,
        *,
        components: Components | None = None,
        health: Health | None = None,
    ) -> None:
        self.cfg = cfg
        self.health = health if health is not None else Health()
        self.data_dir = cfg.gateway.data_dir
        parts = components or build_components(
            cfg,
            self.health,
            scorer=restore_model_state(self.data_dir),
            notifiers=None if notifiers is None else list(notifiers),
        )
        self.sources = parts.sources
        self.protocols = parts.protocols
        self.sinks = parts.sinks
        self.pipeline = parts.pipeline
        self.notifiers = parts.notifiers
        #: the most recent dispatched events (bounded: the daemon runs for months)
        self.dispatched: deque[AlertEvent] = deque(maxlen=_RECENT_EVENTS)
        self._decoder_errors_logged: set[str] = set()

    async def run(self, stop: asyncio.Event) -> RunSummary:
        """Run until ``stop`` is set, drain within the deadline, and return the summary.

        Raises
        ------
        StageFailed
            When a stage failed for good (the summary is logged first).
        """
        size = self.cfg.gateway.queue_size
        frames: asyncio.Queue[tuple[str, Frame] | None] = asyncio.Queue(size)
        writers = [SinkWriter(s, self.health) for s in self.sinks]
        buffers = [w.buffer for w in writers]
        to_model: asyncio.Queue[list[Reading] | None] = asyncio.Queue(size)
        to_notify: asyncio.Queue[tuple[AlertEvent, WorkOrder] | None] = asyncio.Queue(size)
        queues: dict[str, asyncio.Queue[Any]] = {
            "frames": frames,
            "model": to_model,
            "notify": to_notify,
        }
        private_dir(self.data_dir)
        dead = await asyncio.to_thread(DeadLetterStore, self.data_dir / "dead_letters.sqlite")
        opened: list[Sink] = []
        try:
            for sink in self.sinks:
                try:
                    await sink.open()
                except Exception as exc:
                    raise StageFailed(
                        f"sink {sink.name!r} ({sink.type_name}) could not open: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                opened.append(sink)
            async with contextlib.AsyncExitStack() as stack, asyncio.TaskGroup() as tg:
                for notifier in self.notifiers:
                    await stack.enter_async_context(notifier)
                stages = [tg.create_task(self._notify_stage(to_notify), name="notify")]
                stages.append(tg.create_task(self._score_stage(to_model, to_notify), name="score"))
                for writer in writers:
                    stages.append(tg.create_task(writer.run(), name=writer.sink.name))
                stages.append(
                    tg.create_task(
                        self._decode_stage(frames, to_model, buffers, dead), name="decode"
                    )
                )
                source_tasks = [
                    tg.create_task(self._source_stage(src, frames), name=f"source {src.name}")
                    for src in self.sources
                ]
                log.info(
                    "event=daemon_started sources=%d sinks=%d", len(self.sources), len(self.sinks)
                )
                await stop.wait()
                await self._drain(source_tasks, stages, frames, queues, writers)
        except BaseExceptionGroup as group:
            failures = [e for e in _leaves(group) if not isinstance(e, asyncio.CancelledError)]
            if not failures:
                raise
            first = failures[0]
            log.critical("event=stage_failed error=%r", f"{type(first).__name__}: {first}")
            raise StageFailed(f"a daemon stage failed: {type(first).__name__}: {first}") from first
        finally:
            for sink in opened:
                await self._bounded(sink.close(), f"closing sink {sink.name}")
            await self._bounded(asyncio.to_thread(dead.close), "closing the dead-letter store")
            save_model_state(self.data_dir, self.pipeline.scorer)
        return self.summary()

    async def _drain(
        self,
        source_tasks: list[asyncio.Task[None]],
        stages: list[asyncio.Task[None]],
        frames: asyncio.Queue[tuple[str, Frame] | None],
        queues: dict[str, asyncio.Queue[Any]],
        writers: list[SinkWriter],
    ) -> None:
        """Stop sources, then let every stage finish what it holds, within the deadline."""
        log.info("event=daemon_stopping deadline_s=%g", self.cfg.gateway.shutdown_timeout_s)
        for task in source_tasks:
            task.cancel()
        await asyncio.wait(source_tasks, timeout=_CLOSE_TIMEOUT_S)
        try:
            async with asyncio.timeout(self.cfg.gateway.shutdown_timeout_s):
                await frames.put(None)
                await asyncio.gather(*stages)
        except TimeoutError:
            unfinished = {name: q.qsize() for name, q in queues.items()}
            for writer in writers:
                unfinished[f"sink.{writer.sink.name}"] = writer.unwritten
            for name, n in unfinished.items():
                self.health.inc(f"shutdown.unfinished.{name}", n)
            log.error(
                "event=shutdown_deadline_exceeded deadline_s=%g unfinished=%s",
                self.cfg.gateway.shutdown_timeout_s,
                json.dumps(unfinished, sort_keys=True),
            )
            for task in stages:
                task.cancel()

    async def _bounded(self, work: Awaitable[Any], what: str) -> None:
        """Await ``work`` for at most a few seconds; log instead of hanging or raising."""
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await work
        except TimeoutError:
            log.error("event=close_timeout what=%r timeout_s=%g", what, _CLOSE_TIMEOUT_S)
        except Exception as exc:  # closing must not hide the run's own outcome
            log.error("event=close_failed what=%r error=%r", what, str(exc))

    async def wait_connected(self, run_task: asyncio.Task[RunSummary], timeout_s: float) -> None:
        """Wait until every source is ready; re-raise if ``run_task`` died first."""
        ready: asyncio.Future[list[bool]] = asyncio.ensure_future(
            asyncio.gather(*(s.ready.wait() for s in self.sources))
        )
        either: list[asyncio.Future[Any]] = [run_task, ready]
        done, _ = await asyncio.wait(either, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        if run_task in done:
            ready.cancel()
            run_task.result()  # re-raise the daemon's error
            raise GatewayError("the daemon stopped before its sources connected")
        if not done:
            ready.cancel()
            raise GatewayError(f"the daemon's sources did not connect within {timeout_s:g} s")

    def messages_in(self) -> int:
        """Messages the sources have taken in so far."""
        return sum(self.health.get(f"source.{s.name}.messages") for s in self.sources)

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
            readings_stored=min(h.get(f"sink.{s.name}.written") for s in self.sinks)
            if self.sinks
            else 0,
            readings_scored=h.get("readings.scored"),
            frames_malformed=h.get("frames.malformed"),
            alerts_dispatched=h.get("alerts.dispatched"),
            alerts=[event_dict(e) for e in self.dispatched],
            counters=h.snapshot(),
        )

    # ------------------------------------------------------------------ stages
    async def _source_stage(
        self, source: Any, frames: asyncio.Queue[tuple[str, Frame] | None]
    ) -> None:
        name = source.name

        async def emit(frame: Frame) -> None:
            await frames.put((name, frame))

        await source.run(emit)

    def _decode(self, name: str, frame: Frame) -> list[Reading] | str:
        """The frame's readings, or the reason it is rejected (never raises)."""
        protocol = self.protocols[name]
        try:
            return protocol.parse(frame)
        except DecodeError as exc:
            return str(exc)[:_REASON_CHARS]
        except Exception as exc:  # a protocol bug must not take the daemon down
            kind = type(exc).__name__
            private = carries_patient_data(protocol)  # its message may quote the payload
            self.health.inc("frames.decoder_errors")
            if kind not in self._decoder_errors_logged:
                self._decoder_errors_logged.add(kind)
                log.error(
                    "event=decoder_error protocol=%s source=%s error=%s",
                    protocol.type_name,
                    name,
                    kind,
                    exc_info=not private,
                )
            detail = "" if private else f": {exc}"
            return f"{kind} in protocol {protocol.type_name!r}{detail}"[:_REASON_CHARS]

    async def _decode_stage(
        self,
        frames: asyncio.Queue[tuple[str, Frame] | None],
        to_model: asyncio.Queue[list[Reading] | None],
        buffers: list[ReadingBuffer],
        dead: DeadLetterStore,
    ) -> None:
        while (item := await frames.get()) is not None:
            name, frame = item
            self.health.inc("frames.received")
            readings = self._decode(name, frame)
            if isinstance(readings, str):
                await self._dead_letter(dead, name, frame, readings)
                continue
            self.health.inc("readings.received", len(readings))
            for reading in readings:
                self.health.seen(reading.device_id, reading.ts)
            await to_model.put(readings)
            for buf in buffers:
                await buf.put(readings)
        await to_model.put(None)
        for buf in buffers:
            buf.close()

    async def _dead_letter(
        self, dead: DeadLetterStore, name: str, frame: Frame, reason: str
    ) -> None:
        self.health.inc("frames.malformed")
        self.health.inc(f"source.{name}.dead_letters")
        log.warning("event=malformed_frame source=%s error=%r", frame.source[:200], reason)
        frame = redacted(self.protocols[name], frame, self.health)
        try:
            await asyncio.to_thread(dead.put, frame, reason)
        except Exception as exc:  # a full disk must not stop ingest; say what was not kept
            self.health.inc("deadletter.errors")
            log.error(
                "event=dead_letter_failed source=%s bytes=%d error=%r",
                frame.source[:200],
                len(frame.payload),
                str(exc),
            )

    async def _score_stage(
        self,
        queue: asyncio.Queue[list[Reading] | None],
        to_notify: asyncio.Queue[tuple[AlertEvent, WorkOrder] | None],
    ) -> None:
        ended = False
        while not ended:
            first = await queue.get()
            if first is None:
                break
            batch = list(first)
            while len(batch) < _SCORE_BATCH:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if item is None:
                    ended = True
                    break
                batch.extend(item)
            events = self.pipeline.process(batch)
            self.health.inc("readings.scored", sum(1 for r in batch if r.usable))
            for event in events:
                await to_notify.put(event)
        await to_notify.put(None)

    async def _notify_stage(
        self, queue: asyncio.Queue[tuple[AlertEvent, WorkOrder] | None]
    ) -> None:
        while (item := await queue.get()) is not None:
            event, order = item
            delivered = 0
            for notifier in self.notifiers:
                try:
                    async with asyncio.timeout(_NOTIFY_TIMEOUT_S):
                        await notifier.send(event, order)
                except Exception as exc:  # one failing notifier must not starve the others
                    notifier.failed += 1
                    self.health.inc(f"notifier.{notifier.name}.failed")
                    log.error(
                        "event=notify_failed notifier=%s key=%s error=%r",
                        notifier.name,
                        event.alert.key,
                        str(exc) or type(exc).__name__,
                    )
                    continue
                delivered += 1
                self.health.inc(f"notifier.{notifier.name}.sent")
            if delivered or not self.notifiers:
                self.dispatched.append(event)
                self.health.inc("alerts.dispatched")
                self.health.inc(f"alerts.{event.kind}")
            else:
                self.health.inc("alerts.undelivered")


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out
