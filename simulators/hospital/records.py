"""Ground truth of a hospital fleet: degradations and failures, service, look-alikes, quirks.

Every record is a frozen dataclass with a ``to_json`` dict; :func:`jsonl_lines`
writes them one JSON object a line, with a ``type`` field (``failure``,
``service``, ``event``, ``quirk``), and :func:`parse_jsonl` reads them back::

    {"type": "failure", "device_id": "MR-0001", "failure_mode": "MR.COLDHEAD.DEGRADATION",
     "onset_ts": 1767225600.0, "failure_ts": 1769040000.0, "precursor": "drift",
     "outcome": "failed", "end_ts": 1769040000.0}
    {"type": "service", "device_id": "MR-0001", "kind": "repair", "start_ts": ..., "end_ts": ...,
     "failure_mode": "MR.COLDHEAD.DEGRADATION", "parts": ["cold head"], "cost": 49600.0}

A degradation's ``outcome`` is ``failed`` (``failure_ts`` is when) or
``found_at_pm`` (preventive maintenance found and fixed it at ``end_ts``;
``failure_ts`` is when it would have failed). ``precursor`` is None for a
sudden failure (``onset_ts == failure_ts``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from htm_edge.simulators.errors import SimulatorError

__all__ = [
    "Course",
    "EventRecord",
    "QuirkRecord",
    "Record",
    "ServiceRecord",
    "jsonl_lines",
    "parse_jsonl",
]

Outcome = Literal["failed", "found_at_pm"]
ServiceKind = Literal["pm", "repair", "npf"]


@dataclass(frozen=True, slots=True)
class Course:
    """One degradation of one failure mode: onset, failure (or found at PM), precursor."""

    device_id: str
    failure_mode: str
    onset_ts: float
    failure_ts: float
    precursor: str | None
    outcome: Outcome = "failed"
    end_ts: float = 0.0

    @property
    def sudden(self) -> bool:
        """True when the failure came with no precursor."""
        return self.precursor is None

    def to_json(self) -> dict[str, Any]:
        """JSON-able form with ``type = "failure"``."""
        return {"type": "failure", **asdict(self)}


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    """A service visit: preventive maintenance, a repair, or a no-problem-found call."""

    device_id: str
    kind: ServiceKind
    start_ts: float
    end_ts: float
    failure_mode: str | None = None
    parts: tuple[str, ...] = ()
    cost: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON-able form with ``type = "service"``."""
        return {"type": "service", **asdict(self), "parts": list(self.parts)}


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A benign look-alike event (catalogued in ``catalog.LOOKALIKES``)."""

    device_id: str
    event: str
    start_ts: float
    end_ts: float

    def to_json(self) -> dict[str, Any]:
        """JSON-able form with ``type = "event"``."""
        return {"type": "event", **asdict(self)}


@dataclass(frozen=True, slots=True)
class QuirkRecord:
    """A data-quality quirk that is not a failure: a step, a stuck sensor, an outage."""

    device_id: str
    kind: Literal["step", "stuck", "outage"]
    start_ts: float
    end_ts: float
    signal: str = ""
    delta: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-able form with ``type = "quirk"``."""
        return {"type": "quirk", **asdict(self)}


Record = Course | ServiceRecord | EventRecord | QuirkRecord
_TYPES: dict[str, type[Any]] = {
    "failure": Course,
    "service": ServiceRecord,
    "event": EventRecord,
    "quirk": QuirkRecord,
}


def jsonl_lines(records: Iterable[Record]) -> Iterator[str]:
    """One compact JSON line per record (no trailing newline)."""
    for record in records:
        yield json.dumps(record.to_json(), separators=(",", ":"), sort_keys=True)


def parse_jsonl(lines: Iterable[str]) -> list[Record]:
    """Read records written by :func:`jsonl_lines` (SimulatorError naming the line)."""
    out: list[Record] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            cls = _TYPES[doc.pop("type")]
            if "parts" in doc:
                doc["parts"] = tuple(doc["parts"])
            out.append(cls(**doc))
        except (ValueError, KeyError, TypeError) as exc:
            raise SimulatorError(f"ground truth line {n}: not a record: {exc!r}") from None
    return out
