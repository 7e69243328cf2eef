"""``Prognostics``: readings in, failure predictions out, for every device of a fleet at once.

Feed it batches of readings as arrays, in time order (as the scorer)::

    predictions = prognostics.update(device_ids, signals, ts, values)

Per device it learns how each precursor signal moves with workload
(:mod:`.normalise`, first ``warmup_h``), summarises each stream into one
robust point per bucket (:mod:`.points`), and once per bucket computes the
indicators of every catalogued failure mode of the device's modality
(:mod:`.specs`, :mod:`.indicators`), their trends to the failure threshold
(:mod:`.trend`) and one feature row per mode (:mod:`.features`). A trained
:class:`~.model.FleetModel` turns the rows into the probability of failure
within the horizon and time-to-failure quantiles; without one, the trends
alone give both. The state is a JSON-able snapshot, so a restart resumes warm.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from htm_edge.config import catalog
from htm_edge.config.inventory import Device, Modality
from htm_edge.models.errors import ModelError
from htm_edge.models.prognostics.batch import FeatureBatch, group_keys, threshold_for, threshold_key
from htm_edge.models.prognostics.config import PrognosticsConfig
from htm_edge.models.prognostics.evidence import (
    STAT_NAMES,
    Evidence,
    assemble_predictions,
    trend_only,
)
from htm_edge.models.prognostics.features import (
    FEATURE_SET,
    TrendForecast,
    feature_rows,
    trend_forecast,
)
from htm_edge.models.prognostics.indicators import IndicatorValues, compute_indicators
from htm_edge.models.prognostics.model import FleetModel
from htm_edge.models.prognostics.normalise import WorkloadNormaliser
from htm_edge.models.prognostics.points import LEVEL, RATE, SPREAD, StreamPoints
from htm_edge.models.prognostics.specs import modality_modes, mode_indicators, workload_covariate
from htm_edge.models.types import Prediction

__all__ = ["Prognostics"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_EFFECT, _IN_USE, _COV, _IGNORE = 0, 1, 2, 3
_STAT = {"level": LEVEL, "rate": RATE, "spread": SPREAD}


def ring_points_for(config: PrognosticsConfig) -> int:
    """Points kept per stream: at least 96, and enough for the same hours two days ago.

    Trend-only predictions compare the level with the same hours one and two
    days before (:mod:`.indicators`), so a short bucket keeps more points.
    """
    need = (2 * 86_400.0 + config.level_window_h * 3600.0) / config.bucket_s
    return max(96, math.ceil(need) + 2)


@dataclass
class _DeviceTable:
    modes: tuple[str, ...]
    streams: IntArray
    stat: IntArray
    sign: FloatArray
    scale: FloatArray
    quantum: FloatArray
    mode_of: IntArray
    signals: tuple[str, ...]
    units: tuple[str, ...]


class Prognostics:
    """Failure prediction over many devices (see module docstring).

    Parameters
    ----------
    config:
        The ``[models.prognostics]`` section.
    devices:
        Inventory lookup by device id (modality, make and model).
    model:
        A trained fleet model, or None for trend-only predictions.
    """

    def __init__(
        self,
        config: PrognosticsConfig,
        devices: Callable[[str], Device],
        model: FleetModel | None = None,
    ) -> None:
        self.config = config
        self._lookup = devices
        self.model = model
        if model is not None and abs(model.horizon_s - config.horizon_h * 3600.0) > 1.0:
            raise ModelError(
                f"models.prognostics.horizon_h = {config.horizon_h:g} but the model file was "
                f"trained for {model.horizon_s / 3600.0:g} h; set the same horizon or retrain"
            )
        self.points = StreamPoints(config.bucket_s, ring_points=ring_points_for(config))
        self.norm = WorkloadNormaliser()
        self._slot: dict[tuple[str, str], int] = {}
        self._keys: list[tuple[str, str]] = []
        self._role = np.zeros(0, dtype=np.int64)
        self._sdev = np.zeros(0, dtype=np.int64)
        self._dev: dict[str, int] = {}
        self._dev_ids: list[str] = []
        self._devices: list[Device] = []
        self._tables: list[_DeviceTable | None] = []
        self._first = np.zeros(0)
        self._ready = np.zeros(0, dtype=bool)
        self._in_use = np.zeros(0, dtype=np.int64)
        self._cov = np.zeros(0)
        #: when True, each evaluation's feature rows are kept in :attr:`recorded` (training)
        self.record = False
        self.recorded: list[FeatureBatch] = []
        self.evaluations = 0

    # ------------------------------------------------------------------ registry of streams
    def _device(self, device_id: str, build: bool = True) -> int:
        d = self._dev.get(device_id)
        if d is not None:
            return d
        d = len(self._dev_ids)
        device = self._lookup(device_id)
        self._dev[device_id] = d
        self._dev_ids.append(device_id)
        self._devices.append(device)
        self._tables.append(None)
        self._first = np.append(self._first, np.nan)
        self._ready = np.append(self._ready, False)
        self._in_use = np.append(self._in_use, 0)
        self._cov = np.append(self._cov, np.nan)
        if build:
            self._tables[d] = self._build_table(d, device)
        return d

    def _new_slot(self, key: tuple[str, str], role: int, d: int) -> int:
        s = len(self._keys)
        self._slot[key] = s
        self._keys.append(key)
        self._role = np.append(self._role, role)
        self._sdev = np.append(self._sdev, d)
        if role == _EFFECT:
            self._grow_streams(s + 1)
        return s

    def _grow_streams(self, need: int) -> None:
        if need > self.points.n:
            cap = max(16, self.points.n)
            while cap < need:
                cap *= 2
            self.points.grow(cap)
            self.norm.grow(cap)

    def _build_table(self, d: int, device: Device) -> _DeviceTable | None:
        modality = device.modality
        modes = modality_modes(modality) if modality is not Modality.OTHER else ()
        if not modes:
            return None
        streams, stat, sign, scale, quantum, mode_of, sigs, units = [], [], [], [], [], [], [], []
        for m, mode in enumerate(modes):
            for spec in mode_indicators(mode):
                key = (device.device_id, spec.signal)
                slot = self._slot.get(key)
                if slot is None:
                    slot = self._new_slot(key, _EFFECT, d)
                streams.append(slot)
                stat.append(_STAT[spec.statistic])
                sign.append(spec.sign)
                scale.append(spec.range)
                quantum.append(spec.quantum)
                mode_of.append(m)
                sigs.append(spec.signal)
                units.append(spec.unit)
        cov = workload_covariate(modality)
        for name, role in ((catalog.IN_USE_SIGNAL, _IN_USE), (cov, _COV)):
            if name is not None and (device.device_id, name) not in self._slot:
                self._new_slot((device.device_id, name), role, d)
        return _DeviceTable(
            modes,
            np.array(streams, dtype=np.int64),
            np.array(stat, dtype=np.int64),
            np.array(sign),
            np.array(scale),
            np.array(quantum),
            np.array(mode_of, dtype=np.int64),
            tuple(sigs),
            tuple(units),
        )

    def _slots(self, device_ids: Sequence[str], signals: Sequence[str]) -> IntArray:
        get = self._slot.get
        out = [get(k, -1) for k in zip(device_ids, signals, strict=True)]
        if -1 in out:
            for i, k in enumerate(zip(device_ids, signals, strict=True)):
                if out[i] == -1:
                    s = self._slot.get(k)
                    if s is None:
                        d = self._device(k[0])
                        s = self._slot.get(k)
                        if s is None:
                            s = self._new_slot(k, _IGNORE, d)
                    out[i] = s
        return np.asarray(out, dtype=np.int64)

    # ------------------------------------------------------------------ input
    def update(
        self,
        device_ids: Sequence[str],
        signals: Sequence[str],
        ts: FloatArray,
        values: FloatArray,
    ) -> list[Prediction]:
        """Take a batch of readings (time order); return the predictions of the buckets it closed.

        Each device is evaluated once per bucket, when it first reports in a
        later one; a prediction is stamped with the bucket's end. NaN values
        are ignored (invalid readings).
        """
        ts = np.asarray(ts, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        if not (len(device_ids) == len(signals) == ts.shape[0] == values.shape[0]):
            raise ModelError("device_ids, signals, ts and values must have the same length")
        if ts.size == 0:
            return []
        return self.update_slots(self._slots(device_ids, signals), ts, values)

    def update_slots(self, slots: IntArray, ts: FloatArray, values: FloatArray) -> list[Prediction]:
        """:meth:`update` with stream slots already looked up (see :meth:`slots_for`)."""
        ok = np.isfinite(values) & (self._role[slots] != _IGNORE)
        slots, ts, values = slots[ok], ts[ok], values[ok]
        out: list[Prediction] = []
        if ts.size == 0:
            return out
        bid = np.floor(ts / self.config.bucket_s).astype(np.int64)
        for b in np.unique(bid):
            sel = bid == b
            out.extend(
                self._bucket(slots[sel], ts[sel], values[sel], float(b) * self.config.bucket_s)
            )
        return out

    def slots_for(self, device_ids: Sequence[str], signals: Sequence[str]) -> IntArray:
        """Stream slots of (device, signal) pairs (allocated on first sight)."""
        return self._slots(device_ids, signals)

    def _join(
        self,
        role: int,
        slots: IntArray,
        ts: FloatArray,
        values: FloatArray,
        qdev: IntArray,
        qts: FloatArray,
        carried: FloatArray,
    ) -> FloatArray:
        """Per query reading: the latest ``role`` value of its device at or before its time."""
        m = self._role[slots] == role
        out = carried[qdev].astype(np.float64)
        if not m.any():
            return out
        dev = self._sdev[slots[m]]
        t0 = float(ts.min())
        key = dev * 10**11 + np.round((ts[m] - t0) * 1000.0).astype(np.int64)
        order = np.argsort(key, kind="stable")
        key, val, dev = key[order], values[m][order], dev[order]
        qkey = qdev * 10**11 + np.round((qts - t0) * 1000.0).astype(np.int64)
        j = np.searchsorted(key, qkey, side="right") - 1
        hit = (j >= 0) & (dev[np.maximum(j, 0)] == qdev)
        out[hit] = val[j[hit]]
        last = np.flatnonzero(np.append(dev[1:] != dev[:-1], True))
        carried[dev[last]] = val[last]
        return out

    def _bucket(
        self, slots: IntArray, ts: FloatArray, values: FloatArray, start: float
    ) -> list[Prediction]:
        dev = self._sdev[slots]
        eff = self._role[slots] == _EFFECT
        qdev, qts = dev[eff], ts[eff]
        state_f = self._in_use.astype(np.float64)
        state = self._join(_IN_USE, slots, ts, values, qdev, qts, state_f)
        self._in_use = (state_f > 0.5).astype(np.int64)
        cov = self._join(_COV, slots, ts, values, qdev, qts, self._cov)
        es, ex = slots[eff], values[eff]
        st = (state > 0.5).astype(np.int64)
        firsts = np.isnan(self._first[dev])
        if firsts.any():
            np.fmin.at(self._first, dev[firsts], ts[firsts])
        self.norm.learn(es, ex, st, cov)
        warm = (~self._ready) & (start >= self._first + self.config.warmup_h * 3600.0)
        if warm.any():
            for d in np.flatnonzero(warm):
                table = self._tables[d]
                if table is not None:
                    self.norm.finish(np.unique(table.streams))
            self._ready |= warm
        adj, keep = self.norm.apply(es, ex, st, cov)
        present_dev = np.zeros(len(self._dev_ids), dtype=bool)
        present_dev[dev] = True
        n = self.points.n
        present = np.zeros(n, dtype=bool)
        known = self._role == _EFFECT
        eff_slots = np.flatnonzero(known)
        present[eff_slots] = present_dev[self._sdev[eff_slots]]
        closed = self.points.add(es[keep], qts[keep], adj[keep], present)
        if closed.size == 0:
            return []
        devices = np.unique(self._sdev[closed])
        devices = devices[self._ready[devices]]
        return self._evaluate(devices, start)

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self, devices: IntArray, now: float) -> list[Prediction]:
        tables = [(d, self._tables[d]) for d in devices.tolist()]
        tables = [(d, t) for d, t in tables if t is not None]
        if not tables:
            return []
        self.evaluations += 1
        cfg = self.config
        streams = np.concatenate([t.streams for _, t in tables])
        stat = np.concatenate([t.stat for _, t in tables])
        sign = np.concatenate([t.sign for _, t in tables])
        scale = np.concatenate([t.scale for _, t in tables])
        quantum = np.concatenate([t.quantum for _, t in tables])
        pair_dev: list[int] = []
        pair_mode: list[str] = []
        groups = []
        thr: list[tuple[str, float]] = []
        offset = 0
        for d, t in tables:
            groups.append(t.mode_of + offset)
            for mode in t.modes:
                pair_dev.append(d)
                pair_mode.append(mode)
            offset += len(t.modes)
            for i, sig in enumerate(t.signals):
                key = threshold_key(t.modes[t.mode_of[i]], sig, STAT_NAMES[int(t.stat[i])])
                learned = {} if self.model is None else self.model.thresholds
                thr.append((key, threshold_for(learned, key, cfg.default_threshold)))
        group = np.concatenate(groups)
        threshold = np.array([t for _, t in thr])
        v = compute_indicators(
            self.points,
            streams,
            stat,
            sign,
            scale,
            quantum,
            now,
            level_window_h=cfg.level_window_h,
            baseline_days=cfg.baseline_days,
            short_trend_h=cfg.short_trend_h,
            long_trend_days=cfg.long_trend_days,
        )
        horizon_d = cfg.horizon_h / 24.0
        f = trend_forecast(v, threshold, horizon_d)
        x, _top = feature_rows(v, f, threshold, group, offset)
        if self.record:
            self.recorded.append(
                FeatureBatch(
                    [self._dev_ids[d] for d in pair_dev],
                    list(pair_mode),
                    now,
                    x,
                    v,
                    group,
                    [k for k, _ in thr],
                )
            )
        p, ttf = self._predict(x, pair_dev, v, f, group, offset)
        return assemble_predictions(
            [self._dev_ids[d] for d in pair_dev],
            pair_mode,
            now,
            p,
            ttf,
            Evidence(
                v,
                f,
                group,
                threshold,
                scale,
                stat,
                sign,
                [s for _, t in tables for s in t.signals],
                [u for _, t in tables for u in t.units],
            ),
            self.config.horizon_h * 3600.0,
            self.model.name if self.model is not None else f"trend/{FEATURE_SET}",
        )

    def _predict(
        self,
        x: FloatArray,
        pair_dev: list[int],
        v: IndicatorValues,
        f: TrendForecast,
        group: IntArray,
        n: int,
    ) -> tuple[FloatArray, FloatArray]:
        if self.model is not None:
            p = np.zeros(n)
            ttf = np.full((n, 3), np.nan)
            by_group: dict[str, list[int]] = {}
            for i, d in enumerate(pair_dev):
                by_group.setdefault(self.model.group_of(group_keys(self._devices[d])), []).append(i)
            for key, rows in by_group.items():
                idx = np.array(rows)
                p[idx], ttf[idx] = self.model.predict(x[idx], key)
            return p, ttf
        return trend_only(v, f, group, n)

    # ------------------------------------------------------------------ state
    def snapshot(self) -> dict[str, Any]:
        """JSON-able state: streams, devices, workload coefficients, points."""
        return {
            "feature_set": FEATURE_SET,
            "keys": [list(k) for k in self._keys],
            "roles": self._role.tolist(),
            "devices": self._dev_ids,
            "first": [None if x != x else x for x in self._first.tolist()],
            "ready": self._ready.tolist(),
            "in_use": self._in_use.tolist(),
            "cov": [None if x != x else x for x in self._cov.tolist()],
            "norm": self.norm.snapshot(),
            "points": self.points.snapshot(),
        }

    @classmethod
    def restore(
        cls,
        doc: dict[str, Any],
        config: PrognosticsConfig,
        devices: Callable[[str], Device],
        model: FleetModel | None = None,
    ) -> Prognostics:
        """Rebuild from :meth:`snapshot` output (the inventory and model are given again)."""
        if doc.get("feature_set") != FEATURE_SET:
            raise ModelError("prognostics state of another version: starting cold is needed")
        pg = cls(config, devices, model)
        for device_id in doc["devices"]:
            pg._device(device_id, build=False)
        for key, role in zip(doc["keys"], doc["roles"], strict=True):
            pg._new_slot((key[0], key[1]), int(role), pg._dev[key[0]])
        for d, device in enumerate(pg._devices):
            pg._tables[d] = pg._build_table(d, device)
        if len(pg._keys) != len(doc["keys"]):
            raise ModelError("prognostics state does not match the inventory; starting cold")
        pg._first = np.array(doc["first"], dtype=np.float64)
        pg._ready = np.array(doc["ready"], dtype=bool)
        pg._in_use = np.array(doc["in_use"], dtype=np.int64)
        pg._cov = np.array(doc["cov"], dtype=np.float64)
        pg.norm = WorkloadNormaliser.restore(doc["norm"])
        pg.points = StreamPoints.restore(doc["points"])
        return pg
