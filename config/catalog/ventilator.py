"""Catalogue data of the ventilator: signals, failure modes and look-alike events.

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
    SignalSpec("o2_cell_mv", "mV", 8, 16, 0.01, "galvanic O2 cell output referred to 21 % O2"),
    SignalSpec("blower_current_a", "A", 0, 2.4, 0.01, "blower motor current"),
    SignalSpec("blower_speed_krpm", "krpm", 0, 35, 0.1, "blower speed (0 in standby)"),
    SignalSpec("internal_leak_ml_min", "mL/min", 0, 80, 1, "internal leak estimate"),
    SignalSpec("peep_error_cmh2o", "cmH2O", -1.6, 1.6, 0.1, "measured minus set PEEP"),
    SignalSpec("in_use", "", 0, 1, 1, "1 while the device is in clinical use, else 0"),
)

FAILURE_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        id="VENT.O2_CELL.DEPLETION",
        modality=Modality.VENTILATOR,
        description=(
            "Galvanic O2 cell depleting: sensitivity drifts down, FiO2 reads low at high O2."
        ),
        subsystem="O2 sensor (galvanic cell)",
        signals=("o2_cell_mv",),
        likely_parts=("O2 cell",),
        recommended_checks=(
            "Run the 21 % / 100 % O2 calibration.",
            "Compare with an external O2 analyser; check the cell's age.",
            "Replace the cell between patients.",
        ),
        oem_required=False,
        safety_notes=CLINICAL_SAFETY,
        response_time_h=24.0,
        shape="accelerating",
        effects=(Effect("o2_cell_mv", "down", "drift to 50 % of the new-cell output"),),
        terminal="O2 calibration fails",
    ),
    FailureMode(
        id="VENT.BLOWER.WEAR",
        modality=Modality.VENTILATOR,
        description=(
            "Blower / turbine wear: current rises at the same speed; runs hotter and noisier."
        ),
        subsystem="blower / turbine",
        signals=("blower_current_a",),
        likely_parts=("blower / turbine module", "inlet filters", "cooling fan"),
        recommended_checks=(
            "Compare blower hours with the service interval.",
            "Check blower current at a reference speed; inspect the inlet filter.",
            "Run the extended self-test; book the turbine exchange.",
        ),
        oem_required=True,
        safety_notes=CLINICAL_SAFETY,
        response_time_h=48.0,
        shape="accelerating",
        effects=(Effect("blower_current_a", "up", "trend +40 % at the same speed"),),
        terminal="blower fault: device inoperative",
    ),
    FailureMode(
        id="VENT.EXP_VALVE.LEAK",
        modality=Modality.VENTILATOR,
        description=(
            "Expiratory valve leak: internal leak grows and PEEP drifts from its set value."
        ),
        subsystem="expiratory valve",
        signals=("internal_leak_ml_min", "peep_error_cmh2o"),
        likely_parts=("expiratory valve membrane", "expiratory valve assembly", "seals"),
        recommended_checks=(
            "Run the leak / self-test and compare with previous results.",
            "Check PEEP accuracy with a ventilator analyser.",
            "Inspect and replace the valve membrane; check the flow sensor.",
        ),
        oem_required=False,
        safety_notes=CLINICAL_SAFETY,
        response_time_h=24.0,
        shape="accelerating",
        effects=(
            Effect("internal_leak_ml_min", "up", "trend +400 mL/min"),
            Effect("peep_error_cmh2o", "down", "drift -1 cmH2O (PEEP below set)"),
            Effect("peep_error_cmh2o", "variance_up", "noise x5"),
        ),
        terminal="leak test fails: device not fit for use",
    ),
)

LOOKALIKES: tuple[Lookalike, ...] = (
    Lookalike(
        "VENT.EVENT.CIRCUIT_DISCONNECT",
        Modality.VENTILATOR,
        "patient circuit change/disconnection: leak spike and unstable PEEP",
        "VENT.EXP_VALVE.LEAK",
        (
            Effect("internal_leak_ml_min", "up", "spike +250 mL/min decaying"),
            Effect("peep_error_cmh2o", "variance_up", "noise x4 during the event"),
        ),
    ),
)
