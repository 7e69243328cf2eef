"""The demo's non-MQTT devices: a Dräger ventilator on a serial port, a monitor behind HL7.

So that ``htm-edge demo`` shows the three ways a hospital's devices reach the
gateway, the MQTT fleet is joined by

* **VT-02**, a simulated Dräger Evita 4 speaking MEDIBUS on a pseudo-terminal
  (the same pty pair the tests use): the daemon's ``serial`` source opens it,
  runs the polling session (ICC, identification, measured-data polls, NOP
  keep-alive) and keeps one technical signal, the internal leak;
* **MON-01**, a patient monitor whose device gateway sends IHE PCD-01
  ``ORU^R01`` messages over MLLP to the daemon's ``mllp`` listener, each
  acknowledged; it reports device-health observations (battery, fan,
  board temperature), which the HL7 codec keeps by default.

Both run on the MQTT fleet's accelerated clock (:class:`AcceleratedClock`):
the HL7 sender stamps its observations with it, and the demo sets it as the
receipt clock of the two sources (a MEDIBUS device has no clock, so its
readings take the receipt time). One timeline keeps the data-driven alerting
clock, staleness and timestamp checks meaningful across the three links.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from htm_edge.collector.protocols.hl7 import Hl7Protocol
from htm_edge.collector.protocols.medibus import MedibusProtocol
from htm_edge.collector.reading import Reading
from htm_edge.gateway.mllp_client import MllpClient
from htm_edge.gateway.serial_devices import MedibusDevice, PtyDevice
from htm_edge.simulators.clock import AcceleratedClock

__all__ = ["DemoLinks"]

log = logging.getLogger(__name__)

SERIAL_DEVICE = "VT-02"
HL7_DEVICE = "MON-01"
_MEDIBUS_NAMES = {"cp1_C6": "leak_l_min"}
_MEDIBUS_UNITS = {"cp1_C6": "L/min"}
_HL7_EVERY_S = 1.0


class DemoLinks:
    """A MEDIBUS ventilator on a pty and an HL7 device gateway, with their config and inventory."""

    def __init__(self, workdir: Path, hl7_port: int, clock: AcceleratedClock) -> None:
        self.pty = PtyDevice(workdir / "ttyDEMO-VT02")
        self.hl7_port = hl7_port
        self.clock = clock
        self.sent_hl7 = 0
        self.acked_hl7 = 0
        codec = MedibusProtocol(names=_MEDIBUS_NAMES, units=_MEDIBUS_UNITS, signals=["*"])
        self.ventilator = MedibusDevice(self.pty, codec, self._ventilator_readings)

    def sources(self) -> list[dict[str, Any]]:
        """The ``[[sources]]`` entries that read these two devices."""
        return [
            {
                "type": "serial",
                "name": "ventilator-serial",
                "port": str(self.pty.link),
                "device_id": SERIAL_DEVICE,
                "baudrate": 19200,
                "parity": "even",
                "protocol": {
                    "type": "medibus",
                    "names": _MEDIBUS_NAMES,
                    "units": _MEDIBUS_UNITS,
                    "signals": ["leak_l_min"],
                    "poll_interval_s": 1.0,
                },
            },
            {
                "type": "mllp",
                "name": "hl7-gateway",
                "host": "127.0.0.1",
                "port": self.hl7_port,
                "protocol": {"type": "hl7"},
            },
        ]

    @staticmethod
    def devices() -> list[dict[str, Any]]:
        """Their inventory entries."""
        return [
            {
                "device_id": SERIAL_DEVICE,
                "modality": "ventilator",
                "asset_tag": "BME-020002",
                "site": "demo-hospital",
                "location": "ICU, Building C, level 2, bed 6 (RS-232, MEDIBUS)",
                "manufacturer": "Draeger",
                "model": "Evita 4",
                "serial": "SN-VT-90002",
                "em_number": 20,
            },
            {
                "device_id": HL7_DEVICE,
                "modality": "patient_monitor",
                "asset_tag": "BME-030001",
                "site": "demo-hospital",
                "location": "ICU, Building C, level 2, bed 6 (HL7 PCD-01 via device gateway)",
                "manufacturer": "Philips",
                "model": "IntelliVue MX450",
                "serial": "SN-MON-40001",
                "em_number": 15,
            },
        ]

    @property
    def source_names(self) -> tuple[str, ...]:
        """The names of the sources that read these devices (their receipt clock is ours)."""
        return tuple(s["name"] for s in self.sources())

    def _elapsed_h(self) -> float:
        return (self.clock() - self.clock.start_ts) / 3600.0

    def _ventilator_readings(self) -> list[Reading]:
        leak = 40.0 + 5.0 * math.sin(self._elapsed_h() / 7.0)
        return [Reading(SERIAL_DEVICE, "leak_l_min", round(leak, 1), self.clock(), "L/min")]

    def _monitor_readings(self) -> list[Reading]:
        t, now = self._elapsed_h(), self.clock()
        return [
            Reading(HL7_DEVICE, "monitor_battery_soh_pct", 93.0, now, "%"),
            Reading(
                HL7_DEVICE, "monitor_fan_rpm", round(2900 + 40 * math.sin(t / 5.0)), now, "rpm"
            ),
            Reading(
                HL7_DEVICE,
                "monitor_internal_temp_c",
                round(36.0 + 0.5 * math.sin(t / 11.0), 1),
                now,
                "°C",
            ),
        ]

    @contextlib.contextmanager
    def plugged(self) -> Iterator[DemoLinks]:
        """Plug the ventilator's pty in for a ``with`` block (the port exists inside it)."""
        self.pty.plug()
        try:
            yield self
        finally:
            self.pty.unplug()

    async def run(self, stop: asyncio.Event) -> None:
        """Answer the gateway's MEDIBUS polls and send HL7 observations until ``stop``."""
        serve = asyncio.create_task(self.ventilator.serve(stop))
        try:
            await self._send_hl7(stop)
        finally:
            stop.set()
            await serve

    async def _send_hl7(self, stop: asyncio.Event) -> None:
        codec = Hl7Protocol()
        while not stop.is_set():
            try:
                async with MllpClient("127.0.0.1", self.hl7_port) as client:
                    while not stop.is_set():
                        ack = await client.send(codec.encode(self._monitor_readings()))
                        self.sent_hl7 += 1
                        self.acked_hl7 += ack.code == "AA"
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(_HL7_EVERY_S):
                                await stop.wait()
            except (OSError, TimeoutError, ValueError) as exc:  # the listener is not up yet
                log.debug("event=demo_hl7_retry error=%r", str(exc))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await stop.wait()
