"""Model state across restarts: saved at shutdown, restored at start, so the daemon resumes warm."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from htm_edge.collector.private import private_file
from htm_edge.models.scorer import StreamScorer

__all__ = ["MODEL_STATE", "restore_model_state", "save_model_state"]

log = logging.getLogger(__name__)

#: the file, inside the data directory
MODEL_STATE = "model_state.json"


def restore_model_state(data_dir: Path) -> StreamScorer | None:
    """The scorer saved by the last run, or None to start cold (an unreadable file is logged)."""
    path = data_dir / MODEL_STATE
    if not path.exists():
        return None
    try:
        scorer = StreamScorer.restore(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        log.warning(
            "event=model_state_unreadable path=%s error=%r action=start_cold", path, str(exc)
        )
        return None
    log.info("event=model_state_restored streams=%d", scorer.n_streams)
    return scorer


def save_model_state(data_dir: Path, scorer: StreamScorer) -> None:
    """Write the scorer's state atomically (mode 0600); a failure is logged, never raised."""
    path = data_dir / MODEL_STATE
    try:
        tmp = private_file(path.with_suffix(".tmp"))
        tmp.write_text(json.dumps(scorer.snapshot()), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.error("event=model_state_not_saved path=%s error=%r", path, str(exc))
