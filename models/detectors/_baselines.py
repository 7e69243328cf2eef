"""The two robust baselines of :class:`~models.detectors.robust_pot.RobustPot`, and how
they learn.

* The *local* baseline: a level (a running mean over the first points, then an EWMA of
  span ``span`` whose steps are Huber-clipped at ``huber`` sigma) and a scale (an EW mean
  absolute deviation of span ``scale_span``, the residuals clipped at ``clip`` sigma).
* The *slow* baseline, the signal's usual range: a level and mean absolute deviation of
  span ``slow_span``.

An anomalous point is learned at the rate ``damp`` the detector gives it (its bounded
acceptance). During the warm-up (the first ``warmup / 2`` points) nothing is clipped.

A value held exactly unchanged for ``hold_points`` points (a stuck sensor, a historian
storing no change) says nothing about the live signal's noise: from there on the two
scales stop learning until the value moves, so they keep what they had then instead of
shrinking towards the resolution. The levels still learn (a held value is where the
signal is).

State rows (of the detector's state, named by ``RobustPot.FIELDS``): it reads ``n`` and
``prev`` and writes ``level``, ``mad``, ``slow``, ``slow_mad`` and ``held`` (points the
value has been held).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from htm_edge.models.detectors._core import SIGMA_PER_MAD, FloatArray, span_alpha

__all__ = ["Baselines"]


class Baselines:
    """Learning of the local and slow baselines for one parameter setting."""

    def __init__(self, p: dict[str, Any], fields: Sequence[str]) -> None:
        self._alpha = span_alpha(p["span"])
        self._alpha_sc = span_alpha(p["scale_span"])
        self._alpha_sl = span_alpha(p["slow_span"])
        self._half_warm = 0.5 * float(p["warmup"])
        self._huber = float(p["huber"])
        self._clip = float(p["clip"])
        self._hold_points = float(p["hold_points"])
        # the rows of the detector's state this reads and writes, by name
        self._n, self._prev, self._held = (fields.index(f) for f in ("n", "prev", "held"))
        self._level, self._mad = fields.index("level"), fields.index("mad")
        self._slow, self._slow_mad = fields.index("slow"), fields.index("slow_mad")

    def learn(
        self, st: FloatArray, x: FloatArray, r: FloatArray, sigma: FloatArray, damp: FloatArray
    ) -> None:
        """Learn values ``x`` (residuals ``r`` from the local level, local scale ``sigma``)
        at the rates ``damp`` into the baseline rows of ``st`` (in place); ``st`` still
        holds the previous value (row ``prev``) and count (row ``n``)."""
        n = st[self._n]
        warm = n < self._half_warm
        held = np.where((x == st[self._prev]) & (n > 0), st[self._held] + 1.0, 0.0)
        live = np.where(held >= self._hold_points, 0.0, 1.0)
        # local: running mean at first, then a Huber-clipped EWMA; anomalous points slowly
        a = np.maximum(self._alpha, 1.0 / (n + 1.0)) * damp
        lim = np.where(warm, np.inf, self._huber * sigma)
        level = np.where(n > 0, st[self._level] + a * np.clip(r, -lim, lim), x)
        a_sc = np.where(n < 1, 0.0, np.maximum(self._alpha_sc, 1.0 / np.maximum(n, 1.0)) * damp)
        a_sc = a_sc * live
        lim_sc = np.where(warm, np.inf, self._clip * sigma)
        mad = np.maximum(
            st[self._mad] + a_sc * (np.minimum(np.abs(r), lim_sc) - st[self._mad]), 1e-200
        )
        # slow: the signal's usual range
        a_sl = np.maximum(self._alpha_sl, 1.0 / (n + 1.0))
        r_sl = x - st[self._slow]
        slow = np.where(n > 0, st[self._slow] + a_sl * damp * r_sl, x)
        lim_sl = np.where(warm, np.inf, self._clip * SIGMA_PER_MAD * st[self._slow_mad])
        dev_sl = np.minimum(np.abs(r_sl), lim_sl) - st[self._slow_mad]
        st[self._slow_mad] = np.where(n > 0, st[self._slow_mad] + a_sl * damp * live * dev_sl, 0.0)
        st[self._level] = level
        st[self._mad] = mad
        st[self._slow] = slow
        st[self._held] = held
