"""Run-to-failure histories in the NASA C-MAPSS text format.

Whitespace-separated rows without a header: unit, cycle, three operational
settings, then sensors (21 in C-MAPSS). ``train_<name>.txt`` runs to failure
(the last cycle of a unit is its failure); ``test_<name>.txt`` stops early,
and ``RUL_<name>.txt`` holds the true remaining life after each test unit's
last cycle. Files may be gzip-compressed (``.txt.gz``).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from htm_edge.models.errors import ModelError

__all__ = ["Runs", "find_subsets", "load_runs", "load_truth"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass
class Runs:
    """Rows of many units, in unit then cycle order."""

    unit: IntArray
    cycle: FloatArray
    settings: FloatArray
    sensors: FloatArray

    @property
    def units(self) -> IntArray:
        """The distinct unit ids, in order."""
        return np.unique(self.unit)


def _path(directory: Path, stem: str) -> Path:
    for suffix in (".txt", ".txt.gz"):
        p = directory / f"{stem}{suffix}"
        if p.exists():
            return p
    raise ModelError(f"{directory}: no {stem}.txt or {stem}.txt.gz (C-MAPSS layout expected)")


def _read(path: Path) -> FloatArray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as fh:
            data = np.loadtxt(fh, ndmin=2)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: not a run-to-failure table ({exc})") from None
    if data.shape[1] < 6:
        raise ModelError(
            f"{path}: {data.shape[1]} columns, expected unit, cycle, 3 settings, sensors"
        )
    return np.asarray(data, dtype=np.float64)


def load_runs(directory: Path, stem: str) -> Runs:
    """Read ``<stem>.txt[.gz]`` from ``directory`` (e.g. ``train_FD001``)."""
    data = _read(_path(Path(directory), stem))
    order = np.lexsort((data[:, 1], data[:, 0]))
    data = data[order]
    return Runs(data[:, 0].astype(np.int64), data[:, 1], data[:, 2:5], data[:, 5:])


def load_truth(directory: Path, name: str) -> FloatArray:
    """True RUL after each test unit's last cycle (``RUL_<name>``)."""
    return np.atleast_1d(_read_plain(_path(Path(directory), f"RUL_{name}")))


def _read_plain(path: Path) -> FloatArray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        return np.asarray(np.loadtxt(fh), dtype=np.float64)


def find_subsets(directory: Path) -> list[str]:
    """Names ``X`` with a ``train_X.txt[.gz]`` in ``directory``."""
    names = {
        p.name.removeprefix("train_").split(".")[0] for p in Path(directory).glob("train_*.txt*")
    }
    return sorted(names)
