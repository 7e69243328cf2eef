"""How each stream moves with the device's workload, learned per device during a warm-up.

During the first ``warmup_h`` of a device, every effect stream accumulates
sums split by operating state (the catalogue's ``in_use``) and against the
modality's continuous workload signal (``infusion_rate_ml_h``, ...). At the
end of the warm-up each stream decides, from its own data:

* **state**: if its in-use and idle means differ by more than half a pooled
  standard deviation (both states seen at least 30 times), only in-use
  readings are summarised (a motor current is 0 when idle; what wears shows
  under load), else all readings;
* **workload slope**: if the workload signal explains at least 10 % of the
  variance, its linear effect is removed (value - b (workload - mean)), so a
  new infusion rate is not a step.

Nothing is summarised before that; the learned coefficients are frozen
after it (a degradation must not be learned away).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["WorkloadNormaliser"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_STATS = ("n", "sx", "sxx", "sc", "scc", "scx")


class WorkloadNormaliser:
    """Per-stream warm-up sums and learned coefficients (see module docstring)."""

    def __init__(self) -> None:
        self.n_streams = 0
        self.sums = np.zeros((0, 2, len(_STATS)))
        self.ready = np.zeros(0, dtype=bool)
        self.in_use_only = np.zeros(0, dtype=bool)
        self.slope = np.zeros(0)
        self.c_ref = np.zeros(0)

    def grow(self, n: int) -> None:
        """Room for ``n`` streams."""
        extra = n - self.n_streams
        if extra <= 0:
            return
        self.sums = np.concatenate([self.sums, np.zeros((extra, 2, len(_STATS)))])
        self.ready = np.concatenate([self.ready, np.zeros(extra, dtype=bool)])
        self.in_use_only = np.concatenate([self.in_use_only, np.zeros(extra, dtype=bool)])
        self.slope = np.concatenate([self.slope, np.zeros(extra)])
        self.c_ref = np.concatenate([self.c_ref, np.zeros(extra)])
        self.n_streams = n

    def learn(self, slots: IntArray, x: FloatArray, state: IntArray, c: FloatArray) -> None:
        """Accumulate warm-up sums for readings of streams not yet ready."""
        m = ~self.ready[slots]
        if not m.any():
            return
        s, x, st = slots[m], x[m], state[m]
        cc = np.nan_to_num(c[m], nan=0.0)
        flat = s * 2 + st
        cols = (np.ones_like(x), x, x * x, cc, cc * cc, cc * x)
        view = self.sums.reshape(-1, len(_STATS))
        for k, col in enumerate(cols):
            view[:, k] += np.bincount(flat, weights=col, minlength=view.shape[0])

    def finish(self, slots: IntArray) -> None:
        """End the warm-up of ``slots``: choose state and workload slope, freeze them."""
        slots = slots[~self.ready[slots]]
        if slots.size == 0:
            return
        s = self.sums[slots]  # (k, 2, stats)
        n = s[:, :, 0]
        with np.errstate(all="ignore"):
            mean = s[:, :, 1] / n
            var = s[:, :, 2] / n - mean**2
            pooled = (np.nan_to_num(var[:, 0]) * n[:, 0] + np.nan_to_num(var[:, 1]) * n[:, 1]) / (
                n[:, 0] + n[:, 1]
            )
            coupled = (
                (n[:, 0] >= 30)
                & (n[:, 1] >= 30)
                & (np.abs(mean[:, 1] - mean[:, 0]) > 0.5 * np.sqrt(np.maximum(pooled, 0.0)))
            )
            tot = np.where(coupled[:, None], s[:, 1, :], s.sum(axis=1))
            nn = tot[:, 0]
            mx, mc = tot[:, 1] / nn, tot[:, 3] / nn
            vx = tot[:, 2] / nn - mx**2
            vc = tot[:, 4] / nn - mc**2
            cxc = tot[:, 5] / nn - mx * mc
            b = np.where(vc > 1e-12, cxc / vc, 0.0)
            r2 = np.where((vc > 1e-12) & (vx > 1e-12), cxc**2 / (vc * vx), 0.0)
        use = np.nan_to_num(r2) >= 0.1
        self.in_use_only[slots] = coupled
        self.slope[slots] = np.where(use, np.nan_to_num(b), 0.0)
        self.c_ref[slots] = np.where(use, np.nan_to_num(mc), 0.0)
        self.ready[slots] = True

    def apply(
        self, slots: IntArray, x: FloatArray, state: IntArray, c: FloatArray
    ) -> tuple[FloatArray, BoolArray]:
        """Normalised values and which readings to keep (ready streams, right state)."""
        keep = self.ready[slots] & (~self.in_use_only[slots] | (state == 1))
        adj = x - self.slope[slots] * (np.nan_to_num(c, nan=0.0) - self.c_ref[slots])
        return adj, keep

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state."""
        return {
            "sums": self.sums.tolist(),
            "ready": self.ready.tolist(),
            "in_use_only": self.in_use_only.tolist(),
            "slope": self.slope.tolist(),
            "c_ref": self.c_ref.tolist(),
        }

    @classmethod
    def restore(cls, doc: dict[str, Any]) -> WorkloadNormaliser:
        """Rebuild from :meth:`snapshot` output."""
        w = cls()
        w.ready = np.array(doc["ready"], dtype=bool)
        w.n_streams = w.ready.size
        w.sums = np.array(doc["sums"], dtype=float).reshape(w.n_streams, 2, len(_STATS))
        w.in_use_only = np.array(doc["in_use_only"], dtype=bool)
        w.slope = np.array(doc["slope"], dtype=float)
        w.c_ref = np.array(doc["c_ref"], dtype=float)
        return w
