"""NAB scoring rules on hand-made files: rewards, costs, probation, normalisation, sweep."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from benchmarks.nab_scoring import (
    PROFILES,
    LabelledScores,
    best_threshold,
    candidates,
    events,
    normalised,
    probation_rows,
    raw_score,
    scaled_sigmoid,
    tally,
)

STD = PROFILES["standard"]
N = 200  # rows per hand-made file: probation is rows 0..29
WIN = (100, 149)


def file_with(
    detect_at: list[int], windows: tuple[tuple[int, int], ...] = (WIN,)
) -> LabelledScores:
    """A file scoring 1 at ``detect_at`` and 0 elsewhere."""
    s = np.zeros(N)
    s[detect_at] = 1.0
    return LabelledScores(s, windows)


def std_raw(*files: LabelledScores, thr: float = 0.5) -> float:
    return float(raw_score(tally(list(files), np.array([thr])), STD)[0])


def test_scaled_sigmoid_at_the_published_points() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + np.exp(-5)) - 1)
    assert float(scaled_sigmoid(-1.0)) == pytest.approx(0.9866, abs=1e-4)
    assert float(scaled_sigmoid(0.0)) == 0.0
    assert float(scaled_sigmoid(1e6)) == pytest.approx(-1.0)  # no overflow far away
    assert np.all(np.diff(scaled_sigmoid(np.linspace(-2, 2, 41))) < 0)


def test_probation_is_fifteen_percent_floored() -> None:
    assert probation_rows(200) == 30
    assert probation_rows(20) == 3  # 0.15 * 20 is 3.0000000000000004 in floats
    assert probation_rows(1147) == 172


def test_early_detection_in_a_window_scores_more_than_late() -> None:
    first, mid, last = (std_raw(file_with([t])) for t in (100, 125, 149))
    assert first == pytest.approx(float(scaled_sigmoid(-1.0)))
    assert first > mid > last
    assert last == pytest.approx(0.0)  # on the window's last row: no reward, but no miss
    assert last > std_raw(file_with([]))  # a miss costs A_FN = 1


def test_only_the_first_detection_in_a_window_counts() -> None:
    assert std_raw(file_with([110, 111, 120, 149])) == std_raw(file_with([110]))
    assert events([file_with([110, 111, 120])], 0.5).delays == [10]


def test_false_positive_cost_grows_with_distance_after_a_window() -> None:
    base = std_raw(file_with([100]))
    costs = [base - std_raw(file_with([100, t])) for t in (150, 160, 175, 199)]
    assert costs[0] == pytest.approx(0.11 * float(-scaled_sigmoid(1 / 49)))
    assert all(a < b for a, b in itertools.pairwise(costs))
    assert costs[0] > 0 and costs[-1] < 0.11
    # y is measured in window lengths: (175 - 149) / 49
    assert costs[2] == pytest.approx(-0.11 * float(scaled_sigmoid(26 / 49)))


def test_false_positive_without_a_preceding_window_costs_a_fp() -> None:
    base = std_raw(file_with([100]))
    assert base - std_raw(file_with([50, 100])) == pytest.approx(0.11)
    assert base - std_raw(file_with([50, 60, 100])) == pytest.approx(0.22)  # every one counts
    lowfp = PROFILES["reward_low_FP"]
    t = tally([file_with([50, 100])], np.array([0.5]))
    assert float(raw_score(t, lowfp)[0]) == pytest.approx(float(scaled_sigmoid(-1.0)) - 0.22)


def test_a_miss_costs_a_fn_per_profile() -> None:
    t = tally([file_with([])], np.array([0.5]))
    assert float(raw_score(t, STD)[0]) == -1.0
    assert float(raw_score(t, PROFILES["reward_low_FN"])[0]) == -2.0


def test_null_scores_zero_and_perfect_scores_hundred() -> None:
    two = (WIN, (170, 189))
    for p in PROFILES.values():
        null = tally([file_with([], two)], np.array([0.5]))
        perfect = tally([file_with([100, 170], two)], np.array([0.5]))
        assert float(normalised(null, p)[0]) == pytest.approx(0.0)
        assert float(normalised(perfect, p)[0]) == pytest.approx(100.0)
    # one of two windows found on its first row, no false positive: halfway
    half = tally([file_with([100], two)], np.array([0.5]))
    assert float(normalised(half, STD)[0]) == pytest.approx(50.0)


def test_detections_in_probation_are_ignored_and_early_windows_unscorable() -> None:
    assert std_raw(file_with([5, 100])) == std_raw(file_with([100]))  # row 5 is in probation
    early = file_with([], ((20, 40), WIN))  # starts in probation: neither reward nor miss
    assert early.scorable() == [WIN]
    assert std_raw(early) == -1.0
    assert std_raw(file_with([35, 100], ((20, 40), WIN))) == std_raw(file_with([100]))
    # the unscorable window still is the preceding window of a later false positive
    fp = std_raw(file_with([45, 100], ((20, 40), WIN))) - std_raw(file_with([100]))
    assert fp == pytest.approx(0.11 * float(scaled_sigmoid(5 / 20)))


def test_ignored_rows_are_not_false_positives() -> None:
    s = np.zeros(N)
    s[[90, 100]] = 1.0
    gap = LabelledScores(s, (WIN,), ignored=((85, 99),))
    assert std_raw(gap) == std_raw(file_with([100]))
    assert std_raw(LabelledScores(s, (WIN,))) < std_raw(gap)
    assert len(gap.false_positive_rows()) == N - 30 - 50 - 15


def test_scores_are_summed_over_the_files_of_a_corpus() -> None:
    a, b = file_with([100]), file_with([50])
    t = tally([a, b], np.array([0.5]))
    assert float(raw_score(t, STD)[0]) == pytest.approx(std_raw(a) + std_raw(b))
    assert t.windows == 2 and int(t.detected[0]) == 1 and int(t.fp_count[0]) == 1


def test_threshold_sweep_finds_the_best_threshold_by_brute_force() -> None:
    rng = np.random.default_rng(3)
    files = []
    for k in range(6):
        s = rng.random(N) ** 0.3
        s[110 + 5 * k] = 0.999 + 0.0009 * rng.random()  # each window's true onset
        files.append(LabelledScores(s, (WIN,)))
    grid = np.unique(np.concatenate([f.scores for f in files] + [np.linspace(0, 1, 2001)]))
    for p in PROFILES.values():
        thr, best = best_threshold(tally(files), p)
        brute = normalised(tally(files, grid), p)
        assert best == pytest.approx(float(brute.max()))
        assert float(normalised(tally(files, np.array([thr])), p)[0]) == pytest.approx(best)
    assert set(candidates(files)[:-1]) <= set(grid) and candidates(files)[-1] == np.inf


def test_sweep_resolves_scores_just_below_one() -> None:
    s = np.zeros(N)
    s[60:70] = 0.9999  # false positives
    s[120] = 0.99999  # the detection
    thr, best = best_threshold(tally([LabelledScores(s, (WIN,))]), STD)
    assert 0.9999 < thr <= 0.99999
    top = float(scaled_sigmoid(-1.0))
    assert best == pytest.approx(100 * (float(scaled_sigmoid(-29 / 49)) + 1) / (top + 1))


def test_sweep_prefers_detecting_nothing_when_false_alarms_dominate() -> None:
    s = np.full(N, 0.7)  # every row the same: the window is found but 150 rows are false
    thr, best = best_threshold(tally([LabelledScores(s, (WIN,))]), STD)
    assert thr == np.inf and best == 0.0


def test_events_recall_false_alarms_and_delay() -> None:
    files = [file_with([104, 160, 161]), file_with([]), file_with([130, 20])]
    ev = events(files, 0.5)
    assert (ev.windows, ev.detected) == (3, 2) and ev.recall == pytest.approx(2 / 3)
    assert ev.false_alarms == 2 and ev.normal_rows == 3 * (N - 30 - 50)
    assert ev.false_alarms_per_1k == pytest.approx(1000 * 2 / 360)
    assert ev.delays == [4, 30] and ev.median_delay == 17.0


def test_bad_labels_are_rejected() -> None:
    with pytest.raises(ValueError, match="overlap"):
        LabelledScores(np.zeros(N), ((10, 50), (40, 60)))
    with pytest.raises(ValueError, match="outside"):
        LabelledScores(np.zeros(N), ((150, 250),))
    with pytest.raises(ValueError, match="no scorable window"):
        normalised(tally([LabelledScores(np.zeros(N), ())]), STD)
