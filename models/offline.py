"""Offline scoring of ``timestamp,value`` CSV files (``htm-edge score-csv``).

The input format is that of the NAB corpus: a header ``timestamp,value``, then
rows such as ``2014-04-01 00:00:00,19.76`` (timestamps are read as UTC). Each
output file repeats every input row verbatim and appends ``anomaly_score``,
computed causally in one pass by the chosen detector (one stream per file).

A directory is searched recursively for ``*.csv``; all files are scored
together, one detector step per row index across the files, so a corpus of
hundreds of thousands of rows takes seconds. Outputs keep the relative paths.
That core, :func:`score_streams`, takes in-memory arrays, so the benchmarks
(``benchmarks.streaming``, ``benchmarks.calibration``) score through it too.

Malformed rows (unparseable timestamp or value, a value of NaN/inf) are kept
with score 0, do not change the detector state, and are counted in the
summary (``malformed``), with the first few listed as ``file:line``. A
missing or wrong header is an error (:class:`ModelError` naming the file).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from htm_edge.models.base import FloatArray
from htm_edge.models.errors import ModelError
from htm_edge.models.registry import DEFAULT_DETECTOR, make_detector

__all__ = ["score_csv", "score_streams"]

_HEADER = "timestamp,value"
_MAX_LISTED = 20


@dataclass
class _Table:
    path: Path
    rel: Path
    header: str
    ts_text: list[str]
    val_text: list[str]
    ts: FloatArray
    values: FloatArray
    bad_lines: list[int]


def _parse_floats(texts: list[str]) -> tuple[FloatArray, list[int]]:
    """Parse floats fast; unparseable entries become NaN and are reported by index."""
    try:
        return np.array(texts, dtype=np.float64), []
    except ValueError:
        out = np.empty(len(texts))
        bad: list[int] = []
        for i, t in enumerate(texts):
            try:
                out[i] = float(t)
            except ValueError:
                out[i] = np.nan
                bad.append(i)
        return out, bad


def _parse_times(texts: list[str]) -> tuple[FloatArray, list[int]]:
    """ISO timestamps (``YYYY-MM-DD[ T]HH:MM:SS[.fff]``, naive = UTC) to epoch seconds."""

    def one(t: str) -> float:
        return float(np.datetime64(t.strip().rstrip("Z"), "ns").astype(np.int64)) / 1e9

    try:
        arr = np.array([t.strip().rstrip("Z") for t in texts], dtype="datetime64[ns]")
        return arr.astype(np.int64).astype(np.float64) / 1e9, []
    except ValueError:
        out = np.empty(len(texts))
        bad: list[int] = []
        for i, t in enumerate(texts):
            try:
                out[i] = one(t)
            except ValueError:
                out[i] = np.nan
                bad.append(i)
        return out, bad


def _read(path: Path, rel: Path) -> _Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: cannot read: {exc}") from exc
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or lines[0].strip().replace(" ", "").lower() != _HEADER:
        got = lines[0][:60] if lines else "an empty file"
        raise ModelError(f"{path}:1: expected the header {_HEADER!r}, got {got!r}")
    ts_text: list[str] = []
    val_text: list[str] = []
    for line in lines[1:]:
        t, _, v = line.partition(",")
        ts_text.append(t)
        val_text.append(v)
    values, bad_v = _parse_floats(val_text)
    ts, bad_t = _parse_times(ts_text)
    bad = sorted(set(bad_v) | set(bad_t) | set(np.flatnonzero(~np.isfinite(values)).tolist()))
    if bad:
        values[bad] = np.nan
        ts[bad] = np.nan
    return _Table(path, rel, lines[0], ts_text, val_text, ts, values, [b + 2 for b in bad])


def _write(table: _Table, out: Path, scores: FloatArray) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    sc = [repr(float(s)) for s in scores]
    rows = [f"{t},{v},{s}" for t, v, s in zip(table.ts_text, table.val_text, sc, strict=True)]
    out.write_text(f"{table.header},anomaly_score\n" + "".join(r + "\n" for r in rows), "utf-8")


def score_streams(
    values: Sequence[npt.ArrayLike],
    timestamps: Sequence[npt.ArrayLike],
    detector: str | None = None,
) -> list[FloatArray]:
    """Score in-memory series causally, one detector stream per series: score-csv's core.

    All series share one detector (``make_detector(detector, len(values))``, stream
    ``i`` for series ``i``) and are fed one step per row index: step ``t`` scores,
    then learns, row ``t`` of every series that has one, in one ``process_many``
    call. This is exactly what :func:`score_csv` does with its files, so benchmarks
    that call it measure the command's own behaviour. Series may differ in length;
    a NaN value (score-csv's malformed rows) scores 0 and, per the detector
    contract, leaves the stream's state unchanged.

    Parameters
    ----------
    values, timestamps:
        One 1-D array per stream, of equal lengths pairwise; timestamps are UTC
        epoch seconds.
    detector:
        Registry name; ``None`` means the default detector.

    Returns
    -------
    list of ndarray
        The scores of each series, in input order.

    Raises
    ------
    ModelError
        Unknown detector, or a series that is not 1-D or whose lengths differ.

    Examples
    --------
    >>> a, b = np.zeros(5), np.arange(3.0)
    >>> [s.shape for s in score_streams([a, b], [np.arange(5.0), np.arange(3.0)])]
    [(5,), (3,)]
    """
    if len(values) != len(timestamps):
        raise ModelError(f"{len(values)} value series but {len(timestamps)} timestamp series")
    vals = [np.asarray(v, dtype=np.float64) for v in values]
    tss = [np.asarray(t, dtype=np.float64) for t in timestamps]
    for i, (v, tv) in enumerate(zip(vals, tss, strict=True)):
        if v.ndim != 1 or v.shape != tv.shape:
            raise ModelError(
                f"series {i}: values and timestamps must be 1-D of one length, got "
                f"{v.shape} and {tv.shape}"
            )
    n = len(vals)
    det = make_detector(detector or DEFAULT_DETECTOR, max(n, 1))
    lengths = np.array([len(v) for v in vals], dtype=np.intp)
    tmax = int(lengths.max()) if n else 0
    # longest series first, so the series still active at step t are a prefix 0..k-1
    order = np.argsort(-lengths, kind="stable")
    ls = lengths[order]
    x = np.full((tmax, n), np.nan)
    ts = np.full((tmax, n), np.nan)
    for j, i in enumerate(order):
        x[: ls[j], j] = vals[i]
        ts[: ls[j], j] = tss[i]
    out = np.zeros((tmax, n))
    active = np.searchsorted(-ls, -np.arange(tmax), side="left")  # series with length > t
    slots = np.arange(n, dtype=np.intp)
    for t in range(tmax):
        k = int(active[t])
        out[t, :k] = det.process_many(slots[:k], x[t, :k], ts[t, :k])
    return [out[: ls[j], j].copy() for j in np.argsort(order)]


def score_csv(input: Path, output: Path, detector: str | None = None) -> dict[str, Any]:
    """Score a ``timestamp,value`` CSV file, or a directory of them, causally.

    Parameters
    ----------
    input:
        A CSV file, or a directory searched recursively for ``*.csv``.
    output:
        The output file, or (for a directory input) the output directory, where
        each result keeps its relative path; parent directories are created.
    detector:
        Registry name; ``None`` means the default detector.

    Returns
    -------
    dict
        ``files``, ``rows``, ``malformed`` (count), ``malformed_rows`` (first
        ``file:line`` entries), ``detector`` and ``seconds``.

    Raises
    ------
    ModelError
        Missing input, no CSV files, a bad header, or an unknown detector.
    """
    t0 = time.perf_counter()
    name = detector or DEFAULT_DETECTOR
    make_detector(name, 1)  # fail early on an unknown name
    input, output = Path(input), Path(output)
    if input.is_dir():
        files = sorted(p for p in input.rglob("*.csv") if p.is_file())
        if not files:
            raise ModelError(f"{input}: no *.csv files found (searched recursively)")
        pairs = [(p, p.relative_to(input)) for p in files]
        targets = [output / rel for _, rel in pairs]
    elif input.is_file():
        pairs = [(input, Path(input.name))]
        targets = [output]
    else:
        raise ModelError(f"{input}: no such file or directory")
    tables = [_read(p, rel) for p, rel in pairs]
    scores = score_streams([t.values for t in tables], [t.ts for t in tables], name)
    bad: list[str] = []
    n_bad = 0
    for table, target, sc in zip(tables, targets, scores, strict=True):
        _write(table, target, sc)
        n_bad += len(table.bad_lines)
        bad.extend(f"{table.path}:{ln}" for ln in table.bad_lines[: _MAX_LISTED - len(bad)])
    return {
        "files": len(tables),
        "rows": int(sum(len(t.values) for t in tables)),
        "malformed": n_bad,
        "malformed_rows": bad,
        "detector": name,
        "seconds": round(time.perf_counter() - t0, 3),
    }
