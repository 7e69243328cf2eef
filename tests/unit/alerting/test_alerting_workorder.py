"""Work orders: fields, priority formula, engineer matching, utilisation, rendering."""

from __future__ import annotations

import json

import pytest

from htm_edge.alerting.config import EngineerConfig
from htm_edge.alerting.types import AlertEvent, EventKind, WorkOrder
from htm_edge.alerting.utilisation import UsageInfo, UtilisationTracker
from htm_edge.alerting.workorder import build_work_order, match_engineers, priority, risk_class
from htm_edge.config.inventory import Device, Modality
from htm_edge.models.types import Score
from tests.unit.alerting.alerting_fixtures import MRI, PUMP, STEP, VENT, engine, run

ENGINEERS = [
    EngineerConfig(name="Any Body"),
    EngineerConfig(
        name="North MR", email="mr@north.org", sites=["north"], modalities=[Modality.MRI]
    ),
    EngineerConfig(name="South", phone="+49 1", sites=["south"]),
    EngineerConfig(name="Pumps", modalities=[Modality.INFUSION_PUMP]),
]


def mri_order(*, in_use: float | None = None) -> tuple[AlertEvent, WorkOrder]:
    eng = engine(engineers=ENGINEERS)
    items = [Score("mr-1", "helium_level_pct", i * STEP, 0.1, 75.0) for i in range(20)]
    if in_use is not None:
        items.append(Score("mr-1", "in_use", 19 * STEP, 0.0, in_use))
    items += [Score("mr-1", "helium_level_pct", (20 + i) * STEP, 0.999, 70.0 - i) for i in range(5)]
    (event,) = run(eng, items)
    return event, eng.work_order(event)


class TestFields:
    def test_identity_and_location(self) -> None:
        _, wo = mri_order()
        assert (wo.device_id, wo.asset_tag, wo.serial) == ("mr-1", "A-1001", "SN-4711")
        assert (wo.manufacturer, wo.model, wo.modality) == ("Siemens", "Magnetom Aera", "mri")
        assert (wo.em_number, wo.risk_class, wo.service_owner) == (14, "medium", "oem")
        assert (wo.site, wo.department) == ("north", "Radiology")
        assert wo.location == "Building B, floor -1, MR room 2"

    def test_problem_evidence_and_action(self) -> None:
        event, wo = mri_order()
        assert wo.failure_mode == "MR.COLDHEAD.DEGRADATION"
        assert "Cold-head" in wo.failure_description
        assert wo.subsystem.startswith("cryogenics")
        assert wo.rule == "anomaly" and wo.confidence == pytest.approx(0.999)
        (line,) = wo.evidence
        assert line.signal == "helium_level_pct" and line.unit == "%"
        assert line.baseline == pytest.approx(75.0)
        assert line.first_value == 68.0 and line.current_value == 68.0  # opened at third hit
        assert wo.first_detected_at == 22 * STEP
        assert wo.occurrences == 3
        assert wo.oem_required
        assert any("cold head" in p for p in wo.likely_parts)
        assert wo.dedup_key == event.alert.key == "mr-1:MR.COLDHEAD.DEGRADATION"
        assert wo.work_order_id == "WO-mr-1-MR.COLDHEAD.DEGRADATION-1320"

    def test_response_time_is_the_stricter_of_mode_and_priority(self) -> None:
        _, idle = mri_order(in_use=0.0)
        assert idle.priority == "P3" and idle.required_response_h == 24.0  # helium: 24 h
        _, busy = mri_order(in_use=1.0)
        assert busy.priority == "P2" and busy.required_response_h == 24.0
        assert busy.respond_by == busy.issued_at + 24 * 3600

    def test_in_use_state_reaches_the_order(self) -> None:
        _, wo = mri_order(in_use=1.0)
        assert wo.in_use is True and wo.last_used_at == 19 * STEP
        _, unknown = mri_order()
        assert unknown.in_use is None and unknown.next_idle_from is None

    def test_resolved_order_has_no_deadline(self) -> None:
        eng = engine()
        events = run(
            eng,
            [
                Score("mr-1", "helium_level_pct", i * 60.0, a, 70.0)
                for i, a in enumerate([0.99] * 3 + [0.1] * 30)
            ],
        )
        assert [e.kind for e in events] == [EventKind.OPENED, EventKind.RESOLVED]
        wo = eng.work_order(events[1])
        assert wo.state == "closed" and wo.closed_at is not None and wo.respond_by is None
        assert "no response needed" in wo.to_text()


class TestPriority:
    @pytest.mark.parametrize(
        ("severity", "em", "in_use", "expected"),
        [
            ("critical", 20, False, "P1"),
            ("critical", 14, False, "P2"),
            ("critical", 14, True, "P1"),
            ("high", 20, False, "P2"),
            ("high", 20, True, "P1"),
            ("medium", 14, False, "P3"),
            ("medium", 14, True, "P2"),
            ("medium", None, None, "P3"),
            ("low", 10, False, "P4"),
            ("low", 22, False, "P3"),
        ],
    )
    def test_table(self, severity: str, em: int | None, in_use: bool | None, expected: str) -> None:
        assert priority(severity, em, in_use)[0] == expected

    def test_monotone_in_em_severity_and_use(self) -> None:
        for sev in ("low", "medium", "high", "critical"):
            scores = [priority(sev, em, False)[1] for em in range(2, 23)]
            assert scores == sorted(scores) and len(set(scores)) == len(scores)
            assert priority(sev, 12, True)[1] > priority(sev, 12, False)[1]
        by_sev = [priority(s, 12, False)[1] for s in ("low", "medium", "high", "critical")]
        assert by_sev == sorted(by_sev)

    def test_same_alert_ranks_by_em(self) -> None:
        eng = engine()
        orders = {}
        for dev, sig in (
            ("mr-1", "helium_level_pct"),
            ("vent-7", "o2_cell_mv"),
            ("pump-3", "motor_current_ma"),
        ):
            (event,) = run(eng, [Score(dev, sig, i * 60.0, 0.999, 1.0) for i in range(3)])
            orders[dev] = eng.work_order(event)
        ranked = sorted(orders.values(), key=lambda w: -w.priority_score)
        assert [w.device_id for w in ranked] == ["vent-7", "pump-3", "mr-1"]  # EM 20, 17, 14

    def test_risk_class(self) -> None:
        assert [risk_class(e) for e in (None, 8, 12, 16)] == ["unknown", "low", "medium", "high"]


class TestEngineers:
    def test_matching_and_order(self) -> None:
        assert [a.name for a in match_engineers(ENGINEERS, MRI)] == ["North MR", "Any Body"]
        assert [a.name for a in match_engineers(ENGINEERS, VENT)] == ["South", "Any Body"]
        assert [a.name for a in match_engineers(ENGINEERS, PUMP)] == ["Pumps", "Any Body"]

    def test_no_match_is_unassigned(self) -> None:
        only_mr = [EngineerConfig(name="MR", modalities=[Modality.MRI])]
        assert match_engineers(only_mr, VENT) == ()
        event, _ = mri_order()
        wo = build_work_order(event, VENT, only_mr)
        assert "UNASSIGNED" in wo.to_text()

    def test_contacts_in_text(self) -> None:
        _, wo = mri_order()
        assert "North MR <mr@north.org>" in wo.to_text()


class TestRendering:
    def test_to_dict_is_json_round_trippable(self) -> None:
        _, wo = mri_order(in_use=1.0)
        data = json.loads(json.dumps(wo.to_dict(), allow_nan=False))
        assert data["event"] == "opened"
        assert data["asset_tag"] == "A-1001"
        assert data["evidence"][0]["signal"] == "helium_level_pct"
        assert data["assigned_engineers"][0]["name"] == "North MR"
        assert isinstance(data["recommended_checks"], list)

    def test_to_text_has_the_essentials(self) -> None:
        _, wo = mri_order()
        text = wo.to_text()
        for needle in (
            "OPENED",
            "P3",
            "MR.COLDHEAD.DEGRADATION",
            "A-1001",
            "SN-4711",
            "Radiology",
            "EM 14",
            "helium_level_pct = 68 %",
            "baseline 75 %",
            "respond within 24 h",
            "OEM call   : REQUIRED",
            "Zone IV",
            "mr-1:MR.COLDHEAD.DEGRADATION",
            "1970-01-01T00:22:00Z",
        ):
            assert needle in text, needle

    def test_minimal_device(self) -> None:
        event, _ = mri_order()
        bare = Device.model_construct(device_id="x", modality=Modality.OTHER)
        wo = build_work_order(event, bare)
        assert wo.risk_class == "unknown" and wo.assigned_engineers == ()
        assert "Location   : unknown" in wo.to_text()


class TestUtilisation:
    def day_profile(self, days: int = 3) -> UtilisationTracker:
        t = UtilisationTracker()
        for day in range(days):
            for minute in range(0, 24 * 60, 10):
                hour = minute // 60
                busy = 7 <= hour < 19
                t.update("ct-1", day * 86400 + minute * 60.0, 1.0 if busy else 0.0)
        return t

    def test_unknown_without_data(self) -> None:
        assert UtilisationTracker().info("ct-1", 0.0) == UsageInfo(None, None, None, None)

    def test_next_idle_window_while_in_use(self) -> None:
        t = self.day_profile()
        now = 3 * 86400 + 10 * 3600.0
        t.update("ct-1", now, 1.0)
        info = t.info("ct-1", now)
        assert info.in_use is True and info.last_used_at == now
        assert info.idle_from == 3 * 86400 + 19 * 3600.0
        assert info.idle_until == 4 * 86400 + 7 * 3600.0

    def test_idle_now_until_next_busy_hour(self) -> None:
        t = self.day_profile()
        now = 3 * 86400 + 2 * 3600.0
        t.update("ct-1", now, 0.0)
        info = t.info("ct-1", now)
        assert info.in_use is False
        assert (info.idle_from, info.idle_until) == (now, 3 * 86400 + 7 * 3600.0)

    def test_too_little_history_is_unknown(self) -> None:
        t = UtilisationTracker(min_samples=3)
        t.update("ct-1", 0.0, 1.0)
        info = t.info("ct-1", 0.0)
        assert info.in_use is True and info.idle_from is None
