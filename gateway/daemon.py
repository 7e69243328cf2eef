"""The daemon: runs every built component as stages of one task group, around the spool.

::

    sources --Frame--> spool (SQLite, fsync) --+--> score consumer --events--> dispatcher
                                               |        (work orders + outbox in alerts.sqlite,
                                               |         escalation timers, delivery)
       ^ ack after commit                      +--> sink writer, one per sink (own cursor)
                                               +--> (dead letters, from the score consumer)

A source hands each frame to the durable spool and acknowledges it to its
peer (MQTT PUBACK) only once it is committed; every consumer follows the
spool with its own cursor. Stages start downstream-first.

What it guarantees (each shown by a test):

* **Nothing acknowledged is lost.** A frame is on disk before its message is
  acknowledged; a crash or stop before that leaves it with the broker, which
  redelivers it; a crash after it replays it from the spool. Duplicates are
  absorbed (sinks write idempotently, dead letters are keyed by spool seq).
* **Bad input never stops it.** Any exception while decoding one frame
  dead-letters that frame (redacted by its protocol) with its source and
  reason; the next frame goes on.
* **A failing sink is isolated.** It is retried with jittered backoff and
  counted; it falls behind alone while the spool keeps its frames, up to the
  spool's caps (beyond them the oldest frames are dropped, counted and logged).
* **Stop on time.** Sources end first; every consumer then works through the
  spool up to its head for at most ``gateway.shutdown_timeout_s``. What is
  still unprocessed stays in the spool for the next run (logged as
  ``left_in_spool``). Model state and the scorer's position are checkpointed
  every ``spool.checkpoint_s`` and at stop.
* **Work orders arrive once.** The notify stage is the
  :class:`~htm_edge.gateway.dispatcher.Dispatcher`: every event is committed to
  the alert store with the notifications it causes before a notifier is tried;
  a notifier that is down delays them and a restart delivers what is left.
  A checkpoint waits until the events of the frames it covers are committed.
* **Fail fast.** A stage that fails for good ends the run with
  :class:`StageFailed` naming it, so the process exits non-zero and its
  supervisor restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Sequence
from functools import partial
from typing import Any

from htm_edge.alerting.context import Publish
from htm_edge.alerting.notifiers import Notifier
from htm_edge.alerting.types import AlertEvent, WorkOrder
from htm_edge.collector.deadletter import DeadLetterStore
from htm_edge.collector.health import Health
from htm_edge.collector.private import private_dir
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.sinks import Sink
from htm_edge.collector.sources import EmitFrame, Source
from htm_edge.collector.spool import Spool
from htm_edge.gateway.compose import Components, build_components
from htm_edge.gateway.consumers import Decoder, ScoreConsumer, SpoolFollower
from htm_edge.gateway.errors import GatewayError, StageFailed
from htm_edge.gateway.model_state import restore_model_state, save_model_state
from htm_edge.gateway.settings import HtmConfig
from htm_edge.gateway.sink_writer import SinkWriter, dead_letter_readings
from htm_edge.gateway.status import WRITE_EVERY_S, DeviceWatch, write_status
from htm_edge.gateway.summary import RunSummary, event_dict

__all__ = ["Daemon", "RunSummary"]

log = logging.getLogger(__name__)

_CLOSE_TIMEOUT_S = 5.0


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
        publish: Publish | None = None,
    ) -> None:
        self.cfg = cfg
        self.health = health if health is not None else Health()
        self.data_dir = cfg.gateway.data_dir
        restored = restore_model_state(self.data_dir)
        self._restored_seq = restored.spool_seq if restored is not None else None
        parts = components or build_components(
            cfg,
            self.health,
            scorer=restored.scorer if restored is not None else None,
            prognostics_state=restored.prognostics if restored is not None else None,
            notifiers=None if notifiers is None else list(notifiers),
            publish=publish,
        )
        self.sources: list[Source] = parts.sources
        self.protocols = parts.protocols
        self.sinks: list[Sink] = parts.sinks
        self.pipeline = parts.pipeline
        self.notifiers = parts.notifiers
        self.dispatcher = parts.dispatcher
        self.mqtt_link = parts.mqtt_link
        self.spool: Spool | None = None
        self.watch = DeviceWatch()
        self._stale: list[str] = []
        self.dispatcher.stale = lambda: self._stale
        self._to_notify: asyncio.Queue[tuple[AlertEvent, WorkOrder] | None] | None = None
        self.started_at = time.time()

    async def run(self, stop: asyncio.Event) -> RunSummary:
        """Run until ``stop`` is set, drain within the deadline, and return the summary.

        Raises
        ------
        StageFailed
            When a stage failed for good, or a sink or the spool cannot open.
        """
        private_dir(self.data_dir)
        writers_of = [SinkWriter.consumer_name(s) for s in self.sinks]
        spool = Spool(self.cfg.spool, self.data_dir, [ScoreConsumer.NAME, *writers_of], self.health)
        dead = await asyncio.to_thread(DeadLetterStore, self.data_dir / "dead_letters.sqlite")
        to_notify: asyncio.Queue[tuple[AlertEvent, WorkOrder] | None] = asyncio.Queue(
            self.cfg.gateway.queue_size
        )
        self._to_notify = to_notify
        opened: list[Sink] = []
        score: ScoreConsumer | None = None
        try:
            await self._open(spool, opened)
            self.spool = spool
            decoder = Decoder(self.protocols, self.health)
            start = spool.cursor(ScoreConsumer.NAME)
            if self._restored_seq is not None:
                start = min(self._restored_seq, spool.head)
            score = ScoreConsumer(
                SpoolFollower(spool, start),
                decoder,
                self.pipeline,
                dead,
                self.health,
                to_notify,
                watch=self.watch,
            )
            writers = [
                SinkWriter(
                    s,
                    self.health,
                    follower=SpoolFollower(spool, spool.cursor(n)),
                    decoder=decoder,
                    dead_letter=partial(dead_letter_readings, dead),
                )
                for s, n in zip(self.sinks, writers_of, strict=True)
            ]
            async with contextlib.AsyncExitStack() as stack, asyncio.TaskGroup() as tg:
                for notifier in self.notifiers:
                    await stack.enter_async_context(notifier)
                stages = [tg.create_task(self.dispatcher.run(to_notify), name="notify")]
                stages.append(tg.create_task(score.run(), name="score"))
                stages += [tg.create_task(w.run(), name=w.sink.name) for w in writers]
                upkeep = tg.create_task(self._upkeep(spool, score, writers), name="upkeep")
                link = (
                    tg.create_task(self.mqtt_link.run(), name="alerts-mqtt")
                    if self.mqtt_link is not None
                    else None
                )
                source_tasks = [
                    tg.create_task(src.run(_emitter(spool, src.name)), name=src.name)
                    for src in self.sources
                ]
                log.info(
                    "event=daemon_started sources=%d sinks=%d spool_frames=%d",
                    len(self.sources),
                    len(self.sinks),
                    spool.head - spool.first + 1,
                )
                await stop.wait()
                await self._drain(spool, source_tasks, stages, score, writers)
                upkeep.cancel()
                if link is not None:
                    link.cancel()
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
            if score is not None:
                await self._bounded(self._checkpoint(spool, score), "saving model state")
            if self.spool is not None:
                await self._bounded(spool.close(), "closing the spool")
            await self._bounded(asyncio.to_thread(self.dispatcher.close), "closing the alert store")
            await self._bounded(asyncio.to_thread(dead.close), "closing the dead-letter store")
        return self.summary()

    async def _open(self, spool: Spool, opened: list[Sink]) -> None:
        try:
            await spool.open()
        except Exception as exc:
            raise StageFailed(
                f"the spool {spool.path} could not open: {type(exc).__name__}: {exc}; "
                "check gateway.data_dir or spool.path"
            ) from exc
        try:
            await asyncio.to_thread(self.dispatcher.open, self.data_dir)
        except Exception as exc:
            raise StageFailed(
                f"the alert store in {self.data_dir} could not open: "
                f"{type(exc).__name__}: {exc}; check gateway.data_dir"
            ) from exc
        for sink in self.sinks:
            try:
                await sink.open()
            except Exception as exc:
                raise StageFailed(
                    f"sink {sink.name!r} ({sink.type_name}) could not open: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            opened.append(sink)

    async def _upkeep(self, spool: Spool, score: ScoreConsumer, writers: list[SinkWriter]) -> None:
        """Every few seconds: trim the spool, check staleness, write the status file;
        every ``spool.checkpoint_s``: checkpoint the scorer."""
        loop = asyncio.get_running_loop()
        next_checkpoint = loop.time() + self.cfg.spool.checkpoint_s
        while True:
            await spool.trim()
            now = time.time()
            stale = self.watch.check(now, self.health)
            self._stale = stale
            behind = {ScoreConsumer.NAME: max(0, spool.head - score.follower.position)}
            behind.update({SinkWriter.consumer_name(w.sink): w.behind for w in writers})
            doc = {
                "written_at": now,
                "pid": os.getpid(),
                "started_at": self.started_at,
                "counters": self.health.snapshot(),
                "gauges": dict(self.health.gauges),
                "sources": {s.name: s.ready.is_set() for s in self.sources},
                "behind": behind,
                "devices": self.watch.snapshot(now),
                "stale": stale,
            }
            await asyncio.to_thread(write_status, self.data_dir, doc)
            if loop.time() >= next_checkpoint:
                next_checkpoint = loop.time() + self.cfg.spool.checkpoint_s
                await self._checkpoint(spool, score)
            await asyncio.sleep(WRITE_EVERY_S)

    async def _checkpoint(self, spool: Spool, score: ScoreConsumer) -> None:
        """Save model state with its spool position, then let the spool release what it covers.

        The events of the frames up to that position are committed to the alert
        store first (a crash after the checkpoint must not forget them).
        """
        position = score.follower.position
        if self._to_notify is not None:
            try:
                async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                    await self._to_notify.join()
            except TimeoutError:
                log.warning("event=checkpoint_skipped reason=alert events not yet stored")
                return
        snapshot_ok = await asyncio.to_thread(
            save_model_state,
            self.data_dir,
            self.pipeline.scorer,
            position,
            self.pipeline.prognostics,
        )
        if snapshot_ok and self.spool is not None:
            await spool.set_cursor(ScoreConsumer.NAME, position)

    async def _drain(
        self,
        spool: Spool,
        source_tasks: list[asyncio.Task[None]],
        stages: list[asyncio.Task[None]],
        score: ScoreConsumer,
        writers: list[SinkWriter],
    ) -> None:
        """Stop sources, then let every consumer reach the spool's head, within the deadline."""
        log.info("event=daemon_stopping deadline_s=%g", self.cfg.gateway.shutdown_timeout_s)
        for task in source_tasks:
            task.cancel()
        await asyncio.wait(source_tasks, timeout=_CLOSE_TIMEOUT_S)
        final = spool.head
        followers = {ScoreConsumer.NAME: score.follower}
        for w in writers:
            assert w.follower is not None  # the daemon always builds writers with one
            followers[SinkWriter.consumer_name(w.sink)] = w.follower
        for follower in followers.values():
            follower.final = final
        try:
            async with asyncio.timeout(self.cfg.gateway.shutdown_timeout_s):
                await asyncio.gather(*stages)
        except TimeoutError:
            left = {name: max(0, final - f.position) for name, f in followers.items()}
            for name, n in left.items():
                self.health.inc(f"shutdown.left_in_spool.{name}", n)
            log.warning(
                "event=shutdown_deadline_exceeded deadline_s=%g left_in_spool=%s "
                "note=these frames stay in the spool and are processed at the next start",
                self.cfg.gateway.shutdown_timeout_s,
                json.dumps(left, sort_keys=True),
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

    def messages_in(self, sources: Sequence[str] | None = None) -> int:
        """Messages the sources (all, or those named) have taken in so far."""
        names = [s.name for s in self.sources] if sources is None else sources
        return sum(self.health.get(f"source.{n}.messages") for n in names)

    async def wait_received(
        self, expected: int, timeout_s: float, sources: Sequence[str] | None = None
    ) -> int:
        """Wait until the sources took in ``expected`` messages (or time out); return the count."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.messages_in(sources) < expected and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return self.messages_in(sources)

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
            alerts=[event_dict(e) for e in self.dispatcher.events],
            counters=h.snapshot(),
        )


def _emitter(spool: Spool, source: str) -> EmitFrame:
    """The ``emit`` of one source: returns once the frame is committed to the spool."""

    async def emit(frame: Frame) -> None:
        await spool.append(source, frame)

    return emit


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out
