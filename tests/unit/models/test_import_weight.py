"""Scoring anomalies must not load the prognostics' machine learning stack.

A gateway that only scores streams (``htm-edge score-csv``, the anomaly path of the
daemon) imports the scorer; before, that reached scikit-learn through the
configuration package and scipy.stats through the window statistics, about 80 MB of
a 100,000-stream process's 300 MB budget (``benchmarks.scoring_speed``).
"""

from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded_after(statement: str, modules: tuple[str, ...]) -> list[str]:
    code = f"import sys\n{statement}\nprint(' '.join(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return out.stdout.split()


def test_the_scorer_does_not_import_scikit_learn_or_scipy_stats() -> None:
    heavy = ("sklearn", "scipy.stats", "htm_edge.models.prognostics.model")
    assert _loaded_after("import htm_edge.models.scorer", heavy) == []


def test_prognostics_names_still_import_from_the_package() -> None:
    got = _loaded_after(
        "from htm_edge.models.prognostics import FleetModel, Prognostics", ("sklearn",)
    )
    assert got == ["sklearn"]


def test_an_unknown_name_is_an_attribute_error() -> None:
    import htm_edge.models.prognostics as prognostics

    with pytest.raises(AttributeError, match="no_such_name"):
        _ = prognostics.no_such_name
