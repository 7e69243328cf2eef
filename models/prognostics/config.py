"""The ``[models.prognostics]`` section: indicators, trends, horizon and the model file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from htm_edge.config.base import StrictModel

__all__ = ["PrognosticsConfig"]


class PrognosticsConfig(StrictModel):
    """Settings of failure prediction (:class:`htm_edge.models.prognostics.Prognostics`).

    Readings are summarised per stream into one robust point per
    ``bucket_s``; a device is evaluated once per bucket. ``model_file`` is a
    model written by ``htm-edge train``; without one, predictions come from
    the trends alone (``probability`` is the trend's chance of crossing its
    threshold within the horizon).
    """

    enabled: bool = False
    model_file: Path | None = None
    horizon_h: float = Field(default=168.0, gt=0, description="probability of failure within this")
    bucket_s: float = Field(default=3600.0, ge=60, le=86_400)
    warmup_h: float = Field(
        default=24.0, ge=1, description="per device, to learn how signals move with workload"
    )
    baseline_days: float = Field(default=30.0, ge=3, description="window of the healthy baseline")
    level_window_h: float = Field(default=6.0, gt=0, description="current level: median over this")
    short_trend_h: float = Field(default=48.0, gt=0)
    long_trend_days: float = Field(default=10.0, gt=0)
    default_threshold: float = Field(
        default=0.5,
        gt=0,
        description="failure threshold in normal-range units when the model has learned none",
    )
