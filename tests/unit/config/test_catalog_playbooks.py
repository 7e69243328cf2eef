"""Failure-mode catalogue: the signal/mode contract with the simulators, fallbacks, units."""

from __future__ import annotations

import pytest

from htm_edge.config import catalog
from htm_edge.config.inventory import Modality

CONTRACT = {
    Modality.MRI: {
        "helium_level_pct": "MR.COLDHEAD.DEGRADATION",
        "coldhead_2nd_stage_k": "MR.COLDHEAD.DEGRADATION",
        "coldhead_1st_stage_k": "MR.COLDHEAD.DEGRADATION",
        "cryostat_pressure_psig": "MR.COLDHEAD.DEGRADATION",
        "cryostat_heater_duty_pct": "MR.COLDHEAD.DEGRADATION",
        "compressor_supply_mpa": "MR.COMPRESSOR.GAS_LEAK",
        "compressor_return_mpa": "MR.COMPRESSOR.GAS_LEAK",
        "cooling_water_in_c": "MR.CHILLER.DEGRADATION",
        "room_temp_c": "MRI.ROOM_TEMP_C.ANOMALY",
    },
    Modality.CT: {
        "filament_current_a": "CT.TUBE.FILAMENT_WEAR",
        "tube_arc_count": "CT.TUBE.ARCING",
        "anode_drive_current_a": "CT.ANODE.BEARING_WEAR",
        "gantry_rotation_jitter_ms": "CT.ANODE.BEARING_WEAR",
        "tube_oil_temp_c": "CT.TUBE_OIL_TEMP_C.ANOMALY",
        "detector_temp_c": "CT.DETECTOR_TEMP_C.ANOMALY",
    },
    Modality.INFUSION_PUMP: {
        "battery_voltage_v": "PUMP.BATTERY.END_OF_LIFE",
        "battery_soh_pct": "PUMP.BATTERY.END_OF_LIFE",
        "motor_current_ma": "PUMP.MECHANISM.WEAR",
        "occlusion_baseline_mmhg": "PUMP.OCCLUSION_SENSOR.DRIFT",
    },
    Modality.VENTILATOR: {
        "o2_cell_mv": "VENT.O2_CELL.DEPLETION",
        "blower_current_a": "VENT.BLOWER.WEAR",
        "internal_leak_ml_min": "VENT.EXP_VALVE.LEAK",
        "peep_error_cmh2o": "VENT.EXP_VALVE.LEAK",
    },
    Modality.PATIENT_MONITOR: {
        "nibp_inflation_s": "MON.NIBP.PUMP_VALVE_WEAR",
        "nibp_retry_count": "MON.NIBP.PUMP_VALVE_WEAR",
        "monitor_battery_soh_pct": "MON.BATTERY.FADE",
        "monitor_fan_rpm": "MON.FAN.BEARING_WEAR",
        "monitor_internal_temp_c": "MON.FAN.BEARING_WEAR",
        "nibp_zero_offset_mmhg": "PATIENT_MONITOR.NIBP_ZERO_OFFSET_MMHG.ANOMALY",
    },
    Modality.DEFIBRILLATOR: {
        "charge_time_s": "DEFIB.BATTERY.FADE",
        "defib_battery_capacity_pct": "DEFIB.BATTERY.FADE",
        "energy_error_pct": "DEFIB.HV_CAPACITOR.DEGRADATION",
        "test_load_impedance_ohm": "DEFIB.THERAPY_CABLE.INTERMITTENT",
        "pads_days_to_expiry": "DEFIBRILLATOR.PADS_DAYS_TO_EXPIRY.ANOMALY",
    },
    Modality.STERILIZER: {
        "leak_rate_mbar_min": "STER.DOOR_GASKET.WEAR",
        "vacuum_pulldown_s": "STER.VACUUM_PUMP.WEAR",
        "cycle_time_min": "STER.VACUUM_PUMP.WEAR",
        "chamber_temp_c": "STER.STEAM_VALVE.DEGRADATION",
        "chamber_pressure_kpa": "STER.STEAM_VALVE.DEGRADATION",
        "steam_temp_deviation_c": "STERILIZER.STEAM_TEMP_DEVIATION_C.ANOMALY",
    },
    Modality.ANESTHESIA: {
        "checkout_leak_ml_min": "ANES.BREATHING_SYSTEM.LEAK",
        "fio2_cal_error_pct": "ANES.O2_SENSOR.DEPLETION",
        "flow_sensor_error_pct": "ANES.FLOW_SENSOR.DRIFT",
        "pipeline_o2_kpa": "ANESTHESIA.PIPELINE_O2_KPA.ANOMALY",
    },
}


@pytest.mark.parametrize(
    ("modality", "signal", "mode"),
    [(m, s, f) for m, table in CONTRACT.items() for s, f in table.items()],
)
def test_signal_to_failure_mode_contract(modality: Modality, signal: str, mode: str) -> None:
    assert catalog.failure_mode_for(modality, signal) == mode
    assert catalog.unit_for(signal) != ""


def test_catalog_holds_exactly_the_contract_modes() -> None:
    expected = {f for t in CONTRACT.values() for f in t.values() if not f.endswith(".ANOMALY")}
    assert set(catalog.CATALOG) == expected


@pytest.mark.parametrize("mode_id", sorted(catalog.CATALOG))
def test_every_entry_is_complete(mode_id: str) -> None:
    mode = catalog.lookup(mode_id)
    assert mode.id == mode_id
    assert mode.description and mode.subsystem
    assert mode.recommended_checks and mode.likely_parts and mode.safety_notes
    assert 0 < mode.response_time_h <= 168
    for signal in mode.signals:
        assert catalog.failure_mode_for(mode.modality, signal) == mode_id


def test_mr_helium_response_is_24_h() -> None:
    assert catalog.lookup(catalog.failure_mode_for("mri", "helium_level_pct")).response_time_h == 24


def test_fallback_id_is_upper_case() -> None:
    assert catalog.fallback_id("patient_monitor", "nibp_retries") == (
        "PATIENT_MONITOR.NIBP_RETRIES.ANOMALY"
    )
    assert catalog.failure_mode_for(Modality.DIALYSIS, "conductivity_ms_cm") == (
        "DIALYSIS.CONDUCTIVITY_MS_CM.ANOMALY"
    )


def test_wrong_modality_falls_back_but_other_infers_from_signal() -> None:
    assert catalog.failure_mode_for("ct", "helium_level_pct") == "CT.HELIUM_LEVEL_PCT.ANOMALY"
    assert catalog.failure_mode_for("other", "o2_cell_mv") == "VENT.O2_CELL.DEPLETION"
    assert catalog.modality_of_signal("tube_arc_count") is Modality.CT
    assert catalog.modality_of_signal("nope") is None


def test_unknown_ids_get_a_generic_playbook() -> None:
    mode = catalog.lookup("PATIENT_MONITOR.NIBP_RETRIES.ANOMALY")
    assert mode.modality is Modality.PATIENT_MONITOR
    assert "nibp_retries" in mode.description
    assert mode.response_time_h == catalog.FALLBACK_RESPONSE_H
    custom = catalog.lookup("SITE.SPECIAL")
    assert custom.modality is Modality.OTHER and custom.recommended_checks


def test_units() -> None:
    assert catalog.unit_for("internal_leak_ml_min") == "mL/min"
    assert catalog.unit_for("cooling_water_in_c") == "°C"
    assert catalog.unit_for("charge_time_s") == "s"
    assert catalog.unit_for("fan_rpm") == "rpm"
    assert catalog.unit_for("self_test_code") == "code"  # catalogued (defibrillator)
    assert catalog.unit_for("door_status_code") == ""
