"""The in-process transport: a fleet's readings handed to a callback, paced by a clock.

The clock is injected: :class:`VirtualClock` jumps to each round's time at
once (accelerated time, evaluation, tests); :class:`PacedClock` sleeps so
that ``speed`` simulated seconds pass per real second. Either way no round is
delivered before the clock reaches its timestamp, so readings never lie
ahead of the (simulated) gateway clock.

Examples
--------
>>> from htm_edge.config.inventory import Device, Modality
>>> from htm_edge.simulators.hospital.engine import FleetEngine
>>> eng = FleetEngine([Device(device_id="V-1", modality=Modality.VENTILATOR)], seed=0,
...                   period_s=60.0, start_ts=1_767_225_600.0)
>>> got = []
>>> InProcessTransport(eng, VirtualClock(eng.start_ts)).run_until(
...     eng.start_ts + 600, lambda batch: got.append(len(batch)))
10
>>> sum(got) > 0
True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from htm_edge.collector.reading import Reading
from htm_edge.simulators.hospital.engine import Chunk, FleetEngine

__all__ = ["Clock", "InProcessTransport", "PacedClock", "VirtualClock"]


class Clock(Protocol):
    """Simulated time: ``now()`` and a way to wait until a moment."""

    def now(self) -> float:
        """Current simulated epoch seconds."""
        ...

    def wait_until(self, ts: float) -> None:
        """Return once ``now() >= ts``."""
        ...


class VirtualClock:
    """A clock that jumps: waiting moves it forward at once."""

    def __init__(self, start_ts: float) -> None:
        self._now = start_ts

    def now(self) -> float:
        """Current simulated time."""
        return self._now

    def wait_until(self, ts: float) -> None:
        """Jump to ``ts`` (never backwards)."""
        self._now = max(self._now, ts)


class PacedClock:
    """Simulated time running ``speed`` times faster than the real monotonic clock."""

    def __init__(self, start_ts: float, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.start_ts = start_ts
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> float:
        """Current simulated time."""
        return self.start_ts + (time.monotonic() - self._t0) * self.speed

    def wait_until(self, ts: float) -> None:
        """Sleep until simulated ``ts``."""
        delay = (ts - self.now()) / self.speed
        if delay > 0:
            time.sleep(delay)


class InProcessTransport:
    """Deliver a fleet's rounds to a callback as the clock reaches them.

    ``rounds_per_batch`` rounds are delivered together (in time order), so a
    consumer's per-call overhead is shared; the batch waits for its last round's time.
    """

    def __init__(self, engine: FleetEngine, clock: Clock, rounds_per_batch: int = 1) -> None:
        self.engine = engine
        self.clock = clock
        self.rounds_per_batch = max(1, rounds_per_batch)
        self._chunk: Chunk | None = None
        self._t = 0

    def run_until(self, end_ts: float, deliver: Callable[[list[Reading]], None]) -> int:
        """Deliver every round before ``end_ts``; return how many rounds were delivered."""
        rounds = 0
        batch: list[Reading] = []
        pending = 0
        while True:
            if self._chunk is None or self._t >= self._chunk.ts.shape[0]:
                if self.engine.next_ts >= end_ts:
                    break
                self._chunk = self.engine.next_chunk()
                self._t = 0
            ts = float(self._chunk.ts[self._t])
            if ts >= end_ts:
                break
            for _, readings in self._chunk.messages(self._t):
                batch.extend(readings)
            self._t += 1
            rounds += 1
            pending += 1
            if pending >= self.rounds_per_batch:
                self.clock.wait_until(ts)
                deliver(batch)
                batch, pending = [], 0
        if pending:
            self.clock.wait_until(float(self._chunk.ts[self._t - 1]))  # type: ignore[union-attr]
            deliver(batch)
        return rounds
