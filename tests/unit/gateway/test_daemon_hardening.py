"""The daemon stays up on bad input, isolates failing parts and stops on time (in-memory fakes).

The same behaviours are checked against a real mosquitto and the daemon as a
process in ``tests/integration``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from htm_edge.alerting.config import AlertingConfig
from htm_edge.alerting.notifiers.base import Notifier
from htm_edge.alerting.roster_config import GroupingConfig
from htm_edge.alerting.rules.threshold import ThresholdRuleConfig
from htm_edge.collector.context import IngestContext
from htm_edge.collector.health import Health
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.sinks.base import Sink
from htm_edge.collector.sinks.sqlite import SqliteSinkConfig
from htm_edge.gateway.compose import Components, build_dispatcher, build_pipeline
from htm_edge.gateway.daemon import Daemon, RunSummary
from htm_edge.gateway.errors import StageFailed
from htm_edge.gateway.settings import GatewayConfig, HtmConfig
from tests.fakes.plugins import ExplodingProtocol, ListSource, MemorySink, RecordingNotifier

NOW = time.time()


def good(i: int, device: str = "PUMP-1", x: float = 1.0) -> Frame:
    payload = json.dumps({"device_id": device, "ts": NOW - 3600 + i, "signals": {"x": x, "y": i}})
    return Frame(payload.encode(), f"test:{i}", NOW, device)


def config(tmp_path: Path, shutdown_s: float = 1.0) -> HtmConfig:
    return HtmConfig(
        gateway=GatewayConfig(data_dir=tmp_path / "data", shutdown_timeout_s=shutdown_s),
        alerting=AlertingConfig(
            rules=[ThresholdRuleConfig(name="x-high", signal="x", above=10.0)],
            notifiers=[],
            grouping=GroupingConfig(group_wait_s=0),
        ),
    )


class Rig:
    """A daemon on fakes: one list source, the given sinks and notifiers."""

    def __init__(
        self,
        tmp_path: Path,
        frames: Sequence[Frame],
        sinks: Callable[[IngestContext], list[Sink]],
        notifiers: Sequence[Notifier] = (),
        shutdown_s: float = 1.0,
    ) -> None:
        self.cfg = config(tmp_path, shutdown_s)
        self.health = Health()
        ctx = IngestContext(data_dir=self.cfg.gateway.data_dir, health=self.health)
        self.source = ListSource(frames, ctx)
        self.sinks = sinks(ctx)
        pipeline = build_pipeline(self.cfg)
        parts = Components(
            sources=[self.source],
            protocols={self.source.name: ExplodingProtocol()},
            sinks=self.sinks,
            pipeline=pipeline,
            notifiers=list(notifiers),
            dispatcher=build_dispatcher(self.cfg, self.health, list(notifiers), pipeline),
        )
        self.daemon = Daemon(self.cfg, components=parts, health=self.health)

    async def run(
        self, until: Callable[[], bool], budget_s: float = 15.0
    ) -> tuple[RunSummary, float]:
        """Run until ``until()`` holds (or the budget ends), stop, and time the stop."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.daemon.run(stop))
        await self.daemon.wait_connected(task, 5)
        deadline = time.monotonic() + budget_s
        while not until() and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.01)
        stop.set()
        t0 = time.monotonic()
        summary = await asyncio.wait_for(task, budget_s)
        return summary, time.monotonic() - t0


def sink(name: str, **kw: object) -> Callable[[IngestContext], Sink]:
    def make(ctx: IngestContext) -> Sink:
        return MemorySink(SqliteSinkConfig(name=name, flush_interval_s=0.01), ctx, **kw)  # type: ignore[arg-type]

    return make


def dead_letters(cfg: HtmConfig) -> list[tuple[str, str]]:
    with sqlite3.connect(cfg.gateway.data_dir / "dead_letters.sqlite") as db:
        return db.execute("SELECT source, error FROM dead_letters ORDER BY id").fetchall()


@pytest.mark.parametrize(
    "exc", ["RecursionError", "OverflowError", "ValueError", "MemoryError", "KeyError"]
)
def test_any_protocol_exception_dead_letters_the_frame_and_the_next_frames_go_on(
    tmp_path: Path, exc: str
) -> None:
    frames = [good(0), Frame(f"BOOM:{exc}".encode(), "test:boom", NOW), good(1), good(2)]
    rig = Rig(tmp_path, frames, lambda ctx: [sink("store")(ctx)])
    summary, _ = asyncio.run(rig.run(lambda: rig.health.get("sink.store.written") >= 6))
    memory = rig.sinks[0]
    assert isinstance(memory, MemorySink) and len(memory.rows) == 6  # 3 good frames x 2 signals
    assert summary.frames_malformed == 1
    assert summary.counters["frames.decoder_errors"] == 1
    ((source, reason),) = dead_letters(rig.cfg)
    assert source == "test:boom" and exc in reason and "protocol 'json'" in reason


def test_a_failing_sink_is_retried_and_isolated(tmp_path: Path) -> None:
    frames = [good(i) for i in range(200)]
    rig = Rig(tmp_path, frames, lambda ctx: [sink("flaky", fail_first=4)(ctx), sink("steady")(ctx)])
    summary, _ = asyncio.run(rig.run(lambda: rig.health.get("sink.flaky.written") >= 400))
    flaky, steady = rig.sinks
    assert isinstance(flaky, MemorySink) and isinstance(steady, MemorySink)
    assert len(flaky.rows) == len(steady.rows) == 400
    assert summary.counters["sink.flaky.write_errors"] == 4
    assert "sink.steady.write_errors" not in summary.counters
    assert summary.readings_scored == 400


def test_a_dead_sink_does_not_stop_the_others_or_scoring_and_stop_keeps_its_deadline(
    tmp_path: Path,
) -> None:
    frames = [good(i) for i in range(300)]
    rig = Rig(tmp_path, frames, lambda ctx: [sink("dead", fail_always=True)(ctx), sink("ok")(ctx)])
    summary, stop_s = asyncio.run(rig.run(lambda: rig.health.get("readings.scored") >= 600))
    assert summary.counters["sink.ok.written"] == 600
    assert summary.readings_scored == 600
    assert summary.counters["sink.dead.write_errors"] >= 1
    assert "sink.dead.written" not in summary.counters
    assert summary.counters["shutdown.left_in_spool.sink:dead"] == 300  # frames
    assert stop_s < 1.0 + 3.0  # the 1 s drain deadline, plus closing
    # nothing was lost: the next run, with the sink working again, writes it all
    again = Rig(tmp_path, [], lambda ctx: [sink("dead")(ctx), sink("ok")(ctx)])
    asyncio.run(again.run(lambda: again.health.get("sink.dead.written") >= 600))
    revived, ok = again.sinks
    assert isinstance(revived, MemorySink) and len(revived.rows) == 600
    assert isinstance(ok, MemorySink) and len(ok.rows) == 0  # it had them all already


def test_a_hanging_sink_cannot_hang_shutdown(tmp_path: Path) -> None:
    frames = [good(i) for i in range(50)]
    rig = Rig(tmp_path, frames, lambda ctx: [sink("stuck", hang=True)(ctx)], shutdown_s=0.5)
    summary, stop_s = asyncio.run(rig.run(lambda: rig.health.get("readings.scored") >= 100))
    assert summary.counters["shutdown.left_in_spool.sink:stuck"] == 50
    assert stop_s < 0.5 + 3.0


def test_everything_queued_at_stop_is_drained(tmp_path: Path) -> None:
    frames = [good(i) for i in range(3000)]
    rig = Rig(tmp_path, frames, lambda ctx: [sink("store")(ctx)], shutdown_s=30.0)
    summary, _ = asyncio.run(rig.run(lambda: rig.source.emitted == len(frames)))
    assert summary.readings_stored == summary.readings_scored == 6000
    assert not any(k.startswith("shutdown.left_in_spool") for k in summary.counters)


def test_a_failing_notifier_is_counted_as_failed_not_dispatched(tmp_path: Path) -> None:
    frames = [good(0, x=50.0)]  # above the threshold: opens one alert
    broken = RecordingNotifier("pager", fail=True)
    rig = Rig(tmp_path, frames, lambda ctx: [sink("store")(ctx)], notifiers=[broken])
    summary, _ = asyncio.run(rig.run(lambda: rig.health.get("notifier.pager.failed") >= 1))
    assert summary.alerts_dispatched == 0
    assert broken.failed >= 1 and broken.sent == 0
    # kept in the outbox for the next attempt (or the next run), never dropped
    with sqlite3.connect(rig.cfg.gateway.data_dir / "alerts.sqlite") as db:
        assert db.execute("SELECT state FROM outbox").fetchall() == [("pending",)]


def test_one_notifier_failing_does_not_stop_another(tmp_path: Path) -> None:
    frames = [good(0, x=50.0)]
    broken, working = RecordingNotifier("pager", fail=True), RecordingNotifier("email")
    rig = Rig(tmp_path, frames, lambda ctx: [sink("store")(ctx)], notifiers=[broken, working])
    summary, _ = asyncio.run(rig.run(lambda: rig.health.get("notifier.email.sent") >= 1))
    assert summary.alerts_dispatched == 1 and len(working.events) == 1
    assert summary.counters["notifier.pager.failed"] >= 1


def test_a_failing_stage_ends_the_run_promptly_with_its_cause(tmp_path: Path) -> None:
    rig = Rig(tmp_path, [good(0)], lambda ctx: [sink("store")(ctx)])

    def broken(readings: object) -> list[object]:
        raise RuntimeError("scoring bug")

    rig.daemon.pipeline.process = broken  # type: ignore[assignment,method-assign]

    async def go() -> float:
        stop = asyncio.Event()
        t0 = time.monotonic()
        with pytest.raises(StageFailed, match="RuntimeError: scoring bug"):
            await asyncio.wait_for(rig.daemon.run(stop), 10)
        return time.monotonic() - t0

    assert asyncio.run(go()) < 5.0
    # the stores were closed and the model state saved on the way out
    assert (rig.cfg.gateway.data_dir / "model_state.json").exists()


class _Unopenable(MemorySink):
    async def open(self) -> None:
        raise PermissionError("[Errno 13] Permission denied: '/var/lib/htm-edge/readings.sqlite'")


def test_a_sink_that_cannot_open_is_a_clear_start_up_failure(tmp_path: Path) -> None:
    rig = Rig(
        tmp_path,
        [],
        lambda ctx: [_Unopenable(SqliteSinkConfig(name="store"), ctx)],
    )
    with pytest.raises(
        StageFailed,
        match=r"sink 'store' \(memory\) could not open: "
        r"PermissionError: .*Permission denied",
    ):
        asyncio.run(rig.daemon.run(asyncio.Event()))
