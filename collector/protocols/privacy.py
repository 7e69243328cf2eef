"""The per-protocol allow-list of signals: device health is kept, patient data is not.

Patient monitors, ventilators and HL7 feeds carry physiological measurements
of a patient alongside the technical signals HTM Edge is for. Each device
protocol sorts what it decodes into device-health signals (kept by default)
and patient observations (dropped unless a site lists them), and never
decodes patient identity at all (names, MRN, date of birth, notes: see each
protocol's ``redact``).

A protocol's config key ``signals`` replaces the default with a list of
:mod:`fnmatch` patterns; a site that has the governance to keep, say, SpO2
for correlation lists it there explicitly.

Examples
--------
>>> f = SignalFilter(None, lambda name: name.startswith("batt"))
>>> f.keep("batt_charge_pct"), f.keep("MDC_PULS_OXIM_SAT_O2"), f.withheld
(True, False, 1)
>>> SignalFilter(["MDC_PULS_*"], lambda name: False).keep("MDC_PULS_OXIM_SAT_O2")
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase

from pydantic import Field

__all__ = ["SIGNALS_FIELD", "SignalFilter"]

#: the ``signals`` key every device protocol's config section has
SIGNALS_FIELD = Field(
    default=None,
    description=(
        "signals handed on, as fnmatch patterns; default: the protocol's device-health "
        "signals only (patient observations are dropped unless listed here)"
    ),
)


class SignalFilter:
    """Decide which decoded signals a protocol hands on, and count the others.

    Parameters
    ----------
    allow:
        The site's patterns (config ``signals``), or None for the default.
    default:
        The protocol's rule for device-health signals, used when ``allow`` is None.
    """

    def __init__(self, allow: Sequence[str] | None, default: Callable[[str], bool]) -> None:
        self.patterns = None if allow is None else tuple(allow)
        self.default = default
        #: decoded signals that were not handed on
        self.withheld = 0

    def allows(self, name: str) -> bool:
        """True when ``name`` is handed on (no counting)."""
        if self.patterns is None:
            return self.default(name)
        return any(fnmatchcase(name, p) for p in self.patterns)

    def keep(self, name: str) -> bool:
        """True when ``name`` is handed on; counts it as withheld otherwise."""
        if self.allows(name):
            return True
        self.withheld += 1
        return False
