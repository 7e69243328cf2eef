"""Running the hospital fleet (:mod:`htm_edge.simulators.hospital`) from the application.

* :class:`HospitalSource`: the fleet one sample round at a time, in the shape
  :func:`htm_edge.gateway.publisher.publish_fleet` and the in-process
  transport step through;
* :func:`write_fleet_files`: telemetry, ground truth (JSONL) and the inventory
  (CSV) of an accelerated run, written to a folder.

The simulators do no I/O; writing files and publishing are done here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from htm_edge.collector.reading import Reading
from htm_edge.config.catalog import signals_of
from htm_edge.config.inventory import Device
from htm_edge.config.inventory_csv import inventory_csv_text
from htm_edge.simulators.hospital.engine import Chunk, FleetEngine
from htm_edge.simulators.hospital.inventory import generate_inventory
from htm_edge.simulators.hospital.records import jsonl_lines

__all__ = ["FileStats", "HospitalSource", "build_engine", "write_fleet_files"]

log = logging.getLogger(__name__)
DAY_S = 86_400.0


def build_engine(n_devices: int, seed: int, period_s: float, start_ts: float) -> FleetEngine:
    """The fleet of a generated inventory of ``n_devices`` (same seed, same fleet)."""
    devices, use = generate_inventory(n_devices, seed)
    return FleetEngine(devices, seed, period_s, start_ts, use_scales=use)


class HospitalSource:
    """The engine one sample round at a time (``devices``, ``sample_period_s``, ``step``)."""

    def __init__(self, engine: FleetEngine) -> None:
        self.engine = engine
        self.devices: tuple[Device, ...] = engine.ordered
        self.sample_period_s = engine.period_s
        self._chunk: Chunk | None = None
        self._t = 0

    @property
    def next_ts(self) -> float:
        """Timestamp of the next round."""
        if self._chunk is None or self._t >= self._chunk.ts.shape[0]:
            return self.engine.next_ts
        return float(self._chunk.ts[self._t])

    def step(self) -> list[list[Reading]]:
        """The next round: one reading list per device of :attr:`devices` ([] = silent)."""
        if self._chunk is None or self._t >= self._chunk.ts.shape[0]:
            self._chunk = self.engine.next_chunk()
            self._t = 0
        out = self._chunk.round_lists(self._t)
        self._t += 1
        return out

    def ground_truth_payload(self, site: str) -> bytes:
        """The ground truth planned so far, as one JSON document (retained on MQTT)."""
        records = [json.loads(line) for line in jsonl_lines(self.engine.ground_truth())]
        doc = {"site": site, "start_ts": self.engine.start_ts, "records": records}
        return json.dumps(doc, separators=(",", ":")).encode()


@dataclass
class FileStats:
    """What :func:`write_fleet_files` wrote."""

    device_days: float
    samples: int
    values: int
    records: int
    elapsed_s: float
    files: list[str] = field(default_factory=list)


def _write_npz(out: Path, day: int, chunks: list[Chunk]) -> tuple[list[str], int]:
    files, values = [], 0
    ts = np.concatenate([c.ts for c in chunks])
    for gi, group in enumerate(chunks[0].groups):
        arrays: dict[str, np.ndarray] = {
            "ts": ts,
            "device_id": np.array(group.device_ids),
            "silent": np.concatenate([c.groups[gi].silent for c in chunks]),
        }
        for spec in signals_of(group.modality):
            col = np.concatenate([c.groups[gi].values[spec.name] for c in chunks])
            arrays[spec.name] = col.astype(np.float32)
            values += int(np.count_nonzero(~np.isnan(col) & ~arrays["silent"]))
        path = out / "telemetry" / group.modality.value / f"day-{day:03d}.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
        files.append(str(path.relative_to(out)))
    return files, values


def _write_csv(handle: object, chunks: list[Chunk]) -> int:
    write: Callable[[str], int] = handle.write  # type: ignore[attr-defined]
    n = 0
    for chunk in chunks:
        for t in range(chunk.ts.shape[0]):
            lines = [
                f"{r.ts:.0f},{r.device_id},{r.signal},{r.value if r.usable else ''},{r.quality}\n"
                for _, readings in chunk.messages(t)
                for r in readings
            ]
            n += len(lines)
            write("".join(lines))
    return n


def write_fleet_files(
    engine: FleetEngine,
    days: int,
    out: Path,
    *,
    fmt: Literal["npz", "csv"] = "npz",
    progress: Callable[[int, int, float], None] | None = None,
) -> FileStats:
    """Simulate ``days`` days and write them under ``out``.

    ``telemetry/<modality>/day-NNN.npz`` (``fmt="npz"``: ``ts``, ``device_id``,
    ``silent`` and one ``(T, D)`` float32 array per signal; NaN = not reported,
    -32767 invalid, -32762 calibrating) or ``telemetry.csv``
    (``ts,device_id,signal,value,quality``); ``ground_truth.jsonl``;
    ``inventory.csv``; ``manifest.json``.
    """
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    per_day = engine.steps_per_day // engine.chunk_steps
    files: list[str] = []
    values = 0
    csv_handle = None
    if fmt == "csv":
        csv_handle = (out / "telemetry.csv").open("w", encoding="utf-8")
        csv_handle.write("ts,device_id,signal,value,quality\n")
        files.append("telemetry.csv")
    try:
        for day in range(days):
            chunks = [engine.next_chunk() for _ in range(per_day)]
            if csv_handle is not None:
                values += _write_csv(csv_handle, chunks)
            else:
                new, n = _write_npz(out, day, chunks)
                files.extend(new)
                values += n
            if progress is not None:
                progress(day + 1, days, time.perf_counter() - started)
    finally:
        if csv_handle is not None:
            csv_handle.close()
    records = engine.ground_truth(until_ts=engine.next_ts)
    (out / "ground_truth.jsonl").write_text(
        "".join(line + "\n" for line in jsonl_lines(records)), encoding="utf-8"
    )
    (out / "inventory.csv").write_text(inventory_csv_text(engine.ordered), encoding="utf-8")
    elapsed = time.perf_counter() - started
    manifest = {
        "seed": engine.seed,
        "start_ts": engine.start_ts,
        "period_s": engine.period_s,
        "days": days,
        "devices": len(engine.devices),
        "format": fmt,
        "values": values,
        "records": len(records),
        "elapsed_s": round(elapsed, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    files += ["ground_truth.jsonl", "inventory.csv", "manifest.json"]
    samples = days * engine.steps_per_day * len(engine.devices)
    return FileStats(days * len(engine.devices), samples, values, len(records), elapsed, files)
