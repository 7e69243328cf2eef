"""The types of the catalogue: signals, failure modes with their precursors and playbook.

Shapes of fault progression (severity ``s`` from 0 at onset to 1 at failure,
with ``tau`` the fraction of the fault's course elapsed):

``accelerating``
    ``s = (exp(3 tau) - 1) / (exp(3) - 1)``: slow at first (``s`` is 0.05 at a
    quarter of the way, 0.18 halfway), then accelerating. Wear processes.
``linear``
    ``s = tau``: a constant-rate process (a gas leak).
``ratchet``
    Six episodes, each a plateau then a quick rise over the last 30 % of its
    slot: degradation that worsens in bursts (hot afternoons for a chiller).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from htm_edge.config.inventory import Modality

__all__ = [
    "CLINICAL_SAFETY",
    "CT_SAFETY",
    "MR_SAFETY",
    "Direction",
    "Effect",
    "FailureMode",
    "Lookalike",
    "Shape",
    "SignalSpec",
]

Shape = Literal["accelerating", "linear", "ratchet"]
Direction = Literal["up", "down", "variance_up"]

MR_SAFETY = (
    "Zone IV: the magnet is always on; MR-safe tools only, screen everyone for implants.",
    "Cryogen risk: check the room O2 monitor and the quench pipe; never vent helium indoors.",
)
CT_SAFETY = (
    "Ionising radiation: no exposures with covers open; follow local radiation rules.",
    "High voltage: lock out the generator and wait for the HV to discharge.",
)
CLINICAL_SAFETY = (
    "Clean and disinfect before service (infection control).",
    "Never interrupt therapy: swap the device first if a patient is connected.",
)


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
    """How a failure mode (or look-alike) moves one signal: its precursor."""

    signal: str
    direction: Direction
    pattern: str


@dataclass(frozen=True, slots=True)
class FailureMode:
    """One catalogued failure mode: its precursors, its course, and the engineer's playbook.

    ``signals`` are the signals whose anomalies point to this mode first (an
    alert on one of them is attributed here); ``effects`` are every precursor
    the mode produces, which the simulators inject and prognostics will read.
    """

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
    shape: Shape = "accelerating"
    effects: tuple[Effect, ...] = ()
    terminal: str = ""

    @property
    def affected_signals(self) -> tuple[str, ...]:
        """Names of the signals this failure mode moves, without repeats."""
        return tuple(dict.fromkeys(e.signal for e in self.effects))


@dataclass(frozen=True, slots=True)
class Lookalike:
    """A benign event that resembles a failure mode (false-alarm test material)."""

    event: str
    modality: Modality
    description: str
    mimics: str
    effects: tuple[Effect, ...]
