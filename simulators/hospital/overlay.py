"""From device lives to chunk arrays, and the data-quality quirks laid over the signals.

:func:`life_masks` turns each device's plan (courses, services, look-alikes,
outages) into the ``(T, D)`` arrays a model renders from; :func:`apply_quirks`
adds what fools naive detectors and is no failure: level steps after a
recalibration or a part swap, stuck sensors, single spikes, sentinel codes
for invalid and calibrating values, lost messages and outages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from htm_edge.config import catalog
from htm_edge.config.inventory import Modality
from htm_edge.simulators.hospital.life import DeviceLife
from htm_edge.simulators.hospital.model import Array, BoolArray, shape_array

__all__ = [
    "SENTINELS",
    "SENTINEL_CALIBRATING",
    "SENTINEL_INVALID",
    "LifeMasks",
    "QuirkState",
    "apply_quirks",
    "life_masks",
]

#: what a device sends for an invalid value (the DRI/Medibus convention)
SENTINEL_INVALID = -32767.0
#: what a device sends while a sensor calibrates (during maintenance, mostly)
SENTINEL_CALIBRATING = -32762.0
SENTINELS = (SENTINEL_INVALID, SENTINEL_CALIBRATING)

SPIKES_PER_DAY = 1.0
INVALID_PROB = 2e-4
CALIBRATING_PROB = 0.05
LOSS_PROB = 1e-3


@dataclass
class LifeMasks:
    """The plan of one chunk for one modality group (see :class:`ChunkContext`)."""

    sev: dict[str, Array]
    failed_by: dict[str, BoolArray]
    failed: BoolArray
    service: BoolArray
    silent: BoolArray
    events: dict[str, Array]


def _span(ts: Array, start: float, end: float) -> slice:
    return slice(int(np.searchsorted(ts, start, "left")), int(np.searchsorted(ts, end, "left")))


def life_masks(
    lives: Sequence[DeviceLife], ts: Array, modality: Modality, reports_when_failed: bool
) -> LifeMasks:
    """Build the chunk's masks for the devices of one modality, in ``lives`` order."""
    t_n, d_n = ts.shape[0], len(lives)
    c0, c1 = float(ts[0]), float(ts[-1]) + 1e-6
    modes = [m.id for m in catalog.failure_modes_of(modality)]
    sev = {m: np.zeros((t_n, d_n)) for m in modes}
    failed_by = {m: np.zeros((t_n, d_n), dtype=bool) for m in modes}
    failed = np.zeros((t_n, d_n), dtype=bool)
    service = np.zeros((t_n, d_n), dtype=bool)
    silent = np.zeros((t_n, d_n), dtype=bool)
    events: dict[str, Array] = {}
    for d, life in enumerate(lives):
        for c in life.courses:
            if c.onset_ts >= c1 or c.end_ts <= c0:
                continue
            sl = _span(ts, c.onset_ts, c.end_ts)
            t = ts[sl]
            if c.found_ts is not None:
                cut = _span(ts, c.onset_ts, c.found_ts)
                tc = ts[cut]
                tau = (tc - c.onset_ts) / max(c.failure_ts - c.onset_ts, 1.0)
                sev[c.mode][cut, d] = np.maximum(sev[c.mode][cut, d], shape_array(c.shape, tau))
                continue
            if c.sudden:
                s = np.ones_like(t)
            else:
                s = shape_array(c.shape, (t - c.onset_ts) / (c.failure_ts - c.onset_ts))
            sev[c.mode][sl, d] = np.maximum(sev[c.mode][sl, d], s)
            down = _span(ts, c.failure_ts, c.repair_end_ts)
            failed_by[c.mode][down, d] = True
            failed[down, d] = True
            service[_span(ts, c.repair_start_ts, c.repair_end_ts), d] = True
            if not reports_when_failed:
                silent[down, d] = True
        for s_rec in life.services:
            if s_rec.start_ts < c1 and s_rec.end_ts > c0:
                service[_span(ts, s_rec.start_ts, s_rec.end_ts), d] = True
        for e in life.all_events():
            if e.start_ts < c1 and e.end_ts > c0:
                sl = _span(ts, e.start_ts, e.end_ts)
                arr = events.setdefault(e.event, np.full((t_n, d_n), np.nan))
                arr[sl, d] = (ts[sl] - e.start_ts) / (e.end_ts - e.start_ts)
        for q in life.quirks:
            if q.kind == "outage" and q.start_ts < c1 and q.end_ts > c0:
                silent[_span(ts, q.start_ts, q.end_ts), d] = True
    return LifeMasks(sev, failed_by, failed, service, silent, events)


class QuirkState:
    """Per-device level offsets of the step signals, carried from chunk to chunk."""

    def __init__(self, n_devices: int, signals: Sequence[str]) -> None:
        self.signals = tuple(signals)
        self.offset = {s: np.zeros(n_devices) for s in self.signals}


def _stick(values: Array, sl: slice, d: int) -> None:
    col = values[sl, d]
    seen = np.flatnonzero(~np.isnan(col))
    if seen.size:
        col[seen] = col[seen[0]]


def apply_quirks(
    values: dict[str, Array],
    lives: Sequence[DeviceLife],
    ts: Array,
    dt: float,
    state: QuirkState,
    u: Array,
    service: BoolArray,
) -> None:
    """Lay steps, stuck sensors, spikes and sentinel codes over ``values`` (in place).

    ``u`` holds three uniforms per device and sample (``(T, D, 3)``): spike,
    which signal, sentinel.
    """
    c0, c1 = float(ts[0]), float(ts[-1]) + 1e-6
    sigs = state.signals
    for name in sigs:
        values[name] += state.offset[name][None, :]
    for d, life in enumerate(lives):
        for q in life.all_quirks():
            if q.start_ts >= c1 or (q.kind == "step" and q.start_ts < c0) or q.end_ts < c0:
                continue
            if q.kind == "step" and q.signal in state.offset:
                k = int(np.searchsorted(ts, q.start_ts, "left"))
                values[q.signal][k:, d] += q.delta
                state.offset[q.signal][d] += q.delta
            elif q.kind == "stuck" and q.signal in values:
                _stick(values[q.signal], _span(ts, q.start_ts, q.end_ts), d)
    for name, arr in values.items():  # devices report at their resolution
        quantum = _quantum(name)
        np.multiply(np.round(arr / quantum), quantum, out=arr)
        np.round(arr, max(0, 1 - math.floor(math.log10(quantum))), out=arr)
    if not sigs:
        return
    pick = np.minimum((u[:, :, 1] * len(sigs)).astype(np.int64), len(sigs) - 1)
    spike = u[:, :, 0] < SPIKES_PER_DAY * dt / 86_400.0
    sentinel_u = u[:, :, 2]
    for i, name in enumerate(sigs):
        arr = values[name]
        spec_range = _range(name)
        on = spike & (pick == i)
        if on.any():
            sign = np.where(u[:, :, 1] * len(sigs) - pick > 0.5, 1.0, -1.0)
            arr[on] += (sign * 0.25 * spec_range)[on]
        bad = (pick == i) & (sentinel_u < INVALID_PROB) & ~np.isnan(arr)
        arr[bad] = SENTINEL_INVALID
        cal = (pick == i) & service & (sentinel_u > 1.0 - CALIBRATING_PROB) & ~np.isnan(arr)
        arr[cal] = SENTINEL_CALIBRATING


_RANGES: dict[str, float] = {}
_QUANTA: dict[str, float] = {}


def _quantum(signal: str) -> float:
    if signal not in _QUANTA:
        modality = catalog.modality_of_signal(signal)
        assert modality is not None
        _QUANTA[signal] = catalog.signal_spec(modality, signal).quantum
    return _QUANTA[signal]


def _range(signal: str) -> float:
    if signal not in _RANGES:
        modality = catalog.modality_of_signal(signal)
        assert modality is not None
        spec = catalog.signal_spec(modality, signal)
        _RANGES[signal] = spec.normal_high - spec.normal_low
    return _RANGES[signal]
