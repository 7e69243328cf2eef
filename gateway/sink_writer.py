"""One sink's stage: take batches from its own buffer, write them, retry failures with backoff.

A sink that keeps failing is retried forever with full-jitter exponential
backoff (0.1 s up to 30 s) and counted (``sink.<name>.write_errors``); it
falls behind alone, since it reads from its own :class:`ReadingBuffer`. Stop
cancels the wait between retries.
"""

from __future__ import annotations

import logging

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_random_exponential

from htm_edge.collector.health import Health
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks import Sink
from htm_edge.gateway.buffers import ReadingBuffer

__all__ = ["SinkWriter"]

log = logging.getLogger(__name__)


class SinkWriter:
    """The stage that feeds ``sink`` from its own bounded buffer."""

    def __init__(self, sink: Sink, health: Health) -> None:
        self.sink = sink
        self.health = health
        self.buffer = ReadingBuffer(sink.cfg.max_pending)
        self._writing = 0

    @property
    def unwritten(self) -> int:
        """Readings taken for this sink and not yet written (buffered or in a write)."""
        return self.buffer.pending + self._writing

    async def run(self) -> None:
        """Write batches until the buffer is closed and empty."""
        cfg = self.sink.cfg
        done = False
        while not done:
            batch, done = await self.buffer.take(cfg.batch_size, cfg.flush_interval_s)
            if not batch:
                continue
            self._writing = len(batch)
            await self._write(batch)
            self._writing = 0
            self.health.inc(f"sink.{self.sink.name}.written", len(batch))

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
