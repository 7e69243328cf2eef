"""NAB scoring of streaming detections, written from the published description only.

Lavin & Ahmad, "Evaluating Real-time Anomaly Detection Algorithms: the Numenta
Anomaly Benchmark" (2015). NAB rewards *early* detection of each labelled
anomaly window and charges every false detection, with application profiles
that weigh false positives against misses. This module implements those rules
on our corpora, where the labelled ranges themselves are the windows. It was
written from the paper's description, not from NAB's code, so the conventions
below are ours wherever the paper leaves a choice; they are all stated here.

Rules (row indices are 0-based, windows ``[start, end]`` inclusive):

* **Probation.** The first ``⌊0.15 n⌋`` rows of a file of ``n`` rows are
  probationary: the detector warms up there and detections are ignored. A window
  that *starts* inside the probation is not scorable: it earns nothing and costs
  nothing, and detections inside it are ignored (it still counts as the
  "preceding window" of later false positives).
* **Detections.** Row ``t`` is a detection when its score is ``≥ threshold``.
* **True positives.** In each scorable window only the earliest detection counts,
  worth ``A_TP·σ(y)`` with ``σ(y) = 2/(1+e^{5y}) − 1`` and
  ``y = (t − end)/(end − start)`` (``y = −1`` on the first row, σ ≈ 0.987;
  ``y = 0`` on the last row, σ = 0); later detections in the window count nothing.
* **False positives.** Every detection outside every window (and outside the
  ``ignored`` rows) costs ``A_FP·σ(y)`` (negative), ``y`` measured with the same
  formula from the preceding window (the last one that ends before ``t``), so
  ``y > 0`` grows with the distance past its end, in its lengths; with no
  preceding window the cost is ``−A_FP``.
* **Misses.** Each scorable window without a detection costs ``−A_FN``.
* **Normalisation.** ``100·(S − S_null)/(S_perfect − S_null)`` over a corpus,
  ``S`` summed over its files; ``S_null = −A_FN·W`` (detect nothing),
  ``S_perfect = A_TP·σ(−1)·W`` (one detection on each scorable window's first
  row), ``W`` the scorable windows.
* **Threshold.** One per detector, corpus and profile, the one maximising ``S``.
  The sweep is exhaustive: ``S`` only changes where some window's earliest
  detection changes, i.e. at a value of a window's running maximum score, so
  those values (plus +∞, "detect nothing") are every candidate that can win, at
  full float resolution (0.9999 and 0.99999 are told apart). Ties go to the
  highest threshold.

Examples
--------
>>> f = LabelledScores(np.r_[np.zeros(20), 1.0, np.zeros(9)], windows=((20, 29),))
>>> float(normalised(tally([f], np.array([0.5])), PROFILES["standard"])[0])
100.0
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "PROBATION",
    "PROFILES",
    "Events",
    "LabelledScores",
    "Profile",
    "Tally",
    "best_threshold",
    "candidates",
    "events",
    "normalised",
    "probation_rows",
    "raw_score",
    "scaled_sigmoid",
    "tally",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: fraction of each file that is probationary
PROBATION = 0.15


@dataclass(frozen=True, slots=True)
class Profile:
    """NAB application profile: weights of true positives, false positives, misses."""

    name: str
    a_tp: float
    a_fp: float
    a_fn: float


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("standard", 1.0, 0.11, 1.0),
        Profile("reward_low_FP", 1.0, 0.22, 1.0),
        Profile("reward_low_FN", 1.0, 0.11, 2.0),
    )
}


def scaled_sigmoid(y: npt.ArrayLike) -> FloatArray:
    """NAB's ``σ(y) = 2/(1+e^{5y}) − 1``: +0.987 at y = −1, 0 at y = 0, → −1 as y grows.

    >>> [round(float(v), 4) for v in scaled_sigmoid([-1.0, 0.0, 1.0])]
    [0.9866, 0.0, -0.9866]
    """
    y = np.clip(np.asarray(y, dtype=np.float64), -100.0, 100.0)
    return np.asarray(2.0 / (1.0 + np.exp(5.0 * y)) - 1.0, dtype=np.float64)


def probation_rows(n: int, fraction: float = PROBATION) -> int:
    """Rows of probation of a file of ``n`` rows: ``⌊fraction·n⌋`` (exact for 0.15)."""
    return int(np.floor(n * fraction + 1e-9))


@dataclass(frozen=True, slots=True)
class LabelledScores:
    """One file as the scorer sees it: one score per row, and its labels.

    ``scores`` is the file's combined score (for several sensor columns, the
    maximum over columns, so a row is detected when any column is). ``windows``
    are the labelled ranges, ``ignored`` ranges whose rows are neither windows
    nor false positives (unlabelled gaps), all ``(start, end)`` inclusive.
    """

    scores: FloatArray
    windows: Sequence[tuple[int, int]]
    ignored: Sequence[tuple[int, int]] = ()
    probation: int = field(default=-1)

    def __post_init__(self) -> None:
        n = len(self.scores)
        ws = sorted(self.windows)
        for (s0, e0), (s1, _) in itertools.pairwise(ws):
            if s1 <= e0:
                raise ValueError(f"windows overlap: {(s0, e0)} and {s1}")
        for s, e in [*ws, *self.ignored]:
            if not 0 <= s <= e < n:
                raise ValueError(f"range {(s, e)} outside the file's {n} rows")
        object.__setattr__(self, "windows", tuple(ws))
        if self.probation < 0:
            object.__setattr__(self, "probation", probation_rows(n))

    def scorable(self) -> list[tuple[int, int]]:
        """The windows that start after the probation."""
        return [(s, e) for s, e in self.windows if s >= self.probation]

    def false_positive_rows(self) -> IntArray:
        """Rows where a detection is a false positive: after probation, outside all ranges."""
        ok = np.ones(len(self.scores), dtype=bool)
        ok[: self.probation] = False
        for s, e in [*self.windows, *self.ignored]:
            ok[s : e + 1] = False
        return np.flatnonzero(ok)

    def fp_sigma(self, rows: IntArray) -> FloatArray:
        """``σ(y)`` of a false positive at each of ``rows`` (−1 without a preceding window)."""
        out = np.full(len(rows), -1.0)
        if not self.windows:
            return out
        ends = np.array([e for _, e in self.windows])
        starts = np.array([s for s, _ in self.windows])
        k = np.searchsorted(ends, rows, side="left") - 1  # last window with end < row
        has = k >= 0
        kk = k[has]
        length = np.maximum(ends[kk] - starts[kk], 1)
        out[has] = scaled_sigmoid((rows[has] - ends[kk]) / length)
        return out


@dataclass(frozen=True, slots=True)
class Tally:
    """A corpus's NAB ingredients at each of ``thresholds`` (arrays of one length)."""

    thresholds: FloatArray
    tp_sigma: FloatArray  # Σ σ(y) of the earliest detection of each detected window
    detected: IntArray  # scorable windows detected
    fp_sigma: FloatArray  # Σ σ(y) (≤ 0) over false-positive detections
    fp_count: IntArray  # false-positive detections
    windows: int  # scorable windows
    normal_rows: int  # rows where a detection would be a false positive


def _window_cummax(f: LabelledScores) -> list[tuple[int, int, FloatArray]]:
    sc = np.nan_to_num(np.asarray(f.scores, dtype=np.float64))
    return [(s, e, np.maximum.accumulate(sc[s : e + 1])) for s, e in f.scorable()]


def candidates(files: Sequence[LabelledScores]) -> FloatArray:
    """Every threshold that can maximise the score: the windows' running maxima, and +∞."""
    parts = [cm for f in files for _, _, cm in _window_cummax(f)]
    vals = np.unique(np.concatenate(parts)) if parts else np.zeros(0)
    return np.append(vals, np.inf)


def tally(files: Sequence[LabelledScores], thresholds: FloatArray | None = None) -> Tally:
    """Count detections, misses and false positives of a corpus at each threshold.

    ``thresholds`` defaults to :func:`candidates` (the exhaustive sweep).
    """
    thr = candidates(files) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    tp = np.zeros(len(thr))
    det = np.zeros(len(thr), dtype=np.intp)
    fp_scores: list[FloatArray] = []
    fp_sig: list[FloatArray] = []
    n_windows = normal = 0
    for f in files:
        for s, e, cm in _window_cummax(f):
            n_windows += 1
            j = np.searchsorted(cm, thr, side="left")  # earliest row with score >= thr
            hit = j < len(cm)
            y = (s + j[hit] - e) / max(e - s, 1)
            tp[hit] += scaled_sigmoid(y)
            det += hit
        rows = f.false_positive_rows()
        normal += len(rows)
        fp_scores.append(np.nan_to_num(np.asarray(f.scores, dtype=np.float64)[rows]))
        fp_sig.append(f.fp_sigma(rows))
    sc = np.concatenate(fp_scores) if fp_scores else np.zeros(0)
    sg = np.concatenate(fp_sig) if fp_sig else np.zeros(0)
    order = np.argsort(sc, kind="stable")
    sc, sg = sc[order], sg[order]
    suffix = np.append(np.cumsum(sg[::-1])[::-1], 0.0)  # Σ σ over rows k.. of the sorted
    k = np.searchsorted(sc, thr, side="left")  # rows k.. have score >= thr
    return Tally(thr, tp, det, suffix[k], (len(sc) - k).astype(np.intp), n_windows, normal)


def raw_score(t: Tally, p: Profile) -> FloatArray:
    """NAB's raw score ``S`` at each threshold of the tally."""
    missed = t.windows - t.detected
    return np.asarray(p.a_tp * t.tp_sigma + p.a_fp * t.fp_sigma - p.a_fn * missed)


def normalised(t: Tally, p: Profile) -> FloatArray:
    """``100·(S − S_null)/(S_perfect − S_null)`` at each threshold (0 = null, 100 = perfect)."""
    if t.windows == 0:
        raise ValueError("no scorable window: the normalised NAB score is undefined")
    null = -p.a_fn * t.windows
    perfect = p.a_tp * float(scaled_sigmoid(-1.0)) * t.windows
    return np.asarray(100.0 * (raw_score(t, p) - null) / (perfect - null))


def best_threshold(t: Tally, p: Profile) -> tuple[float, float]:
    """The threshold of the tally maximising the score (highest among ties), and that score."""
    s = normalised(t, p)
    i = len(s) - 1 - int(np.argmax(s[::-1]))
    return float(t.thresholds[i]), float(s[i])


@dataclass(frozen=True, slots=True)
class Events:
    """Event-level figures of a corpus at one threshold."""

    windows: int
    detected: int
    false_alarms: int
    normal_rows: int
    delays: list[int]

    @property
    def recall(self) -> float:
        """Detected share of the scorable windows."""
        return self.detected / self.windows if self.windows else float("nan")

    @property
    def false_alarms_per_1k(self) -> float:
        """False-positive detections per 1,000 rows where one could occur."""
        return 1000.0 * self.false_alarms / self.normal_rows if self.normal_rows else float("nan")

    @property
    def median_delay(self) -> float:
        """Median rows from a detected window's start to its earliest detection."""
        return float(np.median(self.delays)) if self.delays else float("nan")


def events(files: Sequence[LabelledScores], threshold: float) -> Events:
    """Recall, false alarms and detection delays of a corpus at ``threshold``."""
    delays: list[int] = []
    windows = false_alarms = normal = 0
    for f in files:
        sc = np.nan_to_num(np.asarray(f.scores, dtype=np.float64))
        for s, e in f.scorable():
            windows += 1
            hits = np.flatnonzero(sc[s : e + 1] >= threshold)
            if len(hits):
                delays.append(int(hits[0]))
        rows = f.false_positive_rows()
        normal += len(rows)
        false_alarms += int(np.sum(sc[rows] >= threshold))
    return Events(windows, len(delays), false_alarms, normal, delays)
