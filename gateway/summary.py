"""What one run of the daemon did: the demo prints it, tests assert on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from htm_edge.alerting.rules.prediction import PREDICTION_SIGNAL
from htm_edge.alerting.types import AlertEvent

__all__ = ["RunSummary", "event_dict"]


@dataclass
class RunSummary:
    """Counters of one run of the daemon."""

    devices: int
    readings_received: int
    readings_stored: int
    readings_scored: int
    frames_malformed: int
    alerts_dispatched: int
    #: the most recent dispatched events (up to 1,000), oldest first
    alerts: list[dict[str, Any]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "devices": self.devices,
            "readings_received": self.readings_received,
            "readings_stored": self.readings_stored,
            "readings_scored": self.readings_scored,
            "frames_malformed": self.frames_malformed,
            "alerts_dispatched": self.alerts_dispatched,
            "alerts": self.alerts,
            "counters": self.counters,
        }


def event_dict(event: AlertEvent) -> dict[str, Any]:
    """The part of an alert event a summary keeps (with the predicted hours left, if any)."""
    alert = event.alert
    left = [e.last_value for e in alert.evidence if e.signal == PREDICTION_SIGNAL]
    return {
        "kind": event.kind,
        "ts": event.ts,
        "device_id": alert.device_id,
        "failure_mode": alert.failure_mode,
        "signals": list(alert.signals),
        "opened_at": alert.opened_at,
        "time_to_failure_h": left[0] if left else None,
    }
