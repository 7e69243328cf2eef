"""Where the default detector's healthy exceedances on the 3W lead-ins come from.

Run ``python -m benchmarks.held_values [--data-dir DIR] [--detector NAME] [--top 10]``.

Scores every column of each Petrobras 3W recording's normal lead-in, as
``benchmarks.calibration`` does (same rows counted: after the 15 % probation,
before the unlabelled gap), and splits the points scoring ≥ 0.99 by where they
fall: within ``--after`` (2,000) rows after a *held run* (the value repeated
exactly for at least ``--held`` (300) rows) ended, or elsewhere; and lists the
columns that contribute most. It also reports the share of counted rows that
repeat the previous value exactly. A diagnostic: it writes nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from benchmarks.baselines import score_series
from benchmarks.corpora import datasets_dir, lead_in, load_petrobras_3w
from benchmarks.nab_scoring import probation_rows
from htm_edge.models import registry

__all__ = ["main", "rows_since_held"]

FloatArray = npt.NDArray[np.float64]


def rows_since_held(x: FloatArray, held: int) -> FloatArray:
    """Per row, rows since the end of the last run of at least ``held`` exact repeats
    (``inf`` before the first such run has ended)."""
    since = np.full(len(x), np.inf)
    run, last = 0, -np.inf
    for j in range(1, len(x)):
        if x[j] == x[j - 1]:
            run += 1
        else:
            if run >= held:
                last = float(j)
            run = 0
        since[j] = j - last
    return since


def main(argv: Sequence[str] | None = None) -> int:
    """Print the split of the lead-ins' exceedances and the top columns."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.held_values", description=__doc__)
    ap.add_argument("--data-dir", help="folder holding petrobras_3w/")
    ap.add_argument("--detector", default=registry.DEFAULT_DETECTOR)
    ap.add_argument("--held", type=int, default=300, help="rows of exact repeats of a held run")
    ap.add_argument("--after", type=int, default=2000, help="rows after a held run ended")
    ap.add_argument("--top", type=int, default=10, help="columns listed")
    args = ap.parse_args(argv)

    recs = load_petrobras_3w(datasets_dir(args.data_dir) / "petrobras_3w")
    vals, tss, names, counted = [], [], [], []
    for r in recs:
        k = lead_in(r)
        for c, cn in zip(r.columns, r.column_names, strict=True):
            vals.append(c[:k])
            tss.append(r.ts[:k])
            names.append(f"{r.name}:{cn}")
            m = np.zeros(k, dtype=bool)
            m[probation_rows(r.rows) :] = True
            counted.append(m)
    scores = score_series(args.detector, vals, tss)
    total = repeats = after = ex_all = 0
    per: list[tuple[int, str]] = []
    for x, s, m, nm in zip(vals, scores, counted, names, strict=True):
        ex = m & (s >= 0.99)
        total += int(m.sum())
        repeats += int((m[1:] & (np.diff(x) == 0)).sum())
        ex_all += int(ex.sum())
        after += int((ex & (rows_since_held(x, args.held) <= args.after)).sum())
        if ex.any():
            per.append((int(ex.sum()), nm))
    print(f"{args.detector}: {ex_all} of {total} counted points >= 0.99 ({ex_all / total:.1e})")
    print(f"counted rows repeating the previous value exactly: {repeats / total:.1%}")
    print(
        f"exceedances within {args.after} rows after a held run of >= {args.held} rows: "
        f"{after} ({after / max(ex_all, 1):.0%}); columns with any: {len(per)}"
    )
    for k, nm in sorted(per, reverse=True)[: args.top]:
        print(f"  {k:6d}  {nm}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
