"""The ``[models]`` section: which detector scores every stream, with its parameters."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from htm_edge.config.base import StrictModel
from htm_edge.models.prognostics.config import PrognosticsConfig

__all__ = ["ModelContext", "ModelsConfig"]


class ModelsConfig(StrictModel):
    """Which detector scores every (device, signal) stream, with its parameters.

    ``detector`` is a key of :data:`htm_edge.models.registry.DETECTORS` or
    ``"default"``; ``params`` override the detector's own defaults (unknown
    ones are a start-up error naming the valid ones).
    """

    detector: str = "default"
    params: dict[str, float | int | str | bool] = Field(default_factory=dict)
    seed: int = 0
    prognostics: PrognosticsConfig = Field(default_factory=PrognosticsConfig)


@dataclass(frozen=True, slots=True)
class ModelContext:
    """What a detector is built with besides its section: how many stream slots to allocate."""

    n_streams: int = 1
