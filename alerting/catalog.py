"""The failure-mode catalogue: what each failure mode means and what to do about it.

Plain data, so the simulators, the evaluation harness and the work orders share
one controlled vocabulary. Failure-mode ids and signal names are a contract
with :mod:`simulators`; change them together.

A rule without ``failure_mode`` maps each (modality, signal) to its most likely
mode with :func:`failure_mode_for`; signals outside the catalogue map to the
fallback id ``<MODALITY>.<SIGNAL>.ANOMALY``.

Examples
--------
>>> failure_mode_for("mri", "helium_level_pct")
'MR.COLDHEAD.DEGRADATION'
>>> failure_mode_for("mri", "room_temp_c")
'MRI.ROOM_TEMP_C.ANOMALY'
>>> lookup("MR.COLDHEAD.DEGRADATION").response_time_h
24.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from htm_edge.config.schema import Modality

__all__ = [
    "CATALOG",
    "FALLBACK_RESPONSE_H",
    "IN_USE_SIGNAL",
    "SIGNAL_UNITS",
    "WORKLOAD_SIGNALS",
    "FailureMode",
    "failure_mode_for",
    "fallback_id",
    "lookup",
    "modality_of_signal",
    "unit_for",
]

#: the signal every device publishes (0/1); it never alerts, it feeds utilisation
IN_USE_SIGNAL = "in_use"
#: workload covariates: they move with use, not with wear, so signal globs skip them
WORKLOAD_SIGNALS: frozenset[str] = frozenset(
    {IN_USE_SIGNAL, "infusion_rate_ml_h", "anode_heat_pct", "blower_speed_krpm"}
)
#: required response time of an uncatalogued anomaly
FALLBACK_RESPONSE_H = 72.0


@dataclass(frozen=True, slots=True)
class FailureMode:
    """One catalogued failure mode and the field engineer's playbook for it."""

    id: str
    modality: Modality
    description: str
    subsystem: str
    signals: tuple[str, ...]
    likely_parts: tuple[str, ...]
    recommended_checks: tuple[str, ...]
    oem_required: bool
    safety_notes: tuple[str, ...]
    response_time_h: float


_MR_SAFETY = (
    "Zone IV: the magnet is always on; MR-safe tools only, screen everyone for implants.",
    "Cryogen risk: check the room O2 monitor and the quench pipe; never vent helium indoors.",
)
_CT_SAFETY = (
    "Ionising radiation: no exposures with covers open; follow local radiation rules.",
    "High voltage: lock out the generator and wait for the HV to discharge.",
)
_CLINICAL_SAFETY = (
    "Clean and disinfect before service (infection control).",
    "Never interrupt therapy: swap the device first if a patient is connected.",
)

_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        "MR.COLDHEAD.DEGRADATION",
        Modality.MRI,
        "Cold-head wear: the cryocooler loses recondensing margin, helium boils off; "
        "quench risk if the level keeps falling.",
        "cryogenics (cold head)",
        (
            "coldhead_2nd_stage_k",
            "coldhead_1st_stage_k",
            "helium_level_pct",
            "cryostat_pressure_psig",
            "cryostat_heater_duty_pct",
        ),
        ("cold head (displacer, seals, valve motor)", "compressor adsorber", "helium refill"),
        (
            "Compare 2nd/1st-stage temperatures with this magnet's own history.",
            "Check helium level and its rate of decrease; estimate days to the fill limit.",
            "Check heater duty / cryostat pressure (margin shrinking means cold-head wear).",
            "Verify compressor pressures and cooling water are in spec (rule out causes).",
            "Listen to the cold-head rhythm; book the cold-head exchange with the OEM.",
        ),
        True,
        _MR_SAFETY,
        24.0,
    ),
    FailureMode(
        "MR.COMPRESSOR.GAS_LEAK",
        Modality.MRI,
        "Helium compressor losing gas charge: supply and return pressures drift down "
        "and cold-head capacity falls.",
        "cryogenics (helium compressor)",
        ("compressor_supply_mpa", "compressor_return_mpa"),
        (
            "helium gas 99.999 % (charge top-up)",
            "flex lines and self-sealing couplings",
            "compressor adsorber",
            "O-rings",
        ),
        (
            "Read static and running supply/return pressures against the compressor label.",
            "Leak-check couplings and flex lines with a helium leak detector.",
            "Check adsorber hours and oil carry-over.",
            "Top up the gas charge (OEM or trained staff) and re-check in 24 h.",
        ),
        True,
        (*_MR_SAFETY, "High-pressure helium lines: depressurise before opening couplings."),
        24.0,
    ),
    FailureMode(
        "MR.CHILLER.DEGRADATION",
        Modality.MRI,
        "Chiller or cooling-water degradation: compressor inlet water warms; ends in a "
        "compressor thermal trip and rising boil-off.",
        "cooling water (chiller)",
        ("cooling_water_in_c",),
        ("chiller service (refrigerant, fan)", "water strainer / filter", "circulation pump"),
        (
            "Measure water inlet temperature and flow at the helium compressor.",
            "Clean the strainer; check the chiller for abnormal cycling.",
            "Check ambient temperature at the chiller and the facility cooling backup.",
            "Warn facilities: chillers are often outside the OEM contract.",
        ),
        False,
        ("Lock out chiller power before opening it; water near electrical cabinets.",),
        12.0,
    ),
    FailureMode(
        "CT.TUBE.FILAMENT_WEAR",
        Modality.CT,
        "X-ray tube filament thinning: filament drive current drifts away from its "
        "calibration; tube end of life approaching.",
        "X-ray tube (cathode)",
        ("filament_current_a",),
        ("X-ray tube assembly",),
        (
            "Compare filament current with the post-install calibration.",
            "Run tube calibration; check how often re-calibration is now needed.",
            "Review tube usage (scan-seconds) and plan the replacement with the OEM.",
            "Agree a downtime slot with radiology before the tube fails mid-list.",
        ),
        True,
        _CT_SAFETY,
        72.0,
    ),
    FailureMode(
        "CT.TUBE.ARCING",
        Modality.CT,
        "Tube arcing (spits) increasing: HV instability inside the tube; late-stage "
        "sign that aborts scans.",
        "X-ray tube / HV generator",
        ("tube_arc_count",),
        ("X-ray tube assembly", "HV cables and terminations"),
        (
            "Review the arc log: rate, clustering, aborted scans.",
            "Run the tube seasoning / warm-up procedure and re-check the arc rate.",
            "Inspect HV cable terminations for tracking.",
            "If arcs abort scans, call the OEM for tube replacement.",
        ),
        True,
        _CT_SAFETY,
        24.0,
    ),
    FailureMode(
        "CT.ANODE.BEARING_WEAR",
        Modality.CT,
        "Anode bearing or gantry drive wear: anode drive current rises and rotation "
        "timing jitters.",
        "X-ray tube anode / gantry drive",
        ("anode_drive_current_a", "gantry_rotation_jitter_ms"),
        ("X-ray tube (rotor bearings)", "gantry drive belt", "slip-ring brushes"),
        (
            "Measure anode acceleration time and coast-down; listen for bearing noise.",
            "Check gantry rotation-time jitter, drive belt tension and the slip ring.",
            "Plan tube or drive replacement with the OEM.",
        ),
        True,
        (*_CT_SAFETY, "Rotating gantry: lock out rotation before opening covers."),
        72.0,
    ),
    FailureMode(
        "PUMP.BATTERY.END_OF_LIFE",
        Modality.INFUSION_PUMP,
        "Battery end of life: capacity fades and voltage sags under load; the pump may "
        "stop during patient transport.",
        "battery / power",
        ("battery_voltage_v", "battery_soh_pct"),
        ("battery pack (OEM part number)",),
        (
            "Run the run-on-battery test and compare with the specified runtime.",
            "Check cycle count and state of health; check the charger.",
            "Replace the pack and verify the runtime.",
        ),
        False,
        (*_CLINICAL_SAFETY, "Li-ion pack: do not puncture; recycle the old pack."),
        72.0,
    ),
    FailureMode(
        "PUMP.MECHANISM.WEAR",
        Modality.INFUSION_PUMP,
        "Pumping mechanism wear: motor current rises for the same rate; flow accuracy at risk.",
        "pumping mechanism",
        ("motor_current_ma",),
        ("pumping mechanism / platen", "motor assembly", "door latch"),
        (
            "Test flow accuracy with an infusion analyser.",
            "Inspect the mechanism for fluid ingress and residue.",
            "Check the door latch and platen.",
        ),
        False,
        (*_CLINICAL_SAFETY, "Take out of service if flow accuracy is out of tolerance."),
        72.0,
    ),
    FailureMode(
        "PUMP.OCCLUSION_SENSOR.DRIFT",
        Modality.INFUSION_PUMP,
        "Downstream occlusion sensor drift: nuisance occlusion alarms, or a real "
        "occlusion detected late.",
        "downstream occlusion sensor",
        ("occlusion_baseline_mmhg",),
        ("occlusion pressure sensor assembly",),
        (
            "Check occlusion pressure calibration with an analyser.",
            "Clean the sensor area; review the occlusion alarm log.",
            "Recalibrate or replace the sensor.",
        ),
        False,
        (
            *_CLINICAL_SAFETY,
            "A drifting sensor can miss an occlusion: remove from use if out of tolerance.",
        ),
        48.0,
    ),
    FailureMode(
        "VENT.O2_CELL.DEPLETION",
        Modality.VENTILATOR,
        "Galvanic O2 cell depleting: sensitivity drifts down, FiO2 reads low at high O2.",
        "O2 sensor (galvanic cell)",
        ("o2_cell_mv",),
        ("O2 cell",),
        (
            "Run the 21 % / 100 % O2 calibration.",
            "Compare with an external O2 analyser; check the cell's age.",
            "Replace the cell between patients.",
        ),
        False,
        _CLINICAL_SAFETY,
        24.0,
    ),
    FailureMode(
        "VENT.BLOWER.WEAR",
        Modality.VENTILATOR,
        "Blower / turbine wear: current rises at the same speed; runs hotter and noisier.",
        "blower / turbine",
        ("blower_current_a",),
        ("blower / turbine module", "inlet filters", "cooling fan"),
        (
            "Compare blower hours with the service interval.",
            "Check blower current at a reference speed; inspect the inlet filter.",
            "Run the extended self-test; book the turbine exchange.",
        ),
        True,
        _CLINICAL_SAFETY,
        48.0,
    ),
    FailureMode(
        "VENT.EXP_VALVE.LEAK",
        Modality.VENTILATOR,
        "Expiratory valve leak: internal leak grows and PEEP drifts from its set value.",
        "expiratory valve",
        ("internal_leak_ml_min", "peep_error_cmh2o"),
        ("expiratory valve membrane", "expiratory valve assembly", "seals"),
        (
            "Run the leak / self-test and compare with previous results.",
            "Check PEEP accuracy with a ventilator analyser.",
            "Inspect and replace the valve membrane; check the flow sensor.",
        ),
        False,
        _CLINICAL_SAFETY,
        24.0,
    ),
)

#: failure-mode id -> catalogue entry
CATALOG: Mapping[str, FailureMode] = MappingProxyType({m.id: m for m in _MODES})

_BY_MODALITY_SIGNAL: dict[tuple[Modality, str], str] = {
    (m.modality, s): m.id for m in _MODES for s in m.signals
}
_MODALITY_BY_SIGNAL: dict[str, Modality] = {s: m for (m, s) in _BY_MODALITY_SIGNAL}
_MODALITY_BY_SIGNAL.update(
    {
        "compressor_return_mpa": Modality.MRI,
        "room_temp_c": Modality.MRI,
        "anode_heat_pct": Modality.CT,
        "infusion_rate_ml_h": Modality.INFUSION_PUMP,
        "blower_speed_krpm": Modality.VENTILATOR,
        "tube_oil_temp_c": Modality.CT,
        "detector_temp_c": Modality.CT,
    }
)

#: units of the catalogued signals (work orders show current vs baseline with units)
SIGNAL_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "helium_level_pct": "%",
        "coldhead_2nd_stage_k": "K",
        "coldhead_1st_stage_k": "K",
        "compressor_supply_mpa": "MPa",
        "compressor_return_mpa": "MPa",
        "cooling_water_in_c": "°C",
        "cryostat_pressure_psig": "psig",
        "cryostat_heater_duty_pct": "%",
        "room_temp_c": "°C",
        "filament_current_a": "A",
        "tube_arc_count": "count",
        "anode_drive_current_a": "A",
        "gantry_rotation_jitter_ms": "ms",
        "tube_oil_temp_c": "°C",
        "detector_temp_c": "°C",
        "anode_heat_pct": "%",
        "battery_voltage_v": "V",
        "battery_soh_pct": "%",
        "motor_current_ma": "mA",
        "occlusion_baseline_mmhg": "mmHg",
        "infusion_rate_ml_h": "mL/h",
        "o2_cell_mv": "mV",
        "blower_current_a": "A",
        "blower_speed_krpm": "krpm",
        "internal_leak_ml_min": "mL/min",
        "peep_error_cmh2o": "cmH2O",
        IN_USE_SIGNAL: "",
    }
)

_SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_ml_min", "mL/min"),
    ("_ml_h", "mL/h"),
    ("_krpm", "krpm"),
    ("_rpm", "rpm"),
    ("_cmh2o", "cmH2O"),
    ("_mmhg", "mmHg"),
    ("_psig", "psig"),
    ("_mpa", "MPa"),
    ("_pct", "%"),
    ("_count", "count"),
    ("_ma", "mA"),
    ("_mv", "mV"),
    ("_ms", "ms"),
    ("_a", "A"),
    ("_v", "V"),
    ("_k", "K"),
    ("_c", "°C"),
    ("_s", "s"),
)


def unit_for(signal: str) -> str:
    """Return the unit of ``signal``: catalogued, else guessed from its suffix, else ``""``.

    Examples
    --------
    >>> unit_for("coldhead_2nd_stage_k"), unit_for("fan_speed_rpm"), unit_for("nibp_label")
    ('K', 'rpm', '')
    """
    if signal in SIGNAL_UNITS:
        return SIGNAL_UNITS[signal]
    for suffix, unit in _SUFFIX_UNITS:
        if signal.endswith(suffix):
            return unit
    return ""


def modality_of_signal(signal: str) -> Modality | None:
    """Return the modality a catalogued signal belongs to (signal names are unique)."""
    return _MODALITY_BY_SIGNAL.get(signal)


def fallback_id(modality: Modality | str, signal: str) -> str:
    """Return the id of an uncatalogued anomaly, ``<MODALITY>.<SIGNAL>.ANOMALY``."""
    return f"{Modality(modality).value}.{signal}.ANOMALY".upper()


def failure_mode_for(modality: Modality | str, signal: str) -> str:
    """Return the most likely failure-mode id for ``signal`` on a device of ``modality``.

    A device of modality ``other`` (e.g. one missing from the inventory) is
    matched by the signal name alone, since catalogued signal names are unique.
    """
    mod = Modality(modality)
    mode = _BY_MODALITY_SIGNAL.get((mod, signal))
    if mode is None and mod is Modality.OTHER:
        inferred = _MODALITY_BY_SIGNAL.get(signal)
        if inferred is not None:
            mode = _BY_MODALITY_SIGNAL.get((inferred, signal))
    return mode if mode is not None else fallback_id(mod, signal)


def lookup(mode_id: str) -> FailureMode:
    """Return the catalogue entry of ``mode_id``, or a generic entry for unknown ids.

    Unknown ids (fallback ids or a rule's own ``failure_mode``) get a generic
    playbook, so a work order can always be built.
    """
    mode = CATALOG.get(mode_id)
    if mode is not None:
        return mode
    parts = mode_id.split(".")
    try:
        modality = Modality(parts[0].lower())
    except ValueError:
        modality = Modality.OTHER
    subject = parts[1].lower() if len(parts) == 3 and parts[2] == "ANOMALY" else mode_id
    return FailureMode(
        id=mode_id,
        modality=modality,
        description=f"Unexplained anomaly on {subject} (no catalogued failure mode).",
        subsystem="unknown",
        signals=(),
        likely_parts=(),
        recommended_checks=(
            "Review the signal trend against this device's own history.",
            "Inspect the device and the sensor behind the affected signal.",
            "Check recent service, configuration or environment changes.",
        ),
        oem_required=False,
        safety_notes=("Follow the service manual and local lock-out and infection-control rules.",),
        response_time_h=FALLBACK_RESPONSE_H,
    )
