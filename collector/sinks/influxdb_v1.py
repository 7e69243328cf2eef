"""InfluxDB 1.x over its HTTP API: ``/write`` for points, ``/query`` for ``CREATE DATABASE``.

One ``httpx.AsyncClient`` per sink, kept for the sink's life: keep-alive
connections to one base URL, explicit timeouts, no redirects, HTTP Basic auth
(never credentials in the URL, so they stay out of logs). Bodies are gzipped
(``Content-Encoding: gzip``; tested on InfluxDB 1.6).

Points follow :mod:`htm_edge.collector.line_protocol` in its ``v1``
dialect (InfluxDB 1.x keeps backslashes literally), at ``precision``. With
``create_database = true`` the sink sends ``CREATE DATABASE`` (idempotent on
the server) before its first write and again when a write answers "database
not found"; that needs an admin user. Answers map to
:class:`~htm_edge.collector.sinks.base.SinkError` as
:mod:`htm_edge.collector.sinks.http_errors` describes; in addition a 404
"database not found" and a 500 "retention policy not found" are
configuration errors naming the key to fix. :meth:`InfluxDbV1Sink.close`
waits for writes in flight before it closes the client.
"""

from __future__ import annotations

import asyncio
import gzip
import urllib.parse
from collections.abc import Sequence
from typing import ClassVar, Literal

import httpx
from pydantic import Field

from htm_edge.collector.context import IngestContext
from htm_edge.collector.line_protocol import encode_points
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks.base import Sink, SinkError
from htm_edge.collector.sinks.http_errors import error_for_status
from htm_edge.collector.sinks.influx_base import InfluxSinkConfigBase, check_sink_names
from htm_edge.config.base import PluginConfig, SecretRef
from htm_edge.config.errors import ConfigError

__all__ = ["InfluxDbV1Sink", "InfluxDbV1SinkConfig"]

#: the ``precision`` query values of InfluxDB 1.x
_V1_PRECISION = {"ns": "ns", "us": "u", "ms": "ms", "s": "s"}


class InfluxDbV1SinkConfig(InfluxSinkConfigBase):
    """Write readings to an InfluxDB 1.x database over HTTP."""

    type: Literal["influxdb_v1"] = "influxdb_v1"
    database: str = Field(default="htm_edge", min_length=1)
    retention_policy: str = ""
    username: str | None = None
    password: SecretRef | None = None
    create_database: bool = False


class InfluxDbV1Sink(Sink):
    """Write batches to ``cfg.database`` on ``cfg.url`` through ``/write``."""

    type_name: ClassVar[str] = "influxdb_v1"
    config_model: ClassVar[type[PluginConfig]] = InfluxDbV1SinkConfig

    def __init__(self, cfg: InfluxDbV1SinkConfig, ctx: IngestContext) -> None:
        super().__init__(cfg, ctx)
        self.cfg: InfluxDbV1SinkConfig = cfg
        self.label = f"influxdb_v1 sink {self.name!r}"
        check_sink_names(ctx, cfg, "v1")
        self._client: httpx.AsyncClient | None = None
        self._database_ready = not cfg.create_database
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def open(self) -> None:
        """Build the HTTP client (no I/O: a server that is down now only delays writes)."""
        auth = None
        if self.cfg.username is not None or self.cfg.password is not None:
            try:
                password = self.cfg.password.resolve() if self.cfg.password is not None else ""
            except LookupError as exc:
                raise ConfigError(f"sinks[{self.name}].password: {exc}") from None
            auth = httpx.BasicAuth(self.cfg.username or "", password)
        self._client = httpx.AsyncClient(
            base_url=self.cfg.url,
            auth=auth,
            timeout=httpx.Timeout(self.cfg.timeout_s),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            follow_redirects=False,
            verify=self.cfg.verify_tls,
            headers={"User-Agent": "htm-edge"},
        )

    async def write(self, batch: Sequence[Reading]) -> None:
        """Write ``batch``; return once the server answered 204 for all of it, or raise."""
        client = self._client
        if client is None:
            raise RuntimeError(f"{self.label}: write before open or after close")
        encoded = encode_points(
            batch,
            site=self.ctx.site,
            devices=self.ctx.devices,
            measurement=self.cfg.measurement,
            precision=self.cfg.precision,
            dialect="v1",
        )
        self._inflight += 1
        self._idle.clear()
        try:
            if encoded.lines:
                await self._post(client, b"\n".join(encoded.lines))
        finally:
            self._inflight -= 1
            if not self._inflight:
                self._idle.set()
        health = self.ctx.health
        health.inc(f"sink.{self.name}.points", encoded.points)
        if encoded.omitted:
            health.inc(f"sink.{self.name}.fields_omitted", encoded.omitted)

    async def _post(self, client: httpx.AsyncClient, body: bytes) -> None:
        if not self._database_ready:
            await self._create_database(client)
        params = {"db": self.cfg.database, "precision": _V1_PRECISION[self.cfg.precision]}
        if self.cfg.retention_policy:
            params["rp"] = self.cfg.retention_policy
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.cfg.gzip:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        answer = await self._request(client, "/write", params, body, headers)
        if answer.status_code == 404 and self.cfg.create_database:
            await self._create_database(client)
            answer = await self._request(client, "/write", params, body, headers)
        self._check(answer)

    async def _request(
        self,
        client: httpx.AsyncClient,
        path: str,
        params: dict[str, str],
        body: bytes,
        headers: dict[str, str],
    ) -> httpx.Response:
        try:
            return await client.post(path, params=params, content=body, headers=headers)
        except httpx.TransportError as exc:  # connection, timeouts, protocol: retried
            raise ConnectionError(
                f"{self.label}: cannot reach {self.cfg.url}: {type(exc).__name__}: {exc}"
            ) from exc

    async def _create_database(self, client: httpx.AsyncClient) -> None:
        name = self.cfg.database.replace("\\", "\\\\").replace('"', '\\"')
        answer = await self._request(
            client,
            "/query",
            {},
            urllib.parse.urlencode({"q": f'CREATE DATABASE "{name}"'}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        self._check(answer, creating=True)
        try:
            results = answer.json().get("results", [])
            problem = next((r["error"] for r in results if "error" in r), None)
        except (ValueError, AttributeError, TypeError):
            problem = f"unreadable answer {answer.text[:200]!r}"
        if problem is not None:
            raise SinkError(
                f"{self.label}: CREATE DATABASE {self.cfg.database!r} failed: {problem}; "
                f"fix sinks[{self.name}] (the readings are kept)",
                configuration=True,
            )
        self._database_ready = True

    def _check(self, answer: httpx.Response, *, creating: bool = False) -> None:
        """Raise for anything but a 2xx answer (204 for a write)."""
        status = answer.status_code
        if 200 <= status < 300:
            if not creating and status != 204:
                raise SinkError(
                    f"{self.label}: {self.cfg.url}/write answered HTTP {status}, not 204: "
                    "is the url an InfluxDB 1.x server?",
                    configuration=True,
                )
            return
        detail = _error_text(answer)
        who = f"sinks[{self.name}]"
        if status == 404 and "database not found" in detail:
            raise SinkError(
                f"{self.label}: database {self.cfg.database!r} does not exist; create it or set "
                f"{who}.create_database = true (the readings are kept)",
                configuration=True,
            )
        if status == 500 and "retention policy not found" in detail:
            raise SinkError(
                f"{self.label}: {detail}; fix {who}.retention_policy (the readings are kept)",
                configuration=True,
            )
        rights = "admin rights for CREATE DATABASE, " if creating else ""
        raise error_for_status(
            status,
            detail,
            answer.headers.get("Retry-After"),
            sink=self.label,
            credentials=f"{rights}{who}.username and {who}.password",
            target=f"{who}.url and {who}.database",
        )

    async def close(self) -> None:
        """Wait for writes in flight, then close the client."""
        client, self._client = self._client, None
        await self._idle.wait()
        if client is not None:
            await client.aclose()


def _error_text(answer: httpx.Response) -> str:
    """The server's error message: the JSON ``error``, an error header, or the body."""
    try:
        data = answer.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return answer.headers.get("X-Influxdb-Error") or answer.text
