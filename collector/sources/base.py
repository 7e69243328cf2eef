"""The ``Source`` role: receive frames from a transport and hand them on."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Self

from htm_edge.collector.context import IngestContext
from htm_edge.collector.protocols.base import Frame, Protocol
from htm_edge.config.base import PluginConfig

__all__ = ["EmitFrame", "Source"]

#: awaited once per frame; it returns when the frame was taken (backpressure)
EmitFrame = Callable[[Frame], Awaitable[None]]


class Source(ABC):
    """A transport. The constructor only stores config; I/O starts in :meth:`run`.

    Every source sets :attr:`ready` once it is receiving (subscribed, port
    open) and clears it when it loses its transport, so the daemon and tests
    can wait for it without knowing the transport.

    The composition root hands each source the protocol of its frames with
    :meth:`attach` before :meth:`run`: byte-stream sources need its deframer
    and session, and sources of protocols that carry patient data redact
    frames with it before they hand them on.

    Frames are stamped at receipt with :attr:`clock`, the gateway clock
    (``time.time``). Devices without a clock of their own get their readings'
    time from that stamp, so a replay that runs the gateway on a simulated
    clock (the demo) sets it on the sources it feeds.
    """

    #: registry key, equal to the config ``type`` and the module name
    type_name: ClassVar[str]
    config_model: ClassVar[type[PluginConfig]]

    def __init__(self, cfg: Any, ctx: IngestContext) -> None:
        self.cfg = cfg
        self.ctx = ctx
        self.name: str = cfg.name
        self.ready = asyncio.Event()
        #: the protocol of this source's frames (set by :meth:`attach`)
        self.protocol: Protocol | None = None
        #: the receipt clock frames are stamped with (seconds since the epoch)
        self.clock: Callable[[], float] = time.time

    @classmethod
    def from_config(cls, cfg: Any, ctx: IngestContext) -> Self:
        """Build the source for its config section."""
        return cls(cfg, ctx)

    def attach(self, protocol: Protocol) -> None:
        """Take the protocol the composition root built for this source (default: keep it).

        A source that cannot work with ``protocol`` raises ``ConfigError`` naming the fix.
        """
        self.protocol = protocol

    def count(self, what: str, n: int = 1) -> None:
        """Add ``n`` to this source's counter ``source.<name>.<what>``."""
        self.ctx.health.inc(f"source.{self.name}.{what}", n)

    @abstractmethod
    async def run(self, emit: EmitFrame) -> None:
        """Receive frames until cancelled, awaiting ``emit`` for each.

        Recoverable transport failures are retried inside; only a failure that
        needs an operator (bad credentials after every retry, say) may raise.
        """
