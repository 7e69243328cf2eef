"""Versioned model files: a readable header with the training metadata, then the estimators.

Layout: the magic line ``HTM-EDGE-MODEL``, one line of JSON (format version,
model kind, feature set, library versions, training metadata), then the
estimators as a pickle. :func:`load_model_file` reads and checks the header
*before* it unpickles anything: a file of another format version, kind or
feature set, or pickled by another scikit-learn release, is refused with a
:class:`~htm_edge.models.errors.ModelError` that says what differs and how to
get a matching file (``htm-edge train``). Pickles run code when loaded: load
only model files you made or trust, like any executable.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "m.htm"
>>> save_model_file(path, "demo", "fs-1", {"w": [1, 2]}, {"trained_on": "nothing"})
>>> header, payload = load_model_file(path, kind="demo", feature_set="fs-1")
>>> header["metadata"]["trained_on"], payload
('nothing', {'w': [1, 2]})
>>> load_model_file(path, kind="demo", feature_set="fs-2")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
htm_edge.models.errors.ModelError: ...feature set 'fs-1', this version reads 'fs-2'...
"""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from htm_edge.models.errors import ModelError

__all__ = ["FORMAT_VERSION", "MAGIC", "load_model_file", "read_header", "save_model_file"]

MAGIC = b"HTM-EDGE-MODEL\n"
FORMAT_VERSION = 1


def save_model_file(
    path: Path, kind: str, feature_set: str, payload: Any, metadata: dict[str, Any]
) -> None:
    """Write ``payload`` with its header to ``path`` (atomically: a temporary file, then rename)."""
    header = {
        "format": FORMAT_VERSION,
        "kind": kind,
        "feature_set": feature_set,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "created_at": time.time(),
        "metadata": metadata,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(MAGIC)
        fh.write(json.dumps(header, sort_keys=True, default=str).encode() + b"\n")
        pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)


def read_header(path: Path) -> dict[str, Any]:
    """The header of a model file, without loading the estimators."""
    try:
        with Path(path).open("rb") as fh:
            magic = fh.readline()
            line = fh.readline()
    except OSError as exc:
        raise ModelError(f"model file {path}: cannot read it ({exc.strerror})") from None
    if magic != MAGIC:
        raise ModelError(
            f"model file {path}: not an HTM Edge model file (make one: htm-edge train)"
        )
    try:
        header = json.loads(line)
    except ValueError:
        raise ModelError(f"model file {path}: its header is damaged; train it again") from None
    if not isinstance(header, dict):
        raise ModelError(f"model file {path}: its header is damaged; train it again")
    return header


def load_model_file(path: Path, *, kind: str, feature_set: str) -> tuple[dict[str, Any], Any]:
    """Check the header against what this version reads, then load the estimators."""
    header = read_header(path)
    fix = "train a new one with this version (htm-edge train)"
    if header.get("format") != FORMAT_VERSION:
        raise ModelError(
            f"model file {path} has format {header.get('format')!r}, this version reads "
            f"format {FORMAT_VERSION}; {fix}"
        )
    if header.get("kind") != kind:
        raise ModelError(f"model file {path} holds a {header.get('kind')!r} model, not {kind!r}")
    if header.get("feature_set") != feature_set:
        raise ModelError(
            f"model file {path} was trained on feature set {header.get('feature_set')!r}, "
            f"this version reads {feature_set!r}; {fix}"
        )
    if header.get("sklearn") != sklearn.__version__:
        raise ModelError(
            f"model file {path} was written with scikit-learn {header.get('sklearn')}, this "
            f"installation has {sklearn.__version__} (its estimators may not load the same); {fix}"
        )
    with Path(path).open("rb") as fh:
        fh.readline()
        fh.readline()
        try:
            payload = pickle.load(fh)
        except Exception as exc:
            raise ModelError(
                f"model file {path}: its estimators do not load ({exc!r}); {fix}"
            ) from None
    return header, payload
