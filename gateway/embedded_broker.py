"""An in-process MQTT broker (amqtt) for the demo and for gateways without one.

A production site points ``[broker]`` at its own broker (mosquitto, EMQX, ...);
the embedded one exists so that ``htm-edge demo`` needs no set-up.
"""

from __future__ import annotations

import logging
import socket
from types import TracebackType
from typing import Any

from htm_edge.collector.errors import CollectorError

__all__ = ["EmbeddedBroker", "free_port"]

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedBroker:
    """Run an amqtt broker on ``host:port`` (port 0 = pick a free port) for a ``with`` block."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._broker: Any = None

    async def __aenter__(self) -> EmbeddedBroker:
        from amqtt.broker import Broker

        if self.port == 0:
            self.port = free_port(self.host)
        # amqtt logs every packet at INFO; keep the demo's console for alerts.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        self._broker = Broker(config)
        try:
            await self._broker.start()
        except Exception as exc:  # amqtt raises its own BrokerError or OSError
            raise CollectorError(
                f"embedded MQTT broker could not listen on {self.host}:{self.port}: {exc}; "
                "set broker.port to a free port or 0"
            ) from exc
        log.info("event=embedded_broker_started host=%s port=%d", self.host, self.port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            log.info("event=embedded_broker_stopped")
