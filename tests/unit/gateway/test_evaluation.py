"""Grading alerts against simulator ground truth."""

from __future__ import annotations

from htm_edge.gateway.evaluation import FleetEvaluation, evaluate_fleet, grade_fault
from htm_edge.gateway.settings import parse_config
from htm_edge.simulators.fleet import FaultLabel

LABEL = FaultLabel("MR-01", "MR.COLDHEAD.DEGRADATION", onset_ts=1000.0, failure_ts=5000.0)


def test_alert_before_onset_or_after_failure_is_not_a_detection() -> None:
    outcome = grade_fault(LABEL, [(500.0, "MR.COLDHEAD.DEGRADATION", ("x",)), (6000.0, "M", ())])
    assert not outcome.detected
    assert outcome.lead_time_s is None


def test_first_alert_in_window_gives_lead_time() -> None:
    alerts = [(3000.0, "MR.COMPRESSOR.GAS_LEAK", ()), (2000.0, "MR.COLDHEAD.DEGRADATION", ())]
    outcome = grade_fault(LABEL, alerts)
    assert outcome.detected
    assert outcome.first_alert_ts == 2000.0
    assert outcome.lead_time_s == 3000.0
    assert outcome.alerted_modes == ("MR.COLDHEAD.DEGRADATION", "MR.COMPRESSOR.GAS_LEAK")
    assert outcome.to_dict()["lead_time_s"] == 3000.0


def test_rates() -> None:
    ev = FleetEvaluation(days=2.0, healthy_devices=5, false_alerts=3, faults=[])
    assert ev.false_alerts_per_device_day == 0.3
    assert ev.detection_rate == 0.0


def test_evaluate_fleet_runs_the_pipeline_on_ground_truth() -> None:
    cfg = parse_config(
        """
[[inventory.devices]]
device_id = "MR-01"
modality = "mri"
[[inventory.devices]]
device_id = "MR-02"
modality = "mri"
[[simulation.devices]]
device_id = "MR-01"
fault = { failure_mode = "MR.COLDHEAD.DEGRADATION", start_s = 14400, duration_s = 28800 }
[[simulation.devices]]
device_id = "MR-02"
"""
    )
    ev = evaluate_fleet(cfg, days=0.5, start_ts=1_767_225_600.0)
    assert ev.healthy_devices == 1
    (fault,) = ev.faults
    assert (fault.device_id, fault.failure_mode) == ("MR-01", "MR.COLDHEAD.DEGRADATION")
    assert fault.onset_ts == 1_767_225_600.0 + 14400
    assert fault.failure_ts == fault.onset_ts + 28800
