"""The ``prediction`` rule: alert on failure predictions, escalate as the time left shrinks.

The rule sees :class:`~htm_edge.models.types.Prediction` objects (one per
device and failure mode per prognostics evaluation, hourly by default), not
anomaly scores. Each prediction is read as a score of the pseudo-signal
``predicted_failure`` whose *anomaly* is the probability of failure within the
horizon and whose *value* is the estimated time to failure in hours, so the
shared hysteresis of :mod:`alerting.rules.base` applies unchanged:

* a prediction is a *hit* when its probability is at least ``probability``
  (``None``: the model file's ``alert_probability``, 0.5 without a model)
  and, when ``time_to_failure_below_h`` is set, its time to failure is below
  it ("likely, and soon enough to plan a visit for"; a very low
  ``probability`` makes the time limit the only condition);
* it is *clear* when the probability is below half of that level or the time
  to failure is at least twice the limit;
* the alert opens after ``enter_count`` hits among ``enter_window`` evaluations
  and clears after ``exit_count`` clear ones (a day of hourly evaluations);
* **escalation by time left, not by repetition:** a prediction whose time to
  failure is below ``critical_below_h`` carries severity ``critical``, so the
  engine escalates the alert at once when the estimate crosses that limit,
  and never again for the same level.

The alert key is ``device:failure_mode``, so a prediction joins an anomaly
alert of the same failure mode (the engineer gets one work order whose
evidence holds both) and its work order carries the time to failure with its
interval and the supporting trends (:meth:`AlertEngine.work_order`).

Examples
--------
>>> from htm_edge.config.inventory import Device, Modality
>>> from htm_edge.models.types import Prediction
>>> rule = PredictionRule(PredictionRuleConfig(name="p", enter_count=1))
>>> dev = Device(device_id="mr-1", modality=Modality.MRI)
>>> p = Prediction("mr-1", "MR.COLDHEAD.DEGRADATION", 0.0, 0.9, 604800.0, 36000.0, 30000.0, 50000.0)
>>> sig = rule.evaluate_prediction(p, dev)
>>> sig.transition, sig.severity, sig.value
(<Transition.ENTER: 'enter'>, 'critical', 10.0)
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import Field

from htm_edge.alerting.rules.base import Rule, RuleConfigBase, RuleSignal, Transition
from htm_edge.config.inventory import Device
from htm_edge.models.types import Prediction, Score

__all__ = ["PREDICTION_SIGNAL", "PredictionRule", "PredictionRuleConfig"]

#: the signal name a prediction joins its alert under (shown in work orders)
PREDICTION_SIGNAL = "predicted_failure"
#: a time to failure with no course toward failure, in hours (finite, so hysteresis reads it)
_NO_COURSE_H = 1e6


class PredictionRuleConfig(RuleConfigBase):
    """Open an alert when a failure is likely within the horizon; escalate as time runs out."""

    type: Literal["prediction"] = "prediction"
    name: str = "failure-prediction"
    probability: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="hit at or above this probability (default: the model file's level)",
    )
    time_to_failure_below_h: float | None = Field(
        default=None, gt=0, description="a hit needs less estimated time left than this"
    )
    critical_below_h: float = Field(
        default=24.0, ge=0, description="severity critical (escalate at once) below this time left"
    )
    enter_count: int = Field(default=2, ge=1)
    enter_window: int = Field(default=2, ge=1)
    exit_count: int = Field(default=24, ge=1)
    severity: Literal["low", "medium", "high", "critical"] = "high"


class PredictionRule(Rule):
    """Hysteresis on predictions of every failure mode of the devices it applies to."""

    type_name: ClassVar[str] = "prediction"
    config_model: ClassVar[type[RuleConfigBase]] = PredictionRuleConfig
    #: the alert level used when the config leaves ``probability`` unset and no model says one
    DEFAULT_PROBABILITY: ClassVar[float] = 0.5

    def __init__(self, cfg: PredictionRuleConfig) -> None:
        super().__init__(cfg, enter_window=cfg.enter_window)
        self.cfg = cfg
        self.probability = cfg.probability or self.DEFAULT_PROBABILITY

    def use_model_level(self, alert_probability: float | None) -> None:
        """Take the model file's alert probability, unless the config set one."""
        if self.cfg.probability is None and alert_probability is not None:
            self.probability = alert_probability

    def evaluate_prediction(self, prediction: Prediction, device: Device) -> RuleSignal | None:
        """Feed one prediction; return the transition of its (device, failure mode) stream."""
        if self.modalities and device.modality not in self.modalities:
            return None
        if not math.isfinite(prediction.probability):
            return None
        if self.failure_mode is not None and prediction.failure_mode != self.failure_mode:
            return None  # a rule for one failure mode
        ttf_h = prediction.time_to_failure_s / 3600.0
        score = Score(
            prediction.device_id,
            f"{PREDICTION_SIGNAL}:{prediction.failure_mode}",
            prediction.ts,
            prediction.probability,
            ttf_h if math.isfinite(ttf_h) else _NO_COURSE_H,
        )
        # the base class keys streams by signal: one stream per failure mode
        return self.evaluate(score, device)

    def applies(self, score: Score, device: Device) -> bool:
        """Only the pseudo-scores :meth:`evaluate_prediction` makes (never anomaly scores)."""
        if self.modalities and device.modality not in self.modalities:
            return False
        return self.matches_signal(score.signal)

    def matches_signal(self, signal: str) -> bool:
        """Return True for a prediction's pseudo-signal."""
        return signal.startswith(PREDICTION_SIGNAL + ":")

    def is_hit(self, score: Score) -> bool:
        """Likely enough within the horizon and, with a limit, less time left than it."""
        limit = self.cfg.time_to_failure_below_h
        return score.anomaly >= self.probability and (limit is None or score.value < limit)

    def is_clear(self, score: Score) -> bool:
        """Probability below half the level, or (with a limit) twice the limit left or more."""
        limit = self.cfg.time_to_failure_below_h
        return score.anomaly < self.probability / 2 or (
            limit is not None and score.value >= 2 * limit
        )

    def _signal(
        self, transition: Transition, score: Score, device: Device, hits: int
    ) -> RuleSignal:
        """The failure mode is the prediction's; severity rises to critical as time runs out."""
        critical = transition is not Transition.EXIT and score.value < self.cfg.critical_below_h
        return RuleSignal(
            rule=self.name,
            transition=transition,
            device_id=score.device_id,
            signal=PREDICTION_SIGNAL,
            failure_mode=score.signal.partition(":")[2],
            severity="critical" if critical else self.severity,
            ts=score.ts,
            anomaly=score.anomaly,
            value=score.value,
            hits=hits,
            repeat_interval_s=self.repeat_interval_s,
        )
