"""The deterministic machinery shared by every device model.

Nothing here does I/O or reads a clock: time is the simulated second ``t_s``
passed to :meth:`DeviceModel.sample`, randomness is the ``numpy`` generator
given to the constructor. Every sample draws the *same number* of random
variates whatever the device's state, so a device with a fault is, up to the
fault's onset, identical to its healthy twin of the same seed, and its noise
stays aligned with the twin's afterwards.
"""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from htm_edge.collector.reading import Quality, Reading
from htm_edge.config import catalog
from htm_edge.config.catalog import Shape, SignalSpec
from htm_edge.config.errors import CatalogError
from htm_edge.config.inventory import Modality
from htm_edge.simulators.errors import SimulatorError

__all__ = [
    "ActiveFault",
    "DeviceModel",
    "SimEvent",
    "StepContext",
    "accelerating_integral",
    "ambient_wave",
    "ar1",
    "day_weight",
    "device_rng",
    "poisson_quantile",
    "quantise",
    "shape_value",
]

_K = 3.0  # curvature of the accelerating shape
_RATCHET_STEPS = 6


def device_rng(seed: int, device_id: str) -> np.random.Generator:
    """Return the generator of one device, derived from the fleet seed and its id.

    The stream depends only on ``(seed, device_id)``, so adding or removing a
    device never changes another device's data.
    """
    digest = hashlib.sha256(device_id.encode()).digest()
    entropy = [seed % 2**64, int.from_bytes(digest[:16], "big")]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def shape_value(shape: Shape, tau: float) -> float:
    """Severity in [0, 1] at fraction ``tau`` of a fault's course (see the catalogue)."""
    if tau <= 0.0:
        return 0.0
    if tau >= 1.0:
        return 1.0
    if shape == "linear":
        return tau
    if shape == "accelerating":
        return math.expm1(_K * tau) / math.expm1(_K)
    x = tau * _RATCHET_STEPS
    step = math.floor(x)
    rise = max(0.0, (x - step - 0.7) / 0.3)
    return (step + rise * rise * (3.0 - 2.0 * rise)) / _RATCHET_STEPS


def accelerating_integral(tau: float) -> float:
    """Integral of the accelerating shape from 0 to ``tau``, normalised to 1 at ``tau=1``."""
    tau = min(max(tau, 0.0), 1.0)

    def raw(x: float) -> float:
        return math.expm1(_K * x) / _K - x

    return raw(tau) / raw(1.0)


def day_weight(hour: float) -> float:
    """Daytime workload weight in [0, 1]: 0 from 20:00 to 06:00, peak 1 at 13:00."""
    if 6.0 <= hour <= 20.0:
        return math.sin(math.pi * (hour - 6.0) / 14.0)
    return 0.0


def ambient_wave(hour: float) -> float:
    """Outdoor/room temperature cycle in [-1, 1], warmest at 15:00."""
    return math.cos(2.0 * math.pi * (hour - 15.0) / 24.0)


def ar1(state: float, z: float, tau_s: float, dt: float) -> float:
    """Advance a unit-variance AR(1) (Ornstein-Uhlenbeck) state, clipped to ±4."""
    phi = math.exp(-dt / tau_s)
    return min(4.0, max(-4.0, phi * state + math.sqrt(1.0 - phi * phi) * z))


def poisson_quantile(u: float, lam: float) -> int:
    """Poisson(``lam``) variate from one uniform ``u`` (inverse CDF; keeps draws aligned)."""
    if lam <= 0.0:
        return 0
    k, p = 0, math.exp(-lam)
    cdf = p
    while u > cdf and k < 1000:
        k += 1
        p *= lam / k
        cdf += p
    return k


def quantise(value: float, quantum: float) -> float:
    """Round ``value`` to the device's reporting resolution."""
    digits = max(0, -math.floor(math.log10(quantum)) + 1)
    return round(round(value / quantum) * quantum, digits)


@dataclass(frozen=True, slots=True)
class SimEvent:
    """A benign look-alike event (see ``catalog.LOOKALIKES``) injected into a device."""

    kind: str
    start_s: float
    duration_s: float

    def phase(self, t_s: float) -> float | None:
        """Fraction of the event elapsed at ``t_s``, or None outside it."""
        if self.start_s <= t_s < self.start_s + self.duration_s:
            return (t_s - self.start_s) / self.duration_s
        return None


@dataclass(frozen=True, slots=True)
class ActiveFault:
    """A validated fault: failure-mode id, shape and its course in simulated seconds."""

    failure_mode: str
    shape: Shape
    start_s: float
    duration_s: float

    def severity(self, t_s: float) -> float:
        """Severity in [0, 1]: 0 before onset, 1 from the failure time on."""
        return shape_value(self.shape, (t_s - self.start_s) / self.duration_s)

    def tau(self, t_s: float) -> float:
        """Fraction of the course elapsed, clipped to [0, 1]."""
        return min(1.0, max(0.0, (t_s - self.start_s) / self.duration_s))

    def failed(self, t_s: float) -> bool:
        """True from the failure time on."""
        return t_s >= self.start_s + self.duration_s


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a model needs to know about the current sample."""

    t_s: float
    dt: float
    hour: float
    day: float
    ambient: float
    in_use: bool
    failed: bool


class DeviceModel(ABC):
    """Base of the per-modality models: workload, gaps, invalid values, readings.

    Subclasses set ``modality``, ``N_NORMAL``/``N_UNIFORM`` (variates drawn per
    sample), the workload constants, and implement :meth:`_values`.

    Parameters
    ----------
    device_id:
        Inventory id, copied into every reading.
    rng:
        The device's own generator (see :func:`device_rng`).
    fault:
        ``(failure_mode, start_s, duration_s)`` or None for a healthy device.
    events:
        Look-alike events to inject.
    """

    modality: ClassVar[Modality]
    N_NORMAL: ClassVar[int]
    N_UNIFORM: ClassVar[int] = 0
    UTIL_DAY: ClassVar[float]
    UTIL_NIGHT: ClassVar[float]
    SESSION_MEAN_S: ClassVar[float]
    GAPS_PER_DAY: ClassVar[float] = 0.5
    GAP_MEAN_SAMPLES: ClassVar[int] = 4
    INVALID_PROB: ClassVar[float] = 2e-4

    def __init__(
        self,
        device_id: str,
        rng: np.random.Generator,
        fault: tuple[str, float, float] | None = None,
        events: Sequence[SimEvent] = (),
    ) -> None:
        self.device_id = device_id
        self._rng = rng
        self.fault: ActiveFault | None = None
        try:
            self._specs: tuple[SignalSpec, ...] = catalog.signals_of(self.modality)
            if fault is not None:
                mode, start_s, duration_s = fault
                spec = catalog.failure_mode_spec(mode, self.modality)
                self.fault = ActiveFault(mode, spec.shape, start_s, duration_s)
            for event in events:
                catalog.lookalike_spec(event.kind, self.modality)
        except CatalogError as exc:
            raise SimulatorError(str(exc)) from None
        self.events = tuple(events)
        self._in_use: bool | None = None
        self._gap_left = 0
        self._t_s = 0.0
        self._init_state(rng)

    # -- hooks ---------------------------------------------------------------
    @abstractmethod
    def _init_state(self, rng: np.random.Generator) -> None:
        """Draw the device's personality (baselines) and initial states."""

    @abstractmethod
    def _values(self, ctx: StepContext, z: np.ndarray, u: np.ndarray) -> dict[str, float]:
        """Return every signal's value except ``in_use`` for one sample."""

    def _forced_use(self) -> bool | None:
        """Override to force ``in_use`` (an event or a failure); None = workload decides."""
        return None

    # -- helpers for subclasses ----------------------------------------------
    def sev(self, failure_mode: str) -> float:
        """Severity of ``failure_mode`` now (0 when the device has another or no fault)."""
        f = self.fault
        return f.severity(self._t_s) if f is not None and f.failure_mode == failure_mode else 0.0

    def failed_by(self, failure_mode: str) -> bool:
        """True once ``failure_mode`` has reached its failure time."""
        f = self.fault
        return f is not None and f.failure_mode == failure_mode and f.failed(self._t_s)

    def event_phase(self, kind: str) -> float | None:
        """Phase in [0, 1) of an active event of ``kind`` now, else None."""
        for event in self.events:
            if event.kind == kind:
                phase = event.phase(self._t_s)
                if phase is not None:
                    return phase
        return None

    # -- the sample ------------------------------------------------------------
    def sample(self, t_s: float, ts: float, dt: float, hour: float) -> list[Reading]:
        """Advance the device to simulated second ``t_s`` and return its readings.

        ``ts`` is the epoch timestamp written into readings, ``dt`` the sample
        period, ``hour`` the local hour of day. Returns an empty list while the
        device is in a communications gap (its state still advances).
        """
        self._t_s = t_s
        n_sig = len(self._specs)
        ub = self._rng.random(3 + n_sig)
        z = np.clip(self._rng.standard_normal(self.N_NORMAL), -4.0, 4.0)
        u = self._rng.random(self.N_UNIFORM)
        day = day_weight(hour)
        util = self.UTIL_NIGHT + (self.UTIL_DAY - self.UTIL_NIGHT) * day
        if self._in_use is None:
            self._in_use = bool(ub[2] < util)
        elif self._in_use:
            self._in_use = bool(ub[2] >= -math.expm1(-dt / self.SESSION_MEAN_S))
        else:
            rate_on = util / ((1.0 - util) * self.SESSION_MEAN_S)
            self._in_use = bool(ub[2] < -math.expm1(-dt * rate_on))
        failed = self.fault is not None and self.fault.failed(t_s)
        forced = self._forced_use()
        in_use = False if failed else (self._in_use if forced is None else forced)
        ctx = StepContext(t_s, dt, hour, day, ambient_wave(hour), in_use, failed)
        values = self._values(ctx, z, u)
        values["in_use"] = 1.0 if in_use else 0.0
        if self._gap_left > 0:
            self._gap_left -= 1
            return []
        if ub[0] < -math.expm1(-dt * self.GAPS_PER_DAY / 86400.0):
            self._gap_left = int(ub[1] * (2 * self.GAP_MEAN_SAMPLES - 1))
            return []
        out = []
        for i, spec in enumerate(self._specs):
            value = values[spec.name]
            if spec.name != "in_use" and ub[3 + i] < self.INVALID_PROB:
                out.append(
                    Reading(self.device_id, spec.name, math.nan, ts, spec.unit, Quality.INVALID)
                )
                continue
            out.append(
                Reading(self.device_id, spec.name, quantise(value, spec.quantum), ts, spec.unit)
            )
        return out
