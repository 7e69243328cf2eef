"""What alerting's plugins are built with, besides their own config section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

__all__ = ["AlertingContext"]


@dataclass(frozen=True, slots=True)
class AlertingContext:
    """Shared services of rules and notifiers.

    ``console`` redirects the console notifier (tests, the demo); None means
    standard output.
    """

    console: TextIO | None = None
