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
``THRESHOLD``, a fixed probability whose meaning (the statistic is beyond that
quantile of its out-of-sample distribution on the training rows) comes from the
training part only. One configuration serves all files.
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

from models.detectors.multivariate import MultivariateDetector

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
#: the one configuration reported as "ours": frozen after the 400 training rows
CONFIG: dict[str, Any] = {"explained_variance": 0.9, "shrinkage": 0.05, "halflife": 10.0}
#: the daemon-style configuration: keeps adapting (10 min memory) on normal-looking rows
ADAPTIVE: dict[str, Any] = {**CONFIG, "refit_every": 60, "forget": 1 / 600, "anomalous_rate": 0.1}
#: alternatives tried, reported beside it (name -> (constructor kwargs, threshold))
VARIANTS: dict[str, tuple[dict[str, Any], float]] = {
    "T²+Q, no smoothing": ({**CONFIG, "halflife": 0.0}, THRESHOLD),
    "T²+Q, halflife 30 s": ({**CONFIG, "halflife": 30.0}, THRESHOLD),
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
    if len(cols) != FEATURES or vals.shape[1] < FEATURES:
        raise ValueError(f"{path}: expected {FEATURES} signal columns, got {cols}")
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
    det = MultivariateDetector(len(files), n_features=FEATURES, warmup=TRAIN_ROWS, **kwargs)
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
    raw = results.get("T²+Q, no smoothing", ours)["f1"]
    adaptive = free_far.get("T²+Q, adaptive (daemon-style)", float("nan"))
    return f"""## SKAB (multivariate detector)

Command: `python -m benchmarks.skab` (add `--json` for a machine-readable last line).
Data: SKAB v0.9 from the shared datasets folder (GPL-3.0, not copied into the repo).

Protocol, as upstream: in each of the 34 labelled files the first {TRAIN_ROWS} rows train and the
rest test; TP/FP/FN/TN are pooled over all {ours["rows"]:,} test rows (ours: TP {c.tp}, FP {c.fp},
FN {c.fn}, TN {c.tn}); F1 = TP/(TP+(FP+FN)/2), FAR = FP/(FP+TN), MAR = FN/(FN+TP).
Each file is one stream of `MultivariateDetector` (all 34 run side by side as a fleet): it learns
its 400 training rows as warm-up, then scores every test row causally, before learning it.

Threshold rule (no test labels used): a row is anomalous when its score reaches
**{THRESHOLD}**. The score is a tail probability under the Gaussian model fitted on the training
rows (T² through its F distribution, Q through Box's g·χ²_h, combined as max(p_T, p_Q)², i.e.
"beyond the 99th percentile of normal"), so the threshold is fixed a priori, not fitted.
One configuration for all files: `{_kw(CONFIG)}` (PCA keeping 90% of the standardised variance,
correlation shrunk 5% to identity, EWMA of T² and Q with a 10 s half-life), model frozen after
the training rows, as the published baselines (fitted once on the training part).
The values are conventional ones; an exploration over explained variance 0.8–0.95, shrinkage
0–0.1, half-life 5–20 s and max vs max² combination kept T²+Q between F1 0.76 and 0.78, so
the figure does not hinge on them. In that exploration T² on the kept components alone (no Q)
reached up to 0.79, but it is blind by construction to correlation breaks, the reason this
detector exists, so it was not adopted. All variants run through the detector are below.
The anomaly-free column is the FAR on `anomaly-free.csv` (9,405 rows, same 400-row warm-up).

{table}

Reading the figures:

- Predicting *every* test row anomalous gives F1 = {results["_all"]["f1"]:.3f} here (53.7% of test
  rows are anomalous), so F1 differences of a few hundredths are small; FAR and MAR say more.
- Ours ({ours["f1"]:.3f}) is level with the published T²+Q (PCA) and below Conv-AE/MSET (0.78),
  with more false alarms and fewer misses. Most false alarms come from slow drift of the
  temperatures during the normal test rows (the thermocouple drifts by several training
  standard deviations within ten minutes), which a model frozen on 400 s of data reads as
  abnormal. Smoothing helps a little ({raw:.3f} without it).
- T² on all components (no separate Q) scores about the same on SKAB; it also sees correlation
  breaks, but only through the shrunk smallest eigenvalues. We keep Q, which tests the residual
  off the normal correlation structure on its own calibrated scale.
- Frozen, the model flags almost all of the 2.6-hour anomaly-free recording: the rig warms up
  far beyond what 400 s of warm-up showed. The daemon-style configuration
  (`{_kw(ADAPTIVE)}`) keeps learning normal-looking rows with a ten-minute memory and
  anomalous-looking ones at a tenth of that rate, so it follows the warm-up drift (anomaly-free
  FAR {100 * adaptive:.1f}%) at the price of recall on SKAB's long faults, which it partly learns
  as they last. Whether slow drifts are faults depends on the equipment: a deployment choice.
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
