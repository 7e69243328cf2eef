"""Alert quality on simulated fleets: false alerts on healthy devices, and fault lead time.

Runs the gateway's own scoring pipeline (:mod:`htm_edge.gateway.pipeline`) offline over
a fleet with every catalogued failure mode injected once and two healthy
devices per modality, for several seeds and start times, and reports:

* false alerts per healthy device-day (alerts that open on devices with no fault),
* the share of faults detected between onset and failure, and the lead time,
* the same for a plain robust z-score detector (``robust_ewma``) run in the
  same pass, as the baseline,
* and the demo's own fleet (the embedded default config) with the default detector.

Run ``python -m benchmarks.fleet_alerts [--days 7] [--seeds 3] [--json] [--detector NAME]``;
``--detector`` adds a row for that registry detector (default parameters) on the same fleet.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from benchmarks.report import write_section
from htm_edge.config.catalog import CATALOG
from htm_edge.config.inventory import Device, InventoryConfig, Modality
from htm_edge.gateway.evaluation import FleetEvaluation, evaluate_fleet
from htm_edge.gateway.settings import HtmConfig, load_config
from htm_edge.models.config import ModelsConfig
from htm_edge.models.registry import DEFAULT_DETECTOR
from htm_edge.simulators.config import FaultConfig, SimulatedDeviceConfig, SimulationConfig

__all__ = ["fleet_config", "main"]

_DAY_S = 86_400.0
_START = 1_767_225_600.0  # 2026-01-01 00:00 UTC
_MODALITIES = (Modality.MRI, Modality.CT, Modality.INFUSION_PUMP, Modality.VENTILATOR)


def fleet_config(
    days: float, detector: str = "default", healthy_per_modality: int = 2
) -> HtmConfig:
    """The embedded default config with a fleet holding every failure mode once."""
    base = load_config(None)
    devices: list[Device] = []
    simulated: list[SimulatedDeviceConfig] = []
    for modality in _MODALITIES:
        for i in range(healthy_per_modality):
            devices.append(Device(device_id=f"{modality.value}-ok-{i}", modality=modality))
            simulated.append(SimulatedDeviceConfig(device_id=devices[-1].device_id))
    # the per-device simulators cover these modalities (the hospital engine, all of them)
    specs = [m for m in CATALOG.values() if m.modality in _MODALITIES]
    for i, spec in enumerate(sorted(specs, key=lambda m: m.id)):
        device_id = f"{spec.modality.value}-f{i}"
        devices.append(Device(device_id=device_id, modality=spec.modality))
        # onset after a day of learning; failure two days later, before the run ends
        onset = _DAY_S * (1.0 + 0.5 * (i % 3) / 3)
        duration = min(2 * _DAY_S, days * _DAY_S - onset - 3600)
        fault = FaultConfig(failure_mode=spec.id, start_s=onset, duration_s=duration)
        simulated.append(SimulatedDeviceConfig(device_id=device_id, fault=fault))
    return base.model_copy(
        update={
            "inventory": InventoryConfig(devices=devices),
            "simulation": SimulationConfig(seed=0, sample_period_s=60.0, devices=simulated),
            "models": ModelsConfig(detector=detector),
        }
    )


def _summarise(runs: list[FleetEvaluation]) -> dict[str, Any]:
    faults = [f for r in runs for f in r.faults]
    leads = [f.lead_time_s / 3600 for f in faults if f.lead_time_s is not None]
    exposure = sum(r.healthy_devices * r.days for r in runs)
    missed = sorted({f.failure_mode for f in faults if not f.detected})
    return {
        "false_alerts_per_device_day": sum(r.false_alerts for r in runs) / exposure,
        "detection_rate": sum(f.detected for f in faults) / len(faults),
        "median_lead_time_h": statistics.median(leads) if leads else None,
        "faults": len(faults),
        "missed_modes": missed,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a table, write docs/benchmarks.md (section fleet_alerts)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-doc", action="store_true", help="don't write docs/benchmarks.md")
    parser.add_argument("--detector", action="append", default=[], help="also run NAME")
    args = parser.parse_args(argv)

    results: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    for detector in dict.fromkeys(["default", *args.detector, "robust_ewma"]):
        cfg = fleet_config(args.days, detector)
        runs = [
            evaluate_fleet(cfg, args.days, start_ts=_START + 7 * 3600 * seed, seed=seed)
            for seed in range(args.seeds)
        ]
        results[detector] = _summarise(runs)
    demo = load_config(None)
    demo_runs = [
        evaluate_fleet(demo, args.days, start_ts=_START + 7 * 3600 * seed, seed=seed)
        for seed in range(args.seeds)
    ]
    results["default, demo fleet"] = _summarise(demo_runs)
    elapsed = time.perf_counter() - started

    devices = len(fleet_config(args.days).simulation.devices)
    extra = "".join(f" --detector {d}" for d in args.detector)
    lines = [
        "## Alert quality on simulated fleets",
        "",
        f"`python -m benchmarks.fleet_alerts --days {args.days:g} --seeds {args.seeds}{extra}`: "
        f"{devices} simulated devices (every catalogued failure mode once, two healthy devices "
        f"per modality), {args.days:g} simulated days, {args.seeds} seeds and start times, "
        "one sample a minute, through the gateway's own scoring pipeline and the default "
        f"alert rules ({elapsed:.0f} s). The last row is the demo's own fleet (embedded "
        "default config: six devices, one MRI cold-head fault over 5 h) over the same days "
        f"and seeds. The default detector is `{DEFAULT_DETECTOR}`.",
        "",
        "| detector | false alerts per healthy device-day | faults detected before failure "
        "| median lead time (h) | missed failure modes |",
        "|---|---|---|---|---|",
    ]
    for key, r in results.items():
        name = f"default (`{DEFAULT_DETECTOR}`)" if key == "default" else key
        lead = "-" if r["median_lead_time_h"] is None else f"{r['median_lead_time_h']:.1f}"
        lines.append(
            f"| {name} | {r['false_alerts_per_device_day']:.3f} | "
            f"{r['detection_rate']:.0%} of {r['faults']} | {lead} | "
            f"{', '.join(r['missed_modes']) or 'none'} |"
        )
    table = "\n".join(lines)
    print(table)
    if not args.no_doc:
        write_section("fleet_alerts", table)
    if args.json:
        print(json.dumps({"elapsed_s": elapsed, **{k: v for k, v in results.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
