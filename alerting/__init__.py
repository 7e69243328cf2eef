"""Alerting: turns scores into deduplicated alerts and dispatches work orders.

Typical use (the application's composition root builds the parts)::

    rules = [RULES.build(r, ctx) for r in cfg.alerting.rules]
    engine = AlertEngine(rules, cfg.alerting.engineers, inventory_lookup)
    notifiers = [NOTIFIERS.build(n, ctx) for n in cfg.alerting.notifiers]
    for event in engine.process(score):
        order = engine.work_order(event)
        for notifier in notifiers:
            await notifier.send(event, order)
"""

from htm_edge.alerting.engine import AlertEngine
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.notifiers import NOTIFIERS, ConsoleNotifier, Notifier
from htm_edge.alerting.rules import RULES, Rule
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
    "build_work_order",
]
