"""``htm-edge decode``: decode a raw capture of a device link, for people integrating a device.

The file holds the bytes as read from the port or socket (``cat /dev/ttyUSB0
> capture.bin``, a logic-analyser export, a pcap's TCP payload). The
protocol's deframer splits them exactly as the serial and MLLP sources do,
and each frame is decoded as the daemon would: its readings, or why it is
rejected. Message protocols without a stream framing (JSON) take one message
per line.

Readings pass the protocol's allow-list as in the daemon (patient
observations are withheld unless ``--signals`` lists them, and counted);
patient identity is never decoded, so it is never printed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pydantic import TypeAdapter

from htm_edge.collector.errors import DecodeError
from htm_edge.collector.health import Health
from htm_edge.collector.protocols import PROTOCOLS, Protocol, ProtocolConfig
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.privacy import SignalFilter
from htm_edge.collector.reading import Reading
from htm_edge.config.errors import ConfigError
from htm_edge.gateway.compose import build_protocol

__all__ = ["DecodeSummary", "decode_capture", "load_protocol", "run_decode"]

_MAX_ERRORS = 50


@dataclass
class DecodeSummary:
    """What a capture held."""

    frames: int = 0
    valid: int = 0
    invalid: int = 0
    skipped_bytes: int = 0
    readings: int = 0
    withheld: int = 0
    signals: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``--json``."""
        return {
            "frames": self.frames,
            "valid": self.valid,
            "invalid": self.invalid,
            "skipped_bytes": self.skipped_bytes,
            "readings": self.readings,
            "withheld_signals": self.withheld,
            "signals": dict(sorted(self.signals.items())),
            "errors": self.errors,
        }


def load_protocol(name: str, signals: list[str] | None) -> Protocol:
    """The protocol ``name`` with its default section (and ``signals``, when given)."""
    if name not in PROTOCOLS:
        raise ConfigError(
            f"--protocol {name!r}: valid protocols are {', '.join(PROTOCOLS.names())}"
        )
    section: dict[str, Any] = {"type": name}
    if signals is not None:
        if "signals" not in PROTOCOLS[name].config_model.model_fields:
            raise ConfigError(f"--signals: protocol {name!r} has no allow-list")
        section["signals"] = signals
    cfg = TypeAdapter(ProtocolConfig).validate_python(section)
    return build_protocol(cfg, Health())


def _show(r: Reading) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.ts))
    return f"  {r.device_id} {r.signal}={r.value:g} {r.unit} ({r.quality.value}) at {stamp}"


def decode_capture(
    protocol: Protocol, data: bytes, *, device_id: str, origin: str, out: TextIO | None = None
) -> DecodeSummary:
    """Decode ``data`` with ``protocol``; print each frame to ``out`` when given."""
    deframer = protocol.deframer()
    frames = (
        deframer.feed(data)
        if deframer is not None
        else [ln for ln in data.splitlines() if ln.strip()]
    )
    summary = DecodeSummary(frames=len(frames))
    received = time.time()
    for i, raw in enumerate(frames, 1):
        try:
            readings = protocol.parse(Frame(raw, origin, received, device_id))
        except DecodeError as exc:
            summary.invalid += 1
            message = f"frame {i}: {exc}"
            if len(summary.errors) < _MAX_ERRORS:
                summary.errors.append(message)
            if out is not None:
                print(f"frame {i} ({len(raw)} bytes): invalid: {exc}", file=out)
            continue
        summary.valid += 1
        summary.readings += len(readings)
        for r in readings:
            summary.signals[r.signal] = summary.signals.get(r.signal, 0) + 1
        if out is not None:
            print(f"frame {i} ({len(raw)} bytes): valid, {len(readings)} readings", file=out)
            for r in readings:
                print(_show(r), file=out)
    if deframer is not None:
        summary.skipped_bytes = deframer.skipped_bytes + deframer.pending()
    filters = [f for f in vars(protocol).values() if isinstance(f, SignalFilter)]
    summary.withheld = sum(f.withheld for f in filters)
    return summary


def run_decode(path: Path, protocol_name: str, *, device_id: str, signals: list[str] | None,
               as_json: bool, out: TextIO) -> int:  # fmt: skip
    """The ``decode`` command: print frames, errors and a summary; exit 0."""
    protocol = load_protocol(protocol_name, signals)
    data = path.read_bytes()
    summary = decode_capture(protocol, data, device_id=device_id, origin=f"file:{path}", out=out)
    print(
        f"{summary.frames} frames ({summary.valid} valid, {summary.invalid} invalid), "
        f"{summary.skipped_bytes} bytes skipped, {summary.readings} readings, "
        f"{summary.withheld} patient or unlisted signals withheld",
        file=out,
    )
    if as_json:
        print(json.dumps(summary.to_dict(), sort_keys=True), file=out)
    return 0
