"""The ``[simulation]`` section: the bundled simulated fleet and its ground truth."""

from __future__ import annotations

from pydantic import Field

from htm_edge.config.base import StrictModel

__all__ = ["FaultConfig", "SimEventConfig", "SimulatedDeviceConfig", "SimulationConfig"]


class FaultConfig(StrictModel):
    """A degradation injected into a simulated device: the ground truth of the demo."""

    failure_mode: str
    start_s: float = Field(ge=0, description="simulated seconds after start")
    duration_s: float = Field(gt=0, description="simulated seconds from onset to failure")


class SimEventConfig(StrictModel):
    """A benign event that looks like a fault (a false-alarm look-alike, e.g. a planned
    cold-head service stop): tests hysteresis and suppression."""

    event: str
    start_s: float = Field(ge=0, description="simulated seconds after start")
    duration_s: float = Field(gt=0)


class SimulatedDeviceConfig(StrictModel):
    """One simulated device; its inventory entry is matched by ``device_id``."""

    device_id: str
    fault: FaultConfig | None = None
    events: list[SimEventConfig] = Field(default_factory=list)


class SimulationConfig(StrictModel):
    """The bundled simulator fleet used by ``htm-edge demo`` and ``htm-edge simulate``."""

    seed: int = 42
    sample_period_s: float = Field(default=60.0, gt=0, description="simulated seconds per sample")
    speedup: float = Field(default=600.0, gt=0, description="simulated seconds per real second")
    devices: list[SimulatedDeviceConfig] = Field(default_factory=list)
