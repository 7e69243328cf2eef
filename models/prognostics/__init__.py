"""Failure prediction: degradation indicators, trends to threshold, fleet-trained models.

* :class:`Prognostics` (:mod:`.engine`): readings in, :class:`~htm_edge.models.types.Prediction`
  per device and failure mode out, once per bucket; JSON-able state.
* :class:`FleetModel` (:mod:`.model`): the trained probability and time-to-failure
  model, in a versioned file (:mod:`.modelfile`).
* :class:`RunToFailureRegressor` (:mod:`.rul`): remaining useful life from
  multivariate run-to-failure histories (C-MAPSS format, :mod:`.runs`).
* :mod:`.training`: labelled feature tables from recorded features and ground
  truth, and the fit of a fleet model.

The names below are imported when first used (PEP 562), so that importing the
configuration (:mod:`.config`, which every detector's configuration reaches) does
not load scikit-learn: a gateway that only scores anomalies saves its import time
and tens of megabytes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from htm_edge.models.prognostics.batch import FeatureBatch, group_keys
    from htm_edge.models.prognostics.config import PrognosticsConfig
    from htm_edge.models.prognostics.engine import Prognostics
    from htm_edge.models.prognostics.model import FleetModel

__all__ = ["FeatureBatch", "FleetModel", "Prognostics", "PrognosticsConfig", "group_keys"]

_HOME = {
    "FeatureBatch": "batch",
    "group_keys": "batch",
    "PrognosticsConfig": "config",
    "Prognostics": "engine",
    "FleetModel": "model",
}


def __getattr__(name: str) -> Any:
    """Import an exported name's module on first use."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
