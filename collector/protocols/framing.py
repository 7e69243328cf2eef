"""Byte streams to frames, and the polling dialogue of a serial device.

A serial port or a TCP connection delivers bytes, not messages: reads split
frames and join them, a port opened mid-transmission starts inside a frame,
and line noise adds or drops bytes. Finding the frames is the protocol's job
(only it knows its start, end and escape bytes), so a stream protocol hands
out a :class:`Deframer`; the byte-stream sources feed it whatever they read
and pass each complete frame on, still in its wire form, to
:meth:`Protocol.parse <htm_edge.collector.protocols.base.Protocol.parse>`.

A deframer returns every delimited frame, including those whose check fails:
they are counted in :attr:`Deframer.invalid` and the protocol's ``parse``
rejects them, so they are dead-lettered with their origin like any other bad
frame. Bytes that belong to no frame (noise, the tail of a frame the port
opened into, a frame cut short by a new start byte) are counted in
:attr:`Deframer.skipped_bytes` and dropped.

Some devices talk only when asked (MEDIBUS, Datex-Ohmeda S/5); the protocol's
:class:`Session` says what to write when the port opens, in answer to each
frame, and when a poll falls due.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

__all__ = ["Deframer", "Session"]


class Deframer(ABC):
    """Split a byte stream into wire-form frames; resynchronise on garbage.

    Counters (read them, never reset them):

    ``frames``
        complete frames found (valid or not);
    ``invalid``
        those of them whose check (checksum, length) fails;
    ``skipped_bytes``
        bytes that belonged to no complete frame and were dropped.
    """

    def __init__(self) -> None:
        self.frames = 0
        self.invalid = 0
        self.skipped_bytes = 0

    @abstractmethod
    def feed(self, data: bytes) -> list[bytes]:
        """Take the next bytes of the stream; return the frames they complete, in order."""

    @abstractmethod
    def pending(self) -> int:
        """Bytes held for a frame not yet complete."""

    def reset(self) -> None:
        """Forget a partial frame (the port was closed and reopened); its bytes count as skipped."""
        self.skipped_bytes += self.pending()
        self._clear()

    @abstractmethod
    def _clear(self) -> None:
        """Drop the partial frame without counting it."""

    def _frame(self, frame: bytes, valid: bool) -> bytes:
        """Count one complete frame and return it."""
        self.frames += 1
        if not valid:
            self.invalid += 1
        return frame


class Session:
    """The gateway's side of a request/response dialogue with one device.

    The source writes what :meth:`on_open` returns when the port opens, what
    :meth:`on_frame` returns after each frame the device sent (an echo, a NAK,
    the next request) and, every :attr:`poll_interval_s` seconds, what
    :meth:`poll` returns. A session never does I/O itself, so it is tested
    without a port; its state lives from one port opening to the next
    (:meth:`on_open` starts it afresh).
    """

    #: how often the source calls :meth:`poll`, in seconds
    poll_interval_s: float = 1.0

    def on_open(self) -> list[bytes]:
        """Frames to write once the port is open (a session start); default none."""
        return []

    def on_frame(self, frame: bytes) -> list[bytes]:
        """Frames to write in answer to ``frame`` (a wire-form frame from the device)."""
        return []

    def poll(self, now: float) -> list[bytes]:
        """Frames due at monotonic time ``now`` (requests, keep-alives); default none."""
        return []
