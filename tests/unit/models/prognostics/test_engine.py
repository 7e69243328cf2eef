"""Prognostics end to end on hand-made streams: indicators, trend-only predictions, state."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import numpy as np
import pytest

from htm_edge.config.inventory import Device, Modality
from htm_edge.gateway.compose import build_prognostics
from htm_edge.models.errors import ModelError
from htm_edge.models.prognostics import PrognosticsConfig
from htm_edge.models.prognostics.specs import modality_modes, mode_indicators, workload_covariate
from htm_edge.models.types import Prediction

DAY = 86_400.0
PUMP = Device(device_id="P-1", modality=Modality.INFUSION_PUMP)
OTHER = Device(device_id="X-1", modality=Modality.OTHER)


PUMP2 = Device(device_id="P-2", modality=Modality.INFUSION_PUMP)


def _lookup(device_id: str) -> Device:
    return {"P-1": PUMP, "P-2": PUMP2, "X-1": OTHER}[device_id]


def _pump_day(
    day: int,
    soh: float,
    rng: np.random.Generator,
    rate_step: bool = True,
    occlusion: Callable[[np.ndarray], np.ndarray] = lambda ts: np.full(ts.size, 10.0),
):
    """One day of a pump at one sample a minute: in use with rate steps, SOH, motor current."""
    ts = day * DAY + np.arange(0.0, DAY, 60.0)
    n = ts.size
    rate = np.where((np.arange(n) // 240) % 2 == 0, 20.0, 180.0) if rate_step else np.full(n, 50.0)
    motor = 40.0 + 0.3 * rate + rng.normal(0, 1.5, n)
    ids, sigs, tt, vv = [], [], [], []
    for name, vals in (
        ("in_use", np.ones(n)),
        ("infusion_rate_ml_h", rate),
        ("motor_current_ma", motor),
        ("battery_soh_pct", soh + rng.normal(0, 0.3, n)),
        ("battery_voltage_v", 7.2 + rng.normal(0, 0.01, n)),
        ("occlusion_baseline_mmhg", occlusion(ts) + rng.normal(0, 0.8, n)),
    ):
        ids += ["P-1"] * n
        sigs += [name] * n
        tt.append(ts)
        vv.append(vals)
    t = np.concatenate(tt)
    order = np.argsort(t, kind="stable")
    return [ids[i] for i in order], [sigs[i] for i in order], t[order], np.concatenate(vv)[order]


def _run(pg, days, soh_of_day, rng, start=0, **day_kw):
    out: list[Prediction] = []
    for d in range(start, days):
        ids, sigs, t, v = _pump_day(d, soh_of_day(d), rng, **day_kw)
        for a in range(0, t.size, 3000):
            out.extend(
                pg.update(ids[a : a + 3000], sigs[a : a + 3000], t[a : a + 3000], v[a : a + 3000])
            )
    return out


def test_indicators_come_from_the_catalogue_effects() -> None:
    modes = modality_modes(Modality.INFUSION_PUMP)
    assert modes == (
        "PUMP.BATTERY.END_OF_LIFE", "PUMP.MECHANISM.WEAR", "PUMP.OCCLUSION_SENSOR.DRIFT",
    )  # fmt: skip
    mech = mode_indicators("PUMP.MECHANISM.WEAR")
    assert [(s.signal, s.statistic, s.sign) for s in mech] == [
        ("motor_current_ma", "level", 1.0),
        ("motor_current_ma", "spread", 1.0),
    ]
    arcs = mode_indicators("CT.TUBE.ARCING")
    assert arcs[0].statistic == "rate"  # a count: its mean, not its median
    assert workload_covariate(Modality.MRI) is None


def test_a_fading_battery_is_predicted_and_a_healthy_one_is_not() -> None:
    cfg = PrognosticsConfig(horizon_h=168.0)
    rng = np.random.default_rng(3)
    healthy = build_prognostics(cfg, _lookup)
    fading = build_prognostics(cfg, _lookup)
    # 10 healthy days, then state of health falls 1.2 points a day (threshold: 0.5 range = 10)
    calm = _run(healthy, 16, lambda d: 95.0, rng)
    fall = _run(fading, 16, lambda d: 95.0 - 1.2 * max(0, d - 10), rng)
    last = {p.failure_mode: p for p in fall if p.ts == max(q.ts for q in fall)}
    bat = last["PUMP.BATTERY.END_OF_LIFE"]
    assert bat.probability > 0.9
    assert 0 < bat.time_to_failure_low_s <= bat.time_to_failure_s <= bat.time_to_failure_high_s
    assert bat.time_to_failure_s < 7 * DAY
    top = bat.evidence[0]
    assert top.direction == "down"
    assert top.signal == "battery_soh_pct" and top.deviation > 4.0 and top.slope_per_day > 0.5
    assert max(p.probability for p in calm) < 0.05
    # the motor current moves with the infusion rate, not with wear: no mechanism alarm
    mech = [p for p in fall + calm if p.failure_mode == "PUMP.MECHANISM.WEAR"]
    assert max(p.probability for p in mech) < 0.05
    json.dumps(bat.to_json())


def test_one_evaluation_per_device_and_bucket_and_warm_up_first() -> None:
    pg = build_prognostics(PrognosticsConfig(warmup_h=24.0), _lookup)
    out = _run(pg, 3, lambda d: 95.0, np.random.default_rng(0))
    stamps = sorted({p.ts for p in out})
    assert stamps[0] >= DAY and np.all(np.diff(stamps) == 3600.0)
    assert len(out) == 3 * len(stamps)


def test_unknown_modalities_are_ignored() -> None:
    pg = build_prognostics(PrognosticsConfig(), _lookup)
    ts = np.arange(0.0, 5 * DAY, 60.0)
    assert pg.update(["X-1"] * ts.size, ["foo"] * ts.size, ts, np.ones(ts.size)) == []


def test_snapshot_restores_the_same_future() -> None:
    cfg = PrognosticsConfig()
    rng = np.random.default_rng(7)
    a = build_prognostics(cfg, _lookup)
    # streams of two devices interleaved, and an uncatalogued signal, before the snapshot
    a.update(["P-1", "P-2", "P-2"], ["foo", "in_use", "battery_soh_pct"], np.zeros(3), np.ones(3))
    _run(a, 4, lambda d: 95.0 - d, rng)
    doc = json.loads(json.dumps(a.snapshot()))
    b = type(a).restore(doc, cfg, _lookup)
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    pa = _run(a, 6, lambda d: 95.0 - d, rng_a, start=4)
    pb = _run(b, 6, lambda d: 95.0 - d, rng_b, start=4)
    assert [p.to_json() for p in pa] == [p.to_json() for p in pb]


def test_bad_batches_are_refused() -> None:
    pg = build_prognostics(PrognosticsConfig(), _lookup)
    with pytest.raises(ModelError):
        pg.update(["P-1"], ["in_use", "x"], np.zeros(1), np.zeros(1))


@pytest.mark.parametrize(
    ("course", "predicted"),
    [
        # a new operating level (a new set, another rate range): a step, then flat
        (lambda ts: 10.0 + 6.0 * (ts >= 10 * DAY), False),
        # the hospital's daily rhythm through the sensor's temperature: a cycle
        (lambda ts: 13.0 + 6.0 * np.sin(2 * np.pi * ts / DAY), False),
        # a drifting sensor: 2 mmHg a day from day 10, toward the 20-mmHg-wide range's limit
        (lambda ts: 10.0 + 2.0 * np.maximum(0.0, ts / DAY - 10.0), True),
    ],
    ids=["step", "daily-cycle", "drift"],
)
@pytest.mark.parametrize("bucket_s", [3600.0, 1200.0])  # 96 points of 20 min: 32 h only
def test_trends_alone_extrapolate_a_course_not_a_step_or_a_cycle(
    course: Callable[[np.ndarray], np.ndarray], predicted: bool, bucket_s: float
) -> None:
    pg = build_prognostics(PrognosticsConfig(horizon_h=168.0, bucket_s=bucket_s), _lookup)
    out = _run(pg, 16, lambda d: 95.0, np.random.default_rng(5), occlusion=course)
    occ = [p.probability for p in out if p.failure_mode == "PUMP.OCCLUSION_SENSOR.DRIFT"]
    # what a prediction rule opens on: two evaluations in a row (the default confirmation)
    twice = [min(a, b) for a, b in itertools.pairwise(occ)]
    assert len(occ) > 150 and (max(twice) > 0.5) is predicted
