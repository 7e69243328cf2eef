"""Sinks: durable destinations of readings, selected by ``type`` in ``[[sinks]]``."""

from collections.abc import Callable
from pathlib import Path

from htm_edge.collector.sinks.base import Sink
from htm_edge.collector.sinks.sqlite import SqliteSink
from htm_edge.config.schema import SinkConfig

__all__ = ["SINKS", "Sink", "SinkFactory", "SqliteSink"]

#: builds a sink from its config section and the gateway's data directory
SinkFactory = Callable[[SinkConfig, Path], Sink]

#: config ``type`` -> factory
SINKS: dict[str, SinkFactory] = {SqliteSink.name: SqliteSink}
