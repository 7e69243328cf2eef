"""Fleet behaviour: determinism, healthy ranges, gaps, labels, config, codec round-trip."""

from __future__ import annotations

import math

import numpy as np
import pytest

from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.json import JsonProtocol
from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.catalog import SIGNALS
from htm_edge.config.inventory import Device, InventoryConfig, Modality
from htm_edge.simulators.config import FaultConfig, SimulatedDeviceConfig, SimulationConfig
from htm_edge.simulators.core import SimEvent
from htm_edge.simulators.devices import MODELS
from htm_edge.simulators.errors import SimulatorError
from htm_edge.simulators.fleet import EventLabel, FaultLabel, Fleet
from htm_edge.simulators.ground_truth import ground_truth_payload, parse_ground_truth

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
WEEK = 7 * 1440
MODALITIES = list(MODELS)  # the per-device models


def dev(device_id: str, modality: Modality) -> Device:
    return Device(device_id=device_id, modality=modality)


def run(fleet: Fleet, n: int) -> list[list[list[Reading]]]:
    return [fleet.step() for _ in range(n)]


def mixed_fleet(seed: int = 7, extra: bool = False) -> Fleet:
    devices: list[tuple[Device, FaultConfig | None]] = [
        (
            dev("MR-01", Modality.MRI),
            FaultConfig(failure_mode="MR.COLDHEAD.DEGRADATION", start_s=3600, duration_s=7200),
        ),
        (dev("CT-01", Modality.CT), None),
        (dev("PUMP-01", Modality.INFUSION_PUMP), None),
        (dev("VENT-01", Modality.VENTILATOR), None),
    ]
    if extra:
        devices.insert(1, (dev("CT-99", Modality.CT), None))
    return Fleet(devices, seed=seed, sample_period_s=60.0, start_ts=START)


def test_same_seed_same_readings_different_seed_different() -> None:
    a, b, c = run(mixed_fleet(), 500), run(mixed_fleet(), 500), run(mixed_fleet(seed=8), 500)
    assert a == b
    assert a != c


def test_adding_a_device_does_not_change_the_others() -> None:
    base = run(mixed_fleet(), 300)
    more = run(mixed_fleet(extra=True), 300)
    assert [[s[0], *s[1:]] for s in base] == [[s[0], *s[2:]] for s in more]


def test_step_shape_timestamps_and_signal_order() -> None:
    fleet = mixed_fleet()
    for k in range(200):
        assert fleet.next_ts == START + 60.0 * k
        out = fleet.step()
        assert len(out) == 4
        for device, readings in zip(fleet.devices, out, strict=True):
            if not readings:
                continue
            assert [r.signal for r in readings] == [s.name for s in SIGNALS[device.modality]]
            assert all(
                r.ts == START + 60.0 * k and r.device_id == device.device_id for r in readings
            )
    assert fleet.step_index == 200


@pytest.mark.parametrize("modality", MODALITIES)
def test_healthy_week_stays_in_normal_ranges(modality: Modality) -> None:
    devices = [(dev(f"D-{i}", modality), None) for i in range(4)]
    fleet = Fleet(devices, seed=3, sample_period_s=60.0, start_ts=START)
    values: dict[str, list[float]] = {}
    for _ in range(WEEK):
        for readings in fleet.step():
            for r in readings:
                if r.usable:
                    values.setdefault(r.signal, []).append(r.value)
    for spec in SIGNALS[modality]:
        v = np.array(values[spec.name])
        assert v.min() >= spec.normal_low, spec.name
        assert v.max() <= spec.normal_high, spec.name


# Workload context (what the device is asked to do), not condition.
CONTEXT = {"in_use", "infusion_rate_ml_h", "blower_speed_krpm", "anode_heat_pct"}


@pytest.mark.parametrize("modality", MODALITIES)
def test_healthy_signals_are_stationary(modality: Modality) -> None:
    """No accidental drift: day-by-day means of a healthy device stay put.

    Compared within one workload state (in use / idle) after regressing out the
    workload context signals, as a reasonable detector would.
    """
    fleet = Fleet([(dev("D-1", modality), None)], seed=11, sample_period_s=60.0, start_ts=START)
    rows = []
    for k in range(WEEK):
        readings = fleet.step()[0]
        if readings and all(r.usable for r in readings):
            rows.append([k // 1440] + [r.value for r in readings])
    names = [s.name for s in SIGNALS[modality]]
    data = np.array(rows)
    day, cols = data[:, 0], {n: data[:, i + 1] for i, n in enumerate(names)}
    context = [n for n in names if n in CONTEXT and n != "in_use"]
    for state in (0.0, 1.0):
        mask = cols["in_use"] == state
        ctx = np.column_stack([np.ones(mask.sum())] + [cols[n][mask] for n in context])
        for spec in SIGNALS[modality]:
            if spec.name in CONTEXT:
                continue
            y = cols[spec.name][mask]
            resid = y - ctx @ np.linalg.lstsq(ctx, y, rcond=None)[0]
            means = np.array(
                [resid[day[mask] == d].mean() for d in range(7) if (day[mask] == d).sum() >= 60]
            )
            if len(means) < 4:
                continue
            span = spec.normal_high - spec.normal_low
            assert np.ptp(means) < 0.1 * span, (spec.name, state, means)
            diffs = np.diff(means)
            assert not (np.all(diffs > 0) or np.all(diffs < 0)), (spec.name, state, means)


def test_diurnal_workload_and_in_use() -> None:
    fleet = Fleet([(dev("CT-1", Modality.CT), None)], seed=5, sample_period_s=60.0, start_ts=START)
    day: list[float] = []
    night: list[float] = []
    for k in range(WEEK):
        for r in fleet.step()[0]:
            if r.signal == "in_use":
                assert r.value in (0.0, 1.0)
                hour = (k % 1440) / 60
                (day if 9 <= hour < 17 else night if hour < 5 else []).append(r.value)
    assert np.mean(day) > np.mean(night) + 0.2


def test_gaps_and_invalid_values_are_rare_and_seeded() -> None:
    def profile(seed: int) -> tuple[list[tuple[int, int]], int, int]:
        devices = [(dev(f"P-{i}", Modality.INFUSION_PUMP), None) for i in range(6)]
        fleet = Fleet(devices, seed=seed, sample_period_s=60.0, start_ts=START)
        missing, invalid, total = [], 0, 0
        for k in range(WEEK):
            for i, readings in enumerate(fleet.step()):
                if not readings:
                    missing.append((k, i))
                for r in readings:
                    total += 1
                    if r.quality is Quality.INVALID:
                        assert math.isnan(r.value)
                        invalid += 1
        return missing, invalid, total

    m1, inv1, total = profile(1)
    assert profile(1) == (m1, inv1, total)
    assert profile(2)[0] != m1
    assert 0 < len(m1) < 0.01 * WEEK * 6
    assert 0 < inv1 < 0.001 * total


def test_every_payload_round_trips_through_json_protocol() -> None:
    fleet = mixed_fleet()
    codec = JsonProtocol()
    seen_invalid = False
    for _ in range(3000):
        for device, readings in zip(fleet.devices, fleet.step(), strict=True):
            if not readings:
                continue
            frame = Frame(codec.encode(readings), "test", 0.0, device.device_id)
            parsed = codec.parse(frame)
            assert len(parsed) == len(readings)
            for a, b in zip(readings, parsed, strict=True):
                assert (a.device_id, a.signal, a.ts, a.unit, a.quality) == (
                    b.device_id,
                    b.signal,
                    b.ts,
                    b.unit,
                    b.quality,
                )
                if a.usable:
                    assert a.value == b.value
                else:
                    seen_invalid = True
                    assert math.isnan(b.value)
    assert seen_invalid


def test_ground_truth_labels_and_payload() -> None:
    fleet = mixed_fleet()
    labels = fleet.ground_truth()
    assert labels == [FaultLabel("MR-01", "MR.COLDHEAD.DEGRADATION", START + 3600, START + 10800)]
    faults, events = parse_ground_truth(ground_truth_payload(fleet, "site-a"))
    assert faults == labels and events == []
    with pytest.raises(SimulatorError):
        parse_ground_truth(b"[1, 2]")


def test_events_are_labelled_and_validated() -> None:
    mr = dev("MR-01", Modality.MRI)
    ev = SimEvent("MR.EVENT.COLDHEAD_SERVICE_STOP", 7200.0, 3600.0)
    fleet = Fleet(
        [(mr, None)], seed=1, sample_period_s=60.0, start_ts=START, events={"MR-01": [ev]}
    )
    assert fleet.event_labels() == [EventLabel("MR-01", ev.kind, START + 7200.0, START + 10800.0)]
    _, events = parse_ground_truth(ground_truth_payload(fleet, "s"))
    assert events == fleet.event_labels()
    with pytest.raises(SimulatorError, match="COLD_TUBE_WARMUP"):
        Fleet(
            [(dev("CT-1", Modality.CT), None)],
            seed=1,
            sample_period_s=60.0,
            start_ts=START,
            events={"CT-1": [ev]},
        )
    with pytest.raises(SimulatorError, match="not in the fleet"):
        Fleet([(mr, None)], seed=1, sample_period_s=60.0, start_ts=START, events={"X": [ev]})


def test_unknown_and_foreign_failure_modes_name_the_device_and_valid_ids() -> None:
    bad = FaultConfig(failure_mode="MR.QUENCH", start_s=0, duration_s=10)
    with pytest.raises(SimulatorError, match=r"'MR-01'.*MR\.COMPRESSOR\.GAS_LEAK"):
        Fleet([(dev("MR-01", Modality.MRI), bad)], seed=1, sample_period_s=60, start_ts=START)
    foreign = FaultConfig(failure_mode="CT.TUBE.ARCING", start_s=0, duration_s=10)
    with pytest.raises(SimulatorError, match="a ct failure mode"):
        Fleet([(dev("MR-01", Modality.MRI), foreign)], seed=1, sample_period_s=60, start_ts=START)


def test_rejects_unsupported_modality_and_duplicates() -> None:
    with pytest.raises(SimulatorError, match=r"'STER-1'.*sterilizer"):
        Fleet(
            [(dev("STER-1", Modality.STERILIZER), None)], seed=1, sample_period_s=60, start_ts=START
        )
    d = dev("A", Modality.CT)
    with pytest.raises(SimulatorError, match="twice"):
        Fleet([(d, None), (d, None)], seed=1, sample_period_s=60, start_ts=START)


def config() -> tuple[SimulationConfig, InventoryConfig]:
    return (
        SimulationConfig(
            seed=9,
            devices=[
                SimulatedDeviceConfig(
                    device_id="MR-01",
                    fault=FaultConfig(
                        failure_mode="MR.CHILLER.DEGRADATION", start_s=600, duration_s=3600
                    ),
                ),
                SimulatedDeviceConfig(device_id="CT-01"),
            ],
        ),
        InventoryConfig(devices=[dev("MR-01", Modality.MRI), dev("CT-01", Modality.CT)]),
    )


def test_from_config_matches_manual_construction() -> None:
    sim, inventory = config()
    fleet = Fleet.from_config(sim, inventory, START)
    assert [d.device_id for d in fleet.devices] == ["MR-01", "CT-01"]
    assert fleet.sample_period_s == 60.0 and fleet.seed == 9
    assert fleet.ground_truth() == [
        FaultLabel("MR-01", "MR.CHILLER.DEGRADATION", START + 600, START + 4200)
    ]
    manual = Fleet(
        [
            (inventory.devices[0], sim.devices[0].fault),
            (inventory.devices[1], None),
        ],
        seed=9,
        sample_period_s=60.0,
        start_ts=START,
    )
    assert run(fleet, 100) == run(manual, 100)
    assert Fleet.from_config(sim, inventory, START, seed=1).seed == 1


def test_from_config_errors() -> None:
    sim, _ = config()
    with pytest.raises(SimulatorError, match=r"simulation.devices\[0\].*'MR-01'"):
        Fleet.from_config(sim, InventoryConfig(devices=[]), START)
    with pytest.raises(SimulatorError, match="empty"):
        Fleet.from_config(SimulationConfig(), InventoryConfig(), START)
