"""The reference prediction model of the simulated hospital fleet, shipped with the package.

``htm-edge evaluate`` grades the failure predictions of a simulated fleet, and
they need a model trained on run-to-failure histories. Training one takes
minutes (a fleet of :data:`DEVICES` devices over :data:`DAYS` days is
simulated, then fitted), so the package ships the model that recipe gives on
seed :data:`SEED` (``gateway/data/reference-fleet.htm``), and ``evaluate``
uses it unless ``--model`` or ``models.prognostics.model_file`` names another.
Evaluate other seeds with it: seed :data:`SEED` is its training fleet.

It models the *simulated* devices only (the demo, ``evaluate``, tests). Real
devices need a model trained on their own history (``htm-edge train``); the
daemon's embedded default predicts from trends alone.

A model file is refused when it was written by another scikit-learn release
or for another feature set (:mod:`htm_edge.models.prognostics.modelfile`);
then :func:`reference_model` trains the same recipe in the run (10 to 30
minutes on two cores). After a change to the features or to training,
regenerate the shipped file (a test fails until then)::

    python -m htm_edge.gateway.reference_model
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from htm_edge.gateway.hospital_fleet import write_fleet_files
from htm_edge.gateway.prognostics_fleet import build_engine_for
from htm_edge.gateway.settings import load_config
from htm_edge.gateway.train import train_from_sim_dir
from htm_edge.models.errors import ModelError
from htm_edge.models.prognostics import FleetModel, PrognosticsConfig

__all__ = [
    "DAYS",
    "DEVICES",
    "SEED",
    "build_reference_model",
    "main",
    "reference_model",
    "shipped_path",
]

SEED = 9
DEVICES = 300
DAYS = 120
#: the simulator's default sample period for written fleets (``htm-edge simulate --out``)
PERIOD_S = 60.0


def shipped_path() -> Path:
    """Where the installed package keeps the reference model file."""
    return Path(str(resources.files("htm_edge.gateway") / "data" / "reference-fleet.htm"))


def recipe(devices: int = DEVICES, days: int = DAYS) -> dict[str, Any]:
    """How the reference model is made: written into its metadata, checked by a test."""
    return {"reference_seed": SEED, "devices": devices, "days": days, "period_s": PERIOD_S}


def build_reference_model(
    config: PrognosticsConfig,
    *,
    progress: bool = False,
    devices: int = DEVICES,
    days: int = DAYS,
) -> FleetModel:
    """Simulate the reference fleet into a temporary directory and train on it.

    The same steps as ``htm-edge simulate --devices N --days D --seed 9 --out DIR``
    then ``htm-edge train DIR``.
    """
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="htm-edge-reference-") as tmp:
        engine = build_engine_for(devices, SEED, days, PERIOD_S)
        if progress:
            print(
                f"reference model: simulating {devices} devices x {days} days (seed {SEED})",
                file=sys.stderr,
                flush=True,
            )
        write_fleet_files(engine, days, Path(tmp))
        if progress:
            print("reference model: training", file=sys.stderr, flush=True)
        model, _ = train_from_sim_dir(Path(tmp), config)
    model.metadata.update(recipe(devices, days))
    model.metadata["source"] = "simulated reference fleet"
    model.metadata["build_s"] = round(time.perf_counter() - began, 1)
    return model


def reference_model(
    config: PrognosticsConfig, *, progress: bool = False
) -> tuple[FleetModel, dict[str, Any]]:
    """The shipped reference model, or the same recipe trained now if this installation refuses it.

    Returns the model and what to report about it (``model_file``, or
    ``trained_in_run`` with the reason the shipped file was refused).
    """
    path = shipped_path()
    try:
        return FleetModel.load(path), {"model_file": "reference", **recipe()}
    except ModelError as exc:
        reason = str(exc)
    if progress:
        print(
            f"evaluate: the shipped reference model does not load here ({reason}); "
            "training the same recipe now (10 to 30 minutes)",
            file=sys.stderr,
            flush=True,
        )
    model = build_reference_model(config, progress=progress)
    return model, {"model_file": None, "trained_in_run": reason, **recipe()}


def main(argv: list[str] | None = None) -> int:
    """Regenerate the shipped file (or write the model elsewhere with ``--out``)."""
    ap = argparse.ArgumentParser(prog="python -m htm_edge.gateway.reference_model")
    ap.add_argument("--out", type=Path, default=None, help="default: the shipped file")
    ap.add_argument("--devices", type=int, default=DEVICES, help="to try another recipe (--out)")
    ap.add_argument("--days", type=int, default=DAYS, help="to try another recipe (--out)")
    args = ap.parse_args(argv)
    out: Path = args.out or shipped_path()
    model = build_reference_model(
        load_config().models.prognostics, progress=True, devices=args.devices, days=args.days
    )
    model.save(out)
    print(f"reference model: wrote {out} in {model.metadata['build_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
