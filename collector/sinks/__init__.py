"""Sinks: durable destinations of readings, selected by ``type`` in ``[[sinks]]``.

To add one: write ``<key>.py`` with a :class:`Sink` subclass and its config
section (with ``name``, ``batch_size`` and ``flush_interval_s``),
and add both below; the sink conformance suite then runs on it.
``http_errors`` is a helper the InfluxDB sinks share; the line protocol itself is
:mod:`htm_edge.collector.line_protocol` (sinks and the ``line`` payload codec use it).
"""

from typing import Annotated

from pydantic import Field

from htm_edge.collector.sinks.base import Sink, SinkError
from htm_edge.collector.sinks.influxdb_v1 import InfluxDbV1Sink, InfluxDbV1SinkConfig
from htm_edge.collector.sinks.influxdb_v2 import InfluxDbV2Sink, InfluxDbV2SinkConfig
from htm_edge.collector.sinks.sqlite import SqliteSink, SqliteSinkConfig
from htm_edge.config.registry import Registry

__all__ = [
    "SINKS",
    "InfluxDbV1Sink",
    "InfluxDbV2Sink",
    "Sink",
    "SinkConfig",
    "SinkError",
    "SqliteSink",
]

#: the tagged union of every sink's config section
SinkConfig = Annotated[
    SqliteSinkConfig | InfluxDbV1SinkConfig | InfluxDbV2SinkConfig, Field(discriminator="type")
]

#: config ``type`` -> sink class
SINKS: Registry[Sink] = Registry("sink", [SqliteSink, InfluxDbV1Sink, InfluxDbV2Sink], SinkConfig)
