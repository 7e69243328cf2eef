"""Mutable book-keeping of one alert inside the engine, and its frozen snapshot.

The engine updates these records in place for every firing score and calls
:func:`snapshot` only when it emits an event, so the hot path allocates little.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from htm_edge.alerting.types import Alert, Severity, SignalEvidence
from htm_edge.config import catalog

__all__ = ["SERIES_POINTS", "AlertTrack", "SignalTrack", "snapshot"]

#: points of the inline series a work order carries per signal
SERIES_POINTS = 24


@dataclass(slots=True)
class SignalTrack:
    """What one signal contributed so far (``dev_ewma``/``ref_dev``: worsening check)."""

    signal: str
    first_seen_at: float
    first_value: float
    baseline: float | None
    last_seen_at: float
    last_value: float
    peak_score: float
    occurrences: int = 0
    rules: list[str] = field(default_factory=list)
    dev_ewma: float | None = None
    ref_dev: float | None = None
    #: inline series for the work order: every ``stride``-th value, at most SERIES_POINTS
    series: list[tuple[float, float]] = field(default_factory=list)
    stride: int = 1
    seen: int = 0

    def record(self, ts: float, value: float) -> None:
        """Keep every ``stride``-th point; when full, drop every other and double the stride."""
        if self.seen % self.stride == 0:
            self.series.append((ts, value))
            if len(self.series) > SERIES_POINTS:
                self.series = self.series[::2]
                self.stride *= 2
        self.seen += 1


@dataclass(slots=True)
class AlertTrack:
    """One open alert: its streams still firing (``active``), pending escalation reasons."""

    device_id: str
    failure_mode: str
    rule: str
    severity: Severity
    opened_at: float
    last_notified_at: float
    notified_severity: Severity
    repeat_interval_s: float
    previous_closed_at: float | None
    signals: dict[str, SignalTrack] = field(default_factory=dict)
    active: set[tuple[str, str]] = field(default_factory=set)
    #: streams whose rule exited while the value stayed away from its baseline
    held: set[tuple[str, str]] = field(default_factory=set)
    pending: dict[str, str] = field(default_factory=dict)
    cleared_at: float | None = None
    flaps: int = 0

    @property
    def key(self) -> str:
        """The dedup key ``"<device_id>:<failure_mode>"``."""
        return f"{self.device_id}:{self.failure_mode}"


def snapshot(track: AlertTrack, closed_at: float | None = None) -> Alert:
    """Return the frozen :class:`~alerting.types.Alert` view of ``track``.

    ``closed_at`` None gives an open alert, a time gives the closed one.
    """
    sigs = list(track.signals.values())
    first = sigs[0]
    rules: list[str] = []
    for st in sigs:
        rules.extend(r for r in st.rules if r not in rules)
    return Alert(
        key=track.key,
        device_id=track.device_id,
        failure_mode=track.failure_mode,
        rule=track.rule,
        rules=tuple(rules),
        signals=tuple(track.signals),
        severity=track.severity,
        state="open" if closed_at is None else "closed",
        opened_at=track.opened_at,
        last_seen_at=max(st.last_seen_at for st in sigs),
        closed_at=closed_at,
        occurrences=sum(st.occurrences for st in sigs),
        peak_score=max(st.peak_score for st in sigs),
        first_value=first.first_value,
        last_value=first.last_value,
        baseline=first.baseline,
        evidence=tuple(
            SignalEvidence(
                signal=st.signal,
                unit=catalog.unit_for(st.signal),
                rules=tuple(st.rules),
                first_seen_at=st.first_seen_at,
                last_seen_at=st.last_seen_at,
                first_value=st.first_value,
                last_value=st.last_value,
                baseline=st.baseline,
                peak_score=st.peak_score,
                occurrences=st.occurrences,
                series=tuple(st.series),
            )
            for st in sigs
        ),
        flaps=track.flaps,
        previous_closed_at=track.previous_closed_at,
    )
