"""What :class:`~models.detectors.robust_pot.RobustPot` reports: each event at its onset.

The detector's surprise ``s`` (the one its baselines and tails learn from) stays high
for a while after a change: until a step is accepted, for as long as a window
statistic holds its value for its block, for as long as a drift goes on. Reporting it
on every point makes one event cost a threshold hundreds of false alarms, and says
nothing new after its first points. So a stream keeps a *peak*, the largest surprise
it has seen, halved every ``peak_halflife`` points, and the number of points since a
point last raised it (``since``):

* a point more surprising than the peak raises it and is reported as it is;
* of the ``onset_points - 1`` points after it (an event's first points), those that
  are alarms themselves (surprise at least ``trail_surprise``, the surprise of score
  ``onset_score``, 0.98) are reported as they are, the others with surprise 0: how the
  event fades adds nothing new;
* any later point less surprising than the peak adds nothing new: it is reported with
  surprise 0 (score 0, and details 0).

What follows from it:

* a step or a spike is reported on its first point and those of the next
  ``onset_points - 1`` that are alarms, not until it is accepted; a window statistic
  held over its block, on the block's first points only;
* a larger deviation, or a drift whose evidence keeps growing, raises the peak and is
  reported again; a big event masks a smaller one only while its halved peak stays
  above it (tens of points);
* the default ``onset_points`` (5) is the default anomaly rule's ``enter_window``, and
  ``onset_score`` (0.98) is at most its ``enter_score`` (0.99) and the most sensitive
  entry score its per-device adaptation gives by default (0.983): every point of an
  event's first five that can be a hit of the rule reaches it as it is;
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

    def __init__(self, onset_points: float, peak_halflife: float, trail_surprise: float) -> None:
        if onset_points < 0 or peak_halflife <= 0:
            raise ValueError("need onset_points >= 0 and peak_halflife > 0")
        #: points after a new peak still reported as they are (inf: every point)
        self.grace = float(onset_points) - 1.0 if onset_points > 0 else math.inf
        self.peak_keep = 0.5 ** (1.0 / float(peak_halflife))
        #: the surprise a point after a new peak needs to be reported (an alarm)
        self.trail_surprise = float(trail_surprise)

    def since(self, s: FloatArray, peak: FloatArray, since: FloatArray) -> FloatArray:
        """Points since a point last raised the peak, this one included (0 if it does)."""
        return np.where(s > peak, 0.0, np.minimum(since + 1.0, self.grace + 1.0))

    def reported(self, since: FloatArray, s: FloatArray) -> BoolArray:
        """Where points of surprise ``s`` are reported as they are (the others: surprise 0)."""
        if math.isinf(self.grace):
            return np.ones(since.shape, dtype=bool)
        out: BoolArray = (since == 0.0) | ((since <= self.grace) & (s >= self.trail_surprise))
        return out

    def next_peak(self, peak: FloatArray, s: FloatArray) -> FloatArray:
        """The peak after a point of surprise ``s``."""
        out: FloatArray = np.maximum(peak * self.peak_keep, s)
        return out
