"""The ``htm-edge`` command line: run, status, demo, check-config, simulate, evaluate, train,
alerts, score-csv, decode.

Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from htm_edge.collector.errors import CollectorError
from htm_edge.config.errors import ConfigError
from htm_edge.config.loader import config_warnings
from htm_edge.gateway.errors import GatewayError
from htm_edge.gateway.lifecycle import CLOSE_MARGIN_S, ExitWatchdog, install_stop_handlers
from htm_edge.gateway.settings import HtmConfig, load_config
from htm_edge.models.errors import ModelError

__all__ = ["main"]

log = logging.getLogger("htm_edge")


def _version() -> str:
    try:
        return version("htm-edge")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        stream=sys.stderr,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )


def _summary_lines(cfg: HtmConfig) -> list[str]:
    broker = cfg.broker
    modalities = Counter(d.modality.value for d in cfg.inventory.devices)
    return [
        f"gateway: site={cfg.gateway.site} data_dir={cfg.gateway.data_dir}",
        f"broker: {'embedded ' if broker.embedded else ''}{broker.host}:{broker.port}",
        "sources: " + ", ".join(f"{s.name} ({s.type}, {s.protocol.type})" for s in cfg.sources),
        "sinks: " + ", ".join(f"{s.name} ({s.type})" for s in cfg.sinks),
        f"models: detector={cfg.models.detector}",
        f"alerting: {len(cfg.alerting.rules)} rules, {len(cfg.alerting.notifiers)} notifiers, "
        f"{len(cfg.alerting.engineers)} engineers",
        f"inventory: {len(cfg.inventory.devices)} devices "
        + (
            f"({', '.join(f'{k}: {v}' for k, v in sorted(modalities.items()))})"
            if modalities
            else ""
        ),
        f"simulation: {len(cfg.simulation.devices)} devices, "
        f"{sum(1 for d in cfg.simulation.devices if d.fault)} with injected faults",
    ]


def _cmd_check_config(args: argparse.Namespace) -> int:
    cfg = load_config(args.file)
    print(f"OK: {args.file} is a valid HTM Edge config")
    for line in _summary_lines(cfg):
        print(f"  {line}")
    for warning in config_warnings(cfg):
        print(f"warning: {warning}")
    return 0


async def _run_daemon(cfg: HtmConfig, watchdog: ExitWatchdog) -> int:
    from htm_edge.gateway.daemon import Daemon
    from htm_edge.gateway.embedded_broker import EmbeddedBroker

    stop = asyncio.Event()
    install_stop_handlers(stop, watchdog, cfg.gateway.shutdown_timeout_s)
    for warning in config_warnings(cfg):
        log.warning("event=config_warning %s", warning)
    try:
        if cfg.broker.embedded:
            async with EmbeddedBroker(cfg.broker.host, cfg.broker.port) as broker:
                cfg = cfg.model_copy(
                    update={"broker": cfg.broker.model_copy(update={"port": broker.port})}
                )
                summary = await Daemon(cfg).run(stop)
        else:
            summary = await Daemon(cfg).run(stop)
    finally:
        # whatever happened, the process must now exit promptly (systemd restarts it)
        watchdog.arm(CLOSE_MARGIN_S, "daemon run ended")
    log.info("event=daemon_stopped summary=%s", json.dumps(summary.counters))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    _setup_logging(cfg.gateway.log_level)
    watchdog = ExitWatchdog()
    try:
        return asyncio.run(_run_daemon(cfg, watchdog))
    except GatewayError as exc:
        log.critical("event=daemon_failed error=%r exit_code=1", str(exc))
        return 1
    finally:
        watchdog.disarm()


def _cmd_status(args: argparse.Namespace) -> int:
    from htm_edge.gateway.status import STATUS_FILE, read_status, render_status

    cfg = load_config(args.config)
    try:
        doc = read_status(cfg.gateway.data_dir)
    except FileNotFoundError:
        print(
            f"htm-edge: no daemon has written {cfg.gateway.data_dir / STATUS_FILE} "
            "(is gateway.data_dir right, and did `htm-edge run` start?)",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(doc, sort_keys=True) if args.json else render_status(doc))
    return 0 if doc["running"] else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from htm_edge.gateway.demo import run_demo

    cfg = load_config(args.config)
    _setup_logging("WARNING")
    print(
        f"HTM Edge demo: {len(cfg.simulation.devices)} simulated devices, "
        f"{args.duration:g} s at {cfg.simulation.speedup:g}x simulated time. "
        "Work orders print below as they are dispatched.",
        flush=True,
    )
    result = asyncio.run(run_demo(cfg, args.duration, config_path=args.config))
    summary = result.summary
    print(
        f"\nDemo summary: {summary.devices} devices, {summary.readings_received} readings "
        f"received, {summary.readings_stored} stored, {summary.frames_malformed} malformed "
        f"frames, {summary.alerts_dispatched} alert notifications dispatched."
    )
    print(
        "  messages by source: "
        + ", ".join(f"{name} {n}" for name, n in sorted(result.sources.items()))
    )
    for alert in summary.alerts:
        print(
            f"  - {alert['kind']}: {alert['device_id']} {alert['failure_mode']} "
            f"({', '.join(alert['signals'])})"
        )
    for fault in result.faults:
        lead = fault.lead_time_s
        outcome = (
            f"detected {lead / 3600:.1f} simulated hours before failure"
            if lead is not None
            else "not detected before failure (or not yet reached)"
        )
        print(f"  injected fault {fault.failure_mode} on {fault.device_id}: {outcome}")
        if fault.predicted_at is not None and fault.predicted_time_to_failure_h is not None:
            print(
                f"  its failure was predicted {(fault.failure_ts - fault.predicted_at) / 3600:.1f} "
                f"simulated hours before it happened, with "
                f"{fault.predicted_time_to_failure_h:.1f} h left in the work order"
            )
    for wo_id, engineer, _ in result.acknowledged:
        print(f"  work order {wo_id} was routed to {engineer} and acknowledged from the CLI")
    if args.json:
        doc = summary.to_dict()
        doc.pop("counters")
        doc["faults"] = [f.to_dict() for f in result.faults]
        doc["acknowledged"] = [{"work_order": w, "by": b} for w, b, _ in result.acknowledged]
        doc["sources"] = result.sources
        print(json.dumps(doc, sort_keys=True))
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from htm_edge.gateway.simulate import run_simulate

    cfg = load_config(args.config)
    _setup_logging(cfg.gateway.log_level)
    return asyncio.run(run_simulate(args, cfg))


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from htm_edge.gateway.evaluate_cmd import cmd_evaluate

    _setup_logging("WARNING")
    return cmd_evaluate(args)


def _cmd_alerts(args: argparse.Namespace) -> int:
    from htm_edge.gateway.alerts_cmd import cmd_alerts

    return cmd_alerts(args)


def _cmd_train(args: argparse.Namespace) -> int:
    from htm_edge.gateway.train import cmd_train

    _setup_logging("WARNING")
    return cmd_train(args)


def _cmd_score_csv(args: argparse.Namespace) -> int:
    from htm_edge.models.offline import score_csv

    _setup_logging("WARNING")
    summary = score_csv(args.input, args.output, args.detector)
    print(json.dumps(summary, sort_keys=True))
    return 0


def _cmd_decode(args: argparse.Namespace) -> int:
    from htm_edge.gateway.decode import run_decode

    _setup_logging("WARNING")
    return run_decode(
        args.file,
        args.protocol,
        device_id=args.device_id,
        signals=args.signals,
        as_json=args.json,
        out=sys.stdout,
    )


def _parser() -> argparse.ArgumentParser:
    from htm_edge.gateway.simulate import add_simulate_arguments

    parser = argparse.ArgumentParser(
        prog="htm-edge",
        description="Vendor-neutral predictive maintenance for hospital medical equipment.",
    )
    parser.add_argument("--version", action="version", version=f"htm-edge {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the gateway daemon")
    run.add_argument("--config", type=Path, default=None, help="TOML config (default: embedded)")
    run.set_defaults(func=_cmd_run)

    demo = sub.add_parser("demo", help="embedded broker + simulated fleet + daemon, in one go")
    demo.add_argument("--duration", type=float, default=60.0, help="real seconds (default 60)")
    demo.add_argument("--json", action="store_true", help="end with one JSON summary line")
    demo.add_argument("--config", type=Path, default=None, help="TOML config (default: embedded)")
    demo.set_defaults(func=_cmd_demo)

    status = sub.add_parser("status", help="health of the running daemon (exit 1 if not running)")
    status.add_argument("--config", type=Path, default=None, help="TOML config (default: embedded)")
    status.add_argument("--json", action="store_true", help="print the status as one JSON object")
    status.set_defaults(func=_cmd_status)

    check = sub.add_parser("check-config", help="validate a config file and summarise it")
    check.add_argument("file", type=Path)
    check.set_defaults(func=_cmd_check_config)

    simulate = sub.add_parser("simulate", help="publish the simulated fleet to a broker")
    simulate.add_argument(
        "--config", type=Path, default=None, help="TOML config (default: embedded)"
    )
    add_simulate_arguments(simulate)
    simulate.set_defaults(func=_cmd_simulate)

    from htm_edge.gateway.evaluate_cmd import add_evaluate_arguments

    evaluate = sub.add_parser(
        "evaluate", help="a simulated hospital fleet through the pipeline, graded on ground truth"
    )
    add_evaluate_arguments(evaluate)
    evaluate.set_defaults(func=_cmd_evaluate)

    from htm_edge.gateway.alerts_cmd import add_alerts_arguments

    alerts = sub.add_parser(
        "alerts", help="work orders in the daemon's store: list, show, ack, resolve, silence, stats"
    )
    add_alerts_arguments(alerts)
    alerts.set_defaults(func=_cmd_alerts)
    from htm_edge.gateway.train import add_train_arguments

    train = sub.add_parser(
        "train", help="fit a prediction model on simulator output or run-to-failure data"
    )
    add_train_arguments(train)
    train.set_defaults(func=_cmd_train)

    score = sub.add_parser("score-csv", help="score timestamp,value CSV files offline")
    score.add_argument("input", type=Path, help="a CSV file or a directory of them")
    score.add_argument("output", type=Path, help="output file, or directory for a directory")
    score.add_argument("--detector", default=None, help="detector name (default: the default)")
    score.set_defaults(func=_cmd_score_csv)

    decode = sub.add_parser("decode", help="decode a raw capture of a device link")
    decode.add_argument("file", type=Path, help="the bytes as read from the port or socket")
    decode.add_argument("--protocol", required=True, help="medibus, intellivue, datex, hl7, json")
    decode.add_argument("--json", action="store_true", help="end with one JSON summary line")
    decode.add_argument(
        "--device-id", default="CAPTURE", help="device id for protocols whose frames name none"
    )
    decode.add_argument(
        "--signals",
        nargs="+",
        default=None,
        metavar="PATTERN",
        help="allow-list (fnmatch) replacing the protocol's default (patient data withheld)",
    )
    decode.set_defaults(func=_cmd_decode)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``htm-edge`` console script."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(f"htm-edge: configuration error: {exc}", file=sys.stderr)
        return 2
    except ModelError as exc:
        print(f"htm-edge: input error: {exc}", file=sys.stderr)
        return 2
    except (CollectorError, GatewayError, OSError) as exc:
        print(f"htm-edge: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
