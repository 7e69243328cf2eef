"""benchmarks.streaming end to end on a tiny corpus in each format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.baselines import EWMA_BASELINE
from benchmarks.corpora import CORPORA, Recording
from benchmarks.nab_scoring import PROFILES
from benchmarks.streaming import combined, corpus_summary, doc, evaluate, main, run, table
from tests.unit.benchmarks.tiny_datasets import ROWS, WINDOW


def test_a_file_is_detected_where_any_column_is() -> None:
    rec = Recording("f", np.arange(6.0), (np.zeros(6), np.zeros(6)), ("a", "b"), ((3, 5),))
    f = combined(rec, [np.array([0, 0, 0, 0, 0.2, 0]), np.array([0, 0.9, 0, 0.95, 0, 0])])
    np.testing.assert_array_equal(f.scores, [0, 0.9, 0, 0.95, 0.2, 0])
    assert f.windows == ((3, 5),)


def test_evaluate_reports_each_profile_and_the_event_figures() -> None:
    scores = np.zeros(ROWS)
    scores[[100, WINDOW[0] + 4]] = 0.999
    scores[200] = 0.995  # a false alarm at 0.99, not at the best threshold
    rec = Recording("f", np.arange(float(ROWS)), (scores,), ("v",), (WINDOW,))
    r = evaluate([combined(rec, [scores])])
    assert set(PROFILES) <= set(r)
    assert r["standard"]["threshold"] == 0.999  # at the detection, above the 0.995
    assert r["recall"] == 1.0 and r["median_delay"] == 4.0
    normal = ROWS - ROWS * 15 // 100 - (WINDOW[1] - WINDOW[0] + 1)
    assert r["normal_rows"] == normal and r["false_alarms"] == 1
    assert r["false_alarms_per_1k"] == pytest.approx(1000 / normal)
    assert r["at_fixed"]["recall"] == 1.0 and r["at_fixed"]["standard"] < r["standard"]["score"]


def test_run_on_tiny_corpora_finds_the_faults(tiny_datasets: Path) -> None:
    corpora = {n: load(tiny_datasets / n) for n, load in CORPORA.items()}
    summary = corpus_summary(corpora)
    assert summary["petrobras_3w"]["streams"] == 2 and summary["skab"]["streams"] == 8
    assert summary["petrobras_3w"]["ignored_rows"] == 20
    results = run(["ensemble", EWMA_BASELINE], corpora, log=False)
    for det, per in results.items():
        for name in CORPORA:
            assert per[name]["recall"] == 1.0, (det, name)  # a 12 σ step in every file
            assert 0.0 < per[name]["standard"]["score"] <= 100.0
        mean = np.mean([per[n]["standard"]["score"] for n in CORPORA])
        assert per["overall"]["standard"]["score"] == pytest.approx(mean)
        assert per["overall"]["windows"] == 4
    md = table(results, list(CORPORA))
    assert md.count("\n") == 2 + 2 * 4 - 1 and "`ewma_zscore` (baseline)" in md
    text = doc(md, summary, 1.0)
    assert "⌊0.15·n⌋" in text and md in text and "σ(y) = 2/(1+e^(5y)) − 1" in text


def test_main_ends_with_one_json_line(
    tiny_datasets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--json", "--no-doc", "--data-dir", str(tiny_datasets), "--corpus", "skab"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    out = json.loads(last)
    assert out["benchmark"] == "streaming" and list(out["corpora"]) == ["skab"]
    assert set(out["results"]) >= {"ensemble", EWMA_BASELINE}
    assert out["results"][EWMA_BASELINE]["skab"]["reward_low_FN"]["score"] > 0
