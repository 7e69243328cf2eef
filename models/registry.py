"""Registry of detectors: ``type = "<name>"`` in the config picks the class.

To add a detector, write ``models/detectors/<name>.py`` with a ``Detector``
subclass whose ``name`` is ``<name>``, then add its import and one entry to
``DETECTORS`` below. The conformance suite (``tests/unit/models``) runs on every
entry automatically.
"""

from __future__ import annotations

from typing import Any

from htm_edge.models.base import Detector
from htm_edge.models.detectors.cusum import Cusum
from htm_edge.models.detectors.drift import Drift
from htm_edge.models.detectors.ensemble import Ensemble
from htm_edge.models.detectors.multivariate import MultivariateDetector
from htm_edge.models.detectors.robust_ewma import RobustEWMA
from htm_edge.models.detectors.robust_pot import RobustPot
from htm_edge.models.detectors.seasonal import Seasonal
from htm_edge.models.detectors.spike_level import SpikeLevel
from htm_edge.models.errors import ModelError

__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "make_detector", "resolve"]

DETECTORS: dict[str, type[Detector]] = {
    cls.name: cls
    for cls in (
        Ensemble,
        RobustPot,
        RobustEWMA,
        Seasonal,
        SpikeLevel,
        Cusum,
        Drift,
        MultivariateDetector,
    )
}

#: the detector used when the config says ``"default"`` or nothing
DEFAULT_DETECTOR: str = "robust_pot"


def resolve(name: str | None) -> type[Detector]:
    """Return the detector class for ``name`` (``None`` or ``"default"`` give the default)."""
    key = DEFAULT_DETECTOR if name in (None, "", "default") else str(name)
    try:
        return DETECTORS[key]
    except KeyError:
        raise ModelError(
            f"unknown detector {name!r}; valid names are {sorted(DETECTORS)} or 'default' "
            f"(= {DEFAULT_DETECTOR!r})"
        ) from None


def make_detector(name: str = "default", n_streams: int = 1, **params: Any) -> Detector:
    """Build a detector by registry name with parameter overrides.

    Raises
    ------
    ModelError
        For an unknown name or parameter; the message lists the valid ones.

    Examples
    --------
    >>> make_detector("default", n_streams=4).name
    'robust_pot'
    """
    cls = resolve(name)
    try:
        return cls(n_streams, **params)
    except TypeError as exc:  # a detector without **params
        raise ModelError(f"detector {cls.name!r}: bad parameters {sorted(params)}: {exc}") from exc
