"""Keys and records shared by the engine and training: thresholds, model groups, feature batches.

A learned failure threshold is keyed ``mode|signal|statistic``
(:func:`threshold_key`), with the statistic's fleet-wide value ``*|*|statistic``
as fallback (:func:`threshold_for`); a device's model groups go from its
make and model to the whole fleet (:func:`group_keys`). A
:class:`FeatureBatch` is one evaluation as training records it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from htm_edge.config.inventory import Device
from htm_edge.models.prognostics.indicators import IndicatorValues
from htm_edge.models.prognostics.model import GLOBAL

__all__ = ["FeatureBatch", "group_keys", "threshold_for", "threshold_key"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def threshold_for(thresholds: Mapping[str, float], key: str, default: float) -> float:
    """The learned threshold of ``key``, else its statistic's fleet-wide one, else ``default``."""
    got = thresholds.get(key)
    if got is None:
        got = thresholds.get("*|*|" + key.rsplit("|", 1)[1])
    return default if got is None else got


def threshold_key(failure_mode: str, signal: str, statistic: str) -> str:
    """Key of a learned failure threshold in :attr:`FleetModel.thresholds`."""
    return f"{failure_mode}|{signal}|{statistic}"


def group_keys(device: Device) -> tuple[str, ...]:
    """Model groups of a device, most specific first: make/model, modality, fleet."""
    return (
        f"{device.modality.value}/{device.manufacturer}/{device.model}",
        device.modality.value,
        GLOBAL,
    )


@dataclass
class FeatureBatch:
    """One evaluation, as training needs it: per (device, mode) pair a feature row, and the
    indicator values behind the rows (``group[i]``: the pair of indicator ``i``; ``keys[i]``:
    its threshold key), so features can be recomputed with learned thresholds."""

    device_ids: list[str]
    failure_modes: list[str]
    ts: float
    x: FloatArray
    values: IndicatorValues
    group: IntArray
    keys: list[str]
