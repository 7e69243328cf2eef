"""Notifiers, one module per config ``type``, and their registry.

Examples
--------
>>> from htm_edge.alerting.notifiers.console import ConsoleNotifierConfig
>>> type(NOTIFIERS.build(ConsoleNotifierConfig(), None)).__name__
'ConsoleNotifier'
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from htm_edge.alerting.notifiers.base import Notifier
from htm_edge.alerting.notifiers.console import ConsoleNotifier, ConsoleNotifierConfig
from htm_edge.alerting.notifiers.mqtt import MqttNotifier, MqttNotifierConfig
from htm_edge.alerting.notifiers.smtp import SmtpNotifier, SmtpNotifierConfig
from htm_edge.alerting.notifiers.webhook import WebhookNotifier, WebhookNotifierConfig
from htm_edge.config.registry import Registry

__all__ = [
    "NOTIFIERS",
    "ConsoleNotifier",
    "MqttNotifier",
    "Notifier",
    "NotifierConfig",
    "SmtpNotifier",
    "WebhookNotifier",
]

#: the tagged union of every notifier's config section
NotifierConfig = Annotated[
    ConsoleNotifierConfig | MqttNotifierConfig | SmtpNotifierConfig | WebhookNotifierConfig,
    Field(discriminator="type"),
]

#: config ``type`` -> notifier class
NOTIFIERS: Registry[Notifier] = Registry(
    "notifier", [ConsoleNotifier, MqttNotifier, SmtpNotifier, WebhookNotifier], NotifierConfig
)
