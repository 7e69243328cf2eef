"""The InfluxDB v2 write API: InfluxDB 2.x, Cloud, 3.x (compatibility endpoint), 1.8+.

Written through ``influxdb-client``'s **synchronous** write API: the gateway's
sink writer hands over one batch at a time and :meth:`InfluxDbV2Sink.write`
returns only when the server answered 2xx for all of it, or raises. The
client's background batching is never used (influxdb-client issues #198,
#165 and #504: points lost silently or at exit). Bodies are gzipped, and each
write is reconciled against its batch: every reading is a written field or a
counted omission, and the body holds exactly one line per point. The
blocking client runs on the sink's own single worker thread, off the event
loop; :meth:`~InfluxDbV2Sink.close` waits for that thread's write in flight.

Points follow :mod:`htm_edge.collector.line_protocol` (one
``telemetry`` measurement, tags ``site``/``device_id``/``modality``, a field
per signal, the device's timestamp at ``precision``). Answers map to
:class:`~htm_edge.collector.sinks.base.SinkError` as
:mod:`htm_edge.collector.sinks.http_errors` describes.

For InfluxDB 1.8, ``token`` is ``"username:password"`` and ``bucket`` is
``"database/retention_policy"``; InfluxDB 3.x and VictoriaMetrics ignore ``org``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, Literal, cast

import urllib3
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS, WriteApi
from influxdb_client.rest import ApiException
from pydantic import Field

from htm_edge.collector.context import IngestContext
from htm_edge.collector.line_protocol import Encoded, encode_points
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks.base import Sink
from htm_edge.collector.sinks.http_errors import error_for_status
from htm_edge.collector.sinks.influx_base import InfluxSinkConfigBase, check_sink_names
from htm_edge.config.base import PluginConfig, SecretRef
from htm_edge.config.errors import ConfigError

__all__ = ["InfluxDbV2Sink", "InfluxDbV2SinkConfig"]


class InfluxDbV2SinkConfig(InfluxSinkConfigBase):
    """Write readings through the InfluxDB v2 write API."""

    type: Literal["influxdb_v2"] = "influxdb_v2"
    org: str = Field(default="htm-edge", min_length=1)
    bucket: str = Field(default="htm_edge", min_length=1)
    token: SecretRef | None = None


class InfluxDbV2Sink(Sink):
    """Write batches to ``cfg.bucket`` of ``cfg.url``, synchronously, one worker thread."""

    type_name: ClassVar[str] = "influxdb_v2"
    config_model: ClassVar[type[PluginConfig]] = InfluxDbV2SinkConfig

    def __init__(self, cfg: InfluxDbV2SinkConfig, ctx: IngestContext) -> None:
        super().__init__(cfg, ctx)
        self.cfg: InfluxDbV2SinkConfig = cfg
        self.label = f"influxdb_v2 sink {self.name!r}"
        check_sink_names(ctx, cfg, "v2")
        self._client: InfluxDBClient | None = None
        self._write_api: WriteApi | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def open(self) -> None:
        """Build the client (no I/O: a server that is down now only delays writes)."""
        try:
            token = self.cfg.token.resolve() if self.cfg.token is not None else None
        except LookupError as exc:
            raise ConfigError(f"sinks[{self.name}].token: {exc}") from None
        self._client = InfluxDBClient(
            url=self.cfg.url,
            token=token or "",
            org=self.cfg.org,
            timeout=int(self.cfg.timeout_s * 1000),
            enable_gzip=self.cfg.gzip,
            verify_ssl=self.cfg.verify_tls,
        )
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sink-{self.name}")

    async def write(self, batch: Sequence[Reading]) -> None:
        """Write ``batch``; return once the server stored all of it, or raise."""
        pool = self._pool
        if pool is None:
            raise RuntimeError(f"{self.label}: write before open or after close")
        encoded = encode_points(
            batch,
            site=self.ctx.site,
            devices=self.ctx.devices,
            measurement=self.cfg.measurement,
            precision=self.cfg.precision,
        )
        self._inflight += 1
        self._idle.clear()
        try:
            if encoded.lines:
                await asyncio.get_running_loop().run_in_executor(pool, self._post, encoded)
        finally:
            self._inflight -= 1
            if not self._inflight:
                self._idle.set()
        self._reconcile(len(batch), encoded)

    def _post(self, encoded: Encoded) -> None:
        write_api = self._write_api
        if write_api is None:
            raise RuntimeError(f"{self.label}: closed during a write")
        try:
            write_api.write(
                bucket=self.cfg.bucket,
                org=self.cfg.org,
                record=encoded.lines,
                write_precision=cast(Any, self.cfg.precision),
            )
        except ApiException as exc:
            headers: Any = exc.headers or {}
            raise error_for_status(
                int(exc.status or 0),
                _text(exc.body) or str(exc.reason or ""),
                headers.get("Retry-After"),
                sink=self.label,
                credentials=f"the token of sink {self.name!r} (sinks[].token)",
                target=f"url, org and bucket of sink {self.name!r}",
            ) from None
        except (OSError, urllib3.exceptions.HTTPError) as exc:  # connection errors, timeouts
            raise ConnectionError(f"{self.label}: cannot write to {self.cfg.url}: {exc}") from exc

    def _reconcile(self, readings: int, encoded: Encoded) -> None:
        """Count the write; raise if the body did not account for every reading of the batch."""
        if (
            len(encoded.lines) != encoded.points
            or encoded.fields + encoded.omitted != encoded.readings
            or encoded.readings > readings
        ):
            raise RuntimeError(
                f"{self.label}: a batch of {readings} readings ({encoded.readings} distinct) "
                f"went out as {len(encoded.lines)} lines for {encoded.points} points with "
                f"{encoded.fields} fields and {encoded.omitted} omitted: encoder bug"
            )
        health = self.ctx.health
        health.inc(f"sink.{self.name}.points", encoded.points)
        if encoded.omitted:
            health.inc(f"sink.{self.name}.fields_omitted", encoded.omitted)

    async def close(self) -> None:
        """Wait for the write in flight, then release the client."""
        pool, self._pool = self._pool, None
        await self._idle.wait()
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True)
        client, self._client = self._client, None
        write_api, self._write_api = self._write_api, None
        if write_api is not None:
            write_api.close()  # type: ignore[no-untyped-call]
        if client is not None:
            client.close()  # type: ignore[no-untyped-call]


def _text(body: object) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return "" if body is None else str(body)
