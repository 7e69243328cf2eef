"""Simulated serial devices: the far end of a pty pair, speaking a protocol through ``encode``.

The simulators (:mod:`htm_edge.simulators`) make readings and know no
transport; this module puts them on a pseudo-terminal so that the gateway's
serial source reads them exactly as it reads an RS-232 port: bytes in, split
across reads, with the line's faults on demand.

* :class:`PtyDevice` owns the master side of a pty pair and a stable path to
  the slave side (a symlink, as udev's ``/dev/serial/by-id`` names are):
  :meth:`~PtyDevice.unplug` closes the pair and removes the link (a USB
  adapter pulled out), :meth:`~PtyDevice.plug` makes a new pair behind the
  same path.
* :class:`MedibusDevice` answers the gateway's MEDIBUS session: echoes ICC and
  NOP, identifies itself, and answers measured-data polls with the frame
  :meth:`MedibusProtocol.encode <htm_edge.collector.protocols.medibus.MedibusProtocol.encode>`
  makes of its current readings.
* :func:`stream_frames` writes free-running frames (DRI, MIB) in chunks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import time
import tty
from collections.abc import Callable, Sequence
from pathlib import Path

from htm_edge.collector.protocols.medibus import (
    DATA_CP1,
    DATA_CP2,
    DEVICE_ID,
    ESC,
    MedibusDeframer,
    MedibusProtocol,
    frame_ok,
    response,
)
from htm_edge.collector.reading import Reading

__all__ = ["MedibusDevice", "PtyDevice", "stream_frames"]


class PtyDevice:
    """The device end of a pty pair, reachable by the gateway at ``link``."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master: int | None = None
        self._slave: int | None = None

    @property
    def plugged(self) -> bool:
        """True while the pty pair exists."""
        return self.master is not None

    def plug(self) -> None:
        """Create a pty pair in raw mode and point ``link`` at its slave side."""
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        os.set_blocking(master, False)
        self.master, self._slave = master, slave
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        self.link.symlink_to(os.ttyname(slave))

    def unplug(self) -> None:
        """Close the pair and remove ``link``: to the gateway, the port is gone."""
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        for fd in (self.master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.master = self._slave = None

    def write(self, data: bytes, timeout_s: float = 5.0) -> None:
        """Write all of ``data`` to the gateway, waiting while the pty is full.

        A gateway that stops reading (it shut down, or its port is closed) fills
        the pty: after ``timeout_s`` the write gives up with :class:`TimeoutError`,
        as a real device's answer would be lost on the line, instead of waiting
        for ever.
        """
        view = memoryview(data)
        deadline = time.monotonic() + timeout_s
        while view:
            if self.master is None:
                raise OSError("the device is unplugged")
            try:
                select.select([], [self.master], [], 0.2)
                n = os.write(self.master, view)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("the gateway is not reading the port") from None
                continue
            except ValueError:
                raise OSError("the device is unplugged") from None
            view = view[n:]

    def read(self, timeout_s: float = 0.0) -> bytes:
        """What the gateway wrote, waiting up to ``timeout_s`` for the first byte."""
        master = self.master
        if master is None:
            return b""
        try:  # unplug() may close the fd under a waiting select
            ready, _, _ = select.select([master], [], [], timeout_s)
            return os.read(master, 65536) if ready else b""
        except (OSError, ValueError):
            return b""


class MedibusDevice:
    """A MEDIBUS device (a ventilator, say) answering the gateway's session over a pty.

    ``readings`` is called for every measured-data poll and returns the
    readings to report (signals are data codes or names the codec maps);
    ``corrupt`` may rewrite an answer (a line fault) before it is sent.
    """

    def __init__(
        self,
        pty: PtyDevice,
        codec: MedibusProtocol,
        readings: Callable[[], Sequence[Reading]],
        identification: bytes = b"0161'Evita4'04.01:06.00",
        corrupt: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.pty, self.codec, self.readings = pty, codec, readings
        self.identification = identification
        self.corrupt = corrupt
        self.received: list[bytes] = []
        self.deframer = MedibusDeframer()

    def answer(self, frame: bytes) -> bytes | None:
        """The device's answer to one frame from the gateway (None for a response)."""
        if frame[0] != ESC:
            return None
        if not frame_ok(frame):
            return response(0x15)
        code = frame[1]
        if code == DEVICE_ID:
            return response(code, self.identification)
        if code in (DATA_CP1, DATA_CP2):
            readings = self.readings()
            return self.codec.encode(readings) if readings else response(code)
        return response(code)

    def step(self, timeout_s: float = 0.05) -> int:
        """Read what the gateway sent and answer it; return the number of frames answered."""
        answered = 0
        for frame in self.deframer.feed(self.pty.read(timeout_s)):
            self.received.append(frame)
            out = self.answer(frame)
            if out is not None:
                self.pty.write(self.corrupt(out) if self.corrupt else out)
                answered += 1
        return answered

    async def serve(self, stop: asyncio.Event) -> None:
        """Answer the gateway until ``stop`` is set (steps run in a thread)."""
        while not stop.is_set():
            if not self.pty.plugged:
                await asyncio.sleep(0.05)
                continue
            try:
                await asyncio.to_thread(self.step, 0.05)
            except OSError:  # unplugged under a write, or nobody reads: that answer is lost
                await asyncio.sleep(0.05)


def stream_frames(pty: PtyDevice, frames: Sequence[bytes], chunk: int = 7) -> None:
    """Write ``frames`` as one stream in ``chunk``-byte writes (reads will split them)."""
    data = b"".join(frames)
    for i in range(0, len(data), chunk):
        pty.write(data[i : i + chunk])
