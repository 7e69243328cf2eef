"""Catalogue data of the patient monitor: signals, failure modes and look-alike events.

Plain data; see :mod:`htm_edge.config.catalog` for what each field means.
Numbers are typical/illustrative, not vendor specifications. NIBP signals are
reported once per blood-pressure measurement (every 15 min while a patient is
connected), the others once a sample.
"""

from __future__ import annotations

from htm_edge.config.catalog.types import (
    CLINICAL_SAFETY,
    Effect,
    FailureMode,
    Lookalike,
    SignalSpec,
)
from htm_edge.config.inventory import Modality

__all__ = ["FAILURE_MODES", "LOOKALIKES", "SIGNALS"]

SIGNALS: tuple[SignalSpec, ...] = (
    SignalSpec("nibp_inflation_s", "s", 18, 45, 0.1, "NIBP measurement duration"),
    SignalSpec("nibp_retry_count", "count", 0, 2, 1, "NIBP re-inflations in one measurement"),
    SignalSpec("nibp_zero_offset_mmhg", "mmHg", -3, 3, 0.1, "NIBP transducer auto-zero offset"),
    SignalSpec("monitor_battery_soh_pct", "%", 75, 100, 1, "battery state of health"),
    SignalSpec("monitor_fan_rpm", "rpm", 2200, 3600, 10, "cooling fan speed"),
    SignalSpec("monitor_internal_temp_c", "°C", 28, 45, 0.1, "main board temperature"),
    SignalSpec("in_use", "", 0, 1, 1, "1 while a patient is connected, else 0"),
)

FAILURE_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        id="MON.NIBP.PUMP_VALVE_WEAR",
        modality=Modality.PATIENT_MONITOR,
        description=(
            "NIBP pump or dump-valve wear: inflation takes longer and needs more "
            "retries, then measurements fail with leak alarms."
        ),
        subsystem="non-invasive blood pressure module",
        signals=("nibp_retry_count", "nibp_inflation_s"),
        likely_parts=("NIBP pump assembly", "NIBP valve block", "NIBP hose and connector"),
        recommended_checks=(
            "Run the NIBP leak and pressure-accuracy test with a simulator (±3 mmHg).",
            "Inspect the hose, connector and cuff for leaks (rule out the look-alike).",
            "Compare inflation time and retries with this monitor's own history.",
            "Replace the pump/valve block and repeat the accuracy test.",
        ),
        oem_required=False,
        safety_notes=CLINICAL_SAFETY,
        response_time_h=72.0,
        shape="accelerating",
        effects=(
            Effect("nibp_retry_count", "up", "count up: retries per measurement 0.1 -> 2"),
            Effect("nibp_inflation_s", "up", "drift +15 s"),
        ),
        terminal="NIBP module fails its measurements: 'NIBP leak' on every cycle",
    ),
    FailureMode(
        id="MON.BATTERY.FADE",
        modality=Modality.PATIENT_MONITOR,
        description="Battery fade: the monitor no longer covers transport on battery.",
        subsystem="battery / power",
        signals=("monitor_battery_soh_pct",),
        likely_parts=("battery pack (OEM part number)",),
        recommended_checks=(
            "Run the battery capacity test; compare with the specified runtime.",
            "Replace the pack; check the charger.",
        ),
        oem_required=False,
        safety_notes=(*CLINICAL_SAFETY, "Li-ion pack: do not puncture; recycle the old pack."),
        response_time_h=96.0,
        shape="accelerating",
        effects=(Effect("monitor_battery_soh_pct", "down", "fade -35 points"),),
        terminal="state of health under 50 %: battery alarm, no transport use",
    ),
    FailureMode(
        id="MON.FAN.BEARING_WEAR",
        modality=Modality.PATIENT_MONITOR,
        description=(
            "Cooling fan bearing wear: speed becomes erratic and falls; the board "
            "warms and the monitor may reboot."
        ),
        subsystem="cooling",
        signals=("monitor_fan_rpm", "monitor_internal_temp_c"),
        likely_parts=("cooling fan", "dust filter"),
        recommended_checks=(
            "Listen to the fan; check its speed against the service menu value.",
            "Clean the dust filter and vents.",
            "Replace the fan; check the board temperature afterwards.",
        ),
        oem_required=False,
        safety_notes=CLINICAL_SAFETY,
        response_time_h=72.0,
        shape="accelerating",
        effects=(
            Effect("monitor_fan_rpm", "variance_up", "speed jitter x6"),
            Effect("monitor_fan_rpm", "down", "drift -900 rpm"),
            Effect("monitor_internal_temp_c", "up", "drift +9 °C"),
        ),
        terminal="fan stalls: over-temperature reboot",
    ),
)

LOOKALIKES: tuple[Lookalike, ...] = (
    Lookalike(
        "MON.EVENT.MOTION_ARTIFACT",
        Modality.PATIENT_MONITOR,
        "a restless patient: NIBP measurements need retries and take longer for hours",
        "MON.NIBP.PUMP_VALVE_WEAR",
        (
            Effect("nibp_retry_count", "up", "retries 1-3 while the patient moves"),
            Effect("nibp_inflation_s", "up", "+10 s while the patient moves"),
        ),
    ),
)
