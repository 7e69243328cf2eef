"""The simulated serial device never waits for ever on a gateway that stopped reading.

A real pty pair (no gateway on its other end): a device that keeps answering
fills the pty's buffer. Its write gives up after its timeout, and its serve
loop still ends when told to, so a demo or test that stops the gateway first
cannot hang on the device.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from htm_edge.collector.protocols.medibus import DATA_CP1, MedibusProtocol, command
from htm_edge.collector.reading import Reading
from htm_edge.gateway.serial_devices import MedibusDevice, PtyDevice


def test_a_write_nobody_reads_gives_up_after_its_timeout(tmp_path: Path) -> None:
    pty = PtyDevice(tmp_path / "ttyX")
    pty.plug()
    try:
        began = time.monotonic()
        with pytest.raises(TimeoutError, match="not reading"):
            pty.write(b"x" * 1_000_000, timeout_s=0.5)  # far more than a pty buffers
        assert time.monotonic() - began < 5.0
    finally:
        pty.unplug()


def test_serve_ends_on_stop_while_its_answers_pile_up(tmp_path: Path) -> None:
    pty = PtyDevice(tmp_path / "ttyV")
    pty.plug()
    assert pty._slave is not None
    many = [Reading("V", "cp1_C6", float(i), 0.0) for i in range(40)]
    device = MedibusDevice(pty, MedibusProtocol(), lambda: many)
    poll = command(DATA_CP1)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(device.serve(stop))
        for _ in range(400):  # the gateway polls, and never reads an answer
            os.write(pty._slave, poll)
            await asyncio.sleep(0.005)
        stop.set()
        await asyncio.wait_for(task, timeout=30.0)  # before: for ever, stuck in write

    try:
        asyncio.run(scenario())
    finally:
        pty.unplug()
    assert len(device.received) > 10
