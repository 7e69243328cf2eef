"""``StreamScorer``: one detector state slot per stream key, fed with arrays.

Keys are any hashables (``(device_id, signal)`` tuples, strings, ints). A new
key gets the next free slot; capacity doubles when full, so growth costs
amortised O(1) per stream. A batch may hold the same key several times (in time
order): it is processed in *rounds*, round ``r`` holding each key's ``r``-th
point, so every round is one vectorised detector step over unique slots and
the result equals feeding the points one by one.

Memory: the detector's ``bytes_per_stream`` (768 bytes for the default
ensemble) times the capacity (at most twice the number of streams), plus the
key dictionary (about 100-200 bytes per key in CPython).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from htm_edge.models.base import Detector, FloatArray, IntArray
from htm_edge.models.errors import ModelError
from htm_edge.models.registry import DETECTORS, make_detector, resolve

__all__ = ["StreamScorer"]

_MIN_CAPACITY = 16


class StreamScorer:
    """Score-then-learn over many keyed streams with one vectorised detector.

    Parameters
    ----------
    detector:
        Registry name (``"default"`` for the default detector).
    params:
        Detector parameter overrides.
    seed:
        Seed for detectors that use randomness (the built-in ones are
        deterministic); kept in snapshots.

    Examples
    --------
    >>> import numpy as np
    >>> sc = StreamScorer()
    >>> s = sc.score(["a", "b", "a"], np.array([0.0, 0.0, 60.0]), np.array([1.0, 2.0, 1.1]))
    >>> s.shape, sc.n_streams
    ((3,), 2)
    """

    def __init__(
        self, detector: str = "default", params: Mapping[str, Any] | None = None, seed: int = 0
    ) -> None:
        self.detector_name = resolve(detector).type_name
        self.params: dict[str, Any] = dict(params or {})
        self.seed = seed
        extra = {"seed": seed} if getattr(resolve(detector), "uses_seed", False) else {}
        self.detector: Detector = make_detector(
            self.detector_name, _MIN_CAPACITY, **self.params, **extra
        )
        self._slots: dict[Hashable, int] = {}
        self._keys: list[Hashable] = []

    @property
    def n_streams(self) -> int:
        """Number of distinct keys seen."""
        return len(self._keys)

    @property
    def bytes_per_stream(self) -> int:
        """Detector state bytes per stream slot."""
        return self.detector.bytes_per_stream

    @property
    def keys(self) -> list[Hashable]:
        """Keys in slot order."""
        return list(self._keys)

    def slots(self, keys: Sequence[Hashable]) -> IntArray:
        """Slot of each key, allocating (and growing capacity) for new keys."""
        get = self._slots.get
        out = [get(k, -1) for k in keys]
        if -1 in out:
            for i, k in enumerate(keys):
                if out[i] == -1:
                    s = self._slots.get(k)
                    if s is None:
                        s = len(self._keys)
                        self._slots[k] = s
                        self._keys.append(k)
                    out[i] = s
            need = len(self._keys)
            if need > self.detector.n_streams:
                cap = max(self.detector.n_streams, _MIN_CAPACITY)
                while cap < need:
                    cap *= 2
                self.detector.grow(cap)
        return np.asarray(out, dtype=np.intp)

    def score(
        self,
        keys: Sequence[Hashable],
        ts: FloatArray,
        values: FloatArray,
        detail: bool = False,
    ) -> FloatArray:
        """Score then learn a batch of points; returns scores in [0, 1] in input order.

        ``ts`` are UTC epoch seconds. Points of the same key must be in time order.
        With ``detail=True`` the return value is unchanged; the per-point detail of
        the last call is left in :attr:`last_detail`.
        """
        ts = np.asarray(ts, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        if ts.shape != values.shape or ts.ndim != 1 or len(keys) != ts.shape[0]:
            raise ModelError(
                f"keys, ts and values must have the same length, got {len(keys)}, "
                f"{ts.shape}, {values.shape}"
            )
        m = ts.shape[0]
        out = np.zeros(m)
        self.last_detail: dict[str, FloatArray] = {}
        if m == 0:
            return out
        slots = self.slots(keys)
        order = self._rounds(slots)
        det = self.detector
        for sel in order:
            idx = slots if sel is None else slots[sel]
            x = values if sel is None else values[sel]
            t = ts if sel is None else ts[sel]
            if detail and hasattr(det, "detail_many"):
                for k, v in det.detail_many(idx, x, t).items():
                    arr = self.last_detail.setdefault(k, np.zeros(m))
                    if sel is None:
                        arr[:] = v
                    else:
                        arr[sel] = v
            s = det.process_many(idx, x, t)
            if sel is None:
                out = s
            else:
                out[sel] = s
        return out

    def _rounds(self, slots: IntArray) -> list[IntArray | None]:
        """Split positions into rounds of unique slots (``[None]`` = one round of all)."""
        m = slots.shape[0]
        if m == 1:
            return [None]
        srt = np.sort(slots)
        if not bool(np.any(srt[1:] == srt[:-1])):
            return [None]
        order = np.argsort(slots, kind="stable")
        s = slots[order]
        start = np.ones(m, dtype=bool)
        start[1:] = s[1:] != s[:-1]
        run_start = np.maximum.accumulate(np.where(start, np.arange(m), 0))
        rank = np.empty(m, dtype=np.intp)
        rank[order] = np.arange(m) - run_start
        by_rank = np.argsort(rank, kind="stable")
        bounds = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 2))
        return [by_rank[bounds[r] : bounds[r + 1]] for r in range(len(bounds) - 1)]

    def built_as(self, detector: str, params: Mapping[str, Any] | None, seed: int) -> bool:
        """Whether ``StreamScorer(detector, params, seed)`` would build this scorer's model:
        the same detector (``"default"`` resolved as this version resolves it), the same
        parameters, and the same seed where the detector uses one.

        A restored scorer that fails this is another model's state (the configuration
        changed, or the default detector did): it must not stand in for the configured one.
        """
        cls = resolve(detector)
        same_seed = self.seed == seed or not getattr(cls, "uses_seed", False)
        return (
            self.detector_name == cls.type_name and self.params == dict(params or {}) and same_seed
        )

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state: detector snapshot, keys in slot order, params and seed.

        Tuple keys are stored as lists and come back as tuples.
        """
        return {
            "detector": self.detector_name,
            "params": dict(self.params),
            "seed": self.seed,
            "keys": [list(k) if isinstance(k, tuple) else k for k in self._keys],
            "state": self.detector.snapshot(),
        }

    @classmethod
    def restore(cls, snapshot: Mapping[str, Any]) -> StreamScorer:
        """Rebuild a scorer from :meth:`snapshot` output."""
        name = snapshot["detector"]
        if name not in DETECTORS:
            raise ModelError(f"snapshot names unknown detector {name!r}")
        sc = cls(name, snapshot.get("params"), int(snapshot.get("seed", 0)))
        sc.detector = DETECTORS[name].restore(snapshot["state"])
        sc._keys = [tuple(k) if isinstance(k, list) else k for k in snapshot["keys"]]
        sc._slots = {k: i for i, k in enumerate(sc._keys)}
        return sc
