"""The structure the design states, checked on the code itself.

* Dependencies flow one way: ``config`` is a leaf; ``collector`` knows nothing
  of models, alerting or simulators; ``simulators`` use only the collector's
  protocols and reading type; only ``gateway`` imports every role.
* Every plugin has the same shape: ``type_name`` equal to its module name,
  ``config_model`` defined beside it, built by its role's registry.
* Components are constructed in one place, the composition root.
* Every doctest in the package runs and passes.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import htm_edge
from htm_edge.alerting.notifiers import NOTIFIERS
from htm_edge.alerting.rules import RULES
from htm_edge.collector.protocols import PROTOCOLS
from htm_edge.collector.sinks import SINKS
from htm_edge.collector.sources import SOURCES
from htm_edge.config.errors import UnknownTypeError
from htm_edge.config.registry import Registry
from htm_edge.models.config import ModelContext, ModelsConfig
from htm_edge.models.registry import DETECTORS

ROOT = Path(htm_edge.__file__).parent
ROLES = ("config", "collector", "models", "alerting", "simulators", "gateway")
#: what each role may import from the others (itself always)
ALLOWED: dict[str, set[str]] = {
    "config": set(),
    "collector": {"config"},
    "models": {"config"},
    "alerting": {"config", "models.types"},
    "simulators": {"config", "collector.protocols", "collector.reading", "collector.errors"},
    "gateway": set(ROLES),
}
REGISTRIES: dict[str, Registry[object]] = {  # type: ignore[type-var]
    "source": SOURCES,  # type: ignore[dict-item]
    "protocol": PROTOCOLS,  # type: ignore[dict-item]
    "sink": SINKS,  # type: ignore[dict-item]
    "rule": RULES,  # type: ignore[dict-item]
    "notifier": NOTIFIERS,  # type: ignore[dict-item]
}


def modules() -> list[tuple[str, Path]]:
    out = []
    for role in ROLES:
        for path in sorted((ROOT / role).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(("htm_edge", *rel.parts)).removesuffix(".__init__")
            out.append((name, path))
    return out


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_imports_follow_the_layering(module: str, path: Path) -> None:
    role = module.split(".")[1]
    for imported in imports_of(path):
        top = imported.split(".")[0]
        assert top not in ROLES, f"{module} imports {imported!r}: use htm_edge.{imported}"
        if top != "htm_edge" or imported == "htm_edge":
            continue
        target = imported.removeprefix("htm_edge.")
        if target.split(".")[0] == role:
            continue
        assert any(target == a or target.startswith(a + ".") for a in ALLOWED[role]), (
            f"{module} (role {role}) must not import {imported}"
        )


@pytest.mark.parametrize("role", sorted(REGISTRIES))
def test_every_plugin_has_the_same_shape(role: str) -> None:
    registry = REGISTRIES[role]
    assert isinstance(registry, Registry) and registry.role == role and len(registry) >= 1
    for type_name in registry:
        cls = registry[type_name]
        assert cls.type_name == type_name == cls.__module__.rsplit(".", 1)[1]  # type: ignore[attr-defined]
        model = cls.config_model  # type: ignore[attr-defined]
        assert model.__module__ == cls.__module__, "the config model lives beside its plugin"
        assert model.model_fields["type"].default == type_name
        assert callable(cls.from_config)  # type: ignore[attr-defined]
    with pytest.raises(UnknownTypeError) as info:
        registry["no-such-type"]
    assert str(info.value) == (
        f"unknown {role} type 'no-such-type'; valid types: {', '.join(registry.names())}"
    )


def test_detectors_have_the_same_registry_shape() -> None:
    """Detectors share the ``[models]`` section, but key, factory and error are the same."""
    assert isinstance(DETECTORS, Registry) and DETECTORS.role == "detector"
    for type_name in DETECTORS:
        cls = DETECTORS[type_name]
        assert cls.type_name == type_name == cls.__module__.rsplit(".", 1)[1]
        assert cls.config_model is ModelsConfig
        params: dict[str, float | int | str | bool] = {"n_features": 2} if cls.multivariate else {}
        cfg = ModelsConfig(detector=type_name, params=params)
        built = cls.from_config(cfg, ModelContext(n_streams=3))
        assert isinstance(built, cls) and built.n_streams == 3
    with pytest.raises(UnknownTypeError) as info:
        DETECTORS["no-such-type"]
    assert str(info.value) == (
        f"unknown detector type 'no-such-type'; valid types: {', '.join(DETECTORS.names())}"
    )


#: constructions that only the composition root may make
ROOT_ONLY = {"AlertEngine", "StreamScorer", "ScoringPipeline", "Prognostics"}
COMPOSITION_ROOT = ROOT / "gateway" / "compose.py"


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_components_are_built_only_in_the_composition_root(module: str, path: Path) -> None:
    if path == COMPOSITION_ROOT:
        return
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in ROOT_ONLY:
            pytest.fail(f"{module}:{node.lineno} builds {func.id}; use gateway.compose")
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "build"
            and isinstance(func.value, ast.Name)
            and func.value.id in {"SOURCES", "PROTOCOLS", "SINKS", "RULES", "NOTIFIERS"}
        ):
            pytest.fail(f"{module}:{node.lineno} builds a {func.value.id} plugin")


def _doctest_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(htm_edge.__path__, "htm_edge.")]
    return sorted(n for n in names if not n.endswith("__main__"))


def test_doctests_exist() -> None:
    finder = doctest.DocTestFinder()
    total = sum(
        len(t.examples)
        for name in _doctest_modules()
        for t in finder.find(importlib.import_module(name))
    )
    assert total >= 40


@pytest.mark.parametrize("name", _doctest_modules())
def test_doctests_pass(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
