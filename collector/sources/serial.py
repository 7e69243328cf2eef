"""Serial source: read a device's RS-232 port (or USB adapter) with pyserial, forever.

* Line settings (baud, data bits, parity, stop bits, flow control) and timeouts
  come from the config; the protocol (MEDIBUS, IntelliVue MIB, DRI, HL7)
  splits the byte stream with its deframer and, for polling protocols, its
  session says what to write: on open, in answer to a frame, and when a poll
  falls due.
* Reads run in a thread of their own (pyserial blocks), handing chunks to the
  event loop; writes go through ``asyncio.to_thread``. The loop never blocks.
* A port that vanishes (USB adapter unplugged, device powered off) is closed
  and reopened with full-jitter exponential backoff (tenacity) for as long as
  it takes; the gap is logged (``event=serial_port_lost`` /
  ``serial_port_reopened gap_s=...``) and counted
  (``source.<name>.port_gaps``, ``source.<name>.port_gap_seconds``). A partial
  frame at the loss is dropped (its bytes count as skipped).
* An open port that delivers no frame for ``stale_after_s`` raises a
  staleness event (``event=serial_stale``, ``source.<name>.stale``).
* The device is named by ``device_id`` (frames carry it as ``hint_device_id``);
  devices without a clock are stamped at receipt by their protocol.

Give udev's stable names (``/dev/serial/by-id/...``) rather than ``ttyUSB0``:
an adapter that is plugged back may come back under another number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any, ClassVar, Literal

import serial
from pydantic import Field, field_validator
from tenacity import AsyncRetrying, retry_if_exception_type, stop_never, wait_random_exponential

from htm_edge.collector.context import IngestContext
from htm_edge.collector.deadletter import carries_patient_data
from htm_edge.collector.protocols import ProtocolConfig
from htm_edge.collector.protocols.base import Frame, Protocol
from htm_edge.collector.protocols.framing import Deframer, Session
from htm_edge.collector.sources.base import EmitFrame, Source
from htm_edge.config.base import PluginConfig
from htm_edge.config.errors import ConfigError
from htm_edge.config.inventory import DEVICE_ID_PATTERN

__all__ = ["SerialSource", "SerialSourceConfig"]

log = logging.getLogger(__name__)

_PARITY = {
    "none": serial.PARITY_NONE,
    "even": serial.PARITY_EVEN,
    "odd": serial.PARITY_ODD,
    "mark": serial.PARITY_MARK,
    "space": serial.PARITY_SPACE,
}
_STOPBITS = {1: serial.STOPBITS_ONE, 1.5: serial.STOPBITS_ONE_POINT_FIVE, 2: serial.STOPBITS_TWO}
_CHUNK = 4096
_PortError = (serial.SerialException, OSError)


class SerialSourceConfig(PluginConfig):
    """One device on one serial port."""

    type: Literal["serial"] = "serial"
    role: ClassVar[str] = "source"
    name: str = "serial"
    port: str = Field(description="device path, e.g. /dev/serial/by-id/usb-FTDI_...-port0")
    device_id: str = Field(pattern=DEVICE_ID_PATTERN, description="inventory id of the device")
    protocol: ProtocolConfig
    baudrate: int = Field(default=19200, gt=0, le=4_000_000)
    bytesize: Literal[5, 6, 7, 8] = 8
    parity: Literal["none", "even", "odd", "mark", "space"] = "none"
    stopbits: float = Field(default=1, description="1, 1.5 or 2")
    flow_control: Literal["none", "rtscts", "dsrdtr", "xonxoff"] = "none"
    read_timeout_s: float = Field(default=0.1, gt=0, le=5, description="longest blocking read")
    write_timeout_s: float = Field(default=2.0, gt=0, le=60)
    reopen_min_s: float = Field(default=0.5, gt=0, description="first wait before reopening")
    reopen_max_s: float = Field(default=30.0, gt=0, description="longest wait before reopening")
    stale_after_s: float = Field(
        default=60.0, gt=0, description="no frame for this long on an open port: staleness event"
    )

    @field_validator("stopbits")
    @classmethod
    def _stopbits(cls, value: float) -> float:
        if value not in _STOPBITS:
            raise ValueError("stop bits are 1, 1.5 or 2")
        return value

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_shorthand(cls, value: Any) -> Any:
        """``protocol = "medibus"`` is short for ``protocol = { type = "medibus" }``."""
        return {"type": value} if isinstance(value, str) else value


class _Reader:
    """A thread reading an open port, handing chunks (or the error that ended it) to the loop."""

    def __init__(self, port: serial.Serial, loop: asyncio.AbstractEventLoop) -> None:
        self.port = port
        self.queue: asyncio.Queue[bytes | BaseException] = asyncio.Queue()
        self._loop = loop
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"serial {port.port}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.port.read(max(1, min(self.port.in_waiting, _CHUNK)))
            except BaseException as exc:  # the port went away: tell the loop, end
                if not self._stop.is_set():
                    self._loop.call_soon_threadsafe(self.queue.put_nowait, exc)
                return
            if data:
                self._loop.call_soon_threadsafe(self.queue.put_nowait, data)

    async def close(self) -> None:
        """Stop the thread, wait for it (bounded), close the port."""
        self._stop.set()
        with contextlib.suppress(Exception):
            self.port.cancel_read()
        await asyncio.to_thread(self._thread.join, 2.0)
        with contextlib.suppress(Exception):
            self.port.close()


class SerialSource(Source):
    """Frames from one serial port, split by the attached protocol (see the module docstring)."""

    type_name: ClassVar[str] = "serial"
    config_model: ClassVar[type[PluginConfig]] = SerialSourceConfig

    def __init__(self, cfg: SerialSourceConfig, ctx: IngestContext) -> None:
        super().__init__(cfg, ctx)
        self.cfg: SerialSourceConfig = cfg
        self.origin = f"serial:{cfg.port}"

    def attach(self, protocol: Protocol) -> None:
        """Take the protocol; it must split byte streams (have a deframer)."""
        if protocol.deframer() is None:
            raise ConfigError(
                f"sources.{self.name}: protocol {protocol.type_name!r} reads whole messages, "
                "not a byte stream; use medibus, intellivue, datex or hl7 on a serial port"
            )
        self.protocol = protocol

    def _open(self) -> serial.Serial:
        c = self.cfg
        return serial.Serial(
            c.port,
            baudrate=c.baudrate,
            bytesize=c.bytesize,
            parity=_PARITY[c.parity],
            stopbits=_STOPBITS[c.stopbits],
            rtscts=c.flow_control == "rtscts",
            dsrdtr=c.flow_control == "dsrdtr",
            xonxoff=c.flow_control == "xonxoff",
            timeout=c.read_timeout_s,
            write_timeout=c.write_timeout_s,
            exclusive=True,
        )

    async def _open_with_backoff(self) -> serial.Serial:
        failures = 0

        def failed(_state: Any) -> None:
            nonlocal failures
            failures += 1
            self.count("open_failures")
            if failures == 1:
                log.warning(
                    "event=serial_port_unavailable source=%s port=%s", self.name, self.cfg.port
                )

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_PortError),
            wait=wait_random_exponential(
                multiplier=self.cfg.reopen_min_s, max=self.cfg.reopen_max_s
            ),
            stop=stop_never,
            before_sleep=failed,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await asyncio.to_thread(self._open)
        raise AssertionError("unreachable: retries never stop")  # pragma: no cover

    async def run(self, emit: EmitFrame) -> None:
        """Open the port, read frames and hand them on; reopen whenever it is lost."""
        if self.protocol is None:
            raise ConfigError(f"sources.{self.name}: no protocol attached (build it with compose)")
        deframer = self.protocol.deframer()
        assert deframer is not None
        session = self.protocol.session()
        lost_at: float | None = None
        while True:
            port = await self._open_with_backoff()
            self.count("opens")
            if lost_at is not None:
                gap = time.monotonic() - lost_at
                self.count("port_gaps")
                self.count("port_gap_seconds", round(gap))
                log.warning(
                    "event=serial_port_reopened source=%s port=%s gap_s=%.1f",
                    self.name,
                    self.cfg.port,
                    gap,
                )
            else:
                log.info("event=serial_port_open source=%s port=%s", self.name, self.cfg.port)
            reader = _Reader(port, asyncio.get_running_loop())
            try:
                await self._pump(reader, deframer, session, emit)
            except _PortError as exc:
                lost_at = time.monotonic()
                log.warning(
                    "event=serial_port_lost source=%s port=%s error=%r",
                    self.name,
                    self.cfg.port,
                    str(exc)[:200],
                )
            finally:
                self.ready.clear()
                before = deframer.skipped_bytes
                deframer.reset()
                self.count("skipped_bytes", deframer.skipped_bytes - before)
                await reader.close()

    async def _write(self, port: serial.Serial, frames: list[bytes]) -> None:
        for data in frames:
            await asyncio.to_thread(port.write, data)
            self.count("writes")

    async def _pump(
        self, reader: _Reader, deframer: Deframer, session: Session | None, emit: EmitFrame
    ) -> None:
        """Read, deframe, answer and emit until the port fails (raises) or we are cancelled."""
        assert self.protocol is not None
        redact = carries_patient_data(self.protocol)
        if session is not None:
            await self._write(reader.port, session.on_open())
        self.ready.set()
        interval = session.poll_interval_s if session is not None else 1.0
        next_poll = time.monotonic() + interval
        last_frame = time.monotonic()
        stale = False
        while True:
            timeout = max(0.0, next_poll - time.monotonic())
            try:
                item = await asyncio.wait_for(reader.queue.get(), timeout)
            except TimeoutError:
                item = b""
            if isinstance(item, BaseException):
                raise item if isinstance(item, _PortError) else serial.SerialException(repr(item))
            now = time.monotonic()
            if item:
                self.count("bytes", len(item))
                skipped, invalid = deframer.skipped_bytes, deframer.invalid
                frames = deframer.feed(item)
                self.count("skipped_bytes", deframer.skipped_bytes - skipped)
                self.count("invalid_frames", deframer.invalid - invalid)
                for raw in frames:
                    if session is not None:
                        await self._write(reader.port, session.on_frame(raw))
                    payload = self.protocol.redact(raw) if redact else raw
                    self.count("messages")
                    await emit(Frame(payload, self.origin, self.clock(), self.cfg.device_id))
                if frames:
                    last_frame, stale = now, False
            if now >= next_poll:
                next_poll = now + interval
                if session is not None:
                    await self._write(reader.port, session.poll(now))
                if not stale and now - last_frame > self.cfg.stale_after_s:
                    stale = True
                    self.count("stale")
                    log.warning(
                        "event=serial_stale source=%s port=%s silent_s=%.0f",
                        self.name,
                        self.cfg.port,
                        now - last_frame,
                    )
