"""Model state across restarts: saved at each checkpoint and at shutdown, restored at start.

The file holds the scorer's state, failure prediction's state (when it runs)
*and* the spool position they correspond to,
written together atomically, so after a crash scoring resumes from a state
and a position that belong together: the frames after that position are
scored again, nothing twice into the same state.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from htm_edge.collector.private import private_file
from htm_edge.models.errors import ModelError
from htm_edge.models.prognostics import Prognostics
from htm_edge.models.scorer import StreamScorer

__all__ = ["MODEL_STATE", "ModelState", "restore_model_state", "save_model_state"]

log = logging.getLogger(__name__)

#: the file, inside the data directory
MODEL_STATE = "model_state.json"
_FORMAT = 2


@dataclass
class ModelState:
    """A restored scorer and the last spool seq it has seen (None for a file without one).

    ``prognostics`` is failure prediction's snapshot, restored by the composition
    root (it needs the inventory and the model), or None.
    """

    scorer: StreamScorer
    spool_seq: int | None
    prognostics: dict[str, Any] | None = None


def restore_model_state(data_dir: Path) -> ModelState | None:
    """The state saved by the last run, or None to start cold (an unreadable file is logged)."""
    path = data_dir / MODEL_STATE
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("format") == _FORMAT:
            prognostics = doc.get("prognostics")
            state = ModelState(
                StreamScorer.restore(doc["scorer"]),
                int(doc["spool_seq"]),
                prognostics if isinstance(prognostics, dict) else None,
            )
        else:  # a file from before the spool: the scorer's snapshot alone
            state = ModelState(StreamScorer.restore(doc), None)
    except (ValueError, KeyError, TypeError, ModelError) as exc:
        log.warning(
            "event=model_state_unreadable path=%s error=%r action=start_cold", path, str(exc)
        )
        return None
    log.info("event=model_state_restored streams=%d", state.scorer.n_streams)
    return state


def save_model_state(
    data_dir: Path, scorer: StreamScorer, spool_seq: int, prognostics: Prognostics | None = None
) -> bool:
    """Write state and position atomically (mode 0600); a failure is logged, never raised."""
    path = data_dir / MODEL_STATE
    try:
        tmp = private_file(path.with_suffix(".tmp"))
        doc: dict[str, Any] = {
            "format": _FORMAT,
            "spool_seq": spool_seq,
            "scorer": scorer.snapshot(),
        }
        if prognostics is not None:
            doc["prognostics"] = prognostics.snapshot()
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.error("event=model_state_not_saved path=%s error=%r", path, str(exc))
        return False
    return True
