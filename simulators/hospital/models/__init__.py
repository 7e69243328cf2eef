"""Vectorised modality models of the hospital fleet; the registry maps a modality to one."""

from collections.abc import Mapping

from htm_edge.config.inventory import Modality
from htm_edge.simulators.hospital.model import VectorModel
from htm_edge.simulators.hospital.models.anesthesia import AnesthesiaVector
from htm_edge.simulators.hospital.models.ct import CtVector
from htm_edge.simulators.hospital.models.defibrillator import DefibVector
from htm_edge.simulators.hospital.models.infusion_pump import PumpVector
from htm_edge.simulators.hospital.models.mri import MriVector
from htm_edge.simulators.hospital.models.patient_monitor import MonitorVector
from htm_edge.simulators.hospital.models.sterilizer import SterilizerVector
from htm_edge.simulators.hospital.models.ventilator import VentilatorVector

__all__ = ["VECTOR_MODELS"]

VECTOR_MODELS: Mapping[Modality, type[VectorModel]] = {
    m.modality: m
    for m in (
        MriVector,
        CtVector,
        PumpVector,
        VentilatorVector,
        MonitorVector,
        DefibVector,
        SterilizerVector,
        AnesthesiaVector,
    )
}
