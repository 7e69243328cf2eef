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

__all__ = ["OPEN_ENDED_LEAD_S", "simulation_start"]

#: how far back an open-ended run starts (30 simulated days)
OPEN_ENDED_LEAD_S = 30 * 86_400.0


def simulation_start(
    now: float, *, duration_s: float | None, speedup: float, period_s: float
) -> float:
    """The start timestamp: the run's simulated span before ``now``, on a sample boundary."""
    span = OPEN_ENDED_LEAD_S if duration_s is None else duration_s * speedup
    return float(math.floor((now - span) / period_s) * period_s)
