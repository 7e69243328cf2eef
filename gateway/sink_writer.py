"""One sink's stage: follow the spool with the sink's own cursor, write, retry with backoff.

The writer reads frames after its cursor, decodes them (frames that do not
decode are skipped: the scoring consumer dead-letters them), writes up to
``batch_size`` readings at a time and then moves its cursor, durably, past the
frames it wrote. A sink that keeps failing is retried forever with full-jitter
exponential backoff (0.1 s up to 30 s) and counted (``sink.<name>.write_errors``);
it falls behind alone and the spool keeps its frames until it catches up.
A crash between a write and the cursor update means those readings are
written again after the restart, which every sink absorbs (idempotent writes).
"""

from __future__ import annotations

import logging

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_random_exponential

from htm_edge.collector.health import Health
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks import Sink
from htm_edge.gateway.consumers import Decoder, SpoolFollower

__all__ = ["SinkWriter"]

log = logging.getLogger(__name__)


class SinkWriter:
    """The stage that feeds ``sink`` from the spool."""

    def __init__(
        self, sink: Sink, follower: SpoolFollower, decoder: Decoder, health: Health
    ) -> None:
        self.sink = sink
        self.follower = follower
        self.decoder = decoder
        self.health = health
        self._writing = 0

    @staticmethod
    def consumer_name(sink: Sink) -> str:
        """The spool cursor name of ``sink``'s writer."""
        return f"sink:{sink.name}"

    @property
    def behind(self) -> int:
        """Frames in the spool this sink has not written yet."""
        return max(0, self.follower.spool.head - self.follower.position)

    async def run(self) -> None:
        """Write until the follower is finished."""
        cfg = self.sink.cfg
        spool = self.follower.spool
        name = self.consumer_name(self.sink)
        while frames := await self.follower.next(cfg.batch_size, cfg.flush_interval_s):
            batch: list[Reading] = []
            for item in frames:
                decoded = self.decoder.decode(item, report=False)
                if not isinstance(decoded, str):
                    batch.extend(decoded)
            if batch:
                self._writing = len(batch)
                await self._write(batch)
                self._writing = 0
                self.health.inc(f"sink.{self.sink.name}.written", len(batch))
            self.follower.position = frames[-1].seq
            await spool.set_cursor(name, self.follower.position)

    def _failed(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        self.health.inc(f"sink.{self.sink.name}.write_errors")
        log.error(
            "event=sink_write_failed sink=%s readings=%d error=%r retry_in_s=%.1f",
            self.sink.name,
            self._writing,
            str(exc),
            wait,
        )

    async def _write(self, batch: list[Reading]) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_random_exponential(multiplier=0.1, max=30.0),
            before_sleep=self._failed,
        ):
            with attempt:
                await self.sink.write(batch)
