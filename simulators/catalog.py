"""The simulator catalogue as plain data: signals, failure modes and look-alike events.

Signal names, units and failure-mode ids are a contract shared with the alerting
side (rules name them) and the collector (payloads carry them); tests check
both sides against this module. Numbers are typical/illustrative, not vendor
specifications (see ``/work/shared/domain.md`` section 2).

Shapes of fault progression (severity ``s`` from 0 at onset to 1 at failure,
with ``tau`` the fraction of ``duration_s`` elapsed):

``accelerating``
    ``s = (exp(3 tau) - 1) / (exp(3) - 1)``: slow at first (``s`` is 0.05 at a
    quarter of the way, 0.18 halfway), then accelerating. Wear processes.
``linear``
    ``s = tau``: a constant-rate process (a gas leak).
``ratchet``
    Six episodes, each a plateau then a quick rise over the last 30 % of its
    slot: degradation that worsens in bursts (hot afternoons for a chiller).

Examples
--------
>>> from htm_edge.config.schema import Modality
>>> [m.failure_mode for m in failure_modes_of(Modality.CT)][:1]
['CT.TUBE.FILAMENT_WEAR']
>>> signal_spec(Modality.MRI, "coldhead_2nd_stage_k").unit
'K'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from htm_edge.config.schema import Modality
from htm_edge.simulators.errors import SimulatorError

__all__ = [
    "FAILURE_MODES",
    "LOOKALIKES",
    "SIGNALS",
    "SUPPORTED_MODALITIES",
    "Direction",
    "Effect",
    "FailureModeSpec",
    "LookalikeSpec",
    "Shape",
    "SignalSpec",
    "failure_mode_spec",
    "failure_modes_of",
    "lookalike_spec",
    "lookalikes_of",
    "signal_spec",
    "signals_of",
]

Shape = Literal["accelerating", "linear", "ratchet"]
Direction = Literal["up", "down", "variance_up"]


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """One signal of a modality: unit, healthy range and reporting resolution.

    ``normal_low``/``normal_high`` bound every good value a healthy device emits
    (including diurnal and workload swings); ``quantum`` is the resolution the
    device reports with.
    """

    name: str
    unit: str
    normal_low: float
    normal_high: float
    quantum: float
    description: str


@dataclass(frozen=True, slots=True)
class Effect:
    """How a failure mode (or look-alike) moves one signal."""

    signal: str
    direction: Direction
    pattern: str


@dataclass(frozen=True, slots=True)
class FailureModeSpec:
    """A failure mode the simulator can inject, with its signature."""

    failure_mode: str
    modality: Modality
    subsystem: str
    description: str
    shape: Shape
    effects: tuple[Effect, ...]
    terminal: str
    likely_parts: tuple[str, ...]

    @property
    def affected_signals(self) -> tuple[str, ...]:
        """Names of the signals this failure mode moves, without repeats."""
        return tuple(dict.fromkeys(e.signal for e in self.effects))


@dataclass(frozen=True, slots=True)
class LookalikeSpec:
    """A benign event that resembles a failure mode (false-alarm test material)."""

    event: str
    modality: Modality
    description: str
    mimics: str
    effects: tuple[Effect, ...]


def _s(name: str, unit: str, lo: float, hi: float, q: float, text: str) -> SignalSpec:
    return SignalSpec(name, unit, lo, hi, q, text)


_IN_USE = _s("in_use", "", 0, 1, 1, "1 while the device is in clinical use, else 0")

SIGNALS: Mapping[Modality, tuple[SignalSpec, ...]] = {
    Modality.MRI: (
        _s("helium_level_pct", "%", 60, 100, 0.1, "liquid helium level, % of full"),
        _s("coldhead_2nd_stage_k", "K", 3.9, 4.5, 0.01, "cold-head 2nd stage temperature"),
        _s("coldhead_1st_stage_k", "K", 38, 52, 0.1, "cold-head 1st stage / shield temp"),
        _s("compressor_supply_mpa", "MPa", 1.9, 2.3, 0.01, "He compressor supply pressure"),
        _s("compressor_return_mpa", "MPa", 0.6, 0.9, 0.01, "He compressor return pressure"),
        _s("cooling_water_in_c", "°C", 8, 22, 0.1, "compressor cooling water inlet"),
        _s("cryostat_pressure_psig", "psig", 1.0, 2.0, 0.01, "magnet cryostat pressure"),
        _s("cryostat_heater_duty_pct", "%", 20, 70, 1, "pressure-control heater duty"),
        _s("room_temp_c", "°C", 17, 25, 0.1, "technical room temperature"),
        _IN_USE,
    ),
    Modality.CT: (
        _s("filament_current_a", "A", 4.0, 5.0, 0.01, "X-ray tube filament current"),
        _s("tube_arc_count", "count", 0, 2, 1, "tube arcs in the sample period"),
        _s("anode_drive_current_a", "A", 1.6, 2.5, 0.01, "anode rotor drive current"),
        _s("gantry_rotation_jitter_ms", "ms", 0.05, 0.4, 0.001, "gantry rotation time jitter"),
        _s("tube_oil_temp_c", "°C", 22, 65, 0.1, "tube housing oil temperature"),
        _s("anode_heat_pct", "%", 0, 100, 1, "anode heat content (workload context)"),
        _s("detector_temp_c", "°C", 37.5, 38.5, 0.01, "detector (DAS) temperature"),
        _IN_USE,
    ),
    Modality.INFUSION_PUMP: (
        _s("battery_voltage_v", "V", 6.9, 7.6, 0.01, "battery voltage (under motor load)"),
        _s("battery_soh_pct", "%", 80, 100, 1, "battery state of health"),
        _s("motor_current_ma", "mA", 0, 130, 1, "pumping motor current (0 when idle)"),
        _s("occlusion_baseline_mmhg", "mmHg", 0, 30, 1, "downstream pressure baseline"),
        _s("infusion_rate_ml_h", "mL/h", 0, 250, 0.1, "programmed rate (0 when idle)"),
        _IN_USE,
    ),
    Modality.VENTILATOR: (
        _s("o2_cell_mv", "mV", 8, 16, 0.01, "galvanic O2 cell output referred to 21 % O2"),
        _s("blower_current_a", "A", 0, 2.4, 0.01, "blower motor current"),
        _s("blower_speed_krpm", "krpm", 0, 35, 0.1, "blower speed (0 in standby)"),
        _s("internal_leak_ml_min", "mL/min", 0, 80, 1, "internal leak estimate"),
        _s("peep_error_cmh2o", "cmH2O", -1.6, 1.6, 0.1, "measured minus set PEEP"),
        _IN_USE,
    ),
}

SUPPORTED_MODALITIES: tuple[Modality, ...] = tuple(SIGNALS)


def _fm(
    fid: str,
    modality: Modality,
    subsystem: str,
    text: str,
    shape: Shape,
    effects: tuple[tuple[str, Direction, str], ...],
    terminal: str,
    parts: tuple[str, ...],
) -> FailureModeSpec:
    effs = tuple(Effect(sig, d, p) for sig, d, p in effects)
    return FailureModeSpec(fid, modality, subsystem, text, shape, effs, terminal, parts)


_MODES = (
    _fm(
        "MR.COLDHEAD.DEGRADATION",
        Modality.MRI,
        "cryogenics",
        "cold-head wear (displacer seals, valve motor): recondensing margin shrinks",
        "accelerating",
        (
            ("cryostat_heater_duty_pct", "down", "drift: heater duty falls to 0 by mid-course"),
            ("coldhead_2nd_stage_k", "up", "drift +0.8 K, variance up near the end"),
            ("coldhead_1st_stage_k", "up", "drift +12 K"),
            ("cryostat_pressure_psig", "up", "drift +1.5 psig once heater duty is 0"),
            ("helium_level_pct", "down", "trend: slope turns negative and accelerates, -12 %"),
        ),
        "cold head stops recondensing: 2nd stage warms, boil-off ~1.5 %/h",
        ("cold head", "cold-head motor"),
    ),
    _fm(
        "MR.COMPRESSOR.GAS_LEAK",
        Modality.MRI,
        "cryogenics",
        "helium compressor gas-charge loss",
        "linear",
        (
            ("compressor_supply_mpa", "down", "drift -0.45 MPa"),
            ("compressor_return_mpa", "down", "drift -0.22 MPa (delta-p shrinks)"),
            ("coldhead_2nd_stage_k", "up", "late drift +0.15 K as cooling power falls"),
        ),
        "low-pressure trip: compressor stops, pressures equalise, cold head warms",
        ("helium gas charge", "self-sealing couplings"),
    ),
    _fm(
        "MR.CHILLER.DEGRADATION",
        Modality.MRI,
        "cooling water",
        "chiller degradation: inlet water ratchets up, abnormal cycling",
        "ratchet",
        (
            ("cooling_water_in_c", "up", "ratchet +8 °C, afternoons first"),
            ("cooling_water_in_c", "variance_up", "cycling amplitude 0.3 -> 2.3 °C, period up"),
            ("coldhead_1st_stage_k", "up", "drift +2 K (less cooling power)"),
            ("compressor_supply_mpa", "up", "coupling: +0.06 MPa with warmer water"),
            ("compressor_return_mpa", "up", "coupling: +0.03 MPa with warmer water"),
        ),
        "compressor thermal trip: compressor stops, cold head warms",
        ("chiller service", "strainer", "refrigerant charge"),
    ),
    _fm(
        "CT.TUBE.FILAMENT_WEAR",
        Modality.CT,
        "X-ray tube",
        "filament thinning (evaporation, hot spot): less current for the same emission",
        "accelerating",
        (("filament_current_a", "down", "drift -0.6 A from calibration"),),
        "open filament: current 0 A, tube unusable",
        ("X-ray tube",),
    ),
    _fm(
        "CT.TUBE.ARCING",
        Modality.CT,
        "X-ray tube",
        "high-voltage arcing (gas, tungsten deposits)",
        "accelerating",
        (("tube_arc_count", "up", "count: Poisson rate per scanning minute 0.001 -> 0.8"),),
        "arc-fault shutdown, scans aborted",
        ("X-ray tube", "HV cable"),
    ),
    _fm(
        "CT.ANODE.BEARING_WEAR",
        Modality.CT,
        "X-ray tube",
        "anode bearing wear: more drive current, rougher rotation",
        "accelerating",
        (
            ("anode_drive_current_a", "up", "trend +0.6 A"),
            ("anode_drive_current_a", "variance_up", "noise x5"),
            ("gantry_rotation_jitter_ms", "up", "mean +30 %"),
            ("gantry_rotation_jitter_ms", "variance_up", "noise x6"),
        ),
        "bearing seizure: anode cannot reach speed",
        ("X-ray tube", "rotor drive"),
    ),
    _fm(
        "PUMP.BATTERY.END_OF_LIFE",
        Modality.INFUSION_PUMP,
        "battery",
        "battery end of life: sag under load deepens, capacity fades",
        "accelerating",
        (
            ("battery_voltage_v", "down", "sag x5 under load, rest -0.2 V, collapse at end"),
            ("battery_soh_pct", "down", "fade -50 points"),
        ),
        "voltage collapse below cut-off: no battery operation",
        ("battery pack",),
    ),
    _fm(
        "PUMP.MECHANISM.WEAR",
        Modality.INFUSION_PUMP,
        "pumping mechanism",
        "pumping mechanism wear (cam, fingers, motor)",
        "accelerating",
        (
            ("motor_current_ma", "up", "trend +50 % at the same rate"),
            ("motor_current_ma", "variance_up", "noise x5"),
        ),
        "mechanism jam: pump stops",
        ("pumping mechanism", "motor"),
    ),
    _fm(
        "PUMP.OCCLUSION_SENSOR.DRIFT",
        Modality.INFUSION_PUMP,
        "occlusion sensor",
        "downstream pressure sensor offset drift (nuisance occlusion alarms)",
        "accelerating",
        (("occlusion_baseline_mmhg", "up", "drift +100 mmHg"),),
        "baseline near alarm limit: constant nuisance occlusion alarms",
        ("pressure sensor", "door assembly"),
    ),
    _fm(
        "VENT.O2_CELL.DEPLETION",
        Modality.VENTILATOR,
        "gas monitoring",
        "galvanic O2 cell depletion: sensitivity falls",
        "accelerating",
        (("o2_cell_mv", "down", "drift to 50 % of the new-cell output"),),
        "O2 calibration fails",
        ("O2 cell",),
    ),
    _fm(
        "VENT.BLOWER.WEAR",
        Modality.VENTILATOR,
        "blower",
        "blower (turbine) bearing wear: more current at the same speed",
        "accelerating",
        (("blower_current_a", "up", "trend +40 % at the same speed"),),
        "blower fault: device inoperative",
        ("blower module",),
    ),
    _fm(
        "VENT.EXP_VALVE.LEAK",
        Modality.VENTILATOR,
        "expiratory valve",
        "expiratory valve membrane wear: internal leak, unstable PEEP",
        "accelerating",
        (
            ("internal_leak_ml_min", "up", "trend +400 mL/min"),
            ("peep_error_cmh2o", "down", "drift -1 cmH2O (PEEP below set)"),
            ("peep_error_cmh2o", "variance_up", "noise x5"),
        ),
        "leak test fails: device not fit for use",
        ("expiratory valve membrane",),
    ),
)

FAILURE_MODES: Mapping[str, FailureModeSpec] = {m.failure_mode: m for m in _MODES}

_LOOKS = (
    LookalikeSpec(
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
    LookalikeSpec(
        "CT.EVENT.COLD_TUBE_WARMUP",
        Modality.CT,
        "warm-up exposures on a cold tube: a burst of arcs that dies out",
        "CT.TUBE.ARCING",
        (Effect("tube_arc_count", "up", "burst decaying over the event"),),
    ),
    LookalikeSpec(
        "PUMP.EVENT.PATIENT_TRANSPORT",
        Modality.INFUSION_PUMP,
        "long patient transport on battery: voltage falls with depth of discharge",
        "PUMP.BATTERY.END_OF_LIFE",
        (Effect("battery_voltage_v", "down", "-0.35 V by the end, recovers on charge"),),
    ),
    LookalikeSpec(
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

LOOKALIKES: Mapping[str, LookalikeSpec] = {e.event: e for e in _LOOKS}


def _check_modality(modality: Modality) -> None:
    if modality not in SIGNALS:
        known = ", ".join(m.value for m in SUPPORTED_MODALITIES)
        raise SimulatorError(
            f"no simulator for modality {modality.value!r}; simulated modalities: {known}"
        )


def signals_of(modality: Modality) -> tuple[SignalSpec, ...]:
    """Return the signals a device of ``modality`` emits, in payload order."""
    _check_modality(modality)
    return SIGNALS[modality]


def signal_spec(modality: Modality, name: str) -> SignalSpec:
    """Return the spec of signal ``name`` of ``modality`` (SimulatorError if unknown)."""
    for spec in signals_of(modality):
        if spec.name == name:
            return spec
    raise SimulatorError(f"modality {modality.value!r} has no signal {name!r}")


def failure_modes_of(modality: Modality) -> tuple[FailureModeSpec, ...]:
    """Return the failure modes that can be injected into ``modality``."""
    _check_modality(modality)
    return tuple(m for m in _MODES if m.modality is modality)


def lookalikes_of(modality: Modality) -> tuple[LookalikeSpec, ...]:
    """Return the look-alike events that can be injected into ``modality``."""
    _check_modality(modality)
    return tuple(e for e in _LOOKS if e.modality is modality)


def failure_mode_spec(failure_mode: str, modality: Modality) -> FailureModeSpec:
    """Return the spec of ``failure_mode``, checking it belongs to ``modality``.

    Raises
    ------
    SimulatorError
        When the id is unknown or belongs to another modality; the message
        lists the valid ids for ``modality``.
    """
    valid = [m.failure_mode for m in failure_modes_of(modality)]
    spec = FAILURE_MODES.get(failure_mode)
    if spec is None or spec.modality is not modality:
        why = "unknown" if spec is None else f"a {spec.modality.value} failure mode"
        raise SimulatorError(
            f"failure_mode {failure_mode!r} is {why}; valid for {modality.value}: "
            + ", ".join(valid)
        )
    return spec


def lookalike_spec(event: str, modality: Modality) -> LookalikeSpec:
    """Return the spec of look-alike ``event`` for ``modality`` (SimulatorError if not)."""
    spec = LOOKALIKES.get(event)
    if spec is None or spec.modality is not modality:
        valid = ", ".join(e.event for e in lookalikes_of(modality)) or "none"
        raise SimulatorError(
            f"event {event!r} is not a look-alike of {modality.value}; valid: {valid}"
        )
    return spec
