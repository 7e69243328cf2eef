"""The ``prediction`` rule: predictions open, escalate (by time left) and clear alerts.

And the work order carries the time to failure, its interval, the probability
and the supporting trends, in the document that follows the schema and in the
console text.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from htm_edge.alerting.config import AlertingConfig
from htm_edge.alerting.engine import AlertEngine
from htm_edge.alerting.notification import render_text
from htm_edge.alerting.rules import RULES
from htm_edge.alerting.rules.prediction import PREDICTION_SIGNAL, PredictionRuleConfig
from htm_edge.alerting.types import AlertEvent, EventKind
from htm_edge.gateway.prognostics_fleet import PredictionAlerts
from htm_edge.models.types import Indicator, Prediction, Score
from tests.unit.alerting.alerting_fixtures import INVENTORY, anomaly_rule, lifecycle

H = 3600.0
MODE = "MR.COLDHEAD.DEGRADATION"
SCHEMA = json.loads(
    (Path(__file__).parents[3] / "docs" / "work-order.schema.json").read_text(encoding="utf-8")
)


def trend() -> Indicator:
    return Indicator(
        "coldhead_2nd_stage_k", "level", "up", "K", 4.6, 4.1, 0.5, 0.02, 0.12, 0.9, 3.3 * 86400,
        2.5 * 86400, 5.0 * 86400,
    )  # fmt: skip


def pred(hour: float, p: float, ttf_h: float, mode: str = MODE, dev: str = "mr-1") -> Prediction:
    ttf = ttf_h * H
    return Prediction(dev, mode, hour * H, p, 168 * H, ttf, 0.8 * ttf, 1.3 * ttf, (trend(),), "t")


def prediction_engine(*extra: object, hold_s: float = 0.0, **kw: object) -> AlertEngine:
    cfg = PredictionRuleConfig.model_validate({"name": "predict", **kw})
    rules = [RULES.build(r, None) for r in (*extra, cfg)]  # type: ignore[arg-type]
    return AlertEngine(rules, [], INVENTORY, resolve_hold_s=hold_s)


def feed(eng: AlertEngine, preds: list[Prediction]) -> list[AlertEvent]:
    return [e for p in preds for e in eng.process_prediction(p)]


def test_opens_after_two_likely_evaluations_with_the_predicted_failure_as_evidence() -> None:
    eng = prediction_engine()
    assert feed(eng, [pred(0, 0.9, 100), pred(1, 0.2, 99), pred(2, 0.9, 98)]) == []
    (opened,) = feed(eng, [pred(3, 0.95, 97)])
    assert opened.kind is EventKind.OPENED and opened.alert.key == f"mr-1:{MODE}"
    assert opened.alert.severity == "high"
    assert [e.signal for e in opened.alert.evidence] == [PREDICTION_SIGNAL]


def test_escalates_once_when_time_left_crosses_the_critical_limit_not_by_repeating() -> None:
    eng = prediction_engine()
    seq = [pred(h, 0.95, 60 - h) for h in range(60)]  # time left shrinks an hour per hour
    events = feed(eng, seq)
    assert [e.kind for e in events] == [EventKind.OPENED, EventKind.ESCALATED]
    escalated = events[1]
    assert escalated.alert.severity == "critical" and "critical" in escalated.reason
    assert escalated.ts == 37 * H  # the first evaluation with less than 24 h left


def test_clears_after_a_day_of_unlikely_evaluations() -> None:
    eng = prediction_engine()
    events = feed(eng, [pred(h, 0.9, 100) for h in range(3)])
    events += feed(eng, [pred(3 + h, 0.3, math.inf) for h in range(23)])  # within p / 2
    assert [e.kind for e in events] == [EventKind.OPENED]
    events = feed(eng, [pred(26 + h, 0.1, math.inf) for h in range(24)])
    assert [e.kind for e in events] == [EventKind.RESOLVED]


def test_a_time_left_limit_needs_the_failure_soon_as_well_as_likely() -> None:
    eng = prediction_engine(time_to_failure_below_h=48)
    assert feed(eng, [pred(0, 0.9, 100), pred(1, 0.9, 99)]) == []  # likely, not soon
    assert feed(eng, [pred(2, 0.3, 40), pred(3, 0.3, 39)]) == []  # soon, not likely
    (opened,) = feed(eng, [pred(4, 0.9, 40), pred(5, 0.9, 39)])
    assert opened.kind is EventKind.OPENED
    # it clears once twice the limit is left for a day (the course slowed down)
    events = feed(eng, [pred(6 + h, 0.9, 96) for h in range(24)])
    assert [e.kind for e in events] == [EventKind.RESOLVED]


def test_a_prediction_joins_the_anomaly_alert_of_the_same_failure_mode() -> None:
    eng = prediction_engine(anomaly_rule(name="anomaly", failure_mode=MODE, enter_count=1))
    (opened,) = eng.process(Score("mr-1", "coldhead_2nd_stage_k", 0.0, 0.999, 4.6))
    events = feed(eng, [pred(1, 0.9, 80), pred(2, 0.9, 79)])
    assert opened.kind is EventKind.OPENED
    # it joins the open alert: one escalation (a new signal, a higher severity), no new alert
    (escalated,) = events
    assert escalated.kind is EventKind.ESCALATED and escalated.alert.opened_at == 0.0
    assert f"signal {PREDICTION_SIGNAL} joined" in escalated.reason
    alert = eng.get_alert(f"mr-1:{MODE}")
    assert alert is not None
    assert {e.signal for e in alert.evidence} == {"coldhead_2nd_stage_k", PREDICTION_SIGNAL}
    order = eng.work_order(escalated)
    assert order.failure_probability == pytest.approx(0.9)
    assert order.time_to_failure_s == pytest.approx(79 * H)


def test_a_rule_with_a_failure_mode_sends_only_that_mode() -> None:
    eng = prediction_engine(failure_mode="MR.CHILLER.DEGRADATION")
    assert feed(eng, [pred(0, 0.9, 30), pred(1, 0.9, 30)]) == []  # the cold head: not this rule
    chiller = [pred(h, 0.9, 30, mode="MR.CHILLER.DEGRADATION") for h in (2, 3)]
    (opened,) = feed(eng, chiller)
    assert opened.alert.failure_mode == "MR.CHILLER.DEGRADATION"


def test_no_prediction_reaches_the_rules_during_maintenance() -> None:
    eng = prediction_engine()
    eng.set_maintenance("mr-1", until_ts=10 * H)
    assert feed(eng, [pred(h, 0.99, 10) for h in range(5)]) == []
    assert [e.kind for e in feed(eng, [pred(10, 0.99, 9), pred(11, 0.99, 8)])] == [EventKind.OPENED]


def test_work_order_time_left_counts_from_the_event_and_shows_the_trend() -> None:
    eng = prediction_engine()
    events = feed(eng, [pred(0, 0.9, 30), pred(1, 0.9, 30)])
    order = eng.work_order(events[0])
    # the prediction was made at hour 1, the event is at hour 1: nothing has elapsed
    assert order.time_to_failure_s == pytest.approx(30 * H)
    assert order.time_to_failure_lower_s == pytest.approx(24 * H)
    assert order.time_to_failure_upper_s == pytest.approx(39 * H)
    assert order.prediction_horizon_s == 168 * H
    (line,) = order.prediction_trends
    assert "coldhead_2nd_stage_k" in line and "+0.12 K/day" in line and "3.3 d" in line
    later = AlertEvent(EventKind.ESCALATED, events[0].alert, 11 * H, "test")
    assert eng.work_order(later).time_to_failure_s == pytest.approx(20 * H)


def test_the_document_follows_the_schema_and_the_console_shows_time_left() -> None:
    life = lifecycle(AlertingConfig.model_validate({"grouping": {"group_wait_s": 0}}))
    eng = prediction_engine()
    for p in [pred(0, 0.9, 30), pred(1, 0.9, 30), pred(2, 0.9, math.inf)]:
        for event in eng.process_prediction(p):
            life.ingest(event, eng.work_order(event), p.ts)
    row = life.store.one("SELECT document FROM work_orders")
    assert row is not None
    doc = json.loads(row["document"])
    jsonschema.validate(doc, SCHEMA)
    ttf = doc["time_to_failure"]
    assert ttf["estimate_s"] == pytest.approx(30 * H) and ttf["probability"] == 0.9
    assert ttf["trends"] and ttf["source"] == "t"
    text = render_text("firing", doc, "test")
    assert "Failure in : 30.0 h (80 %: 24.0 h to 39.0 h), P(failure within 168 h) 0.90" in text
    assert "  - trend: coldhead_2nd_stage_k" in text


def test_a_prediction_rule_needs_prediction_on(tmp_path: Path) -> None:
    from htm_edge.gateway.settings import parse_config

    with pytest.raises(Exception, match=r"alerting.rules\[0\].*models.prognostics.enabled = true"):
        parse_config('[alerting]\nrules = [{ type = "prediction" }]\n')
    cfg = parse_config(
        '[models.prognostics]\nenabled = true\n[alerting]\nrules = [{ type = "prediction" }]\n'
    )
    assert cfg.alerting.rules[0].type == "prediction"


def test_it_opens_where_the_reference_rule_of_the_evaluation_opens() -> None:
    """Twin of ``htm-edge evaluate``'s reference rule: same predictions, same opening times."""
    rng = np.random.default_rng(7)
    devices = [f"mr-{i}" for i in range(1, 4)]
    inventory = {d: INVENTORY["mr-1"].model_copy(update={"device_id": d}) for d in devices}
    hours = 1500
    preds: list[list[Prediction]] = [[] for _ in range(hours)]
    for dev in devices:  # episodes: healthy (p < 0.2) and degrading (p from 0.3 to 1)
        degrading = False
        for h in range(hours):
            degrading = degrading != (rng.random() < 0.03)
            p = rng.uniform(0.3, 1.0) if degrading else rng.uniform(0.0, 0.2)
            preds[h].append(pred(h, p, 50.0, dev=dev))
    reference = PredictionAlerts(0.5)
    for batch in preds:
        reference(batch)
    rule = PredictionRuleConfig(name="predict", probability=0.5, critical_below_h=0)
    eng = AlertEngine([RULES.build(rule, None)], [], inventory, resolve_hold_s=0.0)
    opened = [e for b in preds for e in feed(eng, b) if e.kind is EventKind.OPENED]
    ours = sorted((e.alert.device_id, e.ts) for e in opened)
    theirs = sorted((a.device_id, a.opened_at) for a in reference.opened)
    assert len(theirs) > 10
    assert ours == theirs
