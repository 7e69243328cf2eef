"""Catalogue data of the anaesthesia workstation: signals, failure modes and look-alikes.

Plain data; see :mod:`htm_edge.config.catalog` for what each field means.
Numbers are typical/illustrative, not vendor specifications. The checkout
signals come from the daily machine check (07:00 local, before the first
case); pipeline pressure is reported every sample.
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
    SignalSpec("checkout_leak_ml_min", "mL/min", 10, 180, 1, "system leak at 30 cmH2O (checkout)"),
    SignalSpec(
        "checkout_compliance_ml_cmh2o", "mL/cmH2O", 2.5, 5.5, 0.01, "breathing-system compliance"
    ),
    SignalSpec("fio2_cal_error_pct", "%", -1.5, 1.5, 0.1, "O2 sensor error at the 21 % check"),
    SignalSpec("flow_sensor_error_pct", "%", -4, 4, 0.1, "inspiratory flow sensor error"),
    SignalSpec("pipeline_o2_kpa", "kPa", 380, 520, 1, "O2 pipeline supply pressure"),
    SignalSpec("in_use", "", 0, 1, 1, "1 during a case, else 0"),
)

FAILURE_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        id="ANES.BREATHING_SYSTEM.LEAK",
        modality=Modality.ANESTHESIA,
        description=(
            "Breathing-system leak (absorber seals, bellows, valves): the checkout "
            "leak trends up until the machine fails its checkout."
        ),
        subsystem="breathing system",
        signals=("checkout_leak_ml_min",),
        likely_parts=("absorber canister seals", "bellows", "APL / check valve discs"),
        recommended_checks=(
            "Trend the daily checkout leak; compare with the model's pass limit.",
            "Check the absorber canister seating and seals first (a frequent look-alike).",
            "Leak-test the breathing system section by section.",
        ),
        oem_required=False,
        safety_notes=(*CLINICAL_SAFETY, "Never leave a machine that failed checkout in theatre."),
        response_time_h=24.0,
        shape="accelerating",
        effects=(
            Effect("checkout_leak_ml_min", "up", "trend +350 mL/min"),
            Effect("checkout_compliance_ml_cmh2o", "up", "drift +0.8 (leak looks like compliance)"),
        ),
        terminal="checkout fails on leak: machine unavailable",
    ),
    FailureMode(
        id="ANES.O2_SENSOR.DEPLETION",
        modality=Modality.ANESTHESIA,
        description=(
            "Galvanic O2 sensor depletion: the 21 % check reads lower and lower "
            "until calibration fails."
        ),
        subsystem="gas monitoring (O2 sensor)",
        signals=("fio2_cal_error_pct",),
        likely_parts=("O2 sensor (galvanic cell)",),
        recommended_checks=(
            "Calibrate at 21 % and 100 % O2; a cell that reads low at 100 % is spent.",
            "Replace the cell; record its install date.",
        ),
        oem_required=False,
        safety_notes=CLINICAL_SAFETY,
        response_time_h=72.0,
        shape="linear",
        effects=(Effect("fio2_cal_error_pct", "down", "drift -4 points"),),
        terminal="O2 sensor calibration fails",
    ),
    FailureMode(
        id="ANES.FLOW_SENSOR.DRIFT",
        modality=Modality.ANESTHESIA,
        description=(
            "Flow sensor drift or contamination: checkout flow error grows and "
            "scatters; delivered tidal volumes become uncertain."
        ),
        subsystem="flow measurement",
        signals=("flow_sensor_error_pct",),
        likely_parts=("inspiratory flow sensor", "expiratory flow sensor"),
        recommended_checks=(
            "Compare the flow sensor error across checkouts; look for moisture.",
            "Dry or replace the sensor; verify with a flow analyser.",
        ),
        oem_required=False,
        safety_notes=CLINICAL_SAFETY,
        response_time_h=48.0,
        shape="accelerating",
        effects=(
            Effect("flow_sensor_error_pct", "up", "drift +9 points"),
            Effect("flow_sensor_error_pct", "variance_up", "scatter x4"),
        ),
        terminal="flow sensor calibration fails at checkout",
    ),
)

LOOKALIKES: tuple[Lookalike, ...] = (
    Lookalike(
        "ANES.EVENT.CANISTER_NOT_SEATED",
        Modality.ANESTHESIA,
        "a CO2 absorber canister changed and not fully seated: the next checkout "
        "leaks until someone reseats it",
        "ANES.BREATHING_SYSTEM.LEAK",
        (Effect("checkout_leak_ml_min", "up", "+250 mL/min at one or two checkouts"),),
    ),
)
