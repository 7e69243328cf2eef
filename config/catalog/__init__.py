"""The one catalogue of HTM Edge: signals, failure modes, precursors and playbooks.

Plain data with lookups, read by the simulators (which signals a device emits,
how each failure mode moves them), by alerting (which failure mode an anomaly
points to, what the engineer should check) and by config validation. One data
module per modality; failure-mode ids and signal names are the contract
between them.

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
>>> [m.id for m in failure_modes_of(Modality.CT)][:1]
['CT.TUBE.FILAMENT_WEAR']
>>> signal_spec(Modality.MRI, "coldhead_2nd_stage_k").unit
'K'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from htm_edge.config.catalog import (
    anesthesia,
    ct,
    defibrillator,
    infusion_pump,
    mri,
    patient_monitor,
    sterilizer,
    ventilator,
)
from htm_edge.config.catalog.types import (
    Direction,
    Effect,
    FailureMode,
    Lookalike,
    Shape,
    SignalSpec,
)
from htm_edge.config.errors import CatalogError
from htm_edge.config.inventory import Modality

__all__ = [
    "CATALOG",
    "FALLBACK_RESPONSE_H",
    "IN_USE_SIGNAL",
    "LOOKALIKES",
    "SIGNALS",
    "SIGNAL_UNITS",
    "WORKLOAD_SIGNALS",
    "Direction",
    "Effect",
    "FailureMode",
    "Lookalike",
    "Modality",
    "Shape",
    "SignalSpec",
    "failure_mode_for",
    "failure_mode_spec",
    "failure_modes_of",
    "fallback_id",
    "lookalike_spec",
    "lookalikes_of",
    "lookup",
    "modality_of_signal",
    "signal_spec",
    "signals_of",
    "unit_for",
]

#: the signal every device publishes (0/1); it never alerts, it feeds utilisation
#: and splits the model's streams by operating state
IN_USE_SIGNAL = "in_use"
#: workload covariates: they move with use, not with wear, so signal globs skip them
WORKLOAD_SIGNALS: frozenset[str] = frozenset(
    {IN_USE_SIGNAL, "infusion_rate_ml_h", "anode_heat_pct", "blower_speed_krpm"}
)
#: required response time of an uncatalogued anomaly
FALLBACK_RESPONSE_H = 72.0

_DATA = (
    mri,
    ct,
    infusion_pump,
    ventilator,
    patient_monitor,
    defibrillator,
    sterilizer,
    anesthesia,
)

#: modality -> its signals, in payload order
SIGNALS: Mapping[Modality, tuple[SignalSpec, ...]] = MappingProxyType(
    {m.FAILURE_MODES[0].modality: m.SIGNALS for m in _DATA}
)
#: failure-mode id -> catalogue entry
CATALOG: Mapping[str, FailureMode] = MappingProxyType(
    {f.id: f for m in _DATA for f in m.FAILURE_MODES}
)
#: look-alike event id -> catalogue entry
LOOKALIKES: Mapping[str, Lookalike] = MappingProxyType(
    {e.event: e for m in _DATA for e in m.LOOKALIKES}
)
#: units of the catalogued signals (work orders show current vs baseline with units)
SIGNAL_UNITS: Mapping[str, str] = MappingProxyType(
    {s.name: s.unit for specs in SIGNALS.values() for s in specs}
)

_BY_MODALITY_SIGNAL: dict[tuple[Modality, str], str] = {}
for _mode in CATALOG.values():
    for _signal in _mode.signals:
        _BY_MODALITY_SIGNAL.setdefault((_mode.modality, _signal), _mode.id)
_MODALITY_BY_SIGNAL: dict[str, Modality] = {
    s.name: modality
    for modality, specs in SIGNALS.items()
    for s in specs
    if s.name != IN_USE_SIGNAL
}

_SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_mbar_min", "mbar/min"),
    ("_ml_min", "mL/min"),
    ("_ml_h", "mL/h"),
    ("_krpm", "krpm"),
    ("_rpm", "rpm"),
    ("_cmh2o", "cmH2O"),
    ("_mmhg", "mmHg"),
    ("_psig", "psig"),
    ("_mpa", "MPa"),
    ("_kpa", "kPa"),
    ("_ohm", "ohm"),
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


def _catalogued(modality: Modality) -> None:
    if modality not in SIGNALS:
        known = ", ".join(m.value for m in SIGNALS)
        raise CatalogError(
            f"modality {modality.value!r} has no catalogued signals; catalogued modalities: {known}"
        )


def signals_of(modality: Modality) -> tuple[SignalSpec, ...]:
    """Return the signals a device of ``modality`` emits, in payload order."""
    _catalogued(modality)
    return SIGNALS[modality]


def signal_spec(modality: Modality, name: str) -> SignalSpec:
    """Return the spec of signal ``name`` of ``modality`` (CatalogError if unknown)."""
    for spec in signals_of(modality):
        if spec.name == name:
            return spec
    raise CatalogError(f"modality {modality.value!r} has no signal {name!r}")


def failure_modes_of(modality: Modality) -> tuple[FailureMode, ...]:
    """Return the catalogued failure modes of ``modality``."""
    _catalogued(modality)
    return tuple(m for m in CATALOG.values() if m.modality is modality)


def lookalikes_of(modality: Modality) -> tuple[Lookalike, ...]:
    """Return the catalogued look-alike events of ``modality``."""
    _catalogued(modality)
    return tuple(e for e in LOOKALIKES.values() if e.modality is modality)


def failure_mode_spec(failure_mode: str, modality: Modality) -> FailureMode:
    """Return the entry of ``failure_mode``, checking that it belongs to ``modality``.

    Raises
    ------
    CatalogError
        When the id is unknown or belongs to another modality; the message
        lists the valid ids for ``modality``.
    """
    valid = [m.id for m in failure_modes_of(modality)]
    spec = CATALOG.get(failure_mode)
    if spec is None or spec.modality is not modality:
        why = "unknown" if spec is None else f"a {spec.modality.value} failure mode"
        raise CatalogError(
            f"failure_mode {failure_mode!r} is {why}; valid for {modality.value}: "
            + ", ".join(valid)
        )
    return spec


def lookalike_spec(event: str, modality: Modality) -> Lookalike:
    """Return the look-alike ``event`` of ``modality`` (CatalogError if it is not one)."""
    spec = LOOKALIKES.get(event)
    if spec is None or spec.modality is not modality:
        valid = ", ".join(e.event for e in lookalikes_of(modality)) or "none"
        raise CatalogError(
            f"event {event!r} is not a look-alike of {modality.value}; valid: {valid}"
        )
    return spec


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
