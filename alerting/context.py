"""What alerting's plugins are built with, besides their own config section."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TextIO

__all__ = ["AlertingContext", "Publish"]

#: publish ``payload`` on ``topic`` with ``qos``; raises on failure (the gateway's MQTT client)
Publish = Callable[[str, bytes, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AlertingContext:
    """Shared services of rules and notifiers.

    ``console`` redirects the console notifier (tests, the demo); None means
    standard output. ``publish`` is the gateway's MQTT publisher (built on the
    one MQTT client module, which alerting may not import); ``site`` fills
    ``{site}`` in topics.
    """

    console: TextIO | None = None
    publish: Publish | None = None
    site: str = ""
