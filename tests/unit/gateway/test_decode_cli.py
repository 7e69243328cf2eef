"""``htm-edge decode`` on raw captures built from the protocols' documented byte strings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from htm_edge.collector.protocols.hl7 import mllp
from htm_edge.gateway.cli import main
from tests.unit.collector.test_device_protocols import PCD01

MEDIBUS_CAPTURE = (
    b"\x05\x0d"  # the port opened mid-frame
    + bytes.fromhex("1B 51 36 43 0D")  # ICC
    + bytes.fromhex("01 24 30 35 20 20 31 32 32 44 0D")  # measured data: code 05 = 12
    + bytes.fromhex("01 24 30 35 20 20 31 32 32 45 0D")  # the same with a bad checksum
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["decode", *argv])
    return code, capsys.readouterr().out


def test_medibus_capture_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "vent.bin"
    capture.write_bytes(MEDIBUS_CAPTURE)
    code, out = run(capsys, "--protocol", "medibus", str(capture), "--json", "--signals", "cp1_*")
    assert code == 0
    summary = json.loads(out.splitlines()[-1])
    assert {k: summary[k] for k in ("frames", "valid", "invalid", "skipped_bytes", "readings")} == {
        "frames": 3,
        "valid": 2,
        "invalid": 1,
        "skipped_bytes": 2,
        "readings": 1,
    }
    assert "cp1_05=12" in out and "checksum" in out


def test_patient_data_withheld_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "pcd01.bin"
    capture.write_bytes(b"junk" + mllp(PCD01.encode()) * 2)
    _, out = run(capsys, "--protocol", "hl7", str(capture), "--json")
    summary = json.loads(out.splitlines()[-1])
    assert (summary["frames"], summary["valid"], summary["readings"]) == (2, 2, 2)
    assert summary["signals"] == {"batt_charge_pct": 2} and summary["withheld_signals"] == 4
    assert "Doe" not in out and "MRN123456" not in out


def test_unknown_protocol_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "x.bin"
    capture.write_bytes(b"")
    assert main(["decode", "--protocol", "modbus", str(capture)]) == 2
    assert (
        "valid protocols are datex, hl7, intellivue, json, line, medibus" in capsys.readouterr().err
    )
