"""The ``Source`` role: receive frames from a transport and hand them on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import ClassVar

from htm_edge.collector.protocols.base import Frame

__all__ = ["EmitFrame", "Source"]

EmitFrame = Callable[[Frame], Awaitable[None]]


class Source(ABC):
    """A transport. The constructor only stores config; I/O starts in :meth:`run`."""

    name: ClassVar[str]

    @abstractmethod
    async def run(self, emit: EmitFrame) -> None:
        """Receive frames until cancelled, awaiting ``emit`` for each (backpressure)."""
