"""Device utilisation from the ``in_use`` signal: state, last use, next idle window.

Every device publishes ``in_use`` (0/1). The tracker keeps, per device, the
current state, the last time it was seen in use and a 24-bin hour-of-day
profile (samples seen, samples in use), so its memory is constant per device.

The *next idle window* is estimated from that profile: an hour of day is idle
when it holds at least ``min_samples`` samples and at most ``idle_fraction`` of
them were in use. A device idle right now is idle from now until the next busy
hour; a device in use gets the next run of idle hours within 24 h. Without
enough history the window is unknown (None). Hours are UTC hours of day (the
configuration has no site time zone yet).

Examples
--------
>>> t = UtilisationTracker(min_samples=1)
>>> for day in range(2):
...     for hour in range(24):
...         t.update("pump-1", day * 86400 + hour * 3600, 1.0 if 8 <= hour < 18 else 0.0)
>>> t.update("pump-1", 2 * 86400 + 9 * 3600, 1.0)      # day 3, 09:00, in use
>>> info = t.info("pump-1", 2 * 86400 + 9 * 3600)
>>> info.in_use, (info.idle_from % 86400) / 3600, (info.idle_until % 86400) / 3600
(True, 18.0, 8.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["UsageInfo", "UtilisationTracker"]

_HOUR = 3600.0
_DAY_HOURS = 24


@dataclass(frozen=True, slots=True)
class UsageInfo:
    """What is known about a device's use at one time (None = unknown)."""

    in_use: bool | None
    last_used_at: float | None
    idle_from: float | None
    idle_until: float | None


class _Device:
    __slots__ = ("in_use", "last_ts", "last_used_at", "samples", "used")

    def __init__(self) -> None:
        self.in_use: bool | None = None
        self.last_ts = -math.inf
        self.last_used_at: float | None = None
        self.samples = [0] * _DAY_HOURS
        self.used = [0] * _DAY_HOURS


class UtilisationTracker:
    """Per-device in-use state and hour-of-day utilisation profile.

    Parameters
    ----------
    idle_fraction:
        An hour of day is idle when at most this share of its samples were in use.
    min_samples:
        Samples an hour of day needs before it is judged at all.
    """

    def __init__(self, idle_fraction: float = 0.2, min_samples: int = 3) -> None:
        self.idle_fraction = idle_fraction
        self.min_samples = min_samples
        self._devices: dict[str, _Device] = {}

    def __len__(self) -> int:
        return len(self._devices)

    def update(self, device_id: str, ts: float, value: float) -> None:
        """Record one ``in_use`` sample (non-zero = in use; NaN is ignored)."""
        if not (math.isfinite(ts) and math.isfinite(value)):
            return
        dev = self._devices.get(device_id)
        if dev is None:
            dev = self._devices[device_id] = _Device()
        used = value >= 0.5
        hour = _hour_of_day(ts)
        dev.samples[hour] += 1
        dev.used[hour] += int(used)
        if ts >= dev.last_ts:
            dev.last_ts = ts
            dev.in_use = used
        if used and (dev.last_used_at is None or ts > dev.last_used_at):
            dev.last_used_at = ts

    def info(self, device_id: str, now: float) -> UsageInfo:
        """Return the device's state at ``now`` and its next idle window."""
        dev = self._devices.get(device_id)
        if dev is None:
            return UsageInfo(None, None, None, None)
        if dev.in_use is False:
            return UsageInfo(False, dev.last_used_at, now, self._idle_end(dev, now))
        start = self._next_idle(dev, now)
        until = None if start is None else self._idle_end(dev, start)
        return UsageInfo(dev.in_use, dev.last_used_at, start, until)

    def _is_idle(self, dev: _Device, hour: int) -> bool | None:
        n = dev.samples[hour]
        if n < self.min_samples:
            return None
        return dev.used[hour] <= self.idle_fraction * n

    def _next_idle(self, dev: _Device, after: float) -> float | None:
        """Start of the first idle whole hour after ``after`` within 24 h, else None."""
        boundary = math.floor(after / _HOUR) * _HOUR
        for k in range(1, _DAY_HOURS + 1):
            start = boundary + k * _HOUR
            if self._is_idle(dev, _hour_of_day(start)):
                return start
        return None

    def _idle_end(self, dev: _Device, after: float) -> float | None:
        """Start of the first hour after ``after`` not known to be idle (None: 24 h idle)."""
        boundary = math.floor(after / _HOUR) * _HOUR
        for k in range(1, _DAY_HOURS + 1):
            start = boundary + k * _HOUR
            if not self._is_idle(dev, _hour_of_day(start)):
                return start
        return None


def _hour_of_day(ts: float) -> int:
    return int(ts // _HOUR) % _DAY_HOURS
