"""Shared builders for the alerting tests (plain functions, imported by the test modules)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from htm_edge.alerting.config import AlertingConfig, EngineerConfig
from htm_edge.alerting.engine import AlertEngine
from htm_edge.alerting.lifecycle import AlertLifecycle
from htm_edge.alerting.notification import Notification
from htm_edge.alerting.roster_config import GroupingConfig
from htm_edge.alerting.rules import RULES
from htm_edge.alerting.rules.anomaly import AnomalyRuleConfig
from htm_edge.alerting.rules.threshold import ThresholdRuleConfig
from htm_edge.alerting.store import AlertStore
from htm_edge.alerting.types import AlertEvent, EventKind
from htm_edge.config.inventory import Device, Modality
from htm_edge.models.types import Score

MRI = Device(
    device_id="mr-1",
    modality=Modality.MRI,
    asset_tag="A-1001",
    site="north",
    location="Building B, floor -1, MR room 2",
    department="Radiology",
    manufacturer="Siemens",
    model="Magnetom Aera",
    serial="SN-4711",
    em_number=14,
    service_owner="oem",
)
VENT = Device(
    device_id="vent-7",
    modality=Modality.VENTILATOR,
    asset_tag="A-2002",
    site="south",
    location="ICU bed 4",
    department="Intensive care",
    manufacturer="Draeger",
    model="Evita V500",
    serial="SN-0815",
    em_number=20,
)
PUMP = Device(device_id="pump-3", modality=Modality.INFUSION_PUMP, site="north", em_number=17)
INVENTORY = {d.device_id: d for d in (MRI, VENT, PUMP)}

STEP = 60.0


def anomaly_rule(**kw: object) -> AnomalyRuleConfig:
    """An anomaly rule with small, test-friendly defaults (override with ``kw``)."""
    params: dict[str, object] = {
        "enter_score": 0.95,
        "exit_score": 0.5,
        "enter_count": 3,
        "enter_window": 5,
        "exit_count": 4,
        "min_open_s": 600.0,
        "repeat_interval_s": 3600.0,
    }
    params.update(kw)
    return AnomalyRuleConfig.model_validate(params)


def threshold_rule(**kw: object) -> ThresholdRuleConfig:
    """A threshold rule (give ``signal`` and ``above`` or ``below``)."""
    params: dict[str, object] = {"name": "limit", "exit_count": 2}
    params.update(kw)
    return ThresholdRuleConfig.model_validate(params)


def engine(
    rules: Sequence[AnomalyRuleConfig | ThresholdRuleConfig] | None = None,
    engineers: Sequence[EngineerConfig] = (),
    resolve_hold_s: float = 0.0,
    return_fraction: float = 0.5,
) -> AlertEngine:
    """An engine over :data:`INVENTORY`; resolve hold off unless asked for."""
    cfg = AlertingConfig(
        rules=list(rules) if rules is not None else [anomaly_rule()],
        engineers=list(engineers),
    )
    return AlertEngine(
        [RULES.build(r, None) for r in cfg.rules],
        cfg.engineers,
        INVENTORY,
        resolve_hold_s=resolve_hold_s,
        return_fraction=return_fraction,
    )


def scores(
    device_id: str,
    signal: str,
    anomalies: Iterable[float],
    *,
    start: float = 0.0,
    value: float = 1.0,
    step: float = STEP,
) -> list[Score]:
    """One score per anomaly value, ``step`` seconds apart."""
    return [Score(device_id, signal, start + i * step, a, value) for i, a in enumerate(anomalies)]


def run(eng: AlertEngine, items: Iterable[Score]) -> list[AlertEvent]:
    """Feed every score; return all events in order."""
    out: list[AlertEvent] = []
    for s in items:
        out.extend(eng.process(s))
    return out


def kinds(events: Iterable[AlertEvent]) -> list[EventKind]:
    """The kinds of ``events``, in order."""
    return [e.kind for e in events]


def lifecycle(
    cfg: AlertingConfig | None = None,
    path: str = ":memory:",
    channels: Sequence[str] = ("console",),
) -> AlertLifecycle:
    """A lifecycle over :data:`INVENTORY` on a store (in memory unless ``path``)."""

    def lookup(device_id: str) -> Device:
        found = INVENTORY.get(device_id)
        return found or Device.model_construct(device_id=device_id, modality=Modality.OTHER)

    cfg = cfg or AlertingConfig(grouping=GroupingConfig(group_wait_s=0))
    return AlertLifecycle(AlertStore(path), cfg, lookup, list(channels))


def outbox(life: AlertLifecycle, state: str | None = None) -> list[Notification]:
    """The notifications in the outbox (one per key), oldest first."""
    rows = life.store.query(
        "SELECT payload FROM outbox WHERE (? IS NULL OR state = ?) GROUP BY key ORDER BY MIN(id)",
        (state, state),
    )
    return [Notification.from_json(r["payload"]) for r in rows]


def notification() -> Notification:
    """A firing notification of a ventilator work order (through the real lifecycle)."""
    eng = engine()
    life = lifecycle()
    for s in scores("vent-7", "o2_cell_mv", [0.999] * 3, value=30.0):
        for event in eng.process(s):
            life.ingest(event, eng.work_order(event), s.ts)
    (note,) = outbox(life)
    return note
