"""One sink's stage: follow the spool with the sink's own cursor, write, retry as the sink says.

The writer reads frames after its cursor, decodes them (frames that do not
decode are skipped: the scoring consumer dead-letters them; the decoder
reuses what the scorer decoded), writes their readings and then moves its
cursor, durably, past those frames. A crash between a write and the cursor
update means those readings are written again after the restart, which every
sink absorbs (idempotent writes).

A write that fails is retried until it succeeds; what the sink raised
decides how (:class:`~htm_edge.collector.sinks.base.SinkError`):

* **any other exception**: full-jitter exponential backoff (0.1 s doubling up
  to ``backoff_max_s``, 30 s by default), logged and counted per attempt
  (``sink.<name>.write_errors``);
* ``too_large``: the batch is written in halves, recursively, down to single
  readings (``sink.<name>.splits``); a single reading the server still
  refuses is set aside (``sink.<name>.dropped_too_large``), since no retry
  can ever store it and it would block the sink for good;
* ``rejected`` (the server refused readings for their content: older than
  its retention policy, a field type conflict): the same halving isolates
  them, unless the server said it refused the whole chunk
  (``rejected_count``); they are set aside (``sink.<name>.rejected``) and the
  rest is written. Set aside means logged with the server's reason and kept
  in the dead-letter store (``dead_letter``), one row per reading, its JSON
  as payload and ``sink:<name>`` as source, for an operator to replay;
* ``retry_after_s``: the next attempt waits that long (capped at
  ``retry_after_max_s``) instead of the backoff;
* ``configuration``: logged once per episode (an episode ends with the next
  successful write) and counted (``sink.<name>.config_errors``); the batch is
  kept and retried at the slowest rate (``backoff_max_s``) until an operator
  fixes the token or rights.

The sink falls behind alone: the spool keeps its frames until it catches
up. Stop cancels the wait between retries; the cursor stays where it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
from collections.abc import Awaitable, Callable, Sequence

from htm_edge.collector.deadletter import DeadLetterStore
from htm_edge.collector.health import Health
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks import Sink, SinkError
from htm_edge.gateway.consumers import Decoder, SpoolFollower

__all__ = ["DeadLetterFn", "SinkWriter", "dead_letter_readings", "reading_json"]

#: ``(sink name, readings, the server's reason)``: keep them where an operator can replay them
DeadLetterFn = Callable[[str, Sequence[Reading], str], Awaitable[None]]

log = logging.getLogger(__name__)


def reading_json(reading: Reading) -> bytes:
    """A reading as one JSON object: the payload of its dead letter."""
    doc = {
        "device_id": reading.device_id,
        "signal": reading.signal,
        "value": reading.value if math.isfinite(reading.value) else None,
        "ts": reading.ts,
        "unit": reading.unit,
        "quality": reading.quality.value,
    }
    return json.dumps(doc, sort_keys=True).encode()


async def dead_letter_readings(
    store: DeadLetterStore, sink: str, readings: Sequence[Reading], reason: str
) -> None:
    """Keep ``readings`` a server refused in ``store``: one row each, source ``sink:<name>``."""
    frames = [Frame(reading_json(r), f"sink:{sink}", r.ts, r.device_id) for r in readings]
    await asyncio.to_thread(store.put_many, frames, reason)


_BACKOFF_MIN_S = 0.1


class SinkWriter:
    """The stage that feeds ``sink`` from the spool.

    Parameters
    ----------
    sink, health:
        The sink to feed and the counters to count into.
    follower, decoder:
        Where :meth:`run` reads from (its cursor in the spool) and how it
        decodes; :meth:`write` alone needs neither.
    backoff_max_s:
        The longest wait between attempts, and the rate of retries after a
        configuration error.
    retry_after_max_s:
        The longest wait a server's ``Retry-After`` can impose.
    dead_letter:
        Where readings the server can never store go (the daemon's
        dead-letter store); without it they are only logged and counted.
    sleep, rng:
        Injected for tests (``asyncio.sleep`` and a seeded ``random.Random``).
    """

    def __init__(
        self,
        sink: Sink,
        health: Health,
        *,
        follower: SpoolFollower | None = None,
        decoder: Decoder | None = None,
        backoff_max_s: float = 30.0,
        retry_after_max_s: float = 300.0,
        dead_letter: DeadLetterFn | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.sink = sink
        self.health = health
        self.follower = follower
        self.decoder = decoder
        self.backoff_max_s = backoff_max_s
        self.retry_after_max_s = retry_after_max_s
        self.dead_letter = dead_letter
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._writing = 0
        #: True from a configuration error until the next successful write
        self._config_episode = False

    @staticmethod
    def consumer_name(sink: Sink) -> str:
        """The spool cursor name of ``sink``'s writer."""
        return f"sink:{sink.name}"

    @property
    def unwritten(self) -> int:
        """Readings of the write in progress not yet stored."""
        return self._writing

    @property
    def behind(self) -> int:
        """Frames in the spool this sink has not written yet."""
        if self.follower is None:
            return 0
        return max(0, self.follower.spool.head - self.follower.position)

    def _count(self, what: str, n: int = 1) -> None:
        self.health.inc(f"sink.{self.sink.name}.{what}", n)

    async def run(self) -> None:
        """Write what the spool holds for this sink until the follower is finished."""
        if self.follower is None or self.decoder is None:
            raise RuntimeError("SinkWriter.run needs a spool follower and a decoder")
        follower, cfg = self.follower, self.sink.cfg
        name = self.consumer_name(self.sink)
        while frames := await follower.next(cfg.batch_size, cfg.flush_interval_s):
            batch: list[Reading] = []
            for item in frames:
                decoded = self.decoder.decode(item, report=False)
                if not isinstance(decoded, str):
                    batch.extend(decoded)
            if batch:
                self._count("written", await self.write(batch))
            follower.position = frames[-1].seq
            await follower.spool.set_cursor(name, follower.position)

    async def write(self, batch: Sequence[Reading]) -> int:
        """Write ``batch`` until it is stored; return how many readings were (not dropped)."""
        self._writing += len(batch)
        chunks: list[Sequence[Reading]] = [batch]  # a stack: the first half on top
        written = 0
        failures = 0
        while chunks:
            chunk = chunks.pop()
            try:
                await self.sink.write(chunk)
            except SinkError as exc:
                if exc.too_large or exc.rejected:
                    count = exc.rejected_count
                    refused_whole = exc.rejected and count is not None and count >= len(chunk)
                    if len(chunk) <= 1 or refused_whole:
                        await self._set_aside(chunk, exc)
                    else:
                        self._count("splits")
                        middle = len(chunk) // 2
                        chunks.extend([chunk[middle:], chunk[:middle]])  # first half on top
                    continue
                failures += 1
                await self._failed(chunk, exc, failures)
                chunks.append(chunk)
                continue
            except Exception as exc:
                failures += 1
                await self._failed(chunk, exc, failures)
                chunks.append(chunk)
                continue
            written += len(chunk)
            self._writing -= len(chunk)
            failures = 0
            if self._config_episode:
                self._config_episode = False
                log.warning("event=sink_config_error_cleared sink=%s", self.sink.name)
        return written

    async def _set_aside(self, chunk: Sequence[Reading], exc: SinkError) -> None:
        """Log, count and dead-letter readings no retry can store, so the sink moves on."""
        self._writing -= len(chunk)
        reason = "too_large" if exc.too_large else "rejected"
        self._count("dropped_too_large" if exc.too_large else "rejected", len(chunk))
        kept = "kept in the dead-letter store" if self.dead_letter else "not kept (no store)"
        log.error(
            "event=sink_reading_set_aside sink=%s reason=%s readings=%d first=%s error=%r hint=%s",
            self.sink.name,
            reason,
            len(chunk),
            f"{chunk[0].device_id}/{chunk[0].signal}@{chunk[0].ts:.0f}",
            str(exc),
            kept,
        )
        if self.dead_letter is not None:
            await self.dead_letter(self.sink.name, chunk, str(exc))

    def _wait_for(self, exc: Exception, failures: int) -> float:
        """Seconds until the next attempt after the ``failures``-th failure in a row."""
        if isinstance(exc, SinkError) and exc.configuration:
            return self.backoff_max_s
        if isinstance(exc, SinkError) and exc.retry_after_s is not None:
            return min(max(0.0, exc.retry_after_s), self.retry_after_max_s)
        ceiling = min(self.backoff_max_s, _BACKOFF_MIN_S * 2.0 ** min(failures - 1, 60))
        return self._rng.uniform(0.0, ceiling)

    async def _failed(self, chunk: Sequence[Reading], exc: Exception, failures: int) -> None:
        """Count and log a failed attempt, then wait before the next."""
        wait = self._wait_for(exc, failures)
        self._count("write_errors")
        name = self.sink.name
        if isinstance(exc, SinkError) and exc.configuration:
            if not self._config_episode:
                self._config_episode = True
                self._count("config_errors")
                log.error(
                    "event=sink_config_error sink=%s readings=%d error=%r retry_every_s=%.0f "
                    "hint=readings are kept; fix the setting named in the error",
                    name,
                    self.unwritten,
                    str(exc),
                    wait,
                )
        else:
            log.error(
                "event=sink_write_failed sink=%s readings=%d error=%r retry_in_s=%.1f",
                name,
                len(chunk),
                str(exc),
                wait,
            )
        await self._sleep(wait)
