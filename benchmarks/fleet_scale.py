"""Throughput of the fleet simulators: accelerated device-days and real-time MQTT messages.

Measured in one run, so the ratios hold on a noisy shared machine:

* **rendering**: device-samples per second of the vectorised hospital engine
  (:mod:`htm_edge.simulators.hospital`) against the per-device models
  (:class:`htm_edge.simulators.fleet.Fleet`, the baseline) on the same
  devices (the four modalities both know), one simulated day at one sample a
  minute;
* **accelerated files**: ``htm-edge simulate --devices N --days D --out DIR``
  (telemetry as compressed npz, ground truth, inventory), wall time;
* **real time**: N devices at one message per device per second published to a
  real mosquitto (spawned on a loopback port when the binary is there), for
  ``--live-s`` seconds: messages per second and the publisher's CPU share.

Run ``python -m benchmarks.fleet_scale [--devices 1000 --days 90 --live-s 30] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.report import write_section
from htm_edge.collector.mqtt_client import BrokerConfig
from htm_edge.config.inventory import Device, Modality
from htm_edge.gateway.hospital_fleet import HospitalSource, build_engine, write_fleet_files
from htm_edge.gateway.publisher import publish_fleet
from htm_edge.simulators.fleet import Fleet
from htm_edge.simulators.hospital.engine import FleetEngine

__all__ = ["main"]

_START = 1_736_121_600.0
_OLD = (Modality.MRI, Modality.CT, Modality.INFUSION_PUMP, Modality.VENTILATOR)


def _rendering(n: int) -> dict[str, float]:
    devices = [Device(device_id=f"D{i}", modality=_OLD[i % 4]) for i in range(n)]
    fleet = Fleet([(d, None) for d in devices], seed=1, sample_period_s=60.0, start_ts=_START)
    t = time.perf_counter()
    for _ in range(1440):
        fleet.step()
    base = n * 1440 / (time.perf_counter() - t)
    engine = FleetEngine(devices, 1, 60.0, _START)
    t = time.perf_counter()
    engine.next_chunk()
    vec = n * 1440 / (time.perf_counter() - t)
    return {"baseline_samples_s": base, "engine_samples_s": vec, "ratio": vec / base}


def _files(n: int, days: int) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix="htm-fleet-"))
    try:
        engine = build_engine(n, 1, 60.0, _START)
        stats = write_fleet_files(engine, days, out)
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "device_days": stats.device_days,
        "seconds": stats.elapsed_s,
        "device_days_s": stats.device_days / stats.elapsed_s,
        "values": stats.values,
        "megabytes": size / 1e6,
    }


def _live(n: int, seconds: float) -> dict[str, float] | None:
    try:
        from tests.servers import Mosquitto
    except ImportError:
        return None
    workdir = Path(tempfile.mkdtemp(prefix="htm-mq-"))
    try:
        broker = Mosquitto(workdir)
    except RuntimeError:
        return None
    broker.start()
    logging.getLogger("mqtt").setLevel(logging.ERROR)  # aiomqtt counts pending publishes
    try:
        source = HospitalSource(build_engine(n, 1, 1.0, float(int(time.time()))))
        cpu, wall = time.process_time(), time.perf_counter()
        stats = asyncio.run(
            publish_fleet(
                source,
                BrokerConfig(host=broker.host, port=broker.port),
                site="bench",
                speedup=1.0,
                duration_s=seconds,
                ground_truth=b"{}",
            )
        )
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "messages": stats.messages,
        "messages_s": stats.messages / max(wall, seconds),
        "target_s": float(n),
        "cpu_share": cpu / wall,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a table, write docs/benchmarks.md (section fleet_scale)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--render-devices", type=int, default=200)
    parser.add_argument("--live-s", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-doc", action="store_true", help="don't write docs/benchmarks.md")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"rendering": _rendering(args.render_devices)}
    results["files"] = _files(args.devices, args.days)
    results["live"] = _live(args.devices, args.live_s) if args.live_s > 0 else None
    r, f, live = results["rendering"], results["files"], results["live"]
    lines = [
        "## Fleet simulator throughput",
        "",
        f"`python -m benchmarks.fleet_scale --devices {args.devices} --days {args.days} "
        f"--live-s {args.live_s:g}` on this 2-core machine:",
        "",
        "| measure | figure |",
        "|---|---|",
        f"| rendering, {args.render_devices} devices (MRI, CT, pump, ventilator), 1 day at 60 s"
        f" | engine {r['engine_samples_s']:,.0f} device-samples/s = **{r['ratio']:.0f}x** "
        f"the per-device models ({r['baseline_samples_s']:,.0f}/s, same run) |",
        f"| `simulate --devices {args.devices} --days {args.days} --out DIR` (60 s samples, "
        f"npz + ground truth) | **{f['seconds']:.0f} s** for {f['device_days']:,.0f} "
        f"device-days ({f['device_days_s']:,.0f} device-days/s, {f['values']:,} values, "
        f"{f['megabytes']:,.0f} MB) |",
    ]
    if live is not None:
        lines.append(
            f"| real time, {args.devices} devices at 1 message/device/s to mosquitto, "
            f"{args.live_s:g} s | **{live['messages_s']:,.0f} messages/s** (target "
            f"{live['target_s']:,.0f}), publisher CPU {live['cpu_share']:.0%} of one core |"
        )
    else:
        lines.append("| real time | not measured: no mosquitto binary |")
    table = "\n".join(lines)
    print(table)
    if not args.no_doc:
        write_section("fleet_scale", table)
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
