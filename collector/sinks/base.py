"""The ``Sink`` role: write batches of readings somewhere durable."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Self

from htm_edge.collector.context import IngestContext
from htm_edge.collector.reading import Reading
from htm_edge.config.base import PluginConfig

__all__ = ["Sink"]


class Sink(ABC):
    """A destination for readings. I/O starts in :meth:`open`, never in the constructor.

    Contract (checked by the sink conformance suite for every registered sink):

    * :meth:`write` is durable on return, or raises; it never swallows a failure;
    * writing the same readings again stores them once (idempotent replay,
      keyed by device, signal and timestamp), so a retry after a crash or a
      timeout never duplicates;
    * :meth:`close` waits for a write in progress; it never pulls a connection
      from under it.
    """

    #: registry key, equal to the config ``type`` and the module name
    type_name: ClassVar[str]
    config_model: ClassVar[type[PluginConfig]]

    def __init__(self, cfg: Any, ctx: IngestContext) -> None:
        self.cfg = cfg
        self.ctx = ctx
        self.name: str = cfg.name

    @classmethod
    def from_config(cls, cfg: Any, ctx: IngestContext) -> Self:
        """Build the sink for its config section."""
        return cls(cfg, ctx)

    @abstractmethod
    async def open(self) -> None:
        """Connect or open files."""

    @abstractmethod
    async def write(self, batch: Sequence[Reading]) -> None:
        """Write ``batch`` durably or raise; the caller retries with backoff."""

    @abstractmethod
    async def close(self) -> None:
        """Flush and release resources."""
