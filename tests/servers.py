"""Real servers for integration tests, spawned on free loopback ports in temp dirs.

Tests never assume a server is running: each fixture starts its own and stops
it afterwards. A missing binary is a failure with the install hint, never a skip.
"""

from __future__ import annotations

import getpass
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["DaemonProcess", "Mosquitto", "find_binary", "free_port", "wait_port"]


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, timeout_s: float = 10.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def find_binary(name: str, package: str) -> str:
    """Path of ``name`` in PATH or /usr/sbin; fail with how to install it."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if path is None:
        raise RuntimeError(
            f"{name} is not installed; install Debian's {package!r} package "
            "(the README's test command does this)"
        )
    return path


class Mosquitto:
    """A real mosquitto broker on a free loopback port; ``stop``/``start`` for outage tests."""

    def __init__(self, workdir: Path) -> None:
        self.binary = find_binary("mosquitto", "mosquitto")
        self.workdir = workdir
        self.host = "127.0.0.1"
        self.port = free_port()
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            # as root, mosquitto would drop to user 'mosquitto', which cannot write
            # its persistence file into our temp dir: sessions would not survive a restart
            f"user {getpass.getuser()}\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "max_queued_messages 100000\n",
            encoding="utf-8",
        )
        self.log = workdir / "mosquitto.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_port(self.port)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"mosquitto did not start: {self.log.read_text()}") from None

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 5 s)."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


class DaemonProcess:
    """``htm-edge run --config FILE`` as a real process, its stdout and stderr in ``log``."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, *, umask: int = -1) -> None:
        """Start the daemon (``umask`` >= 0 sets the process umask)."""
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "htm_edge.gateway.cli", "run", "--config", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                umask=umask,
            )

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        assert self._proc is not None, "the daemon was not started"
        return self._proc

    def text(self) -> str:
        """The log so far."""
        return self.log.read_text(errors="replace")

    def wait_for_log(self, needle: str, timeout_s: float = 30.0) -> None:
        """Wait until ``needle`` is in the log; fail (with the log) if the daemon exits first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if needle in self.text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(
            f"{needle!r} not in daemon log (exit code {self.proc.poll()}):\n{self.text()}"
        )

    def stop(self, timeout_s: float = 30.0, sig: int = signal.SIGTERM) -> tuple[int, float]:
        """Send ``sig`` and wait; return the exit code and the seconds it took to exit."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the daemon did not exit within {timeout_s:g} s of signal {sig}:\n{self.text()}"
            ) from None
        return code, time.monotonic() - start

    def kill(self) -> None:
        """SIGKILL the daemon if it still runs (test clean-up)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def summary(self) -> dict[str, Any]:
        """The counters of the last ``event=daemon_stopped summary=...`` log line."""
        marker = "event=daemon_stopped summary="
        lines = [line for line in self.text().splitlines() if marker in line]
        assert lines, f"no {marker!r} line in the daemon log:\n{self.text()}"
        counters: dict[str, Any] = json.loads(lines[-1].split(marker, 1)[1])
        return counters
