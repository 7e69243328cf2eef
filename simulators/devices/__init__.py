"""Per-modality device models; the registry maps a modality to its model class."""

from collections.abc import Mapping

from config.schema import Modality
from simulators.core import DeviceModel
from simulators.devices.ct import CtModel
from simulators.devices.infusion_pump import InfusionPumpModel
from simulators.devices.mri import MriModel
from simulators.devices.ventilator import VentilatorModel

__all__ = ["MODELS", "CtModel", "InfusionPumpModel", "MriModel", "VentilatorModel"]

MODELS: Mapping[Modality, type[DeviceModel]] = {
    Modality.MRI: MriModel,
    Modality.CT: CtModel,
    Modality.INFUSION_PUMP: InfusionPumpModel,
    Modality.VENTILATOR: VentilatorModel,
}
