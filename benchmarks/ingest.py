"""Ingest speed: the full daemon against a bare MQTT subscriber, on the same broker, same run.

``python -m benchmarks.ingest [--messages N] [--json]``

A separate process publishes realistic telemetry (one JSON message per device
sample, six signals) at QoS 1 as fast as it can to a local mosquitto. Two
receivers are timed on the same stream:

* **baseline**: a bare aiomqtt subscriber that only counts messages (it
  acknowledges on receipt and stores nothing);
* **pipeline**: ``htm-edge run`` as a process: each frame committed to the
  spool (``synchronous=FULL``: fsync per group commit) before its message is
  acknowledged, then decoded, stored in SQLite and scored by the default
  detector.

Each rate is messages divided by the time from the first message published to
the last one received (baseline) or stored (pipeline). The last line of
``--json`` output holds ``baseline_msgs_per_s``, ``pipeline_msgs_per_s`` and
``ratio``. The figures go to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiomqtt

from benchmarks.report import write_section
from tests.servers import DaemonProcess, Mosquitto

DEVICES = 50
SIGNALS = (
    "helium_level_pct",
    "coldhead_2nd_stage_k",
    "compressor_supply_mpa",
    "compressor_return_mpa",
    "cooling_water_in_c",
    "in_use",
)
WINDOW = 500  # publishes in flight at once


def _payload(i: int, t0: float) -> tuple[str, bytes]:
    device = f"MR-{i % DEVICES:03d}"
    values = {s: round(10.0 + (i * 7 + k) % 97 * 0.01, 3) for k, s in enumerate(SIGNALS)}
    doc = {"device_id": device, "ts": t0 + i // DEVICES, "signals": values}
    return f"htm/bench/{device}/telemetry", json.dumps(doc, separators=(",", ":")).encode()


async def _publish(port: int, n: int) -> None:
    t0 = time.time() - 86_400.0
    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-publisher") as client:
        pending: set[asyncio.Task[None]] = set()
        for i in range(n):
            topic, payload = _payload(i, t0)
            pending.add(asyncio.ensure_future(client.publish(topic, payload, qos=1)))
            if len(pending) >= WINDOW:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
        if pending:
            await asyncio.gather(*pending)


def _start_publisher(port: int, n: int) -> tuple[subprocess.Popen[bytes], float]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.ingest", "--publish", str(port), str(n)]
    )
    return proc, time.monotonic()


async def _baseline(broker: Mosquitto, n: int) -> float:
    """Messages per second a bare subscriber receives."""
    async with aiomqtt.Client(broker.host, broker.port, identifier="bench-baseline") as client:
        await client.subscribe("htm/bench/+/telemetry", qos=1)
        proc, start = _start_publisher(broker.port, n)
        got = 0
        async for _ in client.messages:
            got += 1
            if got == n:
                break
        elapsed = time.monotonic() - start
    proc.wait(60)
    return n / elapsed


def _stored(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM readings").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _pipeline(broker: Mosquitto, n: int, workdir: Path) -> tuple[float, dict[str, Any]]:
    """Messages per second the daemon commits, stores and scores."""
    data = workdir / "data"
    config = workdir / "gateway.toml"
    config.write_text(
        f'[gateway]\nsite = "bench"\ndata_dir = "{data}"\nlog_level = "INFO"\n'
        f'[broker]\nhost = "{broker.host}"\nport = {broker.port}\nclient_id = "bench-gw"\n'
        '[[sources]]\ntype = "mqtt"\nname = "telemetry"\ntopics = ["htm/bench/+/telemetry"]\n'
        '[[sinks]]\ntype = "sqlite"\nname = "store"\n[alerting]\nnotifiers = []\n',
        encoding="utf-8",
    )
    daemon = DaemonProcess(config, workdir / "daemon.log")
    daemon.start()
    try:
        deadline = time.monotonic() + 30
        while "event=mqtt_connected" not in daemon.text():
            if time.monotonic() > deadline or daemon.proc.poll() is not None:
                raise RuntimeError(f"the daemon did not connect:\n{daemon.text()}")
            time.sleep(0.05)
        proc, start = _start_publisher(broker.port, n)
        want = n * len(SIGNALS)
        db = data / "readings.sqlite"
        while _stored(db) < want:  # a full count is not free: poll gently
            if time.monotonic() - start > 600:
                raise RuntimeError("the daemon did not store every reading within 10 min")
            time.sleep(0.25)
        elapsed = time.monotonic() - start
        proc.wait(60)
        daemon.stop(60)
        counters = daemon.summary()
    finally:
        daemon.kill()
    return n / elapsed, counters


#: the broker's per-client window of unacknowledged QoS-1 messages (mosquitto's default
#: is 20); a gateway that acknowledges after its commit needs a wider one (see README)
BROKER_INFLIGHT = 1000


def _broker(workdir: Path) -> Mosquitto:
    broker = Mosquitto(workdir)
    config = broker.config.read_text(encoding="utf-8")
    broker.config.write_text(config + f"max_inflight_messages {BROKER_INFLIGHT}\n", "utf-8")
    broker.start()
    return broker


def run(n: int) -> dict[str, Any]:
    """Both measurements on fresh brokers; returns the figures."""
    with tempfile.TemporaryDirectory(prefix="htm-bench-ingest-") as tmp:
        root = Path(tmp)
        (root / "b").mkdir()
        (root / "p").mkdir()
        broker = _broker(root / "b")
        try:
            baseline = asyncio.run(_baseline(broker, n))
        finally:
            broker.stop()
        broker = _broker(root / "p")
        try:
            pipeline, counters = _pipeline(broker, n, root / "p")
        finally:
            broker.stop()
    return {
        "messages": n,
        "readings_per_message": len(SIGNALS),
        "baseline_msgs_per_s": round(baseline, 1),
        "pipeline_msgs_per_s": round(pipeline, 1),
        "ratio": round(pipeline / baseline, 3),
        "spool_commits": counters.get("spool.commits", 0),
        "frames_per_commit": round(
            counters.get("spool.appended", 0) / max(1, counters.get("spool.commits", 1)), 1
        ),
    }


def _markdown(r: dict[str, Any]) -> str:
    return (
        "## Ingest speed (`python -m benchmarks.ingest --json`)\n\n"
        f"{r['messages']:,} QoS-1 messages of {r['readings_per_message']} signals from "
        f"{DEVICES} devices, published as fast as one process can ({WINDOW} in flight) to "
        f"a local mosquitto (persistence on, `max_inflight_messages {BROKER_INFLIGHT}`). "
        "Baseline: a bare aiomqtt subscriber that only counts. "
        "Pipeline: `htm-edge run` as a process, every frame committed to the spool "
        "(`synchronous=FULL`, one fsync per group commit) before its message is "
        "acknowledged, then decoded, stored in SQLite and scored by the default detector. "
        "Rates run from the first message published to the last one received / stored.\n\n"
        "| measure | value |\n|---|---|\n"
        f"| baseline (bare subscriber) | {r['baseline_msgs_per_s']:,.0f} msg/s |\n"
        f"| pipeline (spool, store, score) | {r['pipeline_msgs_per_s']:,.0f} msg/s |\n"
        f"| ratio | **{r['ratio']:.2f}** (goal ≥ 0.8) |\n"
        f"| spool commits | {r['spool_commits']:,} ({r['frames_per_commit']} frames each) |\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Command line; ``--publish PORT N`` is the publisher process's own entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument(
        "--publish", nargs=2, type=int, metavar=("PORT", "N"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.publish:
        asyncio.run(_publish(*args.publish))
        return 0
    result = run(args.messages)
    print(_markdown(result))
    if not args.no_doc:
        write_section("ingest", _markdown(result))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
