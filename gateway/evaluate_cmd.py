"""``htm-edge evaluate``: a hospital fleet in accelerated time through the real pipeline.

The fleet (:mod:`htm_edge.simulators.hospital`, generated inventory, seeded
start) runs in process through the in-process transport into
:func:`htm_edge.gateway.compose.build_pipeline`, the scoring and alerting the
daemon runs, built from the same config; the opened alerts are graded
against the ground truth by :func:`htm_edge.gateway.fleet_eval.grade`.
Progress goes to standard error once per simulated day; with ``--json`` the
last line of standard output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from htm_edge.alerting.types import EventKind
from htm_edge.config.inventory import InventoryConfig
from htm_edge.gateway.compose import build_pipeline
from htm_edge.gateway.fleet_eval import OpenedAlert, grade
from htm_edge.gateway.hospital_fleet import build_engine
from htm_edge.gateway.settings import HtmConfig, load_config
from htm_edge.simulators.clock import seeded_start
from htm_edge.simulators.hospital.life import DAY_S
from htm_edge.simulators.hospital.transport import InProcessTransport, VirtualClock

__all__ = ["add_evaluate_arguments", "cmd_evaluate", "evaluate"]

_LOOKAHEAD_DAYS = 46  # longer than the longest degradation: late alerts are judged too


def evaluate(
    cfg: HtmConfig,
    devices: int,
    days: int,
    seed: int,
    *,
    period_s: float | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run and grade one fleet; return the metrics (see docs/evaluation.md)."""
    began = time.perf_counter()
    period = period_s if period_s is not None else cfg.simulation.sample_period_s
    start = seeded_start(seed, time.time(), days * DAY_S)
    engine = build_engine(devices, seed, period, start)
    inventory = InventoryConfig(devices=list(engine.devices))
    pipeline = build_pipeline(cfg.model_copy(update={"inventory": inventory}))
    clock = VirtualClock(start)
    alerts: list[OpenedAlert] = []
    readings = 0
    end = start + days * DAY_S

    def deliver(batch: list[Any]) -> None:
        nonlocal readings
        readings += len(batch)
        for event, _order in pipeline.process(batch):
            if event.kind is EventKind.OPENED:
                a = event.alert
                alerts.append(OpenedAlert(a.device_id, a.failure_mode, a.opened_at))

    transport = InProcessTransport(engine, clock, rounds_per_batch=10)
    for day in range(days):
        transport.run_until(start + (day + 1) * DAY_S, deliver)
        if progress:
            took = time.perf_counter() - began
            print(
                f"evaluate: day {day + 1}/{days}, {readings} readings, {len(alerts)} alerts, "
                f"{took:.0f} s, about {took / (day + 1) * (days - day - 1):.0f} s left",
                file=sys.stderr,
                flush=True,
            )
    engine.plan_days(days + _LOOKAHEAD_DAYS)
    metrics = grade(alerts, engine.ground_truth(), start_ts=start, end_ts=end, n_devices=devices)
    metrics.update(
        {
            "devices": devices,
            "days": days,
            "seed": seed,
            "period_s": period,
            "detector": cfg.models.detector,
            "readings": readings,
            "start_ts": start,
            "elapsed_s": round(time.perf_counter() - began, 1),
        }
    )
    return metrics


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``evaluate`` flags."""
    parser.add_argument("--devices", type=int, default=100, help="fleet size (default 100)")
    parser.add_argument("--days", type=int, default=60, help="simulated days (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="fleet seed (default 0)")
    parser.add_argument("--period", type=float, default=None, help="seconds between samples")
    parser.add_argument("--config", type=Path, default=None, help="TOML config (models, rules)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Run ``htm-edge evaluate``; print a summary (and the JSON line)."""
    if args.devices < 1 or args.days < 1:
        print("htm-edge evaluate: --devices and --days must be at least 1", file=sys.stderr)
        return 2
    cfg = load_config(args.config)
    m = evaluate(cfg, args.devices, args.days, args.seed, period_s=args.period, progress=True)
    lead = m["lead_time_hours_median"]
    print(
        f"evaluate: {m['devices']} devices x {m['days']} days (seed {m['seed']}, "
        f"{m['detector']}): {m['failures']} failures ({m['failures_with_precursor']} with a "
        f"precursor), {m['predicted']} predicted, median lead "
        f"{'-' if lead is None else f'{lead:.1f} h'}, {m['alerts_total']} alerts "
        f"({m['alerts_false']} false = {m['false_alerts_per_100_device_days']:.2f} per 100 "
        f"device-days), {m['elapsed_s']:.0f} s"
    )
    if args.json:
        print(json.dumps(m, sort_keys=True))
    return 0
