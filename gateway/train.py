"""``htm-edge train``: fit a prediction model and write it as a versioned model file.

Two kinds of training data, told apart by what the directory holds:

* **simulator output** (``htm-edge simulate --devices N --days D --out DIR``:
  ``manifest.json``, ``telemetry/<modality>/day-NNN.npz``,
  ``ground_truth.jsonl``, ``inventory.csv``): the telemetry runs through the
  same :class:`~htm_edge.models.prognostics.Prognostics` the daemon runs
  (feature recording on), the ground truth labels the rows, and a
  :class:`~htm_edge.models.prognostics.FleetModel` is fitted (thresholds,
  out-of-fold alert probability, groups by make/model, modality, fleet);
* **run-to-failure tables** in the C-MAPSS text format (``train_<X>.txt[.gz]``):
  a :class:`~htm_edge.models.prognostics.rul.RunToFailureRegressor` on
  ``train_<X>`` (``--subset X``, default the first found).

``--scheduler ADDRESS`` runs the same work on a Dask cluster
(``dask.distributed``): one feature-extraction task per modality of the
simulator output and one fit per model group; every task is deterministic,
so the model equals the in-process one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from htm_edge.config import catalog
from htm_edge.config.inventory import Modality
from htm_edge.config.inventory_csv import read_inventory_csv
from htm_edge.gateway.compose import build_prognostics
from htm_edge.gateway.prognostics_fleet import FleetFeatures, merge, train_on_fleet, truth_labels
from htm_edge.gateway.settings import load_config
from htm_edge.models.errors import ModelError
from htm_edge.models.prognostics import FleetModel, PrognosticsConfig
from htm_edge.models.prognostics.rul import RunToFailureRegressor
from htm_edge.models.prognostics.runs import find_subsets, load_runs
from htm_edge.simulators.hospital.overlay import SENTINELS
from htm_edge.simulators.hospital.records import parse_jsonl

__all__ = ["add_train_arguments", "cmd_train", "modality_features", "train_from_sim_dir"]

MapFn = Callable[[Callable[..., Any], list[tuple[Any, ...]]], list[Any]]


def modality_features(directory: str, modality: str, config: PrognosticsConfig) -> FleetFeatures:
    """Features of one modality's devices from simulator files (one training task)."""
    began = time.perf_counter()
    root = Path(directory)
    mod = Modality(modality)
    devices = [d for d in read_inventory_csv(root / "inventory.csv") if d.modality is mod]
    by_id = {d.device_id: d for d in devices}
    prog = build_prognostics(config, by_id.__getitem__)
    prog.record = True
    names = [s.name for s in catalog.signals_of(mod)]
    slots = None
    files = sorted((root / "telemetry" / modality).glob("day-*.npz"))
    for path in files:
        with np.load(path) as z:
            ts = np.asarray(z["ts"], dtype=np.float64)
            ids = [str(i) for i in z["device_id"]]
            silent = np.asarray(z["silent"], dtype=bool)
            vals = np.stack([np.asarray(z[n], dtype=np.float64) for n in names], axis=2)
        if slots is None:
            slots = prog.slots_for(
                [i for i in ids for _ in names], [n for _ in ids for n in names]
            ).reshape(len(ids), len(names))
        vals = np.where(
            silent[:, :, None] | np.isin(vals, np.array(SENTINELS, dtype=np.float32)), np.nan, vals
        )
        for a in range(0, ts.size, 10):
            b = min(a + 10, ts.size)
            block = vals[a:b]
            prog.update_slots(
                np.broadcast_to(slots[None], block.shape).reshape(-1),
                np.broadcast_to(ts[a:b, None, None], block.shape).reshape(-1),
                block.reshape(-1),
            )
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    start = float(manifest["start_ts"])
    days = float(manifest["days"])
    records = parse_jsonl((root / "ground_truth.jsonl").read_text(encoding="utf-8").splitlines())
    mine = set(by_id)
    courses, downtime = truth_labels([r for r in records if r.device_id in mine])
    return FleetFeatures(
        prog.recorded, courses, downtime, devices, len(devices) * days, start,
        start + days * 86_400.0, time.perf_counter() - began,
    )  # fmt: skip


def _modalities(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "telemetry").iterdir() if p.is_dir())


def train_from_sim_dir(
    directory: Path, config: PrognosticsConfig, *, map_fn: MapFn | None = None, seed: int = 0
) -> tuple[FleetModel, dict[str, Any]]:
    """Fit a fleet model on simulator output (``map_fn``: where the tasks run)."""
    root = Path(directory)
    if not (root / "manifest.json").exists():
        raise ModelError(f"{root}: no manifest.json (write one with htm-edge simulate --out)")
    jobs = [(str(root), m, config) for m in _modalities(root)]
    parts = (
        [modality_features(*j) for j in jobs] if map_fn is None else map_fn(modality_features, jobs)
    )
    feats = merge(parts)
    if not any(c.failed and c.precursor for c in feats.courses):
        raise ModelError(f"{root}: no failure with a precursor to learn from; simulate longer")
    return train_on_fleet(feats, config, seed=seed, map_fn=map_fn, metadata={"source": str(root)})


def dask_map(address: str) -> tuple[MapFn, Callable[[], None]]:
    """A map over a Dask cluster at ``address`` (``tcp://host:8786``), and its close."""
    from distributed import Client

    client = Client(address)  # type: ignore[no-untyped-call]

    def run(fn: Callable[..., Any], jobs: list[tuple[Any, ...]]) -> list[Any]:
        futures = [client.submit(fn, *job, pure=False) for job in jobs]
        return list(client.gather(futures))  # type: ignore[no-untyped-call]

    return run, client.close


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``train`` flags."""
    parser.add_argument("source", type=Path, help="simulator output or C-MAPSS directory")
    parser.add_argument("--out", type=Path, required=True, help="model file to write")
    parser.add_argument("--subset", default=None, help="run-to-failure data: which train_X")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler")
    parser.add_argument("--config", type=Path, default=None, help="TOML config (prognostics)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")


def cmd_train(args: argparse.Namespace) -> int:
    """Run ``htm-edge train``."""
    began = time.perf_counter()
    cfg = load_config(args.config).models.prognostics
    src: Path = args.source
    if not src.is_dir():
        print(f"htm-edge train: {src} is not a directory", file=sys.stderr)
        return 2
    map_fn, close = (None, None) if args.scheduler is None else dask_map(args.scheduler)
    try:
        if (src / "manifest.json").exists():
            model, meta = train_from_sim_dir(src, cfg, map_fn=map_fn)
            model.save(args.out)
            summary: dict[str, Any] = {
                "kind": "fleet", "rows": meta["rows"], "failed_courses": meta["failed_courses"],
                "alert_probability": model.alert_probability, "groups": sorted(model.groups),
            }  # fmt: skip
        else:
            subsets: Sequence[str] = find_subsets(src)
            if not subsets:
                raise ModelError(f"{src}: neither simulator output nor train_*.txt files")
            subset = args.subset or subsets[0]
            rtf = RunToFailureRegressor().fit(load_runs(src, f"train_{subset}"))
            rtf.metadata.update({"source": str(src), "subset": subset})
            rtf.save(args.out)
            summary = {"kind": "run-to-failure", **rtf.metadata}
    finally:
        if close is not None:
            close()
    summary.update({"out": str(args.out), "elapsed_s": round(time.perf_counter() - began, 1)})
    print(f"train: wrote {args.out} ({summary['kind']}) in {summary['elapsed_s']:.0f} s")
    if args.json:
        print(json.dumps(summary, sort_keys=True, default=str))
    return 0
