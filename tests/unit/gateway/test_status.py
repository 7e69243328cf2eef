"""Staleness and the status file: what `htm-edge status` shows."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pytest

from htm_edge.collector.health import Health
from htm_edge.gateway.status import (
    STALE_MIN_S,
    DeviceWatch,
    read_status,
    render_status,
    write_status,
)


def test_a_device_is_stale_after_ten_of_its_usual_intervals_and_back_when_heard(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    watch, health = DeviceWatch(), Health()
    for i in range(50):
        watch.heard("PUMP-1", 1000.0 + 60.0 * i)  # once a minute
    last = 1000.0 + 60.0 * 49
    assert watch.check(last + 9 * 60.0, health) == []
    assert watch.check(last + 11 * 60.0, health) == ["PUMP-1"]
    assert watch.check(last + 20 * 60.0, health) == ["PUMP-1"]
    assert health.get("devices.stale_events") == 1  # once per silence, not per check
    assert caplog.text.count("event=device_stale device_id=PUMP-1") == 1
    watch.heard("PUMP-1", last + 21 * 60.0)
    assert watch.check(last + 21 * 60.0 + 1, health) == []
    assert "event=device_back device_id=PUMP-1" in caplog.text


def test_a_fast_device_is_not_stale_before_the_minimum() -> None:
    watch, health = DeviceWatch(), Health()
    for i in range(20):
        watch.heard("MON-1", 100.0 + i)  # once a second
    assert watch.check(119.0 + STALE_MIN_S - 1, health) == []
    assert watch.check(119.0 + STALE_MIN_S + 1, health) == ["MON-1"]


def doc(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "written_at": time.time(),
        "pid": os.getpid(),
        "counters": {"frames.received": 12, "sink.store.write_errors": 3},
        "gauges": {"spool.depth": 4.0, "spool.oldest_age_s": 2.5},
        "sources": {"telemetry": True},
        "behind": {"score": 0, "sink:store": 4},
        "devices": {"MR-01": {"silent_s": 1.0, "interval_s": 60.0, "stale": False}},
        "stale": [],
    }
    base.update(over)
    return base


def test_status_round_trip_and_rendering(tmp_path: Path) -> None:
    write_status(tmp_path, doc())
    got = read_status(tmp_path)
    assert got["running"] and got["age_s"] < 5
    assert (tmp_path / "status.json").stat().st_mode & 0o777 == 0o600
    text = render_status(got)
    assert "htm-edge daemon: running" in text
    assert "telemetry connected" in text and "sink:store 4" in text
    assert "errors: sink.store.write_errors 3" in text


def test_an_old_status_or_a_dead_pid_is_not_running(tmp_path: Path) -> None:
    write_status(tmp_path, doc(written_at=time.time() - 600))
    assert not read_status(tmp_path)["running"]
    write_status(tmp_path, doc(pid=2**22 + 12345))  # no such process
    assert not read_status(tmp_path)["running"]
    assert "NOT RUNNING" in render_status(read_status(tmp_path))


def test_no_status_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_status(tmp_path)
    json.dumps(doc())  # the document is JSON-able
