"""The catalogue is the contract of simulators, alerting and the collector: names, units, ids."""

from __future__ import annotations

import pytest

from htm_edge.config.catalog import (
    CATALOG,
    LOOKALIKES,
    SIGNALS,
    failure_mode_spec,
    failure_modes_of,
    lookalike_spec,
    lookalikes_of,
    signal_spec,
    signals_of,
)
from htm_edge.config.errors import CatalogError
from htm_edge.config.inventory import Modality
from htm_edge.simulators.devices import MODELS

# The signal names and units agreed with the alerting side (must never be renamed).
CONTRACT_SIGNALS = {
    Modality.MRI: {
        "helium_level_pct": "%",
        "coldhead_2nd_stage_k": "K",
        "coldhead_1st_stage_k": "K",
        "compressor_supply_mpa": "MPa",
        "compressor_return_mpa": "MPa",
        "cooling_water_in_c": "°C",
        "cryostat_pressure_psig": "psig",
        "room_temp_c": "°C",
        "in_use": "",
    },
    Modality.CT: {
        "filament_current_a": "A",
        "tube_arc_count": "count",
        "anode_drive_current_a": "A",
        "gantry_rotation_jitter_ms": "ms",
        "tube_oil_temp_c": "°C",
        "detector_temp_c": "°C",
        "in_use": "",
    },
    Modality.INFUSION_PUMP: {
        "battery_voltage_v": "V",
        "battery_soh_pct": "%",
        "motor_current_ma": "mA",
        "occlusion_baseline_mmhg": "mmHg",
        "in_use": "",
    },
    Modality.VENTILATOR: {
        "o2_cell_mv": "mV",
        "blower_current_a": "A",
        "internal_leak_ml_min": "mL/min",
        "peep_error_cmh2o": "cmH2O",
        "in_use": "",
    },
}

CONTRACT_MODES = {
    Modality.MRI: {"MR.COLDHEAD.DEGRADATION", "MR.COMPRESSOR.GAS_LEAK", "MR.CHILLER.DEGRADATION"},
    Modality.CT: {"CT.TUBE.FILAMENT_WEAR", "CT.TUBE.ARCING", "CT.ANODE.BEARING_WEAR"},
    Modality.INFUSION_PUMP: {
        "PUMP.BATTERY.END_OF_LIFE",
        "PUMP.MECHANISM.WEAR",
        "PUMP.OCCLUSION_SENSOR.DRIFT",
    },
    Modality.VENTILATOR: {"VENT.O2_CELL.DEPLETION", "VENT.BLOWER.WEAR", "VENT.EXP_VALVE.LEAK"},
    Modality.PATIENT_MONITOR: {
        "MON.NIBP.PUMP_VALVE_WEAR",
        "MON.BATTERY.FADE",
        "MON.FAN.BEARING_WEAR",
    },
    Modality.DEFIBRILLATOR: {
        "DEFIB.BATTERY.FADE",
        "DEFIB.HV_CAPACITOR.DEGRADATION",
        "DEFIB.THERAPY_CABLE.INTERMITTENT",
    },
    Modality.STERILIZER: {
        "STER.DOOR_GASKET.WEAR",
        "STER.VACUUM_PUMP.WEAR",
        "STER.STEAM_VALVE.DEGRADATION",
    },
    Modality.ANESTHESIA: {
        "ANES.BREATHING_SYSTEM.LEAK",
        "ANES.O2_SENSOR.DEPLETION",
        "ANES.FLOW_SENSOR.DRIFT",
    },
}


@pytest.mark.parametrize("modality", list(CONTRACT_SIGNALS))
def test_contract_signals_present_with_units(modality: Modality) -> None:
    units = {s.name: s.unit for s in signals_of(modality)}
    for name, unit in CONTRACT_SIGNALS[modality].items():
        assert units.get(name) == unit, name


@pytest.mark.parametrize("modality", list(CONTRACT_MODES))
def test_contract_failure_modes(modality: Modality) -> None:
    assert {m.id for m in failure_modes_of(modality)} == CONTRACT_MODES[modality]


def test_signal_specs_are_consistent() -> None:
    for specs in SIGNALS.values():
        names = [s.name for s in specs]
        assert len(names) == len(set(names))
        for s in specs:
            assert s.normal_low < s.normal_high
            assert s.quantum > 0


def test_failure_modes_name_existing_signals() -> None:
    for fid, spec in CATALOG.items():
        assert fid == spec.id
        assert fid.split(".")[0] in {"MR", "CT", "PUMP", "VENT", "MON", "DEFIB", "STER", "ANES"}
        known = {s.name for s in signals_of(spec.modality)}
        assert spec.effects and set(spec.affected_signals) <= known
        assert spec.shape in {"accelerating", "linear", "ratchet"}
        assert spec.description and spec.terminal and spec.likely_parts
        # what alerting attributes to a mode is something the mode moves
        assert set(spec.signals) <= set(spec.affected_signals), fid


def test_lookalikes_exist_for_every_simulated_modality() -> None:
    for modality in SIGNALS:
        looks = lookalikes_of(modality)
        assert looks, modality
        for look in looks:
            assert CATALOG[look.mimics].modality is modality
            known = {s.name for s in signals_of(modality)}
            assert {e.signal for e in look.effects} <= known
    assert set(LOOKALIKES) >= {"MR.EVENT.COLDHEAD_SERVICE_STOP", "CT.EVENT.COLD_TUBE_WARMUP"}


def test_unknown_failure_mode_names_valid_ones() -> None:
    with pytest.raises(CatalogError, match=r"unknown.*MR\.COLDHEAD\.DEGRADATION"):
        failure_mode_spec("MR.NOPE", Modality.MRI)


def test_foreign_failure_mode_is_rejected() -> None:
    with pytest.raises(CatalogError, match=r"a ct failure mode.*VENT\.BLOWER\.WEAR"):
        failure_mode_spec("CT.TUBE.ARCING", Modality.VENTILATOR)


def test_unsupported_modality_and_unknown_names() -> None:
    with pytest.raises(CatalogError, match="catalogued modalities: mri, ct"):
        signals_of(Modality.ULTRASOUND)
    with pytest.raises(CatalogError, match="no signal"):
        signal_spec(Modality.CT, "helium_level_pct")
    with pytest.raises(CatalogError, match=r"CT\.EVENT\.COLD_TUBE_WARMUP"):
        lookalike_spec("MR.EVENT.COLDHEAD_SERVICE_STOP", Modality.CT)


def test_every_simulated_modality_is_catalogued() -> None:
    assert set(MODELS) <= set(SIGNALS)


def test_modalities_have_four_to_eight_signals_and_two_to_four_modes() -> None:
    for modality, specs in SIGNALS.items():
        n = len([s for s in specs if s.name != "in_use"])
        assert 4 <= n <= (9 if modality is Modality.MRI else 8), modality  # MRI predates the rule
        assert 2 <= len(failure_modes_of(modality)) <= 4, modality
        assert specs[-1].name == "in_use", modality


def test_signal_names_are_unique_across_modalities() -> None:
    names = [s.name for specs in SIGNALS.values() for s in specs if s.name != "in_use"]
    assert len(names) == len(set(names))
