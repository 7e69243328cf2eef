"""Shared machinery of the array detectors: state blocks, calibration, robust scale.

The per-stream statistics (robust scale, resolution, sampling interval, tail
fit) live in :mod:`models.detectors._stats` and are re-exported here, so a
detector imports its building blocks from one place.

Every univariate detector here keeps its state in a few float64 *blocks*, each
of shape ``(rows, capacity)`` (one column per stream), so that a batch of
streams is gathered with one fancy index per block (or a plain slice when the
batch is ``0..m-1``, the common case) and scattered back once.

Scores come from a *surprise* ``s = -log p``, where ``p`` is the tail
probability of the point under the stream's healthy model. The score is the
probability that ``p`` is smaller than what ``multiplicity`` healthy points
would give, ``score = (1 - p) ** W ≈ exp(-W p)``: a score of 0.99 needs
``p ≤ 1e-4`` with the default ``W = 100``, so on healthy data a threshold of
0.99 is crossed by roughly one point in ten thousand or fewer, whatever the
signal's units.

The tail used for standardised residuals is Gaussian near the centre and
exponential beyond ``z = 3`` (a Huber-type log-density). Real sensor noise is
heavier tailed than Gaussian; the exponential tail keeps big-but-plausible
excursions from saturating the score, and leaves score differences among
large deviations (useful for ranking alarms).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any, ClassVar, Self

import numpy as np

from htm_edge.models.base import Detector, FloatArray, IntArray
from htm_edge.models.detectors._stats import (
    SIGMA_PER_MAD,
    BoolArray,
    floor_scale,
    gap_steps,
    rates,
    span_alpha,
    staleness,
    update_interval,
    update_mad,
    update_quantum,
    update_tail,
    update_wander,
)
from htm_edge.models.errors import ModelError

__all__ = [
    "COMMON_PARAMS",
    "SIGMA_PER_MAD",
    "TAIL_INIT",
    "ArrayDetector",
    "BoolArray",
    "Ctx",
    "FloatArray",
    "IntArray",
    "Key",
    "floor_scale",
    "gap_steps",
    "pot_surprise",
    "ramp",
    "rates",
    "score_to_surprise",
    "span_alpha",
    "staleness",
    "surprise_to_score",
    "tail_surprise",
    "update_interval",
    "update_mad",
    "update_quantum",
    "update_tail",
    "update_wander",
]

#: values are clipped to this magnitude so that no arithmetic can overflow
_XMAX = 1e100
_XMIN = 1e-100
_HUBER_K = 3.0

Key = slice | IntArray
Ctx = dict[str, FloatArray]


def tail_surprise(z: FloatArray) -> FloatArray:
    """Return ``-log p`` for absolute standardised residuals ``z`` (Huber tail)."""
    k = _HUBER_K
    return np.where(z <= k, 0.5 * z * z, k * z - 0.5 * k * k)


def pot_surprise(z: FloatArray, pi: FloatArray, beta: FloatArray, u: float) -> FloatArray:
    """Return ``-log p`` for ``z`` under a peaks-over-threshold tail fitted per stream.

    Beyond ``u`` the tail is exponential, ``p = pi * exp(-(z - u) / beta)``, where
    ``pi`` is the stream's exceedance rate of ``u`` and ``beta`` its mean excess
    (both learned by :func:`update_tail`); below ``u`` a Gaussian-shaped body
    joins it continuously. Heavy-tailed streams thus get a flatter tail and
    keep their false-alarm rate.
    """
    lp = -np.log(pi)
    return np.where(z <= u, (lp / (u * u)) * (z * z), lp + (z - u) / beta)


def surprise_to_score(s: FloatArray, multiplicity: float) -> FloatArray:
    """Map surprises ``s = -log p`` to scores ``exp(-W p)`` in [0, 1] (0 exactly at p = 1)."""
    p = np.exp(-np.minimum(s, 700.0))
    floor = math.exp(-min(multiplicity, 700.0))  # the score at p = 1, mapped to 0
    raw = np.exp(-np.minimum(multiplicity * p, 700.0))
    return np.maximum(raw - floor, 0.0) * (1.0 / (1.0 - floor))


def score_to_surprise(score: float, multiplicity: float) -> float:
    """Inverse of :func:`surprise_to_score` for one score in (0, 1) (floor included), and
    of :func:`models.detectors._tail.score_with_resolution` below its compressed top."""
    floor = math.exp(-min(multiplicity, 700.0))
    return -math.log(-math.log(score * (1.0 - floor) + floor) / multiplicity)


def ramp(n: FloatArray, warmup: float) -> FloatArray:
    """Warm-up weight: 0 before ``warmup / 4`` points, rising to 1 at ``warmup`` points."""
    lo = 0.25 * warmup
    return np.clip((n - lo) / max(warmup - lo, 1.0), 0.0, 1.0)


def _key(idx: IntArray) -> Key:
    """Return a slice when ``idx`` is ``start..start+m-1`` in order, else ``idx``."""
    m = idx.shape[0]
    if m == 0:
        return idx
    start = int(idx[0])
    if int(idx[-1]) - start == m - 1 and (m < 3 or bool(np.all(idx[1:] > idx[:-1]))):
        return slice(start, start + m)
    return idx


class ArrayDetector(Detector):
    """Base class of the array-backed univariate detectors.

    Subclasses declare ``PARAMS`` (name -> default), ``FIELDS`` (rows of the
    ``state`` block) and implement :meth:`_compute` (surprise from the gathered
    state, no mutation) and :meth:`_update` (new state rows).

    Parameters
    ----------
    n_streams:
        Number of stream slots.
    **params:
        Overrides of ``PARAMS``; unknown names raise :class:`ModelError`.
    """

    PARAMS: ClassVar[dict[str, Any]] = {}
    FIELDS: ClassVar[tuple[str, ...]] = ()
    #: initial values of ``state`` rows that do not start at 0
    INIT: ClassVar[dict[str, float]] = {}

    def __init__(self, n_streams: int = 1, **params: Any) -> None:
        super().__init__(n_streams)
        unknown = sorted(set(params) - set(self.PARAMS))
        if unknown:
            raise ModelError(
                f"detector {self.type_name!r}: unknown parameter(s) {unknown}; "
                f"valid ones are {sorted(self.PARAMS)}"
            )
        merged = {**self.PARAMS, **params}
        for k, v in merged.items():
            default = self.PARAMS[k]
            numeric = isinstance(default, int | float) and not isinstance(default, bool)
            if numeric and (
                not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v)
            ):
                raise ModelError(
                    f"detector {self.type_name!r}: parameter {k!r} must be a finite number, "
                    f"got {v!r}"
                )
        self.params: dict[str, Any] = merged
        #: surprise added to own alarm thresholds (set by an ensemble for its correction)
        self.alarm_offset = 0.0
        self._configure()
        self._blocks: dict[str, FloatArray] = {
            b: self._new_block(b, rows, init, n_streams)
            for b, (rows, init) in self._block_spec().items()
        }

    # -- subclass hooks -------------------------------------------------------------------
    def _configure(self) -> None:
        """Validate ``self.params`` and precompute constants (raise ModelError if bad)."""

    def _block_spec(self) -> dict[str, tuple[int, float]]:
        """Blocks of state: name -> (rows, initial value); see also ``INIT``."""
        return {"state": (len(self.FIELDS), 0.0)}

    def _new_block(self, b: str, rows: int, init: float, n: int) -> FloatArray:
        a = np.full((rows, n), init)
        if b == "state":
            for f, v in self.INIT.items():
                a[self.FIELDS.index(f)] = v
        return a

    @abstractmethod
    def _compute(
        self, key: Key, st: FloatArray, x: FloatArray, ts: FloatArray, qx: FloatArray | None
    ) -> Ctx:
        """Return at least ``{"s": surprise}`` for valid points; must not mutate state.

        ``qx`` is the resolution of the signal ``x`` derives from, when the caller
        knows it (an ensemble feeding a de-seasonalised signal), else None.
        """

    @abstractmethod
    def _update(
        self, key: Key, st: FloatArray, ctx: Ctx, x: FloatArray, ts: FloatArray,
        scores: FloatArray, valid: BoolArray | None,
    ) -> FloatArray:  # fmt: skip
        """Return the new ``state`` rows (``st`` may be modified); write other blocks
        directly, only where ``valid`` (None means all valid)."""

    def _detail(self, ctx: Ctx) -> dict[str, FloatArray]:
        """Per-point detail (probability-like values) from a computed context."""
        return {}

    # -- the vector pipeline ------------------------------------------------------------
    def _check(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> None:
        if x.ndim != 1 or x.shape != ts.shape or idx.shape != x.shape:
            raise ModelError(
                f"detector {self.type_name!r}: idx, x and ts must be 1-D of equal length, got "
                f"{idx.shape}, {x.shape}, {ts.shape}"
            )

    def prepare(
        self, idx: IntArray, x: FloatArray, ts: FloatArray, quantum: FloatArray | None = None
    ) -> tuple[Key, FloatArray, Ctx, FloatArray, FloatArray, BoolArray | None]:
        """Gather state and compute the surprise: ``(key, state, ctx, x, ts, valid)``.

        Invalid points (NaN/inf value or time) get surprise 0; ``valid`` is None
        when every point is valid. ``quantum`` (per point) is the resolution of the
        raw signal when ``x`` is derived from it (e.g. minus a seasonal profile, which
        hides the quantisation from this detector's own estimate); the scale is
        floored by it as by the detector's own estimate.
        """
        x = np.asarray(x, dtype=np.float64)
        ts = np.asarray(ts, dtype=np.float64)
        self._check(idx, x, ts)
        key = _key(idx)
        st = self._blocks["state"][:, key]
        ok = np.isfinite(x) & np.isfinite(ts)
        valid: BoolArray | None = None
        if not ok.all():
            valid = ok
            x = np.where(ok, x, 0.0)
            ts = np.where(ok, ts, 0.0)
        # magnitudes beyond 1e100 are clipped and below 1e-100 flushed to 0, so that no
        # arithmetic on the state can overflow or underflow
        x = np.where(np.abs(x) < _XMIN, 0.0, np.clip(x, -_XMAX, _XMAX))
        ctx = self._compute(key, st, x, ts, quantum)
        if valid is not None:
            ctx["s"] = np.where(valid, ctx["s"], 0.0)
        return key, st, ctx, x, ts, valid

    def finish(
        self,
        key: Key,
        st: FloatArray,
        ctx: Ctx,
        x: FloatArray,
        ts: FloatArray,
        valid: BoolArray | None,
        scores: FloatArray,
    ) -> None:
        """Learn from prepared points given their scores, and write the state back."""
        new = self._update(key, st.copy() if valid is not None else st, ctx, x, ts, scores, valid)
        if valid is not None:
            new = np.where(valid, new, st)
        self._blocks["state"][:, key] = new

    def score_from(self, ctx: Ctx) -> FloatArray:
        """Scores of prepared points."""
        return surprise_to_score(ctx["s"], float(self.params["multiplicity"]))

    def score_many(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> FloatArray:
        """Score one new point for each stream in ``idx`` (unique) without learning."""
        return self.score_from(self.prepare(idx, x, ts)[2])

    def learn_many(self, idx: IntArray, x: FloatArray, ts: FloatArray, scores: FloatArray) -> None:
        """Update the streams in ``idx`` (unique) with their points and given scores."""
        key, st, ctx, xs, tss, valid = self.prepare(idx, x, ts)
        self.finish(key, st, ctx, xs, tss, valid, np.asarray(scores, dtype=np.float64))

    def process_many(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> FloatArray:
        """Score, then learn, with a single gather and scatter of the state."""
        key, st, ctx, xs, tss, valid = self.prepare(idx, x, ts)
        scores = self.score_from(ctx)
        self.finish(key, st, ctx, xs, tss, valid, scores)
        return scores

    def detail_many(self, idx: IntArray, x: FloatArray, ts: FloatArray) -> dict[str, FloatArray]:
        """Per-point detail (component probabilities) without learning."""
        ctx = self.prepare(idx, x, ts)[2]
        return self._detail(ctx)

    # -- capacity and persistence ---------------------------------------------------------
    def grow(self, n_streams: int) -> None:
        """Make room for at least ``n_streams`` streams; new slots start cold."""
        if n_streams <= self.n_streams:
            return
        for b, (rows, init) in self._block_spec().items():
            old = self._blocks[b]
            new = self._new_block(b, rows, init, n_streams)
            new[:, : old.shape[1]] = old
            self._blocks[b] = new
        self.n_streams = n_streams

    def snapshot(self) -> dict[str, Any]:
        """Return params and state as a JSON-able dict (non-finite numbers become None)."""
        return {
            "name": self.type_name,
            "params": dict(self.params),
            "n_streams": self.n_streams,
            "blocks": {
                b: [[v if math.isfinite(v) else None for v in row] for row in a.tolist()]
                for b, a in self._blocks.items()
            },
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> Self:
        """Rebuild a detector from :meth:`snapshot` output."""
        if snapshot.get("name") != cls.type_name:
            raise ModelError(f"snapshot of {snapshot.get('name')!r} given to {cls.type_name!r}")
        det = cls(int(snapshot["n_streams"]), **snapshot["params"])
        for b, rows in snapshot["blocks"].items():
            want = det._blocks[b].shape
            arr = np.array(rows, dtype=np.float64)
            if arr.shape != want:
                # another version's layout (a statistic added or removed): refuse it whole,
                # rather than read its rows as something they are not
                raise ModelError(
                    f"{cls.type_name} snapshot block {b!r} has shape {arr.shape}, this version "
                    f"keeps {want} (saved by another version): start its streams cold"
                )
            det._blocks[b] = arr
        return det

    @property
    def bytes_per_stream(self) -> int:
        """Bytes of state held per stream (float64 throughout)."""
        return sum(a.shape[0] * a.itemsize for a in self._blocks.values())


#: parameters shared by the univariate detectors
COMMON_PARAMS: dict[str, Any] = {
    "multiplicity": 100.0,  # W in score = exp(-W p): healthy points per expected 0.99 alarm / 0.01
    "warmup": 30,  # points before full sensitivity (scores are damped from warmup / 4)
    "learn_threshold": 0.9,  # points scoring at least this are learned at the slow rate
    "slow": 0.3,  # learning rate factor for anomalous points (0 = never learn them)
    "clip": 4.0,  # residuals are winsorised at clip * scale when updating the scale
    "rel_eps": 1e-6,  # scale floor relative to the level
    "abs_eps": 1e-9,  # absolute scale floor
    "quantum_factor": 0.5,  # scale floor in units of the smallest step seen (quantised data)
    "tail_u": 2.5,  # tail threshold (sigmas) of the per-stream peaks-over-threshold fit
    "tail_rate": 0.002,  # EW rate of the exceedance frequency (per point)
    "excess_rate": 0.05,  # EW rate of the mean excess (per exceedance)
    "wander_rate": 0.1,  # EW rate of the level's wander per missing point (per gap)
}

#: initial (Gaussian-like, slightly conservative) tail: P(z > 2.5), mean excess
TAIL_INIT: dict[str, float] = {"pi": 0.0124, "beta": 0.5}
