"""Failure prediction: degradation indicators, trends to threshold, fleet-trained models.

* :class:`Prognostics` (:mod:`.engine`): readings in, :class:`~htm_edge.models.types.Prediction`
  per device and failure mode out, once per bucket; JSON-able state.
* :class:`FleetModel` (:mod:`.model`): the trained probability and time-to-failure
  model, in a versioned file (:mod:`.modelfile`).
* :class:`RunToFailureRegressor` (:mod:`.rul`): remaining useful life from
  multivariate run-to-failure histories (C-MAPSS format, :mod:`.runs`).
* :mod:`.training`: labelled feature tables from recorded features and ground
  truth, and the fit of a fleet model.
"""

from htm_edge.models.prognostics.batch import FeatureBatch, group_keys
from htm_edge.models.prognostics.config import PrognosticsConfig
from htm_edge.models.prognostics.engine import Prognostics
from htm_edge.models.prognostics.model import FleetModel

__all__ = ["FeatureBatch", "FleetModel", "Prognostics", "PrognosticsConfig", "group_keys"]
