"""In-memory fakes of the plugin roles, for fast daemon tests (as httpx's MockTransport).

Each fake has a twin test against the real thing: :class:`MemorySink` passes
the same sink conformance suite as the SQLite sink, :class:`ListSource` stands
in for MQTT, whose behaviour the source conformance suite checks on a real
mosquitto.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal, Self

from htm_edge.alerting.notification import Notification
from htm_edge.alerting.notifiers.base import Notifier
from htm_edge.collector.context import IngestContext
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.json import JsonProtocol
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks.base import Sink
from htm_edge.collector.sinks.sqlite import SqliteSinkConfig
from htm_edge.collector.sources.base import EmitFrame, Source
from htm_edge.config.base import PluginConfig


class ListSourceConfig(PluginConfig):
    type: Literal["list"] = "list"
    name: str = "list"


class ListSource(Source):
    """Emits the given frames once ready, then idles until cancelled."""

    type_name: ClassVar[str] = "list"
    config_model: ClassVar[type[PluginConfig]] = ListSourceConfig

    def __init__(self, frames: Sequence[Frame], ctx: IngestContext, name: str = "list") -> None:
        super().__init__(ListSourceConfig(name=name), ctx)
        self.frames = list(frames)
        self.emitted = 0

    async def run(self, emit: EmitFrame) -> None:
        self.ready.set()
        for frame in self.frames:
            self.count("messages")
            await emit(frame)
            self.emitted += 1
        await asyncio.Event().wait()


class MemorySink(Sink):
    """Keeps readings keyed like the real stores; can fail or hang on demand.

    ``fail_first`` writes raise OSError; ``fail_always`` makes every write
    raise; ``hang`` makes writes wait forever (a stuck network call).
    """

    type_name: ClassVar[str] = "memory"
    config_model: ClassVar[type[PluginConfig]] = SqliteSinkConfig

    def __init__(
        self,
        cfg: SqliteSinkConfig,
        ctx: IngestContext,
        *,
        fail_first: int = 0,
        fail_always: bool = False,
        hang: bool = False,
    ) -> None:
        super().__init__(cfg, ctx)
        self.rows: dict[tuple[str, str, float], Reading] = {}
        self.fail_first = fail_first
        self.fail_always = fail_always
        self.hang = hang
        self.attempts = 0
        self.is_open = False

    async def open(self) -> None:
        self.is_open = True

    async def write(self, batch: Sequence[Reading]) -> None:
        if not self.is_open:
            raise RuntimeError(f"memory sink {self.name!r}: write while closed")
        self.attempts += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.fail_always or self.attempts <= self.fail_first:
            raise OSError(f"memory sink {self.name!r}: simulated write failure")
        for r in batch:
            self.rows[(r.device_id, r.signal, r.ts)] = r

    async def close(self) -> None:
        self.is_open = False


class ExplodingProtocol(JsonProtocol):
    """JSON, except that a payload ``BOOM:<name>`` raises the builtin exception ``<name>``.

    Stands for a protocol with a bug: the daemon must survive whatever it raises.
    """

    def parse(self, frame: Frame) -> list[Reading]:
        if frame.payload.startswith(b"BOOM:"):
            exc: Callable[[str], BaseException] = __builtins__[frame.payload[5:].decode()]  # type: ignore[index]
            raise exc("simulated protocol bug")
        return super().parse(frame)


class RecordingNotifier(Notifier):
    """Keeps every delivered notification; with ``fail`` every send raises."""

    type_name: ClassVar[str] = "recording"

    def __init__(self, name: str = "recording", *, fail: bool = False) -> None:
        super().__init__(name)
        self.fail = fail
        self.events: list[Notification] = []

    @classmethod
    def from_config(cls, cfg: Any, ctx: Any) -> Self:
        return cls(cfg.name)

    async def send(self, note: Notification) -> None:
        if self.fail:
            raise ConnectionError(f"notifier {self.name!r}: simulated delivery failure")
        self.events.append(note)
        self.sent += 1
