"""The ``console`` notifier: work orders as text blocks or JSON lines on a stream.

Examples
--------
>>> import io
>>> n = ConsoleNotifier(ConsoleNotifierConfig(format="json"), stream=io.StringIO())
>>> n.name
'console'
"""

from __future__ import annotations

import json
import sys
import time
from typing import ClassVar, Literal, Self, TextIO

from htm_edge.alerting.context import AlertingContext
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.notification import Notification
from htm_edge.alerting.notifiers.base import Notifier
from htm_edge.config.base import PluginConfig

__all__ = ["ConsoleNotifier", "ConsoleNotifierConfig"]


class ConsoleNotifierConfig(PluginConfig):
    """Print work orders to standard output (``text``) or as JSON lines (``json``)."""

    type: Literal["console"] = "console"
    role: ClassVar[str] = "notifier"
    name: str = "console"
    format: Literal["text", "json"] = "text"


class ConsoleNotifier(Notifier):
    """Write each event to ``stream``: a text block (``text``) or one JSON object per line.

    Parameters
    ----------
    cfg:
        The notifier's config section.
    stream:
        Where to write; standard output by default.
    """

    type_name: ClassVar[str] = "console"
    config_model: ClassVar[type[PluginConfig]] = ConsoleNotifierConfig

    def __init__(self, cfg: ConsoleNotifierConfig, stream: TextIO | None = None) -> None:
        super().__init__(cfg.name)
        self.cfg = cfg
        self.stream = stream if stream is not None else sys.stdout

    @classmethod
    def from_config(cls, cfg: ConsoleNotifierConfig, ctx: AlertingContext | None = None) -> Self:
        """Build the notifier; ``ctx.console`` redirects its output."""
        return cls(cfg, stream=ctx.console if ctx is not None else None)

    def render(self, note: Notification, sent_at: float = 0.0) -> str:
        """Return exactly what :meth:`send` writes (ends with a newline)."""
        if self.cfg.format == "json":
            return json.dumps(note.message(sent_at), ensure_ascii=False, allow_nan=False) + "\n"
        return f"{note.text}\nIdempotency: {note.key}\n\n"

    async def send(self, note: Notification) -> None:
        """Write the notification and flush the stream."""
        try:
            self.stream.write(self.render(note, time.time()))
            self.stream.flush()
        except (OSError, ValueError) as exc:
            raise AlertingError(f"notifier {self.name!r}: cannot write to console: {exc}") from exc
        self.sent += 1
