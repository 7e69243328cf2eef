"""Rules: hysteresis state machine, filters, threshold limits, registry conformance."""

from __future__ import annotations

import math

import pytest

from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.rules import (
    RULES,
    AnomalyRule,
    PredictionRule,
    Rule,
    RuleSignal,
    ThresholdRule,
    Transition,
)
from htm_edge.alerting.rules.anomaly import AnomalyRuleConfig
from htm_edge.alerting.rules.prediction import PREDICTION_SIGNAL, PredictionRuleConfig
from htm_edge.alerting.rules.threshold import ThresholdRuleConfig
from htm_edge.config.inventory import Device, Modality
from htm_edge.models.types import Prediction, Score
from tests.unit.alerting.alerting_fixtures import MRI, PUMP, VENT, anomaly_rule, threshold_rule

E, H, X = Transition.ENTER, Transition.HOLD, Transition.EXIT
_LETTER = {E: "E", H: "H", X: "X"}


def feed(
    rule: Rule,
    device: Device,
    signal: str,
    anomalies: list[float],
    value: float = 1.0,
    step: float = 60.0,
) -> list[Transition | None]:
    out: list[Transition | None] = []
    for i, a in enumerate(anomalies):
        sig = rule.evaluate(Score(device.device_id, signal, i * step, a, value), device)
        out.append(None if sig is None else sig.transition)
    return out


def feed_values(rule: Rule, device: Device, signal: str, values: list[float]) -> list[str]:
    out = []
    for i, v in enumerate(values):
        sig = rule.evaluate(Score(device.device_id, signal, i * 60.0, 0.0, v), device)
        out.append("-" if sig is None else _LETTER[sig.transition])
    return out


class TestAnomalyHysteresis:
    def test_enters_after_enter_count_of_window(self) -> None:
        rule = AnomalyRule(anomaly_rule(enter_count=3, enter_window=5))
        # hits at 0, 2, 4 of the window -> enters on the third hit
        got = feed(rule, MRI, "helium_level_pct", [0.99, 0.1, 0.99, 0.1, 0.99])
        assert got == [None, None, None, None, E]

    def test_hits_spread_wider_than_window_never_enter(self) -> None:
        rule = AnomalyRule(anomaly_rule(enter_count=3, enter_window=5))
        pattern = [0.99, 0.1, 0.1, 0.1, 0.1] * 20  # one hit per 5 scores
        assert all(t is None for t in feed(rule, MRI, "helium_level_pct", pattern))

    def test_holds_while_firing_and_band_scores_reset_exit_run(self) -> None:
        rule = AnomalyRule(anomaly_rule(enter_count=1, exit_count=3, min_open_s=0))
        # enter, two lows, one band score (0.7) resets, then three lows exit
        got = feed(rule, MRI, "helium_level_pct", [0.99, 0.1, 0.1, 0.7, 0.1, 0.1, 0.1, 0.1])
        assert got == [E, H, H, H, H, H, X, None]

    def test_exit_waits_for_min_open_s(self) -> None:
        rule = AnomalyRule(anomaly_rule(enter_count=1, exit_count=2, min_open_s=300))
        got = feed(rule, MRI, "helium_level_pct", [0.99] + [0.1] * 6)  # 60 s apart
        # two lows at t=120 already, but exit only once t - 0 >= 300
        assert got == [E, H, H, H, H, X, None]

    def test_exit_needs_exit_score_strictly_below(self) -> None:
        rule = AnomalyRule(anomaly_rule(enter_count=1, exit_count=1, min_open_s=0, exit_score=0.5))
        assert feed(rule, MRI, "helium_level_pct", [0.99, 0.5, 0.49]) == [E, H, X]

    def test_signal_globs_and_modalities(self) -> None:
        rule = AnomalyRule(
            anomaly_rule(enter_count=1, signals=["coldhead_*"], modalities=[Modality.MRI])
        )
        assert feed(rule, MRI, "coldhead_2nd_stage_k", [0.99]) == [E]
        assert feed(rule, MRI, "helium_level_pct", [0.99]) == [None]
        assert feed(rule, VENT, "coldhead_2nd_stage_k", [0.99]) == [None]

    def test_in_use_is_never_evaluated(self) -> None:
        rule = AnomalyRule(anomaly_rule(enter_count=1))
        assert feed(rule, PUMP, "in_use", [1.0] * 10) == [None] * 10

    def test_non_finite_scores_are_ignored(self) -> None:
        rule = AnomalyRule(anomaly_rule(enter_count=2, enter_window=2))
        got = feed(rule, MRI, "helium_level_pct", [0.99, math.nan, 0.99])
        assert got == [None, None, E]
        assert feed(rule, PUMP, "motor_current_ma", [0.99, 0.99], value=math.inf) == [None, None]

    def test_failure_mode_from_catalogue_or_config(self) -> None:
        auto = AnomalyRule(anomaly_rule(enter_count=1))
        sig = auto.evaluate(Score("mr-1", "compressor_return_mpa", 0.0, 0.99, 1.9), MRI)
        assert sig is not None and sig.failure_mode == "MR.COMPRESSOR.GAS_LEAK"
        fixed = AnomalyRule(anomaly_rule(enter_count=1, failure_mode="MR.CUSTOM"))
        sig = fixed.evaluate(Score("mr-1", "compressor_return_mpa", 0.0, 0.99, 1.9), MRI)
        assert sig is not None and sig.failure_mode == "MR.CUSTOM"

    def test_streams_are_independent_and_reset_per_device(self) -> None:
        rule = AnomalyRule(anomaly_rule(enter_count=2, enter_window=2))
        rule.evaluate(Score("mr-1", "helium_level_pct", 0.0, 0.99, 1.0), MRI)
        rule.evaluate(Score("vent-7", "o2_cell_mv", 0.0, 0.99, 1.0), VENT)
        assert rule.n_streams == 2
        rule.reset_device("mr-1")
        assert rule.n_streams == 1
        # the reset stream needs two fresh hits again
        assert rule.evaluate(Score("mr-1", "helium_level_pct", 60.0, 0.99, 1.0), MRI) is None


class TestThreshold:
    def test_above_with_clear_margin(self) -> None:
        rule = ThresholdRule(
            threshold_rule(signal="cooling_water_in_c", above=25.0, clear_margin=2.0, exit_count=2)
        )
        values = [24.0, 25.0, 25.5, 24.0, 23.5, 23.0, 22.9, 23.0, 26.0]
        # 25.0 is not above; 24/23.5 are inside the margin; 23.0 and 22.9 clear
        assert feed_values(rule, MRI, "cooling_water_in_c", values) == [
            "-",
            "-",
            "E",
            "H",
            "H",
            "H",
            "X",
            "-",
            "E",
        ]

    def test_below_with_clear_margin(self) -> None:
        rule = ThresholdRule(
            threshold_rule(signal="helium_level_pct", below=60.0, clear_margin=5.0, exit_count=1)
        )
        values = [61.0, 59.0, 62.0, 64.9, 65.0, 59.9]
        assert feed_values(rule, MRI, "helium_level_pct", values) == [
            "-",
            "E",
            "H",
            "H",
            "X",
            "E",
        ]

    def test_enter_count_needs_consecutive_hits(self) -> None:
        rule = ThresholdRule(threshold_rule(signal="helium_level_pct", below=60.0, enter_count=2))
        values = [59.0, 61.0, 59.0, 58.0]
        assert feed_values(rule, MRI, "helium_level_pct", values) == ["-", "-", "-", "E"]

    def test_only_its_signal_and_modalities(self) -> None:
        rule = ThresholdRule(
            threshold_rule(signal="helium_level_pct", below=60.0, modalities=[Modality.MRI])
        )
        assert feed_values(rule, MRI, "coldhead_1st_stage_k", [0.0]) == ["-"]
        assert feed_values(rule, PUMP, "helium_level_pct", [0.0]) == ["-"]

    def test_works_on_value_not_anomaly(self) -> None:
        rule = ThresholdRule(threshold_rule(signal="helium_level_pct", below=60.0))
        low_value_low_score = Score("mr-1", "helium_level_pct", 0.0, 0.0, 10.0)
        assert rule.evaluate(low_value_low_score, MRI) is not None


# ------------------------------------------------------------------ conformance
SAMPLES: dict[str, AnomalyRuleConfig | ThresholdRuleConfig | PredictionRuleConfig] = {
    "anomaly": anomaly_rule(
        name="sample", enter_count=2, enter_window=2, exit_count=2, min_open_s=0.0
    ),
    "threshold": threshold_rule(
        name="sample", signal="helium_level_pct", above=0.9, enter_count=2, exit_count=2
    ),
    "prediction": PredictionRuleConfig(
        name="sample", enter_count=2, enter_window=2, exit_count=2, critical_below_h=0
    ),
}


def feed_one(rule: Rule, i: int, x: float) -> RuleSignal | None:
    """One input of level ``x`` (anomaly and value, or a prediction's probability)."""
    if isinstance(rule, PredictionRule):
        mode = "MR.COLDHEAD.DEGRADATION"
        p = Prediction("mr-1", mode, i * 3600.0, x, 604800.0, 360000.0, 3e5, 4e5)
        return rule.evaluate_prediction(p, MRI)
    return rule.evaluate(Score("mr-1", "helium_level_pct", i * 60.0, x, x), MRI)


def firing(rule: Rule) -> bool:
    if isinstance(rule, PredictionRule):
        return rule.is_firing("mr-1", f"{PREDICTION_SIGNAL}:MR.COLDHEAD.DEGRADATION")
    return rule.is_firing("mr-1", "helium_level_pct")


def test_every_registered_rule_has_a_sample() -> None:
    assert set(RULES) == set(SAMPLES)


@pytest.mark.parametrize("type_name", sorted(RULES))
class TestRuleConformance:
    """Every rule: registry key = type = class attribute; enter/exit cycle; in_use silent."""

    def test_registry_key_matches(self, type_name: str) -> None:
        rule = RULES.build(SAMPLES[type_name], None)
        assert type(rule) is RULES[type_name]
        assert rule.type_name == type_name == SAMPLES[type_name].type
        assert rule.name == "sample"

    def test_enter_hold_exit_cycle(self, type_name: str) -> None:
        rule = RULES.build(SAMPLES[type_name], None)
        # anomaly and value both high, then both low: every rule type must cycle
        seq = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
        got = []
        for i, x in enumerate(seq):
            sig = feed_one(rule, i, x)
            got.append(None if sig is None else sig.transition)
            if i == 2:
                assert firing(rule)
        assert got == [None, E, H, H, X, None]
        assert not firing(rule)

    def test_in_use_never_fires(self, type_name: str) -> None:
        rule = RULES.build(SAMPLES[type_name], None)
        for i in range(10):
            assert rule.evaluate(Score("mr-1", "in_use", i * 60.0, 1.0, 1.0), MRI) is None

    def test_from_config_rejects_other_types(self, type_name: str) -> None:
        other = next(cfg for key, cfg in SAMPLES.items() if key != type_name)
        with pytest.raises(AlertingError):
            RULES[type_name].from_config(other)


def test_globs_skip_workload_signals_unless_named() -> None:
    glob = AnomalyRule(anomaly_rule(enter_count=1, signals=["*"]))
    assert feed(glob, PUMP, "infusion_rate_ml_h", [0.99]) == [None]
    assert feed(glob, VENT, "blower_speed_krpm", [0.99]) == [None]
    named = AnomalyRule(anomaly_rule(enter_count=1, signals=["infusion_rate_ml_h"]))
    assert feed(named, PUMP, "infusion_rate_ml_h", [0.99]) == [E]
