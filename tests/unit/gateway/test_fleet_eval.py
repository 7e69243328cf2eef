"""The evaluation metrics on hand-made ground truth, and the commands end to end (small)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from htm_edge.collector.mqtt_client import BrokerConfig
from htm_edge.config.inventory_csv import read_inventory_csv
from htm_edge.gateway.cli import main
from htm_edge.gateway.fleet_eval import OpenedAlert, grade
from htm_edge.gateway.simulate_hospital import parse_broker_url
from htm_edge.simulators.hospital.records import Course, ServiceRecord, parse_jsonl

H = 3600.0
D = 86_400.0
END = 30 * D


def _grade(alerts: list[OpenedAlert], records: list) -> dict:  # type: ignore[type-arg]
    return grade(alerts, records, start_ts=0.0, end_ts=END, n_devices=10)


def test_alert_during_the_precursor_predicts_with_its_lead_time() -> None:
    c = Course("A", "M.X", 10 * D, 12 * D, "drift", "failed", 12 * D + 5 * H)
    m = _grade([OpenedAlert("A", "M.X", 11 * D), OpenedAlert("A", "M.Y", 11.5 * D)], [c])
    assert (m["failures"], m["failures_with_precursor"], m["predicted"]) == (1, 1, 1)
    assert m["lead_time_hours_median"] == 24.0 and m["predicted_24h_ahead"] == 1.0
    assert m["predicted_right_mode"] == 1
    assert (m["alerts_true"], m["alerts_false"], m["alerts_total"]) == (2, 0, 2)
    assert m["device_days"] == 300.0
    [d] = m["failures_with_precursor_detail"]
    assert (d["device_id"], d["failure_mode"], d["lead_h"]) == ("A", "M.X", 24.0)
    assert d["precursor_h"] == 48.0


def test_alerts_before_onset_after_failure_or_on_other_devices_do_not_predict() -> None:
    c = Course("A", "M.X", 10 * D, 12 * D, "drift", "failed", 12 * D + 5 * H)
    alerts = [
        OpenedAlert("A", "M.X", 9 * D),  # before the precursor: false
        OpenedAlert("A", "M.X", 12 * D + H),  # down, awaiting repair: service
        OpenedAlert("B", "M.X", 11 * D),  # another device: false
    ]
    m = _grade(alerts, [c])
    assert m["predicted"] == 0 and m["lead_time_hours_median"] is None
    assert m["predicted_24h_ahead"] == 0.0
    assert [d["lead_h"] for d in m["failures_with_precursor_detail"]] == [None]  # a miss, listed
    assert (m["alerts_false"], m["alerts_during_service"]) == (2, 1)
    assert m["false_alerts_per_100_device_days"] == round(100 * 2 / 300, 3)


def test_sudden_failures_count_but_earn_no_credit() -> None:
    sudden = Course("A", "M.X", 10 * D, 10 * D, None, "failed", 11 * D)
    m = _grade([OpenedAlert("A", "M.X", 9.5 * D)], [sudden])
    assert (m["failures"], m["sudden_failures"], m["failures_with_precursor"]) == (1, 1, 0)
    assert m["predicted_24h_ahead"] is None and m["alerts_false"] == 1


def test_service_windows_failures_outside_the_run_and_found_at_pm() -> None:
    late = Course("A", "M.X", 28 * D, 40 * D, "drift", "failed", 41 * D)  # fails after the run
    found = Course("B", "M.X", 5 * D, 20 * D, "drift", "found_at_pm", 8 * D)
    pm = ServiceRecord("C", "pm", 3 * D, 3 * D + 4 * H)
    alerts = [
        OpenedAlert("A", "M.X", 29 * D),  # true: its failure follows after the run's end
        OpenedAlert("B", "M.X", 7 * D),  # true: PM found that degradation
        OpenedAlert("B", "M.X", 9 * D),  # false: fixed at 8 d
        OpenedAlert("C", "M.Z", 3 * D + H),  # during PM
    ]
    m = _grade(alerts, [late, found, pm])
    assert m["failures"] == 0 and m["degradations_found_at_pm"] == 1
    assert (m["alerts_true"], m["alerts_false"], m["alerts_during_service"]) == (2, 1, 1)


def test_p10_and_median_lead_times() -> None:
    courses = [Course(f"D{i}", "M", 0.0, (i + 1) * 10 * H, "drift") for i in range(10)]
    alerts = [OpenedAlert(f"D{i}", "M", 0.0) for i in range(10)]
    m = _grade(alerts, courses)
    leads = [(i + 1) * 10.0 for i in range(10)]
    assert m["lead_time_hours_median"] == pytest.approx(np.percentile(leads, 50))
    assert m["lead_time_hours_p10"] == pytest.approx(np.percentile(leads, 10))
    assert m["predicted_24h_ahead"] == 0.8  # 30 h .. 100 h


KEYS = {
    "failures",
    "failures_with_precursor",
    "predicted",
    "lead_time_hours_median",
    "lead_time_hours_p10",
    "predicted_24h_ahead",
    "false_alerts_per_100_device_days",
    "alerts_total",
    "device_days",
}


@pytest.mark.timeout(2400)  # with another scikit-learn, evaluate trains the reference first
def test_evaluate_command_json_last_line(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["evaluate", "--devices", "9", "--days", "2", "--seed", "3", "--period", "300"]
    assert main([*base, "--no-predict"]) == 0
    assert "predictions:" not in capsys.readouterr().out
    code = main(
        ["evaluate", "--devices", "9", "--days", "2", "--seed", "3", "--period", "300", "--json"]
    )
    out, err = capsys.readouterr()
    assert code == 0 and "evaluate: day 2/2" in err
    doc = json.loads(out.strip().splitlines()[-1])
    assert set(doc) >= KEYS
    assert doc["device_days"] == 18.0 and doc["devices"] == 9
    # the embedded default predicts failures, so evaluate grades them (with the reference model)
    assert "predictions:" in out and doc["predictions"]["reference_seed"] == 9
    assert main(["evaluate", "--devices", "0"]) == 2


def test_simulate_inventory_and_accelerated_files(tmp_path: Path) -> None:
    inv = tmp_path / "inv.csv"
    assert main(["simulate", "--devices", "12", "--seed", "4", "--inventory", str(inv)]) == 0
    devices = read_inventory_csv(inv)
    assert len(devices) == 12 and len({d.modality for d in devices}) == 8
    out = tmp_path / "run"
    argv = ["simulate", "--devices", "12", "--seed", "4", "--days", "2", "--out", str(out)]
    assert main([*argv, "--period", "300"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["devices"] == 12 and manifest["days"] == 2
    assert read_inventory_csv(out / "inventory.csv") == devices
    parse_jsonl((out / "ground_truth.jsonl").read_text().splitlines())
    day = np.load(out / "telemetry" / "mri" / "day-001.npz")
    assert day["ts"].shape == (288,) and day["helium_level_pct"].shape == (288, 1)
    csv_out = tmp_path / "csv"
    argv = ["simulate", "--devices", "12", "--seed", "4", "--days", "1", "--out", str(csv_out)]
    assert main([*argv, "--period", "3600", "--format", "csv"]) == 0
    lines = (csv_out / "telemetry.csv").read_text().splitlines()
    assert lines[0] == "ts,device_id,signal,value,quality" and len(lines) > 100


def test_simulate_flags_need_devices_and_broker_urls_parse(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate", "--out", "x"]) == 2
    assert "--out needs --devices N" in capsys.readouterr().err
    cfg = parse_broker_url("mqtt://ops@broker.example:1884", BrokerConfig())
    assert (cfg.host, cfg.port, cfg.username) == ("broker.example", 1884, "ops")
    assert parse_broker_url("10.0.0.5", BrokerConfig()).port == 1883
    with pytest.raises(ValueError, match="expected mqtt://"):
        parse_broker_url("https://x", BrokerConfig())
