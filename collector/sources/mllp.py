"""HL7 v2 over MLLP: a TCP listener for device gateways sending IHE PCD-01 observations.

Each connection gets its own MLLP deframer (frames split across reads or
joined in one are reassembled; bytes outside ``0B ... 1C 0D`` are counted as
``source.<name>.skipped_bytes``). For every frame:

1. the payload is redacted (:meth:`Hl7Protocol.redact
   <htm_edge.collector.protocols.hl7.Hl7Protocol.redact>`: no PID, names, MRN,
   date of birth, visit or notes), so patient identity never reaches a store,
   a log or a dead letter;
2. it is handed on with ``await emit(frame)``, which returns once the frame is
   taken (queued today; committed to the durable spool once that lands);
3. only then is it acknowledged: ``AA`` when it decodes, ``AE`` when its
   observations are malformed, ``AR`` when it is not an HL7 observation
   message at all, MSA-2 echoing MSH-10. Frames that do not decode are still
   emitted, so the daemon dead-letters them.

A peer that sends nothing for ``idle_timeout_s`` is disconnected; at most
``max_connections`` peers are served at once; ``allowed_peers`` (IP
addresses) restricts who may connect. A port that cannot be bound (in use) is
retried with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator
from tenacity import AsyncRetrying, retry_if_exception_type, stop_never, wait_random_exponential

from htm_edge.collector.context import IngestContext
from htm_edge.collector.errors import DecodeError
from htm_edge.collector.protocols.base import Frame, Protocol
from htm_edge.collector.protocols.hl7 import Hl7Protocol, Hl7ProtocolConfig, Hl7Reject, ack
from htm_edge.collector.sources.base import EmitFrame, Source
from htm_edge.config.base import PluginConfig
from htm_edge.config.errors import ConfigError

__all__ = ["MllpSource", "MllpSourceConfig"]

log = logging.getLogger(__name__)


class MllpSourceConfig(PluginConfig):
    """Listen for HL7 v2 messages in MLLP frames."""

    type: Literal["mllp"] = "mllp"
    role: ClassVar[str] = "source"
    name: str = "hl7"
    host: str = Field(default="127.0.0.1", description="address to listen on (0.0.0.0: all)")
    port: int = Field(default=2575, ge=1, le=65535)
    protocol: Hl7ProtocolConfig = Field(default_factory=Hl7ProtocolConfig)
    allowed_peers: list[str] = Field(
        default_factory=list, description="IP addresses allowed to connect; empty: any"
    )
    max_connections: int = Field(default=16, ge=1, le=1024)
    idle_timeout_s: float = Field(default=600.0, gt=0)
    rebind_min_s: float = Field(default=0.5, gt=0)
    rebind_max_s: float = Field(default=30.0, gt=0)

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_shorthand(cls, value: Any) -> Any:
        """``protocol = "hl7"`` is short for ``protocol = { type = "hl7" }``."""
        return {"type": value} if isinstance(value, str) else value


class MllpSource(Source):
    """Receive, redact, hand on and acknowledge HL7 messages (see the module docstring)."""

    type_name: ClassVar[str] = "mllp"
    config_model: ClassVar[type[PluginConfig]] = MllpSourceConfig

    def __init__(self, cfg: MllpSourceConfig, ctx: IngestContext) -> None:
        super().__init__(cfg, ctx)
        self.cfg: MllpSourceConfig = cfg
        self._connections: set[asyncio.Task[Any]] = set()
        #: the port actually listened on (after binding)
        self.bound_port: int | None = None

    def attach(self, protocol: Protocol) -> None:
        """Take the protocol; it must be HL7."""
        if not isinstance(protocol, Hl7Protocol):
            raise ConfigError(f"sources.{self.name}: an MLLP source reads HL7 (protocol 'hl7')")
        self.protocol = protocol

    async def run(self, emit: EmitFrame) -> None:
        """Listen until cancelled; serve every peer in a task of its own."""
        if not isinstance(self.protocol, Hl7Protocol):
            raise ConfigError(
                f"sources.{self.name}: no HL7 protocol attached (build it with compose)"
            )
        protocol = self.protocol

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._connections.add(task)
            try:
                await self._serve(protocol, reader, writer, emit)
            finally:
                self._connections.discard(task)

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(OSError),
            wait=wait_random_exponential(
                multiplier=self.cfg.rebind_min_s, max=self.cfg.rebind_max_s
            ),
            stop=stop_never,
            before_sleep=lambda _s: self.count("bind_failures"),
            reraise=True,
        )
        server: asyncio.Server | None = None
        try:
            async for attempt in retrying:
                with attempt:
                    server = await asyncio.start_server(serve, self.cfg.host, self.cfg.port)
            assert server is not None
            self.bound_port = server.sockets[0].getsockname()[1]
            log.info(
                "event=mllp_listening source=%s address=%s:%s",
                self.name,
                self.cfg.host,
                self.bound_port,
            )
            self.ready.set()
            await server.serve_forever()
        finally:
            self.ready.clear()
            if server is not None:
                server.close()
            for task in list(self._connections):
                task.cancel()
            if self._connections:
                await asyncio.wait(list(self._connections), timeout=2.0)

    async def _serve(
        self,
        protocol: Hl7Protocol,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        emit: EmitFrame,
    ) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        origin = f"mllp:{peer[0]}:{peer[1]}"
        if (self.cfg.allowed_peers and peer[0] not in self.cfg.allowed_peers) or len(
            self._connections
        ) > self.cfg.max_connections:
            self.count("refused")
            log.warning("event=mllp_refused source=%s peer=%s", self.name, origin)
            writer.close()
            return
        self.count("connections")
        deframer = protocol.deframer()
        try:
            while True:
                data = await asyncio.wait_for(reader.read(65536), self.cfg.idle_timeout_s)
                if not data:
                    break
                skipped = deframer.skipped_bytes
                frames = deframer.feed(data)
                self.count("skipped_bytes", deframer.skipped_bytes - skipped)
                for raw in frames:
                    await self._handle(protocol, raw, origin, writer, emit)
        except (TimeoutError, ConnectionError, OSError) as exc:
            log.info(
                "event=mllp_peer_closed source=%s peer=%s why=%s",
                self.name,
                origin,
                type(exc).__name__,
            )
        finally:
            self.count("skipped_bytes", deframer.pending())
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _handle(
        self,
        protocol: Hl7Protocol,
        raw: bytes,
        origin: str,
        writer: asyncio.StreamWriter,
        emit: EmitFrame,
    ) -> None:
        frame = Frame(protocol.redact(raw), origin, self.clock(), None)
        self.count("messages")
        await emit(frame)  # returns once taken: only then may the peer be told so
        code, text = "AA", ""
        try:
            protocol.parse(frame)
        except Hl7Reject as exc:
            code, text = "AR", str(exc)
        except DecodeError as exc:
            code, text = "AE", str(exc)
        writer.write(ack(protocol, frame.payload, code, text))
        await writer.drain()
        self.count(f"ack_{code.lower()}")
