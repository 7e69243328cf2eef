"""What a vectorised modality model sees, and the numerical helpers they share.

A model renders one *chunk* (``T`` samples of ``D`` devices of its modality)
at a time from a :class:`ChunkContext`: time, utilisation, the severity of
each failure mode, service and failure masks, look-alike phases and the
devices' own random variates (a fixed number per device and sample, so a
device with a fault equals its healthy twin until onset). It returns a
``(T, D)`` array per signal, NaN where the device reports nothing at that
sample (per-cycle or daily-test signals). Slow states (AR(1) noise, thermal
lags) carry over between chunks in the model's attributes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from htm_edge.config.inventory import Modality

__all__ = [
    "Array",
    "ChunkContext",
    "VectorModel",
    "ar1",
    "cumsum_reset",
    "daily_at",
    "ema",
    "hold",
    "poisson",
    "shape_accelerating",
    "shape_array",
]

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class ChunkContext:
    """One chunk of ``T`` samples for the ``D`` devices of one modality.

    ``ts``, ``hour`` (local, 0-24), ``weekday`` (0 = Monday) and ``season``
    (+1 mid-summer, -1 mid-winter) are per sample; ``outdoor`` is the
    outdoor-temperature deviation (°C, seasonal and diurnal) and ``room`` each
    device's room temperature deviation from its setpoint (°C). ``in_use``,
    ``failed`` (any failure awaiting or under repair), ``service`` (a PM,
    repair or call in progress) are ``(T, D)``; ``sev`` and ``failed_by`` hold
    one ``(T, D)`` array per failure mode; ``events`` the phase in [0, 1) of
    each look-alike kind (NaN outside); ``z``/``u`` the devices' normal and
    uniform variates ``(T, D, N_NORMAL)`` / ``(T, D, N_UNIFORM)``.
    """

    ts: Array
    dt: float
    hour: Array
    weekday: NDArray[np.int64]
    season: Array
    outdoor: Array
    room: Array
    in_use: BoolArray
    failed: BoolArray
    service: BoolArray
    sev: Mapping[str, Array]
    failed_by: Mapping[str, BoolArray]
    events: Mapping[str, Array]
    z: Array
    u: Array

    def phase(self, kind: str) -> Array:
        """Phase of look-alike ``kind`` (NaN outside it)."""
        found = self.events.get(kind)
        return found if found is not None else np.full(self.in_use.shape, np.nan)

    def during(self, kind: str) -> BoolArray:
        """Mask of the samples inside look-alike ``kind``."""
        return ~np.isnan(self.phase(kind))


class VectorModel(ABC):
    """Base of the per-modality vectorised models.

    Subclasses set ``modality``, ``N_NORMAL``/``N_UNIFORM`` (variates per
    device and sample), ``N_PERSONAL`` (uniforms per device for its
    personality), ``STEP_SIGNALS`` (continuous signals that recalibration
    steps, stuck sensors and spikes may hit) and implement :meth:`render`.
    """

    modality: ClassVar[Modality]
    N_NORMAL: ClassVar[int]
    N_UNIFORM: ClassVar[int] = 1
    N_PERSONAL: ClassVar[int] = 8
    STEP_SIGNALS: ClassVar[tuple[str, ...]]

    def __init__(self, personality: Array) -> None:
        self.n = personality.shape[0]
        self.p = personality
        self.setup(personality)

    @abstractmethod
    def setup(self, p: Array) -> None:
        """Draw baselines from ``p`` (``(D, N_PERSONAL)`` uniforms) and initial states."""

    @abstractmethod
    def render(self, c: ChunkContext) -> dict[str, Array]:
        """Every signal but ``in_use`` for the chunk, ``(T, D)``, NaN = not reported."""

    def forced_use(self, c: ChunkContext) -> Array | None:
        """Override to force use (1) or idleness (0) during events; NaN = let use decide."""
        return None


def ar1(state: Array, z: Array, tau_s: float, dt: float) -> Array:
    """Unit-variance AR(1) along axis 0 from ``state`` (updated in place to the last row)."""
    phi = float(np.exp(-dt / tau_s))
    gain = float(np.sqrt(1.0 - phi * phi))
    out, _ = lfilter([gain], [1.0, -phi], z, axis=0, zi=(phi * state)[None, :])
    out = np.asarray(out, dtype=np.float64)
    state[:] = out[-1]
    return out


def ema(state: Array, x: Array, tau_s: float, dt: float) -> Array:
    """First-order lag of ``x`` along axis 0 from ``state`` (updated in place)."""
    a = float(-np.expm1(-dt / tau_s))
    out, _ = lfilter([a], [1.0, a - 1.0], x, axis=0, zi=((1.0 - a) * state)[None, :])
    out = np.asarray(out, dtype=np.float64)
    state[:] = out[-1]
    return out


def daily_at(c: ChunkContext, hour: float) -> NDArray[np.bool_]:
    """Per-sample mask ``(T,)``: the sample in which local ``hour`` falls, once a day."""
    since = ((c.hour - hour) % 24.0) * 3600.0
    return since < c.dt


def poisson(u: Array, lam: Array) -> Array:
    """Poisson(``lam``) variates by inverse CDF of uniforms ``u`` (keeps draws aligned)."""
    lam = np.maximum(lam, 0.0)
    k = np.zeros_like(lam)
    p = np.exp(-lam)
    cdf = p.copy()
    for n in range(1, 60):
        more = u > cdf
        if not more.any():
            break
        k += more
        p = p * lam / n
        cdf = cdf + p
    return k


def shape_accelerating(tau: Array) -> Array:
    """The catalogue's accelerating shape on arrays (0 at tau<=0, 1 at tau>=1)."""
    t = np.clip(tau, 0.0, 1.0)
    return np.asarray(np.expm1(3.0 * t) / np.expm1(3.0), dtype=np.float64)


def shape_array(shape: str, tau: Array) -> Array:
    """Severity of the catalogue's ``shape`` at fractions ``tau`` of a course (arrays)."""
    t = np.clip(tau, 0.0, 1.0)
    if shape == "linear":
        return t
    if shape == "accelerating":
        return shape_accelerating(t)
    x = t * 6.0
    step = np.floor(x)
    rise = np.clip((x - step - 0.7) / 0.3, 0.0, 1.0)
    out = (step + rise * rise * (3.0 - 2.0 * rise)) / 6.0
    return np.asarray(np.where(t >= 1.0, 1.0, out), dtype=np.float64)


def cumsum_reset(state: Array, inc: Array, reset: BoolArray) -> Array:
    """Running sum of ``inc`` along axis 0 from ``state``, back to 0 at each ``reset``."""
    t_n = inc.shape[0]
    inc = np.where(reset, 0.0, inc)
    cs = np.cumsum(inc, axis=0) + state[None, :]
    idx = np.where(reset, np.arange(t_n)[:, None], -1)
    last = np.maximum.accumulate(idx, axis=0)
    base = np.where(last >= 0, np.take_along_axis(cs, np.maximum(last, 0), axis=0), 0.0)
    out = np.asarray(cs - base, dtype=np.float64)
    state[:] = out[-1]
    return out


def hold(state: Array, new: BoolArray, values: Array) -> Array:
    """Forward-fill: ``values`` where ``new``, else the last one (``state`` before any)."""
    t_n = new.shape[0]
    idx = np.maximum.accumulate(np.where(new, np.arange(t_n)[:, None], -1), axis=0)
    picked = np.take_along_axis(values, np.maximum(idx, 0), axis=0)
    out = np.asarray(np.where(idx >= 0, picked, state[None, :]), dtype=np.float64)
    state[:] = out[-1]
    return out
