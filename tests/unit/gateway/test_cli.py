"""The CLI's small commands: version, score-csv, exit codes."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from htm_edge.gateway.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("htm-edge ")


def test_score_csv_scores_every_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    rows = [f"2014-04-01 00:{i // 60:02d}:{i % 60:02d},{math.sin(i / 10):.4f}" for i in range(600)]
    rows[500] = rows[500].rsplit(",", 1)[0] + ",25.0"  # one spike
    src.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out.csv"
    assert main(["score-csv", str(src), str(out)]) == 0
    with out.open() as f:
        got = list(csv.reader(f))
    assert got[0] == ["timestamp", "value", "anomaly_score"]
    assert len(got) == 601
    assert [r[:2] for r in got[1:]] == [r.split(",") for r in rows]
    scores = [float(r[2]) for r in got[1:]]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[500] == max(scores)
    assert '"rows": 600' in capsys.readouterr().out


def test_score_csv_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    src.write_text("time;val\n1;2\n")
    assert main(["score-csv", str(src), str(tmp_path / "o.csv")]) == 2
    assert "in.csv" in capsys.readouterr().err


def test_run_with_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[broker]\nhots = 'x'\n")
    assert main(["run", "--config", str(bad)]) == 2
    assert "broker.hots" in capsys.readouterr().err
