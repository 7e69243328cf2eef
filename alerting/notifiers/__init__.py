"""Notifiers, one module per config ``type``, and their registry.

Examples
--------
>>> from htm_edge.config.schema import ConsoleNotifierConfig
>>> type(build_notifier(ConsoleNotifierConfig())).__name__
'ConsoleNotifier'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TextIO

from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.notifiers.base import Notifier
from htm_edge.alerting.notifiers.console import ConsoleNotifier
from htm_edge.config.schema import ConsoleNotifierConfig

__all__ = ["NOTIFIERS", "ConsoleNotifier", "Notifier", "build_notifier"]

#: config ``type`` -> notifier class
NOTIFIERS: Mapping[str, type[Notifier]] = MappingProxyType(
    {ConsoleNotifier.type_name: ConsoleNotifier}
)


def build_notifier(cfg: ConsoleNotifierConfig, *, stream: TextIO | None = None) -> Notifier:
    """Build the notifier for one ``alerting.notifiers`` entry.

    ``stream`` redirects console output (tests, the CLI); other notifiers ignore it.

    Raises
    ------
    AlertingError
        When no notifier is registered for ``cfg.type``.
    """
    if cfg.type not in NOTIFIERS:
        raise AlertingError(
            f"alerting.notifiers: unknown notifier type {cfg.type!r}; "
            f"known types: {', '.join(sorted(NOTIFIERS))}"
        )
    if isinstance(cfg, ConsoleNotifierConfig):
        return ConsoleNotifier(cfg, stream=stream)
    raise AlertingError(f"alerting.notifiers: no builder for type {cfg.type!r}")  # pragma: no cover
