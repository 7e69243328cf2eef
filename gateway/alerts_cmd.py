"""``htm-edge alerts list|show|ack|resolve|silence|stats``: people act on the daemon's store.

The commands open ``<gateway.data_dir>/alerts.sqlite`` of the config given
(the running daemon's store: SQLite WAL lets them write while it runs). An
acknowledgement stops the escalation at the daemon's next tick; a resolve
records the outcome and queues the resolved notification, which the daemon's
dispatcher delivers. Every action is recorded with ``--by`` and the time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from htm_edge.alerting.actions import (
    OUTCOMES,
    acknowledge,
    list_work_orders,
    resolve,
    silence,
)
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.lifecycle import AlertLifecycle
from htm_edge.alerting.outcomes import outcome_stats
from htm_edge.alerting.types import format_ts
from htm_edge.gateway.compose import DeviceDirectory
from htm_edge.gateway.dispatcher import ALERT_STORE, open_lifecycle
from htm_edge.gateway.settings import HtmConfig, load_config

__all__ = ["add_alerts_arguments", "cmd_alerts", "parse_duration"]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """``90s``, ``30m``, ``4h``, ``2d`` or plain seconds, as seconds.

    Examples
    --------
    >>> parse_duration("4h"), parse_duration("90")
    (14400.0, 90.0)
    """
    text = text.strip()
    unit = _UNITS.get(text[-1:].lower())
    try:
        return float(text[:-1]) * unit if unit else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 30m, 4h, 2d)") from None


def add_alerts_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``alerts`` sub-commands."""
    parser.add_argument("--config", type=Path, default=None, help="the daemon's TOML config")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="override gateway.data_dir of the config"
    )
    sub = parser.add_subparsers(dest="alerts_command", required=True)
    ls = sub.add_parser("list", help="open work orders (--all: every one)")
    ls.add_argument("--all", action="store_true")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    show = sub.add_parser("show", help="one work order's document (JSON)")
    show.add_argument("id")
    ack = sub.add_parser("ack", help="acknowledge a work order (stops escalation)")
    ack.add_argument("id")
    ack.add_argument("--by", required=True, help="who acknowledges (a name of the roster)")
    ack.add_argument("--note", default="")
    res = sub.add_parser("resolve", help="close a work order with its outcome")
    res.add_argument("id")
    res.add_argument("--outcome", required=True, choices=OUTCOMES)
    res.add_argument("--by", required=True)
    res.add_argument("--part", default="", help="the part replaced (confirmed failures)")
    res.add_argument("--note", default="")
    sil = sub.add_parser("silence", help="silence new alerts matching every given field")
    sil.add_argument("--by", required=True, help="the author")
    sil.add_argument("--for", dest="duration", type=parse_duration, required=True)
    for name in ("device", "site", "modality", "failure-mode", "rule"):
        sil.add_argument(f"--{name}", default=None)
    sil.add_argument("--comment", default="", help='"maintenance" marks a maintenance window')
    stats = sub.add_parser("stats", help="precision and no-problem-found rate per rule and mode")
    stats.add_argument("--json", action="store_true")


def _lifecycle(cfg: HtmConfig) -> AlertLifecycle:
    path = cfg.gateway.data_dir / ALERT_STORE
    if not path.exists():
        raise AlertingError(
            f"no alert store at {path}: is gateway.data_dir right, and has the daemon run?"
        )
    channels = [n.name for n in cfg.alerting.notifiers]
    return open_lifecycle(
        cfg.gateway.data_dir, cfg.alerting, DeviceDirectory(cfg.inventory.devices), channels
    )


def cmd_alerts(args: argparse.Namespace) -> int:
    """Run one ``htm-edge alerts`` command; exit 0, or 1 with the reason on standard error."""
    cfg = load_config(args.config)
    if args.data_dir is not None:
        cfg = cfg.model_copy(
            update={"gateway": cfg.gateway.model_copy(update={"data_dir": args.data_dir})}
        )
    try:
        life = _lifecycle(cfg)
        try:
            return _run(life, args)
        finally:
            life.store.close()
    except AlertingError as exc:
        print(f"htm-edge alerts: {exc}", file=sys.stderr)
        return 1


def _run(life: AlertLifecycle, args: argparse.Namespace) -> int:
    command = args.alerts_command
    if command == "list":
        rows = list_work_orders(life, all_states=args.all)
        for r in rows:
            if args.json:
                print(json.dumps(r, sort_keys=True))
                continue
            who = r["assignee"] or "unassigned"
            extra = f" acked by {r['acked_by']}" if r["acked_by"] else ""
            extra += f" outcome {r['outcome']}" if r["outcome"] else ""
            extra += f" incident {r['incident_id']}" if r["incident_id"] else ""
            print(
                f"{r['id']}  {r['priority']}  {r['state']:<12} {r['device_id']}  "
                f"{r['failure_mode']}  -> {who}  opened {format_ts(r['created_at'])}{extra}"
            )
        if not rows and not args.json:
            print("no open work orders" if not args.all else "no work orders")
        return 0
    if command == "show":
        row = life.store.one("SELECT document FROM work_orders WHERE id = ?", (args.id,))
        if row is None:
            raise AlertingError(f"no work order {args.id!r}")
        print(json.dumps(json.loads(row["document"]), indent=2, sort_keys=True))
        return 0
    if command == "ack":
        doc = acknowledge(life, args.id, args.by, note=args.note)
        print(f"{doc['id']} acknowledged by {args.by}")
        return 0
    if command == "resolve":
        doc = resolve(life, args.id, args.outcome, args.by, part=args.part, note=args.note)
        print(f"{doc['id']} resolved by {args.by}: {args.outcome}")
        return 0
    if command == "silence":
        sid = silence(
            life,
            author=args.by,
            duration_s=args.duration,
            device_id=args.device,
            site=args.site,
            modality=args.modality,
            failure_mode=args.failure_mode,
            rule=args.rule,
            comment=args.comment,
        )
        print(f"silence {sid} by {args.by} for {args.duration:g} s")
        return 0
    stats = outcome_stats(life.store)
    if args.json:
        print(json.dumps(stats, sort_keys=True))
        return 0
    print("work orders: " + ", ".join(f"{k} {v}" for k, v in stats["work_orders"].items()))
    for title, table in (("rule", stats["by_rule"]), ("failure mode", stats["by_failure_mode"])):
        for name, s in table.items():
            prec = "-" if s["precision"] is None else f"{s['precision']:.0%}"
            npf = "-" if s["npf_rate"] is None else f"{s['npf_rate']:.0%}"
            noisy = "  NOISY: retune or retire" if s["noisy"] else ""
            print(
                f"{title} {name}: reviewed {s['reviewed']}, confirmed {s['confirmed']}, "
                f"NPF {s['no_problem_found']}, cleared {s['cleared']}; precision {prec}, "
                f"NPF rate {npf}{noisy}"
            )
    return 0
