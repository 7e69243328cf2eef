"""Robust points per stream: readings summarised per time bucket, kept in short rings.

Every stream (one signal of one device) collects its readings in an open
bucket of ``bucket_s`` seconds. A bucket closes when its device reports in a
later bucket (so a daily self-test closes with the next message of that
device, not the next day's test) and becomes one *point*: the median (level),
the mean (rate, for counts), and a robust spread (the mean absolute
successive difference without its largest tenth, scaled like a standard
deviation; a median would be stuck at 0 or one step for quantised readings;
from the jump to the previous value when the bucket holds fewer than five
readings). Medians
shrug off spikes and sentinel codes; the last ``ring_points`` points and one
median per day for the last ``ring_days`` days are kept, in numpy arrays,
for all streams at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from htm_edge.models.prognostics.trend import nanmedian_rows

__all__ = ["LEVEL", "RATE", "SPREAD", "StreamPoints"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

LEVEL, RATE, SPREAD = 0, 1, 2
_DAY = 86_400.0
#: sd of x from the mean |x_i - x_(i-1)| of independent normal x (E|d| = 2 sd / sqrt(pi))
_SD_OF_MEAN_ABS = np.sqrt(np.pi) / 2.0


def _trimmed_mean_abs(d: FloatArray) -> FloatArray:
    """Row means of |d| without the largest tenth (spikes); quantised readings keep a spread."""
    a = np.sort(np.abs(d), axis=1)  # NaN last
    n = np.sum(~np.isnan(d), axis=1)
    keep = np.maximum(1, np.floor(0.9 * n)).astype(np.int64)
    cs = np.cumsum(np.nan_to_num(a), axis=1)
    rows = np.arange(d.shape[0])
    total = cs[rows, np.minimum(keep, d.shape[1]) - 1]
    return np.where(n > 0, total / keep, np.nan)


def _ordered(ring: FloatArray, head: IntArray) -> FloatArray:
    """Rows of a ring buffer from oldest to newest (axis 1)."""
    size = ring.shape[1]
    idx = (head[:, None] + np.arange(size)[None, :]) % size
    if ring.ndim == 2:
        return np.take_along_axis(ring, idx, axis=1)
    return np.take_along_axis(ring, idx[:, :, None], axis=1)


class StreamPoints:
    """Buckets, point rings and day rings of ``n`` streams (see module docstring).

    Examples
    --------
    >>> sp = StreamPoints(bucket_s=3600.0)
    >>> sp.grow(1)
    >>> ts = np.arange(0.0, 7200.0, 60.0)
    >>> closed = sp.add(np.zeros(120, dtype=np.int64), ts, np.ones(120), np.zeros(1, bool) | True)
    >>> closed.tolist(), float(sp.latest(np.array([0]))[0, LEVEL])
    ([0], 1.0)
    """

    def __init__(
        self,
        bucket_s: float,
        ring_points: int = 96,
        ring_days: int = 45,
        bucket_cap: int = 128,
    ) -> None:
        self.bucket_s = float(bucket_s)
        self.ring_points = ring_points
        self.ring_days = ring_days
        self.cap = bucket_cap
        self.n = 0
        p, d, c = ring_points, ring_days, bucket_cap
        self.open_id = np.full(0, -1, dtype=np.int64)
        self.buf = np.full((0, c), np.nan)
        self.cnt = np.zeros(0, dtype=np.int64)
        self.prev = np.full(0, np.nan)
        self.pts_ts = np.full((0, p), np.nan)
        self.pts = np.full((0, p, 3), np.nan)
        self.pts_head = np.zeros(0, dtype=np.int64)
        self.day_id = np.full(0, -1, dtype=np.int64)
        self.days_ts = np.full((0, d), np.nan)
        self.days = np.full((0, d, 3), np.nan)
        self.days_head = np.zeros(0, dtype=np.int64)

    _FIELDS = (
        "open_id",
        "buf",
        "cnt",
        "prev",
        "pts_ts",
        "pts",
        "pts_head",
        "day_id",
        "days_ts",
        "days",
        "days_head",
    )

    def grow(self, n: int) -> None:
        """Make room for ``n`` streams (new ones start empty)."""
        extra = n - self.n
        if extra <= 0:
            return
        fill: dict[str, Any] = {"open_id": -1, "day_id": -1, "cnt": 0, "pts_head": 0}
        fill["days_head"] = 0
        for name in self._FIELDS:
            arr = getattr(self, name)
            pad = np.full((extra, *arr.shape[1:]), fill.get(name, np.nan), dtype=arr.dtype)
            setattr(self, name, np.concatenate([arr, pad]))
        self.n = n

    # ------------------------------------------------------------------ input
    def add(
        self, slots: IntArray, ts: FloatArray, values: FloatArray, present: npt.NDArray[np.bool_]
    ) -> IntArray:
        """Add readings (time order) and return the streams whose bucket closed, in order.

        ``present[j]`` tells whether stream ``j``'s device sent anything in
        this batch (its buckets may close even where it sent no value).
        """
        closed: list[IntArray] = []
        if ts.size == 0:
            return np.zeros(0, dtype=np.int64)
        bid = np.floor(ts / self.bucket_s).astype(np.int64)
        for b in np.unique(bid):
            sel = bid == b
            due = present & (self.open_id < b) & (self.open_id >= 0)
            if due.any():
                idx = np.flatnonzero(due)
                full = idx[self.cnt[idx] > 0]
                if full.size:
                    self._close(full)
                    closed.append(full)
                self.open_id[idx] = -1
            self._append(slots[sel], values[sel], int(b))
        return np.concatenate(closed) if closed else np.zeros(0, dtype=np.int64)

    def _append(self, slots: IntArray, values: FloatArray, b: int) -> None:
        order = np.argsort(slots, kind="stable")
        s = slots[order]
        v = values[order]
        start = np.ones(s.size, dtype=bool)
        start[1:] = s[1:] != s[:-1]
        run_start = np.maximum.accumulate(np.where(start, np.arange(s.size), 0))
        rank = np.arange(s.size) - run_start
        pos = self.cnt[s] + rank
        ok = pos < self.cap
        self.buf[s[ok], pos[ok]] = v[ok]
        uniq = s[start]
        counts = np.diff(np.append(np.flatnonzero(start), s.size))
        self.cnt[uniq] = np.minimum(self.cnt[uniq] + counts, self.cap)
        self.open_id[uniq] = b

    def _close(self, idx: IntArray) -> None:
        vals = self.buf[idx]
        n = self.cnt[idx]
        with np.errstate(all="ignore"):
            level = nanmedian_rows(vals)
            rate = np.nansum(vals, axis=1) / np.maximum(n, 1)
            masd = _trimmed_mean_abs(np.diff(vals, axis=1)) * _SD_OF_MEAN_ABS
        last = vals[np.arange(idx.size), np.maximum(n - 1, 0)]
        jump = np.abs(vals[:, 0] - self.prev[idx]) / np.sqrt(2.0)
        spread = np.where(n >= 5, masd, jump)
        self.prev[idx] = last
        end = (self.open_id[idx] + 1).astype(np.float64) * self.bucket_s
        point = np.stack([level, rate, spread], axis=1)
        day = np.floor((end - 1.0) / _DAY).astype(np.int64)
        new_day = (self.day_id[idx] >= 0) & (day > self.day_id[idx])
        if new_day.any():
            self._close_days(idx[new_day])
        self.day_id[idx] = day
        h = self.pts_head[idx] % self.ring_points
        self.pts_ts[idx, h] = end
        self.pts[idx, h] = point
        self.pts_head[idx] += 1
        self.buf[idx] = np.nan
        self.cnt[idx] = 0

    def _close_days(self, idx: IntArray) -> None:
        day = self.day_id[idx]
        ts = self.pts_ts[idx]
        inside = np.floor((ts - 1.0) / _DAY) == day[:, None]
        vals = np.where(inside[:, :, None], self.pts[idx], np.nan)
        k, p, c = vals.shape
        agg = nanmedian_rows(vals.transpose(0, 2, 1).reshape(k * c, p)).reshape(k, c)
        h = self.days_head[idx] % self.ring_days
        self.days_ts[idx, h] = (day + 1).astype(np.float64) * _DAY
        self.days[idx, h] = agg
        self.days_head[idx] += 1

    # ------------------------------------------------------------------ queries
    def latest(self, idx: IntArray) -> FloatArray:
        """The newest point of each stream in ``idx`` (``(len(idx), 3)``, NaN if none)."""
        h = (self.pts_head[idx] - 1) % self.ring_points
        out = self.pts[idx, h].copy()
        out[self.pts_head[idx] == 0] = np.nan
        return out

    def points(self, idx: IntArray) -> tuple[FloatArray, FloatArray]:
        """Point times ``(k, P)`` and values ``(k, P, 3)``, oldest first (NaN where empty)."""
        head = self.pts_head[idx] % self.ring_points
        return _ordered(self.pts_ts[idx], head), _ordered(self.pts[idx], head)

    def daily(self, idx: IntArray) -> tuple[FloatArray, FloatArray]:
        """Day-end times ``(k, D)`` and daily medians ``(k, D, 3)``, oldest first."""
        head = self.days_head[idx] % self.ring_days
        return _ordered(self.days_ts[idx], head), _ordered(self.days[idx], head)

    # ------------------------------------------------------------------ state
    def snapshot(self) -> dict[str, Any]:
        """JSON-able state (NaN as None)."""
        doc: dict[str, Any] = {
            "bucket_s": self.bucket_s,
            "ring_points": self.ring_points,
            "ring_days": self.ring_days,
            "bucket_cap": self.cap,
            "n": self.n,
        }
        for name in self._FIELDS:
            arr: np.ndarray = getattr(self, name)
            if arr.dtype.kind == "f":
                obj = arr.astype(object)
                obj[np.isnan(arr)] = None
                doc[name] = obj.tolist()
            else:
                doc[name] = arr.tolist()
        return doc

    @classmethod
    def restore(cls, doc: dict[str, Any]) -> StreamPoints:
        """Rebuild from :meth:`snapshot` output."""
        sp = cls(doc["bucket_s"], doc["ring_points"], doc["ring_days"], doc["bucket_cap"])
        sp.n = int(doc["n"])
        for name in cls._FIELDS:
            ref = getattr(sp, name)
            arr = np.array(doc[name], dtype=np.float64 if ref.dtype.kind == "f" else np.int64)
            setattr(sp, name, arr.reshape((sp.n, *ref.shape[1:])))
        return sp
