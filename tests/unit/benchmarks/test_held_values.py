"""``benchmarks.held_values``: rows since the end of a held run."""

from __future__ import annotations

import numpy as np

from benchmarks.held_values import rows_since_held


def test_rows_since_held_counts_from_the_first_change_after_a_long_run() -> None:
    x = np.array([1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0])
    since = rows_since_held(x, held=3)
    assert np.isinf(since[:5]).all()  # no run of 3 repeats has ended yet
    np.testing.assert_array_equal(since[5:], [0.0, 1.0, 2.0, 3.0])  # the run of 1 does not count
