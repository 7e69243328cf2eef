"""``robust_pot`` reports an event's onset, not its occupancy: a point that adds nothing new
after an event's first ``onset_points`` is reported as 0, while learning is unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from htm_edge.models.detectors._core import score_to_surprise
from htm_edge.models.detectors._tail import score_with_resolution
from htm_edge.models.detectors.robust_pot import RobustPot
from htm_edge.models.errors import ModelError
from tests.unit.models.models_helpers import noise_series, run

#: state rows of the reporting layer (the event's decayed peak, points since it)
_REPORT_ROWS = [RobustPot.FIELDS.index("peak"), RobustPot.FIELDS.index("since")]


def _eventful(seed: int) -> np.ndarray:
    """Noise with a spike, a step, a noise growth and a ramp, apart from each other."""
    x = noise_series(seed, 6000)
    x[1200] += 40.0
    x[2000:] += 100.0
    x[3000:3600] = 80.0 + 4.0 * (x[3000:3600] - 80.0)
    x[4500:] += 0.02 * np.arange(1500)
    return x


@pytest.mark.parametrize("seed", [0, 1])
def test_reporting_changes_no_learning_and_reports_each_point_as_itself_or_zero(seed: int) -> None:
    x = _eventful(seed)
    every, onset = RobustPot(onset_points=0), RobustPot()
    s_every, s_onset = run(every, x), run(onset, x)
    # a reported point keeps its own score; the others are reported as 0
    assert np.all((s_onset == s_every) | (s_onset == 0.0))
    assert np.sum((s_onset == 0.0) & (s_every >= 0.9)) > 0  # some repeats were dropped
    # everything but the reporting rows is bit-identical: baselines and tails learn as before
    a, b = every._blocks["state"], onset._blocks["state"]
    rest = [i for i in range(a.shape[0]) if i not in _REPORT_ROWS]
    np.testing.assert_array_equal(a[rest], b[rest])


@pytest.mark.parametrize("seed", [0, 1])
def test_an_events_later_points_are_reported_only_as_alarms(seed: int) -> None:
    """Of an event's first points, those after the first are reported when they score
    ``onset_score`` or more; the rest of how it fades is reported as 0."""
    x = _eventful(seed)
    alarms_only, whole = RobustPot(), RobustPot(onset_score=1e-12)
    s, s_whole = run(alarms_only, x), run(whole, x)
    differ = s != s_whole
    assert np.any(differ)
    assert np.all(s[differ] == 0.0)
    assert np.all(s_whole[differ] < RobustPot.PARAMS["onset_score"])
    # every point at or above onset_score is reported as it is
    high = s_whole >= RobustPot.PARAMS["onset_score"]
    np.testing.assert_array_equal(s[high], s_whole[high])


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_a_big_step_is_reported_at_its_onset_only(seed: int) -> None:
    x = noise_series(seed, 3000)
    x[2500:] += 100.0  # 50 sigma
    s = run(RobustPot(), x)
    before = run(RobustPot(onset_points=0), x)
    assert s[2500] >= 0.99
    onset_points = int(RobustPot.PARAMS["onset_points"])
    assert int(np.sum(s[2500:] >= 0.9)) <= onset_points
    assert int(np.sum(before[2500:] >= 0.9)) > onset_points  # what reporting every point gave


def test_a_big_event_masks_what_follows_only_briefly() -> None:
    """The peak an event sets fades (half-life ``peak_halflife``), so a new, smaller
    anomaly some tens of points after it is reported."""
    x = noise_series(5, 3000)
    x[2500:] += 40.0  # a 20 sigma step ...
    x[2600] += 1000.0  # ... and, 100 points on, a spike of 500 sigma
    s = run(RobustPot(), x)
    assert s[2500] >= 0.99
    assert s[2590:2600].max() == 0.0
    assert s[2600] >= 0.99


def test_onset_parameters_are_validated() -> None:
    with pytest.raises(ModelError, match="onset_points"):
        RobustPot(onset_points=-1)
    with pytest.raises(ModelError, match="peak_halflife"):
        RobustPot(peak_halflife=0.0)
    with pytest.raises(ModelError, match="onset_score"):
        RobustPot(onset_score=1.0)


@pytest.mark.parametrize("score", [0.5, 0.9, 0.98, 0.99, 0.999999])
@pytest.mark.parametrize("multiplicity", [1.0, 100.0, 1e4])
def test_onset_threshold_is_the_surprise_of_its_score(score: float, multiplicity: float) -> None:
    s = score_to_surprise(score, multiplicity)
    assert score_with_resolution(np.array([s]), multiplicity)[0] == pytest.approx(score, abs=1e-9)
