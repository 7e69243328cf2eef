"""What the two InfluxDB sinks share: the settings of a line-protocol write, and a name check."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from htm_edge.collector.context import IngestContext
from htm_edge.collector.line_protocol import Dialect, Precision, check_names
from htm_edge.config.base import PluginConfig
from htm_edge.config.errors import ConfigError

__all__ = ["InfluxSinkConfigBase", "check_sink_names"]


class InfluxSinkConfigBase(PluginConfig):
    """Settings both InfluxDB sinks have (each adds where to write and how to log in)."""

    role: ClassVar[str] = "sink"
    name: str = "influxdb"
    url: str = Field(default="http://127.0.0.1:8086", pattern=r"^https?://")
    measurement: str = Field(default="telemetry", min_length=1)
    precision: Precision = "ns"
    gzip: bool = True
    timeout_s: float = Field(default=10.0, gt=0)
    verify_tls: bool = True
    batch_size: int = Field(default=1000, ge=1, description="frames from the spool per write")
    flush_interval_s: float = Field(default=1.0, gt=0)


def check_sink_names(ctx: IngestContext, cfg: InfluxSinkConfigBase, dialect: Dialect) -> None:
    """Refuse at start-up a site or measurement the server cannot store, naming the key."""
    try:
        check_names(ctx.site, cfg.measurement, dialect)
    except ValueError as exc:
        raise ConfigError(f"gateway.site or sinks[{cfg.name}].measurement: {exc}") from None
