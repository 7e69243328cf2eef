"""What reads the spool: the decoder every consumer shares, and the scoring consumer.

Each consumer follows the spool with its own cursor (:class:`SpoolFollower`),
so one that falls behind delays nobody else. Sinks are consumers too
(:mod:`htm_edge.gateway.sink_writer`).

The scoring consumer is the one that dead-letters malformed frames and counts
what came in, once per frame; the sinks skip what does not decode. Its cursor
is saved with the model state at each checkpoint, so after a crash scoring
resumes from the state and the position that belong together.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping

from htm_edge.alerting.types import AlertEvent, WorkOrder
from htm_edge.collector.deadletter import DeadLetterStore, redacted
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.health import Health
from htm_edge.collector.protocols.base import Frame, Protocol
from htm_edge.collector.reading import Reading
from htm_edge.collector.spool import Spool, SpooledFrame
from htm_edge.gateway.pipeline import ScoringPipeline
from htm_edge.gateway.status import DeviceWatch

__all__ = ["Decoder", "ScoreConsumer", "SpoolFollower"]

log = logging.getLogger(__name__)

_REASON_CHARS = 500


class Decoder:
    """Decode spooled frames with the protocol of the source that received them; never raises.

    Consumers that follow the spool closely read the same frames within
    moments of each other, so the scorer's results are kept for the last
    ``cache_frames`` frames and the sinks reuse them instead of decoding again.
    """

    def __init__(
        self, protocols: Mapping[str, Protocol], health: Health, cache_frames: int = 50_000
    ) -> None:
        self.protocols = protocols
        self.health = health
        self.cache_frames = cache_frames
        self._cache: OrderedDict[int, list[Reading] | str] = OrderedDict()
        self._logged: set[str] = set()

    def decode(self, item: SpooledFrame, *, report: bool = True) -> list[Reading] | str:
        """The frame's readings, or the reason it is rejected.

        Only one consumer (the scorer) reports protocol bugs and fills the
        cache; the others pass ``report=False`` and reuse what it decoded.
        """
        if not report:
            cached = self._cache.get(item.seq)
            if cached is not None:
                return cached
            return self._decode(item, report=False)
        result = self._decode(item, report=True)
        self._cache[item.seq] = result
        while len(self._cache) > self.cache_frames:
            self._cache.popitem(last=False)
        return result

    def _decode(self, item: SpooledFrame, *, report: bool) -> list[Reading] | str:
        protocol = self.protocols.get(item.source)
        if protocol is None:
            return f"no protocol for source {item.source!r} (removed from the config?)"
        try:
            return protocol.parse(item.frame)
        except DecodeError as exc:
            return str(exc)[:_REASON_CHARS]
        except Exception as exc:  # a protocol bug must not take the daemon down
            kind = type(exc).__name__
            if report:
                self.health.inc("frames.decoder_errors")
            if report and kind not in self._logged:
                self._logged.add(kind)
                log.exception(
                    "event=decoder_error protocol=%s source=%s", protocol.type_name, item.source
                )
            return f"{kind} in protocol {protocol.type_name!r}: {exc}"[:_REASON_CHARS]

    def redacted(self, item: SpooledFrame) -> Frame:
        """The frame with its payload redacted by its protocol (for storing or logging).

        A redaction that fails keeps nothing of the payload; a frame whose
        source is no longer configured is kept without its payload too, since
        nothing says whether it may identify a patient.
        """
        protocol = self.protocols.get(item.source)
        if protocol is None:
            f = item.frame
            return Frame(b"", f.source, f.received_at, f.hint_device_id)
        return redacted(protocol, item.frame, self.health)


class SpoolFollower:
    """Reads the spool after a position, waiting for more, until told where to stop."""

    def __init__(self, spool: Spool, position: int) -> None:
        self.spool = spool
        self.position = position
        #: set by the daemon on stop: finish with everything up to this seq, then end
        self.final: int | None = None

    @property
    def finished(self) -> bool:
        """True once every frame up to :attr:`final` has been read."""
        return self.final is not None and self.position >= self.final

    async def next(self, limit: int, linger_s: float = 0.0) -> list[SpooledFrame]:
        """The next frames (at least one unless finished); with ``linger_s``, wait for ``limit``."""
        while not self.finished:
            frames = await self.spool.read(self.position, limit)
            if frames and (len(frames) >= limit or linger_s <= 0 or self.final is not None):
                return frames
            if frames:  # fewer than wanted: give more a moment to arrive
                await self.spool.wait_beyond(frames[-1].seq, timeout_s=linger_s)
                return await self.spool.read(self.position, limit)
            await self.spool.wait_beyond(self.position, timeout_s=0.25)
        return []


class ScoreConsumer:
    """Decode, dead-letter, count and score every frame; hand events to the notifier."""

    #: the spool cursor name of this consumer
    NAME = "score"

    def __init__(
        self,
        follower: SpoolFollower,
        decoder: Decoder,
        pipeline: ScoringPipeline,
        dead: DeadLetterStore,
        health: Health,
        to_notify: asyncio.Queue[tuple[AlertEvent, WorkOrder] | None],
        batch_frames: int = 2000,
        linger_s: float = 0.05,
        watch: DeviceWatch | None = None,
    ) -> None:
        self.follower = follower
        self.decoder = decoder
        self.pipeline = pipeline
        self.dead = dead
        self.health = health
        self.to_notify = to_notify
        self.batch_frames = batch_frames
        #: wait this long for a fuller batch: the detectors are vectorised, so a
        #: batch of thousands costs little more than a batch of one
        self.linger_s = linger_s
        self.watch = watch

    async def run(self) -> None:
        """Score until the follower is finished, then end the notifier's queue."""
        try:
            while frames := await self.follower.next(self.batch_frames, self.linger_s):
                readings: list[Reading] = []
                for item in frames:
                    self.health.inc("frames.received")
                    decoded = self.decoder.decode(item)
                    if isinstance(decoded, str):
                        await self._dead_letter(item, decoded)
                        continue
                    self.health.inc("readings.received", len(decoded))
                    for r in decoded:
                        self.health.seen(r.device_id, r.ts)
                    if decoded and self.watch is not None:
                        self.watch.heard(decoded[0].device_id, item.frame.received_at)
                    readings.extend(decoded)
                events = self.pipeline.process(readings)
                self.health.inc("readings.scored", sum(1 for r in readings if r.usable))
                for event in events:  # queued before the position moves (checkpoints)
                    await self.to_notify.put(event)
                self.follower.position = frames[-1].seq
        finally:
            await self.to_notify.put(None)

    async def _dead_letter(self, item: SpooledFrame, reason: str) -> None:
        self.health.inc("frames.malformed")
        self.health.inc(f"source.{item.source}.dead_letters")
        frame = self.decoder.redacted(item)
        log.warning("event=malformed_frame source=%s error=%r", frame.source[:200], reason)
        try:
            await asyncio.to_thread(self.dead.put, frame, reason, item.seq)
        except Exception as exc:  # a full disk must not stop scoring; say what was not kept
            self.health.inc("deadletter.errors")
            log.error(
                "event=dead_letter_failed source=%s bytes=%d error=%r",
                frame.source[:200],
                len(frame.payload),
                str(exc),
            )
