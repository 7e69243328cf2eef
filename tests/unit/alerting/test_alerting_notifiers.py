"""Notifiers: console output in both formats and the registry conformance suite."""

from __future__ import annotations

import asyncio
import io
import json

import pytest

from htm_edge.alerting.context import AlertingContext
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.notifiers import NOTIFIERS, ConsoleNotifier, Notifier
from htm_edge.alerting.notifiers.console import ConsoleNotifierConfig
from htm_edge.alerting.types import AlertEvent, WorkOrder
from htm_edge.models.types import Score
from tests.unit.alerting.alerting_fixtures import engine, run


def opened() -> tuple[AlertEvent, WorkOrder]:
    eng = engine()
    (event,) = run(eng, [Score("vent-7", "o2_cell_mv", i * 60.0, 0.999, 30.0) for i in range(3)])
    return event, eng.work_order(event)


def test_console_text() -> None:
    stream = io.StringIO()
    notifier = ConsoleNotifier(ConsoleNotifierConfig(format="text"), stream=stream)
    event, order = opened()
    asyncio.run(notifier.send(event, order))
    out = stream.getvalue()
    assert out.startswith("=== OPENED P2 MEDIUM VENT.O2_CELL.DEPLETION on vent-7 ===")
    assert order.to_text() in out
    assert notifier.sent == 1


def test_console_json_is_one_line_per_event() -> None:
    stream = io.StringIO()
    notifier = ConsoleNotifier(ConsoleNotifierConfig(format="json"), stream=stream)
    event, order = opened()
    asyncio.run(notifier.send(event, order))
    asyncio.run(notifier.send(event, order))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    record = json.loads(lines[0])
    assert record["event"] == "opened"
    assert record["key"] == "vent-7:VENT.O2_CELL.DEPLETION"
    assert record["work_order"]["asset_tag"] == "A-2002"
    assert record["work_order"]["priority"] == "P2"


def test_console_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    notifier = ConsoleNotifier(ConsoleNotifierConfig())
    event, order = opened()
    asyncio.run(notifier.send(event, order))
    assert "VENT.O2_CELL.DEPLETION" in capsys.readouterr().out


def test_closed_stream_raises_alerting_error() -> None:
    stream = io.StringIO()
    stream.close()
    notifier = ConsoleNotifier(ConsoleNotifierConfig(), stream=stream)
    event, order = opened()
    with pytest.raises(AlertingError, match="console"):
        asyncio.run(notifier.send(event, order))


SAMPLES = {"console": ConsoleNotifierConfig(name="sample")}


def _closed_console() -> io.StringIO:
    stream = io.StringIO()
    stream.close()
    return stream


#: a context per notifier type under which every delivery fails
BROKEN: dict[str, AlertingContext] = {"console": AlertingContext(console=_closed_console())}


def test_every_registered_notifier_has_a_sample_and_a_failure_case() -> None:
    assert set(NOTIFIERS) == set(SAMPLES) == set(BROKEN)


@pytest.mark.parametrize("type_name", sorted(NOTIFIERS))
def test_a_failed_delivery_is_raised_and_never_counted_as_sent(type_name: str) -> None:
    notifier = NOTIFIERS.build(SAMPLES[type_name], BROKEN[type_name])
    event, order = opened()
    with pytest.raises(AlertingError):
        asyncio.run(notifier.send(event, order))
    assert notifier.sent == 0


@pytest.mark.parametrize("type_name", sorted(NOTIFIERS))
def test_notifier_conformance(type_name: str) -> None:
    """Registry key = config type = class attribute; send works inside ``async with``."""

    async def scenario() -> Notifier:
        notifier = NOTIFIERS.build(SAMPLES[type_name], AlertingContext(console=io.StringIO()))
        async with notifier as n:
            event, order = opened()
            await n.send(event, order)
        return notifier

    notifier = asyncio.run(scenario())
    assert type(notifier) is NOTIFIERS[type_name]
    assert notifier.type_name == type_name and notifier.name == "sample"
    assert notifier.sent == 1
