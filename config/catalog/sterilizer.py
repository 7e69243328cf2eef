"""Catalogue data of the steam sterilizer (autoclave): signals, failure modes, look-alikes.

Plain data; see :mod:`htm_edge.config.catalog` for what each field means.
Numbers are typical/illustrative, not vendor specifications. Cycle signals
are reported once per cycle (at its end, 134 °C / 3.5 min hold); the vacuum
leak test and the Bowie-Dick test run every morning before the first load.
"""

from __future__ import annotations

from htm_edge.config.catalog.types import (
    Effect,
    FailureMode,
    Lookalike,
    SignalSpec,
)
from htm_edge.config.inventory import Modality

__all__ = ["FAILURE_MODES", "LOOKALIKES", "SIGNALS"]

_SAFETY = (
    "Hot surfaces and steam: let the chamber cool and depressurise; lock out steam and power.",
    "Treat loads in a failed cycle as unsterile; quarantine and re-process them.",
)

SIGNALS: tuple[SignalSpec, ...] = (
    SignalSpec("chamber_temp_c", "°C", 134.0, 136.0, 0.1, "hold-phase chamber temperature"),
    SignalSpec("chamber_pressure_kpa", "kPa", 300, 322, 0.1, "hold-phase chamber pressure (abs)"),
    SignalSpec(
        "steam_temp_deviation_c", "°C", -0.6, 0.6, 0.01, "measured minus saturated temperature"
    ),
    SignalSpec("vacuum_pulldown_s", "s", 80, 160, 1, "time to the first vacuum set point"),
    SignalSpec("cycle_time_min", "min", 40, 62, 0.1, "total cycle time"),
    SignalSpec("leak_rate_mbar_min", "mbar/min", 0.0, 1.0, 0.01, "daily vacuum leak test"),
    SignalSpec("bowie_dick_code", "code", 0, 1, 1, "daily Bowie-Dick test: 0 pass, 1 fail"),
    SignalSpec("in_use", "", 0, 1, 1, "1 while a cycle runs, else 0"),
)

FAILURE_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        id="STER.DOOR_GASKET.WEAR",
        modality=Modality.STERILIZER,
        description=(
            "Door gasket wear: the vacuum leak rate trends up past the 1.3 mbar/min "
            "action limit, air gets in and the Bowie-Dick test fails."
        ),
        subsystem="door and seal",
        signals=("leak_rate_mbar_min",),
        likely_parts=("door gasket", "door seal groove cleaning kit"),
        recommended_checks=(
            "Trend the daily leak tests; action limit 1.3 mbar/min (1.0 mmHg/min).",
            "Inspect and clean the gasket and its groove; look for cuts and flat spots.",
            "Replace the gasket; expect a few high leak tests while it beds in.",
        ),
        oem_required=False,
        safety_notes=_SAFETY,
        response_time_h=24.0,
        shape="accelerating",
        effects=(
            Effect("leak_rate_mbar_min", "up", "trend +2.2 mbar/min"),
            Effect("steam_temp_deviation_c", "down", "air: temperature below saturation, -0.8"),
            Effect("bowie_dick_code", "up", "fails (1) in the last tenth of the course"),
        ),
        terminal="leak test and Bowie-Dick fail: sterilizer out of use",
    ),
    FailureMode(
        id="STER.VACUUM_PUMP.WEAR",
        modality=Modality.STERILIZER,
        description=(
            "Vacuum pump (liquid-ring) wear or scaling: pull-down takes longer, "
            "cycles lengthen, then the cycle aborts on a vacuum timeout."
        ),
        subsystem="vacuum system",
        signals=("vacuum_pulldown_s", "cycle_time_min"),
        likely_parts=("vacuum pump", "pump seal-water valve", "check valve"),
        recommended_checks=(
            "Compare pull-down times with this sterilizer's own history.",
            "Check seal-water supply temperature and flow to the pump.",
            "Descale or replace the vacuum pump.",
        ),
        oem_required=False,
        safety_notes=_SAFETY,
        response_time_h=48.0,
        shape="accelerating",
        effects=(
            Effect("vacuum_pulldown_s", "up", "drift +120 s"),
            Effect("cycle_time_min", "up", "drift +9 min"),
        ),
        terminal="vacuum timeout: every cycle aborts",
    ),
    FailureMode(
        id="STER.STEAM_VALVE.DEGRADATION",
        modality=Modality.STERILIZER,
        description=(
            "Steam supply valve or trap degradation: hold-phase temperature and "
            "pressure swing more, in bursts, until a cycle fails its hold."
        ),
        subsystem="steam supply",
        signals=("chamber_temp_c", "chamber_pressure_kpa"),
        likely_parts=("steam inlet valve", "steam trap", "pressure transducer"),
        recommended_checks=(
            "Look at hold-phase temperature and pressure traces of recent cycles.",
            "Check the steam supply pressure and the trap downstream of the chamber.",
            "Replace the inlet valve or the trap; verify with a test cycle and a data logger.",
        ),
        oem_required=False,
        safety_notes=_SAFETY,
        response_time_h=24.0,
        shape="ratchet",
        effects=(
            Effect("chamber_temp_c", "variance_up", "hold-phase scatter x5"),
            Effect("chamber_pressure_kpa", "variance_up", "hold-phase scatter x5"),
            Effect("chamber_temp_c", "down", "mean -0.8 °C"),
        ),
        terminal="hold temperature below 134 °C: cycle fails",
    ),
)

LOOKALIKES: tuple[Lookalike, ...] = (
    Lookalike(
        "STER.EVENT.NEW_GASKET_BEDDING_IN",
        Modality.STERILIZER,
        "leak tests right after a door-gasket change read high for a few days",
        "STER.DOOR_GASKET.WEAR",
        (Effect("leak_rate_mbar_min", "up", "+0.5 mbar/min, fading over 3 days"),),
    ),
)
