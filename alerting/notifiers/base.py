"""The ``Notifier`` role: deliver one notification (a work order and what happened) somewhere.

Implementations (console, MQTT, webhook, SMTP) live one per module under
:mod:`alerting.notifiers`, keyed by their config ``type``. ``send`` is a
coroutine so network notifiers can await I/O; the caller (the gateway's
dispatcher, reading the persisted outbox) owns retries, and a notification
is marked delivered only when ``send`` returned. Every message carries the
notification's idempotency key, so a receiver can drop a repeat. I/O starts
in ``send`` or ``__aenter__``, never in the constructor.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, ClassVar, Self

from htm_edge.alerting.notification import Notification
from htm_edge.config.base import PluginConfig

__all__ = ["Notifier"]


class Notifier(ABC):
    """Deliver alert events; an async context manager for transports that hold resources."""

    #: registry key, equal to the config ``type`` and the module name
    type_name: ClassVar[str]
    config_model: ClassVar[type[PluginConfig]]

    def __init__(self, name: str) -> None:
        self.name = name
        #: deliveries that succeeded and that failed (failures are never counted as sent)
        self.sent = 0
        self.failed = 0

    @classmethod
    @abstractmethod
    def from_config(cls, cfg: Any, ctx: Any) -> Self:
        """Build the notifier from its section and the alerting context."""

    @abstractmethod
    async def send(self, note: Notification) -> None:
        """Deliver one notification; raise ``AlertingError`` on failure.

        Implementations add 1 to :attr:`sent` only after a delivery succeeded;
        the dispatcher counts a raised error in :attr:`failed`.
        """

    async def aclose(self) -> None:
        """Release resources (connections, files); the default holds none."""
        return None

    async def __aenter__(self) -> Notifier:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
