"""Real servers for integration tests, spawned on free loopback ports in temp dirs.

Tests never assume a server is running: each fixture starts its own and stops
it afterwards. A missing binary is a failure with the install hint, never a skip.
"""

from __future__ import annotations

import base64
import getpass
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

__all__ = [
    "DaemonProcess",
    "Influxd",
    "Mosquitto",
    "ServerProcess",
    "VictoriaMetrics",
    "find_binary",
    "free_port",
    "wait_port",
]


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


class ServerProcess:
    """A server binary on a free loopback port, its output in ``log``; ``stop``/``start`` again."""

    name = "server"

    def __init__(self, workdir: Path, argv: list[str]) -> None:
        self.workdir = workdir
        self.argv = argv
        self.log = workdir / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the server and wait until it answers ``ready()``."""
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if self.ready():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not start: {self.log.read_text(errors='replace')}")

    def ready(self) -> bool:
        """True once the server accepts requests."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        """True while the process runs."""
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        """Stop the server (SIGTERM, so it flushes; SIGKILL after 15 s)."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


def http(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request with the standard library: status, headers and body (errors too)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class Influxd(ServerProcess):
    """Debian's InfluxDB 1.x (``influxd``) with its meta, data and WAL dirs in ``workdir``.

    ``auth`` turns on ``auth-enabled`` and creates the admin ``admin``/``admin-pw``;
    ``http_settings`` adds keys to the ``[http]`` section (``max-body-size``, write
    throttling). Usage reporting is off.
    """

    name = "influxd"

    def __init__(
        self, workdir: Path, *, auth: bool = False, http_settings: dict[str, Any] | None = None
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.auth = auth
        settings = {"bind-address": f'"127.0.0.1:{self.port}"', "auth-enabled": str(auth).lower()}
        settings |= {"log-enabled": "false"}
        settings |= {k: json.dumps(v) for k, v in (http_settings or {}).items()}
        http_lines = "".join(f"  {k} = {v}\n" for k, v in settings.items())
        config = workdir / "influxdb.conf"
        config.write_text(
            "reporting-enabled = false\n"
            f'bind-address = "127.0.0.1:{free_port()}"\n'
            f'[meta]\n  dir = "{workdir}/meta"\n'
            f'[data]\n  dir = "{workdir}/data"\n  wal-dir = "{workdir}/wal"\n'
            "  query-log-enabled = false\n"
            "[monitor]\n  store-enabled = false\n"
            "[continuous_queries]\n  enabled = false\n"
            f"[http]\n{http_lines}",
            encoding="utf-8",
        )
        super().__init__(workdir, [find_binary("influxd", "influxdb"), "-config", str(config)])

    def ready(self) -> bool:
        try:
            return http("GET", f"{self.url}/ping", timeout_s=1)[0] == 204
        except OSError:
            return False

    def start(self, timeout_s: float = 30.0) -> None:
        super().start(timeout_s)
        if self.auth:  # allowed without credentials while no user exists; then a no-op error
            self.query("CREATE USER admin WITH PASSWORD 'admin-pw' WITH ALL PRIVILEGES", auth=None)

    def query(
        self, q: str, db: str = "", auth: tuple[str, str] | None = ("admin", "admin-pw")
    ) -> Any:
        """Run InfluxQL ``q`` through ``/query`` (nanosecond epochs); return the parsed JSON."""
        params = {"q": q, "epoch": "ns"} | ({"db": db} if db else {})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if auth is not None and self.auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        status, _, body = http(
            "POST", f"{self.url}/query", urllib.parse.urlencode(params).encode(), headers
        )
        # "-0" is a float that lost its point in Go's JSON; every other integer is an int
        data: Any = json.loads(body, parse_int=lambda s: -0.0 if s == "-0" else int(s))
        if status != 200:
            raise RuntimeError(f"influxd /query {q!r}: HTTP {status}: {data}")
        return data

    def rows(self, db: str, measurement: str = "telemetry") -> list[dict[str, Any]]:
        """Every stored row of ``measurement`` as a dict (time in ns, tags, non-null fields)."""
        name = measurement.replace("\\", "\\\\").replace('"', '\\"')
        data = self.query(f'SELECT * FROM "{name}"', db)
        out = []
        for result in data["results"]:
            for series in result.get("series", []):
                for values in series["values"]:
                    row = dict(zip(series["columns"], values, strict=True))
                    out.append({k: v for k, v in row.items() if v is not None})
        return out


class VictoriaMetrics(ServerProcess):
    """Debian's ``victoria-metrics``: accepts the InfluxDB v2 write API, exports what it stored.

    Started with ``-dedup.minScrapeInterval=1ms`` so it keeps one sample per
    series and millisecond, as InfluxDB keeps one per series and timestamp
    (without it, VictoriaMetrics stores replayed samples twice), and a
    retention long enough for any test timestamp. ``auth`` requires HTTP Basic
    ``user:pw``.
    """

    name = "victoria-metrics"

    def __init__(self, workdir: Path, *, auth: tuple[str, str] | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            find_binary("victoria-metrics", "victoria-metrics"),
            f"-storageDataPath={workdir / 'data'}",
            f"-httpListenAddr=127.0.0.1:{self.port}",
            "-retentionPeriod=100y",
            "-dedup.minScrapeInterval=1ms",
            "-loggerLevel=WARN",
        ]
        if auth is not None:
            argv += [f"-httpAuth.username={auth[0]}", f"-httpAuth.password={auth[1]}"]
        super().__init__(workdir, argv)

    def ready(self) -> bool:
        try:
            return http("GET", f"{self.url}/health", timeout_s=1)[0] in (200, 401)
        except OSError:
            return False

    def export(self, match: str = '{__name__=~".+"}') -> list[dict[str, Any]]:
        """Stored series matching ``match``: ``metric`` labels, ``values``, ``timestamps`` (ms).

        Flushes recent writes first (they are searchable right after).
        """
        http("GET", f"{self.url}/internal/force_flush")
        body = urllib.parse.urlencode({"match[]": match}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        status, _, data = http("POST", f"{self.url}/api/v1/export", body, headers)
        if status != 200:
            raise RuntimeError(f"victoria-metrics export: HTTP {status}: {data!r}")
        return sorted(
            (json.loads(line) for line in data.splitlines() if line.strip()),
            key=lambda s: json.dumps(s["metric"], sort_keys=True),
        )


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
