"""Trend-only failure predictions through the daemon's prediction rule, graded on a fleet.

Without a model file the daemon predicts from trends alone (as in the demo).
This runs a seeded hospital fleet through :class:`~htm_edge.models.prognostics.Prognostics`
exactly as the daemon's pipeline feeds it (usable readings, hourly
evaluations), keeps every prediction, then sends the same predictions through
the real :class:`~htm_edge.alerting.engine.AlertEngine` with one
``prediction`` rule per variant and grades the alerts it opens against the
simulator's ground truth (:func:`htm_edge.gateway.fleet_eval.grade`, the
definitions of ``docs/evaluation.md``). Variants: the embedded default rule,
and the same rule on probability alone (no time limit).

Run ``python -m benchmarks.prediction_rule [--devices 100] [--days 21] [--seed 5] [--json]``.
The fleet-trained model is measured by ``htm-edge evaluate`` instead (its reference model).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from benchmarks.report import write_section
from htm_edge.alerting.engine import AlertEngine
from htm_edge.alerting.rules import RULES
from htm_edge.alerting.rules.prediction import PredictionRuleConfig
from htm_edge.alerting.types import EventKind
from htm_edge.gateway.compose import DeviceDirectory, build_prognostics
from htm_edge.gateway.fleet_eval import OpenedAlert, grade
from htm_edge.gateway.hospital_fleet import build_engine
from htm_edge.gateway.pipeline import predict_readings
from htm_edge.gateway.settings import load_config
from htm_edge.models.types import Prediction
from htm_edge.simulators.clock import seeded_start
from htm_edge.simulators.hospital.life import DAY_S
from htm_edge.simulators.hospital.transport import InProcessTransport, VirtualClock

_LOOKAHEAD_DAYS = 46
_NOW = 1_800_000_000.0  # a fixed "now": the seeded start does not move with the wall clock


def collect_predictions(devices: int, days: int, seed: int) -> tuple[list[Prediction], Any]:
    """Every trend-only prediction of the fleet, and the fleet engine (for its ground truth)."""
    cfg = load_config(None)
    start = seeded_start(seed, _NOW, days * DAY_S)
    engine = build_engine(devices, seed, 60.0, start)
    prog = build_prognostics(cfg.models.prognostics, DeviceDirectory(list(engine.devices)))
    out: list[Prediction] = []

    def deliver(batch: list[Any]) -> None:
        out.extend(predict_readings(prog, batch))

    transport = InProcessTransport(engine, VirtualClock(start), rounds_per_batch=10)
    for day in range(days):
        transport.run_until(start + (day + 1) * DAY_S, deliver)
    engine.plan_days(days + _LOOKAHEAD_DAYS)
    return out, (engine, start, start + days * DAY_S)


def grade_rule(
    rule: PredictionRuleConfig, preds: list[Prediction], fleet: Any, devices: int
) -> dict[str, Any]:
    """The alerts ``rule`` opens on ``preds`` in the daemon's engine, graded."""
    engine, start, end = fleet
    alerts = AlertEngine(
        [RULES.build(rule, None)], [], DeviceDirectory(list(engine.devices)), resolve_hold_s=3600.0
    )
    opened = [
        OpenedAlert(e.alert.device_id, e.alert.failure_mode, e.ts)
        for p in preds
        for e in alerts.process_prediction(p)
        if e.kind is EventKind.OPENED
    ]
    return grade(opened, engine.ground_truth(), start_ts=start, end_ts=end, n_devices=devices)


def main(argv: list[str] | None = None) -> int:
    """Run, print a table, write the ``prediction_rule`` section of docs/benchmarks.md."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=100)
    ap.add_argument("--days", type=int, default=21)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    began = time.perf_counter()
    preds, fleet = collect_predictions(args.devices, args.days, args.seed)
    default = next(r for r in load_config(None).alerting.rules if r.type == "prediction")
    assert isinstance(default, PredictionRuleConfig)
    variants = {
        f"default (time left < {default.time_to_failure_below_h:g} h)": default,
        "probability alone": default.model_copy(update={"time_to_failure_below_h": None}),
    }
    rows = {name: grade_rule(rule, preds, fleet, args.devices) for name, rule in variants.items()}
    took = time.perf_counter() - began
    lines = [
        f"`python -m benchmarks.prediction_rule --devices {args.devices} --days {args.days} "
        f"--seed {args.seed}`: trend-only predictions (no model file) of a hospital fleet "
        f"through the daemon's prediction rule ({len(preds):,} predictions, {took:.0f} s).",
        "",
        "| rule | alerts | false | false per 100 device-days | failures with a precursor "
        "predicted | at least 24 h ahead | median lead (h) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, m in rows.items():
        ahead = m.get("predicted_24h_ahead")
        lead = m["lead_time_hours_median"]
        lines.append(
            f"| {name} | {m['alerts_total']} | {m['alerts_false']} | "
            f"{m['false_alerts_per_100_device_days']:.2f} | {m['predicted']} of "
            f"{m['failures_with_precursor']} | {'-' if ahead is None else f'{100 * ahead:.0f} %'} "
            f"| {'-' if lead is None else f'{lead:.1f}'} |"
        )
    text = "\n".join(lines)
    print(text)
    write_section("prediction_rule", "## Trend-only predictions through the rule\n\n" + text)
    if args.json:
        print(json.dumps(rows, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
