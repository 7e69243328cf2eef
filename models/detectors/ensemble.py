"""``ensemble``: the default detector, combining calibrated components per stream.

Each component (by default ``seasonal``, ``spike_level``, ``cusum`` and ``drift``; the
others see the signal minus the seasonal profile, so a daily cycle is not
mistaken for level shifts or drifts) turns
a point into a surprise ``s_i = -log p_i``, the tail probability of its own
statistic under its healthy model. They are combined by the minimum p-value
with a Bonferroni correction, ``p = m · min_i p_i``, and ``p`` is calibrated
like every detector's (``score = exp(-W p)``, see
:mod:`models.detectors._core`), so the score keeps its meaning — one
threshold near 0.99 works across signals, units and noise levels — and the
false-alarm rate does not grow with the number of components.

All components learn from the *ensemble* score: a point any component finds
anomalous is learned at the slow rate by all of them.

Catches: what its components catch — spikes and dips, level shifts (with a
peak at onset), variance increases, values abnormal for the time of day, slow
drifts against the long-term baseline (alarming again while the drift goes
on). Misses: anomalies only visible across several signals (see
``multivariate``), weekly patterns, deviations smaller than the noise that do
not persist.

Every component floors its scale with the *raw* signal's resolution (the
seasonal component's estimate, passed on, since the de-seasonalised signal
the others see is no longer quantised), so a change smaller than one step of
the sensor's resolution is never significant. After a gap in a stream (a
device idle, a stream keyed by operating state resuming), the short-memory
baselines widen their uncertainty by the wander learned from earlier gaps
and re-learn quickly; the long-term CUSUM reference does not forget.

State per stream: the sum of the components', 768 bytes by default.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Self

import numpy as np

from htm_edge.models.base import Detector, FloatArray, IntArray
from htm_edge.models.detectors._core import ArrayDetector, surprise_to_score
from htm_edge.models.detectors.cusum import Cusum
from htm_edge.models.detectors.drift import Drift
from htm_edge.models.detectors.robust_ewma import RobustEWMA
from htm_edge.models.detectors.seasonal import Seasonal
from htm_edge.models.detectors.spike_level import SpikeLevel
from htm_edge.models.errors import ModelError

__all__ = ["Ensemble"]

_COMPONENTS: dict[str, type[ArrayDetector]] = {
    c.type_name: c for c in (Seasonal, SpikeLevel, Cusum, Drift, RobustEWMA)
}


class Ensemble(Detector):
    """Minimum-p (Bonferroni) combination of univariate components.

    Parameters
    ----------
    n_streams:
        Number of stream slots.
    components:
        Comma-separated component names, from ``seasonal``, ``spike_level``, ``drift``,
        ``cusum`` and ``robust_ewma``.
    multiplicity:
        ``W`` of the final calibration (healthy points per expected 0.99 alarm, / 100).
    period:
        Shortcut for ``seasonal__period`` (seconds).
    **params:
        ``<component>__<param>`` overrides passed to a component.
    """

    type_name: ClassVar[str] = "ensemble"
    PARAMS: ClassVar[dict[str, Any]] = {
        "components": "seasonal,spike_level,cusum,drift",
        "multiplicity": 100.0,
        "period": 86400.0,
    }

    def __init__(self, n_streams: int = 1, **params: Any) -> None:
        super().__init__(n_streams)
        own = {k: v for k, v in params.items() if "__" not in k}
        unknown = sorted(set(own) - set(self.PARAMS))
        if unknown:
            raise ModelError(
                f"detector 'ensemble': unknown parameter(s) {unknown}; valid ones are "
                f"{sorted(self.PARAMS)} or '<component>__<param>' with component in "
                f"{sorted(_COMPONENTS)}"
            )
        self.params: dict[str, Any] = {**self.PARAMS, **params}
        names = self.params["components"]
        names = names.split(",") if isinstance(names, str) else list(names)
        names = [str(c).strip() for c in names if str(c).strip()]
        bad = [c for c in names if c not in _COMPONENTS]
        if bad or not names:
            raise ModelError(
                f"detector 'ensemble': unknown component(s) {bad or names}; valid ones are "
                f"{sorted(_COMPONENTS)}"
            )
        sub: dict[str, dict[str, Any]] = {c: {} for c in names}
        for k, v in params.items():
            if "__" in k:
                comp, _, pname = k.partition("__")
                if comp not in sub:
                    raise ModelError(
                        f"detector 'ensemble': parameter {k!r} names component {comp!r}, "
                        f"which is not among {names}"
                    )
                sub[comp][pname] = v
        if "seasonal" in sub:
            sub["seasonal"].setdefault("period", self.params["period"])
        self.components: list[ArrayDetector] = [_COMPONENTS[c](n_streams, **sub[c]) for c in names]
        self._w = float(self.params["multiplicity"])
        self._log_m = math.log(len(names))
        for c in self.components:
            c.alarm_offset = self._log_m
        # the other components see the signal minus the seasonal profile
        self._season = names.index("seasonal") if "seasonal" in names else -1

    def _steps(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> tuple[list[Any], FloatArray]:
        steps: list[Any] = [None] * len(self.components)
        xa = x
        q = None
        if self._season >= 0:
            steps[self._season] = self.components[self._season].prepare(idx, x, ts)
            ctx = steps[self._season][2]
            xa = x - ctx["pred"]
            # the residual is no longer quantised: pass on the raw signal's resolution
            q = ctx["q"]
        for i, c in enumerate(self.components):
            if i != self._season:
                steps[i] = c.prepare(idx, xa, ts, q)
        s = steps[0][2]["s"]
        for st in steps[1:]:
            s = np.maximum(s, st[2]["s"])
        s = np.maximum(s - self._log_m, 0.0)
        return steps, surprise_to_score(s, self._w)

    def score_many(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> FloatArray:
        """Score one new point for each stream in ``idx`` (unique) without learning."""
        return self._steps(idx, x, ts)[1]

    def learn_many(self, idx: IntArray, x: FloatArray, ts: FloatArray, scores: FloatArray) -> None:
        """Update every component with the given (ensemble) scores."""
        steps, _ = self._steps(idx, x, ts)
        sc = np.asarray(scores, dtype=np.float64)
        for c, (key, st, ctx, xs, tss, valid) in zip(self.components, steps, strict=True):
            c.finish(key, st, ctx, xs, tss, valid, sc)

    def process_many(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> FloatArray:
        """Score, then learn, computing each component once."""
        steps, scores = self._steps(idx, x, ts)
        for c, (key, st, ctx, xs, tss, valid) in zip(self.components, steps, strict=True):
            c.finish(key, st, ctx, xs, tss, valid, scores)
        return scores

    def detail_many(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> dict[str, FloatArray]:
        """Each component's own calibrated score, plus the components' details."""
        out: dict[str, FloatArray] = {}
        for c, step in zip(self.components, self._steps(idx, x, ts)[0], strict=True):
            ctx = step[2]
            out[c.type_name] = c.score_from(ctx)
            out.update(c._detail(ctx))
        return out

    def grow(self, n_streams: int) -> None:
        """Make room for at least ``n_streams`` streams in every component."""
        for c in self.components:
            c.grow(n_streams)
        self.n_streams = max(self.n_streams, n_streams)

    def snapshot(self) -> dict[str, Any]:
        """Params and every component's snapshot, JSON-able."""
        return {
            "name": self.type_name,
            "params": dict(self.params),
            "n_streams": self.n_streams,
            "components": [c.snapshot() for c in self.components],
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> Self:
        """Rebuild from :meth:`snapshot` output."""
        if snapshot.get("name") != cls.type_name:
            raise ModelError(f"snapshot of {snapshot.get('name')!r} given to 'ensemble'")
        det = cls(int(snapshot["n_streams"]), **snapshot["params"])
        comps = [_COMPONENTS[s["name"]].restore(s) for s in snapshot["components"]]
        for c in comps:
            c.alarm_offset = det._log_m
        det.components = comps
        return det

    @property
    def bytes_per_stream(self) -> int:
        """Sum of the components' state bytes per stream."""
        return sum(c.bytes_per_stream for c in self.components)
