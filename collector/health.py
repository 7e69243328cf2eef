"""Health counters of the running daemon: what came in, what was lost, what was stored.

Telegraf users learned that drops go unnoticed unless counted (domain.md §5);
every stage counts here and the daemon reports the counters at exit and on demand.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Health"]


@dataclass
class Health:
    """Named counters plus the last time each device was heard from."""

    counters: Counter[str] = field(default_factory=Counter)
    last_seen: dict[str, float] = field(default_factory=dict)
    #: levels rather than counts (spool depth, oldest frame age)
    gauges: dict[str, float] = field(default_factory=dict)

    def inc(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name``."""
        self.counters[name] += n

    def gauge(self, name: str, value: float) -> None:
        """Set gauge ``name`` to ``value``."""
        self.gauges[name] = value

    def get(self, name: str) -> int:
        """Return counter ``name`` (0 when never incremented)."""
        return self.counters[name]

    def seen(self, device_id: str, ts: float) -> None:
        """Record that ``device_id`` sent data stamped ``ts``."""
        if ts > self.last_seen.get(device_id, float("-inf")):
            self.last_seen[device_id] = ts

    def snapshot(self) -> dict[str, int]:
        """Return a copy of all counters, sorted by name."""
        return dict(sorted(self.counters.items()))
