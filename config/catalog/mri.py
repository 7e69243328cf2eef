"""Catalogue data of the MRI: signals, failure modes and look-alike events.

Plain data; see :mod:`htm_edge.config.catalog` for what each field means.
Numbers are typical/illustrative, not vendor specifications.
"""

from __future__ import annotations

from htm_edge.config.catalog.types import (
    MR_SAFETY,
    Effect,
    FailureMode,
    Lookalike,
    SignalSpec,
)
from htm_edge.config.inventory import Modality

__all__ = ["FAILURE_MODES", "LOOKALIKES", "SIGNALS"]

SIGNALS: tuple[SignalSpec, ...] = (
    SignalSpec("helium_level_pct", "%", 60, 100, 0.1, "liquid helium level, % of full"),
    SignalSpec("coldhead_2nd_stage_k", "K", 3.9, 4.5, 0.01, "cold-head 2nd stage temperature"),
    SignalSpec("coldhead_1st_stage_k", "K", 38, 52, 0.1, "cold-head 1st stage / shield temp"),
    SignalSpec("compressor_supply_mpa", "MPa", 1.9, 2.3, 0.01, "He compressor supply pressure"),
    SignalSpec("compressor_return_mpa", "MPa", 0.6, 0.9, 0.01, "He compressor return pressure"),
    SignalSpec("cooling_water_in_c", "°C", 8, 22, 0.1, "compressor cooling water inlet"),
    SignalSpec("cryostat_pressure_psig", "psig", 1.0, 2.0, 0.01, "magnet cryostat pressure"),
    SignalSpec("cryostat_heater_duty_pct", "%", 20, 70, 1, "pressure-control heater duty"),
    SignalSpec("room_temp_c", "°C", 17, 25, 0.1, "technical room temperature"),
    SignalSpec("in_use", "", 0, 1, 1, "1 while the device is in clinical use, else 0"),
)

FAILURE_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        id="MR.COLDHEAD.DEGRADATION",
        modality=Modality.MRI,
        description=(
            "Cold-head wear: the cryocooler loses recondensing margin, helium "
            "boils off; quench risk if the level keeps falling."
        ),
        subsystem="cryogenics (cold head)",
        signals=(
            "coldhead_2nd_stage_k",
            "coldhead_1st_stage_k",
            "helium_level_pct",
            "cryostat_pressure_psig",
            "cryostat_heater_duty_pct",
        ),
        likely_parts=(
            "cold head (displacer, seals, valve motor)",
            "compressor adsorber",
            "helium refill",
        ),
        recommended_checks=(
            "Compare 2nd/1st-stage temperatures with this magnet's own history.",
            "Check helium level and its rate of decrease; estimate days to the fill limit.",
            "Check heater duty / cryostat pressure (margin shrinking means cold-head wear).",
            "Verify compressor pressures and cooling water are in spec (rule out causes).",
            "Listen to the cold-head rhythm; book the cold-head exchange with the OEM.",
        ),
        oem_required=True,
        safety_notes=MR_SAFETY,
        response_time_h=24.0,
        shape="accelerating",
        effects=(
            Effect(
                "cryostat_heater_duty_pct", "down", "drift: heater duty falls to 0 by mid-course"
            ),
            Effect("coldhead_2nd_stage_k", "up", "drift +0.8 K, variance up near the end"),
            Effect("coldhead_1st_stage_k", "up", "drift +12 K"),
            Effect("cryostat_pressure_psig", "up", "drift +1.5 psig once heater duty is 0"),
            Effect(
                "helium_level_pct", "down", "trend: slope turns negative and accelerates, -12 %"
            ),
        ),
        terminal="cold head stops recondensing: 2nd stage warms, boil-off ~1.5 %/h",
    ),
    FailureMode(
        id="MR.COMPRESSOR.GAS_LEAK",
        modality=Modality.MRI,
        description=(
            "Helium compressor losing gas charge: supply and return pressures "
            "drift down and cold-head capacity falls."
        ),
        subsystem="cryogenics (helium compressor)",
        signals=("compressor_supply_mpa", "compressor_return_mpa"),
        likely_parts=(
            "helium gas 99.999 % (charge top-up)",
            "flex lines and self-sealing couplings",
            "compressor adsorber",
            "O-rings",
        ),
        recommended_checks=(
            "Read static and running supply/return pressures against the compressor label.",
            "Leak-check couplings and flex lines with a helium leak detector.",
            "Check adsorber hours and oil carry-over.",
            "Top up the gas charge (OEM or trained staff) and re-check in 24 h.",
        ),
        oem_required=True,
        safety_notes=(
            *MR_SAFETY,
            "High-pressure helium lines: depressurise before opening couplings.",
        ),
        response_time_h=24.0,
        shape="linear",
        effects=(
            Effect("compressor_supply_mpa", "down", "drift -0.45 MPa"),
            Effect("compressor_return_mpa", "down", "drift -0.22 MPa (delta-p shrinks)"),
            Effect("coldhead_2nd_stage_k", "up", "late drift +0.15 K as cooling power falls"),
        ),
        terminal="low-pressure trip: compressor stops, pressures equalise, cold head warms",
    ),
    FailureMode(
        id="MR.CHILLER.DEGRADATION",
        modality=Modality.MRI,
        description=(
            "Chiller or cooling-water degradation: compressor inlet water warms; "
            "ends in a compressor thermal trip and rising boil-off."
        ),
        subsystem="cooling water (chiller)",
        signals=("cooling_water_in_c",),
        likely_parts=(
            "chiller service (refrigerant, fan)",
            "water strainer / filter",
            "circulation pump",
        ),
        recommended_checks=(
            "Measure water inlet temperature and flow at the helium compressor.",
            "Clean the strainer; check the chiller for abnormal cycling.",
            "Check ambient temperature at the chiller and the facility cooling backup.",
            "Warn facilities: chillers are often outside the OEM contract.",
        ),
        oem_required=False,
        safety_notes=("Lock out chiller power before opening it; water near electrical cabinets.",),
        response_time_h=12.0,
        shape="ratchet",
        effects=(
            Effect("cooling_water_in_c", "up", "ratchet +8 °C, afternoons first"),
            Effect(
                "cooling_water_in_c", "variance_up", "cycling amplitude 0.3 -> 2.3 °C, period up"
            ),
            Effect("coldhead_1st_stage_k", "up", "drift +2 K (less cooling power)"),
            Effect("compressor_supply_mpa", "up", "coupling: +0.06 MPa with warmer water"),
            Effect("compressor_return_mpa", "up", "coupling: +0.03 MPa with warmer water"),
        ),
        terminal="compressor thermal trip: compressor stops, cold head warms",
    ),
)

LOOKALIKES: tuple[Lookalike, ...] = (
    Lookalike(
        "MR.EVENT.COLDHEAD_SERVICE_STOP",
        Modality.MRI,
        "planned cold-head service: compressor off for the event, then recovery",
        "MR.COLDHEAD.DEGRADATION",
        (
            Effect("compressor_supply_mpa", "down", "step to static ~1.55 MPa"),
            Effect("compressor_return_mpa", "up", "step to static ~1.55 MPa"),
            Effect("coldhead_2nd_stage_k", "up", "rise of several K, recovers after"),
            Effect("helium_level_pct", "down", "extra boil-off during the stop"),
        ),
    ),
)
