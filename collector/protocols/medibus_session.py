"""The gateway's side of a MEDIBUS dialogue: initialise, identify, poll, keep alive.

The script (MEDIBUS protocol definition; device-specific timeouts are [U]):

1. on open, send ICC (initialise communication) and wait for its echo;
2. request the device identification (0x52) and wait for it;
3. every ``poll_interval_s``, request what ``poll`` lists (measured data,
   alarms, text messages), one command at a time: the next goes out when the
   previous is answered or ``response_timeout_s`` passed;
4. when nothing was sent for ``keepalive_s``, send NOP, so the device does
   not drop the link after its silence timeout;
5. answer every command the device sends with its echo (both ends are
   masters), and every frame with a bad checksum with NAK;
6. after three unanswered commands in a row, start again at 1.

It does no I/O and reads the time only through its injected clock, so it is
tested without a port or a real clock.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from htm_edge.collector.protocols.framing import Session
from htm_edge.collector.protocols.medibus import (
    ALARMS_CP1,
    ALARMS_CP2,
    ALARMS_CP3,
    DATA_CP1,
    DATA_CP2,
    DEVICE_ID,
    ESC,
    ICC,
    NAK,
    NOP,
    SOH,
    TEXT,
    MedibusProtocolConfig,
    command,
    frame_ok,
    response,
)

__all__ = ["GATEWAY_IDENTIFICATION", "MedibusSession"]

_POLL_CODES = {
    "cp1": DATA_CP1,
    "cp2": DATA_CP2,
    "alarms_cp1": ALARMS_CP1,
    "alarms_cp2": ALARMS_CP2,
    "alarms_cp3": ALARMS_CP3,
    "text": TEXT,
}
#: what the gateway answers when the device asks who it is (device code, name, revision, version)
GATEWAY_IDENTIFICATION = b"9999'HTM-EDGE'01.00:06.00"
_MAX_MISSES = 3


class MedibusSession(Session):
    """Polling state machine of one MEDIBUS link (see the module docstring)."""

    def __init__(
        self, cfg: MedibusProtocolConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.cfg = cfg
        self.clock = clock
        self.poll_interval_s = min(cfg.keepalive_s, cfg.response_timeout_s, 1.0) / 2
        self.polls = [_POLL_CODES[p] for p in cfg.poll]
        self.on_open()

    # ---------------------------------------------------------------- state
    def on_open(self) -> list[bytes]:
        """Start afresh: send ICC."""
        self.state = "init"
        self.queue: deque[int] = deque()
        self.pending: int | None = None
        self.sent_at = self.last_sent = float("-inf")
        self.next_poll = float("-inf")
        self.misses = 0
        self.naks_sent = 0
        self.queue.append(ICC)
        return self._next(self.clock())

    def _send(self, code: int, now: float) -> bytes:
        self.pending, self.sent_at, self.last_sent = code, now, now
        return command(code)

    def _next(self, now: float) -> list[bytes]:
        """The next queued command, if none is outstanding."""
        if self.pending is None and self.queue:
            return [self._send(self.queue.popleft(), now)]
        return []

    # ---------------------------------------------------------------- events
    def on_frame(self, frame: bytes) -> list[bytes]:
        """Answer a frame from the device: echo its commands, NAK bad frames, go on polling."""
        if not frame_ok(frame):
            self.naks_sent += 1
            return [response(NAK)]
        now = self.clock()
        code = frame[1]
        if frame[0] == ESC:  # the device's own command: echo it
            data = GATEWAY_IDENTIFICATION if code == DEVICE_ID else b""
            return [response(code, data), *self._next(now)]
        if frame[0] != SOH:
            return []
        if code == NAK and self.pending is not None:  # our command arrived garbled: resend
            return [self._send(self.pending, now)]
        if code == self.pending:
            self.pending, self.misses = None, 0
            if code == ICC:
                self.state = "identify"
                self.queue.appendleft(DEVICE_ID)
            elif code == DEVICE_ID and self.state == "identify":
                self.state = "polling"
                self.queue.extend(self.polls)
                self.next_poll = now + self.cfg.poll_interval_s
        return self._next(now)

    def poll(self, now: float) -> list[bytes]:
        """Time out unanswered commands, queue due polls, keep the link alive."""
        if self.pending is not None and now - self.sent_at > self.cfg.response_timeout_s:
            self.pending = None
            self.misses += 1
            if self.misses >= _MAX_MISSES:
                return self.on_open()
            if self.state != "polling":  # ICC or identification unanswered: ask again
                self.queue.appendleft(ICC if self.state == "init" else DEVICE_ID)
        if self.state == "polling" and now >= self.next_poll:
            self.queue.extend(c for c in self.polls if c not in self.queue)
            self.next_poll = now + self.cfg.poll_interval_s
        out = self._next(now)
        if not out and self.pending is None and now - self.last_sent >= self.cfg.keepalive_s:
            out = [self._send(NOP, now)]
        return out
