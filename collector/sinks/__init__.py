"""Sinks: durable destinations of readings, selected by ``type`` in ``[[sinks]]``."""

from collector.sinks.base import Sink
from collector.sinks.sqlite import SqliteSink

__all__ = ["SINKS", "Sink", "SqliteSink"]

SINKS: dict[str, type[Sink]] = {SqliteSink.name: SqliteSink}
