"""The ``Sink`` role: write batches of readings somewhere durable."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from htm_edge.collector.reading import Reading

__all__ = ["Sink"]


class Sink(ABC):
    """A destination for readings. I/O starts in :meth:`open`, never in the constructor."""

    name: ClassVar[str]

    @abstractmethod
    async def open(self) -> None:
        """Connect or open files."""

    @abstractmethod
    async def write(self, batch: Sequence[Reading]) -> None:
        """Write ``batch`` durably or raise; the caller retries with backoff."""

    @abstractmethod
    async def close(self) -> None:
        """Flush and release resources."""
