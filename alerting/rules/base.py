"""The ``Rule`` role: per-stream hysteresis that turns scores into firing intervals.

A rule watches every (device, signal) stream it applies to and keeps a tiny
state per stream. Each score it sees either changes nothing (``None``) or
yields a :class:`RuleSignal`:

* ``ENTER`` when the stream starts firing (``enter_count`` hits among the last
  ``enter_window`` scores);
* ``HOLD`` for every further score while it fires (so the engine can follow the
  value and the peak score);
* ``EXIT`` when it stops firing: ``exit_count`` consecutive *clear* scores and at
  least ``min_open_s`` since it entered. A score that is neither a hit nor clear
  (inside the hysteresis band) resets the clear run.

Scores whose value or anomaly is not finite are ignored (state unchanged).
Subclasses say only what a *hit* and a *clear* score are.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self

from pydantic import Field

from htm_edge.alerting.context import AlertingContext
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.types import Severity
from htm_edge.config import catalog
from htm_edge.config.base import PluginConfig
from htm_edge.config.inventory import Device, Modality
from htm_edge.models.types import Score

__all__ = ["Rule", "RuleConfigBase", "RuleSignal", "Transition"]


class RuleConfigBase(PluginConfig):
    """The settings every rule type shares (see the module docstring for hysteresis)."""

    role: ClassVar[str] = "rule"
    name: str
    modalities: list[Modality] = Field(default_factory=list, description="empty = all")
    enter_count: int = Field(default=1, ge=1)
    exit_count: int = Field(default=3, ge=1)
    min_open_s: float = Field(default=0.0, ge=0)
    repeat_interval_s: float = Field(default=4 * 3600.0, gt=0)
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    failure_mode: str | None = None


class Transition(StrEnum):
    """How a stream's firing state moved with one score."""

    ENTER = "enter"
    HOLD = "hold"
    EXIT = "exit"


@dataclass(frozen=True, slots=True)
class RuleSignal:
    """What one rule concluded from one score of one stream.

    ``hits`` counts scores that met the entry condition and are reported for the
    first time: on ENTER the hits in the window that opened it, otherwise 1 when
    this score is a hit and 0 when not (the engine sums them as occurrences).
    """

    rule: str
    transition: Transition
    device_id: str
    signal: str
    failure_mode: str
    severity: Severity
    ts: float
    anomaly: float
    value: float
    hits: int
    repeat_interval_s: float


class _Stream:
    """Hysteresis state of one (device, signal) stream: a few numbers and a short window."""

    __slots__ = ("clear_run", "entered_at", "firing", "window")

    def __init__(self, enter_window: int) -> None:
        self.window: deque[bool] = deque(maxlen=enter_window)
        self.firing = False
        self.entered_at = 0.0
        self.clear_run = 0


class Rule(ABC):
    """Base of every rule: filters streams and runs the enter/exit state machine.

    Parameters
    ----------
    name:
        Unique rule name (config ``name``), shown in alerts and work orders.
    modalities:
        Device modalities the rule applies to; empty means all.
    severity, failure_mode, repeat_interval_s:
        Copied into every :class:`RuleSignal`; ``failure_mode`` None means "look
        it up in the catalogue from (modality, signal)".
    enter_count, enter_window, exit_count, min_open_s:
        Hysteresis parameters (see the module docstring).
    """

    #: registry key, equal to the config ``type`` and the module name
    type_name: ClassVar[str]
    config_model: ClassVar[type[RuleConfigBase]]

    def __init__(self, cfg: RuleConfigBase, *, enter_window: int | None = None) -> None:
        """Take the settings every rule type shares from ``cfg``; ``enter_window`` varies."""
        self.name = cfg.name
        self.modalities = frozenset(cfg.modalities)
        self.severity: Severity = cfg.severity
        self.failure_mode = cfg.failure_mode
        self.repeat_interval_s = cfg.repeat_interval_s
        self.enter_count = cfg.enter_count
        self.enter_window = max(enter_window or cfg.enter_count, cfg.enter_count)
        self.exit_count = cfg.exit_count
        self.min_open_s = cfg.min_open_s
        self._streams: dict[tuple[str, str], _Stream] = {}

    @classmethod
    def from_config(cls, cfg: Any, ctx: AlertingContext | None = None) -> Self:
        """Build the rule from its config section; raise ``AlertingError`` on a wrong type."""
        if not isinstance(cfg, cls.config_model):
            raise AlertingError(
                f"rule {getattr(cfg, 'name', '?')!r} has type {cfg.type!r}, not {cls.type_name!r}"
            )
        return cls(cfg)

    @abstractmethod
    def matches_signal(self, signal: str) -> bool:
        """Return True when the rule watches ``signal``."""

    @abstractmethod
    def is_hit(self, score: Score) -> bool:
        """Return True when ``score`` meets the entry condition."""

    @abstractmethod
    def is_clear(self, score: Score) -> bool:
        """Return True when ``score`` is clearly back to normal (counts towards exit)."""

    def applies(self, score: Score, device: Device) -> bool:
        """Return True when the rule watches this score's signal on this device."""
        if score.signal == catalog.IN_USE_SIGNAL:
            return False
        if self.modalities and device.modality not in self.modalities:
            return False
        return self.matches_signal(score.signal)

    def evaluate(self, score: Score, device: Device) -> RuleSignal | None:
        """Feed one score; return the stream's transition, or None when nothing fires.

        Parameters
        ----------
        score:
            The score; ``score.ts`` is the clock.
        device:
            Inventory entry of ``score.device_id`` (modality filter, catalogue lookup).
        """
        if not self.applies(score, device):
            return None
        if not (math.isfinite(score.anomaly) and math.isfinite(score.value)):
            return None
        key = (score.device_id, score.signal)
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream(self.enter_window)
        hit = self.is_hit(score)
        if not stream.firing:
            stream.window.append(hit)
            if sum(stream.window) < self.enter_count:
                return None
            hits = sum(stream.window)
            stream.firing = True
            stream.entered_at = score.ts
            stream.clear_run = 0
            stream.window.clear()
            return self._signal(Transition.ENTER, score, device, hits)
        stream.clear_run = stream.clear_run + 1 if self.is_clear(score) else 0
        if stream.clear_run >= self.exit_count and score.ts - stream.entered_at >= self.min_open_s:
            stream.firing = False
            stream.clear_run = 0
            return self._signal(Transition.EXIT, score, device, int(hit))
        return self._signal(Transition.HOLD, score, device, int(hit))

    def is_firing(self, device_id: str, signal: str) -> bool:
        """Return True while the stream is firing."""
        stream = self._streams.get((device_id, signal))
        return stream is not None and stream.firing

    def reset_device(self, device_id: str) -> None:
        """Forget every stream of ``device_id`` (after maintenance: fresh evidence needed)."""
        for key in [k for k in self._streams if k[0] == device_id]:
            del self._streams[key]

    @property
    def n_streams(self) -> int:
        """Number of streams with state (for health counters and memory bounds)."""
        return len(self._streams)

    def _signal(
        self, transition: Transition, score: Score, device: Device, hits: int
    ) -> RuleSignal:
        mode = self.failure_mode or catalog.failure_mode_for(device.modality, score.signal)
        return RuleSignal(
            rule=self.name,
            transition=transition,
            device_id=score.device_id,
            signal=score.signal,
            failure_mode=mode,
            severity=self.severity,
            ts=score.ts,
            anomaly=score.anomaly,
            value=score.value,
            hits=hits,
            repeat_interval_s=self.repeat_interval_s,
        )
