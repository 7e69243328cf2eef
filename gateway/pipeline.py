"""Readings -> scores -> alert events -> work orders, with no I/O.

The daemon's score stage and the offline fleet evaluation both run this one
class (built by :func:`htm_edge.gateway.compose.build_pipeline`), so what is
evaluated is exactly what runs on the gateway. It is also where the roles'
types meet: collector readings become model arrays, model scores become
alerting inputs.

Streams are keyed by (device, signal, operating state): a device that
publishes ``in_use`` gets a separate baseline per state for each signal, because
many signals (motor current, blower current, tube temperatures) move with the
workload, and a change of workload is not a fault. Devices without ``in_use``
have one state.

With failure prediction on (``models.prognostics.enabled``), the same usable
readings also feed :class:`~htm_edge.models.prognostics.Prognostics`; its
hourly predictions go to the engine's ``prediction`` rules, after the scores
of the batch that closed their hour.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from htm_edge.alerting.engine import AlertEngine
from htm_edge.alerting.types import AlertEvent, WorkOrder
from htm_edge.collector.reading import Reading
from htm_edge.config.catalog import IN_USE_SIGNAL
from htm_edge.models.prognostics import Prognostics
from htm_edge.models.scorer import StreamScorer
from htm_edge.models.types import Prediction, Score

__all__ = ["ScoringPipeline", "predict_readings"]


class ScoringPipeline:
    """Score readings and turn the scores into alert events with their work orders.

    Parameters
    ----------
    scorer:
        The stream scorer (warm when restored from saved model state).
    engine:
        The alert engine with its rules.
    prognostics:
        Failure prediction, or None when it is off.
    """

    def __init__(
        self, scorer: StreamScorer, engine: AlertEngine, prognostics: Prognostics | None = None
    ) -> None:
        self.scorer = scorer
        self.engine = engine
        self.prognostics = prognostics
        self._state: dict[str, int] = {}
        #: the newest score time seen (the alerting clock in ``data`` mode)
        self.latest_ts: float | None = None

    def process(self, readings: Sequence[Reading]) -> list[tuple[AlertEvent, WorkOrder]]:
        """Score the usable readings (in order) and return the events they raise."""
        usable = [r for r in readings if r.usable]
        if not usable:
            return []
        # the usage reading of a sample applies to every signal of that sample
        usage = {(r.device_id, r.ts): r.value for r in usable if r.signal == IN_USE_SIGNAL}
        keys = []
        for r in usable:
            in_use = usage.get((r.device_id, r.ts))
            if in_use is not None:
                self._state[r.device_id] = int(in_use > 0.5)
            keys.append((r.device_id, r.signal, self._state.get(r.device_id, 0)))
        ts = np.fromiter((r.ts for r in usable), dtype=float, count=len(usable))
        values = np.fromiter((r.value for r in usable), dtype=float, count=len(usable))
        anomaly = self.scorer.score(keys, ts, values)
        newest = float(ts.max())
        if self.latest_ts is None or newest > self.latest_ts:
            self.latest_ts = newest
        out: list[tuple[AlertEvent, WorkOrder]] = []
        for r, a in zip(usable, anomaly.tolist(), strict=True):
            for event in self.engine.process(Score(r.device_id, r.signal, r.ts, a, r.value)):
                # built now, so in-use state and idle window match the event time
                out.append((event, self.engine.work_order(event)))
        if self.prognostics is not None:
            devices = [r.device_id for r in usable]
            signals = [r.signal for r in usable]
            for p in self.prognostics.update(devices, signals, ts, values):
                for event in self.engine.process_prediction(p):
                    out.append((event, self.engine.work_order(event)))
        return out


def predict_readings(prognostics: Prognostics, readings: Sequence[Reading]) -> list[Prediction]:
    """Feed the usable ``readings`` to ``prognostics`` as the pipeline does; the predictions.

    For callers that run prediction beside a pipeline (``htm-edge evaluate``,
    the prediction-rule benchmark) rather than inside it.
    """
    usable = [r for r in readings if r.usable]
    return prognostics.update(
        [r.device_id for r in usable],
        [r.signal for r in usable],
        np.fromiter((r.ts for r in usable), dtype=float, count=len(usable)),
        np.fromiter((r.value for r in usable), dtype=float, count=len(usable)),
    )
