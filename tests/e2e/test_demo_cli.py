"""The README's first command, as a user runs it: ``htm-edge demo --duration 60 --json``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_demo_dispatches_an_alert_and_stores_everything() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "htm_edge.gateway.cli", "demo", "--duration", "60", "--json"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["devices"] == 8  # six on MQTT, a ventilator on serial, a monitor on HL7
    assert summary["readings_received"] > 0
    assert summary["readings_stored"] == summary["readings_received"]
    assert summary["alerts_dispatched"] >= 1
    # the injected fault is found between its onset and the failure (ground truth)
    (fault,) = summary["faults"]
    assert fault["device_id"] == "MR-01"
    assert fault["detected"], summary["alerts"]
    assert fault["onset_ts"] <= fault["first_alert_ts"] <= fault["failure_ts"]
    assert "MR.COLDHEAD.DEGRADATION" in fault["alerted_modes"]
    # and its work order was printed as it was dispatched, routed to a named on-call
    # engineer with a suggested visit window, then acknowledged from the CLI
    assert "=== FIRING" in proc.stdout and "on MR-01" in proc.stdout
    assert "Visit      : " in proc.stdout and "Assigned   : UNASSIGNED" not in proc.stdout
    (ack,) = summary["acknowledged"]
    assert ack["by"] in {"Dana Okafor", "Lars Brandt"}
    assert f"{ack['work_order']} acknowledged by {ack['by']}" in proc.stdout
    # the three links all delivered: MQTT, the MEDIBUS ventilator on a pty, HL7 over MLLP
    assert set(summary["sources"]) == {"telemetry", "ventilator-serial", "hl7-gateway"}
    assert all(n > 0 for n in summary["sources"].values()), summary["sources"]
    # the failure is also predicted, hours ahead, and a work order shows the time left
    assert fault["predicted_at"] is not None, summary["alerts"]
    assert fault["failure_ts"] - fault["predicted_at"] >= 3 * 3600
    assert fault["predicted_time_to_failure_h"] > 0
    assert "Failure in : " in proc.stdout and "  - trend: " in proc.stdout
    assert "its failure was predicted" in proc.stdout
