"""benchmarks.calibration: warm-up, healthy rows, and exceedance fractions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.baselines import EWMA_BASELINE
from benchmarks.calibration import (
    exceedance,
    main,
    real_sets,
    rows_for,
    run,
    spread_table,
    synthetic_sets,
    table,
)
from benchmarks.nab_scoring import probation_rows
from benchmarks.synthetic import PROCESSES
from tests.unit.benchmarks.tiny_datasets import ROWS, WINDOW


def test_rows_for_leaves_enough_points_after_the_warm_up() -> None:
    assert rows_for(10_000) == 11_764  # 11,764 - 1,764 warm-up rows
    for scored in (1, 17, 500, 10_000):
        n = rows_for(scored)
        assert n - probation_rows(n) >= scored > n - 1 - probation_rows(n - 1)


def test_exceedance_counts_only_the_counted_rows() -> None:
    s = [np.array([0.995, 0.2, 0.9995, 0.999]), np.array([1.0, 0.0])]
    c = [np.array([False, True, True, True]), np.array([True, True])]
    r = exceedance(s, c)
    assert r["points"] == 5
    assert r[">=0.99"] == {"count": 3, "fraction": 0.6}
    assert r[">=0.999"]["count"] == 3
    assert r["stream_fraction_>=0.99"] == {
        "streams": 2,
        "median": pytest.approx(7 / 12),
        "max": 2 / 3,
    }


def test_synthetic_sets_are_seeded_and_skip_the_warm_up() -> None:
    sets = synthetic_sets(seed=7, streams=3, scored=100)
    assert [s.name for s in sets] == list(PROCESSES)
    n = rows_for(100)
    for s in sets:
        assert len(s.values) == 3 and all(len(v) == n for v in s.values)
        assert s.points == 3 * (n - probation_rows(n))
        assert not s.counted[0][: probation_rows(n)].any()
    again = synthetic_sets(seed=7, streams=3, scored=100)
    np.testing.assert_array_equal(sets[4].values[2], again[4].values[2])
    assert not np.array_equal(sets[0].values[0], sets[0].values[1])


def test_real_healthy_rows(tiny_datasets: Path) -> None:
    smap, free, w3 = real_sets(tiny_datasets)
    p = probation_rows(ROWS)
    assert smap.points == 2 * (ROWS - p - (WINDOW[1] - WINDOW[0] + 1))
    assert not smap.counted[0][WINDOW[0] : WINDOW[1] + 1].any() and smap.counted[0][-1]
    assert free.points == 8 * (ROWS - p)
    lead = WINDOW[0] - 20  # the 3W lead-in stops at the unlabelled gap
    assert [len(v) for v in w3.values] == [lead, lead] and w3.points == 2 * (lead - p)


def test_run_and_main(tiny_datasets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sets = synthetic_sets(seed=0, streams=4, scored=300)[:2]
    results = run([EWMA_BASELINE], sets, log=False)
    g = results[EWMA_BASELINE]["gaussian"]
    # the EWMA z-score's 0.99 is a two-sided 1% Gaussian tail
    assert 0.002 < g[">=0.99"]["fraction"] < 0.05
    assert g[">=0.999"]["count"] <= g[">=0.99"]["count"]
    points = 4 * (rows_for(300) - probation_rows(rows_for(300)))
    assert f"| gaussian | {points:,} | ≤ 2e-04 |" in table(results, sets)
    assert "| student_t3 | 4 |" in spread_table(results, sets)
    argv = ["--json", "--no-doc", "--streams", "2", "--scored", "200"]
    assert main([*argv, "--data-dir", str(tiny_datasets)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["goals_at_0.99"]["gaussian"] == 2e-4
    assert out["goals_at_0.99"]["skab anomaly-free"] == 1e-3
    assert out["results"]["ensemble"]["petrobras_3w lead-ins"]["points"] == 2 * (280 - 60)
