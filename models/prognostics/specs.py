"""Which indicators each failure mode has, derived from the catalogue's precursor effects.

Every :class:`~htm_edge.config.catalog.Effect` of a failure mode (a signal
and the direction it moves) becomes one :class:`IndicatorSpec`: the signal's
robust level for ``up``/``down``, its spread for ``variance_up``; signals
that count events or report codes use their mean rate instead of a median
(a median of sparse counts is 0). Nothing here names a signal: a new failure
mode in the catalogue gets its indicators for free.

Examples
--------
>>> from htm_edge.config.inventory import Modality
>>> [(s.signal, s.statistic, s.sign) for s in mode_indicators("STER.DOOR_GASKET.WEAR")][:2]
[('leak_rate_mbar_min', 'level', 1.0), ('steam_temp_deviation_c', 'level', -1.0)]
>>> workload_covariate(Modality.INFUSION_PUMP)
'infusion_rate_ml_h'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from htm_edge.config import catalog
from htm_edge.config.inventory import Modality

__all__ = [
    "IndicatorSpec",
    "Statistic",
    "is_count_signal",
    "modality_modes",
    "mode_indicators",
    "signal_range",
    "workload_covariate",
]

Statistic = Literal["level", "rate", "spread"]
_COUNT_UNITS = frozenset({"count", "code"})


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One indicator of one failure mode: a statistic of a signal and its sign toward failure."""

    failure_mode: str
    signal: str
    statistic: Statistic
    sign: float
    unit: str
    range: float
    quantum: float


def is_count_signal(modality: Modality, signal: str) -> bool:
    """True for signals that count events or carry codes (their mean is the indicator)."""
    return catalog.signal_spec(modality, signal).unit in _COUNT_UNITS


def signal_range(modality: Modality, signal: str) -> float:
    """Width of the signal's healthy range (the scale that makes signals comparable)."""
    spec = catalog.signal_spec(modality, signal)
    return max(spec.normal_high - spec.normal_low, 10.0 * spec.quantum, 1e-9)


@cache
def mode_indicators(failure_mode: str) -> tuple[IndicatorSpec, ...]:
    """The indicators of ``failure_mode``, in catalogue order, one per (signal, statistic)."""
    mode = catalog.CATALOG[failure_mode]
    out: dict[tuple[str, str], IndicatorSpec] = {}
    for e in mode.effects:
        if e.signal in catalog.WORKLOAD_SIGNALS:
            continue
        if e.direction == "variance_up":
            stat: Statistic = "spread"
            sign = 1.0
        else:
            stat = "rate" if is_count_signal(mode.modality, e.signal) else "level"
            sign = 1.0 if e.direction == "up" else -1.0
        spec = catalog.signal_spec(mode.modality, e.signal)
        out.setdefault(
            (e.signal, stat),
            IndicatorSpec(
                failure_mode,
                e.signal,
                stat,
                sign,
                spec.unit,
                signal_range(mode.modality, e.signal),
                spec.quantum,
            ),
        )
    return tuple(out.values())


@cache
def modality_modes(modality: Modality) -> tuple[str, ...]:
    """Ids of the catalogued failure modes of ``modality`` that have indicators."""
    if modality not in catalog.SIGNALS:
        return ()
    return tuple(m.id for m in catalog.failure_modes_of(modality) if mode_indicators(m.id))


@cache
def workload_covariate(modality: Modality) -> str | None:
    """The modality's continuous workload signal (catalogue ``WORKLOAD_SIGNALS``), if any."""
    if modality not in catalog.SIGNALS:
        return None
    for spec in catalog.signals_of(modality):
        if spec.name in catalog.WORKLOAD_SIGNALS and spec.name != catalog.IN_USE_SIGNAL:
            return spec.name
    return None
