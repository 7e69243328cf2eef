"""The ground-truth side channel: which faults and look-alikes were injected, and when.

Published retained on ``htm/<site>/_sim/ground_truth`` so an evaluation harness
(or a person with ``mosquitto_sub``) can score alerts for precision and lead time::

    {"site": "demo-hospital", "start_ts": 1767225600.0, "sample_period_s": 60.0,
     "faults": [{"device_id": "MR-01", "failure_mode": "MR.COLDHEAD.DEGRADATION",
                 "onset_ts": 1767234600.0, "failure_ts": 1767249000.0}],
     "events": [{"device_id": "CT-01", "event": "CT.EVENT.COLD_TUBE_WARMUP",
                 "start_ts": 1767229200.0, "end_ts": 1767231000.0}]}
"""

from __future__ import annotations

import json
from typing import Any

from htm_edge.simulators.errors import SimulatorError
from htm_edge.simulators.fleet import EventLabel, FaultLabel, Fleet

__all__ = ["ground_truth_payload", "parse_ground_truth"]


def ground_truth_payload(fleet: Fleet, site: str) -> bytes:
    """Encode the fleet's fault and event labels as the JSON document above."""
    doc = {
        "site": site,
        "start_ts": fleet.start_ts,
        "sample_period_s": fleet.sample_period_s,
        "faults": [
            {
                "device_id": f.device_id,
                "failure_mode": f.failure_mode,
                "onset_ts": f.onset_ts,
                "failure_ts": f.failure_ts,
            }
            for f in fleet.ground_truth()
        ],
        "events": [
            {"device_id": e.device_id, "event": e.event, "start_ts": e.start_ts, "end_ts": e.end_ts}
            for e in fleet.event_labels()
        ],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def parse_ground_truth(payload: bytes) -> tuple[list[FaultLabel], list[EventLabel]]:
    """Decode a ground-truth document into fault and event labels.

    Raises
    ------
    SimulatorError
        When the payload is not a ground-truth document.
    """
    try:
        doc: Any = json.loads(payload)
        faults = [
            FaultLabel(
                str(f["device_id"]),
                str(f["failure_mode"]),
                float(f["onset_ts"]),
                float(f["failure_ts"]),
            )
            for f in doc["faults"]
        ]
        events = [
            EventLabel(
                str(e["device_id"]), str(e["event"]), float(e["start_ts"]), float(e["end_ts"])
            )
            for e in doc.get("events", [])
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SimulatorError(f"not a ground-truth document: {exc!r}") from exc
    return faults, events
