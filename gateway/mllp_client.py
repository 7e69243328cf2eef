"""An HL7 MLLP client: a simulated device gateway sending observations, waiting for ACKs.

It sends what :meth:`Hl7Protocol.encode
<htm_edge.collector.protocols.hl7.Hl7Protocol.encode>` makes of simulated
readings (or any bytes, for fault tests) to an MLLP listener, one message at
a time as PCD-01 device observation reporters do, and reads the
acknowledgement of each: ``MSA-1`` (AA/AE/AR) and ``MSA-2`` (the control id
it acknowledges).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from htm_edge.collector.protocols.hl7 import MllpDeframer

__all__ = ["Ack", "MllpClient"]


@dataclass(frozen=True, slots=True)
class Ack:
    """An acknowledgement: its code (MSA-1), the control id it answers (MSA-2), its bytes."""

    code: str
    control_id: str
    raw: bytes


def parse_ack(frame: bytes) -> Ack:
    """Read MSA-1 and MSA-2 from an MLLP-framed ACK."""
    text = frame.strip(b"\x0b\x1c\r").decode("utf-8", "replace")
    for segment in text.split("\r"):
        if segment.startswith("MSA"):
            fields = segment.split(segment[3]) if len(segment) > 3 else ["MSA"]
            fields += ["", ""]
            return Ack(fields[1], fields[2], frame)
    raise ValueError("acknowledgement has no MSA segment")


class MllpClient:
    """One TCP connection to an MLLP listener (an async context manager)."""

    def __init__(self, host: str, port: int, timeout_s: float = 10.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._deframer = MllpDeframer()
        self._acks: list[bytes] = []

    async def __aenter__(self) -> MllpClient:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.timeout_s
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(self._writer.wait_closed(), 2.0)

    @property
    def local_address(self) -> tuple[str, int]:
        """This end's (host, port): what the listener sees as the peer."""
        assert self._writer is not None, "use 'async with MllpClient(...)'"
        host, port = self._writer.get_extra_info("sockname")[:2]
        return str(host), int(port)

    async def write(self, data: bytes) -> None:
        """Send raw bytes (split or joined frames, garbage) without waiting for anything."""
        assert self._writer is not None, "use 'async with MllpClient(...)'"
        self._writer.write(data)
        await self._writer.drain()

    async def ack(self) -> Ack:
        """The next acknowledgement from the listener."""
        assert self._reader is not None, "use 'async with MllpClient(...)'"
        async with asyncio.timeout(self.timeout_s):
            while not self._acks:
                data = await self._reader.read(65536)
                if not data:
                    raise ConnectionError("the listener closed the connection")
                self._acks += self._deframer.feed(data)
        return parse_ack(self._acks.pop(0))

    async def send(self, frame: bytes) -> Ack:
        """Send one framed message and return its acknowledgement."""
        await self.write(frame)
        return await self.ack()
