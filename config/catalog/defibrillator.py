"""Catalogue data of the defibrillator: signals, failure modes and look-alike events.

Plain data; see :mod:`htm_edge.config.catalog` for what each field means.
Numbers are typical/illustrative, not vendor specifications. Every signal but
``in_use`` comes from the automatic daily self-test (03:00 local), so each is
reported once a day.
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
    SignalSpec("self_test_code", "code", 0, 1, 1, "daily self-test: 0 pass, 1 warning, 2 fail"),
    SignalSpec("defib_battery_capacity_pct", "%", 70, 100, 1, "battery capacity at self-test"),
    SignalSpec("charge_time_s", "s", 3.5, 8.0, 0.1, "self-test charge time to 200 J"),
    SignalSpec("energy_error_pct", "%", -5, 5, 0.1, "delivered vs selected energy (test load)"),
    SignalSpec("test_load_impedance_ohm", "ohm", 45, 55, 0.1, "internal test-load impedance"),
    SignalSpec("pads_days_to_expiry", "d", 0, 1100, 1, "days until the fitted pads expire"),
    SignalSpec("in_use", "", 0, 1, 1, "1 while in clinical use, else 0"),
)
# a healthy device can warn (1): expired pads are a date, not wear

FAILURE_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        id="DEFIB.BATTERY.FADE",
        modality=Modality.DEFIBRILLATOR,
        description=(
            "Battery fade: charge time to full energy lengthens and capacity "
            "falls; the self-test ends in a low-battery warning, then a fail."
        ),
        subsystem="battery / power",
        signals=("charge_time_s", "defib_battery_capacity_pct"),
        likely_parts=("battery pack (OEM part number)",),
        recommended_checks=(
            "Read the self-test log: charge times and capacity over the last weeks.",
            "Run a full charge/discharge into the analyser (energy accuracy ±15 %).",
            "Replace the battery; re-run the self-test and the user test.",
        ),
        oem_required=False,
        safety_notes=(
            *CLINICAL_SAFETY,
            "High voltage: discharge into the test load only; never open the HV section.",
        ),
        response_time_h=24.0,
        shape="accelerating",
        effects=(
            Effect("charge_time_s", "up", "trend +6 s"),
            Effect("defib_battery_capacity_pct", "down", "fade -40 points"),
            Effect("self_test_code", "up", "warning (1) in the last fifth of the course"),
        ),
        terminal="self-test fails (2): the device is not ready for use",
    ),
    FailureMode(
        id="DEFIB.HV_CAPACITOR.DEGRADATION",
        modality=Modality.DEFIBRILLATOR,
        description=(
            "High-voltage capacitor or charging circuit degradation: delivered "
            "energy drifts low and charge time becomes erratic."
        ),
        subsystem="high-voltage charge circuit",
        signals=("energy_error_pct",),
        likely_parts=("HV capacitor", "charger board"),
        recommended_checks=(
            "Measure delivered energy at 50, 150 and 200 J with an analyser.",
            "Check charge time at each energy; compare with the battery's health.",
            "Return to the OEM or replace the HV assembly.",
        ),
        oem_required=True,
        safety_notes=(
            *CLINICAL_SAFETY,
            "High voltage: capacitors hold a lethal charge; OEM-trained staff only.",
        ),
        response_time_h=24.0,
        shape="linear",
        effects=(
            Effect("energy_error_pct", "down", "drift -14 %"),
            Effect("charge_time_s", "variance_up", "charge-time jitter x4"),
        ),
        terminal="energy out of tolerance: self-test fails (2)",
    ),
    FailureMode(
        id="DEFIB.THERAPY_CABLE.INTERMITTENT",
        modality=Modality.DEFIBRILLATOR,
        description=(
            "Therapy cable or connector intermittent: the self-test's load "
            "impedance jumps, more and more often, until the test fails."
        ),
        subsystem="therapy cable / pads connector",
        signals=("test_load_impedance_ohm",),
        likely_parts=("therapy cable", "pads connector"),
        recommended_checks=(
            "Flex the therapy cable during a self-test and watch the impedance.",
            "Inspect the connector pins for wear and corrosion.",
            "Replace the cable.",
        ),
        oem_required=False,
        safety_notes=CLINICAL_SAFETY,
        response_time_h=48.0,
        shape="accelerating",
        effects=(
            Effect("test_load_impedance_ohm", "variance_up", "jumps of 10-40 ohm, more often"),
            Effect("test_load_impedance_ohm", "up", "contact resistance +3 ohm"),
            Effect("self_test_code", "up", "warnings (1) on the worst days"),
        ),
        terminal="open circuit: self-test fails (2)",
    ),
)

LOOKALIKES: tuple[Lookalike, ...] = (
    Lookalike(
        "DEFIB.EVENT.CLINICAL_USE",
        Modality.DEFIBRILLATOR,
        "a resuscitation with repeated shocks: the next self-tests see a drained "
        "battery (longer charge, lower capacity) until it is recharged",
        "DEFIB.BATTERY.FADE",
        (
            Effect("charge_time_s", "up", "+2 s at the next self-tests"),
            Effect("defib_battery_capacity_pct", "down", "-15 points, recovers"),
        ),
    ),
)
