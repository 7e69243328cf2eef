"""Every plugin ships a sample config beside its code, and ``check-config`` accepts it.

The sample must show every key of the plugin's section, so it doubles as the
plugin's reference (as Telegraf's ``sample.conf`` files do). Secrets a sample
reads from the environment (``{ env = "NAME" }``) are set for the check, as an
operator would export them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from htm_edge.alerting.notifiers import NOTIFIERS
from htm_edge.alerting.rules import RULES
from htm_edge.collector.protocols import PROTOCOLS
from htm_edge.collector.sinks import SINKS
from htm_edge.collector.sources import SOURCES
from htm_edge.gateway.cli import main

PLUGINS = [reg[name] for reg in (SOURCES, PROTOCOLS, SINKS, RULES, NOTIFIERS) for name in reg]


def sample_of(cls: type) -> Path:
    return Path(sys.modules[cls.__module__].__file__ or "").with_suffix(".toml")


@pytest.mark.parametrize("cls", PLUGINS, ids=lambda c: f"{c.__module__}")
def test_plugin_has_a_sample_that_check_config_accepts(
    cls: type, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = sample_of(cls)
    assert sample.is_file(), f"write {sample}"
    for variable in re.findall(r'\benv\s*=\s*"([A-Za-z_][A-Za-z0-9_]*)"', sample.read_text()):
        monkeypatch.setenv(variable, "sample-secret")
    assert main(["check-config", str(sample)]) == 0, capsys.readouterr().err
    text = sample.read_text()
    assert f'type = "{cls.type_name}"' in text
    keys = set(re.findall(r"^\s*#?\s*([a-z_]+)\s*=", text, flags=re.M))
    missing = set(cls.config_model.model_fields) - keys - {"type"}
    assert not missing, f"{sample} does not show {sorted(missing)}"
