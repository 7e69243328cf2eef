"""Secrets as an operator meets them: ``htm-edge check-config`` and ``htm-edge run`` as processes.

A secret that is not there is a configuration error (exit code 2) naming the
key and the variable or file, the same from both commands, never a Python
traceback. A secret file that others can read is a warning naming the file
and the ``chmod 600`` that fixes it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import free_port

UNSET = "HTM_TEST_UNSET_VAR"


def htm_edge(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != UNSET}
    return subprocess.run(
        [sys.executable, "-m", "htm_edge.gateway.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def write_config(tmp_path: Path, password: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        f"""
[gateway]
data_dir = "{tmp_path / "data"}"
[broker]
host = "127.0.0.1"
port = {free_port()}
username = "gateway"
password = {password}
[[sources]]
type = "mqtt"
[[sinks]]
type = "sqlite"
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("kind", ["env", "file"])
def test_missing_secret_is_a_config_error_from_check_config_and_run(
    tmp_path: Path, kind: str
) -> None:
    if kind == "env":
        ref, names = f'{{ env = "{UNSET}" }}', [UNSET]
    else:
        missing = tmp_path / "no-such-dir" / "mqtt.pass"
        ref, names = f'{{ file = "{missing}" }}', [str(missing), "mode 0600"]
    config = write_config(tmp_path, ref)

    check = htm_edge("check-config", str(config))
    assert check.returncode == 2, check
    assert "Traceback" not in check.stderr
    assert "broker.password" in check.stderr
    for name in names:
        assert name in check.stderr, check.stderr
    assert str(config) in check.stderr
    assert "OK:" not in check.stdout

    run = htm_edge("run", "--config", str(config))
    assert run.returncode == 2, run
    assert "Traceback" not in run.stderr
    assert run.stderr == check.stderr  # the same message from both commands
    assert not (tmp_path / "data").exists()  # nothing started


def test_secret_file_readable_by_others_is_a_warning_naming_the_fix(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt.pass"
    secret.write_text("s3cret-value\n", encoding="utf-8")
    secret.chmod(0o644)
    config = write_config(tmp_path, f'{{ file = "{secret}" }}')

    loose = htm_edge("check-config", str(config))
    assert loose.returncode == 0, loose
    warnings = [line for line in loose.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, loose.stdout
    assert "broker.password" in warnings[0]
    assert str(secret) in warnings[0]
    assert "mode 644" in warnings[0]
    assert f"chmod 600 {secret}" in warnings[0]
    assert "s3cret-value" not in loose.stdout + loose.stderr  # never the value itself

    secret.chmod(0o600)
    tight = htm_edge("check-config", str(config))
    assert tight.returncode == 0, tight
    assert "warning:" not in tight.stdout
