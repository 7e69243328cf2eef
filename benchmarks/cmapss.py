"""NASA C-MAPSS remaining-useful-life benchmark: train on train_FD00x, predict each test unit.

``python -m benchmarks.cmapss --subset FD001 --predictions OUT.csv`` trains
:class:`htm_edge.models.prognostics.rul.RunToFailureRegressor` on
``train_FD001``, predicts the RUL at the last cycle of every test unit,
writes ``unit,rul_pred`` to OUT.csv and prints RMSE and the PHM08 score
against ``RUL_FD001`` (uncapped truth). Before touching the test set it
reports a 5-fold validation *by unit* on the training set (each validation
unit cut at random cycles, as the test units are), which is what the design
was chosen on; the test set and its RUL file are only scored.
``--all`` runs FD001-FD004 and writes the section ``cmapss`` of
``docs/benchmarks.md``. Data: ``../shared/datasets/cmapss`` (``--data-dir``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from benchmarks.report import write_section
from htm_edge.models.prognostics.rul import RunToFailureRegressor, phm08_score
from htm_edge.models.prognostics.runs import Runs, load_runs, load_truth

__all__ = ["main", "run_subset", "validate_by_unit"]

PUBLISHED = (
    ("Random forest (Zhang et al. 2017 comparison)", "FD001", 17.9, None),
    ("CNN, Babu et al. 2016", "FD001", 18.45, 1287),
    ("LSTM, Zheng et al. 2017", "FD001", 16.14, 338),
    ("DCNN, Li et al. 2018", "FD001", 12.61, 274),
    ("DAST (transformer), Zhang et al. 2022", "FD001", 11.43, 203),
    ("STAR (transformer), 2024", "FD001", 10.61, 169),
)

# FD001 design variants: validation by unit (RMSE, score per 100 units) on the folds and cuts
# of validate_by_unit (seed 0), each the final design with one change; test figures only for
# the designs that were kept (the test set was scored once per kept design, never to choose).
VARIANTS: tuple[tuple[str, float, float, str], ...] = (
    (
        "before: slopes over 10, 20, 40 cycles (main before this change)",
        12.06,
        228.3,
        "12.2 / 211.2",
    ),
    ("slopes over 10, 20, 40, 80", 11.87, 243.7, "-"),
    ("slopes over 10, 20, 40, 160", 11.50, 223.7, "-"),
    ("slopes over 10, 20, 40, 200", 11.35, 216.7, "-"),
    ("slopes over 10, 20, 40, whole history", 11.49, 222.8, "-"),
    ("**kept: slopes over 20, 40, 200**", 11.29, 209.5, "see FD001 above"),
    ("cap 120 instead of 125 (better score, worse RMSE)", 11.70, 201.5, "-"),
    ("cap 130 instead of 125 (RMSE 0.03 better, score much worse)", 11.26, 240.5, "-"),
    ("+ a second boosting model, 31 leaves, averaged", 11.29, 207.7, "-"),
    ("min_samples_leaf 80", 11.43, 218.0, "-"),
    ("learning rate 0.025, 800 iterations", 11.41, 220.3, "-"),
    (
        "before the long slope: similarity-based RUL alone (health-index trajectories)",
        16.36,
        468.6,
        "-",
    ),
    ("before the long slope: boosting + 20 % similarity-based RUL", 12.32, 241.5, "-"),
    ("before the long slope: Nystroem kernel ridge alone", 14.56, 329.0, "-"),
    ("before the long slope: + 30 % extremely randomised trees", 12.30, 236.7, "-"),
    ("before the long slope: smoothing the last prediction over 5 cycles", 12.30, 243.1, "-"),
    ("before the long slope: sample weights towards low RUL", 12.07, 230.2, "-"),
    ("before the long slope: means over 60 and 120 cycles too", 12.15, 247.8, "-"),
)


def _default_dir() -> Path:
    shared = os.environ.get("HTM_SHARED_DIR")
    if shared:
        return Path(shared) / "datasets" / "cmapss"
    return Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "cmapss"


def _subset(runs: Runs, units: np.ndarray, cut: dict[int, int] | None = None) -> Runs:
    m = np.isin(runs.unit, units)
    if cut is not None:
        m &= runs.cycle <= np.array([cut.get(int(u), 10**9) for u in runs.unit])
    return Runs(runs.unit[m], runs.cycle[m], runs.settings[m], runs.sensors[m])


def _cuts(
    runs: Runs, units: np.ndarray, rng: np.random.Generator, max_rul: int, min_len: int
) -> tuple[dict[int, int], np.ndarray]:
    """Cut each unit once, true RUL uniform in 5..``max_rul`` with at least ``min_len`` cycles."""
    cut, true = {}, []
    for u in units:
        n = int(runs.cycle[runs.unit == u].max())
        c = int(rng.integers(max(min_len, n - max_rul), max(min_len + 1, n - 5)))
        cut[int(u)] = c
        true.append(n - c)
    return cut, np.array(true, dtype=float)


def validate_by_unit(runs: Runs, folds: int = 5, cuts: int = 4, seed: int = 0) -> dict[str, float]:
    """K-fold by unit; validation units cut ``cuts`` times, scored at the cut.

    Two cutting schemes share the folds' models. The main one (``cv_rmse``)
    leaves a true RUL of 5-150 after at least 31 cycles, the range the
    FD001/FD003 test units cover. The wide one (``cv_rmse_wide``) leaves up to
    200 after at least 15 cycles: FD002/FD004 test units are stopped that
    early too (14-17 % of them have more than 150 cycles left), where a model
    trained on ``min(RUL, 125)`` is 50-70 cycles short; without it the
    validation by unit never saw the cases that dominate their test RMSE.
    """
    rng = np.random.default_rng(seed)
    units = runs.units
    fold = rng.permutation(units.size) % folds
    got: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {"": ([], []), "_wide": ([], [])}
    for k in range(folds):
        model = RunToFailureRegressor(seed=seed).fit(_subset(runs, units[fold != k]))
        for _ in range(cuts):
            for key, max_rul, min_len in (("", 150, 31), ("_wide", 200, 15)):
                cut, true = _cuts(runs, units[fold == k], rng, max_rul, min_len)
                got[key][0].append(model.predict_last(_subset(runs, units[fold == k], cut)))
                got[key][1].append(true)
    out: dict[str, float] = {}
    for key, (preds, trues) in got.items():
        p, t = np.concatenate(preds), np.concatenate(trues)
        out[f"cv_rmse{key}"] = round(float(np.sqrt(np.mean((p - t) ** 2))), 2)
        out[f"cv_score_per_100_units{key}"] = round(phm08_score(p, t) / t.size * 100.0, 1)
    out["cv_points"] = int(t.size)
    return out


def run_subset(
    subset: str, data_dir: Path, predictions: Path | None, validate: bool = True
) -> dict[str, float | str]:
    """Train, (validate by unit,) predict the test units, score; return the figures."""
    began = time.perf_counter()
    train = load_runs(data_dir, f"train_{subset}")
    test = load_runs(data_dir, f"test_{subset}")
    truth = load_truth(data_dir, subset)
    out: dict[str, float | str] = {"subset": subset}
    if validate:
        out.update(validate_by_unit(train))
    model = RunToFailureRegressor().fit(train)
    pred = model.predict_last(test)
    if pred.size != truth.size:
        raise SystemExit(f"{subset}: {pred.size} test units but {truth.size} RUL values")
    if predictions is not None:
        lines = ["unit,rul_pred"] + [
            f"{int(u)},{p:.2f}" for u, p in zip(test.units, pred, strict=True)
        ]
        predictions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    d = pred - truth
    out.update(
        {
            "rmse": round(float(np.sqrt(np.mean(d**2))), 2),
            "score": round(phm08_score(pred, truth), 1),
            "test_units": int(truth.size),
            "elapsed_s": round(time.perf_counter() - began, 1),
        }
    )
    return out


def _markdown(rows: list[dict[str, float | str]]) -> str:
    lines = [
        "## NASA C-MAPSS remaining useful life (`python -m benchmarks.cmapss`)",
        "",
        "`python -m benchmarks.cmapss --all` (one subset: `--subset FD001 --predictions OUT.csv`) "
        "on this 2-core machine (shared, so run with `OMP_NUM_THREADS=1`: two boosting threads "
        "against other jobs were several times slower). Model: `RunToFailureRegressor` "
        "(`models/prognostics/rul.py`): regimes by k-means on the settings, sensors standardised "
        "per regime, a ridge health index, causal window features (smoothed values, window "
        "means, slopes over 20, 40 and 200 cycles, deviation from the unit's own first 20 "
        "cycles), histogram gradient "
        "boosting, target capped at 125; numpy, scipy and scikit-learn only. "
        "Test truth uncapped. The design was chosen on the 5-fold validation by unit of the "
        "training set (validation units cut at random cycles with true RUL 5-150, four cuts "
        "each); the test files were only scored. The second CV column cuts units as early as "
        "cycle 15 with up to 200 cycles left: the FD002/FD004 test files hold such units "
        "(14-17 % with more than 150 left; FD001/FD003 none above 145), which a model "
        "trained on the capped target cannot reach; that, not a difference between the "
        "validation and test code paths, is why their test RMSE is about twice the first "
        "CV column.",
        "",
        "| subset | RMSE | PHM08 score | CV RMSE (train, by unit) | CV score / 100 units "
        "| CV RMSE, true RUL up to 200 | time |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['subset']} | **{r['rmse']}** | **{r['score']}** | {r.get('cv_rmse', '-')} | "
            f"{r.get('cv_score_per_100_units', '-')} | {r.get('cv_rmse_wide', '-')} | "
            f"{r['elapsed_s']} s |"
        )
    lines += [
        "",
        "FD001 design variants, each the kept design with one change (or the design before "
        "the 200-cycle slope where said), on the same validation folds and cuts; the test "
        "files were scored only for the designs kept. RMSE / score per 100 units:",
        "",
        "| variant | CV RMSE | CV score / 100 units | test RMSE / score |",
        "|---|---|---|---|",
    ]
    for name, cv_rmse, cv_score, test in VARIANTS:
        lines.append(f"| {name} | {cv_rmse} | {cv_score} | {test} |")
    lines += [
        "",
        "Before the 200-cycle slope (slopes over 10, 20, 40; same command) the other subsets "
        "had test RMSE / score FD002 22.47 / 3390, FD003 11.72 / 223, FD004 23.58 / 3140 and "
        "validation RMSE 12.05, 12.96, 15.27: validation improved on all four, test on all but "
        "FD003's score (RMSE level, score higher).",
    ]
    lines += ["", "Published results on FD001 (as reported by the papers):", "",
              "| model | RMSE | score |", "|---|---|---|"]  # fmt: skip
    for name, _sub, rmse, score in PUBLISHED:
        lines.append(f"| {name} | {rmse} | {score if score is not None else '-'} |")
    lines += [
        "",
        "Baselines from the dataset README (FD001): random forest on last-cycle values 18.2 / "
        "949; on 30-cycle window statistics 13.2 / 230. Goal for FD001: RMSE <= 11.4 and "
        "score <= 210.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subset", default="FD001")
    ap.add_argument("--all", action="store_true", help="FD001-FD004, then write docs/benchmarks.md")
    ap.add_argument("--predictions", type=Path, default=None, help="write unit,rul_pred here")
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--no-validate", action="store_true", help="skip the validation by unit")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    data = args.data_dir or _default_dir()
    subsets = ["FD001", "FD002", "FD003", "FD004"] if args.all else [args.subset]
    rows = []
    for s in subsets:
        pred_path = args.predictions if not args.all else None
        if args.all and args.predictions is not None:
            pred_path = args.predictions.with_name(f"{args.predictions.stem}_{s}.csv")
        r = run_subset(s, data, pred_path, validate=not args.no_validate)
        rows.append(r)
        print(
            f"{s}: RMSE {r['rmse']}, PHM08 score {r['score']} ({r['test_units']} test units; "
            f"validation by unit: RMSE {r.get('cv_rmse', '-')}, up to RUL 200: "
            f"{r.get('cv_rmse_wide', '-')}), {r['elapsed_s']} s",
            flush=True,
        )
    if args.all:
        write_section("cmapss", _markdown(rows))
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
