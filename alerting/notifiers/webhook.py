"""The ``webhook`` notifier: an HTTP POST of the notification as JSON, signed with HMAC-SHA256.

The body is the notification's JSON message (its ``idempotency_key``, ``kind``,
``sent_at`` and the ``work_order`` document). Headers:

* ``X-HTM-Signature: sha256=<hex>``: HMAC-SHA256 of the exact body bytes with
  the shared secret (``secret = { env = ... }`` or ``{ file = ... }``);
* ``X-HTM-Timestamp``: ``sent_at`` in whole seconds; it is inside the signed
  body too, so a receiver rejects replays older than a few minutes;
* ``Idempotency-Key``: the same key after any retry or restart.

A receiver verifies with ``hmac.compare_digest(sig, "sha256=" + hmac.new(secret,
body, "sha256").hexdigest())``. Any answer but 2xx, a timeout or a refused
connection raises :class:`AlertingError` after ``retries`` quick retries; the
outbox retries later with backoff, so nothing is lost.

Examples
--------
>>> sign(b"secret", b'{"a":1}')[:20]
'sha256=aa9e2e3575f5d'
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import ClassVar, Literal, Self

import httpx
from pydantic import Field

from htm_edge.alerting.context import AlertingContext
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.notification import Notification
from htm_edge.alerting.notifiers.base import Notifier
from htm_edge.config.base import PluginConfig, SecretRef
from htm_edge.config.errors import ConfigError

__all__ = ["WebhookNotifier", "WebhookNotifierConfig", "sign"]


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-HTM-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookNotifierConfig(PluginConfig):
    """POST each notification as JSON to ``url``, signed with the shared ``secret``."""

    type: Literal["webhook"] = "webhook"
    role: ClassVar[str] = "notifier"
    name: str = "webhook"
    url: str = Field(pattern=r"^https?://")
    secret: SecretRef
    timeout_s: float = Field(default=10.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    verify_tls: bool = True
    headers: dict[str, str] = Field(default_factory=dict)


class WebhookNotifier(Notifier):
    """Deliver notifications to an HTTP endpoint (one long-lived ``httpx.AsyncClient``)."""

    type_name: ClassVar[str] = "webhook"
    config_model: ClassVar[type[PluginConfig]] = WebhookNotifierConfig

    def __init__(self, cfg: WebhookNotifierConfig, secret: str) -> None:
        super().__init__(cfg.name)
        self.cfg = cfg
        self._secret = secret.encode()
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_config(cls, cfg: WebhookNotifierConfig, ctx: AlertingContext | None = None) -> Self:
        """Build the notifier; the secret is read now (a missing one is a config error)."""
        try:
            secret = cfg.secret.resolve()
        except LookupError as exc:
            raise ConfigError(f"alerting.notifiers {cfg.name!r} secret: {exc}") from None
        return cls(cfg, secret)

    def body(self, note: Notification, sent_at: float) -> bytes:
        """The exact bytes that are posted (and signed)."""
        message = note.message(sent_at)
        return json.dumps(message, sort_keys=True, allow_nan=False).encode()

    async def send(self, note: Notification) -> None:
        """POST the notification; raise ``AlertingError`` unless the endpoint answered 2xx."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.cfg.timeout_s, verify=self.cfg.verify_tls)
        sent_at = round(time.time(), 3)
        body = self.body(note, sent_at)
        headers = {
            **self.cfg.headers,
            "Content-Type": "application/json",
            "X-HTM-Signature": sign(self._secret, body),
            "X-HTM-Timestamp": str(int(sent_at)),
            "Idempotency-Key": note.key,
        }
        error = ""
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                await asyncio.sleep(0.2 * 2 ** (attempt - 1))
            try:
                answer = await self._client.post(self.cfg.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
                continue
            if 200 <= answer.status_code < 300:
                self.sent += 1
                return
            error = f"HTTP {answer.status_code}"
            if 400 <= answer.status_code < 500 and answer.status_code not in (408, 429):
                break  # the endpoint refuses it: repeating now cannot help
        raise AlertingError(f"notifier {self.name!r}: POST {self.cfg.url} failed: {error}")

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
