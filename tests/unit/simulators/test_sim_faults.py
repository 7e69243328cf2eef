"""Failure modes against a healthy twin of the same seed (identical noise).

Because every sample draws the same variates whatever the fault, the faulty
device equals its twin before onset, and ``faulty - twin`` isolates the fault's
effect afterwards.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from htm_edge.config.catalog import CATALOG, LOOKALIKES, signals_of
from htm_edge.config.inventory import Device, Modality
from htm_edge.simulators.config import FaultConfig
from htm_edge.simulators.core import SimEvent
from htm_edge.simulators.devices import MODELS
from htm_edge.simulators.fleet import Fleet

START = 1_767_225_600.0
ONSET = 86_400.0
DURATION = 2 * 86_400.0
PERIOD = 60.0
N = int((ONSET + DURATION) / PERIOD) + 120  # past the failure time
# the per-device models (small fleets, the demo); tests/unit/simulators/hospital covers all
PER_DEVICE_MODES = sorted(f for f, m in CATALOG.items() if m.modality in MODELS)
PER_DEVICE_LOOKALIKES = sorted(e for e, m in LOOKALIKES.items() if m.modality in MODELS)


def series(
    modality: Modality, fault: FaultConfig | None, n: int = N, events: list[SimEvent] | None = None
) -> dict[str, np.ndarray]:
    """Signal -> values per sample (NaN when missing or invalid)."""
    fleet = Fleet(
        [(Device(device_id="DUT", modality=modality), fault)],
        seed=21,
        sample_period_s=PERIOD,
        start_ts=START,
        events={"DUT": events} if events else None,
    )
    names = [s.name for s in signals_of(modality)]
    out = {name: np.full(n, np.nan) for name in names}
    for k in range(n):
        for r in fleet.step()[0]:
            if r.usable:
                out[r.signal][k] = r.value
    return out


def window(tau_lo: float, tau_hi: float) -> slice:
    lo = int((ONSET + tau_lo * DURATION) / PERIOD)
    hi = int((ONSET + tau_hi * DURATION) / PERIOD)
    return slice(lo, hi)


Twins = tuple[str, dict[str, np.ndarray], dict[str, np.ndarray]]


@pytest.fixture(scope="module", params=PER_DEVICE_MODES)
def twins(request: pytest.FixtureRequest) -> Twins:
    fid: str = request.param
    modality = CATALOG[fid].modality
    fault = FaultConfig(failure_mode=fid, start_s=ONSET, duration_s=DURATION)
    return fid, series(modality, fault), series(modality, None)


def test_identical_to_healthy_twin_before_onset(twins: Twins) -> None:
    _, faulty, healthy = twins
    pre = slice(0, int(ONSET / PERIOD))
    for name in faulty:
        np.testing.assert_array_equal(faulty[name][pre], healthy[name][pre], err_msg=name)


def test_unaffected_signals_unchanged_until_failure(twins: Twins) -> None:
    fid, faulty, healthy = twins
    affected = set(CATALOG[fid].affected_signals)
    until_failure = slice(0, int((ONSET + DURATION) / PERIOD) - 1)
    for name in faulty:
        if name not in affected:
            np.testing.assert_array_equal(
                faulty[name][until_failure], healthy[name][until_failure], err_msg=name
            )


# Signals that only move while the device works: compare them over in-use samples.
GATED = {"tube_arc_count", "motor_current_ma", "blower_current_a", "peep_error_cmh2o"}


def _mean_delta(
    faulty: np.ndarray, healthy: np.ndarray, sl: slice, in_use: np.ndarray | None = None
) -> float:
    delta = faulty[sl] - healthy[sl]
    if in_use is not None:
        delta = delta[in_use[sl] == 1]
    return float(np.nanmean(delta))


def test_effects_in_documented_direction_by_failure_time(twins: Twins) -> None:
    fid, faulty, healthy = twins
    late = window(0.9, 1.0)
    for effect in CATALOG[fid].effects:
        f, h = faulty[effect.signal], healthy[effect.signal]
        if effect.direction == "variance_up":
            rough_f = np.nanstd(np.diff(f[late]))
            rough_h = np.nanstd(np.diff(h[late]))
            assert rough_f > 1.5 * rough_h, (effect, rough_f, rough_h)
        else:
            delta = _mean_delta(f, h, late)
            sign = 1.0 if effect.direction == "up" else -1.0
            assert sign * delta > 0, (effect, delta)


def test_progression_is_gradual_not_a_step_at_onset(twins: Twins) -> None:
    """Realistic lead time: tiny just after onset, clearly visible well before failure."""
    fid, faulty, healthy = twins
    for effect in CATALOG[fid].effects:
        if effect.direction == "variance_up":
            continue
        f, h = faulty[effect.signal], healthy[effect.signal]
        use = healthy["in_use"] if effect.signal in GATED else None
        early = abs(_mean_delta(f, h, window(0.0, 0.05), use))
        mid = abs(_mean_delta(f, h, window(0.8, 0.9), use))
        late = abs(_mean_delta(f, h, window(0.9, 1.0), use))
        assert early < 0.15 * late, (effect.signal, early, late)
        assert mid > 0.05 * late, (effect.signal, mid, late)
        if CATALOG[fid].shape != "ratchet":  # a ratchet may plateau before failure
            assert mid < late, (effect.signal, mid, late)


def test_device_is_out_of_service_after_failure(twins: Twins) -> None:
    _, faulty, _ = twins
    after = slice(int((ONSET + DURATION) / PERIOD) + 1, N)
    assert np.nansum(faulty["in_use"][after]) == 0


def test_mr_coldhead_signature_magnitudes() -> None:
    fault = FaultConfig(failure_mode="MR.COLDHEAD.DEGRADATION", start_s=ONSET, duration_s=DURATION)
    f, h = series(Modality.MRI, fault), series(Modality.MRI, None)
    at_failure = window(0.97, 1.0)
    assert 0.5 < _mean_delta(f["coldhead_2nd_stage_k"], h["coldhead_2nd_stage_k"], at_failure) < 1.0
    assert 8 < _mean_delta(f["coldhead_1st_stage_k"], h["coldhead_1st_stage_k"], at_failure) < 14
    # helium slope turns negative and accelerates
    he = f["helium_level_pct"]
    slope = [
        np.nanmean(he[window(a + 0.1, a + 0.2)]) - np.nanmean(he[window(a, a + 0.1)])
        for a in (0.0, 0.4, 0.8)
    ]
    assert slope[0] > slope[1] > slope[2] and slope[2] < -1.0
    # heater duty collapses before pressure rises
    heater = f["cryostat_heater_duty_pct"]
    assert np.nanmean(heater[window(0.85, 0.9)]) < 5
    dp = _mean_delta(f["cryostat_pressure_psig"], h["cryostat_pressure_psig"], window(0.6, 0.7))
    assert dp < 0.2


def test_ct_arcing_counts_rise() -> None:
    fault = FaultConfig(failure_mode="CT.TUBE.ARCING", start_s=ONSET, duration_s=DURATION)
    f = series(Modality.CT, fault)
    arcs, use = f["tube_arc_count"], f["in_use"]
    first_day = slice(0, int(ONSET / PERIOD))
    late = window(0.8, 1.0)
    assert np.nansum(arcs[first_day]) <= 3
    assert np.nansum(arcs[late]) > 20
    assert np.nansum(arcs[late][use[late] == 0]) == 0  # arcs only during exposures


@pytest.mark.parametrize("event", PER_DEVICE_LOOKALIKES)
def test_lookalike_event_moves_signals_then_recovers(event: str) -> None:
    spec = LOOKALIKES[event]
    start, duration = 12 * 3600.0, 2 * 3600.0
    n = int((start + duration + 6 * 3600.0) / PERIOD)
    f = series(spec.modality, None, n, [SimEvent(event, start, duration)])
    h = series(spec.modality, None, n)
    pre = slice(0, int(start / PERIOD))
    during = slice(int(start / PERIOD), int((start + duration) / PERIOD))
    recovered = slice(n - 30, n)
    for effect in spec.effects:
        a, b = f[effect.signal], h[effect.signal]
        np.testing.assert_array_equal(a[pre], b[pre])
        if effect.direction == "variance_up":
            assert np.nanstd(a[during]) > 1.5 * np.nanstd(b[during])
        else:
            sign = 1.0 if effect.direction == "up" else -1.0
            assert sign * _mean_delta(a, b, during) > 0, effect
        if effect.signal != "helium_level_pct":  # boiled-off helium stays lost
            spread = np.nanstd(b) + 1e-9
            assert abs(_mean_delta(a, b, recovered)) < 2 * spread, effect
    assert not math.isnan(float(np.nanmean(f["in_use"][during])))
