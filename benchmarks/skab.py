"""SKAB outlier-detection benchmark of the multivariate detector (upstream protocol).

Run ``python -m benchmarks.skab [--json] [--no-doc]``. The data is read from the
shared datasets folder (``$HTM_SHARED_DIR/datasets/skab``, by default
``../shared/datasets/skab`` beside the repository) and never copied.

Protocol (SKAB "proposed leaderboard"): in each of the 34 labelled files the first
400 rows train and the rest test; TP/FP/FN/TN are pooled over all test rows;
F1 = TP / (TP + (FP + FN) / 2), FAR = FP / (FP + TN), MAR = FN / (FN + TP).

Streaming: one detector stream per file (all files run side by side as a fleet).
Each stream learns its 400 training rows (its warm-up), then scores every test row
in order before learning it (score before learn). Test labels are never looked at
before scoring: a row is called anomalous when its calibrated score reaches
``THRESHOLD``, a fixed probability whose meaning (the smoothed statistic is beyond
that quantile of its out-of-sample distribution on the training rows) comes from the
training part only. One configuration serves all files. With differenced signals
the first row has no difference, so the warm-up is the 399 other training rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from htm_edge.models.detectors.multivariate import MultivariateDetector

__all__ = [
    "ADAPTIVE",
    "CONFIG",
    "LEADERBOARD",
    "THRESHOLD",
    "TRAIN_ROWS",
    "VARIANTS",
    "Counts",
    "SkabFile",
    "data_dir",
    "load_file",
    "main",
    "metrics",
    "run",
    "skab_files",
]

TRAIN_ROWS = 400
OURS = "multivariate T²+Q (ours)"
THRESHOLD = 0.99
COLUMNS = (
    "Accelerometer1RMS",
    "Accelerometer2RMS",
    "Current",
    "Pressure",
    "Temperature",
    "Thermocouple",
    "Voltage",
    "Volume Flow RateRMS",
)
#: the slow thermal signals (motor housing and fluid temperature), scored by their steps
SLOW = (COLUMNS.index("Temperature"), COLUMNS.index("Thermocouple"))
#: the configuration of the previous release (Gaussian-theory calibration, levels only)
PLAIN: dict[str, Any] = {
    "explained_variance": 0.9,
    "shrinkage": 0.05,
    "halflife": 10.0,
    "calibration": "theory",
}
#: the one configuration reported as "ours": frozen after the training rows
CONFIG: dict[str, Any] = {**PLAIN, "calibration": "empirical", "differenced": SLOW}
#: the daemon-style configuration: keeps adapting (10 min memory) on normal-looking rows
ADAPTIVE: dict[str, Any] = {**CONFIG, "refit_every": 60, "forget": 1 / 600, "anomalous_rate": 0.1}
#: alternatives tried, reported beside it (name -> (constructor kwargs, threshold))
VARIANTS: dict[str, tuple[dict[str, Any], float]] = {
    "T²+Q, theory calibration, levels (previous)": (PLAIN, THRESHOLD),
    "T²+Q, theory calibration, differenced temperatures": (
        {**PLAIN, "differenced": SLOW},
        THRESHOLD,
    ),
    "T²+Q, empirical calibration, levels": ({**CONFIG, "differenced": ()}, THRESHOLD),
    "T²+Q, no smoothing": ({**CONFIG, "halflife": 0.0}, THRESHOLD),
    "T²+Q, halflife 5 s": ({**CONFIG, "halflife": 5.0}, THRESHOLD),
    "T²+Q, halflife 30 s": ({**CONFIG, "halflife": 30.0}, THRESHOLD),
    "T²+Q, explained variance 0.8": ({**CONFIG, "explained_variance": 0.8}, THRESHOLD),
    "T²+Q, explained variance 0.95": ({**CONFIG, "explained_variance": 0.95}, THRESHOLD),
    "T²+Q, threshold 0.95": (CONFIG, 0.95),
    "T²+Q, threshold 0.999": (CONFIG, 0.999),
    "T² only, all components (no Q)": ({**CONFIG, "explained_variance": 1.0}, THRESHOLD),
    "T²+Q, adaptive (daemon-style)": (ADAPTIVE, THRESHOLD),
}
LEADERBOARD: list[tuple[str, float, float, float]] = [
    ("Conv-AE", 0.78, 13.55, 28.02),
    ("MSET", 0.78, 39.73, 14.13),
    ("T-squared+Q (PCA)", 0.76, 26.62, 24.92),
    ("LSTM-AE", 0.74, 29.96, 25.92),
    ("T-squared", 0.66, 19.21, 42.60),
    ("LSTM-VAE", 0.56, 9.13, 55.03),
    ("Vanilla LSTM", 0.54, 12.54, 59.53),
    ("Vanilla AE", 0.39, 2.59, 75.15),
    ("MSCRED", 0.36, 49.94, 69.88),
    ("Isolation Forest", 0.29, 2.56, 82.89),
    ("Null detector", 0.0, 0.0, 100.0),
]
FEATURES = 8

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SkabFile:
    """One SKAB recording: signals ``(rows, 8)`` and labels (all ``False`` if unlabelled)."""

    name: str
    x: FloatArray
    label: BoolArray


@dataclass(frozen=True, slots=True)
class Counts:
    """Pooled confusion counts of binary labels."""

    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def of(cls, pred: BoolArray, label: BoolArray) -> Counts:
        """Count a prediction against the true labels."""
        return cls(
            int(np.sum(pred & label)),
            int(np.sum(pred & ~label)),
            int(np.sum(~pred & label)),
            int(np.sum(~pred & ~label)),
        )

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )


def metrics(c: Counts) -> dict[str, float]:
    """SKAB's F1, FAR and MAR (as fractions, not %) of pooled counts.

    >>> metrics(Counts(tp=6, fp=2, fn=2, tn=10))
    {'f1': 0.75, 'far': 0.16666666666666666, 'mar': 0.25}
    """
    f1 = c.tp / (c.tp + (c.fp + c.fn) / 2) if c.tp + c.fp + c.fn else 0.0
    far = c.fp / (c.fp + c.tn) if c.fp + c.tn else 0.0
    mar = c.fn / (c.fn + c.tp) if c.fn + c.tp else 0.0
    return {"f1": f1, "far": far, "mar": mar}


def data_dir() -> Path:
    """The SKAB folder: ``$HTM_SHARED_DIR/datasets/skab`` or ``../shared/datasets/skab``."""
    shared = os.environ.get("HTM_SHARED_DIR")
    root = Path(shared) if shared else Path(__file__).resolve().parents[1].parent / "shared"
    return root / "datasets" / "skab"


def load_file(path: Path, name: str | None = None) -> SkabFile:
    """Read one ``;``-separated SKAB CSV (the ``datetime`` column is dropped)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter=";")
        header = next(reader)
        rows = [r for r in reader if r]
    cols = header[1 : 1 + FEATURES]
    vals = np.array([[float(v) if v else np.nan for v in r[1:]] for r in rows], dtype=float)
    if tuple(cols) != COLUMNS or vals.shape[1] < FEATURES:
        raise ValueError(f"{path}: expected the signal columns {list(COLUMNS)}, got {cols}")
    label = vals[:, header.index("anomaly") - 1] > 0.5 if "anomaly" in header else None
    if label is None:
        label = np.zeros(len(vals), dtype=bool)
    return SkabFile(name or path.name, vals[:, :FEATURES], label)


def skab_files(root: Path | None = None, names: Sequence[str] | None = None) -> list[SkabFile]:
    """Load the 34 labelled files (or ``names``, relative paths like ``"valve1/0.csv"``)."""
    root = data_dir() if root is None else root
    if not root.is_dir():
        raise FileNotFoundError(
            f"SKAB dataset not found at {root}; set HTM_SHARED_DIR to the folder holding "
            "datasets/skab (see /work/shared/datasets/skab/README.md)"
        )
    if names is None:
        paths = sorted(p for p in root.glob("*/*.csv") if p.parent.name != "anomaly-free")
        names = [p.relative_to(root).as_posix() for p in paths]
    return [load_file(root / n, n) for n in names]


def _stream(files: Sequence[SkabFile], kwargs: dict[str, Any]) -> list[FloatArray]:
    """Run every file as one stream of a shared detector; return each file's scores."""
    warmup = TRAIN_ROWS - 1 if kwargs.get("differenced") else TRAIN_ROWS
    det = MultivariateDetector(len(files), n_features=FEATURES, warmup=warmup, **kwargs)
    lengths = np.array([len(f.x) for f in files])
    scores = [np.zeros(n) for n in lengths]
    for t in range(int(lengths.max())):
        idx = np.flatnonzero(lengths > t)
        x = np.stack([files[int(i)].x[t] for i in idx])
        s = det.process_many(idx, x, np.full(len(idx), float(t)))
        for i, v in zip(idx, s, strict=True):
            scores[i][t] = v
    return scores


def run(
    files: Sequence[SkabFile], kwargs: dict[str, Any] | None = None, threshold: float = THRESHOLD
) -> dict[str, Any]:
    """Score ``files`` causally and pool the confusion counts of their test parts."""
    scores = _stream(files, CONFIG if kwargs is None else kwargs)
    total = Counts(0, 0, 0, 0)
    for f, s in zip(files, scores, strict=True):
        total += Counts.of(s[TRAIN_ROWS:] >= threshold, f.label[TRAIN_ROWS:])
    rows = sum(len(f.x) - TRAIN_ROWS for f in files)
    return {**metrics(total), "files": len(files), "rows": rows, "counts": total}


def _table(results: dict[str, dict[str, Any]], free_far: dict[str, float]) -> str:
    lines = [
        "| algorithm | F1 | FAR % | MAR % | anomaly-free FAR % |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| **{name}** | {r['f1']:.3f} | {100 * r['far']:.2f} | {100 * r['mar']:.2f} "
            f"| {100 * free_far[name]:.2f} |"
        )
    for name, f1, far, mar in LEADERBOARD:
        lines.append(f"| {name} (published) | {f1:.2f} | {far:.2f} | {mar:.2f} | |")
    return "\n".join(lines)


def _kw(kwargs: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in kwargs.items()
    )


def _doc(table: str, results: dict[str, dict[str, Any]], free_far: dict[str, float]) -> str:
    ours = results[OURS]
    c: Counts = ours["counts"]
    prev = results.get("T²+Q, theory calibration, levels (previous)", ours)
    adaptive = free_far.get("T²+Q, adaptive (daemon-style)", float("nan"))
    return f"""## SKAB (multivariate detector)

Command: `python -m benchmarks.skab` (add `--json` for a machine-readable last line).
Data: SKAB v0.9 from the shared datasets folder (GPL-3.0, not copied into the repo).

Protocol, as upstream: in each of the 34 labelled files the first {TRAIN_ROWS} rows train and the
rest test; TP/FP/FN/TN are pooled over all {ours["rows"]:,} test rows (ours: TP {c.tp}, FP {c.fp},
FN {c.fn}, TN {c.tn}); F1 = TP/(TP+(FP+FN)/2), FAR = FP/(FP+TN), MAR = FN/(FN+TP).
Each file is one stream of `MultivariateDetector` (all 34 run side by side as a fleet): it learns
its training rows as warm-up, then scores every test row causally, before learning it.

Threshold rule (no test labels used): a row is anomalous when its score reaches
**{THRESHOLD}**, a fixed probability. One configuration for all files: `{_kw(CONFIG)}`, model
frozen after the training rows, as the published baselines. Two changes from the previous
release (F1 {prev["f1"]:.3f}, FAR {100 * prev["far"]:.1f}%, MAR {100 * prev["mar"]:.1f}%), both
decided from the training rows and the physics, not from test labels:

- **Empirical calibration of the smoothed statistics.** The F/Box χ² theory describes single,
  independent rows; the EWMA shrinks the variance of T² and Q and the autocorrelation of real
  rows inflates it, so a theoretical 0.99 is really some unknown quantile. Now each smoothed
  statistic is matched (mean and variance, floored at the independent-rows values) to a scaled
  χ² measured *out of sample* inside the training rows: the model is fitted on the first 100
  rows, refitted every 25, and each later training row is scored by the model fitted before it.
- **Temperatures scored by their first difference** (`differenced`: Temperature and
  Thermocouple). They drift by several training standard deviations during normal test rows
  (the rig warms up), which a model frozen on 400 s reads as a fault; their steps and changes
  of rate still count. The first training row has no difference, so the warm-up is 399 rows.

Neither change alone helps (table): with levels, the empirical calibration is *less*
conservative and flags the drift even more; with theory calibration, differencing removes the
drift alarms but the theoretical threshold, far too high for smoothed statistics, then misses
a third of the faults. Together they cut the false-alarm rate by more than half at a few points
of recall. An offline exploration (same statistics in a vectorised script, not through the
detector) agreed: dropping the temperatures instead of differencing them, or choosing the slow
signals by a training-rows rule (lag-1 autocorrelation above 0.8), gave F1 0.81–0.83 with the
empirical calibration, 0.74–0.77 with the theory; calibrating on the last 100 or 200 training
rows only (model on the rest) gave 0.81. A held-out 99th percentile *without* the moment match
on the levels stayed at 0.72–0.77. The variants below all run through the
detector; the sensitivity rows (half-life, explained variance, threshold) were run after the
choice, to show the figure does not hinge on them. The 30 s half-life falls back to the theory
calibration (too few effective samples of a 30 s average in 400 s) and behaves like it.
The anomaly-free column is the FAR on `anomaly-free.csv` (9,405 rows, same warm-up).

{table}

Reading the figures:

- Predicting *every* test row anomalous gives F1 = {results["_all"]["f1"]:.3f} here (53.7% of test
  rows are anomalous), so F1 differences of a few hundredths are small; FAR and MAR say more.
- Ours ({ours["f1"]:.3f}, FAR {100 * ours["far"]:.1f}%, MAR {100 * ours["mar"]:.1f}%) is above
  the published Conv-AE and MSET (0.78), with a FAR between theirs and a MAR near MSET's.
- Caveat on the calibration: 400 rows hold only about ten effective samples of a 10 s average,
  so the empirical threshold is noisy per warm-up; on synthetic stationary autocorrelated rows
  its false-alarm rate at 0.99 ranged from 0 to about 10% between seeds (the theory: ~0%). The
  detector's default therefore stays `calibration="theory"`; the empirical one is opt-in.
- Frozen, the model still flags almost all of the 2.6-hour anomaly-free recording: beyond the
  temperatures, vibration and flow also wander far beyond what 400 s of warm-up showed. The
  daemon-style configuration (`{_kw(ADAPTIVE)}`) keeps learning normal-looking rows with a
  ten-minute memory and anomalous-looking ones at a tenth of that rate, so it follows that
  drift (anomaly-free FAR {100 * adaptive:.1f}%) at the price of recall on SKAB's long faults,
  which it partly learns as they last. Whether slow drifts are faults depends on the equipment.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table (and JSON), write the docs section."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.skab", description=__doc__)
    ap.add_argument("--json", action="store_true", help="end with one JSON line of metrics")
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    ap.add_argument("--no-variants", action="store_true", help="run the chosen config only")
    args = ap.parse_args(argv)

    files = skab_files()
    free = skab_files(names=["anomaly-free/anomaly-free.csv"])
    runs = {OURS: (CONFIG, THRESHOLD)}
    if not args.no_variants:
        runs.update(VARIANTS)
    results, free_far = {}, {}
    for name, (kw, thr) in runs.items():
        results[name] = run(files, kw, thr)
        free_far[name] = run(free, kw, thr)["far"]
    table = _table(results, free_far)
    print(table)
    ours = results[OURS]
    if not args.no_doc:
        from benchmarks.report import write_section

        label = np.concatenate([f.label[TRAIN_ROWS:] for f in files])
        results["_all"] = metrics(Counts.of(np.ones_like(label), label))
        write_section("skab", _doc(table, results, free_far))
    if args.json:
        print(json.dumps({k: ours[k] for k in ("f1", "far", "mar", "files", "rows")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
