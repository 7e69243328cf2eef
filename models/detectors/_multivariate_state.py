"""The per-device state of :class:`~models.detectors.multivariate.MultivariateDetector`:
which arrays a device holds, and how they are allocated, grown, sized and saved.

A device (one stream of ``d`` signals) keeps ``3d² + 5d + 18`` numbers: its running
mean and covariance, the model fitted on them (the fields of
:class:`~models.detectors.multivariate_fit.PcaModel` and its sample size), the EWMA
smoothers of T² and Q, the last finite value of each signal (for the differenced
ones), and the sums and matched distributions of the empirical calibration. Each is
one numpy array with a leading stream axis, named in :data:`STATE`. A snapshot holds
these arrays as lists under their names, beside the detector's name, stream count and
parameters, so its layout is fixed here, by :data:`STATE` and
:meth:`MultivariateState._alloc`.

Kept apart from the detector, whose module holds its parameters, scoring and learning:
this base class only stores what they read and write.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Self

import numpy as np

from htm_edge.models.base import Detector, IntArray

__all__ = ["FLOATS", "INTS", "STATE", "MultivariateState"]

INTS = ("count", "n_fit", "scored", "since_fit")
FLOATS = (
    *("mean", "cov", "mu", "scale", "a_t", "a_q", "k", "g", "h", "sm_t", "sm_q"),
    *("prev", "seen", "cal_n", "cal_t", "cal_t2", "cal_q", "cal_q2", "ge_t", "he_t"),
    *("ge_q", "he_q"),
)
#: every per-device array, in the order of a snapshot
STATE = INTS + FLOATS


class MultivariateState(Detector):
    """Base of :class:`~models.detectors.multivariate.MultivariateDetector`: its
    per-device arrays (:data:`STATE`), their growth and size, their snapshot and restore.

    A subclass sets ``n_features`` and then calls :meth:`_alloc` in its constructor, and
    gives the constructor's keyword arguments through :meth:`_params`.
    """

    n_features: int

    @abstractmethod
    def _params(self) -> dict[str, Any]:
        """The constructor's keyword arguments, as a snapshot saves them."""

    def _alloc(self, n: int) -> None:
        d = self.n_features
        self.count: IntArray = np.zeros(n, dtype=np.intp)  # points learned
        self.n_fit: IntArray = np.zeros(n, dtype=np.intp)  # sample size of the model (0: none)
        self.scored: IntArray = np.zeros(n, dtype=np.intp)  # points smoothed since warm-up
        self.since_fit: IntArray = np.zeros(n, dtype=np.intp)  # points learned since the fit
        self.mean = np.zeros((n, d))
        self.cov = np.zeros((n, d, d))
        self.mu = np.zeros((n, d))
        self.scale = np.ones((n, d))
        self.a_t = np.zeros((n, d, d))
        self.a_q = np.zeros((n, d, d))
        self.k = np.ones(n)
        self.g = np.ones(n)
        self.h = np.ones(n)
        self.sm_t = np.zeros(n)
        self.sm_q = np.zeros(n)
        self.prev = np.zeros((n, d))  # last finite value of each signal (for differences)
        self.seen = np.zeros((n, d))  # 1 once a signal has had a finite value
        self.cal_n = np.zeros(n)  # out-of-sample warm-up points calibrated on
        self.cal_t = np.zeros(n)  # their mean smoothed T² ...
        self.cal_t2 = np.zeros(n)  # ... and sum of squared deviations (Welford)
        self.cal_q = np.zeros(n)
        self.cal_q2 = np.zeros(n)
        self.ge_t = np.ones(n)  # empirical g·χ²_h of smoothed T² (he_t = 0: none, use theory)
        self.he_t = np.zeros(n)
        self.ge_q = np.ones(n)
        self.he_q = np.zeros(n)

    def grow(self, n_streams: int) -> None:
        """Make room for at least ``n_streams`` devices; new slots start cold."""
        extra = n_streams - self.n_streams
        if extra <= 0:
            return
        old = {key: getattr(self, key) for key in STATE}
        self._alloc(extra)
        for key in STATE:
            setattr(self, key, np.concatenate([old[key], getattr(self, key)]))
        self.n_streams = n_streams

    @property
    def bytes_per_stream(self) -> int:
        """Bytes of state per device: ``8·(3d² + 5d + 18)``."""
        return sum(int(getattr(self, key)[:1].nbytes) for key in STATE)

    def snapshot(self) -> dict[str, Any]:
        """Return the whole state as a JSON-able dict (parameters and per-device arrays)."""
        state = {key: getattr(self, key).tolist() for key in STATE}
        return {
            "name": self.type_name,
            "n_streams": self.n_streams,
            "params": self._params(),
            **state,
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> Self:
        """Rebuild a detector from :meth:`snapshot` output."""
        det = cls(int(snapshot["n_streams"]), **snapshot["params"])
        for key in STATE:
            ref = getattr(det, key)
            setattr(det, key, np.asarray(snapshot[key], dtype=ref.dtype).reshape(ref.shape))
        return det
