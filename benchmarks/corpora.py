"""Loaders of the labelled real-telemetry corpora the anomaly benchmarks score.

The data lives in the shared datasets folder and is never copied into the
repository: ``--data-dir`` (the folder holding ``smap/``, ``petrobras_3w/`` and
``skab/``), else ``$HTM_SHARED_DIR/datasets`` (the variable the SKAB benchmark
uses), else ``<repo>/../shared/datasets``. Each corpus's ``README.md`` there
describes its format; in short:

* ``smap``: NASA SMAP telemetry, 54 ``timestamp,value`` files; ``labels.json``
  maps a file to its ``[start_row, end_row]`` ranges (0-based, inclusive).
* ``petrobras_3w``: 30 oil-well recordings ``timestamp,value,value2,...``, one
  labelled range each (transient onset to end of file); ``meta.json`` lists the
  unlabelled gap before each transient (``unlabelled_ranges_treated_as_normal``),
  which we keep out of false-positive counting (an alarm there is arguably early).
* ``skab``: 34 ``;``-separated files, ``datetime`` first, 8 sensor columns, then
  ``anomaly`` and ``changepoint``; the windows are the contiguous ``anomaly == 1``
  segments. ``anomaly-free/anomaly-free.csv`` has no labels.

Every sensor column is one detector stream; a :class:`Recording` holds a file's
columns side by side with its labels.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "CORPORA",
    "Recording",
    "datasets_dir",
    "lead_in",
    "load_petrobras_3w",
    "load_skab",
    "load_skab_anomaly_free",
    "load_smap",
    "read_table",
    "segments",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Range = tuple[int, int]

_SKAB_LABELS = ("anomaly", "changepoint")


@dataclass(frozen=True, slots=True)
class Recording:
    """One file: its timestamps, one value array per sensor column, and its labels.

    ``windows`` and ``ignored`` are ``(start_row, end_row)`` ranges, 0-based and
    inclusive: the labelled anomalies, and rows neither anomalous nor normal.
    """

    name: str
    ts: FloatArray
    columns: tuple[FloatArray, ...]
    column_names: tuple[str, ...]
    windows: tuple[Range, ...] = ()
    ignored: tuple[Range, ...] = ()

    @property
    def rows(self) -> int:
        """Number of rows."""
        return len(self.ts)


def datasets_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The shared datasets folder: ``override``, ``$HTM_SHARED_DIR/datasets``, or beside the repo.

    >>> datasets_dir("/data").as_posix()
    '/data'
    """
    if override:
        return Path(override)
    shared = os.environ.get("HTM_SHARED_DIR")
    root = Path(shared) if shared else Path(__file__).resolve().parents[1].parent / "shared"
    return root / "datasets"


def _need(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: pass --data-dir (the folder holding smap/, petrobras_3w/, "
            "skab/) or set HTM_SHARED_DIR to the folder holding datasets/"
        )
    return path


def _epoch_seconds(texts: Sequence[str]) -> FloatArray:
    """ISO-like timestamps (naive = UTC) to epoch seconds, as score-csv reads them."""
    arr = np.array([t.strip().rstrip("Z") for t in texts], dtype="datetime64[ns]")
    return arr.astype(np.int64).astype(np.float64) / 1e9


def read_table(path: Path, delimiter: str = ",") -> tuple[list[str], FloatArray, FloatArray]:
    """Read a CSV whose first column is a timestamp: ``(header, epoch seconds, values)``.

    ``values`` has one column per remaining header field; empty or unparseable
    cells are NaN (the detectors score them 0 and do not learn them).
    """
    with _need(path).open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header = [h.strip() for h in next(reader)]
        rows = [r for r in reader if r and any(c.strip() for c in r)]
    width = len(header) - 1
    try:
        cells = np.array([r[1 : 1 + width] for r in rows], dtype=np.float64).reshape(-1, width)
    except ValueError:  # an empty or bad cell, or a short row: parse cell by cell
        cells = np.full((len(rows), width), np.nan)
        for i, r in enumerate(rows):
            for j, c in enumerate(r[1 : 1 + width]):
                with contextlib.suppress(ValueError):
                    cells[i, j] = float(c)
    cells[~np.isfinite(cells)] = np.nan
    return header, _epoch_seconds([r[0] for r in rows]), cells


def segments(mask: npt.ArrayLike) -> list[Range]:
    """Contiguous ``True`` runs of a boolean array, as inclusive ranges.

    >>> segments([0, 1, 1, 0, 1])
    [(1, 2), (4, 4)]
    """
    m = np.asarray(mask, dtype=bool).astype(np.int8)
    d = np.diff(np.r_[0, m, 0])
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def _ranges(raw: object, where: str) -> tuple[Range, ...]:
    if not isinstance(raw, list):
        raise ValueError(f"{where}: expected a list of [start_row, end_row], got {raw!r}")
    return tuple(sorted((int(a), int(b)) for a, b in raw))


def _recording(
    path: Path,
    header: list[str],
    ts: FloatArray,
    values: FloatArray,
    windows: tuple[Range, ...],
    ignored: tuple[Range, ...] = (),
) -> Recording:
    cols = tuple(np.ascontiguousarray(values[:, j]) for j in range(values.shape[1]))
    return Recording(path.name, ts, cols, tuple(header[1:]), windows, ignored)


def load_smap(root: Path) -> list[Recording]:
    """The SMAP corpus: one univariate recording per channel, with its labelled ranges."""
    labels = json.loads(_need(root / "labels.json").read_text(encoding="utf-8"))
    out = []
    for name in sorted(labels):
        header, ts, values = read_table(root / name)
        out.append(_recording(root / name, header, ts, values, _ranges(labels[name], name)))
    return out


def load_petrobras_3w(root: Path) -> list[Recording]:
    """The 3W corpus: multivariate recordings, each with one range and its unlabelled gap."""
    labels = json.loads(_need(root / "labels.json").read_text(encoding="utf-8"))
    meta = json.loads(_need(root / "meta.json").read_text(encoding="utf-8"))
    out = []
    for name in sorted(labels):
        header, ts, values = read_table(root / name)
        gaps = meta.get(name, {}).get("unlabelled_ranges_treated_as_normal", [])
        out.append(
            _recording(
                root / name,
                header,
                ts,
                values,
                _ranges(labels[name], name),
                _ranges(gaps, f"{name} unlabelled ranges"),
            )
        )
    return out


def _skab_file(path: Path, name: str) -> Recording:
    header, ts, values = read_table(path, delimiter=";")
    names = header[1:]
    sensors = [j for j, h in enumerate(names) if h not in _SKAB_LABELS]
    windows: tuple[Range, ...] = ()
    if "anomaly" in names:
        windows = tuple(segments(values[:, names.index("anomaly")] > 0.5))
    cols = tuple(np.ascontiguousarray(values[:, j]) for j in sensors)
    return Recording(name, ts, cols, tuple(names[j] for j in sensors), windows)


def load_skab(root: Path) -> list[Recording]:
    """The 34 labelled SKAB files (every sensor column a stream), windows from ``anomaly``."""
    paths = sorted(p for p in _need(root).glob("*/*.csv") if p.parent.name != "anomaly-free")
    return [_skab_file(p, p.relative_to(root).as_posix()) for p in paths]


def load_skab_anomaly_free(root: Path) -> list[Recording]:
    """SKAB's unlabelled ``anomaly-free/anomaly-free.csv`` (8 sensor columns, no windows)."""
    rel = "anomaly-free/anomaly-free.csv"
    return [_skab_file(_need(root / rel), rel)]


def lead_in(rec: Recording) -> int:
    """Rows of normal operation before the first labelled or unlabelled range (3W's lead-in)."""
    starts = [s for s, _ in (*rec.windows, *rec.ignored)]
    return min(starts) if starts else rec.rows


#: corpus name -> loader taking the corpus folder (``<datasets>/<name>``)
CORPORA: dict[str, Callable[[Path], list[Recording]]] = {
    "smap": load_smap,
    "petrobras_3w": load_petrobras_3w,
    "skab": load_skab,
}
