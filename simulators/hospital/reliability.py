"""Reliability and service data of the hospital fleet: how parts age, fail and get fixed.

Plain data, tunable simulator parameters (illustrative, not vendor figures).
For every catalogued failure mode, :data:`MODES` gives the Weibull law of the
part's time to degradation onset, how use speeds its ageing, the lead time
from onset to failure, the share of sudden failures and what the repair
replaces; for every modality, :data:`PROFILES` gives its maintenance schedule,
repair times, look-alike and quirk rates and its utilisation pattern.

Examples
--------
>>> MODES["MR.COLDHEAD.DEGRADATION"].precursor
'drift'
>>> PROFILES[Modality.STERILIZER].pm_interval_days
90.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from htm_edge.config.inventory import Modality

__all__ = [
    "CONTRACTS",
    "MODES",
    "PROFILES",
    "Contract",
    "ModalityProfile",
    "ModeReliability",
    "PrecursorKind",
    "contract_of",
]

PrecursorKind = Literal["drift", "variance", "count", "step_drift"]
Contract = Literal["oem", "iso", "in-house"]
CONTRACTS: tuple[Contract, ...] = ("oem", "iso", "in-house")


def contract_of(service_owner: str) -> Contract:
    """The contract class of an inventory ``service_owner`` (``third-party`` is an ISO)."""
    if service_owner == "oem":
        return "oem"
    return "in-house" if service_owner == "in-house" else "iso"


@dataclass(frozen=True, slots=True)
class ModeReliability:
    """How one failure mode arises, develops and is repaired.

    Parameters
    ----------
    life_years, beta:
        Weibull scale and shape of the part's age at degradation onset. Age
        runs at the device's use relative to its modality's reference use,
        raised to ``use_exponent`` (0: calendar ageing, 1: proportional to use).
    lead_days, lead_sigma:
        Median and log-sd of the lognormal onset-to-failure time of failures
        with a precursor (clipped to 0.5..45 days).
    sudden_fraction:
        Share of onsets that fail at once, with no precursor.
    precursor:
        The precursor's pattern (ground truth label).
    part, part_cost:
        What the repair replaces, and its price (USD).
    pm_every:
        Every ``pm_every``-th preventive maintenance replaces the part (0: never).
    """

    life_years: float
    beta: float
    use_exponent: float
    lead_days: float
    lead_sigma: float
    sudden_fraction: float
    precursor: PrecursorKind
    part: str
    part_cost: float
    pm_every: int = 0


@dataclass(frozen=True, slots=True)
class ModalityProfile:
    """Maintenance, repair, quirks and utilisation of one modality.

    ``util_day``/``util_night``/``util_weekend`` are the shares of time in use
    (weekdays 08-18 h, nights, weekend days) at reference use; a device's own
    use scales them. ``response_h`` is the median time from failure to the
    engineer on site per contract, ``repair_h`` the median hands-on repair
    time (both lognormal, log-sd ``repair_sigma``). ``reports_when_failed``:
    the device keeps sending telemetry while failed (fixed installations);
    portable devices are pulled from service and fall silent until repaired.
    """

    pm_interval_days: float
    pm_hours: float
    response_h: Mapping[Contract, float]
    repair_h: float
    repair_sigma: float
    npf_per_year: float
    lookalike_per_year: float
    lookalike_hours: tuple[float, float]
    util_day: float
    util_night: float
    util_weekend: float
    session_mean_min: float
    reports_when_failed: bool
    labour_per_h: Mapping[Contract, float]
    outages_per_year: float = 4.0
    stuck_per_year: float = 2.0


def _m(*args: object, **kw: object) -> ModeReliability:
    return ModeReliability(*args, **kw)  # type: ignore[arg-type]


MODES: Mapping[str, ModeReliability] = MappingProxyType(
    {
        # MRI
        "MR.COLDHEAD.DEGRADATION": _m(5.0, 2.5, 0.6, 21, 0.5, 0.10, "drift", "cold head", 42000),
        "MR.COMPRESSOR.GAS_LEAK": _m(8.0, 1.3, 0.2, 14, 0.5, 0.15, "drift", "He charge", 3500),
        "MR.CHILLER.DEGRADATION": _m(4.0, 1.5, 0.0, 5, 0.6, 0.30, "step_drift", "chiller", 9000),
        # CT
        "CT.TUBE.FILAMENT_WEAR": _m(4.0, 3.0, 1.0, 30, 0.5, 0.15, "drift", "X-ray tube", 180000),
        "CT.TUBE.ARCING": _m(5.0, 2.0, 1.0, 7, 0.6, 0.35, "count", "X-ray tube", 180000),
        "CT.ANODE.BEARING_WEAR": _m(6.0, 2.5, 1.0, 21, 0.5, 0.20, "variance", "X-ray tube", 180000),
        # infusion pump
        "PUMP.BATTERY.END_OF_LIFE": _m(2.5, 3.0, 0.8, 30, 0.5, 0.15, "drift", "battery", 160, 2),
        "PUMP.MECHANISM.WEAR": _m(9.0, 2.0, 1.0, 21, 0.6, 0.30, "drift", "mechanism", 650),
        "PUMP.OCCLUSION_SENSOR.DRIFT": _m(7.0, 1.5, 0.5, 14, 0.6, 0.10, "drift", "sensor", 280),
        # ventilator
        "VENT.O2_CELL.DEPLETION": _m(2.0, 3.5, 0.3, 14, 0.5, 0.05, "drift", "O2 cell", 180, 2),
        "VENT.BLOWER.WEAR": _m(7.0, 2.5, 1.0, 30, 0.5, 0.20, "drift", "blower", 2400),
        "VENT.EXP_VALVE.LEAK": _m(5.0, 2.0, 1.0, 10, 0.6, 0.20, "variance", "exp. valve", 420),
        # patient monitor
        "MON.NIBP.PUMP_VALVE_WEAR": _m(6.0, 2.0, 1.0, 14, 0.6, 0.20, "count", "NIBP pump", 520),
        "MON.BATTERY.FADE": _m(3.0, 3.0, 0.5, 45, 0.4, 0.10, "drift", "battery", 190),
        "MON.FAN.BEARING_WEAR": _m(7.0, 2.5, 1.0, 10, 0.6, 0.30, "variance", "fan", 60),
        # defibrillator
        "DEFIB.BATTERY.FADE": _m(3.0, 3.0, 0.3, 30, 0.5, 0.10, "drift", "battery", 420, 4),
        "DEFIB.HV_CAPACITOR.DEGRADATION": _m(12.0, 2.0, 0.5, 20, 0.6, 0.25, "drift", "HV", 2100),
        "DEFIB.THERAPY_CABLE.INTERMITTENT": _m(5.0, 1.5, 1.0, 10, 0.6, 0.30, "count", "cable", 350),
        # sterilizer
        "STER.DOOR_GASKET.WEAR": _m(1.5, 2.5, 1.0, 10, 0.5, 0.10, "drift", "gasket", 380, 4),
        "STER.VACUUM_PUMP.WEAR": _m(6.0, 2.0, 1.0, 14, 0.5, 0.25, "drift", "vacuum pump", 4200),
        "STER.STEAM_VALVE.DEGRADATION": _m(5.0, 2.0, 1.0, 6, 0.6, 0.30, "variance", "valve", 900),
        # anaesthesia workstation
        "ANES.BREATHING_SYSTEM.LEAK": _m(3.0, 2.0, 1.0, 7, 0.6, 0.20, "drift", "seals", 300),
        "ANES.O2_SENSOR.DEPLETION": _m(1.5, 3.5, 0.3, 14, 0.5, 0.05, "drift", "O2 sensor", 160, 2),
        "ANES.FLOW_SENSOR.DRIFT": _m(4.0, 2.0, 1.0, 7, 0.6, 0.20, "variance", "flow sensor", 520),
    }
)

_IMAGING_RESPONSE: Mapping[Contract, float] = MappingProxyType(
    {"oem": 6.0, "iso": 12.0, "in-house": 30.0}
)
_CLINICAL_RESPONSE: Mapping[Contract, float] = MappingProxyType(
    {"oem": 48.0, "iso": 24.0, "in-house": 8.0}
)
_LABOUR: Mapping[Contract, float] = MappingProxyType({"oem": 380.0, "iso": 220.0, "in-house": 95.0})


def _p(**kw: object) -> ModalityProfile:
    kw.setdefault("labour_per_h", _LABOUR)
    return ModalityProfile(**kw)  # type: ignore[arg-type]


PROFILES: Mapping[Modality, ModalityProfile] = MappingProxyType(
    {
        Modality.MRI: _p(
            pm_interval_days=91.0,
            pm_hours=6.0,
            response_h=_IMAGING_RESPONSE,
            repair_h=20.0,
            repair_sigma=0.6,
            npf_per_year=1.0,
            lookalike_per_year=0.0,
            lookalike_hours=(2, 5),
            util_day=0.8,
            util_night=0.05,
            util_weekend=0.25,
            session_mean_min=40,
            reports_when_failed=True,
        ),
        Modality.CT: _p(
            pm_interval_days=91.0,
            pm_hours=5.0,
            response_h=_IMAGING_RESPONSE,
            repair_h=10.0,
            repair_sigma=0.6,
            npf_per_year=1.5,
            lookalike_per_year=0.0,
            lookalike_hours=(0.5, 1),
            util_day=0.6,
            util_night=0.15,
            util_weekend=0.3,
            session_mean_min=15,
            reports_when_failed=True,
        ),
        Modality.INFUSION_PUMP: _p(
            pm_interval_days=365.0,
            pm_hours=0.75,
            response_h=_CLINICAL_RESPONSE,
            repair_h=1.5,
            repair_sigma=0.5,
            npf_per_year=0.4,
            lookalike_per_year=24.0,
            lookalike_hours=(1, 3),
            util_day=0.6,
            util_night=0.45,
            util_weekend=0.5,
            session_mean_min=240,
            reports_when_failed=False,
        ),
        Modality.VENTILATOR: _p(
            pm_interval_days=182.0,
            pm_hours=2.0,
            response_h=_CLINICAL_RESPONSE,
            repair_h=3.0,
            repair_sigma=0.5,
            npf_per_year=0.6,
            lookalike_per_year=24.0,
            lookalike_hours=(0.2, 0.5),
            util_day=0.75,
            util_night=0.7,
            util_weekend=0.7,
            session_mean_min=1800,
            reports_when_failed=False,
        ),
        Modality.PATIENT_MONITOR: _p(
            pm_interval_days=365.0,
            pm_hours=1.0,
            response_h=_CLINICAL_RESPONSE,
            repair_h=1.5,
            repair_sigma=0.5,
            npf_per_year=0.5,
            lookalike_per_year=36.0,
            lookalike_hours=(2, 8),
            util_day=0.8,
            util_night=0.75,
            util_weekend=0.75,
            session_mean_min=1440,
            reports_when_failed=False,
        ),
        Modality.DEFIBRILLATOR: _p(
            pm_interval_days=182.0,
            pm_hours=1.0,
            response_h=_CLINICAL_RESPONSE,
            repair_h=1.0,
            repair_sigma=0.5,
            npf_per_year=0.3,
            lookalike_per_year=6.0,
            lookalike_hours=(0.3, 0.8),
            util_day=0.002,
            util_night=0.001,
            util_weekend=0.001,
            session_mean_min=30,
            reports_when_failed=False,
        ),
        Modality.STERILIZER: _p(
            pm_interval_days=90.0,
            pm_hours=4.0,
            response_h=_CLINICAL_RESPONSE,
            repair_h=5.0,
            repair_sigma=0.6,
            npf_per_year=1.0,
            lookalike_per_year=0.0,
            lookalike_hours=(48, 72),
            util_day=0.85,
            util_night=0.3,
            util_weekend=0.4,
            session_mean_min=55,
            reports_when_failed=True,
        ),
        Modality.ANESTHESIA: _p(
            pm_interval_days=182.0,
            pm_hours=3.0,
            response_h=_CLINICAL_RESPONSE,
            repair_h=3.0,
            repair_sigma=0.5,
            npf_per_year=0.8,
            lookalike_per_year=10.0,
            lookalike_hours=(6, 30),
            util_day=0.7,
            util_night=0.05,
            util_weekend=0.1,
            session_mean_min=120,
            reports_when_failed=True,
        ),
    }
)
