"""Health of the running daemon: a status file it rewrites every few seconds, and staleness.

The daemon writes ``<data_dir>/status.json`` (atomically, mode 0600) with its
counters, the spool's depth and oldest frame, how far each consumer is
behind, whether each source is connected, and per device when it was last
heard from. ``htm-edge status`` reads that file, so it works without a socket
or a port, and says the daemon is not running when the file is older than a
few write intervals.

Staleness: for each device the gateway learns its usual interval between
messages (an EWMA of the gaps). A device silent for longer than
``STALE_FACTOR`` of those intervals (and at least ``STALE_MIN_S``) becomes
*stale*: one ``event=device_stale`` log line and a ``devices.stale_events``
count when it goes silent, ``event=device_back`` when it returns, and the
list in the status file, where alerting can pick it up.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from htm_edge.collector.health import Health
from htm_edge.collector.private import private_file

__all__ = [
    "STALE_FACTOR",
    "STALE_MIN_S",
    "STATUS_FILE",
    "DeviceWatch",
    "read_status",
    "render_status",
    "write_status",
]

log = logging.getLogger(__name__)

STATUS_FILE = "status.json"
#: a device is stale after this many of its usual intervals without a message ...
STALE_FACTOR = 10.0
#: ... and never sooner than this
STALE_MIN_S = 120.0
#: how often the daemon rewrites the status file
WRITE_EVERY_S = 5.0


@dataclass
class _Device:
    last: float
    interval: float | None = None
    stale: bool = False


@dataclass
class DeviceWatch:
    """When each device was last heard from (gateway clock) and how often it usually speaks."""

    devices: dict[str, _Device] = field(default_factory=dict)
    alpha: float = 0.1

    def heard(self, device_id: str, at: float) -> None:
        """Record a message from ``device_id`` received at ``at`` (epoch seconds)."""
        d = self.devices.get(device_id)
        if d is None:
            self.devices[device_id] = _Device(at)
            return
        gap = at - d.last
        if gap > 0:
            d.interval = gap if d.interval is None else d.interval + self.alpha * (gap - d.interval)
            d.last = at
        if d.stale:
            d.stale = False
            log.info("event=device_back device_id=%s", device_id)

    def check(self, now: float, health: Health) -> list[str]:
        """Mark devices silent for too long as stale (logged once each); return them all."""
        stale = []
        for device_id, d in self.devices.items():
            limit = max(STALE_MIN_S, STALE_FACTOR * (d.interval or STALE_MIN_S))
            silent = now - d.last
            if silent > limit:
                if not d.stale:
                    d.stale = True
                    health.inc("devices.stale_events")
                    log.warning(
                        "event=device_stale device_id=%s silent_s=%.0f usual_interval_s=%s",
                        device_id,
                        silent,
                        f"{d.interval:.1f}" if d.interval else "unknown",
                    )
                stale.append(device_id)
        return sorted(stale)

    def snapshot(self, now: float) -> dict[str, dict[str, Any]]:
        """Per device: seconds since last heard, usual interval, stale."""
        return {
            k: {
                "silent_s": round(now - d.last, 1),
                "interval_s": None if d.interval is None else round(d.interval, 2),
                "stale": d.stale,
            }
            for k, d in sorted(self.devices.items())
        }


def write_status(data_dir: Path, doc: dict[str, Any]) -> None:
    """Write the status document atomically (a failure is logged, never raised)."""
    path = data_dir / STATUS_FILE
    try:
        tmp = private_file(path.with_suffix(".tmp"))
        tmp.write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.error("event=status_not_written path=%s error=%r", path, str(exc))


def read_status(data_dir: Path, now: float | None = None) -> dict[str, Any]:
    """The last status the daemon wrote, with ``age_s`` and ``running`` added.

    Raises
    ------
    FileNotFoundError
        When no daemon ever wrote one in ``data_dir``.
    """
    doc: dict[str, Any] = json.loads((data_dir / STATUS_FILE).read_text(encoding="utf-8"))
    age = (time.time() if now is None else now) - float(doc.get("written_at", 0.0))
    doc["age_s"] = round(age, 1)
    doc["running"] = age < 3 * WRITE_EVERY_S and _alive(int(doc.get("pid", 0)))
    return doc


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def render_status(doc: dict[str, Any]) -> str:
    """The status as a few lines for a person."""
    c = doc.get("counters", {})
    g = doc.get("gauges", {})
    state = "running" if doc["running"] else "NOT RUNNING (status is stale)"
    sources = ", ".join(
        f"{k} {'connected' if v else 'DISCONNECTED'}" for k, v in doc["sources"].items()
    )
    depth, oldest = g.get("spool.depth", 0), g.get("spool.oldest_age_s", 0)
    lines = [
        f"htm-edge daemon: {state}, pid {doc.get('pid')}, status {doc['age_s']:.0f} s old",
        f"sources: {sources}",
        f"spool: {depth:.0f} frames, oldest {oldest:.0f} s, dropped {c.get('spool.dropped', 0)}",
        "behind: " + ", ".join(f"{k} {v}" for k, v in doc["behind"].items()),
        f"frames {c.get('frames.received', 0)} received, {c.get('frames.malformed', 0)} "
        f"malformed; readings {c.get('readings.received', 0)} received, "
        f"{c.get('readings.scored', 0)} scored",
        f"alerts {c.get('alerts.dispatched', 0)} dispatched, "
        f"{c.get('alerts.undelivered', 0)} undelivered",
        f"devices: {len(doc['devices'])} seen, stale: {', '.join(doc['stale']) or 'none'}",
    ]
    errors = {k: v for k, v in c.items() if k.endswith(("errors", "failed", "config_errors"))}
    if errors:
        lines.append("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(errors.items())))
    return "\n".join(lines)
