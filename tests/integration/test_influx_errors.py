"""How the InfluxDB sinks turn server answers into what the sink writer acts on.

The fake server scripts the answers real servers won't easily give; every
answer the real servers can be made to give has its twin here against
Debian's ``influxd`` (1.6) or ``victoria-metrics``, so the fake cannot drift
from them: 401, 403, 413, 503 (throttled, no ``Retry-After``), a missing
database, and the request shape of a successful write.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest

from htm_edge.collector.context import IngestContext
from htm_edge.collector.health import Health
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks import InfluxDbV1Sink, InfluxDbV2Sink, Sink, SinkError
from htm_edge.collector.sinks.http_errors import ServerError
from htm_edge.collector.sinks.influxdb_v1 import InfluxDbV1SinkConfig
from htm_edge.collector.sinks.influxdb_v2 import InfluxDbV2SinkConfig
from htm_edge.config.base import SecretRef
from htm_edge.gateway.sink_writer import SinkWriter
from tests.fakes.influx_http import Answer, FakeInflux
from tests.servers import Influxd, VictoriaMetrics, free_port

NOW = 1_767_225_600.0
KINDS = ["influxdb_v1", "influxdb_v2"]


def batch(n: int = 10) -> list[Reading]:
    return [Reading("MR-01", f"s{i % 2}", float(i), NOW + i // 2) for i in range(n)]


def make(kind: str, url: str, tmp: Path, **kw: object) -> Sink:
    ctx = IngestContext(data_dir=tmp, site="east")
    if kind == "influxdb_v1":
        return InfluxDbV1Sink(InfluxDbV1SinkConfig(url=url, **kw), ctx)  # type: ignore[arg-type]
    return InfluxDbV2Sink(InfluxDbV2SinkConfig(url=url, org="o", bucket="b", **kw), ctx)  # type: ignore[arg-type]


def write(sink: Sink, readings: list[Reading] | None = None) -> BaseException | None:
    async def go() -> BaseException | None:
        await sink.open()
        try:
            await sink.write(batch() if readings is None else readings)
        except Exception as exc:
            return exc
        finally:
            await sink.close()
        return None

    return asyncio.run(go())


@pytest.fixture
def fake() -> Iterator[FakeInflux]:
    with FakeInflux() as server:
        yield server


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> SecretRef:
    monkeypatch.setenv("HTM_TEST_INFLUX_SECRET", "s3cret")
    return SecretRef(env="HTM_TEST_INFLUX_SECRET")


def test_v1_request_shape(fake: FakeInflux, tmp_path: Path, secret: SecretRef) -> None:
    sink = make(
        "influxdb_v1",
        fake.url,
        tmp_path,
        username="htm",
        password=secret,
        database="db",
        retention_policy="rp",
    )
    assert write(sink) is None
    (req,) = fake.requests
    assert (req.path, req.query) == ("/write", {"db": "db", "rp": "rp", "precision": "ns"})
    assert req.headers["content-encoding"] == "gzip"
    assert req.headers["authorization"] == "Basic " + base64.b64encode(b"htm:s3cret").decode()
    assert len(req.body.splitlines()) == 5 and req.body.startswith(b"telemetry,device_id=MR-01")


def test_v2_request_shape(fake: FakeInflux, tmp_path: Path, secret: SecretRef) -> None:
    assert write(make("influxdb_v2", fake.url, tmp_path, token=secret, precision="ms")) is None
    (req,) = fake.requests
    assert req.path == "/api/v2/write"
    assert req.query == {"org": "o", "bucket": "b", "precision": "ms"}
    assert req.headers["content-encoding"] == "gzip"
    assert req.headers["authorization"] == "Token s3cret"
    assert req.body.splitlines()[0].endswith(b" 1767225600000")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_configuration_errors(
    kind: str, status: int, fake: FakeInflux, tmp_path: Path
) -> None:
    fake.answer(Answer(status, body=b'{"error":"authorization failed"}'))
    exc = write(make(kind, fake.url, tmp_path))
    assert isinstance(exc, SinkError) and exc.configuration
    key = "password" if kind == "influxdb_v1" else "token"
    assert key in str(exc) and f"HTTP {status}" in str(exc)


@pytest.mark.parametrize("kind", KINDS)
def test_413_asks_for_halves(kind: str, fake: FakeInflux, tmp_path: Path) -> None:
    fake.answer(Answer(413, body=b'{"error":"Request Entity Too Large"}'))
    exc = write(make(kind, fake.url, tmp_path))
    assert isinstance(exc, SinkError) and exc.too_large and not exc.configuration


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_or_as_a_date(
    kind: str, status: int, fake: FakeInflux, tmp_path: Path
) -> None:
    fake.answer(
        Answer(status, {"Retry-After": "17"}),
        Answer(status, {"Retry-After": formatdate(time.time() + 60, usegmt=True)}),
        Answer(status),
    )
    first = write(make(kind, fake.url, tmp_path))
    second = write(make(kind, fake.url, tmp_path))
    third = write(make(kind, fake.url, tmp_path))
    assert isinstance(first, SinkError) and first.retry_after_s == 17.0
    assert isinstance(second, SinkError) and second.retry_after_s is not None
    assert 55 <= second.retry_after_s <= 61
    assert isinstance(third, ServerError) and not isinstance(third, SinkError)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("status", "retried"), [(500, True), (502, True), (400, False)])
def test_other_answers(
    kind: str, status: int, retried: bool, fake: FakeInflux, tmp_path: Path
) -> None:
    fake.answer(Answer(status, body=b'{"error":"something"}'))
    exc = write(make(kind, fake.url, tmp_path))
    if retried:
        assert isinstance(exc, ServerError) and not isinstance(exc, SinkError)
    else:
        assert isinstance(exc, SinkError) and exc.configuration


@pytest.mark.parametrize("kind", KINDS)
def test_timeouts_and_refused_connections_are_plain_errors(
    kind: str, fake: FakeInflux, tmp_path: Path
) -> None:
    fake.answer(Answer(delay_s=1.5))
    slow = write(make(kind, fake.url, tmp_path, timeout_s=0.3))
    refused = write(make(kind, f"http://127.0.0.1:{free_port()}", tmp_path))
    for exc in (slow, refused):
        assert isinstance(exc, ConnectionError) and not isinstance(exc, SinkError), repr(exc)


# --- twins on the real servers ---------------------------------------------------------


@pytest.fixture
def influxd_auth(tmp_path: Path) -> Iterator[Influxd]:
    server = Influxd(tmp_path / "influxd", auth=True)
    server.start()
    server.query("CREATE DATABASE db")
    server.query("CREATE USER reader WITH PASSWORD 'reader-pw'")
    try:
        yield server
    finally:
        server.stop()


def test_real_influxd_401_403_and_missing_database(
    influxd_auth: Influxd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def sink(user: str, password: str, database: str = "db", create: bool = False) -> Sink:
        monkeypatch.setenv("HTM_TEST_PW", password)
        return make(
            "influxdb_v1",
            influxd_auth.url,
            tmp_path,
            username=user,
            password=SecretRef(env="HTM_TEST_PW"),
            database=database,
            create_database=create,
        )

    wrong = write(sink("admin", "wrong"))
    assert isinstance(wrong, SinkError) and wrong.configuration and "HTTP 401" in str(wrong)
    denied = write(sink("reader", "reader-pw"))
    assert isinstance(denied, SinkError) and denied.configuration and "HTTP 403" in str(denied)
    missing = write(sink("admin", "admin-pw", database="nope"))
    assert isinstance(missing, SinkError) and missing.configuration
    assert "create_database" in str(missing)
    assert write(sink("admin", "admin-pw", database="made", create=True)) is None
    assert len(influxd_auth.rows("made")) == 5
    cannot_create = write(sink("reader", "reader-pw", database="other", create=True))
    assert isinstance(cannot_create, SinkError) and cannot_create.configuration


def test_real_influxd_413_splits_through_the_writer(tmp_path: Path) -> None:
    server = Influxd(tmp_path / "influxd", http_settings={"max-body-size": 3000})
    server.start()
    try:
        server.query("CREATE DATABASE db")
        readings = [Reading(f"D-{i % 7}", "s", float(i), NOW + i) for i in range(400)]
        sink = make("influxdb_v1", server.url, tmp_path, database="db", gzip=False)
        exc = write(sink, readings)
        assert isinstance(exc, SinkError) and exc.too_large, repr(exc)
        health = Health()
        writer = SinkWriter(sink, health)

        async def go() -> int:
            await sink.open()
            try:
                return await writer.write(readings)
            finally:
                await sink.close()

        assert asyncio.run(go()) == 400
        assert len(server.rows("db")) == 400 and health.get(f"sink.{sink.name}.splits") >= 1
    finally:
        server.stop()


def test_real_influxd_503_when_throttled_is_retried(tmp_path: Path) -> None:
    settings = {
        "max-concurrent-write-limit": 1,
        "max-enqueued-write-limit": 1,
        "enqueued-write-timeout": "1ms",
    }
    server = Influxd(tmp_path / "influxd", http_settings=settings)
    server.start()
    try:
        server.query("CREATE DATABASE db")
        sinks = [make("influxdb_v1", server.url, tmp_path, database="db") for _ in range(12)]
        readings = [Reading(f"D-{i % 50}", "s", float(i), NOW + i) for i in range(5000)]

        async def go() -> list[BaseException | None]:
            for s in sinks:
                await s.open()
            try:
                return await asyncio.gather(
                    *(s.write(readings) for s in sinks), return_exceptions=True
                )
            finally:
                for s in sinks:
                    await s.close()

        results = asyncio.run(go())
        busy = [r for r in results if r is not None]
        assert busy, "the throttle never answered 503"
        for exc in busy:
            assert isinstance(exc, ServerError) and exc.status == 503, repr(exc)
    finally:
        server.stop()


def test_real_victoria_metrics_401(tmp_path: Path, secret: SecretRef) -> None:
    server = VictoriaMetrics(tmp_path / "vm", auth=("user", "pw"))
    server.start()
    try:
        exc = write(make("influxdb_v2", server.url, tmp_path, token=secret))
        assert isinstance(exc, SinkError) and exc.configuration and "HTTP 401" in str(exc)
    finally:
        server.stop()
