"""Process lifecycle of ``htm-edge run``: stop signals and a hard exit deadline.

The first SIGTERM or SIGINT asks the daemon to stop; it drains for at most
``gateway.shutdown_timeout_s``. A watchdog thread then guarantees the process
exits even if something below Python's control hangs (a sink thread blocked
in a system call keeps ``asyncio.run`` from returning): once armed, it ends
the process with exit code 1 after its deadline. A second signal exits at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading

__all__ = ["ExitWatchdog", "install_stop_handlers"]

log = logging.getLogger(__name__)

#: time allowed beyond the drain deadline for closing stores and saving model state
CLOSE_MARGIN_S = 15.0


class ExitWatchdog:
    """End the process if it has not exited ``deadline_s`` after :meth:`arm`."""

    def __init__(self) -> None:
        self._timer: threading.Timer | None = None

    def arm(self, deadline_s: float, reason: str) -> None:
        """Start the countdown (the first call wins; later calls keep it)."""
        if self._timer is not None:
            return
        self._timer = threading.Timer(deadline_s, self._fire, args=(deadline_s, reason))
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        """Cancel the countdown (the process is about to exit on its own)."""
        if self._timer is not None:
            self._timer.cancel()

    @staticmethod
    def _fire(deadline_s: float, reason: str) -> None:
        log.critical(
            "event=exit_deadline_exceeded deadline_s=%g reason=%r action=exit code=1",
            deadline_s,
            reason,
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stderr.flush()
        os._exit(1)


def install_stop_handlers(stop: asyncio.Event, watchdog: ExitWatchdog, grace_s: float) -> None:
    """SIGTERM/SIGINT set ``stop`` and arm ``watchdog``; a second one exits at once."""
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            log.critical("event=second_stop_signal signal=%s action=exit code=1", sig.name)
            os._exit(1)
        log.info("event=stop_signal signal=%s", sig.name)
        stop.set()
        watchdog.arm(grace_s + CLOSE_MARGIN_S, f"stop on {sig.name}")

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
