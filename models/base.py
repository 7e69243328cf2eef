"""The ``Detector`` interface: online anomaly scoring of many streams held as arrays.

A detector keeps the state of ``n_streams`` independent streams in numpy arrays
(one slot per stream), so a whole batch of streams is scored with a handful of
vector operations. The single-stream methods ``score_one``/``learn_one`` are thin
views over the vector ones.

Contract (checked by ``tests/unit/models/test_conformance.py`` for every
registered detector):

* causal: a score at time t depends only on points up to t;
* score before learn: ``score_many`` never changes state; ``learn_many`` does;
* the detector does not learn from points it judges anomalous (it may learn
  slowly from them, to follow a genuine level change, but never at full rate);
* scores lie in [0, 1] and read like a probability that the point is abnormal;
* NaN or inf values score 0 and leave the state unchanged;
* ``snapshot()`` returns a small JSON-able dict; ``restore(snapshot)`` resumes
  with identical subsequent scores.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from htm_edge.models.config import ModelContext, ModelsConfig

__all__ = ["Detector", "FloatArray", "IntArray"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class Detector(ABC):
    """Online anomaly detector over ``n_streams`` univariate streams.

    Parameters
    ----------
    n_streams:
        Number of stream slots to allocate; grow later with :meth:`grow`.
    """

    #: registry key, equal to the module name under ``models.detectors`` (as every plugin's)
    type_name: ClassVar[str]
    #: detectors share one section, ``[models]`` (``detector`` picks the type, ``params``
    #: its parameters, checked by the detector itself at start-up and by check-config)
    config_model: ClassVar[type[Any]] = ModelsConfig
    #: True for detectors whose points are vectors (``x`` of shape ``(m, d)``);
    #: the univariate conformance tests skip them
    multivariate: ClassVar[bool] = False

    def __init__(self, n_streams: int = 1) -> None:
        self.n_streams = n_streams

    @classmethod
    def from_config(cls, cfg: ModelsConfig, ctx: ModelContext) -> Detector:
        """Build the detector for the ``[models]`` section (the uniform plugin factory)."""
        return cls(ctx.n_streams, **cfg.params)

    @abstractmethod
    def score_many(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> FloatArray:
        """Score one new point for each stream in ``idx`` (unique) without learning."""

    @abstractmethod
    def learn_many(self, idx: IntArray, x: FloatArray, ts: FloatArray, scores: FloatArray) -> None:
        """Update the streams in ``idx`` (unique) with their points and the scores just given."""

    def process_many(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> FloatArray:
        """Score, then learn: the usual online step. Returns the scores."""
        scores = self.score_many(idx, x, ts)
        self.learn_many(idx, x, ts, scores)
        return scores

    @abstractmethod
    def grow(self, n_streams: int) -> None:
        """Make room for at least ``n_streams`` streams; new slots start cold."""

    @abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """Return the whole state as a JSON-able dict (lists, numbers, strings)."""

    @classmethod
    @abstractmethod
    def restore(cls, snapshot: dict[str, Any]) -> Detector:
        """Rebuild a detector from :meth:`snapshot` output."""

    @property
    @abstractmethod
    def bytes_per_stream(self) -> int:
        """Bytes of state held per stream (for memory budgets)."""

    def score_one(self, x: float, ts: float = 0.0, stream: int = 0) -> float:
        """Score one point of one stream without learning."""
        idx = np.array([stream], dtype=np.intp)
        return float(self.score_many(idx, np.array([x], dtype=float), np.array([ts]))[0])

    def learn_one(
        self, x: float, ts: float = 0.0, stream: int = 0, score: float | None = None
    ) -> None:
        """Learn one point of one stream (``score`` defaults to this detector's own)."""
        idx = np.array([stream], dtype=np.intp)
        xs = np.array([x], dtype=float)
        tss = np.array([ts], dtype=float)
        s = self.score_many(idx, xs, tss) if score is None else np.array([score])
        self.learn_many(idx, xs, tss, s)
