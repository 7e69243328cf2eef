"""Failure predictions flow from readings into alerting, as the daemon runs them.

The daemon's score stage runs :class:`ScoringPipeline` built by
``compose.build_pipeline``; here it runs on the embedded default config and its
demo fleet (one MRI whose cold head degrades from hour 48 and fails at hour
96), offline and in order, so the test is exact and quick.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from htm_edge.alerting.rules.prediction import PREDICTION_SIGNAL
from htm_edge.alerting.types import AlertEvent, WorkOrder
from htm_edge.config.errors import ConfigError
from htm_edge.gateway.compose import build_pipeline
from htm_edge.gateway.model_state import restore_model_state, save_model_state
from htm_edge.gateway.pipeline import ScoringPipeline, predict_readings
from htm_edge.gateway.settings import HtmConfig, load_config
from htm_edge.models.prognostics.modelfile import save_model_file
from htm_edge.simulators.fleet import Fleet

START = 1_790_000_040.0
H = 3600.0


def run_fleet(
    pipeline: ScoringPipeline, cfg: HtmConfig, hours: float, fleet: Fleet | None = None
) -> tuple[Fleet, list[tuple[AlertEvent, WorkOrder]]]:
    fleet = fleet or Fleet.from_config(cfg.simulation, cfg.inventory, start_ts=START)
    out: list[tuple[AlertEvent, WorkOrder]] = []
    while fleet.next_ts < START + hours * H:
        out.extend(pipeline.process([r for group in fleet.step() for r in group]))
    return fleet, out


def predicted(events: list[tuple[AlertEvent, WorkOrder]]) -> list[tuple[AlertEvent, WorkOrder]]:
    return [(e, o) for e, o in events if PREDICTION_SIGNAL in {x.signal for x in e.alert.evidence}]


@pytest.fixture(scope="module")
def demo_run() -> tuple[HtmConfig, Fleet, list[tuple[AlertEvent, WorkOrder]]]:
    cfg = load_config(None)
    (fault,) = [d.fault for d in cfg.simulation.devices if d.fault is not None]
    fleet, events = run_fleet(build_pipeline(cfg), cfg, (fault.start_s + fault.duration_s) / H)
    return cfg, fleet, events


def test_the_default_config_predicts_failures() -> None:
    cfg = load_config(None)
    assert cfg.models.prognostics.enabled
    assert any(r.type == "prediction" for r in cfg.alerting.rules)
    assert build_pipeline(cfg).prognostics is not None


def test_the_demo_fault_is_predicted_hours_ahead_with_time_left_in_the_work_order(
    demo_run: tuple[HtmConfig, Fleet, list[tuple[AlertEvent, WorkOrder]]],
) -> None:
    _, fleet, events = demo_run
    (fault,) = fleet.ground_truth()
    hits = predicted(events)
    assert hits, "no alert carries a prediction"
    assert {e.alert.device_id for e, _ in hits} == {fault.device_id}  # healthy devices: none
    event, order = hits[0]
    assert fault.onset_ts <= event.ts <= fault.failure_ts - 3 * H  # hours, not minutes
    assert order.failure_mode == fault.failure_mode
    assert order.time_to_failure_s is not None and order.failure_probability is not None
    assert order.time_to_failure_lower_s is not None and order.time_to_failure_upper_s is not None
    assert order.time_to_failure_lower_s <= order.time_to_failure_s
    assert order.time_to_failure_s <= order.time_to_failure_upper_s
    assert order.prediction_trends  # the supporting trend is named
    # the estimate is of the right order: within a factor of three of the truth
    left = fault.failure_ts - event.ts
    assert left / 3 <= order.time_to_failure_s <= 3 * left


def test_prediction_state_survives_a_restart(tmp_path: Path) -> None:
    """Save at hour 70 and restore: the predictions after it are those of an unbroken run.

    Hour 70 is inside the cold-head course with two days of points behind it, so the
    predictions compared rest on the day-over-day levels the state must carry.
    """
    cfg = load_config(None)
    whole = build_pipeline(cfg)
    assert whole.prognostics is not None
    fleet, _ = run_fleet(whole, cfg, 70)
    first = build_pipeline(cfg)
    fleet_b, _ = run_fleet(first, cfg, 70)
    assert first.prognostics is not None
    save_model_state(tmp_path, first.scorer, 7, first.prognostics)
    doc = json.loads((tmp_path / "model_state.json").read_text())
    assert "prognostics" in doc
    state = restore_model_state(tmp_path)
    assert state is not None and state.prognostics is not None
    resumed = build_pipeline(cfg, state.scorer, state.prognostics)
    assert resumed.prognostics is not None

    def predictions(pipeline: ScoringPipeline, f: Fleet) -> list[tuple[str, str, float, float]]:
        assert pipeline.prognostics is not None
        out = []
        while f.next_ts < START + 90 * H:
            got = predict_readings(pipeline.prognostics, [r for g in f.step() for r in g])
            out += [(p.device_id, p.failure_mode, p.ts, p.probability) for p in got]
        return out

    expected = predictions(whole, fleet)
    assert max(p for *_, p in expected) > 0.5  # the course is predicted in this stretch
    assert predictions(resumed, fleet_b) == expected


def test_an_unusable_model_file_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "old.htm"
    save_model_file(path, "fleet", "another-feature-set", {}, {})
    cfg = load_config(None)
    prognostics = cfg.models.prognostics.model_copy(update={"model_file": path})
    models = cfg.models.model_copy(update={"prognostics": prognostics})
    with pytest.raises(ConfigError, match=r"models\.prognostics\.model_file.*htm-edge train"):
        build_pipeline(cfg.model_copy(update={"models": models}))
