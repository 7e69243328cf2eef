"""The hospital fleet engine: every device of a modality rendered at once, a chunk at a time.

Design: a device's *life* (degradations, failures, repairs, maintenance,
look-alikes, quirks) is planned per day by :class:`~.life.DeviceLife`, in
Python, from its own generator; its *signals* are rendered by the modality's
vectorised model (:mod:`.models`) for all devices of that modality together,
``T`` samples at a time (a chunk, at most :data:`MAX_CHUNK_STEPS`, never
across a day boundary). Each device has three generators derived from the
fleet seed and its id (life, personality, noise), and draws a fixed number
of variates per day or sample whatever its state, so:

* the same seed gives the same fleet, readings and ground truth;
* adding or removing a device changes no other device;
* a device with a fault equals its healthy twin until the onset.

Examples
--------
>>> from htm_edge.config.inventory import Device, Modality
>>> eng = FleetEngine([Device(device_id="MR-1", modality=Modality.MRI)], seed=1,
...                   period_s=60.0, start_ts=1_767_225_600.0)
>>> chunk = eng.next_chunk()
>>> chunk.ts.shape, sorted(chunk.groups[0].values)[:2]
((1440,), ['coldhead_1st_stage_k', 'coldhead_2nd_stage_k'])
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from htm_edge.collector.reading import Quality, Reading
from htm_edge.config import catalog
from htm_edge.config.inventory import Device, Modality
from htm_edge.simulators.errors import SimulatorError
from htm_edge.simulators.hospital.life import DAY_S, DeviceLife
from htm_edge.simulators.hospital.model import Array, BoolArray, ChunkContext, VectorModel, ar1
from htm_edge.simulators.hospital.models import VECTOR_MODELS
from htm_edge.simulators.hospital.overlay import (
    LOSS_PROB,
    SENTINEL_CALIBRATING,
    SENTINEL_INVALID,
    QuirkState,
    apply_quirks,
    life_masks,
)
from htm_edge.simulators.hospital.records import Course, Record
from htm_edge.simulators.hospital.reliability import PROFILES

__all__ = ["MAX_CHUNK_STEPS", "Chunk", "FleetEngine", "GroupChunk", "stream_rng"]

MAX_CHUNK_STEPS = 1440
_QUIRK_UNIFORMS = 5  # use, spike, spike signal, sentinel, message loss


def stream_rng(seed: int, device_id: str, stream: str) -> np.random.Generator:
    """The generator of one of a device's streams (``life``, ``personal``, ``noise``)."""
    digest = hashlib.sha256(f"{device_id}/{stream}".encode()).digest()
    return np.random.default_rng(np.random.SeedSequence([seed % 2**64, *digest[:16]]))


@dataclass
class GroupChunk:
    """The rendered chunk of one modality: ``values[signal]`` is ``(T, D)``.

    NaN means not reported; the sentinel codes mean invalid or calibrating;
    ``silent[t, d]`` means device ``d`` sent no message at sample ``t``.
    """

    modality: Modality
    device_ids: tuple[str, ...]
    values: dict[str, Array]
    silent: BoolArray


@dataclass
class Chunk:
    """``T`` consecutive samples of the whole fleet."""

    ts: Array
    groups: list[GroupChunk]

    def rounds(self) -> Iterator[list[list[Reading]]]:
        """Per sample, one reading list per device that sent one (in fleet group order)."""
        for t in range(self.ts.shape[0]):
            yield [readings for _, readings in self.messages(t)]

    def round_lists(self, t: int) -> list[list[Reading]]:
        """Sample ``t``: one list per device in ``FleetEngine.ordered`` order ([] = silent)."""
        sent = dict(self.messages(t))
        return [sent.get(i, []) for g in self.groups for i in g.device_ids]

    def messages(self, t: int) -> Iterator[tuple[str, list[Reading]]]:
        """The (device id, readings) messages of sample ``t``."""
        ts = float(self.ts[t])
        for g in self.groups:
            specs = catalog.signals_of(g.modality)
            rows = [(s.name, s.unit, g.values[s.name][t]) for s in specs]
            silent = g.silent[t]
            for d, device_id in enumerate(g.device_ids):
                if silent[d]:
                    continue
                out = []
                for name, unit, row in rows:
                    v = float(row[d])
                    if v != v:
                        continue
                    if v == SENTINEL_INVALID:
                        out.append(Reading(device_id, name, math.nan, ts, unit, Quality.INVALID))
                    elif v == SENTINEL_CALIBRATING:
                        out.append(
                            Reading(device_id, name, math.nan, ts, unit, Quality.QUESTIONABLE)
                        )
                    else:
                        out.append(Reading(device_id, name, v, ts, unit))
                if out:
                    yield device_id, out


class _Group:
    """Devices of one modality with their model, lives and carried state."""

    def __init__(
        self,
        modality: Modality,
        devices: Sequence[Device],
        seed: int,
        start_ts: float,
        tz: float,
        use_scales: Sequence[float],
    ) -> None:
        self.modality = modality
        self.profile = PROFILES[modality]
        cls: type[VectorModel] = VECTOR_MODELS[modality]
        self.cls = cls
        self.ids = tuple(d.device_id for d in devices)
        self.specs = catalog.signals_of(modality)
        self.noise = [stream_rng(seed, i, "noise") for i in self.ids]
        personal = np.array(
            [stream_rng(seed, i, "personal").random(cls.N_PERSONAL + 2) for i in self.ids]
        ).reshape(len(self.ids), cls.N_PERSONAL + 2)
        self.model = cls(personal[:, : cls.N_PERSONAL])
        self.room_offset = 2.0 * (personal[:, -2] - 0.5)
        self.use_scale = np.asarray(use_scales, dtype=float)
        self.lives = [
            DeviceLife(
                dev, stream_rng(seed, dev.device_id, "life"), start_ts, tz, s, cls.STEP_SIGNALS
            )
            for dev, s in zip(devices, use_scales, strict=True)
        ]
        self.in_use = personal[:, -1] < 0.3
        self.room_ar = np.zeros(len(self.ids))
        self.quirks = QuirkState(len(self.ids), cls.STEP_SIGNALS)
        self.n_u = cls.N_UNIFORM + _QUIRK_UNIFORMS

    def utilisation(self, hour: Array, weekday: NDArray[np.int64]) -> Array:
        p = self.profile
        ramp = np.clip(np.minimum(hour - 6.0, 21.0 - hour) / 2.0, 0.0, 1.0)
        day = np.where(weekday < 5, p.util_day, p.util_weekend)
        base = p.util_night + (day - p.util_night) * ramp
        return np.asarray(np.clip(base[:, None] * self.use_scale[None, :], 0.0, 0.97), dtype=float)

    def draws(self, t_n: int) -> tuple[Array, Array]:
        nz, nu = self.cls.N_NORMAL + 1, self.n_u
        z = np.empty((t_n, len(self.ids), nz))
        u = np.empty((t_n, len(self.ids), nu))
        for d, g in enumerate(self.noise):
            z[:, d, :] = g.standard_normal((t_n, nz))
            u[:, d, :] = g.random((t_n, nu))
        np.clip(z, -4.0, 4.0, out=z)
        return z, u

    def markov_use(self, util: Array, u_use: Array, dt: float) -> BoolArray:
        p_off = -math.expm1(-dt / (60.0 * self.profile.session_mean_min))
        rate_on = util / ((1.0 - util) * 60.0 * self.profile.session_mean_min)
        p_on = -np.expm1(-dt * rate_on)
        out = np.empty(util.shape, dtype=bool)
        state = self.in_use
        for t in range(util.shape[0]):
            state = np.where(state, u_use[t] >= p_off, u_use[t] < p_on[t])
            out[t] = state
        self.in_use = state
        return out


class FleetEngine:
    """A simulated hospital fleet (see module docstring).

    Parameters
    ----------
    devices:
        Inventory entries; every modality needs a vectorised model.
    seed:
        Fleet seed.
    period_s:
        Seconds between samples; must divide a day.
    start_ts:
        Epoch seconds of the first sample.
    tz_offset_s:
        Local time offset from UTC (shifts, working hours, daily tests).
    use_scales:
        Each device's use relative to its modality's reference (default 1).
    """

    def __init__(
        self,
        devices: Sequence[Device],
        seed: int,
        period_s: float,
        start_ts: float,
        *,
        tz_offset_s: float = 0.0,
        use_scales: Sequence[float] | None = None,
    ) -> None:
        steps_per_day = DAY_S / period_s
        if period_s <= 0 or abs(steps_per_day - round(steps_per_day)) > 1e-9:
            raise SimulatorError(f"period_s must divide a day (86400 s), got {period_s}")
        ids = [d.device_id for d in devices]
        if len(set(ids)) != len(ids):
            raise SimulatorError("device ids must be unique")
        missing = sorted({d.modality.value for d in devices} - {m.value for m in VECTOR_MODELS})
        if missing:
            known = ", ".join(m.value for m in VECTOR_MODELS)
            raise SimulatorError(f"no fleet model for {', '.join(missing)}; modelled: {known}")
        self.devices = tuple(devices)
        self.seed = seed
        self.period_s = float(period_s)
        self.start_ts = float(start_ts)
        self.tz = tz_offset_s
        self.steps_per_day = round(steps_per_day)
        self.chunk_steps = max(
            k for k in range(1, MAX_CHUNK_STEPS + 1) if self.steps_per_day % k == 0
        )
        scales = list(use_scales) if use_scales is not None else [1.0] * len(devices)
        by_mod: dict[Modality, list[int]] = {}
        for i, d in enumerate(devices):
            by_mod.setdefault(d.modality, []).append(i)
        self.groups = [
            _Group(
                m, [devices[i] for i in idx], seed, start_ts, tz_offset_s, [scales[i] for i in idx]
            )
            for m, idx in by_mod.items()
        ]
        self.k = 0
        order = {d.device_id: d for d in devices}
        #: the devices in rendering order (modality groups), as :meth:`Chunk.round_lists` gives
        self.ordered: tuple[Device, ...] = tuple(order[i] for g in self.groups for i in g.ids)

    @property
    def next_ts(self) -> float:
        """Epoch seconds of the next sample."""
        return self.start_ts + self.k * self.period_s

    def plan_days(self, days: int) -> None:
        """Plan every device's life for the first ``days`` days (rendering not needed)."""
        for g in self.groups:
            for life in g.lives:
                life.plan_until(days)

    def ground_truth(self, until_ts: float | None = None) -> list[Record]:
        """Every record planned so far, device by device; ``until_ts``: those begun before it.

        Lives are planned two days ahead of rendering; a degradation begun
        before ``until_ts`` is kept with its (possibly later) failure time.
        """
        out: list[Record] = []
        for g in self.groups:
            for life in g.lives:
                out.extend(life.records())
        if until_ts is None:
            return out
        return [r for r in out if (r.onset_ts if isinstance(r, Course) else r.start_ts) < until_ts]

    def next_chunk(self) -> Chunk:
        """Render the next chunk of samples for every device."""
        t_n = self.chunk_steps
        ts = np.asarray(self.start_ts + (self.k + np.arange(t_n)) * self.period_s, dtype=float)
        day = self.k // self.steps_per_day
        self.plan_days(day + 2)
        local = ts + self.tz
        hour = np.asarray((local % DAY_S) / 3600.0, dtype=float)
        weekday = ((local // DAY_S + 3) % 7).astype(np.int64)
        doy = (local / DAY_S) % 365.25
        season = np.asarray(np.cos(2.0 * np.pi * (doy - 196.0) / 365.25), dtype=float)
        outdoor = np.asarray(
            10.0 * season + 4.0 * np.cos(2.0 * np.pi * (hour - 15.0) / 24.0), dtype=float
        )
        groups = [self._render(g, ts, hour, weekday, season, outdoor) for g in self.groups]
        self.k += t_n
        return Chunk(ts, groups)

    def _render(
        self,
        g: _Group,
        ts: Array,
        hour: Array,
        weekday: NDArray[np.int64],
        season: Array,
        outdoor: Array,
    ) -> GroupChunk:
        t_n, dt = ts.shape[0], self.period_s
        z, u = g.draws(t_n)
        masks = life_masks(g.lives, ts, g.modality, g.profile.reports_when_failed)
        room = (
            0.25 * outdoor[:, None]
            + g.room_offset[None, :]
            + 0.4 * ar1(g.room_ar, z[:, :, -1], 3 * 3600.0, dt)
        )
        nu = g.cls.N_UNIFORM
        chain = g.markov_use(g.utilisation(hour, weekday), u[:, :, nu], dt)
        ctx = ChunkContext(
            ts, dt, hour, weekday, season, outdoor[:, None] + 0.0 * room, room,
            chain, masks.failed, masks.service, masks.sev, masks.failed_by, masks.events,
            z[:, :, :-1], u[:, :, :nu],
        )  # fmt: skip
        forced = g.model.forced_use(ctx)
        in_use = chain if forced is None else np.where(np.isnan(forced), chain, forced > 0.5)
        in_use = in_use & ~masks.failed & ~masks.service
        ctx = ChunkContext(
            ts, dt, hour, weekday, season, ctx.outdoor, room, in_use, masks.failed,
            masks.service, masks.sev, masks.failed_by, masks.events, ctx.z, ctx.u,
        )  # fmt: skip
        values = g.model.render(ctx)
        apply_quirks(values, g.lives, ts, dt, g.quirks, u[:, :, nu + 1 : nu + 4], masks.service)
        values["in_use"] = in_use.astype(np.float64)
        silent = masks.silent | (u[:, :, nu + 4] < LOSS_PROB)
        return GroupChunk(g.modality, g.ids, values, silent)
