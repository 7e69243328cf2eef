"""Config validation: every error class names the key path and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from htm_edge.config.base import SecretRef
from htm_edge.config.errors import ConfigError
from htm_edge.config.loader import default_config_text
from htm_edge.gateway.cli import main
from htm_edge.gateway.settings import HtmConfig, load_config, parse_config

REPO = Path(__file__).resolve().parents[3]


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="site.toml")
    return str(info.value)


def test_embedded_default_is_valid_and_has_a_faulty_simulated_device() -> None:
    cfg = load_config(None)
    assert isinstance(cfg, HtmConfig)
    assert cfg.broker.embedded
    faults = [d for d in cfg.simulation.devices if d.fault is not None]
    assert len(faults) == 1
    assert {d.device_id for d in cfg.simulation.devices} <= {
        d.device_id for d in cfg.inventory.devices
    }
    modalities = {cfg.inventory.lookup(d.device_id).modality for d in cfg.simulation.devices}  # type: ignore[union-attr]
    assert len(modalities) >= 2


def test_example_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTM_EDGE_MQTT_PASSWORD", "from-the-environment")
    cfg = load_config(REPO / "config" / "example.toml")
    assert cfg.broker.password == SecretRef(env="HTM_EDGE_MQTT_PASSWORD")
    assert not cfg.broker.embedded


def test_empty_file_gives_defaults() -> None:
    cfg = parse_config("")
    assert cfg.sources[0].topics == ["htm/+/+/telemetry"]
    assert cfg.alerting.rules


def test_misspelt_key_is_named_with_suggestion() -> None:
    message = error_of("[gateway]\nsitee = 'x'\n")
    assert "site.toml" in message
    assert "gateway.sitee: unknown key" in message
    assert "did you mean 'site'" in message


def test_misspelt_key_inside_tagged_list_names_index_and_valid_keys() -> None:
    message = error_of("[[alerting.rules]]\ntype = 'anomaly'\nenter_scor = 0.9\n")
    assert "alerting.rules[0].enter_scor: unknown key" in message
    assert "enter_score" in message
    assert "anomaly" not in message.split(":")[1]  # pydantic's tag segment is hidden


def test_wrong_type_names_key_and_value() -> None:
    message = error_of("[broker]\nport = 'abc'\n")
    assert "broker.port" in message
    assert "'abc'" in message


def test_out_of_range_value() -> None:
    assert "broker.port" in error_of("[broker]\nport = 70000\n")


def test_missing_required_value() -> None:
    message = error_of("[[alerting.rules]]\ntype = 'threshold'\nsignal = 'x'\nabove = 1\n")
    assert "alerting.rules[0].name: required key is missing" in message


def test_bad_toml_reports_line() -> None:
    message = error_of("[broker\nport = 1\n")
    assert "not valid TOML" in message
    assert "line 1" in message


def test_unknown_and_missing_type_list_the_choices() -> None:
    assert "set type to one of 'sqlite'" in error_of("[[sinks]]\ntype = 'postgres'\n")
    message = error_of("[[alerting.rules]]\nname = 'x'\n")
    assert "'type' is missing" in message
    assert "'anomaly', 'threshold'" in message


def test_hysteresis_band_must_be_open() -> None:
    message = error_of(
        "[[alerting.rules]]\ntype = 'anomaly'\nenter_score = 0.9\nexit_score = 0.95\n"
    )
    assert "alerting.rules[0]" in message
    assert "exit_score must be below enter_score" in message


def test_threshold_rule_needs_exactly_one_limit() -> None:
    text = "[[alerting.rules]]\ntype = 'threshold'\nname = 'a'\nsignal = 's'\n"
    assert "exactly one of 'above' or 'below'" in error_of(text)


def test_inline_secret_is_refused_with_the_fix() -> None:
    message = error_of("[broker]\npassword = 'hunter2'\n")
    assert "broker.password" in message
    assert "env" in message and "file" in message
    assert "hunter2" not in message


def test_duplicate_device_and_unknown_simulated_device() -> None:
    dup = "[[inventory.devices]]\ndevice_id='A'\nmodality='ct'\n" * 2
    assert "'A' is listed twice" in error_of(dup)
    assert "not in inventory.devices" in error_of("[[simulation.devices]]\ndevice_id = 'X'\n")


def test_several_problems_are_all_reported() -> None:
    message = error_of("[gateway]\nsitee = 1\n[broker]\nport = 'x'\n")
    assert "2 config problems" in message
    assert "gateway.sitee" in message and "broker.port" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_secret_ref_resolves_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTM_TEST_SECRET", "s3cret")
    assert SecretRef(env="HTM_TEST_SECRET").resolve() == "s3cret"
    secret = tmp_path / "pass"
    secret.write_text("from-file\n")
    assert SecretRef(file=secret).resolve() == "from-file"
    with pytest.raises(LookupError, match="HTM_TEST_UNSET"):
        SecretRef(env="HTM_TEST_UNSET").resolve()
    with pytest.raises(ValueError):
        SecretRef(env="A", file=secret)


def test_check_config_cli_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(default_config_text())
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "6 devices" in out


def test_check_config_cli_misspelt_key_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[models]\ndetektor = 'default'\n")
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "models.detektor" in err
    assert "did you mean 'detector'" in err


def test_component_names_must_be_unique() -> None:
    text = "[[sinks]]\ntype = 'sqlite'\n[[sinks]]\ntype = 'sqlite'\npath = 'b.sqlite'\n"
    assert "sinks[1].name 'sqlite' is used twice" in error_of(text)
