"""Failure prediction over a simulated hospital fleet: feeding, training, the alert rule, grading.

* :func:`feed_chunk`: a rendered chunk of the fleet engine into
  :class:`~htm_edge.models.prognostics.Prognostics` as arrays (no reading
  objects: this is the fast path for training; the evaluation feeds the very
  readings the scoring pipeline gets);
* :func:`truth_labels`: the simulator's ground truth as the plain courses and
  downtime spans the models' training takes;
* :func:`collect_features` / :func:`train_on_fleet`: run a fleet (or a part of
  its devices: every device has its own generators, so a part is the same
  devices as in the whole) with feature recording, then fit a fleet model;
* :class:`PredictionAlerts`: the reference rule that turns predictions into
  alerts (open when the probability stays at or above the model's alert
  probability for two evaluations; clear after a day below half of it), the
  rule the daemon's ``prediction`` rule (``alerting/rules/prediction.py``)
  reproduces; :func:`htm_edge.gateway.fleet_eval.grade` grades them.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from htm_edge.config import catalog
from htm_edge.config.inventory import Device
from htm_edge.gateway.compose import build_prognostics
from htm_edge.gateway.fleet_eval import OpenedAlert, grade
from htm_edge.gateway.hospital_fleet import build_engine
from htm_edge.models.prognostics import FeatureBatch, FleetModel, Prognostics, PrognosticsConfig
from htm_edge.models.prognostics.batch import group_keys
from htm_edge.models.prognostics.training import (
    Course,
    Downtime,
    Table,
    fit_fleet_model,
    label_table,
    learn_thresholds,
    plan_groups,
)
from htm_edge.models.types import Prediction
from htm_edge.simulators.clock import seeded_start
from htm_edge.simulators.hospital.engine import Chunk, FleetEngine
from htm_edge.simulators.hospital.inventory import generate_inventory
from htm_edge.simulators.hospital.life import DAY_S
from htm_edge.simulators.hospital.overlay import SENTINELS
from htm_edge.simulators.hospital.records import Course as SimCourse
from htm_edge.simulators.hospital.records import Record, ServiceRecord

__all__ = [
    "FleetFeatures",
    "PredictionAlerts",
    "choose_alert_probability",
    "collect_features",
    "feed_chunk",
    "train_on_fleet",
    "truth_labels",
]

IntArray = npt.NDArray[np.int64]
_LOOKAHEAD_DAYS = 46


def feed_chunk(
    prog: Prognostics,
    chunk: Chunk,
    cache: dict[tuple[str, ...], IntArray],
    rounds_per_batch: int = 10,
) -> list[Prediction]:
    """Feed one chunk (silent devices, sentinel codes left out), ``rounds_per_batch`` at a time."""
    parts_s, parts_t, parts_v = [], [], []
    for g in chunk.groups:
        names = [s.name for s in catalog.signals_of(g.modality)]
        key = (g.modality.value, *g.device_ids)
        if key not in cache:
            ids = [i for i in g.device_ids for _ in names]
            sig = [s for _ in g.device_ids for s in names]
            cache[key] = prog.slots_for(ids, sig).reshape(len(g.device_ids), len(names))
        vals = np.stack([g.values[n] for n in names], axis=2)
        vals = np.where(g.silent[:, :, None] | np.isin(vals, SENTINELS), np.nan, vals)
        parts_s.append(np.broadcast_to(cache[key][None], vals.shape).reshape(-1))
        parts_t.append(np.broadcast_to(chunk.ts[:, None, None], vals.shape).reshape(-1))
        parts_v.append(vals.reshape(-1))
    s, t, v = np.concatenate(parts_s), np.concatenate(parts_t), np.concatenate(parts_v)
    order = np.argsort(t, kind="stable")
    s, t, v = s[order], t[order], v[order]
    out: list[Prediction] = []
    cuts = np.searchsorted(t, chunk.ts[::rounds_per_batch])
    cuts = np.append(cuts, t.size)
    for a, b in itertools.pairwise(cuts):
        out.extend(prog.update_slots(s[a:b], t[a:b], v[a:b]))
    return out


def truth_labels(records: Sequence[Record]) -> tuple[list[Course], list[Downtime]]:
    """The ground truth as training labels: degradations, and service spans."""
    courses = [
        Course(r.device_id, r.failure_mode, r.onset_ts, r.failure_ts, r.end_ts,
               r.precursor is not None, r.outcome == "failed")
        for r in records
        if isinstance(r, SimCourse)
    ]  # fmt: skip
    downtime = [
        Downtime(r.device_id, r.start_ts, r.end_ts) for r in records if isinstance(r, ServiceRecord)
    ]
    return courses, downtime


@dataclass
class FleetFeatures:
    """Recorded evaluations of (part of) a fleet, with its ground truth and inventory."""

    batches: list[FeatureBatch]
    courses: list[Course]
    downtime: list[Downtime]
    devices: list[Device]
    device_days: float
    start_ts: float
    end_ts: float
    elapsed_s: float = 0.0


def collect_features(
    n_devices: int,
    seed: int,
    days: int,
    *,
    config: PrognosticsConfig | None = None,
    part: tuple[int, int] = (0, 1),
    period_s: float = 60.0,
) -> FleetFeatures:
    """Run ``days`` of the fleet of ``seed`` (devices ``part[0]::part[1]``), recording features."""
    began = time.perf_counter()
    cfg = config or PrognosticsConfig()
    start = seeded_start(seed, time.time(), days * DAY_S)
    devices, use = generate_inventory(n_devices, seed)
    pick = list(range(part[0], n_devices, part[1]))
    mine = [devices[i] for i in pick]
    engine = FleetEngine(mine, seed, period_s, start, use_scales=[use[i] for i in pick])
    by_id = {d.device_id: d for d in mine}
    prog = build_prognostics(cfg, by_id.__getitem__)
    prog.record = True
    cache: dict[tuple[str, ...], IntArray] = {}
    per_day = engine.steps_per_day // engine.chunk_steps
    for _ in range(days * per_day):
        feed_chunk(prog, engine.next_chunk(), cache)
    engine.plan_days(days + _LOOKAHEAD_DAYS)
    courses, downtime = truth_labels(engine.ground_truth())
    return FleetFeatures(
        prog.recorded, courses, downtime, mine, len(mine) * days, start, start + days * DAY_S,
        time.perf_counter() - began,
    )  # fmt: skip


def merge(parts: Sequence[FleetFeatures]) -> FleetFeatures:
    """One fleet's features from its parts (batches re-ordered by time)."""
    batches = sorted((b for p in parts for b in p.batches), key=lambda b: b.ts)
    return FleetFeatures(
        batches,
        [c for p in parts for c in p.courses],
        [d for p in parts for d in p.downtime],
        [d for p in parts for d in p.devices],
        sum(p.device_days for p in parts),
        min(p.start_ts for p in parts),
        max(p.end_ts for p in parts),
        sum(p.elapsed_s for p in parts),
    )


# ---------------------------------------------------------------------- the alert rule
@dataclass
class PredictionAlerts:
    """Reference rule: predictions to opened alerts, one open alert per device and mode.

    Opens when ``probability >= open_at`` for ``confirm`` evaluations in a
    row; an open alert clears after ``clear_s`` with every probability below
    ``open_at / 2``; a later rise opens a new alert.
    """

    open_at: float
    confirm: int = 2
    clear_s: float = DAY_S
    opened: list[OpenedAlert] = field(default_factory=list)
    _run: dict[tuple[str, str], int] = field(default_factory=dict)
    _open: dict[tuple[str, str], float] = field(default_factory=dict)

    def __call__(self, predictions: Sequence[Prediction]) -> None:
        """Take one evaluation's predictions (any order)."""
        for p in predictions:
            key = (p.device_id, p.failure_mode)
            if key in self._open:
                if p.probability >= self.open_at / 2:
                    self._open[key] = p.ts
                elif p.ts - self._open[key] >= self.clear_s:
                    del self._open[key]
                continue
            if p.probability >= self.open_at:
                run = self._run.get(key, 0) + 1
                self._run[key] = run
                if run >= self.confirm:
                    self.opened.append(OpenedAlert(p.device_id, p.failure_mode, p.ts))
                    self._open[key] = p.ts
                    self._run[key] = 0
            else:
                self._run[key] = 0


def _rule_on_table(
    table: Table, p: npt.NDArray[np.float64], open_at: float, step_s: float = 3600.0
) -> list[OpenedAlert]:
    """:class:`PredictionAlerts` on a table's rows, looking only at rows of at least half the
    alert probability (fast; two rows count as consecutive evaluations within 1.5 steps)."""
    rule = PredictionAlerts(open_at)
    high = np.flatnonzero(p >= open_at / 2.0)
    series: dict[tuple[str, str], list[int]] = {}
    for i in high[np.argsort(table.ts[high], kind="stable")]:
        series.setdefault((table.device_ids[i], table.failure_modes[i]), []).append(int(i))
    opened: list[OpenedAlert] = []
    for (dev, mode), rows in series.items():
        is_open, last_high, prev_t, prev_up = False, -np.inf, -np.inf, False
        for i in rows:
            t, up = float(table.ts[i]), bool(p[i] >= open_at)
            if is_open and t - last_high > rule.clear_s + step_s:
                is_open = False
            consecutive = t - prev_t <= 1.5 * step_s
            if is_open:
                last_high = t
            elif up and prev_up and consecutive:
                opened.append(OpenedAlert(dev, mode, t))
                is_open, last_high, up = True, t, False
            prev_t, prev_up = t, up
    return opened


def _to_records(courses: Sequence[Course], downtime: Sequence[Downtime]) -> list[Record]:
    out: list[Record] = []
    for c in courses:
        out.append(
            SimCourse(c.device_id, c.failure_mode, c.onset_ts, c.failure_ts,
                      "drift" if c.precursor else None,
                      "failed" if c.failed else "found_at_pm", c.end_ts)
        )  # fmt: skip
    out.extend(ServiceRecord(d.device_id, "pm", d.start_ts, d.end_ts) for d in downtime)
    return out


def choose_alert_probability(
    table: Table,
    oof: npt.NDArray[np.float64],
    feats: FleetFeatures,
    *,
    false_per_100: float,
    grid: Sequence[float] = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95),
) -> tuple[float, list[dict[str, Any]]]:
    """The lowest alert probability whose out-of-fold alerts stay within ``false_per_100``."""
    records = _to_records(feats.courses, feats.downtime)
    n_dev = len(feats.devices)
    tried = []
    chosen = grid[-1]
    for q in sorted(grid):
        m = grade(_rule_on_table(table, oof, q), records, start_ts=feats.start_ts,
                  end_ts=feats.end_ts, n_devices=n_dev)  # fmt: skip
        tried.append({"alert_probability": q, **m})
        if m["false_alerts_per_100_device_days"] <= false_per_100:
            chosen = q
            break
    return chosen, tried


def train_on_fleet(
    feats: FleetFeatures,
    config: PrognosticsConfig,
    *,
    seed: int = 0,
    min_group_courses: int = 8,
    false_per_100: float = 0.5,
    folds: int = 3,
    map_fn: Callable[..., Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> tuple[FleetModel, dict[str, Any]]:
    """Learn thresholds, label, choose the alert probability out of fold, fit the model."""
    horizon_s = config.horizon_h * 3600.0
    thresholds = learn_thresholds(feats.batches, feats.courses)
    table = label_table(
        feats.batches, feats.courses, feats.downtime, horizon_s, thresholds,
        config.default_threshold,
    )  # fmt: skip
    groups_of = {d.device_id: group_keys(d) for d in feats.devices}
    groups = plan_groups(table, feats.courses, groups_of, min_group_courses)
    ids = sorted({d.device_id for d in feats.devices})
    fold_of = {d: i % folds for i, d in enumerate(ids)}
    row_fold = np.array([fold_of[d] for d in table.device_ids])
    oof = np.zeros(table.within.size)
    for k in range(folds):
        fit = fit_fleet_model(
            table.select(row_fold != k), {"*": np.ones(int((row_fold != k).sum()), dtype=bool)},
            horizon_s=horizon_s, thresholds=thresholds, seed=seed, map_fn=map_fn,
        )  # fmt: skip
        oof[row_fold == k], _ = fit.predict(table.x[row_fold == k], "*")
    p_alert, tried = choose_alert_probability(table, oof, feats, false_per_100=false_per_100)
    meta = {
        **(metadata or {}),
        "trained_at": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        "rows": int(table.within.size),
        "positive_rows": int(table.within.sum()),
        "failed_courses": sum(1 for c in feats.courses if c.failed and c.precursor),
        "device_days": feats.device_days,
        "thresholds_learned": len(thresholds),
        "alert_probability_search": [
            {k: t[k] for k in ("alert_probability", "predicted_24h_ahead",
                               "false_alerts_per_100_device_days")}
            for t in tried
        ],
    }  # fmt: skip
    model = fit_fleet_model(
        table, groups, horizon_s=horizon_s, thresholds=thresholds, seed=seed,
        metadata=meta, alert_probability=p_alert, map_fn=map_fn,
    )  # fmt: skip
    return model, meta


def fleet_features(
    n_devices: int, seed: int, days: int, config: PrognosticsConfig
) -> FleetFeatures:
    """Features of a whole fleet in this process (see :func:`collect_features`)."""
    return collect_features(n_devices, seed, days, config=config)


def build_engine_for(n_devices: int, seed: int, days: int, period_s: float) -> FleetEngine:
    """The evaluation's engine (same start as ``htm-edge evaluate``)."""
    start = seeded_start(seed, time.time(), days * DAY_S)
    return build_engine(n_devices, seed, period_s, start)
