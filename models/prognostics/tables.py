"""What the prognostics engine reads of a device: stream roles and the device's indicator table.

Every (device, signal) stream the engine sees gets a slot and a role: a
precursor of a catalogued failure mode (:data:`EFFECT`), the device's in-use
state (:data:`IN_USE`), its workload covariate (:data:`COV`) or nothing the
engine uses (:data:`IGNORE`). A :class:`DeviceTable` lists, per indicator of
every failure mode of the device's modality (:mod:`.specs`), the stream it
reads and how (statistic, sign toward failure, range, quantum). Kept apart from
:mod:`.engine` because it is the one place that turns the catalogue into the
engine's arrays; the engine only allocates the slots.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from htm_edge.config import catalog
from htm_edge.config.inventory import Device, Modality
from htm_edge.models.prognostics.points import LEVEL, RATE, SPREAD
from htm_edge.models.prognostics.specs import modality_modes, mode_indicators, workload_covariate

__all__ = ["COV", "EFFECT", "IGNORE", "IN_USE", "DeviceTable", "build_table"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
EFFECT, IN_USE, COV, IGNORE = 0, 1, 2, 3
_STAT = {"level": LEVEL, "rate": RATE, "spread": SPREAD}


@dataclass
class DeviceTable:
    """The indicators of a device's failure modes, one row each (``mode_of[i]``: its mode)."""

    modes: tuple[str, ...]
    streams: IntArray
    stat: IntArray
    sign: FloatArray
    scale: FloatArray
    quantum: FloatArray
    mode_of: IntArray
    signals: tuple[str, ...]
    units: tuple[str, ...]


def build_table(device: Device, slot: Callable[[tuple[str, str], int], int]) -> DeviceTable | None:
    """The indicator table of ``device``, or None when its modality has no failure modes.

    ``slot(key, role)`` returns the slot of the (device, signal) stream ``key``,
    allocating it with ``role`` when it has none yet; the table reserves slots
    for the device's precursor signals, in-use state and workload covariate.
    """
    modality = device.modality
    modes = modality_modes(modality) if modality is not Modality.OTHER else ()
    if not modes:
        return None
    streams, stat, sign, scale, quantum, mode_of, sigs, units = [], [], [], [], [], [], [], []
    for m, mode in enumerate(modes):
        for spec in mode_indicators(mode):
            streams.append(slot((device.device_id, spec.signal), EFFECT))
            stat.append(_STAT[spec.statistic])
            sign.append(spec.sign)
            scale.append(spec.range)
            quantum.append(spec.quantum)
            mode_of.append(m)
            sigs.append(spec.signal)
            units.append(spec.unit)
    cov = workload_covariate(modality)
    for name, role in ((catalog.IN_USE_SIGNAL, IN_USE), (cov, COV)):
        if name is not None:
            slot((device.device_id, name), role)
    return DeviceTable(
        modes,
        np.array(streams, dtype=np.int64),
        np.array(stat, dtype=np.int64),
        np.array(sign),
        np.array(scale),
        np.array(quantum),
        np.array(mode_of, dtype=np.int64),
        tuple(sigs),
        tuple(units),
    )
