"""Alerting: turns scores into deduplicated alerts and dispatches work orders.

Typical use by the daemon::

    engine = AlertEngine(cfg.alerting, {d.device_id: d for d in cfg.inventory.devices})
    notifiers = [build_notifier(n) for n in cfg.alerting.notifiers]
    for event in engine.process(score):
        order = engine.work_order(event)
        for notifier in notifiers:
            await notifier.send(event, order)
"""

from htm_edge.alerting.engine import AlertEngine
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.notifiers import NOTIFIERS, ConsoleNotifier, Notifier, build_notifier
from htm_edge.alerting.rules import RULES, Rule, build_rule
from htm_edge.alerting.types import Alert, AlertEvent, EventKind, WorkOrder
from htm_edge.alerting.workorder import build_work_order

__all__ = [
    "NOTIFIERS",
    "RULES",
    "Alert",
    "AlertEngine",
    "AlertEvent",
    "AlertingError",
    "ConsoleNotifier",
    "EventKind",
    "Notifier",
    "Rule",
    "WorkOrder",
    "build_notifier",
    "build_rule",
    "build_work_order",
]
