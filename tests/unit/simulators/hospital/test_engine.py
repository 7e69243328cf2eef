"""The vectorised fleet engine: determinism, healthy twins, ranges, quirks, codec parity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.json import JsonProtocol
from htm_edge.collector.reading import Quality
from htm_edge.config import catalog
from htm_edge.config.inventory import Device, Modality
from htm_edge.simulators.errors import SimulatorError
from htm_edge.simulators.hospital.engine import FleetEngine
from htm_edge.simulators.hospital.life import DAY_S, LiveCourse
from htm_edge.simulators.hospital.models import VECTOR_MODELS
from htm_edge.simulators.hospital.overlay import SENTINELS
from htm_edge.simulators.hospital.records import jsonl_lines, parse_jsonl
from htm_edge.simulators.hospital.transport import InProcessTransport, PacedClock, VirtualClock

START = 1_736_121_600.0  # Monday 2025-01-06 00:00 UTC
MODALITIES = sorted(VECTOR_MODELS, key=lambda m: m.value)


def fleet(n_per: int = 2, seed: int = 4, period: float = 300.0, extra: bool = False) -> FleetEngine:
    devices = [
        Device(device_id=f"{m.value}-{i}", modality=m) for m in MODALITIES for i in range(n_per)
    ]
    if extra:
        devices.insert(3, Device(device_id="EXTRA", modality=Modality.CT))
    return FleetEngine(devices, seed, period, START)


def series(engine: FleetEngine, days: int) -> dict[str, dict[str, np.ndarray]]:
    """device -> signal -> values over ``days`` (NaN when not reported or silent)."""
    out: dict[str, dict[str, list[np.ndarray]]] = {}
    for _ in range(days * engine.steps_per_day // engine.chunk_steps):
        chunk = engine.next_chunk()
        for g in chunk.groups:
            for d, dev in enumerate(g.device_ids):
                for name, arr in g.values.items():
                    col = np.where(g.silent[:, d], np.nan, arr[:, d])
                    out.setdefault(dev, {}).setdefault(name, []).append(col)
    return {d: {s: np.concatenate(v) for s, v in sig.items()} for d, sig in out.items()}


def test_same_seed_same_fleet_and_truth_other_seed_differs() -> None:
    a, b, c = fleet(), fleet(), fleet(seed=5)
    sa, sb, sc = series(a, 2), series(b, 2), series(c, 2)
    for dev in sa:
        for sig in sa[dev]:
            np.testing.assert_array_equal(sa[dev][sig], sb[dev][sig])
    assert list(jsonl_lines(a.ground_truth())) == list(jsonl_lines(b.ground_truth()))
    assert any(not np.array_equal(sa[d][s], sc[d][s], equal_nan=True) for d in sa for s in sa[d])


def test_adding_a_device_changes_no_other_device() -> None:
    base, more = series(fleet(), 1), series(fleet(extra=True), 1)
    assert set(more) == {*base, "EXTRA"}
    for dev in base:
        for sig in base[dev]:
            np.testing.assert_array_equal(base[dev][sig], more[dev][sig])


def test_period_must_divide_a_day_and_modalities_must_be_modelled() -> None:
    with pytest.raises(SimulatorError, match="divide a day"):
        FleetEngine([], 0, 7.0, START)
    with pytest.raises(SimulatorError, match="no fleet model for ultrasound"):
        FleetEngine([Device(device_id="US-1", modality=Modality.ULTRASOUND)], 0, 60.0, START)


@pytest.mark.parametrize("modality", MODALITIES, ids=lambda m: m.value)
def test_healthy_devices_stay_in_their_normal_ranges(modality: Modality) -> None:
    devices = [Device(device_id=f"H-{i}", modality=modality) for i in range(6)]
    engine = FleetEngine(devices, 5, 300.0, START)
    engine.plan_days(10)
    for g in engine.groups:
        for lv in g.lives:
            lv.courses.clear()  # healthy: no degradation (quirks and look-alikes stay)
    data = series(engine, 7)
    for spec in catalog.signals_of(modality):
        v = np.concatenate([data[d][spec.name] for d in data])
        v = v[~np.isnan(v) & ~np.isin(v, SENTINELS)]
        assert v.size, spec.name
        inside = np.mean((v >= spec.normal_low) & (v <= spec.normal_high))
        assert inside >= 0.97, (spec.name, inside, v.min(), v.max())


TWIN_DAYS = 12
ONSET, FAILURE = 1.0 * DAY_S, 11.0 * DAY_S


def twins(mode: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The same device with and without a degradation of ``mode`` (days 1 to 11)."""
    modality = catalog.CATALOG[mode].modality
    out = []
    for inject in (True, False):
        engine = FleetEngine([Device(device_id="DUT", modality=modality)], 21, 300.0, START)
        engine.plan_days(TWIN_DAYS + 2)
        lv = engine.groups[0].lives[0]
        lv.courses.clear()
        lv.next_pm_ts = math.inf
        lv.services = [s for s in lv.services if s.kind != "pm"]
        if inject:
            shape = catalog.CATALOG[mode].shape
            end = START + FAILURE + 3 * DAY_S
            lv.courses.append(
                LiveCourse(mode, shape, START + ONSET, START + FAILURE, False, end - 1, end)
            )
        out.append(series(engine, TWIN_DAYS)["DUT"])
    return out[0], out[1]


def _window(ts_lo: float, ts_hi: float) -> slice:
    return slice(int(ts_lo / 300.0), int(ts_hi / 300.0))


@pytest.mark.parametrize("mode", sorted(catalog.CATALOG))
def test_degradation_against_its_healthy_twin(mode: str) -> None:
    faulty, healthy = twins(mode)
    spec = catalog.CATALOG[mode]
    pre = _window(0, ONSET)
    for name in faulty:
        np.testing.assert_array_equal(faulty[name][pre], healthy[name][pre], err_msg=name)
    untouched = set(faulty) - set(spec.affected_signals) - {"in_use"}
    before_failure = _window(0, FAILURE - 300.0)
    for name in untouched:
        np.testing.assert_array_equal(
            faulty[name][before_failure], healthy[name][before_failure], err_msg=name
        )
    late = _window(ONSET + 0.7 * (FAILURE - ONSET), FAILURE - 300.0)
    for effect in spec.effects:
        delta = faulty[effect.signal][late] - healthy[effect.signal][late]
        delta = delta[~np.isnan(delta)]
        assert delta.size, effect
        if effect.direction == "variance_up":
            assert np.mean(np.abs(delta)) > 0, effect
        else:
            sign = 1.0 if effect.direction == "up" else -1.0
            assert sign * np.mean(delta) > 0, (effect, np.mean(delta))
    after = _window(FAILURE + 600.0, FAILURE + DAY_S)
    assert np.nansum(faulty["in_use"][after]) == 0  # out of service once failed


@pytest.mark.parametrize("kind", sorted(catalog.LOOKALIKES))
def test_every_lookalike_moves_its_signals(kind: str) -> None:
    look = catalog.LOOKALIKES[kind]
    start, end = START + 2 * DAY_S + 2 * 3600.0, START + 2 * DAY_S + 8 * 3600.0
    out = []
    for inject in (True, False):
        engine = FleetEngine([Device(device_id="DUT", modality=look.modality)], 8, 300.0, START)
        engine.plan_days(6)
        lv = engine.groups[0].lives[0]
        lv.courses.clear()
        lv.events = [e for e in lv.events if e.event != kind]
        lv.next_pm_ts = math.inf
        lv.services = [s for s in lv.services if s.kind != "pm"]
        if inject:
            from htm_edge.simulators.hospital.records import EventRecord

            lv.events.append(EventRecord("DUT", kind, start, end))
        out.append(series(engine, 4)["DUT"])
    f, h = out
    # per-cycle and daily-test signals show it at the next report, within a day
    during = _window(start - START, end - START + DAY_S)
    for effect in look.effects:
        delta = f[effect.signal][during] - h[effect.signal][during]
        delta = delta[~np.isnan(delta)]
        assert delta.size, effect
        if effect.direction == "variance_up":
            assert np.mean(np.abs(delta)) > 0, effect
        else:
            sign = 1.0 if effect.direction == "up" else -1.0
            assert sign * np.sum(delta) > 0, effect


def test_quirks_appear_in_a_fleet() -> None:
    engine = fleet(n_per=6, seed=2)
    data = series(engine, 7)
    values = np.concatenate([v for d in data.values() for v in d.values()])
    assert np.sum(values == SENTINELS[0]) > 0  # invalid sentinel
    records = engine.ground_truth()
    kinds = {getattr(r, "kind", "") for r in records}
    assert {"outage", "stuck"} <= kinds
    silent = sum(np.isnan(d["in_use"]).sum() for d in data.values())
    assert silent > 0  # lost messages and outages


def test_codec_parity_with_the_collector() -> None:
    """What the fleet sends decodes, through the collector's own codec, to what it meant."""
    engine = fleet(n_per=1, period=60.0)
    codec = JsonProtocol()
    chunk = engine.next_chunk()
    seen = 0
    for t in range(0, chunk.ts.shape[0], 37):
        for device_id, readings in chunk.messages(t):
            frame = Frame(codec.encode(readings), f"mqtt:htm/s/{device_id}/telemetry", 0.0)
            back = codec.parse(frame)
            assert [r.signal for r in back] == [r.signal for r in readings]
            for sent, got in zip(readings, back, strict=True):
                if sent.usable:
                    assert got == sent
                else:
                    assert got.quality is Quality.INVALID and math.isnan(got.value)
                seen += 1
    assert seen > 100


def test_ground_truth_jsonl_round_trip() -> None:
    engine = fleet(n_per=3)
    engine.plan_days(120)
    records = engine.ground_truth()
    assert {type(r).__name__ for r in records} >= {"Course", "ServiceRecord", "EventRecord"}
    assert parse_jsonl(list(jsonl_lines(records))) == records
    with pytest.raises(SimulatorError, match="line 1"):
        parse_jsonl(['{"type": "nope"}'])


def test_in_process_transport_never_runs_ahead_of_its_clock() -> None:
    engine = fleet(n_per=1, period=60.0)
    clock = VirtualClock(START)
    latest: list[float] = []

    def deliver(batch: list) -> None:  # type: ignore[type-arg]
        assert max(r.ts for r in batch) <= clock.now()
        latest.append(max(r.ts for r in batch))

    transport = InProcessTransport(engine, clock, rounds_per_batch=7)
    assert transport.run_until(START + 3 * 3600.0, deliver) == 180
    assert transport.run_until(START + 4 * 3600.0, deliver) == 60
    assert latest[-1] == START + 4 * 3600.0 - 60.0
    paced = PacedClock(START, speed=1e9)
    paced.wait_until(START + 1000.0)
    assert paced.now() >= START + 1000.0
