"""The one MQTT client module: broker settings, connection, and reconnection with backoff.

The MQTT source and the simulator publisher both connect through here, so
connection settings, backoff and aiomqtt's quirks live in one place:

* a *fresh* ``aiomqtt.Client`` per connection attempt (clients are reusable
  but not reentrant, aiomqtt #288/#269);
* connection attempts retried by tenacity with full-jitter exponential backoff
  between ``reconnect_min_s`` and ``reconnect_max_s``; the backoff starts
  again from the minimum after every session that connected;
* a lost session's unretrieved disconnect error is marked as retrieved, so
  asyncio does not log "Future exception was never retrieved" later;
* TLS with certificate verification on by default (CA file, optional client
  certificate and key), and an optional last will.

Secrets are resolved by the caller once at start-up (a missing one is a
configuration error then, never a traceback inside the reconnect loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiomqtt
from pydantic import Field, model_validator
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_never,
    wait_random_exponential,
)

from htm_edge.collector.errors import CollectorError
from htm_edge.config.base import SecretRef, StrictModel

__all__ = ["BrokerConfig", "MqttSessions", "TlsConfig", "ack", "make_client"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class TlsConfig(StrictModel):
    """TLS to the broker. Verification is on unless explicitly turned off.

    ``ca_file`` is the CA bundle that signed the broker's certificate (the
    system's trust store when omitted); ``cert_file``/``key_file`` a client
    certificate for brokers that require one. The broker's certificate must
    name the host the gateway connects to.
    """

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    verify: bool = True

    @model_validator(mode="after")
    def _pair(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("give both cert_file and key_file, or neither")
        return self

    def context(self) -> ssl.SSLContext:
        """An SSL context for these settings (files are read now)."""
        ctx = ssl.create_default_context(
            cafile=str(self.ca_file) if self.ca_file is not None else None
        )
        if self.cert_file is not None and self.key_file is not None:
            ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        if not self.verify:
            log.warning("event=tls_verification_off hint=only for tests; set tls.verify = true")
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


class BrokerConfig(StrictModel):
    """The MQTT broker the gateway talks to (or runs itself when ``embedded``)."""

    embedded: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=0, le=65535)
    username: str | None = None
    password: SecretRef | None = None
    client_id: str = Field(default="htm-edge-gateway", min_length=1, max_length=64)
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    reconnect_min_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)
    tls: TlsConfig | None = None

    @model_validator(mode="after")
    def _backoff_order(self) -> BrokerConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        return self


def make_client(
    cfg: BrokerConfig,
    *,
    client_id: str | None,
    password: str | None,
    clean_session: bool | None = None,
    timeout_s: float | None = 10.0,
    manual_ack: bool = False,
    will: aiomqtt.Will | None = None,
) -> aiomqtt.Client:
    """A new, unconnected client for ``cfg`` (connect with ``async with``).

    With ``manual_ack`` the client does not acknowledge QoS 1/2 messages by
    itself: the caller acknowledges each with :func:`ack` once it is safe.
    """
    tls = cfg.tls
    client = aiomqtt.Client(
        cfg.host,
        cfg.port,
        username=cfg.username,
        password=password,
        identifier=client_id,
        clean_session=clean_session,
        keepalive=cfg.keepalive_s,
        timeout=timeout_s,
        will=will,
        tls_context=tls.context() if tls is not None else None,
        tls_insecure=(not tls.verify) if tls is not None else None,
    )
    if manual_ack:
        # aiomqtt has no public switch yet (aiomqtt #345); its paho client has one
        _paho(client).manual_ack_set(True)
    return client


def _paho(client: aiomqtt.Client) -> Any:
    """The paho client inside an aiomqtt client (the one place we reach into it)."""
    return client._client


def ack(client: aiomqtt.Client, message: aiomqtt.Message) -> bool:
    """Acknowledge ``message`` (PUBACK for QoS 1) on the client that received it.

    Returns False when it could not be sent (the connection is gone): the
    broker then redelivers the message in the next session.
    """
    if message.qos == 0:
        return True
    result = _paho(client).ack(message.mid, message.qos)
    return bool(result == 0)


def _retrieve_disconnect_error(client: aiomqtt.Client) -> None:
    """Mark a dead client's unexpected-disconnection error as retrieved.

    aiomqtt 2.x keeps it in a future that ``__aexit__`` skips once the link is
    down. Best effort: does nothing if aiomqtt's internals change.
    """
    fut = getattr(client, "_disconnected", None)
    if isinstance(fut, asyncio.Future) and fut.done() and not fut.cancelled():
        fut.exception()


class MqttSessions:
    """Run sessions against one broker, reconnecting with backoff when they are lost.

    Parameters
    ----------
    cfg:
        Broker settings.
    client_id, password, clean_session:
        What every client of these sessions connects with.
    max_attempts:
        Consecutive failed connection attempts before giving up with
        :class:`CollectorError`; None retries forever (a daemon's source).
    label:
        Names these sessions in log lines (``source=telemetry``).
    """

    def __init__(
        self,
        cfg: BrokerConfig,
        *,
        client_id: str | None,
        password: str | None,
        clean_session: bool | None = None,
        max_attempts: int | None = None,
        label: str = "mqtt",
        manual_ack: bool = False,
        will: aiomqtt.Will | None = None,
    ) -> None:
        self.cfg = cfg
        self.manual_ack = manual_ack
        self.will = will
        self.client_id = client_id
        self.password = password
        self.clean_session = clean_session
        self.max_attempts = max_attempts
        self.label = label
        #: connections made, sessions lost, and failures of either (for health counters)
        self.connects = 0
        self.disconnects = 0
        self.failures = 0
        #: True while a session runs on a connected client
        self.connected = False

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning(
            "event=mqtt_connect_failed %s broker=%s:%d attempt=%d error=%r retry_in_s=%.2f",
            self.label,
            self.cfg.host,
            self.cfg.port,
            state.attempt_number,
            str(exc),
            wait,
        )

    async def _connect(self) -> aiomqtt.Client:
        stop = stop_never if self.max_attempts is None else stop_after_attempt(self.max_attempts)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(aiomqtt.MqttError),
            wait=wait_random_exponential(
                multiplier=self.cfg.reconnect_min_s, max=self.cfg.reconnect_max_s
            ),
            stop=stop,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    client = make_client(
                        self.cfg,
                        client_id=self.client_id,
                        password=self.password,
                        clean_session=self.clean_session,
                        manual_ack=self.manual_ack,
                        will=self.will,
                    )
                    try:
                        await client.__aenter__()
                    except aiomqtt.MqttError:
                        self.failures += 1
                        _retrieve_disconnect_error(client)
                        raise
                    self.connects += 1
                    return client
        except aiomqtt.MqttError as exc:
            raise CollectorError(
                f"cannot connect to MQTT broker {self.cfg.host}:{self.cfg.port} "
                f"after {self.max_attempts} attempts: {exc}"
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def run(self, session: Callable[[aiomqtt.Client], Awaitable[T]]) -> T:
        """Connect, run ``session(client)``; when it loses the broker, reconnect and run it again.

        Returns what ``session`` returns once it ends normally. Cancellation
        disconnects and propagates.
        """
        while True:
            client = await self._connect()
            self.connected = True
            try:
                result = await session(client)
            except aiomqtt.MqttError as exc:
                self.connected = False
                self.disconnects += 1
                self.failures += 1
                _retrieve_disconnect_error(client)
                with contextlib.suppress(aiomqtt.MqttError):
                    await client.__aexit__(None, None, None)
                wait = random.uniform(0, self.cfg.reconnect_min_s)
                log.warning(
                    "event=mqtt_disconnected %s error=%r retry_in_s=%.2f",
                    self.label,
                    str(exc),
                    wait,
                )
                await asyncio.sleep(wait)
                continue
            except BaseException:
                self.connected = False
                with contextlib.suppress(aiomqtt.MqttError):
                    await client.__aexit__(None, None, None)
                raise
            self.connected = False
            with contextlib.suppress(aiomqtt.MqttError):
                await client.__aexit__(None, None, None)
            return result
