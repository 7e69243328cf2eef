"""Shared fixtures: real servers on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Mosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh mosquitto broker for one test."""
    server = Mosquitto(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
