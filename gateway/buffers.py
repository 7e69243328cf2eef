"""A bounded buffer of readings for one consumer (a sink), measured in readings.

Each sink reads from its own buffer, so a sink that is slow or failing falls
behind alone: the decoder, the other sinks and scoring go on until this
buffer holds ``limit`` readings. Only then does :meth:`ReadingBuffer.put`
wait (backpressure); nothing is dropped. The durable spool of the collector
issue replaces the memory bound with a disk one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence

from htm_edge.collector.reading import Reading

__all__ = ["ReadingBuffer"]


class ReadingBuffer:
    """FIFO of reading batches with a bound on the readings it holds.

    Examples
    --------
    >>> import asyncio
    >>> async def demo() -> tuple[int, bool]:
    ...     buf = ReadingBuffer(limit=10)
    ...     await buf.put([Reading("d", "s", 1.0, 1.0)] * 3)
    ...     buf.close()
    ...     batch, closed = await buf.take(100, linger_s=0.0)
    ...     return len(batch), closed
    >>> asyncio.run(demo())
    (3, True)
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: deque[Sequence[Reading]] = deque()
        self._pending = 0
        self._closed = False
        self._changed = asyncio.Condition()

    @property
    def pending(self) -> int:
        """Readings held now."""
        return self._pending

    async def put(self, readings: Sequence[Reading]) -> None:
        """Append ``readings``; wait while the buffer is full (one batch may overshoot)."""
        if not readings:
            return
        async with self._changed:
            await self._changed.wait_for(lambda: self._pending < self.limit or self._closed)
            self._items.append(readings)
            self._pending += len(readings)
            self._changed.notify_all()

    def close(self) -> None:
        """Mark the end: :meth:`take` returns what is left, then reports closed."""
        self._closed = True
        with contextlib.suppress(RuntimeError):  # no running loop: nobody waits
            asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def take(self, limit: int, linger_s: float) -> tuple[list[Reading], bool]:
        """Wait for readings, then gather up to ``limit`` arriving within ``linger_s``.

        Returns the batch and whether the buffer is closed and now empty.
        """
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._items) or self._closed)
            if linger_s > 0 and self._pending < limit and not self._closed:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(linger_s):
                        await self._changed.wait_for(lambda: self._pending >= limit or self._closed)
            batch: list[Reading] = []
            while self._items and len(batch) < limit:
                item = self._items.popleft()
                batch.extend(item)
                self._pending -= len(item)
            self._changed.notify_all()
            return batch, self._closed and not self._items
