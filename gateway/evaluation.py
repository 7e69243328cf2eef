"""Run a simulated fleet through the real scoring pipeline, offline, and grade the alerts.

The simulators' ground truth (which device degrades, from when, failing when)
makes the alerts gradable: a fault is *detected* when an alert opens on its
device between onset and failure (lead time = failure - first alert); every
alert that opens on a healthy device is a false alert. Time is simulated, so
weeks of fleet life take seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from htm_edge.alerting.types import EventKind
from htm_edge.gateway.compose import build_pipeline
from htm_edge.gateway.settings import HtmConfig
from htm_edge.simulators.fleet import FaultLabel, Fleet

__all__ = ["FaultOutcome", "FleetEvaluation", "evaluate_fleet", "grade_fault"]

_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class FaultOutcome:
    """How the pipeline did on one injected fault."""

    device_id: str
    failure_mode: str
    onset_ts: float
    failure_ts: float
    first_alert_ts: float | None
    alerted_modes: tuple[str, ...]
    #: the first alert event carrying a failure prediction of this mode, and the hours it gave
    predicted_at: float | None = None
    predicted_time_to_failure_h: float | None = None

    @property
    def detected(self) -> bool:
        """An alert opened on the device between onset and failure."""
        return self.first_alert_ts is not None

    @property
    def lead_time_s(self) -> float | None:
        """Seconds from the first alert to the failure."""
        return None if self.first_alert_ts is None else self.failure_ts - self.first_alert_ts

    def to_dict(self) -> dict[str, object]:
        """JSON-able form."""
        return {
            "device_id": self.device_id,
            "failure_mode": self.failure_mode,
            "onset_ts": self.onset_ts,
            "failure_ts": self.failure_ts,
            "detected": self.detected,
            "first_alert_ts": self.first_alert_ts,
            "lead_time_s": self.lead_time_s,
            "alerted_modes": list(self.alerted_modes),
            "predicted_at": self.predicted_at,
            "predicted_time_to_failure_h": self.predicted_time_to_failure_h,
        }

    def with_prediction(self, events: Sequence[dict[str, Any]]) -> FaultOutcome:
        """This outcome with the first prediction of its mode between onset and failure."""
        for e in events:
            left = e.get("time_to_failure_h")
            if (
                left is not None
                and e["device_id"] == self.device_id
                and e["failure_mode"] == self.failure_mode
                and self.onset_ts <= e["ts"] <= self.failure_ts
            ):
                return replace(self, predicted_at=e["ts"], predicted_time_to_failure_h=left)
        return self


@dataclass
class FleetEvaluation:
    """Outcome of one simulated run."""

    days: float
    healthy_devices: int
    false_alerts: int
    faults: list[FaultOutcome] = field(default_factory=list)
    false_alerts_by_signal: dict[str, int] = field(default_factory=dict)

    @property
    def false_alerts_per_device_day(self) -> float:
        """Alerts opened on healthy devices per device and simulated day."""
        exposure = self.healthy_devices * self.days
        return self.false_alerts / exposure if exposure else 0.0

    @property
    def detection_rate(self) -> float:
        """Share of injected faults detected before failure."""
        return sum(f.detected for f in self.faults) / len(self.faults) if self.faults else 0.0


def evaluate_fleet(
    cfg: HtmConfig, days: float, start_ts: float, seed: int | None = None
) -> FleetEvaluation:
    """Simulate ``cfg.simulation`` for ``days`` and grade the alerts it raises."""
    fleet = Fleet.from_config(cfg.simulation, cfg.inventory, start_ts=start_ts, seed=seed)
    pipeline = build_pipeline(cfg)
    truth = {label.device_id: label for label in fleet.ground_truth()}
    opened: dict[str, list[tuple[float, str, tuple[str, ...]]]] = {}
    steps = int(days * _DAY_S / cfg.simulation.sample_period_s)
    for _ in range(steps):
        batch = [r for device_readings in fleet.step() for r in device_readings]
        for event, _order in pipeline.process(batch):
            if event.kind is EventKind.OPENED:
                a = event.alert
                opened.setdefault(a.device_id, []).append((a.opened_at, a.failure_mode, a.signals))
    faults = [grade_fault(label, opened.get(device_id, [])) for device_id, label in truth.items()]
    healthy = [d.device_id for d in cfg.simulation.devices if d.device_id not in truth]
    by_signal: dict[str, int] = {}
    for device_id in healthy:
        for _, _, signals in opened.get(device_id, []):
            for signal in signals[:1]:
                by_signal[signal] = by_signal.get(signal, 0) + 1
    return FleetEvaluation(
        days=days,
        healthy_devices=len(healthy),
        false_alerts=sum(len(opened.get(d, [])) for d in healthy),
        faults=faults,
        false_alerts_by_signal=dict(sorted(by_signal.items())),
    )


def grade_fault(
    label: FaultLabel, alerts: Sequence[tuple[float, str, tuple[str, ...]]]
) -> FaultOutcome:
    """Grade one injected fault against the (opened_at, failure_mode, signals) of its device."""
    in_window = [a for a in alerts if label.onset_ts <= a[0] <= label.failure_ts]
    return FaultOutcome(
        device_id=label.device_id,
        failure_mode=label.failure_mode,
        onset_ts=label.onset_ts,
        failure_ts=label.failure_ts,
        first_alert_ts=min((a[0] for a in in_window), default=None),
        alerted_modes=tuple(sorted({a[1] for a in in_window})),
    )
