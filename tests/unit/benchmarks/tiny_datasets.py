"""A tiny shared-datasets folder in the SMAP, 3W and SKAB formats, for the benchmark tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ROWS = 400
WINDOW = (300, 339)


def _ts(n: int, step_s: int) -> list[str]:
    t0 = np.datetime64("2020-01-01T00:00:00")
    return [str(t0 + np.timedelta64(step_s * i, "s")).replace("T", " ") for i in range(n)]


def _noise_with_step(rng: np.random.Generator, start: int = WINDOW[0]) -> np.ndarray:
    x = rng.normal(10.0, 1.0, ROWS)
    x[start:] += 12.0  # a level step of 12 σ at the window's first row
    return x


def write_tiny_datasets(tmp_path: Path) -> Path:
    """Write ``<tmp>/{smap,petrobras_3w,skab}`` with faults that any detector should find."""
    rng = np.random.default_rng(0)
    smap = tmp_path / "smap"
    smap.mkdir()
    labels = {}
    for k in range(2):
        name = f"SMAP_X-{k}.csv"
        rows = [f"{t},{v:.5f}" for t, v in zip(_ts(ROWS, 60), _noise_with_step(rng), strict=True)]
        (smap / name).write_text("timestamp,value\n" + "\n".join(rows) + "\n")
        labels[name] = [list(WINDOW)]
    (smap / "labels.json").write_text(json.dumps(labels))

    w3 = tmp_path / "petrobras_3w"
    w3.mkdir()
    name = "type1_WELL-00001_20140124213136.csv"
    quiet = rng.normal(5.0, 1.0, ROWS)
    loud = _noise_with_step(rng)
    rows = [f"{t},{a:.5f},{b:.5f}" for t, a, b in zip(_ts(ROWS, 1), quiet, loud, strict=True)]
    (w3 / name).write_text("timestamp,value,value2\n" + "\n".join(rows) + "\n")
    (w3 / "labels.json").write_text(json.dumps({name: [[WINDOW[0], ROWS - 1]]}))
    gap = [[WINDOW[0] - 20, WINDOW[0] - 1]]
    (w3 / "meta.json").write_text(json.dumps({name: {"unlabelled_ranges_treated_as_normal": gap}}))

    skab = tmp_path / "skab"
    cols = "Accelerometer1RMS;Accelerometer2RMS;Current;Pressure;Temperature;Thermocouple;"
    cols += "Voltage;Volume Flow RateRMS"
    for rel, labelled in (("valve1/0.csv", True), ("anomaly-free/anomaly-free.csv", False)):
        x = rng.normal(0.0, 1.0, (ROWS, 8))
        if labelled:
            x[WINDOW[0] : WINDOW[1] + 1, 2] += 12.0
        lab = np.zeros(ROWS)
        lab[WINDOW[0] : WINDOW[1] + 1] = 1.0
        lines = []
        for i, t in enumerate(_ts(ROWS, 1)):
            extra = f";{lab[i]};0.0" if labelled else ""
            lines.append(t + ";" + ";".join(f"{v:.5f}" for v in x[i]) + extra)
        path = skab / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        head = "datetime;" + cols + (";anomaly;changepoint" if labelled else "")
        path.write_text(head + "\n" + "\n".join(lines) + "\n")
    return tmp_path
