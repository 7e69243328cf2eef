"""Per-modality device models; the registry maps a modality to its model class."""

from collections.abc import Mapping

from htm_edge.config.inventory import Modality
from htm_edge.simulators.core import DeviceModel
from htm_edge.simulators.devices.ct import CtModel
from htm_edge.simulators.devices.infusion_pump import InfusionPumpModel
from htm_edge.simulators.devices.mri import MriModel
from htm_edge.simulators.devices.ventilator import VentilatorModel

__all__ = ["MODELS", "CtModel", "InfusionPumpModel", "MriModel", "VentilatorModel"]

MODELS: Mapping[Modality, type[DeviceModel]] = {
    Modality.MRI: MriModel,
    Modality.CT: CtModel,
    Modality.INFUSION_PUMP: InfusionPumpModel,
    Modality.VENTILATOR: VentilatorModel,
}
