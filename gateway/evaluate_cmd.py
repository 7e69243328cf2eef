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

from htm_edge.alerting.config import AlertingConfig
from htm_edge.alerting.lifecycle import AlertLifecycle
from htm_edge.alerting.store import AlertStore
from htm_edge.alerting.types import EventKind
from htm_edge.config.inventory import InventoryConfig
from htm_edge.gateway.compose import DeviceDirectory, build_pipeline, build_prognostics
from htm_edge.gateway.fleet_eval import OpenedAlert, grade
from htm_edge.gateway.hospital_fleet import build_engine
from htm_edge.gateway.pipeline import predict_readings
from htm_edge.gateway.prognostics_fleet import PredictionAlerts
from htm_edge.gateway.reference_model import SEED as REFERENCE_SEED
from htm_edge.gateway.reference_model import reference_model
from htm_edge.gateway.settings import HtmConfig, load_config
from htm_edge.models.prognostics import FleetModel
from htm_edge.simulators.clock import seeded_start
from htm_edge.simulators.hospital.life import DAY_S
from htm_edge.simulators.hospital.transport import InProcessTransport, VirtualClock

__all__ = ["add_evaluate_arguments", "cmd_evaluate", "evaluate"]

_LOOKAHEAD_DAYS = 46  # longer than the longest degradation: late alerts are judged too


def prediction_model(
    cfg: HtmConfig, seed: int, model_path: Path | None, progress: bool
) -> tuple[FleetModel, dict[str, Any]]:
    """The model whose predictions are graded: ``--model``, the config's, else the reference.

    The reference (:mod:`htm_edge.gateway.reference_model`) was trained on the
    fleet of seed :data:`~htm_edge.gateway.reference_model.SEED`; grading that
    seed with it is flagged, since its failures were seen in training.
    """
    path = model_path or cfg.models.prognostics.model_file
    if path is not None:
        return FleetModel.load(path), {"model_file": str(path)}
    model, info = reference_model(cfg.models.prognostics, progress=progress)
    info["evaluated_seed_seen_in_training"] = seed == REFERENCE_SEED
    if progress and seed == REFERENCE_SEED:
        print(
            f"evaluate: seed {seed} is the reference model's training fleet: its "
            "prediction figures are not held out (use another seed, or --model)",
            file=sys.stderr,
            flush=True,
        )
    return model, info


def evaluate(
    cfg: HtmConfig,
    devices: int,
    days: int,
    seed: int,
    *,
    period_s: float | None = None,
    progress: bool = False,
    predict: bool | None = None,
    model_path: Path | None = None,
) -> dict[str, Any]:
    """Run and grade one fleet; return the metrics (see docs/evaluation.md).

    With ``predict`` (by default: when ``models.prognostics.enabled``, as in
    the embedded default), failure predictions run beside the anomaly pipeline
    on the same readings and their alerts are graded the same way, under
    ``metrics["predictions"]`` (the other metrics are unchanged).
    """
    began = time.perf_counter()
    model = None
    model_info: dict[str, Any] = {}
    if cfg.models.prognostics.enabled if predict is None else predict:
        model, model_info = prediction_model(cfg, seed, model_path, progress)
    period = period_s if period_s is not None else cfg.simulation.sample_period_s
    start = seeded_start(seed, time.time(), days * DAY_S)
    engine = build_engine(devices, seed, period, start)
    inventory = InventoryConfig(devices=list(engine.devices))
    pipeline = build_pipeline(anomaly_only(cfg).model_copy(update={"inventory": inventory}))
    clock = VirtualClock(start)
    alerts: list[OpenedAlert] = []
    readings = 0
    end = start + days * DAY_S
    # the daemon's lifecycle on the same events (data clock): grouping, storms, inhibition
    alerting = cfg.alerting.model_copy(update={"clock": "data"})
    life = open_lifecycle_in_memory(alerting, DeviceDirectory(list(engine.devices)))
    prog = None
    rule = None
    if model is not None:
        lookup = {d.device_id: d for d in engine.devices}
        prog = build_prognostics(cfg.models.prognostics, lookup.__getitem__, model)
        rule = PredictionAlerts(model.alert_probability)

    def deliver(batch: list[Any]) -> None:
        nonlocal readings
        readings += len(batch)
        if prog is not None and rule is not None:
            rule(predict_readings(prog, batch))
        for event, order in pipeline.process(batch):
            life.ingest(event, order, event.ts)
            if event.kind is EventKind.OPENED:
                a = event.alert
                alerts.append(OpenedAlert(a.device_id, a.failure_mode, a.opened_at))
        if batch:
            life.tick(max(r.ts for r in batch))

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
    records = engine.ground_truth()
    metrics = grade(alerts, records, start_ts=start, end_ts=end, n_devices=devices)
    sent = sent_work_orders(life)
    after = grade(sent, records, start_ts=start, end_ts=end, n_devices=devices)
    metrics["alerts_per_true_failure"] = _per(metrics["alerts_true"], metrics["predicted"])
    metrics["after_grouping"] = {
        "notified": after["alerts_total"],
        "true": after["alerts_true"],
        "false": after["alerts_false"],
        "during_service": after["alerts_during_service"],
        "predicted": after["predicted"],
        "false_alerts_per_100_device_days": after["false_alerts_per_100_device_days"],
        "alerts_per_true_failure": _per(after["alerts_true"], after["predicted"]),
        "incidents": len(life.store.query("SELECT id FROM incidents")),
    }
    life.store.close()
    if rule is not None and model is not None:
        pm = grade(rule.opened, records, start_ts=start, end_ts=end, n_devices=devices)
        pm.update({"model": model.name, "alert_probability": model.alert_probability, **model_info})
        metrics["predictions"] = pm
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


def anomaly_only(cfg: HtmConfig) -> HtmConfig:
    """``cfg`` with failure prediction and its rules off: the anomaly figures stay comparable.

    Failure prediction runs beside it (its own :class:`Prognostics`, with
    the reference rule :class:`PredictionAlerts`, which opens on the same
    predictions as the ``prediction`` rule's defaults; a test shows it).
    """
    models = cfg.models.model_copy(
        update={"prognostics": cfg.models.prognostics.model_copy(update={"enabled": False})}
    )
    rules = [r for r in cfg.alerting.rules if r.type != "prediction"]
    alerting = cfg.alerting.model_copy(update={"rules": rules})
    return cfg.model_copy(update={"models": models, "alerting": alerting})


def _per(n: int, d: int) -> float | None:
    return round(n / d, 2) if d else None


def open_lifecycle_in_memory(cfg: AlertingConfig, devices: DeviceDirectory) -> AlertLifecycle:
    """The daemon's lifecycle on an in-memory store (no notifier: the outbox just fills)."""
    return AlertLifecycle(AlertStore(":memory:"), cfg, devices, ["evaluation"])


def sent_work_orders(life: AlertLifecycle) -> list[OpenedAlert]:
    """What the lifecycle notified: each work order sent on its own, and each incident once."""
    rows = life.store.query(
        "SELECT device_id, failure_mode, created_at, incident_id FROM work_orders "
        "WHERE fired_at IS NOT NULL ORDER BY created_at"
    )
    out, incidents = [], set()
    for r in rows:
        if r["incident_id"] is not None:
            if r["incident_id"] in incidents:
                continue
            incidents.add(r["incident_id"])
        out.append(OpenedAlert(r["device_id"], r["failure_mode"], r["created_at"]))
    return out


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``evaluate`` flags."""
    parser.add_argument("--devices", type=int, default=100, help="fleet size (default 100)")
    parser.add_argument("--days", type=int, default=60, help="simulated days (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="fleet seed (default 0)")
    parser.add_argument("--period", type=float, default=None, help="seconds between samples")
    parser.add_argument("--config", type=Path, default=None, help="TOML config (models, rules)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument(
        "--predict",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="grade failure predictions too (metrics under 'predictions'); default: when "
        "models.prognostics.enabled, as in the embedded default",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="the prediction model file (default: models.prognostics.model_file, else the "
        "shipped reference model of the simulated fleet)",
    )


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Run ``htm-edge evaluate``; print a summary (and the JSON line)."""
    if args.devices < 1 or args.days < 1:
        print("htm-edge evaluate: --devices and --days must be at least 1", file=sys.stderr)
        return 2
    cfg = load_config(args.config)
    m = evaluate(
        cfg,
        args.devices,
        args.days,
        args.seed,
        period_s=args.period,
        progress=True,
        predict=args.predict,
        model_path=args.model,
    )
    lead = m["lead_time_hours_median"]
    print(
        f"evaluate: {m['devices']} devices x {m['days']} days (seed {m['seed']}, "
        f"{m['detector']}): {m['failures']} failures ({m['failures_with_precursor']} with a "
        f"precursor), {m['predicted']} predicted, median lead "
        f"{'-' if lead is None else f'{lead:.1f} h'}, {m['alerts_total']} alerts "
        f"({m['alerts_false']} false = {m['false_alerts_per_100_device_days']:.2f} per 100 "
        f"device-days), {m['elapsed_s']:.0f} s"
    )
    g = m["after_grouping"]
    print(
        f"evaluate: after grouping and inhibition: {g['notified']} notified "
        f"({g['false']} false = {g['false_alerts_per_100_device_days']:.2f} per 100 device-days, "
        f"{g['incidents']} incidents); alerts per true failure {m['alerts_per_true_failure']} -> "
        f"{g['alerts_per_true_failure']}"
    )
    p = m.get("predictions")
    if p is not None:
        plead = p["lead_time_hours_median"]
        ahead = p["predicted_24h_ahead"]
        print(
            f"predictions: {p['predicted']} of {p['failures_with_precursor']} failures with a "
            f"precursor predicted ({'-' if ahead is None else f'{100 * ahead:.0f} %'} at least "
            f"24 h ahead), median lead {'-' if plead is None else f'{plead:.1f} h'}, "
            f"{p['alerts_total']} alerts ({p['alerts_false']} false = "
            f"{p['false_alerts_per_100_device_days']:.2f} per 100 device-days), model "
            f"{p.get('model_file') or 'trained in this run'}"
        )
    if args.json:
        print(json.dumps(m, sort_keys=True))
    return 0
