"""Engine: dedup, hysteresis end to end, flap hold, escalation, maintenance, determinism."""

from __future__ import annotations

import pytest

from htm_edge.alerting.config import AlertingConfig
from htm_edge.alerting.engine import AlertEngine
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.rules import RULES
from htm_edge.alerting.rules.anomaly import AnomalyRuleConfig
from htm_edge.alerting.rules.threshold import ThresholdRuleConfig
from htm_edge.alerting.types import AlertEvent, EventKind
from htm_edge.models.types import Score
from tests.unit.alerting.alerting_fixtures import (
    INVENTORY,
    STEP,
    anomaly_rule,
    engine,
    kinds,
    run,
    scores,
    threshold_rule,
)

OPENED, ESCALATED, RESOLVED = EventKind.OPENED, EventKind.ESCALATED, EventKind.RESOLVED


class TestHysteresis:
    def test_long_fault_opens_exactly_one_alert(self) -> None:
        eng = engine()
        events = run(eng, scores("mr-1", "helium_level_pct", [0.1] * 20 + [0.999] * 200))
        assert kinds(events) == [OPENED]
        assert len(eng.open_alerts()) == 1
        alert = eng.open_alerts()[0]
        assert alert.occurrences == 200
        assert alert.key == "mr-1:MR.COLDHEAD.DEGRADATION"

    def test_oscillation_inside_band_does_not_flap(self) -> None:
        eng = engine()
        # firing, then scores alternate across enter_score but stay above exit_score
        wobble = [0.96, 0.9, 0.97, 0.6, 0.99, 0.7] * 50
        events = run(eng, scores("mr-1", "helium_level_pct", [0.999] * 5 + wobble))
        assert kinds(events) == [OPENED]

    def test_oscillation_around_enter_score_while_idle_stays_quiet(self) -> None:
        eng = engine([anomaly_rule(enter_count=3, enter_window=5)])
        # only 2 hits in any window of 5: never enough to open
        pattern = [0.96, 0.94, 0.94, 0.96, 0.94] * 40
        assert run(eng, scores("mr-1", "helium_level_pct", pattern)) == []

    def test_exit_needs_exit_count_consecutive_lows(self) -> None:
        eng = engine([anomaly_rule(exit_count=4, min_open_s=0)])
        # three lows then a band score: not enough; then four lows resolve
        seq = [0.99] * 3 + [0.1] * 3 + [0.7] + [0.1] * 3
        events = run(eng, scores("mr-1", "helium_level_pct", seq))
        assert kinds(events) == [OPENED]
        events = run(eng, scores("mr-1", "helium_level_pct", [0.1], start=len(seq) * STEP))
        assert kinds(events) == [RESOLVED]
        assert events[0].alert.state == "closed"

    def test_exit_needs_min_open_s(self) -> None:
        eng = engine([anomaly_rule(enter_count=1, exit_count=1, min_open_s=1800)])
        events = run(eng, scores("mr-1", "helium_level_pct", [0.99] + [0.1] * 40))
        assert kinds(events) == [OPENED, RESOLVED]
        assert events[1].ts == 1800.0  # first low at or after min_open_s


class TestDedup:
    def test_signals_of_one_failure_mode_join_one_alert(self) -> None:
        eng = engine()
        items = []
        for i in range(30):
            ts = i * STEP
            items.append(Score("mr-1", "helium_level_pct", ts, 0.999, 70.0 - i * 0.1))
            items.append(Score("mr-1", "coldhead_2nd_stage_k", ts, 0.999, 4.6))
            items.append(Score("mr-1", "cryostat_pressure_psig", ts, 0.999, 2.5))
        events = run(eng, items)
        assert kinds(events) == [OPENED]  # joins are rate-limited escalations
        (alert,) = eng.open_alerts()
        assert alert.signals == (
            "helium_level_pct",
            "coldhead_2nd_stage_k",
            "cryostat_pressure_psig",
        )
        assert alert.occurrences == 90
        assert [e.unit for e in alert.evidence] == ["%", "K", "psig"]

    def test_different_failure_modes_open_separate_alerts(self) -> None:
        eng = engine()
        items = []
        for i in range(5):
            items.append(Score("mr-1", "helium_level_pct", i * STEP, 0.999, 70.0))
            items.append(Score("mr-1", "compressor_supply_mpa", i * STEP, 0.999, 1.7))
        events = run(eng, items)
        assert sorted(e.alert.failure_mode for e in events) == [
            "MR.COLDHEAD.DEGRADATION",
            "MR.COMPRESSOR.GAS_LEAK",
        ]

    def test_two_rules_on_one_signal_share_the_alert(self) -> None:
        eng = engine([anomaly_rule(), threshold_rule(signal="helium_level_pct", below=60.0)])
        items = [Score("mr-1", "helium_level_pct", i * STEP, 0.999, 55.0) for i in range(10)]
        events = run(eng, items)
        assert kinds(events) == [OPENED]
        (alert,) = eng.open_alerts()
        assert alert.rules == ("limit", "anomaly")
        assert alert.severity == "high"  # threshold rule default severity

    def test_resolve_waits_for_every_joined_stream(self) -> None:
        eng = engine([anomaly_rule(enter_count=1, exit_count=1, min_open_s=0)])
        run(eng, [Score("mr-1", "helium_level_pct", 0.0, 0.99, 1.0)])
        run(eng, [Score("mr-1", "coldhead_2nd_stage_k", 0.0, 0.99, 1.0)])
        assert run(eng, [Score("mr-1", "helium_level_pct", 60.0, 0.1, 1.0)]) == []
        events = run(eng, [Score("mr-1", "coldhead_2nd_stage_k", 60.0, 0.1, 1.0)])
        assert kinds(events) == [RESOLVED]


class TestFlapHold:
    def test_reentry_within_hold_is_a_silent_flap(self) -> None:
        eng = engine(
            [anomaly_rule(enter_count=1, exit_count=1, min_open_s=0)], resolve_hold_s=900.0
        )
        seq = [0.99, 0.1, 0.1, 0.99, 0.99, 0.1]  # 60 s apart; re-fires 120 s after clearing
        events = run(eng, scores("mr-1", "helium_level_pct", seq))
        assert kinds(events) == [OPENED]
        (alert,) = eng.open_alerts()
        assert alert.flaps == 1

    def test_resolves_after_the_hold_with_the_clear_time(self) -> None:
        eng = engine(
            [anomaly_rule(enter_count=1, exit_count=1, min_open_s=0)], resolve_hold_s=900.0
        )
        events = run(eng, scores("mr-1", "helium_level_pct", [0.99] + [0.1] * 20))
        assert kinds(events) == [OPENED, RESOLVED]
        resolved = events[1]
        assert resolved.alert.closed_at == 60.0
        assert resolved.ts == 60.0 + 900.0

    def test_in_use_scores_also_confirm_a_resolve(self) -> None:
        eng = engine(
            [anomaly_rule(enter_count=1, exit_count=1, min_open_s=0)], resolve_hold_s=900.0
        )
        run(eng, scores("mr-1", "helium_level_pct", [0.99, 0.1]))
        assert run(eng, [Score("mr-1", "in_use", 500.0, 0.0, 1.0)]) == []
        assert kinds(run(eng, [Score("mr-1", "in_use", 960.0, 0.0, 1.0)])) == [RESOLVED]

    def test_flush_resolves_held_alerts(self) -> None:
        eng = engine(
            [anomaly_rule(enter_count=1, exit_count=1, min_open_s=0)], resolve_hold_s=900.0
        )
        run(eng, scores("mr-1", "helium_level_pct", [0.99, 0.1]))
        assert eng.flush(100.0) == []
        assert kinds(eng.flush(2000.0)) == [RESOLVED]
        assert eng.open_alerts() == []

    def test_reopen_after_resolve_records_previous_close(self) -> None:
        eng = engine([anomaly_rule(enter_count=1, exit_count=1, min_open_s=0)])
        events = run(eng, scores("mr-1", "helium_level_pct", [0.99, 0.1, 0.1, 0.99]))
        assert kinds(events) == [OPENED, RESOLVED, OPENED]
        assert events[0].alert.previous_closed_at is None
        assert events[2].alert.previous_closed_at == 60.0


class TestEscalation:
    def test_new_signal_escalates_after_repeat_interval(self) -> None:
        eng = engine([anomaly_rule(repeat_interval_s=3600.0)])
        items = []
        for i in range(120):  # two hours, one score a minute
            ts = i * STEP
            items.append(Score("mr-1", "helium_level_pct", ts, 0.999, 70.0))
            if i >= 10:
                items.append(Score("mr-1", "coldhead_2nd_stage_k", ts, 0.999, 4.6))
        events = run(eng, items)
        assert kinds(events) == [OPENED, ESCALATED]
        assert events[1].ts == 120.0 + 3600.0  # opened at the third hit
        assert "coldhead_2nd_stage_k joined" in events[1].reason

    def test_still_open_is_never_re_notified(self) -> None:
        eng = engine([anomaly_rule(repeat_interval_s=600.0)])
        events = run(eng, scores("mr-1", "helium_level_pct", [0.999] * 1000))
        assert kinds(events) == [OPENED]

    def test_severity_rise_to_critical_bypasses_rate_limit(self) -> None:
        rules: list[AnomalyRuleConfig | ThresholdRuleConfig] = [
            anomaly_rule(severity="medium"),
            threshold_rule(signal="helium_level_pct", below=60.0, severity="critical"),
        ]
        eng = engine(rules)
        items = [Score("mr-1", "helium_level_pct", i * STEP, 0.999, 70.0 - i) for i in range(20)]
        events = run(eng, items)
        assert kinds(events) == [OPENED, ESCALATED]
        assert events[1].alert.severity == "critical"
        assert "severity raised to critical" in events[1].reason
        assert events[1].ts == 11 * STEP  # first value below 60

    def test_severity_rise_below_critical_is_rate_limited(self) -> None:
        rules: list[AnomalyRuleConfig | ThresholdRuleConfig] = [
            anomaly_rule(severity="low", repeat_interval_s=1200.0),
            threshold_rule(signal="helium_level_pct", below=60.0, severity="high"),
        ]
        eng = engine(rules)
        items = [Score("mr-1", "helium_level_pct", i * STEP, 0.999, 70.0 - i) for i in range(40)]
        events = run(eng, items)
        assert kinds(events) == [OPENED, ESCALATED]
        assert events[1].ts == 120.0 + 1200.0

    def test_worsening_deviation_escalates(self) -> None:
        eng = engine([anomaly_rule(repeat_interval_s=600.0)])
        normal = [Score("vent-7", "o2_cell_mv", i * STEP, 0.1, 40.0) for i in range(30)]
        # deviation 2 mV at opening, growing to 10 mV
        fault = [
            Score("vent-7", "o2_cell_mv", (30 + i) * STEP, 0.999, 38.0 - i * 0.1) for i in range(80)
        ]
        events = run(eng, normal + fault)
        assert kinds(events)[:2] == [OPENED, ESCALATED]
        assert "o2_cell_mv deviation from baseline grew" in events[1].reason
        assert events[0].alert.baseline == pytest.approx(40.0)


class TestMaintenanceAndDevices:
    def test_maintenance_opens_nothing(self) -> None:
        eng = engine()
        eng.set_maintenance("mr-1", until_ts=3600.0)
        assert eng.in_maintenance("mr-1", 0.0)
        assert run(eng, scores("mr-1", "helium_level_pct", [0.999] * 60)) == []
        assert eng.stats()["suppressed"] == 60
        # after the window a persisting fault needs fresh evidence, then opens
        after = run(eng, scores("mr-1", "helium_level_pct", [0.999] * 5, start=3600.0))
        assert kinds(after) == [OPENED]
        assert after[0].ts == 3600.0 + 2 * STEP  # third hit

    def test_maintenance_resolves_open_alerts(self) -> None:
        eng = engine(resolve_hold_s=900.0)
        run(eng, scores("mr-1", "helium_level_pct", [0.999] * 10))
        eng.set_maintenance("mr-1", until_ts=10_000.0)
        events = run(eng, scores("mr-1", "helium_level_pct", [0.999] * 3, start=600.0))
        assert kinds(events) == [RESOLVED]
        assert "maintenance" in events[0].reason

    def test_maintenance_is_per_device_and_can_be_ended(self) -> None:
        eng = engine()
        eng.set_maintenance("mr-1", until_ts=1e9)
        assert kinds(run(eng, scores("vent-7", "o2_cell_mv", [0.999] * 5))) == [OPENED]
        eng.set_maintenance("mr-1", None)
        assert kinds(run(eng, scores("mr-1", "helium_level_pct", [0.999] * 5))) == [OPENED]

    def test_unknown_device_still_alerts(self) -> None:
        eng = engine()
        events = run(eng, scores("stray-9", "helium_level_pct", [0.999] * 5))
        assert kinds(events) == [OPENED]
        assert events[0].alert.failure_mode == "MR.COLDHEAD.DEGRADATION"  # from the signal
        events = run(eng, scores("stray-9", "fan_rpm", [0.999] * 5))
        assert events[0].alert.failure_mode == "OTHER.FAN_RPM.ANOMALY"
        assert eng.device("stray-9").modality == "other"

    def test_inventory_as_callable(self) -> None:
        eng = AlertEngine([RULES.build(anomaly_rule(), None)], (), INVENTORY.get)
        assert eng.device("vent-7").em_number == 20

    def test_in_use_never_alerts(self) -> None:
        eng = engine([anomaly_rule(signals=["*"], enter_count=1)])
        assert run(eng, scores("pump-3", "in_use", [1.0] * 50)) == []

    def test_duplicate_rule_names_are_rejected(self) -> None:
        cfg = AlertingConfig(rules=[AnomalyRuleConfig(), AnomalyRuleConfig()])
        with pytest.raises(AlertingError, match=r"alerting.rules\[1\].name"):
            AlertEngine([RULES.build(r, None) for r in cfg.rules], (), INVENTORY)


class TestReturnToBaseline:
    """An anomaly alert stays open while the value stays away from its old baseline."""

    def _run(self, after: list[float]) -> list[AlertEvent]:
        eng = engine([anomaly_rule(enter_count=3, enter_window=5, exit_count=5, min_open_s=0.0)])
        normal = [Score("mr-1", "coldhead_2nd_stage_k", i * STEP, 0.1, 4.20) for i in range(50)]
        t0 = 50 * STEP
        drift = [
            Score("mr-1", "coldhead_2nd_stage_k", t0 + i * STEP, 0.999, 4.30 + 0.01 * i)
            for i in range(10)
        ]
        t1 = 60 * STEP
        # the detector has adapted: low scores, whatever the values do
        tail = [
            Score("mr-1", "coldhead_2nd_stage_k", t1 + i * STEP, 0.05, v)
            for i, v in enumerate(after)
        ]
        return run(eng, normal + drift + tail)

    def test_held_alert_stays_open_while_drift_continues(self) -> None:
        events = self._run([4.45 + 0.005 * i for i in range(100)])
        assert kinds(events) == [OPENED]

    def test_held_alert_resolves_when_value_returns(self) -> None:
        events = self._run([4.45] * 20 + [4.21] * 20)
        assert kinds(events) == [OPENED, RESOLVED]
        assert events[-1].ts >= 80 * STEP  # only after the value came back


class TestStateAndDeterminism:
    def _fleet(self) -> list[Score]:
        out = []
        for i in range(600):
            ts = i * STEP
            high = (i // 50) % 3 == 1
            # helium dips during each burst and comes back to 70 % between them
            helium = 65.0 if high else 70.0
            out.append(Score("mr-1", "helium_level_pct", ts, 0.999 if high else 0.05, helium))
            out.append(Score("vent-7", "o2_cell_mv", ts, 0.999 if i % 7 == 0 else 0.1, 40.0))
            out.append(Score("pump-3", "in_use", ts, 0.0, float(i % 2)))
        return out

    def test_same_scores_same_events(self) -> None:
        a = run(engine(resolve_hold_s=600.0), self._fleet())
        b = run(engine(resolve_hold_s=600.0), self._fleet())
        assert a == b
        assert kinds(a).count(OPENED) >= 2

    def test_state_stays_bounded(self) -> None:
        eng = engine()
        run(eng, self._fleet())
        stats = eng.stats()
        assert stats["rule_streams"] == 2
        assert stats["baselines"] == 2
        assert stats["open_alerts"] <= 2


def test_get_alert_and_stats() -> None:
    eng = engine()
    run(eng, scores("vent-7", "peep_error_cmh2o", [0.999] * 4))
    alert = eng.get_alert("vent-7:VENT.EXP_VALVE.LEAK")
    assert alert is not None and alert.state == "open" and alert.signals == ("peep_error_cmh2o",)
    assert eng.get_alert("vent-7:VENT.BLOWER.WEAR") is None
    stats = eng.stats()
    assert (stats["scores"], stats["opened"], stats["open_alerts"]) == (4, 1, 1)
