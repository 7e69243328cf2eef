"""Catalogue data of the infusion pump: signals, failure modes and look-alike events.

Plain data; see :mod:`htm_edge.config.catalog` for what each field means.
Numbers are typical/illustrative, not vendor specifications.
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
    SignalSpec("battery_voltage_v", "V", 6.9, 7.6, 0.01, "battery voltage (under motor load)"),
    SignalSpec("battery_soh_pct", "%", 80, 100, 1, "battery state of health"),
    SignalSpec("motor_current_ma", "mA", 0, 130, 1, "pumping motor current (0 when idle)"),
    SignalSpec("occlusion_baseline_mmhg", "mmHg", 0, 30, 1, "downstream pressure baseline"),
    SignalSpec("infusion_rate_ml_h", "mL/h", 0, 250, 0.1, "programmed rate (0 when idle)"),
    SignalSpec("in_use", "", 0, 1, 1, "1 while the device is in clinical use, else 0"),
)

FAILURE_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        id="PUMP.BATTERY.END_OF_LIFE",
        modality=Modality.INFUSION_PUMP,
        description=(
            "Battery end of life: capacity fades and voltage sags under load; the "
            "pump may stop during patient transport."
        ),
        subsystem="battery / power",
        signals=("battery_voltage_v", "battery_soh_pct"),
        likely_parts=("battery pack (OEM part number)",),
        recommended_checks=(
            "Run the run-on-battery test and compare with the specified runtime.",
            "Check cycle count and state of health; check the charger.",
            "Replace the pack and verify the runtime.",
        ),
        oem_required=False,
        safety_notes=(*CLINICAL_SAFETY, "Li-ion pack: do not puncture; recycle the old pack."),
        response_time_h=72.0,
        shape="accelerating",
        effects=(
            Effect("battery_voltage_v", "down", "sag x5 under load, rest -0.2 V, collapse at end"),
            Effect("battery_soh_pct", "down", "fade -50 points"),
        ),
        terminal="voltage collapse below cut-off: no battery operation",
    ),
    FailureMode(
        id="PUMP.MECHANISM.WEAR",
        modality=Modality.INFUSION_PUMP,
        description=(
            "Pumping mechanism wear: motor current rises for the same rate; flow accuracy at risk."
        ),
        subsystem="pumping mechanism",
        signals=("motor_current_ma",),
        likely_parts=("pumping mechanism / platen", "motor assembly", "door latch"),
        recommended_checks=(
            "Test flow accuracy with an infusion analyser.",
            "Inspect the mechanism for fluid ingress and residue.",
            "Check the door latch and platen.",
        ),
        oem_required=False,
        safety_notes=(
            *CLINICAL_SAFETY,
            "Take out of service if flow accuracy is out of tolerance.",
        ),
        response_time_h=72.0,
        shape="accelerating",
        effects=(
            Effect("motor_current_ma", "up", "trend +50 % at the same rate"),
            Effect("motor_current_ma", "variance_up", "noise x5"),
        ),
        terminal="mechanism jam: pump stops",
    ),
    FailureMode(
        id="PUMP.OCCLUSION_SENSOR.DRIFT",
        modality=Modality.INFUSION_PUMP,
        description=(
            "Downstream occlusion sensor drift: nuisance occlusion alarms, or a "
            "real occlusion detected late."
        ),
        subsystem="downstream occlusion sensor",
        signals=("occlusion_baseline_mmhg",),
        likely_parts=("occlusion pressure sensor assembly",),
        recommended_checks=(
            "Check occlusion pressure calibration with an analyser.",
            "Clean the sensor area; review the occlusion alarm log.",
            "Recalibrate or replace the sensor.",
        ),
        oem_required=False,
        safety_notes=(
            *CLINICAL_SAFETY,
            "A drifting sensor can miss an occlusion: remove from use if out of tolerance.",
        ),
        response_time_h=48.0,
        shape="accelerating",
        effects=(Effect("occlusion_baseline_mmhg", "up", "drift +100 mmHg"),),
        terminal="baseline near alarm limit: constant nuisance occlusion alarms",
    ),
)

LOOKALIKES: tuple[Lookalike, ...] = (
    Lookalike(
        "PUMP.EVENT.PATIENT_TRANSPORT",
        Modality.INFUSION_PUMP,
        "long patient transport on battery: voltage falls with depth of discharge",
        "PUMP.BATTERY.END_OF_LIFE",
        (Effect("battery_voltage_v", "down", "-0.35 V by the end, recovers on charge"),),
    ),
)
