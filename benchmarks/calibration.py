"""Calibration of anomaly scores on healthy data: how often are 0.99 and 0.999 crossed?

Run ``python -m benchmarks.calibration [--json] [--no-doc] [--detector NAME]
[--data-dir DIR] [--streams 200] [--scored 10000] [--seed 0]``.

The default detector documents that a score of 0.99 is crossed by about one
healthy point in 10,000, whatever the signal. This benchmark measures the
fraction of healthy points scoring ≥ 0.99 and ≥ 0.999:

* on seeded synthetic stationary processes (:mod:`benchmarks.synthetic`),
  ``--streams`` streams per process with ``--scored`` points each after the
  warm-up, all streams of a process in one detector; goal ≤ 2×10⁻⁴ each;
* on real healthy stretches, goal ≤ 10⁻³: SMAP rows outside every labelled
  range, every column of SKAB's ``anomaly-free.csv``, and every column of each
  3W recording's normal lead-in (rows before the unlabelled gap and the transient).

Warm-up: the first ⌊0.15·n⌋ rows of each recording of n rows are not counted,
the probation of ``benchmarks.streaming``, so the real healthy rows counted here
are exactly the rows where that benchmark counts false alarms (per column here,
not their union). A 3W recording is scored up to its lead-in only, which gives
the same scores (scoring is causal) in a fraction of the time.

Scoring goes through :func:`benchmarks.baselines.score_series` (score-csv's core
for registry detectors), for the registry default, ``ensemble``, any
``--detector`` names and the EWMA z-score baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.baselines import EWMA_BASELINE, detectors_to_run, score_series
from benchmarks.corpora import (
    Recording,
    datasets_dir,
    lead_in,
    load_petrobras_3w,
    load_skab_anomaly_free,
    load_smap,
)
from benchmarks.nab_scoring import probation_rows
from benchmarks.synthetic import CADENCE_S, PROCESSES, timestamps
from htm_edge.models import registry

__all__ = [
    "GOAL_REAL",
    "GOAL_SYNTHETIC",
    "LEVELS",
    "HealthySet",
    "exceedance",
    "main",
    "real_sets",
    "rows_for",
    "run",
    "spread_table",
    "synthetic_sets",
    "table",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

LEVELS = (0.99, 0.999)
GOAL_SYNTHETIC = 2e-4
GOAL_REAL = 1e-3


@dataclass(frozen=True, slots=True)
class HealthySet:
    """Streams scored together, and per stream the rows counted as healthy."""

    name: str
    kind: str  # "synthetic" or "real"
    values: list[FloatArray]
    ts: list[FloatArray]
    counted: list[BoolArray]

    @property
    def points(self) -> int:
        """Healthy points counted."""
        return int(sum(int(c.sum()) for c in self.counted))


def rows_for(scored: int) -> int:
    """Smallest length whose rows after the 15% warm-up number at least ``scored``."""
    n = max(scored, int((scored - 1) / 0.85))  # n - ⌊0.15 n⌋ <= 0.85 n + 1: not below
    while n - probation_rows(n) < scored:
        n += 1
    return n


def _after_warmup(n: int, keep: int | None = None) -> BoolArray:
    m = np.zeros(keep if keep is not None else n, dtype=bool)
    m[probation_rows(n) :] = True
    return m


def synthetic_sets(seed: int, streams: int, scored: int) -> list[HealthySet]:
    """Each synthetic process: ``streams`` streams of ``rows_for(scored)`` rows, one seed."""
    n = rows_for(scored)
    ts = timestamps(n)
    out = []
    for k, (name, gen) in enumerate(PROCESSES.items()):
        x = gen(np.random.default_rng([seed, k]), streams, n)
        out.append(
            HealthySet(name, "synthetic", list(x), [ts] * streams, [_after_warmup(n)] * streams)
        )
    return out


def _columns(name: str, recs: Sequence[Recording], keep: Sequence[int]) -> HealthySet:
    """Every column of ``recs`` cut to its first ``keep`` rows, counted from the warm-up on."""
    vals, tss, counted = [], [], []
    for r, k in zip(recs, keep, strict=True):
        for c in r.columns:
            vals.append(c[:k])
            tss.append(r.ts[:k])
            counted.append(_after_warmup(r.rows, k))
    return HealthySet(name, "real", vals, tss, counted)


def real_sets(root: Path) -> list[HealthySet]:
    """SMAP outside its labelled ranges, SKAB anomaly-free, 3W normal lead-ins."""
    smap = load_smap(root / "smap")
    s = _columns("smap (outside labelled ranges)", smap, [r.rows for r in smap])
    for r, m in zip(smap, s.counted, strict=True):
        for a, b in r.windows:
            m[a : b + 1] = False
    free = load_skab_anomaly_free(root / "skab")
    w3 = load_petrobras_3w(root / "petrobras_3w")
    return [
        s,
        _columns("skab anomaly-free", free, [r.rows for r in free]),
        _columns("petrobras_3w lead-ins", w3, [lead_in(r) for r in w3]),
    ]


def exceedance(scores: Sequence[FloatArray], counted: Sequence[BoolArray]) -> dict[str, Any]:
    """Counted points, the count and fraction of them at or above each level, pooled,
    and the median and largest fraction ≥ 0.99 of one stream (a few streams stuck in
    alarm can dominate a pooled fraction)."""
    parts = [s[c] for s, c in zip(scores, counted, strict=True)]
    pooled = np.concatenate(parts)
    out: dict[str, Any] = {"points": len(pooled)}
    for lv in LEVELS:
        k = int(np.sum(pooled >= lv))
        out[f">={lv}"] = {"count": k, "fraction": k / len(pooled) if len(pooled) else None}
    per = [float(np.mean(p >= LEVELS[0])) for p in parts if len(p)]
    out["stream_fraction_>=0.99"] = {
        "streams": len(per),
        "median": float(np.median(per)) if per else None,
        "max": max(per) if per else None,
    }
    return out


def run(detectors: Sequence[str], sets: Sequence[HealthySet], log: bool = True) -> dict[str, Any]:
    """Exceedance fractions keyed detector -> set name; each set is one detector per run."""
    results: dict[str, Any] = {}
    for det in detectors:
        results[det] = {}
        for hs in sets:
            t0 = time.perf_counter()
            sc = score_series(det, hs.values, hs.ts)
            results[det][hs.name] = {
                **exceedance(sc, hs.counted),
                "kind": hs.kind,
                "seconds": round(time.perf_counter() - t0, 1),
            }
            if log:
                dt = results[det][hs.name]["seconds"]
                print(f"{det} {hs.name}: {dt} s", file=sys.stderr, flush=True)
    return results


def _fr(r: dict[str, Any], lv: float, goal: float) -> str:
    f = r[f">={lv}"]["fraction"]
    if f is None:
        return "–"
    mark = " ✓" if lv == LEVELS[0] and f <= goal else ""
    return f"{f:.1e}{mark}" if f else "0"


def table(results: dict[str, Any], sets: Sequence[HealthySet]) -> str:
    """Markdown: one row per healthy set, the fractions ≥ 0.99 / ≥ 0.999 per detector."""
    dets = list(results)
    head = " | ".join(
        f"`{d}`{' (default)' if d == registry.DEFAULT_DETECTOR else ''} ≥0.99 / ≥0.999"
        for d in dets
    )
    lines = [
        f"| healthy data | points | goal at 0.99 | {head} |",
        "|---|---|---|" + "---|" * len(dets),
    ]
    for hs in sets:
        goal = GOAL_SYNTHETIC if hs.kind == "synthetic" else GOAL_REAL
        rs = [results[d][hs.name] for d in dets]
        cells = " | ".join(f"{_fr(r, LEVELS[0], goal)} / {_fr(r, LEVELS[1], goal)}" for r in rs)
        lines.append(f"| {hs.name} | {hs.points:,} | ≤ {goal:.0e} | {cells} |")
    return "\n".join(lines)


def _e(x: float | None) -> str:
    return "–" if x is None else ("0" if x == 0 else f"{x:.1e}")


def spread_table(results: dict[str, Any], sets: Sequence[HealthySet]) -> str:
    """Markdown: per healthy set, the median and worst stream's fraction ≥ 0.99 per detector."""
    dets = list(results)
    head = " | ".join(f"`{d}` median / worst stream" for d in dets)
    lines = [f"| healthy data | streams | {head} |", "|---|---|" + "---|" * len(dets)]
    for hs in sets:
        rs = [results[d][hs.name]["stream_fraction_>=0.99"] for d in dets]
        cells = " | ".join(f"{_e(r['median'])} / {_e(r['max'])}" for r in rs)
        lines.append(f"| {hs.name} | {rs[0]['streams']} | {cells} |")
    return "\n".join(lines)


def doc(md: str, spread: str, streams: int, scored: int, seed: int, seconds: float) -> str:
    """The ``calibration`` section of docs/benchmarks.md."""
    same = " (the same detector in this run)" if registry.DEFAULT_DETECTOR == "ensemble" else ""
    return f"""## Score calibration on healthy data

Command: `python -m benchmarks.calibration` (`--json` ends with one JSON line), {seconds:.0f} s
on the shared 2-core machine. Fraction of healthy points whose score is ≥ 0.99 and ≥ 0.999,
for the registry default (`{registry.DEFAULT_DETECTOR}` at run time), the previous default
`ensemble`{same} and the EWMA z-score baseline (`{EWMA_BASELINE}`: α = 0.01 mean and variance,
`erf(|z|/√2)`). The detectors' docs claim 0.99 is crossed by about one healthy point in
10,000. Goals: ≤ 2×10⁻⁴ on each synthetic process, ≤ 10⁻³ on the real healthy stretches
(✓ marks a 0.99 fraction within its goal).

Protocol. Scored through `htm_edge.models.offline.score_streams` (score-csv's core: one
stream per series, one `process_many` per row index, score before learn), default
parameters. Warm-up: the first ⌊0.15·n⌋ rows of each n-row recording are not counted (the
probation of the streaming benchmark).

- Synthetic (`benchmarks/synthetic.py`, seed {seed}): {streams} streams × {scored:,} counted
  points per process ({rows_for(scored):,} rows per stream, one a minute), all streams of
  a process in one detector: Gaussian; Student-t, 3 dof; zero-inflated bursts (0 with
  probability 0.97, else exp(N(10, 2))); Gaussian rounded to 0.5σ; AR(1), φ = 0.95;
  two levels 6σ apart with Markov switching (mean dwell 300 rows) and N(0, 1) noise;
  a daily sinusoid of amplitude 2σ plus N(0, 1) noise ({CADENCE_S:.0f} s rows, 1,440 a day).
- Real: SMAP rows outside every labelled range (rows after an anomaly included: real
  detectors must recover); every column of SKAB `anomaly-free.csv`; every column of each
  3W recording's normal lead-in (rows before the unlabelled gap and the transient; a
  recording whose lead-in is shorter than its warm-up contributes nothing). These are
  exactly the rows where `benchmarks.streaming` counts false alarms, here per column.

{md}

The same fraction ≥ 0.99 per stream (one synthetic stream, or one column of one file; only
streams with counted rows): a pooled fraction far above the median stream's means a few
streams stay in alarm.

{spread}
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table (and JSON), write the docs section."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.calibration", description=__doc__)
    ap.add_argument("--json", action="store_true", help="end with one JSON line of figures")
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    ap.add_argument("--detector", action="append", default=[], help="also score NAME")
    ap.add_argument("--data-dir", help="folder holding smap/, petrobras_3w/, skab/")
    ap.add_argument("--streams", type=int, default=200, help="streams per synthetic process")
    ap.add_argument("--scored", type=int, default=10_000, help="counted points per stream")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--synthetic-only", action="store_true", help="skip the real data")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    sets = synthetic_sets(args.seed, args.streams, args.scored)
    if not args.synthetic_only:
        sets += real_sets(datasets_dir(args.data_dir))
    results = run(detectors_to_run(args.detector), sets)
    seconds = round(time.perf_counter() - t0, 1)
    md, spread = table(results, sets), spread_table(results, sets)
    print(md + "\n\n" + spread)
    full = not args.synthetic_only and (args.streams, args.scored) == (200, 10_000)
    if not args.no_doc and full:
        from benchmarks.report import write_section

        write_section("calibration", doc(md, spread, args.streams, args.scored, args.seed, seconds))
    if args.json:
        goals = {hs.name: GOAL_SYNTHETIC if hs.kind == "synthetic" else GOAL_REAL for hs in sets}
        print(
            json.dumps(
                {
                    "benchmark": "calibration",
                    "default_detector": registry.DEFAULT_DETECTOR,
                    "goals_at_0.99": goals,
                    "results": results,
                    "seconds": seconds,
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
