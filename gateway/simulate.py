"""The ``htm-edge simulate`` sub-command: publish the configured fleet to MQTT.

The fleet comes from :mod:`htm_edge.simulators`; publishing it is the
application's job (:mod:`htm_edge.gateway.publisher`), so the simulators know
nothing of MQTT.

The top-level CLI adds these arguments to its ``simulate`` sub-parser and
awaits :func:`run_simulate` with the loaded configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from pathlib import Path

from htm_edge.collector.errors import CollectorError
from htm_edge.gateway.publisher import publish_fleet
from htm_edge.gateway.settings import HtmConfig
from htm_edge.simulators.clock import simulation_start
from htm_edge.simulators.errors import SimulatorError
from htm_edge.simulators.fleet import Fleet

__all__ = ["add_simulate_arguments", "run_simulate"]

_CONNECT_ATTEMPTS = 10


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate`` flags; each defaults to the configuration's value."""
    parser.add_argument("--host", default=None, help="MQTT broker host (default: broker.host)")
    parser.add_argument(
        "--port", type=int, default=None, help="MQTT broker port (default: broker.port)"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="real seconds to run (default: until interrupted)",
    )
    parser.add_argument(
        "--speedup",
        "--speed",
        dest="speedup",
        type=float,
        default=None,
        help="simulated seconds per real second (default: simulation.speedup; 1 with --devices)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="fleet seed (default: simulation.seed)"
    )
    hospital = parser.add_argument_group(
        "hospital fleet", "a generated inventory of N devices instead of the configured fleet"
    )
    hospital.add_argument("--devices", type=int, default=None, metavar="N", help="fleet size")
    hospital.add_argument("--broker", default=None, metavar="URL", help="mqtt://host[:port]")
    hospital.add_argument("--period", type=float, default=None, help="seconds between samples")
    hospital.add_argument("--days", type=float, default=None, help="simulated days (with --out)")
    hospital.add_argument("--out", type=Path, default=None, metavar="DIR", help="write files")
    hospital.add_argument("--format", choices=("npz", "csv"), default="npz")
    hospital.add_argument(
        "--inventory", type=Path, default=None, metavar="FILE", help="write the inventory CSV"
    )
    hospital.add_argument(
        "--truth", type=Path, default=None, metavar="FILE", help="ground truth JSONL at the end"
    )


async def run_simulate(args: argparse.Namespace, cfg: HtmConfig) -> int:
    """Run the simulator until ``--duration`` elapses or SIGINT/SIGTERM; return an exit code.

    The simulated clock starts in the past, so that readings never lie ahead of
    the gateway clock (see :func:`htm_edge.simulators.clock.simulation_start`). Prints one
    summary line at the end (errors go to standard error). With ``--devices`` the
    generated hospital fleet runs instead (:mod:`htm_edge.gateway.simulate_hospital`).
    """
    if getattr(args, "devices", None) is not None:
        from htm_edge.gateway.simulate_hospital import run_hospital

        return await run_hospital(args, cfg)
    for flag in ("broker", "out", "inventory", "days", "truth"):
        if getattr(args, flag, None) is not None:
            print(f"htm-edge simulate: --{flag} needs --devices N", file=sys.stderr)
            return 2
    host: str = args.host if args.host is not None else cfg.broker.host
    port: int = args.port if args.port is not None else cfg.broker.port
    speedup: float = args.speedup if args.speedup is not None else cfg.simulation.speedup
    seed: int = args.seed if args.seed is not None else cfg.simulation.seed
    duration: float | None = args.duration
    period = cfg.simulation.sample_period_s
    try:
        password = None if cfg.broker.password is None else cfg.broker.password.resolve()
        start_ts = simulation_start(
            time.time(), duration_s=duration, speedup=speedup, period_s=period
        )
        fleet = Fleet.from_config(cfg.simulation, cfg.inventory, start_ts, seed=seed)
    except (SimulatorError, LookupError) as exc:
        print(f"htm-edge simulate: {exc}", file=sys.stderr)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        stats = await publish_fleet(
            fleet,
            cfg.broker.model_copy(update={"host": host, "port": port}),
            site=cfg.gateway.site,
            speedup=speedup,
            duration_s=duration,
            stop=stop,
            password=password,
            client_id=f"{cfg.broker.client_id}-sim",
            max_attempts=_CONNECT_ATTEMPTS,
        )
    except (CollectorError, ValueError) as exc:
        print(f"htm-edge simulate: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    simulated_h = stats.samples * period / 3600.0
    print(
        f"simulate: {len(fleet.devices)} devices, {stats.samples} samples "
        f"({simulated_h:.1f} simulated h), {stats.messages} messages, "
        f"{stats.readings} readings, {stats.gaps} gaps, {stats.reconnects} reconnects "
        f"-> {host}:{port} site={cfg.gateway.site}"
    )
    return 0
