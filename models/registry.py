"""Registry of detectors: ``[models] detector = "<name>"`` picks the class.

The same :class:`~htm_edge.config.registry.Registry` as every other role: a
detector's ``type_name`` equals its module name, it is built by
``cls.from_config(cfg, ctx)`` and an unknown name raises the one
:class:`~htm_edge.config.errors.UnknownTypeError` listing the valid ones.
Detectors share the ``[models]`` section (their parameters come as
``params``, checked by the detector itself); :func:`check_models_config` lets
``check-config`` find a bad name or parameter before start-up.

To add a detector, write ``models/detectors/<name>.py`` with a ``Detector``
subclass whose ``type_name`` is ``<name>``, then add its import and one entry
to ``DETECTORS`` below. The conformance suite (``tests/unit/models``) runs on
every entry automatically.
"""

from __future__ import annotations

from typing import Any

from htm_edge.config.errors import ConfigError, UnknownTypeError
from htm_edge.config.registry import Registry
from htm_edge.models.base import Detector
from htm_edge.models.config import ModelContext, ModelsConfig
from htm_edge.models.detectors.cusum import Cusum
from htm_edge.models.detectors.drift import Drift
from htm_edge.models.detectors.ensemble import Ensemble
from htm_edge.models.detectors.multivariate import MultivariateDetector
from htm_edge.models.detectors.robust_ewma import RobustEWMA
from htm_edge.models.detectors.robust_pot import RobustPot
from htm_edge.models.detectors.seasonal import Seasonal
from htm_edge.models.detectors.spike_level import SpikeLevel
from htm_edge.models.errors import ModelError

__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "check_models_config", "make_detector", "resolve"]

#: config ``detector`` -> detector class (the same registry shape as every other role)
DETECTORS: Registry[Detector] = Registry(
    "detector",
    [
        RobustPot,
        Ensemble,
        RobustEWMA,
        Seasonal,
        SpikeLevel,
        Cusum,
        Drift,
        MultivariateDetector,
    ],
)

#: the detector used when the config says ``"default"`` or nothing
DEFAULT_DETECTOR: str = "robust_pot"


def resolve(name: str | None) -> type[Detector]:
    """Return the detector class for ``name`` (``None`` or ``"default"`` give the default).

    Raises
    ------
    UnknownTypeError
        For an unknown name; the message lists the valid ones.
    """
    key = DEFAULT_DETECTOR if name in (None, "", "default") else str(name)
    return DETECTORS[key]


def make_detector(name: str = "default", n_streams: int = 1, **params: Any) -> Detector:
    """Build a detector by registry name with parameter overrides.

    Raises
    ------
    UnknownTypeError
        For an unknown name (the message lists the valid ones).
    ModelError
        For an unknown or bad parameter; the message lists the valid ones.

    Examples
    --------
    >>> make_detector("default", n_streams=4).type_name
    'robust_pot'
    """
    cls = resolve(name)
    cfg = ModelsConfig(detector=cls.type_name, params=params)
    try:
        return cls.from_config(cfg, ModelContext(n_streams))
    except TypeError as exc:  # a detector without **params
        raise ModelError(
            f"detector {cls.type_name!r}: bad parameters {sorted(params)}: {exc}"
        ) from exc


def check_models_config(cfg: ModelsConfig) -> None:
    """Build the configured detector once, so check-config finds a bad name or parameter.

    Raises
    ------
    ConfigError
        Naming ``models.detector`` or ``models.params`` and what is valid.
    """
    try:
        make_detector(cfg.detector, 1, **cfg.params)
    except UnknownTypeError as exc:
        raise ConfigError(f"models.detector: {exc}") from None
    except ModelError as exc:
        raise ConfigError(f"models.params: {exc}") from None
