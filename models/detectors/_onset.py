"""What :class:`~models.detectors.robust_pot.RobustPot` reports: each event at its onset.

The detector's surprise ``s`` (the one its baselines and tails learn from) stays high
for a while after a change: until a step is accepted, for as long as a window
statistic holds its value for its block, for as long as a drift goes on. Reporting it
on every point makes one event cost a threshold hundreds of false alarms, and says
nothing new after its first points. So a stream keeps a *peak*, the largest surprise
it has seen, halved every ``peak_halflife`` points, and the number of points since a
point last raised it (``since``):

* a point more surprising than the peak raises it and is reported as it is;
* so are the ``onset_points - 1`` points after it (an event's first points);
* any later point less surprising than the peak adds nothing new: it is reported with
  surprise 0 (score 0, and details 0).

What follows from it:

* a step or a spike is reported on its first ``onset_points`` points, not until it is
  accepted; a window statistic held over its block, on the block's first points only;
* a larger deviation, or a drift whose evidence keeps growing, raises the peak and is
  reported again; a big event masks a smaller one only while its halved peak stays
  above it (tens of points);
* the default ``onset_points`` (5) is the default anomaly rule's ``enter_window``: the
  rule sees each event's first five points as they are;
* learning is unchanged: the detector learns a point reported as 0 as its own
  surprise says (``onset_points = 0`` reports every point).

Two floats per stream (``peak``, ``since``).
"""

from __future__ import annotations

import math

import numpy as np

from htm_edge.models.detectors._core import BoolArray, FloatArray

__all__ = ["OnsetReport"]


class OnsetReport:
    """The reporting rule for one parameter setting (see the module docstring)."""

    def __init__(self, onset_points: float, peak_halflife: float) -> None:
        if onset_points < 0 or peak_halflife <= 0:
            raise ValueError("need onset_points >= 0 and peak_halflife > 0")
        #: points after a new peak still reported as they are (inf: every point)
        self.grace = float(onset_points) - 1.0 if onset_points > 0 else math.inf
        self.peak_keep = 0.5 ** (1.0 / float(peak_halflife))

    def since(self, s: FloatArray, peak: FloatArray, since: FloatArray) -> FloatArray:
        """Points since a point last raised the peak, this one included (0 if it does)."""
        return np.where(s > peak, 0.0, np.minimum(since + 1.0, self.grace + 1.0))

    def reported(self, since: FloatArray) -> BoolArray:
        """Where points are reported as they are (the others: surprise 0)."""
        return since <= self.grace

    def next_peak(self, peak: FloatArray, s: FloatArray) -> FloatArray:
        """The peak after a point of surprise ``s``."""
        out: FloatArray = np.maximum(peak * self.peak_keep, s)
        return out
