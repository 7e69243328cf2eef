"""The durable spool: order, group commit, cursors that survive a reopen, retention and caps."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from htm_edge.collector.health import Health
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.spool import Spool, SpoolConfig

NOW = time.time()


def frame(i: int, received_at: float = NOW) -> Frame:
    return Frame(f"payload {i}".encode(), f"test:{i}", received_at, f"DEV-{i % 3}")


async def opened(path: Path, consumers: list[str], **cfg: object) -> Spool:
    spool = Spool(SpoolConfig.model_validate(cfg), path, consumers, Health())
    await spool.open()
    return spool


def test_concurrent_appends_keep_their_order_and_share_commits(tmp_path: Path) -> None:
    async def go() -> tuple[list[int], list[bytes], int]:
        spool = await opened(tmp_path, ["a"])
        seqs = await asyncio.gather(*(spool.append("mqtt", frame(i)) for i in range(500)))
        got = await spool.read(after=0, limit=1000)
        commits = spool.health.get("spool.commits")
        await spool.close()
        return list(seqs), [f.frame.payload for f in got], commits

    seqs, payloads, commits = asyncio.run(go())
    assert seqs == list(range(1, 501))
    assert payloads == [f"payload {i}".encode() for i in range(500)]
    assert commits < 50  # group commit: many frames per fsync


def test_frames_round_trip_every_field(tmp_path: Path) -> None:
    async def go() -> Frame:
        spool = await opened(tmp_path, ["a"])
        await spool.append("serial-1", Frame(b"\x00\xff binary", "serial:/dev/ttyS0", 12.5, None))
        (got,) = await spool.read(0, 10)
        await spool.close()
        assert got.source == "serial-1" and got.seq == 1
        return got.frame

    assert asyncio.run(go()) == Frame(b"\x00\xff binary", "serial:/dev/ttyS0", 12.5, None)


def test_cursors_and_head_survive_a_reopen_and_new_consumers_start_at_the_head(
    tmp_path: Path,
) -> None:
    async def go() -> None:
        spool = await opened(tmp_path, ["score", "sink:a"])
        for i in range(10):
            await spool.append("mqtt", frame(i))
        await spool.set_cursor("score", 7)
        await spool.set_cursor("sink:a", 4)
        await spool.trim()
        await spool.close()
        again = await opened(tmp_path, ["score", "sink:a", "sink:new"])
        assert again.head == 10
        assert (again.cursor("score"), again.cursor("sink:a"), again.cursor("sink:new")) == (
            7,
            4,
            10,
        )
        assert [f.seq for f in await again.read(again.cursor("sink:a"), 100)] == [5, 6, 7, 8, 9, 10]
        assert (await again.append("mqtt", frame(99))) == 11
        await again.close()

    asyncio.run(go())


def test_trim_keeps_what_the_slowest_consumer_still_needs(tmp_path: Path) -> None:
    async def go() -> None:
        spool = await opened(tmp_path, ["fast", "slow"])
        for i in range(20):
            await spool.append("mqtt", frame(i))
        await spool.set_cursor("fast", 20)
        await spool.set_cursor("slow", 12)
        assert await spool.trim() == 0
        assert [f.seq for f in await spool.read(0, 100)] == list(range(13, 21))
        assert spool.health.gauges["spool.depth"] == 8.0
        assert spool.health.get("spool.dropped") == 0
        await spool.close()

    asyncio.run(go())


def test_the_count_cap_drops_the_oldest_and_says_so(tmp_path: Path) -> None:
    async def go() -> None:
        spool = await opened(tmp_path, ["stuck"], max_frames=1000)
        await asyncio.gather(*(spool.append("mqtt", frame(i)) for i in range(1500)))
        dropped = await spool.trim()
        assert dropped == 500
        assert spool.health.get("spool.dropped") == 500
        assert spool.health.get("spool.dropped.stuck") == 500
        assert spool.cursor("stuck") == 500  # it resumes after what was dropped
        assert (await spool.read(0, 1))[0].seq == 501
        await spool.close()

    asyncio.run(go())


def test_the_age_cap_drops_frames_older_than_max_age(tmp_path: Path) -> None:
    async def go() -> None:
        spool = await opened(tmp_path, ["stuck"], max_age_s=60.0)
        for i in range(10):
            await spool.append("mqtt", frame(i, received_at=NOW + 10 * i))
        # 100 s later, frames received before NOW + 40 are over a minute old
        assert await spool.trim(now=NOW + 100.0) == 4
        assert [f.seq for f in await spool.read(0, 100)] == [5, 6, 7, 8, 9, 10]
        assert spool.health.gauges["spool.oldest_age_s"] == pytest.approx(60.0)
        await spool.close()

    asyncio.run(go())


def test_wait_beyond_wakes_on_a_commit_and_times_out_otherwise(tmp_path: Path) -> None:
    async def go() -> tuple[bool, bool]:
        spool = await opened(tmp_path, ["a"])
        timed_out = await spool.wait_beyond(0, timeout_s=0.05)
        waiter = asyncio.create_task(spool.wait_beyond(0, timeout_s=5))
        await asyncio.sleep(0.01)
        await spool.append("mqtt", frame(1))
        woke = await waiter
        await spool.close()
        return timed_out, woke

    assert asyncio.run(go()) == (False, True)


def test_the_file_is_private_and_synchronous_full(tmp_path: Path) -> None:
    async def go() -> None:
        spool = await opened(tmp_path / "data", ["a"])
        await spool.append("mqtt", frame(1))
        await spool.close()

    asyncio.run(go())
    path = tmp_path / "data" / "spool.sqlite"
    assert path.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_append_before_open_is_an_error(tmp_path: Path) -> None:
    spool = Spool(SpoolConfig(), tmp_path, ["a"])
    with pytest.raises(RuntimeError, match="not open"):
        asyncio.run(spool.append("mqtt", frame(1)))
