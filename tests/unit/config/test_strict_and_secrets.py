"""Config files are read strictly, secrets resolve at load time, and the catalogue checks faults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from htm_edge.config.errors import ConfigError
from htm_edge.config.loader import config_warnings
from htm_edge.gateway.settings import parse_config


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="site.toml")
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[broker]\nport = "1883"\n', "broker.port"),
        ('[broker]\nembedded = "yes"\n', "broker.embedded"),
        ("[broker]\nembedded = 1\n", "broker.embedded"),
        ('[gateway]\nqueue_size = "100"\n', "gateway.queue_size"),
        ('[[sinks]]\ntype = "sqlite"\nbatch_size = 2.5\n', "sinks[0].batch_size"),
    ],
)
def test_values_of_the_wrong_toml_type_are_errors_not_coerced(text: str, key: str) -> None:
    assert key in error_of(text)


def test_strict_mode_still_accepts_paths_enums_and_ints_for_floats() -> None:
    cfg = parse_config(
        '[gateway]\ndata_dir = "/var/lib/htm-edge"\nshutdown_timeout_s = 5\n'
        '[[inventory.devices]]\ndevice_id = "MR-1"\nmodality = "mri"\n'
    )
    assert cfg.gateway.data_dir == Path("/var/lib/htm-edge")
    assert cfg.gateway.shutdown_timeout_s == 5.0
    assert cfg.inventory.devices[0].modality == "mri"


def test_an_unset_secret_variable_is_a_config_error_naming_key_and_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HTM_TEST_NOT_SET", raising=False)
    message = error_of('[broker]\npassword = { env = "HTM_TEST_NOT_SET" }\n')
    assert "broker.password" in message and "'HTM_TEST_NOT_SET' is not set" in message
    monkeypatch.setenv("HTM_TEST_NOT_SET", "s3cret")
    cfg = parse_config('[broker]\npassword = { env = "HTM_TEST_NOT_SET" }\n')
    assert cfg.broker.password is not None and cfg.broker.password.resolve() == "s3cret"


def test_an_unreadable_secret_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pass"
    message = error_of(f'[broker]\npassword = {{ file = "{missing}" }}\n')
    assert "broker.password" in message and str(missing) in message


def test_a_secret_file_others_can_read_gets_a_warning(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt.pass"
    secret.write_text("s3cret\n")
    os.chmod(secret, 0o644)
    cfg = parse_config(f'[broker]\npassword = {{ file = "{secret}" }}\n')
    (warning,) = config_warnings(cfg)
    assert "broker.password" in warning and str(secret) in warning and "chmod 600" in warning
    os.chmod(secret, 0o600)
    assert config_warnings(cfg) == []
    assert cfg.broker.password is not None and cfg.broker.password.resolve() == "s3cret"


def test_an_inline_secret_is_refused_with_the_fix() -> None:
    message = error_of("[broker]\npassword = 'hunter2'\n")
    assert "broker.password" in message and "env" in message and "file" in message
    assert "hunter2" not in message


SIM = """
[[inventory.devices]]
device_id = "MR-01"
modality = "mri"
[[simulation.devices]]
device_id = "MR-01"
"""


def test_a_simulated_fault_must_be_a_failure_mode_of_the_device() -> None:
    message = error_of(
        SIM + 'fault = { failure_mode = "CT.TUBE.ARCING", start_s = 0, duration_s = 60 }\n'
    )
    assert "simulation.devices[0] (MR-01)" in message and "a ct failure mode" in message
    assert "MR.COLDHEAD.DEGRADATION" in message  # the valid ones are listed
    message = error_of(
        SIM + 'events = [{ event = "CT.EVENT.COLD_TUBE_WARMUP", start_s = 0, duration_s = 60 }]\n'
    )
    assert "not a look-alike of mri" in message


def test_topic_templates_are_checked() -> None:
    message = error_of('[[sources]]\ntype = "mqtt"\ntopic_template = "htm/{site}/{device}/x"\n')
    assert "sources[0].topic_template" in message


def test_protocol_may_be_named_or_a_table() -> None:
    named = parse_config('[[sources]]\ntype = "mqtt"\nprotocol = "json"\n')
    table = parse_config('[[sources]]\ntype = "mqtt"\nprotocol = { type = "json" }\n')
    assert named.sources[0].protocol == table.sources[0].protocol
    assert "set type to one of 'json', 'line', 'medibus', 'intellivue', 'datex', 'hl7'" in error_of(
        '[[sources]]\ntype = "mqtt"\nprotocol = "modbus"\n'
    )
