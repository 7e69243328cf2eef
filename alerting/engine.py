"""The alert engine: rules -> deduplicated alerts -> opened/escalated/resolved events.

Policy (domain brief 4.5, Alertmanager as the model):

* **Dedup.** One alert per key ``"<device_id>:<failure_mode>"``. Every rule and
  signal of a device that points to the same failure mode joins that alert
  (its ``signals`` grow); ``occurrences`` counts the scores that met a rule's
  entry condition.
* **Hysteresis** lives in the rules (:mod:`alerting.rules.base`). The alert is
  *cleared* when every (rule, signal) stream that fired into it has exited.
* **Flap control (resolve hold).** A cleared alert is not resolved at once: the
  RESOLVED event is sent only after ``resolve_hold_s`` of the device's score
  time passed without the key firing again. If it fires again within the hold,
  the same alert continues silently with ``flaps + 1``: the engineer never saw
  a resolve, so nothing new is announced. ``closed_at`` is the time it cleared.
* **Escalation on worsening only.** Reasons: the alert's severity rises (a more
  severe rule joins), a new signal joins, or a signal's smoothed deviation from
  its baseline grows ``worsening_factor`` times versus the last notification.
  Reasons collect and go out as one ESCALATED event at most once per
  ``repeat_interval_s`` (the smallest of the joined rules) since the last
  notification; a rise *to critical* goes out at once. Nothing is re-sent
  merely because an alert is still open.
* **Return to baseline.** Detectors adapt, so a slow degradation can stop
  scoring high while the device is still far from where it was: the drift
  has become the detector's new normal. An anomaly rule's exit therefore
  releases a signal only once its value is back within ``return_fraction`` of
  the deviation it had when it joined the alert, measured from the baseline
  captured then; until that, the stream is *held* and the alert stays open.
  Threshold rules carry their own clear margin and are released at once.
  (The joining, exiting and releasing of streams is in :mod:`alerting.evidence`.)
* **Maintenance.** While a device is in maintenance (:meth:`AlertEngine.set_maintenance`)
  its scores reach no rule and open nothing. At its first score inside the
  window its open alerts resolve (reason "maintenance") and its rule streams
  are forgotten, so a fault that survives maintenance needs fresh evidence.
* ``in_use`` never alerts; it feeds :class:`~alerting.utilisation.UtilisationTracker`.
* **Predictions** (:meth:`AlertEngine.process_prediction`) reach only
  ``prediction`` rules and join alerts by the same key; the newest prediction
  of each (device, failure mode) goes into that alert's work orders.

The clock is ``Score.ts``: the engine never reads wall time, so the same score
sequence always gives the same events. State is bounded: a few numbers per
stream, one record per open alert, one float per key ever closed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from htm_edge.alerting.config import EngineerConfig
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.evidence import exit_stream, join_stream, release_returned
from htm_edge.alerting.rules import Rule, RuleSignal, Transition
from htm_edge.alerting.rules.anomaly import AnomalyRule
from htm_edge.alerting.rules.prediction import PredictionRule
from htm_edge.alerting.tracking import AlertTrack, snapshot
from htm_edge.alerting.types import (
    SEVERITY_RANK,
    Alert,
    AlertEvent,
    EventKind,
    WorkOrder,
    format_ts,
)
from htm_edge.alerting.utilisation import UtilisationTracker
from htm_edge.alerting.workorder import build_work_order
from htm_edge.config import catalog
from htm_edge.config.inventory import Device, Modality
from htm_edge.models.types import Prediction, Score

__all__ = ["AlertEngine", "Inventory"]

#: the inventory as a mapping or a lookup function
Inventory = Mapping[str, Device] | Callable[[str], Device | None]

#: keys of ``Score.detail`` read as the stream's baseline, when a detector gives one
_BASELINE_KEYS = ("baseline", "expected", "mean")


class AlertEngine:
    """Turn a stream of scores into alert events.

    Parameters
    ----------
    rules:
        The built rules (the composition root builds them from ``alerting.rules``).
    engineers:
        Who can be dispatched (``alerting.engineers``).
    inventory:
        Device lookup: a mapping or a function; unknown devices still alert, as
        modality ``other``.
    resolve_hold_s:
        Flap control: how long a cleared alert must stay quiet before it resolves.
    worsening_factor:
        Escalate when a signal's deviation from baseline grows this many times.
    baseline_alpha:
        Smoothing of the per-stream baseline learnt from normal scores.
    normal_score:
        Scores below this anomaly teach the baseline.

    Raises
    ------
    AlertingError
        When two rules share a name.
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        engineers: Sequence[EngineerConfig],
        inventory: Inventory,
        *,
        resolve_hold_s: float = 3600.0,
        worsening_factor: float = 2.0,
        baseline_alpha: float = 0.05,
        normal_score: float = 0.5,
        return_fraction: float = 0.5,
    ) -> None:
        names = [r.name for r in rules]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise AlertingError(
                    f"alerting.rules[{i}].name {name!r} is used twice; give each rule a unique name"
                )
        self.rules: list[Rule] = list(rules)
        self.engineers = tuple(engineers)
        self._lookup = inventory.get if isinstance(inventory, Mapping) else inventory
        self.resolve_hold_s = resolve_hold_s
        self.worsening_factor = worsening_factor
        self.baseline_alpha = baseline_alpha
        self.normal_score = normal_score
        self.return_fraction = return_fraction
        self._needs_return = {r.name for r in self.rules if isinstance(r, AnomalyRule)}
        self.prediction_rules = [r for r in self.rules if isinstance(r, PredictionRule)]
        #: the newest prediction per (device, failure mode): one record each, bounded
        self.predictions: dict[tuple[str, str], Prediction] = {}
        self.utilisation = UtilisationTracker()
        self._tracks: dict[str, dict[str, AlertTrack]] = {}
        self._last_closed: dict[str, float] = {}
        self._baselines: dict[tuple[str, str], float] = {}
        self._maintenance: dict[str, tuple[float, bool]] = {}
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "scores",
                "predictions",
                "opened",
                "escalated",
                "resolved",
                "flaps",
                "suppressed",
                "deferred",
            ),
            0,
        )

    # ----------------------------------------------------------------- public API
    def device(self, device_id: str) -> Device:
        """Return the inventory entry, or a minimal one (modality ``other``) if unknown."""
        found = self._lookup(device_id)
        if found is not None:
            return found
        return Device.model_construct(device_id=device_id, modality=Modality.OTHER)

    def set_maintenance(self, device_id: str, until_ts: float | None) -> None:
        """Put ``device_id`` in maintenance until ``until_ts`` (score time); None ends it."""
        if until_ts is None:
            self._maintenance.pop(device_id, None)
        else:
            self._maintenance[device_id] = (until_ts, False)

    def in_maintenance(self, device_id: str, ts: float) -> bool:
        """Return True when ``device_id`` is in maintenance at ``ts``."""
        entry = self._maintenance.get(device_id)
        return entry is not None and ts < entry[0]

    def process(self, score: Score) -> list[AlertEvent]:
        """Feed one score; return the events it caused (often none), in order."""
        self.counters["scores"] += 1
        events = self._confirm_resolves(score.device_id, score.ts)
        if score.signal == catalog.IN_USE_SIGNAL:
            self.utilisation.update(score.device_id, score.ts, score.value)
            return events
        if self._maintenance_gate(score, events):
            return events
        release_returned(
            self._tracks.get(score.device_id, {}).values(), score, self.return_fraction
        )
        device = self.device(score.device_id)
        for rule in self.rules:
            sig = rule.evaluate(score, device)
            if sig is not None:
                events.extend(self._apply(sig))
        self._learn_baseline(score)
        return events

    def process_prediction(self, prediction: Prediction) -> list[AlertEvent]:
        """Feed one failure prediction to the ``prediction`` rules; return the events.

        The clock is ``prediction.ts``; a device in maintenance raises nothing.
        """
        self.counters["predictions"] += 1
        self.predictions[(prediction.device_id, prediction.failure_mode)] = prediction
        events = self._confirm_resolves(prediction.device_id, prediction.ts)
        if self.in_maintenance(prediction.device_id, prediction.ts):
            return events
        device = self.device(prediction.device_id)
        for rule in self.prediction_rules:
            sig = rule.evaluate_prediction(prediction, device)
            if sig is not None:
                events.extend(self._apply(sig))
        return events

    def flush(self, now_ts: float) -> list[AlertEvent]:
        """Resolve every cleared alert whose hold has passed at ``now_ts`` (score time)."""
        events: list[AlertEvent] = []
        for device_id in list(self._tracks):
            events.extend(self._confirm_resolves(device_id, now_ts))
        return events

    def open_alerts(self) -> list[Alert]:
        """Return snapshots of every open alert (cleared ones in their hold included)."""
        return [snapshot(t) for tracks in self._tracks.values() for t in tracks.values()]

    def get_alert(self, key: str) -> Alert | None:
        """Return the open alert with ``key``, or None."""
        device_id, _, mode = key.partition(":")
        track = self._tracks.get(device_id, {}).get(mode)
        return None if track is None else snapshot(track)

    def work_order(self, event: AlertEvent) -> WorkOrder:
        """Build the work order for ``event`` (device, engineers, utilisation at event time)."""
        device = self.device(event.alert.device_id)
        usage = self.utilisation.info(device.device_id, event.ts)
        prediction = self.predictions.get((device.device_id, event.alert.failure_mode))
        return build_work_order(event, device, self.engineers, usage, prediction)

    def stats(self) -> dict[str, int]:
        """Return health counters and state sizes."""
        return {
            **self.counters,
            "open_alerts": sum(len(t) for t in self._tracks.values()),
            "rule_streams": sum(r.n_streams for r in self.rules),
            "baselines": len(self._baselines),
        }

    # ----------------------------------------------------------------- internals
    def _maintenance_gate(self, score: Score, events: list[AlertEvent]) -> bool:
        entry = self._maintenance.get(score.device_id)
        if entry is None:
            return False
        until, started = entry
        if score.ts >= until:
            del self._maintenance[score.device_id]
            return False
        self.counters["suppressed"] += 1
        if not started:
            self._maintenance[score.device_id] = (until, True)
            reason = f"device in maintenance until {format_ts(until)}"
            for track in list(self._tracks.get(score.device_id, {}).values()):
                events.append(self._resolve(track, score.ts, reason))
            for rule in self.rules:
                rule.reset_device(score.device_id)
        return True

    def _apply(self, sig: RuleSignal) -> list[AlertEvent]:
        track = self._tracks.get(sig.device_id, {}).get(sig.failure_mode)
        if sig.transition is Transition.EXIT:
            if track is not None:
                exit_stream(track, sig, self._needs_return, self.return_fraction)
                if not track.active and self.resolve_hold_s <= 0:
                    return [self._resolve(track, sig.ts, self._resolve_reason())]
            return []
        if track is None:
            tracks = self._tracks.setdefault(sig.device_id, {})
            return [self._open(sig, tracks)]
        return self._update(track, sig)

    def _open(self, sig: RuleSignal, tracks: dict[str, AlertTrack]) -> AlertEvent:
        track = AlertTrack(
            device_id=sig.device_id,
            failure_mode=sig.failure_mode,
            rule=sig.rule,
            severity=sig.severity,
            opened_at=sig.ts,
            last_notified_at=sig.ts,
            notified_severity=sig.severity,
            repeat_interval_s=sig.repeat_interval_s,
            previous_closed_at=self._last_closed.get(f"{sig.device_id}:{sig.failure_mode}"),
        )
        tracks[sig.failure_mode] = track
        join_stream(track, sig, self._baselines, self.worsening_factor)
        self.counters["opened"] += 1
        return AlertEvent(
            EventKind.OPENED,
            snapshot(track),
            sig.ts,
            f"rule {sig.rule} fired on {sig.signal} (score {sig.anomaly:.3f})",
        )

    def _update(self, track: AlertTrack, sig: RuleSignal) -> list[AlertEvent]:
        track.held.discard((sig.rule, sig.signal))
        if track.cleared_at is not None:
            track.cleared_at = None
            track.flaps += 1
            self.counters["flaps"] += 1
        if sig.signal not in track.signals:
            track.pending[f"signal:{sig.signal}"] = f"signal {sig.signal} joined"
        join_stream(track, sig, self._baselines, self.worsening_factor)
        if SEVERITY_RANK[track.severity] > SEVERITY_RANK[track.notified_severity]:
            track.pending["severity"] = f"severity raised to {track.severity}"
        if not track.pending:
            return []
        urgent = track.severity == "critical" and track.notified_severity != "critical"
        if not urgent and sig.ts - track.last_notified_at < track.repeat_interval_s:
            self.counters["deferred"] += 1
            return []
        reason = "; ".join(track.pending.values())
        track.pending.clear()
        track.last_notified_at = sig.ts
        track.notified_severity = track.severity
        for st in track.signals.values():
            st.ref_dev = st.dev_ewma
        self.counters["escalated"] += 1
        return [AlertEvent(EventKind.ESCALATED, snapshot(track), sig.ts, reason)]

    def _resolve_reason(self) -> str:
        return f"all signals back to normal for {self.resolve_hold_s:g} s"

    def _confirm_resolves(self, device_id: str, ts: float) -> list[AlertEvent]:
        tracks = self._tracks.get(device_id)
        if not tracks:
            return []
        events = [
            self._resolve(t, ts, self._resolve_reason())
            for t in list(tracks.values())
            if t.cleared_at is not None and ts - t.cleared_at >= self.resolve_hold_s
        ]
        return events

    def _resolve(self, track: AlertTrack, ts: float, reason: str) -> AlertEvent:
        closed_at = track.cleared_at if track.cleared_at is not None else ts
        tracks = self._tracks[track.device_id]
        del tracks[track.failure_mode]
        if not tracks:
            del self._tracks[track.device_id]
        self._last_closed[track.key] = closed_at
        self.counters["resolved"] += 1
        return AlertEvent(EventKind.RESOLVED, snapshot(track, closed_at), ts, reason)

    def _learn_baseline(self, score: Score) -> None:
        key = (score.device_id, score.signal)
        for name in _BASELINE_KEYS:
            given = score.detail.get(name)
            if given is not None and math.isfinite(given):
                self._baselines[key] = float(given)
                return
        if not (math.isfinite(score.value) and score.anomaly < self.normal_score):
            return
        old = self._baselines.get(key)
        self._baselines[key] = (
            score.value if old is None else old + self.baseline_alpha * (score.value - old)
        )
