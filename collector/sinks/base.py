"""The ``Sink`` role: write batches of readings somewhere durable."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Self

from htm_edge.collector.context import IngestContext
from htm_edge.collector.reading import Reading
from htm_edge.config.base import PluginConfig

__all__ = ["Sink", "SinkError"]


class SinkError(Exception):
    """A write failed in a way the writer should handle specially.

    Any other exception from :meth:`Sink.write` is retried with jittered
    exponential backoff. A :class:`SinkError` says more:

    Parameters
    ----------
    message:
        What failed, for the log.
    retry_after_s:
        The server asked to wait this long (HTTP 429/503 ``Retry-After``).
    too_large:
        The batch is too large for the server (HTTP 413): write it in halves.
    configuration:
        Retrying cannot help until an operator acts (HTTP 401/403: wrong
        token or rights). The writer logs it as a configuration error, keeps
        the data spooled and retries at the slowest rate.
    rejected:
        The server refused some readings of the batch for what they are
        (InfluxDB's "partial write": older than the retention policy, a
        field type conflict; a line it cannot parse) and may have stored the
        others. Repeating the batch can never store them, and would block
        every later reading: the writer isolates them (in halves) and keeps
        them in the dead-letter store.
    rejected_count:
        How many readings the server said it refused (``dropped=N``), if it
        said: when that is the whole batch, no halving is needed.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        too_large: bool = False,
        configuration: bool = False,
        rejected: bool = False,
        rejected_count: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.too_large = too_large
        self.configuration = configuration
        self.rejected = rejected
        self.rejected_count = rejected_count


class Sink(ABC):
    """A destination for readings. I/O starts in :meth:`open`, never in the constructor.

    Contract (checked by the sink conformance suite for every registered sink):

    * :meth:`write` is durable on return, or raises; it never swallows a failure
      (a :class:`SinkError` tells the writer how to retry);
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
