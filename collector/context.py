"""What the collector's plugins are built with, besides their own config section.

Every source, protocol and sink is built by ``cls.from_config(cfg, ctx)`` with
one :class:`IngestContext`, so the factory signature is the same for all of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from htm_edge.collector.health import Health
from htm_edge.collector.mqtt_client import BrokerConfig
from htm_edge.config.inventory import Device

__all__ = ["IngestContext", "TimestampPolicy"]

#: 2000-01-01T00:00:00Z: no device telemetry HTM Edge reads is older
EARLIEST_TS = 946_684_800.0


@dataclass(frozen=True, slots=True)
class TimestampPolicy:
    """The window of plausible reading timestamps, relative to the gateway's clock.

    A timestamp in milliseconds read as seconds lands tens of thousands of years
    ahead; a device with a flat clock battery reports 1970. Both fall outside.
    """

    earliest_ts: float = EARLIEST_TS
    max_ahead_s: float = 86_400.0
    clock: Callable[[], float] = time.time

    def problem(self, ts: float) -> str | None:
        """Why ``ts`` is implausible, or None when it is fine."""
        if ts < self.earliest_ts:
            return f"ts {ts!r} is before {self.earliest_ts:.0f} (2000-01-01): a reset device clock?"
        latest = self.clock() + self.max_ahead_s
        if ts > latest:
            hint = " (milliseconds? send epoch seconds)" if ts > 1e11 else ""
            return f"ts {ts!r} is more than {self.max_ahead_s:g} s ahead of the gateway clock{hint}"
        return None


@dataclass(frozen=True, slots=True)
class IngestContext:
    """Shared services of the collector's plugins.

    Parameters
    ----------
    data_dir:
        The gateway's private data directory (stores, spool, dead letters).
    health:
        The daemon's counters; plugins count into them under their own name.
    broker:
        The MQTT broker settings (MQTT sources use them).
    broker_password:
        The broker password, resolved once at start-up.
    timestamps:
        The plausible-timestamp window protocols enforce.
    site:
        This gateway's site (sinks tag points with it).
    devices:
        The asset inventory by device id (sinks tag points with the modality).
    """

    data_dir: Path
    health: Health = field(default_factory=Health)
    broker: BrokerConfig = field(default_factory=BrokerConfig)
    broker_password: str | None = None
    timestamps: TimestampPolicy = field(default_factory=TimestampPolicy)
    site: str = ""
    devices: Mapping[str, Device] = field(default_factory=dict)
