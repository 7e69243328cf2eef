"""The composition root: every component is built here from the validated config.

Nothing else constructs sources, protocols, sinks, the scorer, rules, the
alert engine or notifiers; each role's registry builds its implementations
with the same ``from_config(cfg, ctx)`` call. The daemon, the demo and the
offline fleet evaluation all get their parts from these functions, so what is
evaluated is what runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from htm_edge.alerting.context import AlertingContext, Publish
from htm_edge.alerting.engine import AlertEngine
from htm_edge.alerting.notifiers import NOTIFIERS, Notifier
from htm_edge.alerting.rules import RULES
from htm_edge.collector.context import IngestContext
from htm_edge.collector.health import Health
from htm_edge.collector.protocols import PROTOCOLS, Protocol, ProtocolConfig
from htm_edge.collector.sinks import SINKS, Sink
from htm_edge.collector.sources import SOURCES, Source
from htm_edge.config.errors import ConfigError
from htm_edge.config.inventory import Device, Modality
from htm_edge.gateway.dispatcher import Dispatcher
from htm_edge.gateway.mqtt_link import MqttLink
from htm_edge.gateway.pipeline import ScoringPipeline
from htm_edge.gateway.settings import HtmConfig
from htm_edge.models.errors import ModelError
from htm_edge.models.prognostics import FleetModel, Prognostics, PrognosticsConfig
from htm_edge.models.scorer import StreamScorer

__all__ = [
    "Components",
    "DeviceDirectory",
    "build_components",
    "build_dispatcher",
    "build_pipeline",
    "build_prognostics",
    "build_protocol",
    "ingest_context",
]

log = logging.getLogger(__name__)


class DeviceDirectory:
    """Inventory lookup that never fails: unknown devices are modality ``other``, logged once.

    Ids reaching it were validated by a protocol; the fallback entry is built
    without validation, so a lookup can never raise.
    """

    def __init__(self, devices: list[Device]) -> None:
        self._known = {d.device_id: d for d in devices}
        self._unknown: dict[str, Device] = {}

    def __call__(self, device_id: str) -> Device:
        """The inventory entry of ``device_id``, or a minimal one."""
        device = self._known.get(device_id) or self._unknown.get(device_id)
        if device is None:
            if len(self._unknown) < 10_000:
                log.warning("event=unknown_device device_id=%r hint=add it to inventory", device_id)
            device = Device.model_construct(device_id=device_id, modality=Modality.OTHER)
            self._unknown[device_id] = device
        return device


@dataclass
class Components:
    """Everything the daemon runs, built from one config."""

    sources: list[Source]
    #: the protocol of each source, by source name
    protocols: dict[str, Protocol]
    sinks: list[Sink]
    pipeline: ScoringPipeline
    notifiers: list[Notifier]
    #: the notify stage: work-order lifecycle, outbox, delivery
    dispatcher: Dispatcher
    #: the alerting MQTT session (mqtt notifier, command topic), when configured
    mqtt_link: MqttLink | None = None


def ingest_context(cfg: HtmConfig, health: Health) -> IngestContext:
    """The collector plugins' context; resolves the broker password once.

    Raises
    ------
    ConfigError
        When the password's variable or file is not there (the loader checks
        too; this covers a file removed since).
    """
    password = None
    if cfg.broker.password is not None:
        try:
            password = cfg.broker.password.resolve()
        except LookupError as exc:
            raise ConfigError(f"broker.password: {exc}") from None
    return IngestContext(
        data_dir=cfg.gateway.data_dir,
        health=health,
        broker=cfg.broker,
        broker_password=password,
        timestamps=cfg.gateway.timestamp_policy(),
        site=cfg.gateway.site,
        devices={d.device_id: d for d in cfg.inventory.devices},
    )


def build_protocol(
    section: ProtocolConfig, health: Health, cfg: HtmConfig | None = None
) -> Protocol:
    """One protocol for its section, outside a daemon (``htm-edge decode``)."""
    return PROTOCOLS.build(section, ingest_context(cfg or HtmConfig(), health))


def build_pipeline(
    cfg: HtmConfig,
    scorer: StreamScorer | None = None,
    prognostics_state: dict[str, Any] | None = None,
) -> ScoringPipeline:
    """Scorer, rules, alert engine and (when on) failure prediction for ``cfg``.

    ``scorer`` and ``prognostics_state`` resume restored model state (a scorer of
    another detector, parameters or seed than ``cfg.models``, and a prognostics state
    that no longer fits the inventory or version, are logged and start cold). A
    prediction rule without its own
    ``probability`` takes the model file's alert level.

    Raises
    ------
    ConfigError
        When ``models.prognostics.model_file`` cannot be used.
    """
    m = cfg.models
    if scorer is not None and not scorer.built_as(m.detector, m.params, m.seed):
        log.warning(
            "event=model_state_stale saved=%s configured=%s action=start_cold "
            "hint=the [models] section or the default detector changed since it was saved",
            scorer.detector_name,
            m.detector,
        )
        scorer = None
    if scorer is None:
        scorer = StreamScorer(m.detector, m.params, m.seed)
    rules = [RULES.build(r, None) for r in cfg.alerting.rules]
    devices = DeviceDirectory(cfg.inventory.devices)
    engine = AlertEngine(
        rules, cfg.alerting.engineers, devices, resolve_hold_s=cfg.alerting.resolve_hold_s
    )
    prognostics = None
    pcfg = cfg.models.prognostics
    if pcfg.enabled:
        try:
            prognostics = build_prognostics(pcfg, devices)
        except (ModelError, OSError) as exc:
            raise ConfigError(
                f"models.prognostics.model_file = {str(pcfg.model_file)!r}: {exc}; "
                "retrain it with htm-edge train, or remove the key for trend-only predictions"
            ) from exc
        if prognostics_state is not None:
            try:
                prognostics = Prognostics.restore(
                    prognostics_state, pcfg, devices, prognostics.model
                )
            except (ModelError, KeyError, TypeError, ValueError) as exc:
                log.warning("event=prognostics_state_unusable error=%r action=start_cold", str(exc))
        level = None if prognostics.model is None else prognostics.model.alert_probability
        for rule in engine.prediction_rules:
            rule.use_model_level(level)
    return ScoringPipeline(scorer, engine, prognostics)


def build_prognostics(
    config: PrognosticsConfig,
    devices: Callable[[str], Device],
    model: FleetModel | None = None,
) -> Prognostics:
    """Failure prediction for ``config``; ``model`` (else ``config.model_file``, else none).

    Raises
    ------
    ModelError
        When the model file cannot be used (another version or feature set).
    """
    if model is None and config.model_file is not None:
        model = FleetModel.load(config.model_file)
    return Prognostics(config, devices, model)


def build_components(
    cfg: HtmConfig,
    health: Health,
    *,
    scorer: StreamScorer | None = None,
    prognostics_state: dict[str, Any] | None = None,
    notifiers: list[Notifier] | None = None,
    console: TextIO | None = None,
    publish: Publish | None = None,
) -> Components:
    """Build every component of the daemon for ``cfg``.

    ``notifiers`` replaces the configured ones (tests capture work orders that
    way); ``console`` redirects the console notifier; ``publish`` is the MQTT
    publisher the ``mqtt`` notifier sends through.
    """
    ctx = ingest_context(cfg, health)
    link = None
    if cfg.alerting.commands.enabled or any(n.type == "mqtt" for n in cfg.alerting.notifiers):
        link = MqttLink(cfg.broker, ctx.broker_password, cfg.alerting, cfg.gateway.site, health)
        publish = publish or link.publish
    alerting_ctx = AlertingContext(console=console, publish=publish, site=cfg.gateway.site)
    sources = [SOURCES.build(s, ctx) for s in cfg.sources]
    protocols = {s.name: PROTOCOLS.build(s.protocol, ctx) for s in cfg.sources}
    for source in sources:  # byte streams need the deframer; patient data is redacted at the source
        source.attach(protocols[source.name])
    pipeline = build_pipeline(cfg, scorer, prognostics_state)
    built = (
        list(notifiers)
        if notifiers is not None
        else [NOTIFIERS.build(n, alerting_ctx) for n in cfg.alerting.notifiers]
    )
    dispatcher = build_dispatcher(cfg, health, built, pipeline)
    if link is not None:
        link.lifecycle = lambda: dispatcher.lifecycle
    return Components(
        sources=sources,
        protocols=protocols,
        sinks=[SINKS.build(s, ctx) for s in cfg.sinks],
        pipeline=pipeline,
        notifiers=built,
        dispatcher=dispatcher,
        mqtt_link=link,
    )


def build_dispatcher(
    cfg: HtmConfig, health: Health, notifiers: list[Notifier], pipeline: ScoringPipeline
) -> Dispatcher:
    """The notify stage for ``cfg``: lifecycle on the store, outbox, the given notifiers."""
    return Dispatcher(
        cfg.alerting,
        notifiers,
        health,
        DeviceDirectory(cfg.inventory.devices),
        rules=pipeline.engine.rules,
        data_clock=lambda: pipeline.latest_ts,
    )
