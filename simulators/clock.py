"""Where a simulated fleet's clock starts, so that its readings never come from the future.

A fleet runs ``speedup`` times faster than real time; started at "now" its
timestamps would soon lie ahead of the gateway clock, and the gateway rejects
readings stamped more than a day ahead. A run of known length therefore
starts in the past and ends at about the moment it finishes; an open-ended
run starts :data:`OPEN_ENDED_LEAD_S` in the past.

>>> simulation_start(1_767_225_600.0, duration_s=60, speedup=600, period_s=60)
1767189600.0
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = [
    "OPEN_ENDED_LEAD_S",
    "SEEDED_EPOCH",
    "AcceleratedClock",
    "seeded_start",
    "simulation_start",
]

#: how far back an open-ended run starts (30 simulated days)
OPEN_ENDED_LEAD_S = 30 * 86_400.0


def simulation_start(
    now: float, *, duration_s: float | None, speedup: float, period_s: float
) -> float:
    """The start timestamp: the run's simulated span before ``now``, on a sample boundary."""
    span = OPEN_ENDED_LEAD_S if duration_s is None else duration_s * speedup
    return float(math.floor((now - span) / period_s) * period_s)


#: the first Monday of 2025, 00:00 UTC: where seeded runs start counting weeks
SEEDED_EPOCH = 1_736_121_600.0


def seeded_start(seed: int, now: float, span_s: float) -> float:
    """Start of an accelerated run that is reproducible from its seed alone.

    A Monday at 00:00 UTC, ``seed mod 52`` weeks after :data:`SEEDED_EPOCH`
    (so seeds cover the seasons), or earlier if that run would end after
    ``now`` (readings never lie ahead of the gateway clock).

    >>> seeded_start(3, now=1_800_000_000.0, span_s=86_400.0) - SEEDED_EPOCH
    1814400.0
    """
    start = SEEDED_EPOCH + (seed % 52) * 7 * 86_400.0
    while start + span_s > now:
        start -= 7 * 86_400.0
    return start


class AcceleratedClock:
    """Simulated time that runs ``speedup`` times faster than a wall clock.

    It reads ``start_ts`` until :meth:`anchor` is called (when the accelerated
    fleet starts publishing), then ``start_ts + (wall - anchored) * speedup``,
    so devices that are not part of the fleet can share its time.

    >>> wall = iter([100.0, 100.0, 102.5]).__next__
    >>> clock = AcceleratedClock(5_000.0, speedup=600.0, wall=wall)
    >>> clock.anchor()
    >>> clock(), clock()
    (5000.0, 6500.0)
    """

    def __init__(
        self, start_ts: float, speedup: float, wall: Callable[[], float] = time.time
    ) -> None:
        self.start_ts = start_ts
        self.speedup = speedup
        self.wall = wall
        self._anchored: float | None = None

    def anchor(self) -> None:
        """Start the clock running: from now on it advances ``speedup`` s per wall second."""
        self._anchored = self.wall()

    def __call__(self) -> float:
        if self._anchored is None:
            return self.start_ts
        return self.start_ts + max(0.0, self.wall() - self._anchored) * self.speedup
