"""The ``smtp`` notifier: e-mail with a plain-text and an HTML part, over STARTTLS with auth.

Recipients are the e-mail addresses of the notification's people (from
``[[alerting.engineers]]``) and ``to``. The ``Message-ID`` is derived from
the idempotency key (``<key@htm-edge>``, also in ``X-HTM-Idempotency-Key``),
so a mail client or a ticket system shows a repeat as the same message.
``starttls`` upgrades a plain connection (port 587); ``tls`` connects with
TLS from the start (port 465). The password comes from a ``SecretRef``.

Examples
--------
>>> SmtpNotifierConfig(host="mail", from_addr="htm@x.example").port
587
"""

from __future__ import annotations

import hashlib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import ClassVar, Literal, Self

import aiosmtplib
from pydantic import Field, model_validator

from htm_edge.alerting.context import AlertingContext
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.notification import Notification, render_html
from htm_edge.alerting.notifiers.base import Notifier
from htm_edge.config.base import PluginConfig, SecretRef
from htm_edge.config.errors import ConfigError

__all__ = ["SmtpNotifier", "SmtpNotifierConfig", "message_id"]


def message_id(key: str) -> str:
    """The ``Message-ID`` of the notification with idempotency key ``key``."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@htm-edge>"


class SmtpNotifierConfig(PluginConfig):
    """Send each notification as an e-mail through an SMTP server."""

    type: Literal["smtp"] = "smtp"
    role: ClassVar[str] = "notifier"
    name: str = "email"
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    tls: bool = False
    username: str | None = None
    password: SecretRef | None = None
    from_addr: str = Field(min_length=3)
    to: list[str] = Field(default_factory=list, description="always sent to these too")
    timeout_s: float = Field(default=15.0, gt=0)
    ca_file: Path | None = None
    verify_tls: bool = True

    @model_validator(mode="after")
    def _one_tls(self) -> SmtpNotifierConfig:
        if self.tls and self.starttls:
            raise ValueError("give tls = true (port 465) or starttls = true (port 587), not both")
        if self.password is not None and self.username is None:
            raise ValueError("a password needs a username")
        return self


class SmtpNotifier(Notifier):
    """Deliver notifications by e-mail (aiosmtplib, one connection per message)."""

    type_name: ClassVar[str] = "smtp"
    config_model: ClassVar[type[PluginConfig]] = SmtpNotifierConfig

    def __init__(self, cfg: SmtpNotifierConfig, password: str | None) -> None:
        super().__init__(cfg.name)
        self.cfg = cfg
        self._password = password

    @classmethod
    def from_config(cls, cfg: SmtpNotifierConfig, ctx: AlertingContext | None = None) -> Self:
        """Build the notifier; the password is read now (a missing one is a config error)."""
        password = None
        if cfg.password is not None:
            try:
                password = cfg.password.resolve()
            except LookupError as exc:
                raise ConfigError(f"alerting.notifiers {cfg.name!r} password: {exc}") from None
        return cls(cfg, password)

    def compose(self, note: Notification) -> EmailMessage:
        """The e-mail of ``note`` (raises ``AlertingError`` when it has no recipient)."""
        to = [c["email"] for c in note.contacts if c.get("email")] + list(self.cfg.to)
        if not to:
            raise AlertingError(
                f"notifier {self.name!r}: no e-mail address for {note.recipient or 'anyone'}; "
                "set alerting.engineers[].email or the notifier's 'to'"
            )
        msg = EmailMessage()
        msg["Subject"] = note.subject
        msg["From"] = self.cfg.from_addr
        msg["To"] = ", ".join(dict.fromkeys(to))
        msg["Date"] = formatdate(note.created_at, usegmt=True)
        msg["Message-ID"] = message_id(note.key)
        msg["X-HTM-Idempotency-Key"] = note.key
        msg.set_content(note.text + f"\n\nIdempotency key: {note.key}\n")
        msg.add_alternative(render_html(note.kind, note.document, note.reason), subtype="html")
        return msg

    def _tls_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(
            cafile=str(self.cfg.ca_file) if self.cfg.ca_file is not None else None
        )
        if not self.cfg.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    async def send(self, note: Notification) -> None:
        """Send the e-mail; raise ``AlertingError`` when the server did not accept it."""
        msg = self.compose(note)
        try:
            await aiosmtplib.send(
                msg,
                hostname=self.cfg.host,
                port=self.cfg.port,
                start_tls=self.cfg.starttls,
                use_tls=self.cfg.tls,
                username=self.cfg.username,
                password=self._password,
                timeout=self.cfg.timeout_s,
                tls_context=self._tls_context() if (self.cfg.tls or self.cfg.starttls) else None,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise AlertingError(f"notifier {self.name!r}: SMTP {self.cfg.host}: {exc}") from exc
        self.sent += 1
