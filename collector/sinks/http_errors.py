"""What an HTTP answer of a time-series server means for the sink writer.

Both InfluxDB sinks map the server's status the same way:

=========================  =================================================
answer                     raised
=========================  =================================================
2xx                        nothing (the caller checks it got 204)
401, 403                   ``SinkError(configuration=True)`` naming the keys
413                        ``SinkError(too_large=True)``: write it in halves
429, 503 + ``Retry-After`` ``SinkError(retry_after_s=...)`` (seconds or HTTP date)
429, 503 without it,       :class:`ServerError` (a plain exception: retried
408, other 5xx             with jittered backoff)
400, 422 about the data    ``SinkError(rejected=True)``: the server refused
                           some readings for what they are ("partial write":
                           older than the retention policy, a field type
                           conflict; "unable to parse"), with
                           ``rejected_count`` from its ``dropped=N``; the
                           writer isolates and dead-letters them
400, 404, other 4xx        ``SinkError(configuration=True)``: the server
                           rejects the request itself (a missing database or
                           bucket, a wrong URL path); repeating it cannot
                           help until an operator acts, and the readings are
                           kept meanwhile
=========================  =================================================

Timeouts and connection errors stay plain exceptions (retried).
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable

from htm_edge.collector.sinks.base import SinkError

__all__ = ["ServerError", "error_for_status", "parse_retry_after"]

_DETAIL_CHARS = 300
#: what InfluxDB 1.x/2.x and VictoriaMetrics say when they refuse points, not the request
_CONTENT_MARKERS = (
    "partial write",
    "field type conflict",
    "beyond retention",
    "unable to parse",
    "cannot parse",
)
_DROPPED = re.compile(r"dropped=(\d+)")


def _about_the_data(detail: str) -> bool:
    low = detail.lower()
    return any(m in low for m in _CONTENT_MARKERS)


class ServerError(Exception):
    """A transient server failure (5xx, 408, or 429/503 without ``Retry-After``): retry."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay seconds or an HTTP date).

    Returns None when ``value`` is missing or unreadable; a date in the past
    gives 0.

    >>> parse_retry_after("120"), parse_retry_after(" 1.5 "), parse_retry_after("soon")
    (120.0, 1.5, None)
    >>> parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now=lambda: 1767225600.0)
    60.0
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # an HTTP date is GMT by definition
            return None
        seconds = when.timestamp() - now()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def error_for_status(
    status: int,
    detail: str,
    retry_after: str | None,
    *,
    sink: str,
    credentials: str,
    target: str,
) -> Exception:
    """The exception to raise for a non-2xx answer.

    Parameters
    ----------
    status:
        The HTTP status.
    detail:
        The server's error text (shortened in the message).
    retry_after:
        The ``Retry-After`` header, if any.
    sink:
        ``"<type> sink '<name>'"`` for messages.
    credentials:
        The config keys that hold the credentials, named in 401/403 messages.
    target:
        The config keys that name the destination, named in 404 messages.

    >>> error_for_status(401, "unauthorized", None, sink="s", credentials="sinks[].token",
    ...                  target="sinks[].bucket").configuration
    True
    >>> error_for_status(503, "", "7", sink="s", credentials="", target="").retry_after_s
    7.0
    """
    full = " ".join(detail.split())
    text = full[:_DETAIL_CHARS]
    said = f"HTTP {status}" + (f": {text}" if text else "")
    if status in (401, 403):
        what = "refused the credentials" if status == 401 else "denied access"
        return SinkError(
            f"{sink}: the server {what} ({said}); fix {credentials} "
            "(the readings are kept and retried)",
            configuration=True,
        )
    if status == 413:
        return SinkError(f"{sink}: batch too large for the server ({said})", too_large=True)
    if status in (429, 503):
        wait = parse_retry_after(retry_after)
        if wait is not None:
            message = f"{sink}: server busy ({said}); retry in {wait:g} s"
            return SinkError(message, retry_after_s=wait)
        return ServerError(f"{sink}: server busy ({said})", status)
    if status == 408 or status >= 500:
        return ServerError(f"{sink}: server error ({said})", status)
    if status in (400, 422) and _about_the_data(full):
        dropped = _DROPPED.search(full)
        return SinkError(
            f"{sink}: the server refused readings for their content ({said})",
            rejected=True,
            rejected_count=int(dropped.group(1)) if dropped else None,
        )
    hint = f"check {target}" if status == 404 else "check the data and the server's limits"
    return SinkError(
        f"{sink}: the server rejected the write ({said}); {hint} (the readings are kept)",
        configuration=True,
    )
