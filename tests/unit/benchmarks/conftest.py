"""Fixtures of the benchmark tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.benchmarks.tiny_datasets import write_tiny_datasets


@pytest.fixture
def tiny_datasets(tmp_path: Path) -> Path:
    """A datasets folder holding tiny ``smap/``, ``petrobras_3w/`` and ``skab/`` corpora."""
    return write_tiny_datasets(tmp_path)
