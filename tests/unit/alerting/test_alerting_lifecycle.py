"""Lifecycle edges: grouping, storms, silences (expiry), inhibition, escalation timing with an
injected clock, restarts in every state, outcomes and their statistics, rate limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from htm_edge.alerting.actions import acknowledge, resolve, silence
from htm_edge.alerting.config import AlertingConfig
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.lifecycle import AlertLifecycle
from htm_edge.alerting.outcomes import adaptation_levels, outcome_stats
from htm_edge.alerting.roster_config import AdaptationConfig, GroupingConfig
from htm_edge.alerting.types import EventKind
from htm_edge.models.types import Score
from tests.unit.alerting.alerting_fixtures import (
    INVENTORY,
    anomaly_rule,
    engine,
    kinds,
    lifecycle,
    outbox,
    run,
    scores,
    threshold_rule,
)

ROSTER = {
    "engineers": [
        {"name": "Ana", "modalities": ["ventilator"], "email": "ana@x.example"},
        {"name": "Ben", "modalities": ["ventilator"]},
        {"name": "Mia", "role": "manager"},
    ],
    "escalation": [{"name": "urgent", "priorities": ["P1", "P2"], "ack_timeout_s": 900}],
    "grouping": {"group_wait_s": 0},
}


def cfg(**kw: object) -> AlertingConfig:
    return AlertingConfig.model_validate({**ROSTER, **kw})


def feed(life: AlertLifecycle, items: list[Score], eng: object | None = None) -> object:
    eng = eng or engine()
    for s in items:
        for event in eng.process(s):  # type: ignore[attr-defined]
            life.ingest(event, eng.work_order(event), s.ts)  # type: ignore[attr-defined]
    return eng


def vent_fault(start: float = 0.0, n: int = 3) -> list[Score]:
    return scores("vent-7", "o2_cell_mv", [0.999] * n, value=30.0, start=start)


def states(life: AlertLifecycle) -> list[str]:
    return [r["state"] for r in life.store.query("SELECT state FROM work_orders ORDER BY id")]


class TestGrouping:
    def test_alerts_of_one_device_join_one_work_order(self) -> None:
        life = lifecycle(cfg())
        items = vent_fault() + scores("vent-7", "blower_current_a", [0.999] * 3, start=200.0)
        feed(life, items)
        assert states(life) == ["firing"]
        assert [n.kind for n in outbox(life)] == ["firing"]  # the join is not a second page
        assert len(life.store.query("SELECT * FROM alerts WHERE work_order_id IS NOT NULL")) == 2

    def test_pending_waits_for_group_wait_then_fires(self) -> None:
        life = lifecycle(cfg(grouping={"group_wait_s": 300}))
        feed(life, vent_fault())
        assert states(life) == ["pending"] and outbox(life) == []
        life.tick(120.0 + 299.0)
        assert states(life) == ["pending"]
        life.tick(120.0 + 300.0)
        assert states(life) == ["firing"] and [n.kind for n in outbox(life)] == ["firing"]

    def test_a_site_storm_becomes_one_incident(self) -> None:
        life = lifecycle(cfg(grouping={"group_wait_s": 60, "storm_devices": 3}))
        rules = [threshold_rule(signal="x", above=1.0, enter_count=1)]
        eng = engine(rules)
        for i in range(5):
            did = f"pump-{i}"
            INVENTORY.setdefault(did, INVENTORY["pump-3"].model_copy(update={"device_id": did}))
            feed(life, [Score(did, "x", 10.0 + i, 0.1, 5.0)], eng)
        life.tick(100.0)
        kinds = [n.kind for n in outbox(life)]
        assert kinds == ["incident"], kinds
        assert (
            len(set(r["incident_id"] for r in life.store.query("SELECT * FROM work_orders"))) == 1
        )


class TestSilencesAndInhibition:
    def test_silence_holds_then_expiry_raises_a_still_active_alert(self) -> None:
        life = lifecycle(cfg())
        silence(life, author="Ana", duration_s=600.0, device_id="vent-7", now=0.0)
        feed(life, vent_fault())
        assert states(life) == [] and outbox(life) == []
        life.tick(599.0)
        assert states(life) == []
        life.tick(600.0)  # expired at its end, exactly
        assert states(life) == ["firing"]

    def test_silence_by_modality_does_not_hold_another_modality(self) -> None:
        life = lifecycle(cfg())
        silence(life, author="Ana", duration_s=600.0, modality="mri", now=0.0)
        feed(life, vent_fault())
        assert states(life) == ["firing"]

    def test_a_silence_must_match_something(self) -> None:
        with pytest.raises(AlertingError, match="at least one"):
            silence(lifecycle(cfg()), author="Ana", duration_s=60.0, now=0.0)

    def test_offline_device_raises_nothing_until_it_is_back(self) -> None:
        life = lifecycle(cfg())
        life.stale = frozenset({"vent-7"})
        feed(life, vent_fault())
        assert states(life) == []
        row = life.store.one("SELECT suppressed FROM alerts")
        assert row == {"suppressed": "inhibited:offline"}
        life.stale = frozenset()
        life.tick(500.0)
        assert states(life) == ["firing"]


class TestEscalation:
    def test_unacknowledged_p2_pages_the_next_engineer_then_the_manager(self) -> None:
        life = lifecycle(cfg())
        feed(life, vent_fault())  # P2 on a ventilator (EM 20)
        t0 = life.store.one("SELECT fired_at FROM work_orders")["fired_at"]  # type: ignore[index]
        life.tick(t0 + 899.0)
        assert [n.recipient for n in outbox(life)] == ["Ana"]
        life.tick(t0 + 900.0)
        life.tick(t0 + 1799.0)
        assert [n.recipient for n in outbox(life)] == ["Ana", "Ben"]
        life.tick(t0 + 1800.0)
        assert [(n.kind, n.recipient) for n in outbox(life)][-1] == ("escalated", "Mia")
        life.tick(t0 + 99_999.0)  # the chain ends with the managers
        assert len(outbox(life)) == 3

    def test_acknowledgement_stops_escalation(self) -> None:
        life = lifecycle(cfg())
        feed(life, vent_fault())
        wo = life.store.one("SELECT id, fired_at FROM work_orders")
        assert wo is not None
        acknowledge(life, wo["id"], "Ana", now=wo["fired_at"] + 10)
        life.tick(wo["fired_at"] + 10_000.0)
        assert [n.kind for n in outbox(life)] == ["firing"]
        (act,) = life.store.query("SELECT actor, via FROM actions WHERE action = 'acknowledged'")
        assert act == {"actor": "Ana", "via": "cli"}


class TestRestart:
    """The store is the memory: a new lifecycle on the same file continues every state."""

    @pytest.mark.parametrize("state", ["pending", "firing", "acknowledged", "resolved"])
    def test_restart_in_each_state_neither_reopens_nor_forgets(
        self, tmp_path: Path, state: str
    ) -> None:
        path = str(tmp_path / "alerts.sqlite")
        wait = 300.0 if state == "pending" else 0.0
        c = cfg(grouping={"group_wait_s": wait})
        life = lifecycle(c, path)
        items = vent_fault(n=5)
        eng = feed(life, items)
        wo_id = life.store.one("SELECT id FROM work_orders")["id"]  # type: ignore[index]
        if state == "acknowledged":
            acknowledge(life, wo_id, "Ana", now=300.0)
        if state == "resolved":
            resolve(life, wo_id, "confirmed", "Ana", part="O2 cell", now=300.0)
        before = (states(life), len(outbox(life)))
        life.store.close()
        # restart: a new process, the same store; the spool replays the same scores,
        # and a cold engine re-opens the alert it had open
        again = lifecycle(c, path)
        feed(again, items, eng)
        feed(again, vent_fault(start=400.0, n=3))
        assert (states(again), len(outbox(again))) == before
        assert len(again.store.query("SELECT * FROM work_orders")) == 1


class TestOutcomes:
    def test_resolve_records_outcome_stats_and_adaptation(self) -> None:
        life = lifecycle(cfg())
        feed(life, vent_fault())
        wo_id = life.store.one("SELECT id FROM work_orders")["id"]  # type: ignore[index]
        doc = resolve(life, wo_id, "no_problem_found", "Ana", note="cell fine", now=500.0)
        assert doc["state"] == "resolved" and doc["outcome"]["code"] == "no_problem_found"
        stats = outcome_stats(life.store)
        assert stats["by_rule"]["anomaly"]["npf_rate"] == 1.0
        assert stats["by_rule"]["anomaly"]["precision"] == 0.0
        assert adaptation_levels(life.store, AdaptationConfig()) == {("vent-7", "anomaly"): 1}
        with pytest.raises(AlertingError, match="already resolved"):
            resolve(life, wo_id, "confirmed", "Ana", now=600.0)

    def test_unknown_outcome_and_work_order_are_errors_naming_the_fix(self) -> None:
        life = lifecycle(cfg())
        with pytest.raises(AlertingError, match="alerts list"):
            acknowledge(life, "WO-nope", "Ana", now=0.0)
        with pytest.raises(AlertingError, match="confirmed, no_problem_found"):
            resolve(life, "WO-nope", "fixed", "Ana", now=0.0)


def test_rate_limit_defers_never_drops() -> None:
    life = lifecycle(
        cfg(
            rate_limit={"per_engineer_per_hour": 2, "bypass": []},
            grouping=GroupingConfig(group_wait_s=0).model_dump(),
        )
    )
    eng = engine([threshold_rule(signal="x", above=1.0, enter_count=1, exit_count=1)])
    for i in range(4):  # four separate episodes of one device
        t = i * 100.0
        feed(life, [Score("vent-7", "x", t, 0.1, 5.0), Score("vent-7", "x", t + 50, 0.1, 0.0)], eng)
    rows = life.store.query("SELECT kind, not_before FROM outbox WHERE kind = 'firing'")
    assert len(rows) == 4
    assert sum(r["not_before"] >= 3600.0 for r in rows) >= 2


class TestHysteresisBoundary:
    """Exactly at the limits: ``enter_score`` is a hit, ``exit_score`` is not yet clear."""

    def test_enter_score_itself_opens_and_exit_score_itself_holds(self) -> None:
        eng = engine([anomaly_rule(enter_score=0.95, exit_score=0.5, exit_count=2, min_open_s=0)])
        opened = run(eng, scores("mr-1", "helium_level_pct", [0.95] * 3))
        assert kinds(opened) == [EventKind.OPENED]
        held = run(eng, scores("mr-1", "helium_level_pct", [0.5] * 10, start=180.0))
        assert held == []  # exit_score is inside the band: never clear
        below = run(eng, scores("mr-1", "helium_level_pct", [0.4999] * 2, start=900.0))
        assert kinds(below) == [EventKind.RESOLVED]

    def test_just_below_enter_score_never_opens(self) -> None:
        eng = engine([anomaly_rule(enter_score=0.95)])
        assert run(eng, scores("mr-1", "helium_level_pct", [0.9499] * 50)) == []
