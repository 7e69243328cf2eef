"""Each detector flags the anomalies it claims to catch, on synthetic noisy data,
and stays quiet on healthy data (false-positive rate at the 0.99 threshold)."""

from __future__ import annotations

import numpy as np
import pytest

from htm_edge.models.registry import make_detector
from tests.unit.models.models_helpers import run

T, ONSET, STEP_S = 1500, 1000, 300.0
THRESHOLD = 0.99


def _healthy(seed: int, daily: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = 1.4e9 + np.arange(T) * STEP_S
    x = 50.0 + 2.0 * rng.normal(size=T)
    if daily:
        x += 12.0 * np.sin(2 * np.pi * ts / 86400.0)
    return ts, x


def _inject(kind: str, x: np.ndarray) -> np.ndarray:
    x = x.copy()
    if kind == "step":
        x[ONSET:] += 12.0  # 6 sigma
    elif kind == "drift":
        x[ONSET:] += 0.04 * np.arange(T - ONSET)  # 0.02 sigma per point
    elif kind == "variance":
        x[ONSET:] = 50.0 + 4.0 * (x[ONSET:] - 50.0)
    elif kind == "spike":
        x[ONSET] += 16.0  # 8 sigma
    return x


#: detector -> anomalies it must flag, with the allowed delay in points
CATCHES = {
    "robust_ewma": {"step": 5, "variance": 30, "spike": 1},
    "seasonal": {"step": 5, "variance": 30, "spike": 1},
    "spike_level": {"step": 5, "variance": 30, "spike": 1},
    "cusum": {"step": 10, "drift": 150},
    "ensemble": {"step": 5, "drift": 150, "variance": 30, "spike": 1},
}
CASES = [(d, k, delay) for d, kinds in CATCHES.items() for k, delay in kinds.items()]


@pytest.mark.parametrize(("name", "kind", "delay"), CASES)
@pytest.mark.parametrize("seed", [1, 2])
def test_flags_anomaly_within_delay(name: str, kind: str, delay: int, seed: int) -> None:
    ts, x = _healthy(seed)
    s = run(make_detector(name), _inject(kind, x), ts)
    assert s[ONSET : ONSET + delay].max() >= THRESHOLD, f"{name} missed the {kind}"


#: every detector on flat noise; only the seasonal models are meant for daily cycles
QUIET_CASES = [(n, False) for n in ("robust_ewma", "seasonal", "spike_level", "cusum", "ensemble")]
QUIET_CASES += [("seasonal", True), ("ensemble", True)]


@pytest.mark.parametrize(("name", "daily"), QUIET_CASES)
def test_quiet_on_healthy_data(name: str, daily: bool) -> None:
    fp = []
    for seed in range(4):
        ts, x = _healthy(seed + 10, daily=daily)
        s = run(make_detector(name), np.concatenate([x, x[:0]]), ts)
        fp.append((s[300:] >= THRESHOLD).mean())
    assert max(fp) < 0.003, fp


def test_seasonal_flags_time_of_day_anomaly() -> None:
    ts, x = _healthy(3, daily=True)
    # at the daily trough, a value that is normal at the peak
    trough = int(np.argmin(x[ONSET : ONSET + 288])) + ONSET
    x[trough : trough + 3] += 24.0
    for name in ("seasonal", "ensemble"):
        s = run(make_detector(name), x, ts)
        assert s[trough : trough + 3].max() >= THRESHOLD


def _details(x: np.ndarray, ts: np.ndarray) -> dict[str, np.ndarray]:
    det = make_detector("spike_level")
    idx = np.array([0])
    out: dict[str, list[float]] = {"level": [], "spike": [], "score": []}
    for i in range(len(x)):
        d = det.detail_many(idx, x[i : i + 1], ts[i : i + 1])
        out["level"].append(float(d["level"][0]))
        out["spike"].append(float(d["spike"][0]))
        out["score"].append(float(det.process_many(idx, x[i : i + 1], ts[i : i + 1])[0]))
    return {k: np.array(v) for k, v in out.items()}


def test_spike_level_reports_spike_versus_level() -> None:
    ts, x = _healthy(4)
    x[600] += 16.0  # 8 sigma spike
    x[ONSET:] += 12.0  # 6 sigma level shift
    d = _details(x, ts)
    assert d["spike"][600] >= THRESHOLD and d["level"][600] < 0.5
    assert d["level"][ONSET + 1 : ONSET + 4].max() >= THRESHOLD
    assert d["spike"][ONSET + 1 : ONSET + 4].min() == 0.0
    # a persistent deviation outranks a lone spike of the same size
    assert d["score"][ONSET + 2] > d["score"][600]


def test_level_change_is_eventually_accepted_but_drift_keeps_alarming() -> None:
    ts, x = _healthy(5)
    step = run(make_detector("ensemble"), _inject("step", x), ts)
    assert step[ONSET : ONSET + 5].max() >= THRESHOLD
    assert (step[ONSET + 300 :] >= THRESHOLD).mean() < 0.01
    drift = run(make_detector("cusum"), _inject("drift", x), ts)
    late = drift[ONSET + 200 :] >= THRESHOLD
    assert late.sum() >= 2  # re-alarms while the degradation goes on
