"""``Prognostics``: readings in, failure predictions out, for every device of a fleet at once.

Feed it batches of readings as arrays, in time order (as the scorer)::

    predictions = prognostics.update(device_ids, signals, ts, values)

Per device it learns how each precursor signal moves with workload
(:mod:`.normalise`, first ``warmup_h``), summarises each stream into one
robust point per bucket (:mod:`.points`), and once per bucket (:mod:`.evaluation`)
computes the indicators of every catalogued failure mode of the device's modality
(:mod:`.specs`, :mod:`.tables`, :mod:`.indicators`), their trends to the failure
threshold (:mod:`.trend`) and one feature row per mode (:mod:`.features`). A trained
:class:`~.model.FleetModel` turns the rows into the probability of failure
within the horizon and time-to-failure quantiles; without one, the trends
alone give both. The state is a JSON-able snapshot, so a restart resumes warm.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from htm_edge.config.inventory import Device
from htm_edge.models.errors import ModelError
from htm_edge.models.prognostics.batch import FeatureBatch
from htm_edge.models.prognostics.config import PrognosticsConfig
from htm_edge.models.prognostics.evaluation import evaluate
from htm_edge.models.prognostics.features import FEATURE_SET
from htm_edge.models.prognostics.model import FleetModel
from htm_edge.models.prognostics.normalise import WorkloadNormaliser
from htm_edge.models.prognostics.points import StreamPoints
from htm_edge.models.prognostics.tables import COV, EFFECT, IGNORE, IN_USE, DeviceTable, build_table
from htm_edge.models.types import Prediction

__all__ = ["Prognostics"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def ring_points_for(config: PrognosticsConfig) -> int:
    """Points kept per stream: at least 96, and enough for the same hours two days ago.

    Trend-only predictions compare the level with the same hours one and two
    days before (:mod:`.indicators`), so a short bucket keeps more points.
    """
    need = (2 * 86_400.0 + config.level_window_h * 3600.0) / config.bucket_s
    return max(96, math.ceil(need) + 2)


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
        self._tables: list[DeviceTable | None] = []
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
        if role == EFFECT:
            self._grow_streams(s + 1)
        return s

    def _grow_streams(self, need: int) -> None:
        if need > self.points.n:
            cap = max(16, self.points.n)
            while cap < need:
                cap *= 2
            self.points.grow(cap)
            self.norm.grow(cap)

    def _build_table(self, d: int, device: Device) -> DeviceTable | None:
        def slot(key: tuple[str, str], role: int) -> int:
            s = self._slot.get(key)
            return self._new_slot(key, role, d) if s is None else s

        return build_table(device, slot)

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
                            s = self._new_slot(k, IGNORE, d)
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
        ok = np.isfinite(values) & (self._role[slots] != IGNORE)
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
        eff = self._role[slots] == EFFECT
        qdev, qts = dev[eff], ts[eff]
        state_f = self._in_use.astype(np.float64)
        state = self._join(IN_USE, slots, ts, values, qdev, qts, state_f)
        self._in_use = (state_f > 0.5).astype(np.int64)
        cov = self._join(COV, slots, ts, values, qdev, qts, self._cov)
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
        known = self._role == EFFECT
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
        return evaluate(
            tables,
            self.points,
            self.config,
            self.model,
            self._dev_ids,
            self._devices,
            now,
            self.recorded if self.record else None,
        )

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
