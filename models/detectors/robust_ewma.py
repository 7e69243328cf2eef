"""``robust_ewma``: exponentially weighted baseline with a robust scale.

The baseline is an EWMA of the signal (a running mean for the first ``span``
points); the scale is an EW mean absolute deviation of the residuals,
winsorised at ``clip`` scales and floored for constant or quantised signals.
A point's standardised residual ``z = |x - mean| / sigma`` is turned into a tail
probability and calibrated to a score (see :mod:`models.detectors._core`).

Catches: spikes and dips, abrupt level shifts (at onset), variance increases,
stuck-then-jumping sensors. Misses: slow drifts (the baseline follows them),
deviations smaller than about 4.5 sigma, anything that is only abnormal for the
time of day (use ``seasonal``). Anomalous points move the baseline at
``slow`` times the normal rate and never the scale, so a permanent level change
is accepted after about ``span / slow`` points.

State per stream: 7 float64 (``n, mean, mad, quantum, previous value`` and the
tail fit ``pi, beta``), 56 bytes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from htm_edge.models.detectors._core import (
    COMMON_PARAMS,
    TAIL_INIT,
    ArrayDetector,
    BoolArray,
    Ctx,
    FloatArray,
    Key,
    floor_scale,
    pot_surprise,
    ramp,
    rates,
    span_alpha,
    update_mad,
    update_quantum,
    update_tail,
)

__all__ = ["RobustEWMA"]


class RobustEWMA(ArrayDetector):
    """EWMA baseline, robust scale, z-score to tail probability.

    Parameters
    ----------
    n_streams:
        Number of stream slots.
    span:
        EWMA span in points (rate ``2 / (span + 1)``).
    **params:
        Shared parameters, see :data:`models.detectors._core.COMMON_PARAMS`.

    Examples
    --------
    >>> det = RobustEWMA()
    >>> for i in range(100):
    ...     det.learn_one(10.0 + 0.1 * (i % 3))
    >>> det.score_one(10.1) < 0.5, det.score_one(20.0) > 0.99
    (True, True)
    """

    type_name: ClassVar[str] = "robust_ewma"
    PARAMS: ClassVar[dict[str, Any]] = {**COMMON_PARAMS, "span": 30}
    INIT: ClassVar[dict[str, float]] = TAIL_INIT
    FIELDS: ClassVar[tuple[str, ...]] = ("n", "mean", "mad", "quantum", "prev", "pi", "beta")

    def _configure(self) -> None:
        self._alpha = span_alpha(self.params["span"])
        self._warm = float(self.params["warmup"])
        self._u = float(self.params["tail_u"])

    def _compute(
        self, key: Key, st: FloatArray, x: FloatArray, ts: FloatArray, qx: FloatArray | None
    ) -> Ctx:
        n, mu, mad, q = st[0], st[1], st[2], st[3]
        # the resolution seen up to this point, its own step included (the first step
        # of a so-far constant stream is one step of resolution, as far as it knows)
        q = update_quantum(q, n, x, st[4])
        if qx is not None:
            q = np.maximum(q, qx)
        scale = floor_scale(mad, mu, q, self.params)
        r = x - mu
        z = np.abs(r) / scale
        s = pot_surprise(z, st[5], st[6], self._u) * ramp(n, self._warm)
        return {"s": s, "r": r, "scale": scale, "z": z}

    def _update(
        self, key: Key, st: FloatArray, ctx: Ctx, x: FloatArray, ts: FloatArray,
        scores: FloatArray, valid: BoolArray | None,
    ) -> FloatArray:  # fmt: skip
        n = st[0]
        a, a_sc, anomalous = rates(n, self._alpha, scores, self.params)
        r = ctx["r"]
        st[1] += a * r
        st[2] = update_mad(st[2], r, ctx["scale"], a_sc, n, self.params)
        st[3] = update_quantum(st[3], n, x, st[4])
        st[4] = x
        st[5], st[6] = update_tail(st[5], st[6], ctx["z"], n, anomalous, self.params)
        st[0] = n + 1.0
        return st
